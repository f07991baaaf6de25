"""An S3-compatible server on loopback for the object-storage tests: moto's server mode
(``moto[server]``, dev extra) in its own process on a free port, and a fresh bucket per test.

The fixture sets the AWS SDKs' standard environment (``AWS_ENDPOINT_URL``, fake credentials,
region) for the test process and for every subprocess it starts, so the code under test finds
the server the way it would find any S3-compatible store.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """The endpoint URL of a moto S3 server, with the AWS environment pointing at it."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    env = {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto server did not start")
            time.sleep(0.1)
        yield url
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.fixture
def bucket(s3_server):
    """A fresh, empty bucket's name."""
    name = "b-" + uuid.uuid4().hex[:12]
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def s3():
    return boto3.client("s3")


def keys(bucket: str) -> list[str]:
    """The objects in a bucket, by key."""
    return sorted(o["Key"] for o in s3().list_objects_v2(Bucket=bucket).get("Contents", []))


def get(bucket: str, key: str) -> bytes:
    return s3().get_object(Bucket=bucket, Key=key)["Body"].read()


def put(bucket: str, key: str, data: bytes) -> None:
    s3().put_object(Bucket=bucket, Key=key, Body=data)
