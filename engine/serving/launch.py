"""``portmodel serve``: deploy the documents given on the command line, then run uvicorn.

The configuration reaches every worker process through the environment (ServeConfig.to_env);
each worker builds its own application with ``app.app_from_env``. uvicorn drains in-flight
requests on SIGTERM before it exits.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
from pathlib import Path

from .. import load
from ..errors import PortmodelError
from .config import ENV_ADMIN_TOKEN, ENV_BATCH_TOKEN, ENV_CONFIG, ENV_TOKEN, ServeConfig, default_repo, parse_size


class LaunchError(PortmodelError):
    """A serve option or a --model document is unusable (printed as one line)."""


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """ServeConfig from the command line, tokens falling back to the environment."""
    models = {}
    for item in args.model:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise LaunchError(f"--model takes NAME=PATH, not {item!r}")
        models[name] = path
    try:
        max_body = parse_size(args.max_body)
    except ValueError as exc:
        raise LaunchError(str(exc)) from None
    if args.workers < 1:
        raise LaunchError("--workers must be at least 1")
    for prefix in getattr(args, "jobs_allow", []):
        if "://" not in prefix or not prefix.split("://", 1)[1].split("/", 1)[0]:
            raise LaunchError(f"--jobs-allow takes a URI prefix such as s3://bucket/prefix, "
                              f"not {prefix!r}")
    for root in getattr(args, "jobs_root", []):
        if not os.path.isdir(root):
            raise LaunchError(f"--jobs-root {root!r} is not a folder")
    return ServeConfig(repo=args.repo or default_repo(), models=models, host=args.host,
                       port=args.port, workers=args.workers,
                       admin_token=args.admin_token or os.environ.get(ENV_ADMIN_TOKEN) or None,
                       token=args.token or os.environ.get(ENV_TOKEN) or None,
                       max_body=max_body, log_level=args.log_level,
                       jobs_root=[os.path.abspath(r) for r in getattr(args, "jobs_root", [])],
                       jobs_allow=list(getattr(args, "jobs_allow", [])),
                       batch_token=getattr(args, "batch_token", None)
                       or os.environ.get(ENV_BATCH_TOKEN) or None,
                       jobs_workers=getattr(args, "jobs_workers", 1))


def deploy_given(config: ServeConfig) -> list[str]:
    """Deploy (and promote) each --model document; returns one line per model for the banner."""
    from .app import NAME, schema_of
    from .store import Store
    lines = []
    if not config.models:
        return lines
    try:
        store = Store.open(config.repo)
    except Exception as exc:   # noqa: BLE001 - a database or folder we cannot open: one line
        raise LaunchError(f"cannot open the repository {_redact(config.repo)}: "
                          f"{' '.join(str(exc).split())}") from None
    try:
        for name, path in config.models.items():
            if not NAME.match(name):
                raise LaunchError(f"invalid model name {name!r}")
            if not os.path.isfile(path):
                raise LaunchError(f"model file {path!r} does not exist")
            data = Path(path).read_bytes()
            try:
                model = load(data)
            except PortmodelError as exc:
                raise LaunchError(f"{path}: {exc}") from None
            version, created = store.add_version(name, data, model.format, schema_of(model),
                                                 actor="serve --model", promote=True)
            lines.append(f"  {name}: version {version.version}"
                         f"{' (new)' if created else ''} from {path}")
    finally:
        store.close()
    return lines


def serve(args: argparse.Namespace) -> int:
    """Run the service until SIGINT/SIGTERM; returns the exit status."""
    import uvicorn
    config = config_from_args(args)
    lines = deploy_given(config)
    if config.admin_token is None:
        config.admin_token = secrets.token_urlsafe(24)
        print(f"portmodel: admin token (set --admin-token or {ENV_ADMIN_TOKEN} to choose one): "
              f"{config.admin_token}", file=sys.stderr)
    os.environ[ENV_CONFIG] = config.to_env()
    try:   # metrics shared by several worker processes: set up here, in the parent
        from .monitoring import prepare_multiprocess
    except ImportError:
        prepare_multiprocess = None
    if prepare_multiprocess is not None:
        prepare_multiprocess(config)
    where = config.repo if config.is_postgres else os.path.abspath(config.repo)
    print(f"portmodel: serving on http://{config.host}:{config.port} (API docs at /docs), "
          f"repository {_redact(where)}, {config.workers} worker(s)", file=sys.stderr)
    for line in lines:
        print(line, file=sys.stderr)
    sys.stderr.flush()
    # uvicorn drains in-flight requests on SIGTERM, then raises the signal again with the
    # handler it found: make that a clean exit (status 0) rather than death by signal
    signal.signal(signal.SIGTERM, _drained)
    uvicorn.run("portmodel.serving.app:app_from_env", factory=True, host=config.host,
                port=config.port, workers=config.workers, log_level=config.log_level,
                access_log=False, timeout_graceful_shutdown=30, **fast_io())
    return 0


def fast_io() -> dict:
    """uvicorn's fastest event loop and HTTP parser when installed (uvloop, httptools: both
    come with the ``serve`` extra's uvicorn[standard]); uvicorn's pure-Python ones otherwise."""
    import importlib.util
    out = {}
    if importlib.util.find_spec("uvloop") is not None and sys.platform != "win32":
        out["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        out["http"] = "httptools"
    return out


def _drained(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _redact(url: str) -> str:
    """A postgresql URL without its password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        user = cred.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in cred else url
    return url
