"""The numba kernels of the one-record plans: tree ensembles (pmml/record_tree.py) and runs of
network layers (pmml/record_neural.py).

One row, every tree of the lowered graph form (``tree_kernel.FrozenGraph``), no missing value
(the plan declines those records): the trees are walked LANES at a time, so that their
independent chains of loads overlap (one row's walk is a chain of dependent loads), and their
answers are then added in tree order exactly as ``_tree_numba._accumulate`` adds them.
A node is one row of ``nodes``: threshold, feature, false target, true target, set range.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from portmodel.numba_cache import configure

from .models._kernels_numba import layer_forward_t
from .models.tree_kernel import G_EQ, G_GT, G_IN, G_KNOWN, G_LE, G_LT, G_NE, G_NOTIN

LANES = 8
_NO_VOTE = np.iinfo(np.int64).max


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


@njit(cache=True)
def _test(o, v, th, sets, lo, hi):
    if o == G_LE:
        return v <= th
    if o == G_EQ:
        return v == th
    if o == G_NE:
        return v != th
    if o == G_KNOWN:
        return False
    if o == G_IN or o == G_NOTIN:
        hit = False
        for i in range(lo, hi):
            if sets[i] == v:
                hit = True
                break
        return hit == (o == G_IN)
    if o == G_LT:
        return v < th
    if o == G_GT:
        return v > th
    return v >= th


@njit(cache=True)
def forest_record(x, starts, nodes, ops, sets, all_le, vals, ok, weight, acc, first):
    """acc[j] = sum over trees of weight[t] * vals[leaf_t, j] (tree order), first[j] = the first
    tree whose leaf has vals[leaf, j] != 0 (votes); False when a tree gives no prediction."""
    n_trees = starts.shape[0]
    k = acc.shape[0]
    leaves = np.empty(n_trees, np.int64)
    lane = np.empty(LANES, np.int64)
    for base in range(0, n_trees, LANES):
        m = min(LANES, n_trees - base)
        live = False
        for l in range(m):
            lane[l] = starts[base + l]
            if lane[l] >= 0:
                live = True
        while live:
            live = False
            for l in range(m):
                t = lane[l]
                if t >= 0:
                    v = x[np.int64(nodes[t, 1])]
                    if all_le:
                        c = v <= nodes[t, 0]
                    else:
                        c = _test(ops[t], v, nodes[t, 0], sets, np.int64(nodes[t, 4]),
                                  np.int64(nodes[t, 5]))
                    t = np.int64(nodes[t, 3]) if c else np.int64(nodes[t, 2])
                    lane[l] = t
                    if t >= 0:
                        live = True
        for l in range(m):
            leaves[base + l] = -lane[l] - 2
    for j in range(k):
        acc[j] = 0.0
        first[j] = _NO_VOTE
    for t in range(n_trees):
        lf = leaves[t]
        if lf < 0 or not ok[lf]:
            return False
        w = weight[t]
        for j in range(k):
            acc[j] += w * vals[lf, j]
            if vals[lf, j] != 0.0 and first[j] > t:
                first[j] = t
    return True


@njit(cache=True)
def network_run(acts, lo, hi, ints, floats):
    """Layers lo..hi-1 of a NeuralNetwork on the one-row column acts, each by the column plan's
    own kernel (``_kernels_numba.layer_forward_t``) over its slices of the layers' arrays packed
    end to end (``record_neural._packed``: ints = 6 section starts, then connection pointers,
    inputs, per-layer offsets of both and of the biases, activation codes, first neurons;
    floats = weights, biases, activation parameters)."""
    n_layers = ints[0]
    p0, i0, po, wo, bo, ac = ints[1], ints[2], ints[3], ints[4], ints[5], ints[6]
    st = ac + n_layers
    b0 = ints[wo + n_layers]                       # (weights end: biases start)
    q0 = b0 + ints[bo + n_layers]                  # (biases end: parameters start)
    for l in range(lo, hi):
        a, b = ints[wo + l], ints[wo + l + 1]
        layer_forward_t(acts, ints[p0 + ints[po + l]:p0 + ints[po + l + 1]],
                        ints[i0 + a:i0 + b], floats[a:b],
                        floats[b0 + ints[bo + l]:b0 + ints[bo + l + 1]], ints[ac + l],
                        floats[q0 + l], ints[st + l])
