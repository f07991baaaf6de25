"""Where numba keeps portmodel's compiled kernels between processes.

The kernels are compiled with ``cache=True``: the first process compiles them (seconds), later
ones load them from disk. numba writes that cache next to the kernel's module (``__pycache__``),
which an ordinary install cannot always do: a system or container site-packages is often not
writable by the user who scores. Then portmodel points numba at a folder in the user's cache
directory (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
``%LOCALAPPDATA%`` on Windows, then ``portmodel/numba``), so that the second process is as fast
there as in a development checkout. ``NUMBA_CACHE_DIR``, when set, always wins.

numba has a single cache-folder setting for the whole process (``numba.config.CACHE_DIR``):
once portmodel sets it, other numba users in that process cache there too; they would
otherwise also have fallen back to a user folder, since it is only set where the package
folder is not writable.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Mapping


def user_cache_dir(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """The platform's per-user cache folder for portmodel's numba kernels."""
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform == "win32":
        base = Path(env["LOCALAPPDATA"]) if env.get("LOCALAPPDATA") else home / "AppData" / "Local"
    elif platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
    return base / "portmodel" / "numba"


def writable(folder: Path) -> bool:
    """Whether numba can write its cache next to the modules in folder (as numba checks it: a
    __pycache__ folder that exists or can be made, and takes a file)."""
    cache = folder / "__pycache__"
    try:
        cache.mkdir(exist_ok=True)
        tempfile.TemporaryFile(dir=cache).close()
        return True
    except OSError:
        return False


def cache_dir(folder: Path, env: Mapping[str, str] = os.environ,
              platform: str = sys.platform) -> Path | None:
    """The folder numba should cache the kernels of modules in ``folder`` in; None where numba's
    own choice is right (NUMBA_CACHE_DIR set, or the package folder writable)."""
    if env.get("NUMBA_CACHE_DIR"):
        return None
    if writable(folder):
        return None
    return user_cache_dir(env, platform)


def configure(module_file: str) -> None:
    """Called by each kernel module before it defines its kernels (numba picks a kernel's cache
    folder when the kernel is defined)."""
    target = cache_dir(Path(module_file).resolve().parent)
    if target is None:
        return
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        return                      # nowhere to cache: numba compiles in each process
    import numba
    if not numba.config.CACHE_DIR:
        numba.config.CACHE_DIR = str(target)
        os.environ.setdefault("NUMBA_CACHE_DIR", str(target))   # (worker processes)
