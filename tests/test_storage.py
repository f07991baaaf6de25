"""The object-storage layer against a real S3-compatible server (moto, on loopback): objects
appear only when complete, an aborted upload leaves nothing and keeps the old object."""
from __future__ import annotations

import gzip
import importlib.util

import pyarrow as pa
import pytest

from portmodel import storage
from s3_util import bucket, get, keys, put, s3, s3_server

__all__ = ["bucket", "s3_server"]   # fixtures used below


def test_small_and_multipart_outputs_appear_on_commit(bucket):
    small = storage.RemoteOutput(f"s3://{bucket}/small.csv")
    small.write(b"a,b\n1,2\n")
    assert keys(bucket) == []
    small.commit()
    big_data = bytes(range(256)) * ((2 * storage.PART_SIZE + 12345) // 256)
    big = storage.RemoteOutput(f"s3://{bucket}/dir/big.bin")
    for i in range(0, len(big_data), 1 << 20):
        big.write(big_data[i:i + (1 << 20)])
    assert keys(bucket) == ["small.csv"]        # parts sent, nothing visible yet
    big.commit()
    assert get(bucket, "small.csv") == b"a,b\n1,2\n"
    assert get(bucket, "dir/big.bin") == big_data
    with storage.open_input_file(f"s3://{bucket}/dir/big.bin") as f:
        assert f.size() == len(big_data)
        f.seek(len(big_data) - 5)
        assert f.read() == big_data[-5:]


def test_compressed_output_round_trips(bucket):
    out = storage.RemoteOutput(f"s3://{bucket}/x.csv.gz", "gzip")
    out.write(b"x\n" * 1000)
    out.commit()
    assert gzip.decompress(get(bucket, "x.csv.gz")) == b"x\n" * 1000
    stream = pa.CompressedInputStream(storage.open_input_stream(f"s3://{bucket}/x.csv.gz"), "gzip")
    assert stream.read() == b"x\n" * 1000


def test_abort_leaves_no_object_and_keeps_the_old_one(bucket):
    put(bucket, "out.bin", b"old")
    out = storage.RemoteOutput(f"s3://{bucket}/out.bin")
    out.write(b"n" * (storage.PART_SIZE * 2 + 1))     # two parts already uploaded
    out.abort()
    assert get(bucket, "out.bin") == b"old"
    assert not s3().list_multipart_uploads(Bucket=bucket).get("Uploads")
    fresh = storage.RemoteOutput(f"s3://{bucket}/new.bin")
    fresh.write(b"n" * 100)
    fresh.abort()
    assert keys(bucket) == ["out.bin"]


def test_problems_are_one_line_errors(bucket):
    with pytest.raises(storage.StorageError, match="does not exist"):
        storage.read_bytes(f"s3://{bucket}/absent.pmml")
    with pytest.raises(storage.StorageError, match="not reachable"):
        storage.RemoteOutput("s3://no-such-bucket-here/x.csv")
    with pytest.raises(storage.StorageError, match="read-only"):
        storage.RemoteOutput("https://example.com/x.csv")
    with pytest.raises(storage.StorageError, match="bucket and an object"):
        storage.open_input_stream("s3://just-a-bucket")
    if importlib.util.find_spec("gcsfs") is None:
        with pytest.raises(storage.StorageError, match="pip install gcsfs"):
            storage.open_input_stream("gs://bucket/x.csv")
    if importlib.util.find_spec("adlfs") is None:
        with pytest.raises(storage.StorageError, match="pip install adlfs"):
            storage.RemoteOutput("abfs://container/x.csv")


def test_https_is_read(tmp_path):
    """A read-only https:// (here http:// on loopback) input, streamed and spooled."""
    import functools
    import http.server
    import threading
    (tmp_path / "f.bin").write_bytes(b"0123456789" * 1000)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/f.bin"
        assert storage.read_bytes(url) == b"0123456789" * 1000
        with storage.open_input_file(url) as f:
            f.seek(9995)
            assert f.read() == b"56789"
        with pytest.raises(storage.StorageError, match="does not exist"):
            storage.read_bytes(url + ".absent")
    finally:
        httpd.shutdown()
