"""kernels.run_blocks: the blocks of rows the dense models score on every core."""
from __future__ import annotations

import multiprocessing
import sys
import threading

import numpy as np
import pytest

from portmodel.pmml.models import row_blocks as kernels


@pytest.mark.parametrize("n,block", [(0, 4), (1, 4), (8, 4), (9, 4), (1000, 7), (5, 1000)])
def test_every_row_is_covered_once(n, block):
    seen = np.zeros(n, np.int64)
    lock = threading.Lock()
    spans = []

    def fn(lo, hi):
        assert 0 <= lo < hi <= n and hi - lo <= block
        with lock:
            seen[lo:hi] += 1
            spans.append((lo, hi))

    kernels.run_blocks(n, block, fn)
    assert (seen == 1).all()
    assert sorted(spans) == [(lo, min(n, lo + block)) for lo in range(0, n, block)]


def test_numba_num_threads_limits_the_threads(monkeypatch):
    """NUMBA_NUM_THREADS=1 runs every block on the calling thread (what a caller pinning
    numba to one thread expects); unset or invalid, the blocks use the CPUs."""
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    assert kernels.cores() == 1
    threads = set()
    kernels.run_blocks(100, 3, lambda lo, hi: threads.add(threading.get_ident()))
    assert threads == {threading.get_ident()}
    monkeypatch.setenv("NUMBA_NUM_THREADS", "x")
    cpus = kernels.cores()
    assert cpus >= 1
    monkeypatch.delenv("NUMBA_NUM_THREADS")
    assert kernels.cores() == cpus
    monkeypatch.setenv("NUMBA_NUM_THREADS", "100000")
    assert kernels.cores() == cpus


def test_an_exception_in_a_block_stops_the_rest_and_is_raised():
    done = []
    running = []

    def fn(lo, hi):
        running.append(lo)
        if lo == 30:
            raise ValueError("block 30")
        done.append(lo)
        running.remove(lo)

    with pytest.raises(ValueError, match="block 30"):
        kernels.run_blocks(1000, 10, fn)
    assert running == [30]                  # nothing still under way when the caller resumes
    assert {0, 10, 20} <= set(done) and len(done) < 99


def test_nested_calls_finish():
    out = np.zeros((6, 50))

    def inner_row(r):
        def fn(lo, hi):
            out[r, lo:hi] = r + 1
        kernels.run_blocks(50, 5, fn)

    kernels.run_blocks(6, 1, lambda lo, hi: inner_row(lo))
    assert (out == np.arange(1, 7)[:, None]).all()


def _child(q):
    total = []
    kernels.run_blocks(40, 3, lambda lo, hi: total.append(hi - lo))
    q.put(sum(total))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_gets_its_own_threads():
    kernels.run_blocks(40, 3, lambda lo, hi: None)          # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    p.start()
    p.join(30)
    assert p.exitcode == 0
    assert q.get(timeout=5) == 40


@pytest.mark.parametrize("threads", ["1", "2", "3"])
@pytest.mark.parametrize("n", [1, 7, 4096, 4097, 100_000, 1_000_003])
def test_even_block_gives_every_core_the_same_number_of_blocks(monkeypatch, threads, n):
    """even_block: blocks of at most the asked size (plus alignment), a multiple of 8 rows
    (but one block for a batch that fits), whose count is a multiple of the cores when there
    is more than one block, and no more blocks than a core count's worth above the plain split."""
    monkeypatch.setenv("NUMBA_NUM_THREADS", threads)
    cores = kernels.cores()
    block = 4096
    size = kernels.even_block(n, block)
    count = -(-n // size)
    if n <= block:
        assert size == n
        return
    assert size % 8 == 0 and size <= block + 7
    assert count % cores == 0
    assert -(-n // block) <= count < -(-n // block) + cores
    assert (count - 1) * size < n            # the last block is not empty
