"""Scoring service speed: portmodel serve vs MLServer, single-record requests over loopback.

    python benchmarks/bench_serve.py [--clients 4] [--seconds 10] [--max-requests 50000]
                                     [--workers 2] [--models lr,rf] [--no-mlserver]
                                     [--driver auto|wrk|python]

Fits the logistic regression (scaler + one-hot) and the 100-tree random forest exactly as
benchmarks/bench_pmml.py does (cached in benchmarks/.cache with their sklearn2pmml documents).
portmodel serves the PMML documents; MLServer (mlserver + mlserver-sklearn, in a virtual
environment of its own that this script builds under benchmarks/.cache when missing) serves the
same fitted scikit-learn pipelines, saved with joblib. Both run with --workers HTTP worker
processes (MLServer: its default inference settings).

The load comes from ``wrk`` (the Debian package, installed with apt-get when missing): one
thread, --clients keep-alive connections, each sending one record per request as fast as
answers come back (closed loop; a small Lua script POSTs the bodies in turn), for --seconds
after three untimed seconds of warm-up; p50/p99 come from its --latency distribution. wrk is
one C process, so the load generator takes far less of the two cores than Python clients would.
When wrk cannot be had (or with --driver python) --clients separate Python client processes do
the same with a small raw-socket HTTP/1.1 loop, for --seconds or --max-requests requests,
whichever ends first. portmodel and MLServer are driven the same way in one run. Printed: requests/s, p50 and p99 latency seen by the clients,
failed requests, the server's CPU time per request (all its processes, from /proc), and
portmodel / MLServer. On a machine that other work also loads, requests/s and latency follow
the share of the cores the servers get; CPU per request much less so.

Then portmodel again, through a routing endpoint, while a new version of the model is deployed
and promoted and the endpoint's weights change mid-run: every request must still succeed.
Targets (2-core machine): >= 2,000 requests/s with p99 < 10 ms for the logistic regression;
>= 1.5x MLServer's requests/s on both models.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
MLSERVER_VENV = CACHE / "mlserver-venv"
# uvloop 0.22+ makes MLServer 1.7.1's inference workers fail at start ("no current event loop")
MLSERVER_PINS = ["mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0"]
FIT_ROWS = 20_000
RESULT_TAG = "@@client-result "
ADMIN = "bench-admin-token"


# ---------------------------------------------------------------------- client process

def client_main(spec: dict) -> None:
    """One closed-loop client: keep-alive connection, raw HTTP/1.1, latencies in ms."""
    host, port, path = spec["host"], spec["port"], spec["path"]
    bodies = [b.encode() for b in spec["bodies"]]
    heads = [(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
              f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n").encode() + b
             for b in bodies]
    deadline_warm = time.perf_counter() + spec["warmup"]
    lat: list[float] = []
    failures: list[str] = []
    sock = None
    i = 0

    def connect():
        s = socket.create_connection((host, port), timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def one(s, req: bytes) -> int:
        s.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = None
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        if length is None:
            raise ConnectionError("no content-length")
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            rest += chunk
        return status

    def request() -> tuple[int | None, float]:
        nonlocal sock, i
        req = heads[i % len(heads)]
        i += 1
        t0 = time.perf_counter()
        try:
            if sock is None:
                sock = connect()
            status = one(sock, req)
        except OSError as exc:
            if sock is not None:
                sock.close()
            sock = None
            return None, repr(exc)          # type: ignore[return-value]
        return status, (time.perf_counter() - t0) * 1000.0

    while time.perf_counter() < deadline_warm:
        request()
    start = time.perf_counter()
    cpu_start = time.process_time()
    end = start + spec["seconds"]
    while len(lat) + len(failures) < spec["max_requests"] and time.perf_counter() < end:
        status, ms = request()
        if status == 200:
            lat.append(ms)
        else:
            failures.append(f"status {status}" if status is not None else str(ms))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    if sock is not None:
        sock.close()
    print(RESULT_TAG + json.dumps({"ok": len(lat), "failed": len(failures), "cpu": cpu,
                                   "failures": failures[:5], "elapsed": elapsed,
                                   "lat": lat}), flush=True)


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    wanted, total = {pid}, 0.0
    changed = True
    while changed:
        changed = False
        for p, (ppid, _) in stats.items():
            if ppid in wanted and p not in wanted:
                wanted.add(p)
                changed = True
    for p in wanted:
        if p in stats:
            total += stats[p][1]
    return total


def drive(host: str, port: int, path: str, bodies: list[str], clients: int, seconds: float,
          max_requests: int, warmup: float = 3.0, server_pid: int | None = None) -> dict:
    """Run the client processes at once; merged figures. With ``server_pid``, also the
    server's CPU time per request (all its processes, warm-up included in neither)."""
    spec = {"host": host, "port": port, "path": path, "bodies": bodies, "seconds": seconds,
            "max_requests": max(1, max_requests // clients), "warmup": warmup}
    fd, spec_path = tempfile.mkstemp(prefix="bench-serve-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(spec, fh)
    procs = [subprocess.Popen([sys.executable, __file__, "--client", spec_path],
                              stdout=subprocess.PIPE, text=True) for _ in range(clients)]
    results = []
    server_cpu = None
    if server_pid is not None:
        time.sleep(warmup + 0.2)               # count the measured window only
        cpu0, t0 = tree_cpu(server_pid), time.perf_counter()
    for p in procs:
        out, _ = p.communicate()
        line = next((x for x in out.splitlines() if x.startswith(RESULT_TAG)), None)
        if line is None:
            raise RuntimeError(f"a client process failed (exit {p.returncode})")
        results.append(json.loads(line[len(RESULT_TAG):]))
    if server_pid is not None:
        server_cpu = tree_cpu(server_pid) - cpu0
    os.unlink(spec_path)
    import numpy as np
    lat = np.concatenate([np.asarray(r["lat"], dtype=float) for r in results]) \
        if any(r["lat"] for r in results) else np.zeros(0)
    elapsed = max(r["elapsed"] for r in results)
    ok = sum(r["ok"] for r in results)
    return {"rps": ok / elapsed if elapsed else 0.0, "ok": ok,
            "failed": sum(r["failed"] for r in results),
            "failures": [f for r in results for f in r["failures"]][:5],
            "server_us": server_cpu / ok * 1e6 if server_cpu is not None and ok else None,
            "client_us": sum(r["cpu"] for r in results) / ok * 1e6 if ok else None,
            "p50": float(np.percentile(lat, 50)) if lat.size else float("nan"),
            "p99": float(np.percentile(lat, 99)) if lat.size else float("nan")}


# ---------------------------------------------------------------------- wrk

#: wrk's script: POST the bodies in turn (one per request), JSON
WRK_LUA = """
local bodies = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
end
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%s", {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def ensure_wrk() -> str | None:
    """The path of ``wrk``, installing the Debian package when it is missing (as root, or
    through sudo without a password); None when it cannot be had."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        return None
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return None
    print("installing wrk (apt-get install wrk) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in ([*prefix, apt, "install", "-y", "-q", "wrk"],
                [*prefix, apt, "update", "-q"], [*prefix, apt, "install", "-y", "-q", "wrk"]):
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if shutil.which("wrk"):
            return shutil.which("wrk")
    return None


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    """requests/s, p50/p99 (ms), completed and failed requests from wrk's --latency report."""
    pct = {int(float(m.group(1))): _ms(m.group(2))
           for m in re.finditer(r"^\s+([\d.]+)%\s+(\S+)\s*$", out, re.M)}
    done = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     out)
    failed = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(x) for x in sock.groups()) if sock else 0)
    if not (done and rps and 50 in pct and 99 in pct):
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    n = int(done.group(1))
    failures = []
    if non2xx:
        failures.append(f"{non2xx.group(1)} non-2xx answers")
    if sock:
        failures.append(sock.group(0))
    return {"rps": float(rps.group(1)), "ok": n - (int(non2xx.group(1)) if non2xx else 0),
            "failed": failed, "failures": failures, "p50": pct[50], "p99": pct[99]}


def drive_wrk(wrk: str, host: str, port: int, path: str, bodies: list[str], clients: int,
              seconds: float, warmup: float = 3.0, server_pid: int | None = None) -> dict:
    """The same closed-loop load as ``drive`` from wrk (one thread, ``clients`` keep-alive
    connections): one untimed warm-up run, then the measured one with --latency."""
    folder = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    try:
        (folder / "bodies.txt").write_text("\n".join(b.replace("\n", " ") for b in bodies)
                                           + "\n")
        script = folder / "post.lua"
        script.write_text(WRK_LUA % path)
        url = f"http://{host}:{port}{path}"
        base = [wrk, "-t", "1", "-c", str(clients), "-s", str(script)]
        if warmup > 0:
            subprocess.run([*base, "-d", f"{max(1, round(warmup))}s", url, "--",
                            str(folder / "bodies.txt")], capture_output=True, text=True)
        cpu0 = tree_cpu(server_pid) if server_pid is not None else None
        done = subprocess.run([*base, "-d", f"{max(1, round(seconds))}s", "--latency",
                               "--timeout", "10s", url, "--", str(folder / "bodies.txt")],
                              capture_output=True, text=True)
        cpu = tree_cpu(server_pid) - cpu0 if server_pid is not None else None
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
        r = parse_wrk(done.stdout)
        r["server_us"] = cpu / r["ok"] * 1e6 if cpu is not None and r["ok"] else None
        r["client_us"] = None
        return r
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------- models and data

def fitted_models(names: list[str]) -> dict[str, tuple[object, Path, list[str]]]:
    """name -> (fitted pipeline, its PMML document, input columns), fitted as bench_pmml does."""
    sys.path.insert(0, str(HERE))
    import bench_pmml
    missing = [n for n in names if not all(p.exists() for p in bench_pmml.cache_paths(n, FIT_ROWS))]
    if missing:
        print(f"fitting and exporting {', '.join(missing)} (cached for next time) ...", flush=True)
    X, y = bench_pmml.make_data(FIT_ROWS)
    return {n: bench_pmml.fitted(n, X, y) for n in names}


def sample_records(cols: list[str], n: int = 500) -> list[dict]:
    sys.path.insert(0, str(HERE))
    import bench_pmml
    X, _ = bench_pmml.make_data(n, seed=1)
    out = []
    for row in X[cols].to_dict(orient="records"):
        out.append({k: (float(v) if not isinstance(v, str) else v) for k, v in row.items()})
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer {path} in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)


# ---------------------------------------------------------------------- portmodel

def http(method: str, port: int, path: str, body: bytes | None = None,
         content_type: str = "application/json") -> tuple[int, bytes]:
    import urllib.error
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                 headers={"Authorization": f"Bearer {ADMIN}",
                                          "Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_portmodel(docs: dict[str, Path], workers: int, repo: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cmd = [sys.executable, "-m", "portmodel", "serve", "--repo", repo, "--port", str(port),
           "--workers", str(workers), "--admin-token", ADMIN, "--max-body", "64MB"]
    for name, doc in docs.items():
        cmd += ["--model", f"{name}={doc}"]
    # as shipped: access log on (to a discarded stderr), drift and field counters on
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTMODEL_")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_ready(port, "/v2/health/ready", proc)
    return proc, port


# ---------------------------------------------------------------------- MLServer

def mlserver_python() -> Path:
    """The MLServer environment's Python, building the environment when it is missing (its own,
    so that MLServer's pins never meet ours; scikit-learn pinned to ours so the pickles load)."""
    import sklearn
    py = MLSERVER_VENV / "bin" / "python"
    ok = py.exists() and subprocess.run(
        [str(py), "-c", f"import mlserver, mlserver_sklearn, sklearn, uvloop; "
                        f"assert sklearn.__version__ == {sklearn.__version__!r}; "
                        f"assert uvloop.__version__ == '0.21.0'"],
        capture_output=True).returncode == 0
    if not ok:
        print("building the MLServer environment in benchmarks/.cache (once) ...", flush=True)
        shutil.rmtree(MLSERVER_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(MLSERVER_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *MLSERVER_PINS,
                        f"scikit-learn=={sklearn.__version__}"], check=True)
    return py


def start_mlserver(models: dict[str, tuple[object, Path, list[str]]], workers: int,
                   folder: Path) -> tuple[subprocess.Popen, int]:
    import joblib
    from sklearn.pipeline import Pipeline
    py = mlserver_python()
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps({
        "http_port": port, "grpc_port": free_port(), "metrics_port": free_port(),
        "debug": False, "host": "127.0.0.1", "parallel_workers": workers}))
    for name, (pipe, _doc, _cols) in models.items():
        d = folder / name
        d.mkdir(exist_ok=True)
        # the same fitted steps as a plain scikit-learn Pipeline (no sklearn2pmml needed there)
        joblib.dump(Pipeline(list(pipe.steps)), d / "model.joblib")
        (d / "model-settings.json").write_text(json.dumps({
            "name": name, "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib", "version": "v1"}}))
    bin_dir = py.parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([str(bin_dir / "mlserver"), "start", str(folder)], cwd=folder,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_ready(port, "/v2/health/ready", proc)
    for name in models:
        wait_ready(port, f"/v2/models/{name}/ready", proc)
    return proc, port


def v2_body(record: dict) -> str:
    inputs = []
    for k, v in record.items():
        if isinstance(v, str):
            inputs.append({"name": k, "shape": [1], "datatype": "BYTES", "data": [v]})
        else:
            inputs.append({"name": k, "shape": [1], "datatype": "FP64", "data": [v]})
    return json.dumps({"parameters": {"content_type": "pd"}, "inputs": inputs})


# ---------------------------------------------------------------------- the run

def changes_during(port: int, name: str, doc: Path, seconds: float, log: list) -> threading.Thread:
    """Deploy a new version, promote it, move the endpoint's weights, roll back: spread over
    the run."""
    def run() -> None:
        steps = seconds / 6
        time.sleep(steps)
        data = doc.read_bytes().replace(b"<DataDictionary", b"<!-- bench v2 -->\n<DataDictionary", 1)
        st, body = http("PUT", port, f"/models/{name}", data, "application/xml")
        version = json.loads(body).get("version")
        log.append(("deploy", st, version))
        for weights in ([50, 50], [0, 100]):
            time.sleep(steps)
            spec = {"variants": [{"model": name, "version": 1, "weight": weights[0]},
                                 {"model": name, "version": version, "weight": weights[1]}]}
            log.append(("weights", http("PUT", port, f"/endpoints/{name}-ep",
                                        json.dumps(spec).encode())[0], weights))
        time.sleep(steps)
        log.append(("promote", http("POST", port, f"/models/{name}/promote",
                                    json.dumps({"version": version}).encode())[0], version))
        time.sleep(steps)
        log.append(("rollback", http("POST", port, f"/models/{name}/promote",
                                     json.dumps({"version": 1}).encode())[0], 1))
        spec = {"variants": [{"model": name, "weight": 1}]}
        log.append(("weights", http("PUT", port, f"/endpoints/{name}-ep",
                                    json.dumps(spec).encode())[0], "promoted"))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def row(label: str, r: dict) -> str:
    cpu = f"{r['server_us']:>10,.0f}" if r.get("server_us") else f"{'-':>10}"
    return (f"  {label:<34} {r['rps']:>9,.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
            f"{r['failed']:>7} {cpu}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--max-requests", type=int, default=60_000)
    # one server worker by default: the load generator runs on the same 2-core machine and
    # takes the other core; with two workers three busy processes share two cores and the
    # p99 shows the scheduler's time slices rather than the server (MLServer gets the same)
    ap.add_argument("--workers", type=int, default=1,
                    help="server workers for portmodel and MLServer alike (default 1: the load "
                         "generator has the other core)")
    ap.add_argument("--models", default="lr,rf")
    ap.add_argument("--no-mlserver", action="store_true")
    ap.add_argument("--driver", choices=("auto", "wrk", "python"), default="auto",
                    help="load generator: wrk (installed with apt-get when missing), the Python "
                         "client processes, or auto: wrk when it can be had, else Python")
    args = ap.parse_args()
    if args.client:
        client_main(json.loads(Path(args.client).read_text()))
        return
    names = [n for n in args.models.split(",") if n]
    wrk = ensure_wrk() if args.driver in ("auto", "wrk") else None
    if args.driver == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed and could not be installed (apt-get install wrk)")

    def load(port: int, path: str, bodies: list[str], server_pid: int | None = None,
             warmup: float = 3.0) -> dict:
        if wrk is not None:
            return drive_wrk(wrk, "127.0.0.1", port, path, bodies, args.clients, args.seconds,
                             warmup, server_pid)
        return drive("127.0.0.1", port, path, bodies, args.clients, args.seconds,
                     args.max_requests, warmup, server_pid)
    models = fitted_models(names)
    import platform
    print(f"bench_serve: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{args.workers} server workers each, "
          + (f"wrk ({args.clients} connections, 1 thread), {args.seconds:g} s per run"
             if wrk else f"{args.clients} Python client processes, {args.seconds:g} s or "
                         f"{args.max_requests:,} requests per run") + ", 3 s warm-up")
    records = {n: sample_records(models[n][2]) for n in names}
    results: dict[str, dict] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        docs = {n: models[n][1] for n in names}
        proc, port = start_portmodel(docs, args.workers, str(tmp / "repo"))
        try:
            for n in names:
                bodies = [json.dumps(r) for r in records[n]]
                st, body = http("POST", port, f"/models/{n}", bodies[0].encode())
                assert st == 200, body
                results[(n, "portmodel")] = load(port, f"/models/{n}", bodies,
                                                 server_pid=proc.pid)
        finally:
            stop(proc)
        if not args.no_mlserver:
            proc, port = start_mlserver(models, args.workers, tmp / "mlserver")
            try:
                for n in names:
                    bodies = [v2_body(r) for r in records[n]]
                    st, body = http("POST", port, f"/v2/models/{n}/infer", bodies[0].encode())
                    assert st == 200, body
                    results[(n, "mlserver")] = load(port, f"/v2/models/{n}/infer", bodies,
                                                    server_pid=proc.pid)
            finally:
                stop(proc)
        # portmodel again, through an endpoint, while versions and weights change
        proc, port = start_portmodel(docs, args.workers, str(tmp / "repo2"))
        changes: dict[str, list] = {}
        try:
            for n in names:
                spec = {"variants": [{"model": n, "version": 1, "weight": 100}]}
                assert http("PUT", port, f"/endpoints/{n}-ep", json.dumps(spec).encode())[0] \
                    in (200, 201)
                bodies = [json.dumps(r) for r in records[n]]
                changes[n] = []
                t = changes_during(port, n, docs[n], args.seconds + 1.0, changes[n])
                # no warm-up: every request sent while the changes happen counts
                results[(n, "changes")] = load(port, f"/endpoints/{n}-ep", bodies, warmup=0)
                t.join(60)
        finally:
            stop(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    labels = {"lr": "logistic regression (scaler+one-hot)", "rf": "random forest 100 trees"}
    print(f"\n  {'model / server':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7} "
          f"{'server CPU us/req':>10}")
    for n in names:
        print(f"{labels.get(n, n)}")
        print(row("portmodel", results[(n, "portmodel")]))
        if (n, "mlserver") in results:
            print(row("MLServer", results[(n, "mlserver")]))
            ratio = results[(n, "portmodel")]["rps"] / max(results[(n, "mlserver")]["rps"], 1e-9)
            print(f"  {'portmodel / MLServer':<34} {ratio:>8.2f}x   (target >= 1.5x)")
        print(row("portmodel, endpoint, during changes", results[(n, "changes")]))
        print(f"    changes: {', '.join(f'{a} {v} -> {s}' for a, s, v in changes[n])}")
    for n in names:
        r = results[(n, "portmodel")]
        if r.get("server_us") and r.get("client_us"):
            print(f"{n}: on 2 otherwise idle cores the server's and this client's CPU per "
                  f"request ({r['server_us']:,.0f} + {r['client_us']:,.0f} us) allow at most "
                  f"{2e6 / (r['server_us'] + r['client_us']):,.0f} req/s")
    lr = results.get(("lr", "portmodel"))
    if lr:
        print(f"\nLR target: >= 2,000 req/s and p99 < 10 ms: {lr['rps']:,.0f} req/s, "
              f"p99 {lr['p99']:.2f} ms -> {'met' if lr['rps'] >= 2000 and lr['p99'] < 10 else 'NOT met'}")
    failed = sum(results[(n, "changes")]["failed"] for n in names)
    print(f"failed requests during deploy/promote/weight changes: {failed}")
    for key, r in results.items():
        if r["failures"]:
            print(f"  {key}: {r['failures']}")


if __name__ == "__main__":
    main()
