"""Which implementation scores the dense numeric models: the numba kernels of
``_kernels_numba`` when numba is importable and not switched off (PORTMODEL_NO_NUMBA=1), else
their numpy twins in each model module. Both give the same numbers bit for bit."""
from __future__ import annotations

from typing import Any

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
