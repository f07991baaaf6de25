"""Former home of the backend choice and the row blocks, kept so that code written against it
still imports: the numba/numpy choice is ``compute_backend``, the row blocks ``row_blocks``."""
from __future__ import annotations

from .compute_backend import kernels
from .row_blocks import column_block, cores, run_blocks

__all__ = ["column_block", "cores", "kernels", "run_blocks"]
