"""Files on object storage: read and write ``s3://``, ``gs://``, ``abfs://`` and ``https://`` URIs.

Every remote access goes through a maintained client library, never a hand-written protocol:

- ``s3://bucket/key``: reads through ``pyarrow.fs.S3FileSystem`` (random access, so Parquet
  footers are read without downloading the object); writes through boto3's multipart upload
  (the ``cloud`` extra). Credentials, region and endpoint come from the AWS SDKs' standard
  environment and configuration files (``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ``AWS_REGION``,
  ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` for S3-compatible stores such as MinIO).
- ``gs://`` and ``abfs://`` / ``az://``: through fsspec's gcsfs and adlfs when they are installed
  (their own credential chains); otherwise a one-line error names the package to install.
- ``https://`` and ``http://``: read only (urllib; a Parquet object is spooled to a temporary file
  because its footer is at the end).

Nothing partial becomes visible. An S3 output is written as a multipart upload that is completed
only by ``commit()`` (a small output is one PUT at commit); ``abort()`` (a failing row, Ctrl-C,
SIGTERM) aborts the upload. S3 replaces an object atomically when an upload completes, so an
existing object is replaced only by a complete one. A process killed with SIGKILL cannot abort
its upload: the parts stay invisible (no object appears) and are billed until a bucket lifecycle
rule (``AbortIncompleteMultipartUpload``) removes them. pyarrow's own S3 output stream is not used
for writing because it completes the upload when it is closed or collected, even after an error.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from .errors import PortmodelError

SCHEMES = ("s3", "gs", "gcs", "abfs", "abfss", "az", "https", "http")
_FSSPEC_PACKAGES = {"gs": "gcsfs", "gcs": "gcsfs", "abfs": "adlfs", "abfss": "adlfs", "az": "adlfs"}
#: bytes per uploaded part (S3 wants at least 5 MiB for every part but the last)
PART_SIZE = 8 << 20


class StorageError(PortmodelError):
    """A remote file cannot be read or written: unknown scheme, missing package, no such object."""


def is_remote(path: Any) -> bool:
    """Whether ``path`` is a URI of a supported remote scheme (not a local path, not ``-``)."""
    if not isinstance(path, str) or "://" not in path:
        return False
    return path.split("://", 1)[0].lower() in SCHEMES


def _split(uri: str) -> tuple[str, str, str]:
    """(scheme, bucket, key) of a URI; the key without its leading slash."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise StorageError(f"{uri!r}: unsupported scheme {scheme!r}; use s3://, gs://, abfs:// "
                           f"or https://")
    key = parts.path.lstrip("/")
    if scheme not in ("http", "https") and (not parts.netloc or not key):
        raise StorageError(f"{uri!r}: a URI names a bucket and an object, "
                           f"e.g. {scheme}://bucket/path/file.csv")
    return scheme, parts.netloc, key


def suffix_path(uri: str) -> str:
    """The part of a URI whose suffixes tell the format (no query string or fragment)."""
    return urlsplit(uri).path if is_remote(uri) else uri


# ------------------------------------------------------------------ S3

def s3_endpoint() -> str | None:
    """The S3 endpoint the AWS SDKs' standard environment names (None: AWS itself)."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _s3_filesystem():
    from pyarrow import fs
    kwargs: dict[str, Any] = {}
    endpoint = s3_endpoint()
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
        kwargs["endpoint_override"] = parts.netloc
        kwargs["scheme"] = parts.scheme
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    return fs.S3FileSystem(**kwargs)


def _s3_client():
    try:
        import boto3
    except ImportError:
        raise StorageError("writing to s3:// needs boto3: pip install 'portmodel[cloud]'") from None
    # boto3 reads credentials, region and AWS_ENDPOINT_URL(_S3) itself; passed for older SDKs
    return boto3.client("s3", endpoint_url=s3_endpoint())


def _fsspec(scheme: str):
    package = _FSSPEC_PACKAGES[scheme]
    try:
        import fsspec
        return fsspec.filesystem(scheme)
    except ImportError:
        raise StorageError(f"{scheme}:// needs the {package} package: pip install {package}") from None


def _reading_error(uri: str, exc: BaseException) -> StorageError:
    text = " ".join(str(exc).split())
    if isinstance(exc, FileNotFoundError) or "NoSuchKey" in text or "does not exist" in text \
            or "Path does not exist" in text or "404" in text:
        return StorageError(f"{uri!r} does not exist")
    return StorageError(f"cannot read {uri!r}: {text or type(exc).__name__}")


# ------------------------------------------------------------------ reading

def open_input_stream(uri: str) -> pa.NativeFile:
    """A sequential byte stream of a remote object (CSV, JSON Lines; compressed or not)."""
    scheme, bucket, key = _split(uri)
    try:
        if scheme == "s3":
            return _s3_filesystem().open_input_stream(f"{bucket}/{key}", compression=None)
        if scheme in ("http", "https"):
            import urllib.request
            return pa.PythonFile(urllib.request.urlopen(uri, timeout=60), mode="r")  # noqa: S310
        return pa.PythonFile(_fsspec(scheme).open(f"{bucket}/{key}", "rb"), mode="r")
    except StorageError:
        raise
    except Exception as exc:  # noqa: BLE001 - every client's own error, reported in one line
        raise _reading_error(uri, exc) from None


def open_input_file(uri: str) -> pa.NativeFile:
    """A random-access file of a remote object (Parquet reads its footer first)."""
    scheme, bucket, key = _split(uri)
    try:
        if scheme == "s3":
            return _s3_filesystem().open_input_file(f"{bucket}/{key}")
        if scheme in ("http", "https"):
            spool = tempfile.TemporaryFile()   # noqa: SIM115 - closed with the returned file
            with open_input_stream(uri) as src:
                while True:
                    block = src.read(1 << 20)
                    if not block:
                        break
                    spool.write(block)
            spool.seek(0)
            return pa.PythonFile(spool, mode="r")
        return pa.PythonFile(_fsspec(scheme).open(f"{bucket}/{key}", "rb"), mode="r")
    except StorageError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _reading_error(uri, exc) from None


def read_bytes(uri: str) -> bytes:
    """The whole content of a remote object (a model document)."""
    with open_input_stream(uri) as stream:
        try:
            blocks = []
            while True:
                block = stream.read(1 << 20)   # in blocks: an HTTP body has no size to seek
                if not block:
                    return b"".join(blocks)
                blocks.append(block)
        except Exception as exc:  # noqa: BLE001
            raise _reading_error(uri, exc) from None


def size(uri: str) -> int | None:
    """An object's size in bytes, when the store says (for a progress estimate)."""
    scheme, bucket, key = _split(uri)
    try:
        if scheme == "s3":
            return _s3_filesystem().get_file_info(f"{bucket}/{key}").size
    except Exception:  # noqa: BLE001 - only an estimate
        return None
    return None


# ------------------------------------------------------------------ writing

class _S3Upload(io.RawIOBase):
    """A writable file whose bytes become one S3 object only at ``finish()``."""

    def __init__(self, uri: str, bucket: str, key: str):
        super().__init__()
        self.uri, self.bucket, self.key = uri, bucket, key
        self.client = _s3_client()
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self._check_bucket()

    def _check_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001
            raise StorageError(f"cannot write {self.uri!r}: bucket {self.bucket!r} is not "
                               f"reachable ({' '.join(str(exc).split())})") from None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        while len(self.buffer) >= PART_SIZE:
            self._send(bytes(self.buffer[:PART_SIZE]))
            del self.buffer[:PART_SIZE]
        return len(data)

    def _send(self, part: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self.parts) + 1
        reply = self.client.upload_part(Bucket=self.bucket, Key=self.key, PartNumber=number,
                                        UploadId=self.upload_id, Body=part)
        self.parts.append({"PartNumber": number, "ETag": reply["ETag"]})

    def close(self) -> None:
        """Closing the stream (as writers do) neither completes nor aborts the upload."""
        super().close()

    def finish(self) -> None:
        """Make the object appear: one PUT if small, else the last part and completion."""
        if self.upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer))
        else:
            if self.buffer or not self.parts:
                self._send(bytes(self.buffer))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts})
        self.buffer = bytearray()
        self.upload_id = None

    def cancel(self) -> None:
        """Drop everything sent so far: the object does not appear, an old one stays."""
        self.buffer = bytearray()
        if self.upload_id is not None:
            upload, self.upload_id = self.upload_id, None
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload)


class _FsspecUpload(io.RawIOBase):
    """gs:// or abfs:// through fsspec: its buffered file commits on close, ``discard`` drops."""

    def __init__(self, uri: str, scheme: str, bucket: str, key: str):
        super().__init__()
        self.file = _fsspec(scheme).open(f"{bucket}/{key}", "wb")

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self.file.write(data)

    def finish(self) -> None:
        self.file.close()

    def cancel(self) -> None:
        discard = getattr(self.file, "discard", None)
        if discard is not None:
            discard()


class RemoteOutput:
    """A binary sink for one run's remote output: ``commit()`` makes the object appear,
    ``abort()`` leaves nothing (the same interface as the local atomic output file).

    ``compression``: "gzip", "bz2" or "zstd" compresses the bytes (chosen by the suffix).
    """

    def __init__(self, uri: str, compression: str | None = None):
        scheme, bucket, key = _split(uri)
        self.path = uri
        if scheme in ("http", "https"):
            raise StorageError(f"{uri!r}: https:// is read-only; write to s3://, gs:// or abfs://")
        if key.endswith("/"):
            raise StorageError(f"output {uri!r} names a folder, not an object")
        self._upload = _S3Upload(uri, bucket, key) if scheme == "s3" \
            else _FsspecUpload(uri, scheme, bucket, key)
        self._raw = pa.PythonFile(self._upload, mode="w")
        self.sink = pa.CompressedOutputStream(self._raw, compression) if compression else self._raw
        self.done = False

    def write(self, data: bytes) -> None:
        self.sink.write(data)

    def commit(self) -> None:
        """Flush (a compressed stream's trailer too), then complete the upload."""
        if self.sink is not self._raw:
            self.sink.close()
        if not self._raw.closed:
            self._raw.close()
        try:
            self._upload.finish()
        except Exception as exc:  # noqa: BLE001
            self.abort()
            raise StorageError(f"cannot write {self.path!r}: {' '.join(str(exc).split())}") \
                from None
        self.done = True

    def abort(self) -> None:
        """Abort the upload: no object appears and an existing one stays as it was."""
        if self.done:
            return
        for closing in (self.sink, self._raw):
            try:
                if not closing.closed:
                    closing.close()
            except Exception:  # noqa: BLE001 - already failing
                pass
        try:
            self._upload.cancel()
        except Exception:  # noqa: BLE001 - parts left are invisible; a lifecycle rule removes them
            pass
        self.done = True


def copy_to_local(uri: str, path: str) -> None:
    """Download a remote object to a local file (used by tests and tools)."""
    with open_input_stream(uri) as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
