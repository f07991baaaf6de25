"""Batch jobs: score a whole file (local or on object storage) in the background.

``POST /jobs`` queues a job in the repository (SQLite or PostgreSQL, the ``jobs`` table), so a
job outlives the worker that accepted it. Every worker process runs a ``JobRunner`` thread that
claims queued jobs (each exactly once, across workers and replicas) and runs each in its own
child process (``python -m portmodel.serving.job_process``) at a lower CPU priority (``os.nice``),
so the event loop and on-demand scoring keep their share of the CPU. The pool is bounded:
``jobs_workers`` jobs at a time per worker process.

While a job runs, its runner beats a heartbeat in the repository; a job whose heartbeat goes stale
(the worker was killed, the machine restarted) is queued again from the start, and failed after
three attempts: never lost silently. The child dies with its runner (``PR_SET_PDEATHSIG``), so a
killed worker leaves no job scoring behind its back. ``DELETE /jobs/{id}`` marks the job
cancelled; its runner sends SIGTERM to the child, which aborts its output (the multipart upload
or the temporary file), so nothing is left behind.

Security: the batch token (``--batch-token``) or the admin token is required. Inputs and outputs
must lie under a configured root: ``--jobs-root DIR`` for local paths (symbolic links and ``..``
resolved before the check, and the repository's own folder never), ``--jobs-allow
s3://bucket/prefix`` for object storage; anything else is 403.

A job on an endpoint is scored whole by the endpoint's heaviest variant (a file is not split
between versions); the version is fixed when the job is accepted and reported with it.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from .. import storage
from .auth import actor, check
from .store import NotFound, Store

log = logging.getLogger("portmodel.serving.jobs")

#: options a job may pass to the batch scorer (the worker count is the service's to choose)
OPTIONS = {"input_format": str, "output_format": str, "chunk_rows": int, "keep": (list, str),
           "keep_all": bool, "on_error": str, "delimiter": str, "header": bool}
HEARTBEAT = 1.0          # seconds between a runner's heartbeats
STALE = 10.0             # a running job whose heartbeat is older is queued again
POLL = 0.5               # seconds between looks for queued jobs


class Refused(Exception):
    """A path or URI outside the configured roots (403)."""


# ---------------------------------------------------------------------- where jobs may read/write

def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def check_location(location: str, config: Any, writing: bool) -> str:
    """The location a job may use (local paths resolved), or Refused naming why not."""
    if not isinstance(location, str) or not location or location == "-":
        raise Refused("a job reads and writes named files, not standard input/output")
    if "://" in location:
        if not storage.is_remote(location):
            raise Refused(f"{location!r}: unsupported scheme")
        if writing and location.lower().startswith(("http://", "https://")):
            raise Refused(f"{location!r}: https:// is read-only")
        scheme, rest = location.split("://", 1)
        parts = rest.split("?", 1)[0].split("/")
        if any(p in ("", ".", "..") for p in parts[1:]) or "%2e" in rest.lower():
            raise Refused(f"{location!r}: empty, '.' or '..' segments are not allowed")
        uri = scheme.lower() + "://" + rest
        for allowed in config.jobs_allow:
            base = allowed.rstrip("/")
            if uri == base or uri.startswith(base + "/"):
                return uri
        raise Refused(f"{location!r} is not under an allowed prefix (--jobs-allow)")
    path = os.path.realpath(location)      # symbolic links and '..' resolved
    repo = None if config.is_postgres else os.path.realpath(config.repo)
    if repo is not None and _inside(path, repo):
        raise Refused(f"{location!r} is inside the service's repository")
    for root in config.jobs_root:
        if _inside(path, os.path.realpath(root)):
            return path
    raise Refused(f"{location!r} is not under a jobs root (--jobs-root)")


def check_options(options: Any) -> dict:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise HTTPException(400, "options must be an object")
    out = {}
    for key, value in options.items():
        kinds = OPTIONS.get(key)
        if kinds is None:
            raise HTTPException(400, f"unknown option {key!r}; known: {', '.join(sorted(OPTIONS))}")
        if not isinstance(value, kinds) or (kinds is int and isinstance(value, bool)):
            raise HTTPException(400, f"option {key!r} has the wrong type")
        out[key] = [c.strip() for c in value.split(",") if c.strip()] \
            if key == "keep" and isinstance(value, str) else value
    if out.get("on_error", "fail") not in ("fail", "skip", "record"):
        raise HTTPException(400, "option 'on_error' is fail, skip or record")
    return out


def _pick_version(store: Store, body: dict) -> tuple[str, int]:
    """(model, version) that will score the job."""
    if "endpoint" in body:
        spec = store.get_endpoint(str(body["endpoint"]))
        if spec is None:
            raise NotFound(f"endpoint {body['endpoint']!r} does not exist")
        heaviest = max(spec.get("variants") or [{}], key=lambda v: v.get("weight", 0))
        model, version = heaviest.get("model"), heaviest.get("version")
    else:
        model, version = body.get("model"), body.get("version")
    if not isinstance(model, str):
        raise HTTPException(400, "a job names a model (with an optional version) or an endpoint")
    if version is None:
        version = store.promoted(model)
        if version is None:
            raise HTTPException(409, f"model {model!r} has no promoted version")
    if not isinstance(version, int) or store.version(model, version) is None:
        raise NotFound(f"model {model!r} has no version {version}")
    return model, version


def describe(job: dict) -> dict:
    """A job as the API shows it."""
    seconds = job.get("seconds")
    if seconds is None and job["state"] == "running" and job.get("started_at"):
        from datetime import datetime, timezone
        started = datetime.fromisoformat(job["started_at"])
        seconds = (datetime.now(timezone.utc) - started).total_seconds()
    rate = job["rows_read"] / seconds if seconds else None
    spec = job["spec"]
    return {"id": job["id"], "state": job["state"], "model": job["model"],
            "version": job["version"], "endpoint": spec.get("endpoint"),
            "input": spec["input"], "output": spec["output"], "options": spec.get("options", {}),
            "rows_read": job["rows_read"], "rows_scored": job["rows_scored"],
            "rows_rejected": job["rows_rejected"], "seconds": seconds, "rows_per_second": rate,
            "error": job["error"], "attempts": job["attempts"], "created_at": job["created_at"],
            "started_at": job["started_at"], "finished_at": job["finished_at"]}


# ---------------------------------------------------------------------- HTTP API

def _authorize(request: Request) -> str:
    config = request.app.state.config
    check(request, config.batch_token, config.admin_token)
    return actor(request)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


router = APIRouter(tags=["jobs"])


@router.post("/jobs", status_code=202)
async def submit(request: Request) -> Response:
    """Queue a batch job: {"model", "version"?} or {"endpoint"}, "input", "output", "options"."""
    who = _authorize(request)
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body is a JSON object")
    config = request.app.state.config
    try:
        source = check_location(body.get("input"), config, writing=False)
        target = check_location(body.get("output"), config, writing=True)
    except Refused as exc:
        raise HTTPException(403, str(exc)) from None
    if source == target:
        raise HTTPException(400, "the output is the input")
    options = check_options(body.get("options"))
    store: Store = request.app.state.store
    model, version = _pick_version(store, body)
    job_id = uuid.uuid4().hex
    spec = {"input": source, "output": target, "options": options}
    if "endpoint" in body:
        spec["endpoint"] = str(body["endpoint"])
    store.add_job(job_id, spec, who, model, version)
    return _json(202, describe(store.job(job_id)))


@router.get("/jobs")
def list_jobs(request: Request) -> Response:
    """Every job, newest first."""
    _authorize(request)
    return _json(200, {"jobs": [describe(j) for j in request.app.state.store.jobs()]})


@router.get("/jobs/{job_id}")
def get_job(request: Request, job_id: str) -> Response:
    """A job's state, row counts, rate, version and error."""
    _authorize(request)
    job = request.app.state.store.job(job_id)
    if job is None:
        raise NotFound(f"job {job_id!r} does not exist")
    return _json(200, describe(job))


@router.delete("/jobs/{job_id}")
def cancel_job(request: Request, job_id: str) -> Response:
    """Cancel a queued or running job (its output is not written); a finished job stays."""
    _authorize(request)
    store: Store = request.app.state.store
    store.cancel_job(job_id)
    return _json(200, describe(store.job(job_id)))


# ---------------------------------------------------------------------- running jobs

def _child_setup(niceness: int) -> None:   # pragma: no cover - runs in the child
    try:
        os.nice(niceness)
    except OSError:
        pass
    try:    # die with the runner thread's process: no job scoring on after a killed worker
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class JobRunner:
    """Claims queued jobs and runs each in a child process, ``slots`` at a time."""

    def __init__(self, store: Store, config: Any, metrics: Any = None):
        self.store, self.config, self.metrics = store, config, metrics
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.running: dict[str, tuple[subprocess.Popen, float]] = {}
        self.stop = threading.Event()

    def start(self) -> threading.Event:
        threading.Thread(target=self._loop, name="portmodel-jobs", daemon=True).start()
        return self.stop

    def _loop(self) -> None:
        last_beat = 0.0
        while not self.stop.is_set():
            try:
                self.store.requeue_stale_jobs(STALE)
                while len(self.running) < self.config.jobs_workers:
                    job = self.store.claim_job(self.owner)
                    if job is None:
                        break
                    self._launch(job)
                now = time.monotonic()
                if now - last_beat >= HEARTBEAT:
                    last_beat = now
                    self._beat()
                self._reap()
                if self.metrics is not None:
                    for state, n in self.store.job_counts().items():
                        self.metrics.child(self.metrics.jobs, state).set(n)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the runner
                log.exception("job runner")
            self.stop.wait(POLL)
        for proc, _ in self.running.values():
            proc.send_signal(signal.SIGTERM)

    def _launch(self, job: dict) -> None:
        env = dict(os.environ)
        env["PORTMODEL_JOB_REPO"] = self.config.repo
        args = [sys.executable, "-m", "portmodel.serving.job_process", job["id"]]
        niceness = self.config.jobs_nice
        # output to files, not pipes: a child that writes much (warnings) never blocks on them
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                preexec_fn=lambda: _child_setup(niceness))
        proc.files = (out, err)     # type: ignore[attr-defined]
        self.running[job["id"]] = (proc, time.perf_counter())

    def _beat(self) -> None:
        for job_id, (proc, _) in list(self.running.items()):
            state = self.store.job_heartbeat(job_id, self.owner)
            if state != "running" and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)     # cancelled: the child aborts its output

    def _reap(self) -> None:
        for job_id, (proc, started) in list(self.running.items()):
            if proc.poll() is None:
                continue
            del self.running[job_id]
            files = proc.files      # type: ignore[attr-defined]
            for f in files:
                f.seek(0)
            out, err = (f.read() for f in files)
            for f in files:
                f.close()
            seconds = time.perf_counter() - started
            try:
                summary = json.loads(out.decode() or "{}")
            except ValueError:
                summary = {}
            counts = {k: int(summary.get(k, 0)) for k in ("rows_read", "rows_scored",
                                                          "rows_rejected")}
            if proc.returncode == 0:
                done = self.store.finish_job(job_id, self.owner, "succeeded", seconds=seconds,
                                             **counts)
            else:
                lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
                reason = lines[-1] if lines else f"the job process ended with {proc.returncode}"
                done = self.store.finish_job(job_id, self.owner, "failed", seconds=seconds,
                                             error=reason.removeprefix("portmodel: error: "),
                                             **counts)
            if done and self.metrics is not None:
                m = self.metrics
                m.child(m.job_rows, "scored").inc(counts["rows_scored"])
                m.child(m.job_rows, "rejected").inc(counts["rows_rejected"])
                m.job_duration.observe(seconds)


def install(app: Any) -> None:
    """Add the jobs API to an application; its runner starts with the application."""
    app.include_router(router)
