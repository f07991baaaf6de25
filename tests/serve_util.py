"""Start the real scoring service (``python -m portmodel serve``) on a free loopback port, and a
real PostgreSQL server for the PostgreSQL repository tests.

Every process is started in its own session and killed (its whole process group) at teardown,
so no server outlives the test run.
"""
from __future__ import annotations

import contextlib
import glob
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ADMIN = "admin-secret-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running ``portmodel serve`` process and an HTTP client for it."""

    url: str
    proc: subprocess.Popen
    repo: str
    admin_token: str | None
    log: Path
    client: "httpx.Client" = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30)

    @property
    def admin(self) -> dict:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def deploy(self, name: str, path: Path | str, promote: bool = False,
               content_type: str = "application/xml") -> "httpx.Response":
        return self.client.put(f"/models/{name}", content=Path(path).read_bytes(),
                               params={"promote": "true"} if promote else None,
                               headers={**self.admin, "content-type": content_type})

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        """Signal the server (its whole process group) and wait; kill it if it lingers."""
        self.client.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)   # workers left behind, if any
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _terminate_with_parent() -> None:
    """In the server's child process before exec: the kernel sends it SIGTERM (a drain) when
    the test process dies, so a killed test run leaves no server behind (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PDEATHSIG


def start_server(repo: str | None, *args: str, admin_token: str | None = ADMIN,
                 workers: int = 1, env: dict | None = None, wait: float = 90) -> Server:
    """``portmodel serve --repo REPO --port FREE ...ARGS``, returned once it answers (no --repo
    when repo is None: the default folder)."""
    port = free_port()
    cmd = [sys.executable, "-m", "portmodel", "serve", "--port", str(port),
           "--workers", str(workers), *args]
    if repo is not None:
        cmd += ["--repo", repo]
    if admin_token is not None:
        cmd += ["--admin-token", admin_token]
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("PORTMODEL_ADMIN_TOKEN", "PORTMODEL_TOKEN", "PORTMODEL_SERVE_CONFIG")}
    full_env.update(env or {})
    log = Path(tempfile.mkstemp(prefix="portmodel-serve-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env,
                                cwd=ROOT, start_new_session=True,
                                preexec_fn=_terminate_with_parent)
    server = Server(f"http://127.0.0.1:{port}", proc, repo or "", admin_token, log)
    deadline = time.monotonic() + wait
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"portmodel serve exited with {proc.returncode}:\n"
                               f"{server.output()}")
        try:
            if server.client.get("/v2/health/ready", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop(signal.SIGKILL)
            raise RuntimeError(f"portmodel serve did not answer in {wait} s:\n{server.output()}")
        time.sleep(0.1)


@pytest.fixture
def serve(tmp_path):
    """serve(*args, repo=..., **options) -> Server; every server is stopped at teardown."""
    started: list[Server] = []

    def start(*args: str, repo: str | None = None, **options) -> Server:
        server = start_server(repo or str(tmp_path / "repo"), *args, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(signal.SIGKILL, timeout=5)


def group_pids(pgid: int) -> list[int]:
    """Live processes of a process group (the server and its uvicorn workers)."""
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.split("/")[2]))
    return pids


# ---------------------------------------------------------------------- PostgreSQL

def _pg_bin() -> str | None:
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(candidates[-1]) if candidates else None


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on a free loopback port (Debian's ``postgresql`` package;
    .ci/run installs it); yields its base URL and stops it at the end of the session."""
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI"):   # .ci/run installs it: its absence there is a failure
            pytest.fail("PostgreSQL is not installed although .ci/run should have installed it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
    pytest.importorskip("psycopg")
    base = tempfile.mkdtemp(prefix="portmodel-pg-")
    data = os.path.join(base, "data")
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        os.chmod(base, 0o700)
    subprocess.run(_as_postgres([os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres",
                                 "--auth=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres([os.path.join(bindir, "pg_ctl"), "-D", data, "-w", "-t", "60",
                                 "-l", os.path.join(base, "log"), "-o",
                                 f"-p {port} -k {base} -c listen_addresses=127.0.0.1 "
                                 "-c fsync=off", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "fast",
                                     "-w", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh database on the session's PostgreSQL server, for one test."""
    import psycopg
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server}/{name}"


# ---------------------------------------------------------------------- independent truth

def verification_rows(path: Path | str) -> list[tuple[dict, dict]]:
    """The document's ModelVerification records, read straight from the XML (scikit-learn's own
    predictions, written at export): [(inputs, expected outputs)]."""
    from lxml import etree
    root = etree.parse(str(path)).getroot()
    local = lambda el: etree.QName(el).localname   # noqa: E731
    mv = next(el for el in root.iter() if isinstance(el.tag, str)
              and local(el) == "ModelVerification")
    fields = {}
    inputs = set()
    for vf in mv.iter():
        if isinstance(vf.tag, str) and local(vf) == "VerificationField":
            column = vf.get("column", vf.get("field"))
            fields[column.split(":")[-1]] = vf.get("field")
            if vf.get("precision") is None:
                inputs.add(vf.get("field"))
    rows = []
    for row in mv.iter():
        if not (isinstance(row.tag, str) and local(row) == "row"):
            continue
        record, expected = {}, {}
        for cell in row:
            name = fields.get(local(cell))
            if name is None:
                continue
            text = cell.text
            if name in inputs:
                record[name] = float(text)
            else:
                try:
                    expected[name] = float(text)
                except (TypeError, ValueError):
                    expected[name] = text
        rows.append((record, expected))
    return rows


def agrees(outputs: dict, expected: dict, tol: float = 1e-9) -> bool:
    for name, want in expected.items():
        got = outputs.get(name)
        if isinstance(want, float):
            if got is None or abs(float(got) - want) > tol * max(1.0, abs(want)):
                return False
        elif str(got) != str(want):
            return False
    return True


# ------------------------------------------------------------------ drift, by hand


def hand_psi(expected: list[int], actual: list[int], eps: float = 1e-4) -> float:
    """The population stability index of two bin counts, from its formula (shares floored at
    eps so that an empty bin does not give an infinite term)."""
    te, ta = sum(expected), sum(actual)
    return sum((max(a / ta, eps) - max(e / te, eps)) * math.log(max(a / ta, eps) /
                                                                 max(e / te, eps))
               for e, a in zip(expected, actual))


def decile_counts(reference: list[float], observed: list[float]) -> tuple[list[int], list[int]]:
    """Bin counts of the reference and the observed values over the reference's deciles (cut
    at values of the data, right-closed bins, a cut at the maximum dropped)."""
    ref = sorted(reference)
    cuts = sorted({ref[math.ceil(len(ref) * k / 10) - 1] for k in range(1, 10)})
    cuts = [x for x in cuts if x < ref[-1]]

    def counts(xs: list[float]) -> list[int]:
        out = [0] * (len(cuts) + 1)
        for x in xs:
            out[sum(x > e for e in cuts)] += 1
        return out
    return counts(ref), counts(list(observed))
