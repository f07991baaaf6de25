"""``portmodel score`` from and to buckets of a real S3-compatible server (moto on loopback):
the same bytes (CSV, JSON Lines) or values (Parquet) as scoring local files with the same
options; an interrupted or failing run leaves no object and keeps an existing one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from portmodel import storage
from s3_util import bucket, get, keys, put, s3, s3_server

__all__ = ["bucket", "s3_server"]   # fixtures used below

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FOREST = SAMPLES / "iris_forest.pmml"


def _run(*args: str, wait: bool = True, **kw):
    cmd = [sys.executable, "-m", "portmodel", "score", *args]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, **kw)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


def _iris(rows: int) -> pa.Table:
    table = pacsv.read_csv(SAMPLES / "iris.csv")
    return pa.concat_tables([table] * (-(-rows // table.num_rows))).slice(0, rows)


def _csv_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("suffix, options", [
    (".csv", ["--keep", "species", "--on-error", "skip", "--jobs", "2", "--chunk-rows", "300"]),
    (".csv.gz", ["--on-error", "record", "--chunk-rows", "100"]),
    (".jsonl", ["--keep-all", "--jobs", "2", "--chunk-rows", "200"]),
    (".parquet", ["--keep", "species", "--on-error", "skip"]),
])
def test_scoring_between_buckets_equals_local_scoring(bucket, tmp_path, suffix, options):
    table = _iris(1000)
    local_in = tmp_path / f"in{suffix}"
    if suffix == ".parquet":
        pq.write_table(table, local_in)
    elif suffix == ".jsonl":
        local_in.write_text("".join(__import__("json").dumps(r) + "\n" for r in table.to_pylist()))
    else:
        data = _csv_bytes(table).replace(b"\n5.1,", b"\nbad,", 1)   # one row rejected
        local_in.write_bytes(__import__("gzip").compress(data) if suffix.endswith(".gz") else data)
    put(bucket, f"data/in{suffix}", local_in.read_bytes())
    put(bucket, "models/forest.pmml", FOREST.read_bytes())
    local_out = tmp_path / f"out{suffix}"
    ran = _run(str(FOREST), str(local_in), "-o", str(local_out), "--quiet", *options)
    assert ran.returncode == 0, ran.stderr
    remote = _run(f"s3://{bucket}/models/forest.pmml", f"s3://{bucket}/data/in{suffix}",
                  "-o", f"s3://{bucket}/out/scored{suffix}", *options)
    assert remote.returncode == 0, remote.stderr
    assert "read 1000 rows" in remote.stderr
    got = get(bucket, f"out/scored{suffix}")
    if suffix == ".parquet":
        assert pq.read_table(pa.BufferReader(got)).equals(pq.read_table(local_out))
    elif suffix.endswith(".gz"):
        import gzip
        assert gzip.decompress(got) == gzip.decompress(local_out.read_bytes())
    else:
        assert got == local_out.read_bytes()


@pytest.mark.slow
def test_a_million_row_csv_between_buckets(bucket, tmp_path):
    local_in = tmp_path / "in.csv"
    pacsv.write_csv(_iris(1_000_000), local_in)
    put(bucket, "in.csv", local_in.read_bytes())
    ran = _run(str(FOREST), str(local_in), "-o", str(tmp_path / "out.csv"), "--quiet",
               "--keep", "species")
    assert ran.returncode == 0, ran.stderr
    remote = _run(str(FOREST), f"s3://{bucket}/in.csv", "-o", f"s3://{bucket}/out.csv",
                  "--keep", "species")
    assert remote.returncode == 0, remote.stderr
    assert get(bucket, "out.csv") == (tmp_path / "out.csv").read_bytes()


def _wait_for_upload(bucket: str, proc, seconds: float = 120) -> None:
    """Until the run has sent parts of its multipart upload."""
    deadline = time.monotonic() + seconds
    while not s3().list_multipart_uploads(Bucket=bucket).get("Uploads"):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no upload started"
        time.sleep(0.05)


@pytest.fixture
def big_input(bucket, tmp_path):
    """400,000 rows (with every column kept, an output of several upload parts)."""
    local_in = tmp_path / "in.csv"
    pacsv.write_csv(_iris(400_000), local_in)
    put(bucket, "in.csv", local_in.read_bytes())
    put(bucket, "out.csv", b"old complete output\n")
    return f"s3://{bucket}/in.csv"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_run_leaves_no_object(bucket, big_input, sig):
    proc = _run(str(FOREST), big_input, "-o", f"s3://{bucket}/out.csv", "--keep-all",
                "--chunk-rows", "20000", "--jobs", "1", wait=False)
    _wait_for_upload(bucket, proc)
    proc.send_signal(sig)
    proc.wait(60)
    assert proc.returncode != 0
    assert get(bucket, "out.csv") == b"old complete output\n"
    assert keys(bucket) == ["in.csv", "out.csv"]
    uploads = s3().list_multipart_uploads(Bucket=bucket).get("Uploads") or []
    if sig != signal.SIGKILL:       # a clean stop aborts its upload; a killed one cannot
        assert uploads == []
        assert "no output written" in proc.stderr.read().decode()


def test_a_rejected_row_under_on_error_fail_leaves_no_object(bucket, tmp_path):
    table = _iris(400_000)
    data = _csv_bytes(table)
    tail = data.rfind(b"\n5.1,", 0, len(data) - 10)
    data = data[:tail] + b"\nbad," + data[tail + 5:]          # a row near the end
    put(bucket, "in.csv", data)
    put(bucket, "out.csv", b"old complete output\n")
    ran = _run(str(FOREST), f"s3://{bucket}/in.csv", "-o", f"s3://{bucket}/out.csv",
               "--keep-all", "--chunk-rows", "20000", "--jobs", "1")
    assert ran.returncode == 1 and "row 399999" in ran.stderr and "cannot parse" in ran.stderr
    assert get(bucket, "out.csv") == b"old complete output\n"
    assert not s3().list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_remote_problems_are_one_line(bucket):
    for args, message in [
        ((str(FOREST), f"s3://{bucket}/absent.csv", "-o", f"s3://{bucket}/o.csv"),
         "does not exist"),
        ((f"s3://{bucket}/absent.pmml", str(SAMPLES / "iris.csv"), "-o", f"s3://{bucket}/o.csv"),
         "does not exist"),
        ((str(FOREST), str(SAMPLES / "iris.csv"), "-o", "s3://no-such-bucket-x/o.csv"),
         "not reachable"),
        ((str(FOREST), str(SAMPLES / "iris.csv"), "-o", "https://example.com/o.csv"),
         "read-only"),
    ]:
        ran = _run(*args)
        assert ran.returncode == 1, ran.stderr
        lines = ran.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], ran.stderr
    assert keys(bucket) == []
    assert storage.is_remote(f"s3://{bucket}/x") and not storage.is_remote("/tmp/x.csv")
