"""Blocks of rows for the dense kernels: many float columns as one flat buffer
(``column_block``), and ``run_blocks``, which scores blocks of rows on every core."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def column_block(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Equally long float64 columns as one flat buffer and each column's offset in it
    (column f, row i at ``flat[offsets[f] + i]``), for kernels that read many columns.

    Columns that are the rows of one array (a DataFrame's float block, as ``to_numpy()`` of its
    columns gives them) are read in place; others are copied into a new buffer."""
    n = len(arrays[0]) if arrays else 0
    base = arrays[0].base if arrays else None
    if n and base is not None and all(
            a.base is base and a.dtype == np.float64 and a.ndim == 1 and len(a) == n
            and a.strides == (8,) for a in arrays):
        ptrs = np.array([a.__array_interface__["data"][0] for a in arrays], np.int64)
        lo = int(ptrs.min())
        span = (int(ptrs.max()) - lo) // 8 + n
        if ((ptrs - lo) % 8 == 0).all():
            first = arrays[int(np.argmin(ptrs))]
            flat = np.lib.stride_tricks.as_strided(first, (span,), (8,), writeable=False)
            return flat, (ptrs - lo) // 8
    flat = np.empty(len(arrays) * n)
    for f, a in enumerate(arrays):
        flat[f * n:(f + 1) * n] = a
    return flat, np.arange(len(arrays), dtype=np.int64) * n


def user_float_columns(names: list[str], scope: Any) -> tuple[list[np.ndarray], list[str]] | None:
    """The user's float64 columns of the named fields, read in place (no column or mask built
    per field), and each field's data type ("double": the value as given; "float": the document
    rounds it to float32); None unless every field is a plain double or float input of the batch
    that the model's MiningField passes through unchanged and nothing computed in this call.
    A NaN in such a column is a missing value. (A model's scope right below the batch's input
    scope: ``passthrough_float_columns`` with the model's MiningFields required.)"""
    if not names or getattr(scope.parent, "columns", None) is None or \
            not all(getattr(scope.defs.get(name), "passthrough", False) for name in names):
        return None
    return passthrough_float_columns(names, scope)


def passthrough_float_columns(names: list[str], scope: Any) \
        -> tuple[list[np.ndarray], list[str]] | None:
    """``user_float_columns`` for a scope any number of levels below the batch's input scope
    (a segment's trees read through their MiningModel's scope): each level on the way must
    pass the field through unchanged (a MiningField that changes nothing) and hold no value
    computed in this call."""
    if not names:
        return None
    cols: list[np.ndarray] = []
    kinds: list[str] = []
    for name in names:
        level = scope
        while not hasattr(level, "columns"):     # (the batch's input scope has the columns)
            fn = level.defs.get(name)
            if name in level.cache or (fn is not None and not getattr(fn, "passthrough", False)):
                return None
            level = level.parent
            if level is None:
                return None
        kind = getattr(level.defs.get(name), "raw_float", None)
        raw = level.columns.get(name)
        if kind is None or name in level.cache or type(raw) is not np.ndarray or \
                raw.dtype != np.float64 or raw.ndim != 1 or len(raw) != scope.n:
            return None
        cols.append(raw)
        kinds.append(kind)
    return cols, kinds


def cores() -> int:
    """Threads the blocks may run on: the CPUs this process may run on, or fewer when
    NUMBA_NUM_THREADS asks for fewer (numba's own setting for its parallel loops: one setting
    limits every thread portmodel's kernels start)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    limit = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if limit.isdigit() and int(limit) > 0:
        return min(cpus, int(limit))
    return cpus


def _pool() -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max(1, cores() - 1),
                                            thread_name_prefix="portmodel-blocks"))
        return _POOL[0]


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads (and maybe a lock held by one of them)."""
    global _POOL_LOCK
    _POOL.clear()
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def even_block(n: int, block: int, align: int = 8) -> int:
    """A block size near ``block`` (not above it unless by alignment) that splits n rows into a
    number of blocks every core gets alike (a multiple of ``cores()``), rounded up to
    ``align`` rows (whole vectors; for a batch of a few rows per core that may drop a block):
    with 25 blocks of 4,096 rows on two cores, one core scores a 13th block while the other
    waits; 26 blocks of 3,848 rows end together."""
    if n <= block:
        return max(n, 1)
    threads = cores()
    count = -(-n // block)
    count += -count % threads
    size = -(-n // count)
    return size + -size % align


def run_blocks(n: int, block: int, fn: Callable[[int, int], None]) -> None:
    """fn(lo, hi) for the blocks [lo, hi) of ``block`` rows covering range(n), on every core.

    The calling thread and a helper thread per further core each take the next block when done
    with one, so a core that is busy with other work simply takes fewer blocks (rather than
    holding everyone up, as a static split or spinning worker threads would). fn must release
    the GIL for its heavy steps (nogil numba kernels, numpy ufuncs on large arrays) and write
    only its own rows. Calls may nest or come from several threads at once: the caller never
    waits for a helper that has not started. When a block raises, no further block starts and
    the exception is raised here once the blocks under way are done."""
    bounds = [(lo, min(n, lo + block)) for lo in range(0, n, max(1, block))]
    helpers = min(cores(), len(bounds)) - 1
    if helpers <= 0:
        for lo, hi in bounds:
            fn(lo, hi)
        return
    blocks = iter(bounds)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                nxt = None if errors else next(blocks, None)
            if nxt is None:
                return
            try:
                fn(*nxt)
            except BaseException as exc:  # noqa: BLE001 - raised by the caller below
                with lock:
                    errors.append(exc)

    futures = [_pool().submit(work) for _ in range(helpers)]
    work()
    for fut in futures:
        if not fut.cancel():    # a helper that never started has nothing left to do
            fut.result()
    if errors:
        raise errors[0]
