"""ServeConfig: the options of ``portmodel serve``, shared by every worker process.

uvicorn starts each worker by importing the app factory, so the configuration travels to the
workers as JSON in the environment variable ``PORTMODEL_SERVE_CONFIG`` (see ``to_env`` and
``from_env``).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

ENV_CONFIG = "PORTMODEL_SERVE_CONFIG"
ENV_ADMIN_TOKEN = "PORTMODEL_ADMIN_TOKEN"
ENV_TOKEN = "PORTMODEL_TOKEN"
ENV_REPO = "PORTMODEL_REPO"
ENV_BATCH_TOKEN = "PORTMODEL_BATCH_TOKEN"


def default_repo() -> str:
    """The repository folder when --repo is not given: $PORTMODEL_REPO, else
    $XDG_DATA_HOME/portmodel/repository (~/.local/share/portmodel/repository)."""
    if os.environ.get(ENV_REPO):
        return os.environ[ENV_REPO]
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return os.path.join(base, "portmodel", "repository")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*$", re.I)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024, "m": 1000 ** 2,
          "mb": 1000 ** 2, "mib": 1024 ** 2, "mi": 1024 ** 2, "g": 1000 ** 3, "gb": 1000 ** 3,
          "gib": 1024 ** 3, "gi": 1024 ** 3}


def parse_size(text: str | int) -> int:
    """'5MB' -> 5000000, '512KiB' -> 524288, '1000' -> 1000."""
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (try 5MB, 512KiB or a byte count)")
    unit = (m.group(2) or "").lower()
    if unit not in _UNITS:
        raise ValueError(f"not a size unit: {m.group(2)!r}")
    return int(float(m.group(1)) * _UNITS[unit])


@dataclass
class ServeConfig:
    """Everything a worker needs to serve.

    repo: a folder (SQLite metadata + document files) or a ``postgresql://`` URL.
    models: name -> document path, deployed (and promoted) by the ``serve`` command at start.
    admin_token: bearer token for deploying, promoting, deleting, routing, reading documents.
    token: bearer token for scoring (None: scoring is open).
    max_body: request bodies larger than this many bytes get 413.
    poll_interval: seconds between a worker's checks of the repository's change counter (a
      change made through any worker or replica is served by all within about this long).
    """

    repo: str = field(default_factory=default_repo)
    models: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    admin_token: str | None = None
    token: str | None = None
    max_body: int = 5_000_000
    poll_interval: float = 0.25
    model_cache: int = 32            # compiled models kept per worker (least recently used out)
    log_level: str = "warning"
    # service-ops: add the fields of routing/monitoring/drift here (e.g. drift_reference_size),
    # with defaults, so that from_env keeps working for configurations written without them.
    drift_reference_size: int = 1000
    # batch jobs (jobs.py): local roots and object-storage prefixes a job may read and write,
    # their own token (the admin token works too), jobs at a time per worker, CPU niceness
    jobs_root: list[str] = field(default_factory=list)
    jobs_allow: list[str] = field(default_factory=list)
    batch_token: str | None = None
    jobs_workers: int = 1
    jobs_nice: int = 10

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> "ServeConfig":
        """The configuration the ``serve`` command put in the environment (defaults if none)."""
        raw = os.environ.get(ENV_CONFIG)
        if not raw:
            return cls(admin_token=os.environ.get(ENV_ADMIN_TOKEN) or None,
                       token=os.environ.get(ENV_TOKEN) or None)
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def is_postgres(self) -> bool:
        return self.repo.startswith(("postgresql://", "postgres://"))
