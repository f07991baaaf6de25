"""Which implementation scores the dense numeric models: the numba kernels of
``_kernels_numba`` when numba is importable and not switched off (PORTMODEL_NO_NUMBA=1), else
their numpy twins in each model module. Both give the same numbers bit for bit."""
from __future__ import annotations

from typing import Any

import numpy as np

from .tree_kernel import numba_enabled

_MODULE: dict[str, Any] = {}


def kernels() -> Any:
    """The numba kernel module (compiled once, or loaded from numba's disk cache), or None
    when numba is unavailable or switched off."""
    if not numba_enabled():
        return None
    if not _MODULE:
        from . import _kernels_numba
        _MODULE["mod"] = _kernels_numba
    return _MODULE["mod"]


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
