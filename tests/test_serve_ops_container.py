"""The container, as far as it can be tested without a container engine: the Dockerfile's shape,
its install step (the README's own command), the package built from exactly the files the
image gets, and its ENTRYPOINT + CMD command line run against a temporary repository until the
health path the image's HEALTHCHECK uses answers."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from serve_util import Server, free_port

httpx = pytest.importorskip("httpx")

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    out, buf = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(x, str) for x in value), args
    return value


def final_stage(ins):
    starts = [i for i, (word, _) in enumerate(ins) if word == "FROM"]
    return ins[starts[-1]:]


def env_of(stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                env[key] = re.sub(r"\$(\w+)|\$\{(\w+)\}",
                                  lambda m: env.get(m.group(1) or m.group(2), ""), value)
    return env


def test_dockerfile_shape():
    ins = instructions()
    froms = [args for word, args in ins if word == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    assert all(re.match(r"python:[\d.]+-slim\b", f) for f in froms)
    stage = final_stage(ins)
    users = [args for word, args in stage if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("EXPOSE", "8080") in stage
    volumes = [v for word, args in stage if word == "VOLUME" for v in exec_form(args)]
    cmd = exec_form(next(args for word, args in stage if word == "CMD"))
    repo = cmd[cmd.index("--repo") + 1]
    assert repo in volumes and env_of(stage)["PORTMODEL_REPO"] == repo
    assert exec_form(next(args for word, args in stage if word == "ENTRYPOINT")) == \
        ["portmodel", "serve"]
    health = next(args for word, args in stage if word == "HEALTHCHECK")
    assert "/v2/health/ready" in health and ":8080" in health


def test_install_step_is_the_readmes_install_command():
    installs = [args for word, args in instructions() if word == "RUN" and "pip install" in args]
    assert len(installs) == 1
    readme = (ROOT / "README.md").read_text()
    commands, inside = [], False
    for line in readme.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            commands.append(line.strip())
    assert installs[0] in commands, installs[0]


def context_files() -> list[Path]:
    """The files a `docker build` sends, by the .dockerignore rules (last match wins)."""
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    keep = []
    for path in ROOT.rglob("*"):
        if not path.is_file() or ".venv" in path.parts or ".git" in path.parts:
            continue
        rel = path.relative_to(ROOT).as_posix()
        included = True
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule[1:] if negate else rule
            pattern = pattern.rstrip("/")
            hit = (fnmatch.fnmatch(rel, pattern) or rel.startswith(pattern + "/")
                   or (pattern.startswith("**/") and (fnmatch.fnmatch(rel, pattern[3:]) or any(
                       fnmatch.fnmatch(part, pattern[3:]) for part in rel.split("/")))))
            if hit:
                included = negate
        if included:
            keep.append(path)
    return keep


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package built from the build context alone and installed into a folder (no
    dependencies: those come from this environment)."""
    base = tmp_path_factory.mktemp("image")
    ctx = base / "context"
    for path in context_files():
        dest = ctx / path.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    assert (ctx / "engine" / "serving" / "app.py").exists()
    assert not (ctx / "tests").exists() and not (ctx / "benchmarks").exists()
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(ctx)], check=True, capture_output=True)
    (wheel,) = wheels.glob("portmodel-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("portmodel/serving/app.py", "portmodel/serving/monitoring.py",
                   "portmodel/serving/endpoints.py", "portmodel/cli.py"):
        assert module in names, module
    site = base / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    return site


def test_entrypoint_command_line_serves_the_health_path(installed, tmp_path):
    stage = final_stage(instructions())
    argv = exec_form(next(a for w, a in stage if w == "ENTRYPOINT")) + \
        exec_form(next(a for w, a in stage if w == "CMD"))
    env = env_of(stage)
    repo = tmp_path / "volume"
    image_repo = env["PORTMODEL_REPO"]
    port = free_port()
    # the image's command line, with the volume mapped to a temporary folder and a free port
    argv = [str(repo) if a == image_repo else str(port) if a == "8080" else a for a in argv]
    script = installed / "bin" / argv[0]
    assert script.exists(), "the entry point script is installed by the package"
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTMODEL_")}
    run_env.update({k: v for k, v in env.items() if k not in ("PATH",)})
    run_env["PORTMODEL_REPO"] = str(repo)
    run_env["PYTHONPATH"] = str(installed)
    where = subprocess.run([sys.executable, "-c", "import portmodel; print(portmodel.__file__)"],
                           env=run_env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(installed)), where     # the built package, not the source tree
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(script), *argv[1:]], env=run_env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", proc, str(repo), None, log)
    try:
        import time
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = server.client.get("/v2/health/ready", timeout=2).status_code
                if status == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert status == 200, server.output()
        assert server.client.get("/v2/health/live").status_code == 200
        assert (repo / "repository.sqlite3").exists()       # the repository is on the volume
        assert "0.0.0.0" in server.output()
    finally:
        assert server.stop(signal.SIGTERM) == 0
