"""Batch jobs through the real service over HTTP: submitted, listed, cancelled, refused outside
the configured roots, re-run after a restart, taken once by two replicas on one PostgreSQL
repository; every result equal to scoring the same file locally with ``portmodel.batch``."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from portmodel.batch import score_file
from s3_util import s3_server
from serve_util import ADMIN, SAMPLES, postgres_server, postgres_url, serve, start_server

__all__ = ["postgres_server", "postgres_url", "s3_server", "serve"]   # fixtures used below

FOREST = SAMPLES / "iris_forest.pmml"
TREE = SAMPLES / "iris_tree.pmml"
BATCH = "batch-secret-token"


def _big_iris(path: Path, rows: int) -> Path:
    """The iris sample repeated to ``rows`` rows (a job that takes a while)."""
    table = pacsv.read_csv(SAMPLES / "iris.csv")
    reps = -(-rows // table.num_rows)
    pacsv.write_csv(pa.concat_tables([table] * reps).slice(0, rows), path)
    return path


def _wait(server, job_id: str, states: tuple, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = server.client.get(f"/jobs/{job_id}", headers=server.admin).json()
        if job["state"] in states:
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {job['state']} after {seconds} s: {job}")
        time.sleep(0.1)


def _submit(server, body: dict, token: str = ADMIN):
    return server.client.post("/jobs", json=body, headers={"Authorization": f"Bearer {token}"})


def _local(tmp_path: Path, model: Path, source: Path, suffix: str = ".csv", **options) -> bytes:
    out = tmp_path / f"local{suffix}"
    score_file(str(model), str(source), str(out), jobs=1, progress=False, **options)
    return out.read_bytes()


def test_job_is_submitted_listed_and_equal_to_local_scoring(serve, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    source = _big_iris(data / "in.csv", 5000)
    server = serve("--jobs-root", str(data), "--batch-token", BATCH)
    assert server.deploy("iris", FOREST).status_code == 201
    r = _submit(server, {"model": "iris", "input": str(source), "output": str(data / "out.csv"),
                         "options": {"keep": "species"}}, token=BATCH)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "running") and job["version"] == 1
    done = _wait(server, job["id"], ("succeeded", "failed"))
    assert done["state"] == "succeeded", done
    assert (done["rows_read"], done["rows_scored"], done["rows_rejected"]) == (5000, 5000, 0)
    assert done["rows_per_second"] > 0 and done["attempts"] == 1
    assert (data / "out.csv").read_bytes() == _local(tmp_path, FOREST, source, keep=["species"])
    listed = server.client.get("/jobs", headers=server.admin).json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    metrics = server.client.get("/metrics").text
    assert 'portmodel_jobs{state="succeeded"} 1.0' in metrics
    assert 'portmodel_job_rows_total{outcome="scored"} 5000.0' in metrics
    assert "portmodel_job_duration_seconds_count 1.0" in metrics


def test_job_on_an_endpoint_and_a_version(serve, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    source = _big_iris(data / "in.csv", 300)
    server = serve("--jobs-root", str(data))
    server.deploy("iris", TREE)
    server.deploy("iris", FOREST)          # version 2, not promoted
    spec = {"variants": [{"model": "iris", "version": 1, "weight": 10},
                         {"model": "iris", "version": 2, "weight": 90}]}
    assert server.client.put("/endpoints/ab", json=spec, headers=server.admin).status_code < 300
    a = _submit(server, {"endpoint": "ab", "input": str(source), "output": str(data / "a.csv")})
    b = _submit(server, {"model": "iris", "input": str(source), "output": str(data / "b.csv")})
    assert a.json()["version"] == 2 and b.json()["version"] == 1
    for r in (a, b):
        assert _wait(server, r.json()["id"], ("succeeded", "failed"))["state"] == "succeeded"
    assert (data / "a.csv").read_bytes() == _local(tmp_path, FOREST, source)
    assert (data / "b.csv").read_bytes() == _local(tmp_path, TREE, source)


def test_a_failing_row_fails_the_job_and_writes_nothing(serve, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    source = data / "in.csv"
    source.write_text("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n1,2,x,4\n")
    (data / "out.csv").write_text("old\n")
    server = serve("--jobs-root", str(data))
    server.deploy("iris", FOREST)
    r = _submit(server, {"model": "iris", "input": str(source), "output": str(data / "out.csv")})
    done = _wait(server, r.json()["id"], ("succeeded", "failed"))
    assert done["state"] == "failed" and "row 2" in done["error"], done
    assert (data / "out.csv").read_text() == "old\n"
    assert sorted(os.listdir(data)) == ["in.csv", "out.csv"]


def test_paths_buckets_and_tokens_outside_the_rules_are_refused(serve, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n")
    (data / "link.csv").symlink_to(secret)
    (data / "sub").mkdir()
    server = serve("--jobs-root", str(data), "--jobs-allow", "s3://good/in",
                   "--batch-token", BATCH)
    server.deploy("iris", FOREST)
    ok_out = str(data / "out.csv")
    repo_file = str(tmp_path / "repo" / "repository.sqlite3")
    for source, target in [
        (str(secret), ok_out),                           # outside the root
        (str(data / "link.csv"), ok_out),                # a symlink out of it
        (str(data / "sub" / ".." / ".." / "secret.csv"), ok_out),   # '..' out of it
        ("/etc/passwd", ok_out),
        (repo_file, ok_out),                             # the service's own repository
        (str(data / "link.csv"), str(tmp_path / "x.csv")),
        (str(SAMPLES / "iris.csv"), str(data / "o.csv")),
        ("s3://other/in/x.csv", ok_out),                 # a bucket not allowed
        ("s3://good/input/x.csv", ok_out),               # a prefix that only starts alike
        ("s3://good/in/../secret/x.csv", ok_out),
        ("https://example.com/x.csv", ok_out),
        ("file:///etc/passwd", ok_out),
        (str(data / "in.csv"), "s3://other/out.csv"),
    ]:
        r = _submit(server, {"model": "iris", "input": source, "output": target})
        assert r.status_code == 403, (source, target, r.text)
    body = {"model": "iris", "input": str(data / "in.csv"), "output": ok_out}
    assert server.client.post("/jobs", json=body).status_code == 401
    assert _submit(server, body, token="wrong").status_code == 403
    assert server.client.get("/jobs").status_code == 401
    assert _submit(server, {**body, "options": {"jobs": 8}}).status_code == 400
    assert _submit(server, {**body, "model": "nope"}).status_code == 404
    assert server.client.get("/jobs", headers=server.admin).json()["jobs"] == []


def test_a_cancelled_job_leaves_no_output(serve, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    source = _big_iris(data / "in.csv", 1_000_000)
    server = serve("--jobs-root", str(data))
    server.deploy("iris", FOREST)
    r = _submit(server, {"model": "iris", "input": str(source), "output": str(data / "out.csv"),
                         "options": {"chunk_rows": 20000}})
    job = _wait(server, r.json()["id"], ("running",))
    deadline = time.monotonic() + 60          # progress shows while it runs
    while job["rows_read"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        job = server.client.get(f"/jobs/{job['id']}", headers=server.admin).json()
    assert job["state"] == "running" and 0 < job["rows_read"] < 1_000_000, job
    assert job["rows_scored"] == job["rows_read"] and job["rows_per_second"] > 0
    gone = server.client.delete(f"/jobs/{job['id']}", headers=server.admin)
    assert gone.status_code == 200 and gone.json()["state"] == "cancelled"
    deadline = time.monotonic() + 30   # the child stops and removes its temporary file
    while sorted(os.listdir(data)) != ["in.csv"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(os.listdir(data)) == ["in.csv"]
    assert _wait(server, job["id"], ("cancelled",))["state"] == "cancelled"


def test_a_job_running_at_a_restart_is_run_again(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    source = _big_iris(data / "in.csv", 400_000)
    repo = str(tmp_path / "repo")
    server = start_server(repo, "--jobs-root", str(data))
    try:
        server.deploy("iris", FOREST)
        r = _submit(server, {"model": "iris", "input": str(source),
                             "output": str(data / "out.csv"), "options": {"chunk_rows": 20000}})
        job_id = r.json()["id"]
        _wait(server, job_id, ("running",))
    finally:
        server.stop(signal.SIGKILL)
    assert not (data / "out.csv").exists()
    again = start_server(repo, "--jobs-root", str(data))
    try:
        done = _wait(again, job_id, ("succeeded", "failed"), seconds=240)
        assert done["state"] == "succeeded" and done["attempts"] == 2, done
        assert done["rows_read"] == 400_000
    finally:
        again.stop()
    assert (data / "out.csv").read_bytes() == _local(tmp_path, FOREST, source,
                                                     chunk_rows=20000)


def test_two_replicas_on_postgresql_take_each_job_once(postgres_url, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    source = _big_iris(data / "in.csv", 2000)
    a = start_server(postgres_url, "--jobs-root", str(data))
    b = start_server(postgres_url, "--jobs-root", str(data))
    try:
        a.deploy("iris", FOREST)
        ids = [_submit(a if i % 2 else b, {"model": "iris", "input": str(source),
                                           "output": str(data / f"out{i}.csv")}).json()["id"]
               for i in range(6)]
        expected = _local(tmp_path, FOREST, source)
        for i, job_id in enumerate(ids):
            done = _wait(b, job_id, ("succeeded", "failed"))
            assert done["state"] == "succeeded" and done["attempts"] == 1, done
            assert (data / f"out{i}.csv").read_bytes() == expected
        listed = a.client.get("/jobs", headers=a.admin).json()["jobs"]
        assert sorted(j["id"] for j in listed) == sorted(ids)
    finally:
        a.stop()
        b.stop()


def test_a_job_between_buckets_equals_local_scoring(serve, tmp_path, request):
    pytest.importorskip("moto")
    s3_server = request.getfixturevalue("s3_server")    # the service inherits its environment
    import boto3
    import pyarrow.parquet as pq
    assert s3_server
    client = boto3.client("s3")
    client.create_bucket(Bucket="jobs-bucket")
    local_in = tmp_path / "in.parquet"
    pq.write_table(pacsv.read_csv(_big_iris(tmp_path / "in.csv", 20_000)), local_in)
    client.put_object(Bucket="jobs-bucket", Key="team/in.parquet", Body=local_in.read_bytes())
    server = serve("--jobs-allow", "s3://jobs-bucket/team")
    server.deploy("iris", FOREST)
    r = _submit(server, {"model": "iris", "input": "s3://jobs-bucket/team/in.parquet",
                         "output": "s3://jobs-bucket/team/out.parquet",
                         "options": {"keep": ["species"]}})
    assert r.status_code == 202, r.text
    done = _wait(server, r.json()["id"], ("succeeded", "failed"))
    assert done["state"] == "succeeded", done
    got = client.get_object(Bucket="jobs-bucket", Key="team/out.parquet")["Body"].read()
    assert pq.read_table(pa.BufferReader(got)).equals(
        pq.read_table(pa.BufferReader(_local(tmp_path, FOREST, local_in, ".parquet",
                                             keep=["species"]))))


@pytest.mark.parametrize("args, message", [
    (["--jobs-allow", "bucket-without-scheme"], "URI prefix"),
    (["--jobs-root", "/no/such/folder"], "not a folder"),
])
def test_bad_job_options_are_one_line(tmp_path, args, message):
    import subprocess
    import sys
    from serve_util import ROOT, free_port
    run = subprocess.run([sys.executable, "-m", "portmodel", "serve", "--port", str(free_port()),
                          "--repo", str(tmp_path / "repo"), *args],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.stderr
