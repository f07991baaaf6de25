"""The service's life: the default repository, restart persistence, several workers seeing a
change within 1 s with no failed request, and SIGTERM draining an in-flight request."""
from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time

import httpx
import pytest

from serve_util import SAMPLES, group_pids, start_server, verification_rows

TREE = SAMPLES / "iris_tree.pmml"
FOREST = SAMPLES / "iris_forest.pmml"


def _score(url: str, record: dict) -> httpx.Response:
    # a fresh connection per request, so that the kernel spreads them over the workers
    return httpx.post(f"{url}/models/iris", json=record, headers={"Connection": "close"},
                      timeout=10)


def test_no_set_up_uses_the_default_folder_and_makes_an_admin_token(tmp_path):
    srv = start_server(None, "--model", f"iris={TREE}", admin_token=None,
                       env={"XDG_DATA_HOME": str(tmp_path / "data"),
                            "HOME": str(tmp_path / "home")})
    try:
        assert (tmp_path / "data" / "portmodel" / "repository" / "repository.sqlite3").exists()
        record, _ = verification_rows(TREE)[0]
        assert srv.client.post("/models/iris", json=record).status_code == 200
        line = next(ln for ln in srv.output().splitlines() if "admin token" in ln)
        token = line.rsplit(" ", 1)[1]
        r = srv.client.put("/models/iris2", content=TREE.read_bytes(), headers={
            "content-type": "application/xml", "Authorization": f"Bearer {token}"})
        assert r.status_code == 201
    finally:
        srv.stop()


def test_admin_token_from_the_environment(tmp_path):
    srv = start_server(str(tmp_path / "repo"), admin_token=None,
                       env={"PORTMODEL_ADMIN_TOKEN": "from-env"})
    try:
        r = srv.client.put("/models/iris", content=TREE.read_bytes(), headers={
            "content-type": "application/xml", "Authorization": "Bearer from-env"})
        assert r.status_code == 201
        assert "admin token" not in srv.output()
    finally:
        srv.stop()


def test_restart_keeps_models_versions_and_history(tmp_path):
    repo = str(tmp_path / "repo")
    srv = start_server(repo, "--model", f"iris={TREE}")
    try:
        assert srv.deploy("iris", FOREST, promote=True).json()["version"] == 2
    finally:
        assert srv.stop() == 0
    srv = start_server(repo)
    try:
        record, expected = verification_rows(FOREST)[0]
        r = srv.client.post("/models/iris", json=record)
        assert r.status_code == 200 and r.json()["version"] == 2
        history = srv.client.get("/models/iris/history").json()["history"]
        assert [(h["action"], h["version"]) for h in history] == [
            ("deploy", 1), ("promote", 1), ("deploy", 2), ("promote", 2)]
        assert history[0]["actor"] == "serve --model"
    finally:
        srv.stop()


def test_workers_see_a_change_within_one_second_and_no_request_fails(tmp_path):
    srv = start_server(str(tmp_path / "repo"), "--model", f"iris={TREE}", workers=2)
    try:
        deadline = time.monotonic() + 30
        while len(group_pids(srv.proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(group_pids(srv.proc.pid)) >= 3     # the supervisor and two workers
        record, _ = verification_rows(FOREST)[0]      # scores under both documents
        for _ in range(20):                           # every worker has compiled version 1
            assert _score(srv.url, record).json()["version"] == 1

        failures: list = []
        stop = threading.Event()

        def traffic() -> None:
            while not stop.is_set():
                r = _score(srv.url, record)
                if r.status_code != 200:
                    failures.append((r.status_code, r.text))

        threads = [threading.Thread(target=traffic) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            assert srv.deploy("iris", FOREST).json()["version"] == 2
            start = time.monotonic()
            r = srv.client.post("/models/iris/promote", json={"version": 2}, headers=srv.admin)
            assert r.status_code == 200
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
            answers = [_score(srv.url, record).json()["version"] for _ in range(30)]
            assert answers == [2] * 30
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert failures == []
    finally:
        srv.stop()
    deadline = time.monotonic() + 10     # workers killed with the group are gone soon after
    while group_pids(srv.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_pids(srv.proc.pid) == []


def test_sigterm_drains_an_in_flight_request(tmp_path):
    srv = start_server(str(tmp_path / "repo"), "--model", f"iris={TREE}")
    record, expected = verification_rows(TREE)[0]
    body = json.dumps(record).encode()
    port = int(srv.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        sock.sendall(b"POST /models/iris HTTP/1.1\r\nHost: localhost\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5])
        time.sleep(0.5)                       # the request is in flight: headers, part of a body
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert srv.proc.poll() is None        # still serving the request in flight
        with pytest.raises(httpx.TransportError):   # ... but no new ones
            httpx.get(f"{srv.url}/v2/health/live", timeout=2)
        sock.sendall(body[5:])
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(payload)["outputs"]["probability(setosa)"] == expected[
        "probability(setosa)"]
    assert srv.proc.wait(20) == 0
    srv.stop()
    assert not os.path.exists(f"/proc/{srv.proc.pid}")
