"""numba kernel of the PFA column path's tree walk (imported only when numba is used).

X is the (used fields, rows) float matrix; per node: its row in X, its value, its children
(>= 0: a node, < 0: -1 - leaf index) and the operator's truth table over <, ==, > plus a final
negation, so NaN (all three false) gives Python's comparison answers. Compiled with cache=True.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from portmodel.numba_cache import configure


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


@njit(cache=True)
def walk_rows(x, node_slot, val, kids, ua, ub, uc, neg):
    n = x.shape[1]
    out = np.empty(n, dtype=np.int64)
    for r in range(n):
        nd = 0
        while nd >= 0:
            xv = x[node_slot[nd], r]
            vv = val[nd]
            res = (xv < vv and ua[nd]) or (xv == vv and ub[nd]) or (xv > vv and uc[nd])
            if neg[nd]:
                res = not res
            nd = kids[nd, 0] if res else kids[nd, 1]
        out[r] = -nd - 1
    return out
