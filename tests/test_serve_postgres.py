"""A PostgreSQL repository: a real PostgreSQL server on loopback (started by the fixture), two
server processes sharing it, deploy through one and score through the other within 1 s."""
from __future__ import annotations

import threading
import time

import pytest

from serve_util import SAMPLES, postgres_server, postgres_url, start_server, verification_rows

TREE = SAMPLES / "iris_tree.pmml"
FOREST = SAMPLES / "iris_forest.pmml"

__all__ = ["postgres_server", "postgres_url"]   # fixtures used below


def _within(seconds: float, check) -> float:
    """Poll check() until it is true; returns the time it took (fails after ``seconds``)."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            pytest.fail(f"not seen within {seconds} s")
        time.sleep(0.02)


def test_two_replicas_share_one_postgresql_repository(postgres_url, tmp_path):
    a = start_server(postgres_url)
    b = start_server(postgres_url)
    try:
        record, expected = verification_rows(FOREST)[0]
        assert b.client.post("/models/iris", json=record).status_code == 404
        assert a.deploy("iris", TREE).status_code == 201
        r = b.client.post("/models/iris", json=record)   # first ask: at once, never a 404
        assert r.status_code == 200 and r.json()["version"] == 1

        assert a.deploy("iris", FOREST).json()["version"] == 2
        for server in (a, b):   # compiled and warm everywhere: what is timed is the change
            for v in (1, 2):
                assert server.client.post(f"/models/iris/versions/{v}", json=record).status_code \
                    == 200
        assert a.client.post("/models/iris/promote", json={"version": 2},
                             headers=a.admin).status_code == 200
        promoted_at = time.monotonic()
        took = _within(1.0, lambda: b.client.post("/models/iris", json=record)
                       .json()["version"] == 2)
        assert took <= 1.0
        assert time.monotonic() - promoted_at < 1.5
        assert b.client.post("/models/iris", json=record).json()["outputs"] is not None

        # the document itself lives in the database: B serves what only A received
        r = b.client.get("/models/iris/versions/2/document", headers=b.admin)
        assert r.content == FOREST.read_bytes()
        assert [h["action"] for h in b.client.get("/models/iris/history").json()["history"]] \
            == ["deploy", "promote", "deploy", "promote"]

        # rollback through B is seen by A
        b.client.post("/models/iris/promote", json={"version": 1}, headers=b.admin)
        _within(1.0, lambda: a.client.post("/models/iris", json=record).json()["version"] == 1)
        assert b.client.delete("/models/iris/versions/1", headers=b.admin).status_code == 409
        assert a.client.delete("/models/iris/versions/2", headers=a.admin).status_code == 200
        _within(1.0, lambda: b.client.post("/models/iris/versions/2", json=record).status_code
                == 404)
        assert expected   # the record is one scikit-learn scored
    finally:
        a.stop()
        b.stop()


def test_concurrent_deploys_get_distinct_versions(postgres_url):
    a = start_server(postgres_url)
    b = start_server(postgres_url)
    try:
        docs = [TREE.read_bytes(), FOREST.read_bytes()]
        results: list = []

        def deploy(server, data):
            results.append(server.client.put("/models/race", content=data, headers={
                **server.admin, "content-type": "application/xml"}).json()["version"])

        threads = [threading.Thread(target=deploy, args=(s, d)) for s, d in zip((a, b), docs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [1, 2]
    finally:
        a.stop()
        b.stop()


def test_postgresql_repository_survives_a_restart(postgres_url):
    srv = start_server(postgres_url, "--model", f"iris={TREE}")
    srv.stop()
    srv = start_server(postgres_url)
    try:
        record, expected = verification_rows(TREE)[0]
        r = srv.client.post("/models/iris", json=record)
        assert r.status_code == 200 and r.json()["version"] == 1
        assert r.json()["outputs"]["probability(setosa)"] == expected["probability(setosa)"]
    finally:
        srv.stop()
