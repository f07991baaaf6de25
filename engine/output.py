"""Where a batch run's output goes: an atomic file, a special file, or standard output.

A regular file (or a path that does not exist yet) is written to a temporary ``.partial`` file
beside it and renamed over it only when every row has been scored, so a failed or interrupted
run leaves the previous file as it was. A symbolic link is followed: the temporary file goes
beside the link's target and replaces the target, so the link keeps pointing at the new content.
Special files (``/dev/null``, a terminal, a FIFO whose reader is waiting) cannot be replaced:
they are written to directly.

A new file gets the mode the umask gives (``0o666 & ~umask``); a replaced file keeps its mode.
The temporary file's name carries the writer's process id, so a later run into the same folder
can remove the partial files of runs that were killed (SIGKILL leaves no chance to clean up)
without touching those of runs still going.
"""
from __future__ import annotations

import os
import re
import secrets
import stat
import sys
from typing import BinaryIO

from .errors import PortmodelError

_PARTIAL = re.compile(r"^\..+\.pm(\d+)-[0-9a-f]{8}\.partial$")


class OutputError(PortmodelError):
    """The output path cannot be written as asked (folder missing, the input itself, ...)."""


def _umask() -> int:
    """The process umask, without the race of setting it (Linux reads it from /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)   # elsewhere: read it by setting it (restored at once)
    os.umask(mask)
    return mask


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True          # someone else's process: alive
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def remove_stale_partials(folder: str) -> list[str]:
    """Remove the ``.partial`` files in folder whose writing process is gone; return them."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _PARTIAL.match(name)
        if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
            path = os.path.join(folder, name)
            try:
                if stat.S_ISREG(os.lstat(path).st_mode):
                    os.unlink(path)
                    removed.append(path)
            except OSError:
                pass
    return removed


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file (through symlinks, ``..``, hard links)."""
    if a == "-" or b == "-":
        return False
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class OutputFile:
    """A binary sink for one run's output: ``commit()`` makes it appear, ``abort()`` drops it.

    ``compression``: "gzip", "bz2" or "zstd" compresses the bytes (chosen by the suffix).
    """

    def __init__(self, path: str, compression: str | None = None):
        self.path = path
        self.tmp: str | None = None
        self.direct = False
        if path == "-":
            raw: BinaryIO = sys.stdout.buffer
            self.direct = True
        else:
            target = os.path.realpath(path)     # a symlink: replace its target, keep the link
            folder = os.path.dirname(target)
            if not os.path.isdir(folder):
                raise OutputError(f"output folder {os.path.dirname(os.path.abspath(path))!r} "
                                  f"does not exist")
            try:
                st = os.stat(target)
            except FileNotFoundError:
                st = None
            if st is not None and stat.S_ISDIR(st.st_mode):
                raise OutputError(f"output {path!r} is a folder")
            if st is not None and not stat.S_ISREG(st.st_mode):
                # a device, FIFO or socket: renaming over it would destroy it
                raw = open(target, "wb")   # noqa: SIM115 - closed by commit/abort
                self.direct = True
            else:
                remove_stale_partials(folder)
                mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
                name = f".{os.path.basename(target)}.pm{os.getpid()}-{secrets.token_hex(4)}.partial"
                self.tmp = os.path.join(folder, name)
                fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.fchmod(fd, mode)
                raw = os.fdopen(fd, "wb")
                self.target = target
        self._raw = raw
        if compression:
            import pyarrow as pa
            self.sink = pa.CompressedOutputStream(raw, compression)
        else:
            self.sink = raw

    def write(self, data: bytes) -> None:
        self.sink.write(data)

    def commit(self) -> None:
        """Flush, then make the output appear (rename over the target)."""
        fd = os.dup(self._raw.fileno()) if self.tmp is not None else None
        try:
            if self.sink is not self._raw:
                self.sink.close()      # the compressed stream's trailer (closes the file too)
            if not self._raw.closed:
                self._raw.flush()
                if self._raw is not sys.stdout.buffer:
                    self._raw.close()
            if fd is not None:
                os.fsync(fd)
        finally:
            if fd is not None:
                os.close(fd)
        if self.tmp is not None:
            os.replace(self.tmp, self.target)
            self.tmp = None

    def abort(self) -> None:
        """Drop the temporary file (a special file or stdout keeps what it was sent)."""
        try:
            if self.sink is not self._raw:
                self.sink.close()
        except Exception:  # noqa: BLE001 - already failing
            pass
        if self._raw is not sys.stdout.buffer:
            try:
                self._raw.close()
            except Exception:  # noqa: BLE001
                pass
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self.tmp = None
