"""Worker processes for batch scoring that never outlive the run that started them.

A ProcessPoolExecutor's workers wait on a queue whose write end they hold themselves, so when the
parent is killed (SIGKILL leaves it no chance to shut the pool down) they would wait forever,
each holding a compiled model. Every worker therefore:

- asks the kernel for SIGKILL when its parent process dies (Linux ``PR_SET_PDEATHSIG``; the
  parent of a worker is the forkserver, which itself exits when the run's process is gone), and
- runs a watchdog thread that polls whether the run's process still exists and exits at once
  when it does not (every platform; covers the window before the signal was armed).

The resource tracker exits by itself once every process holding its pipe is gone.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

from .output import pid_alive

WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent exits."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def watch_run(run_pid: int, interval: float = WATCH_SECONDS) -> None:
    """Exit this process (at once, no cleanup: nothing of it is worth keeping) when the process
    run_pid is gone."""
    def watch() -> None:
        while pid_alive(run_pid):
            time.sleep(interval)
        os._exit(1)
    if not pid_alive(run_pid):
        os._exit(1)
    threading.Thread(target=watch, name="portmodel-watchdog", daemon=True).start()


def guard_worker(run_pid: int) -> None:
    """Call first in a worker: tie its life to the run's process."""
    die_with_parent()
    # the signal is armed for the *current* parent: if it died before, nobody would send it
    watch_run(run_pid)
