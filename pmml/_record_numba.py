"""The numba kernels of the one-record plans: tree ensembles (pmml/record_tree.py) and runs of
network layers (pmml/record_neural.py), on the packed row of pmml/record_row.py.

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

from .models._kernels_numba import _activation
from .models._tree_numba import _goes_right

LANES = 8
_NO_VOTE = np.iinfo(np.int64).max


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


# ---------------------------------------------------------------------- packed rows
# The kernels of pmml/record_row.py: one call reads the row (an array('d') of the record's
# numeric fields, then room for the results), rounds the float fields to float32, checks that
# every value is finite and scores. Few arguments: a compiled call costs per argument.


@njit(cache=True)
def row_inputs(buf, n, ints, at):
    """buf[:n] with the fields flagged in ints[at:at+n] rounded to float32; False when one is
    not finite (NaN: missing; infinite)."""
    for i in range(n):
        v = buf[i]
        if ints[at + i]:
            v = np.float64(np.float32(v))
            buf[i] = v
        if v - v != 0.0:
            return False
    return True


#: forest_row modes: regression sum, regression mean, averaged probabilities, votes
SUM, MEAN, AVERAGE, VOTE = 0, 1, 2, 3
#: forest_row's header in ints: fields, categories, mode, all_le, trees
HEAD = 5


@njit(cache=True)
def forest_row(buf, ints, nodes, vals, floats):
    """One packed row through every tree of a lowered ensemble, aggregated as ``mining``'s
    aggregators finish it; -1 declines (a field not finite, a tree without a prediction, a
    result not finite), else the winning category's index (0 for a regression), the results
    in buf[n:n+k] (the value, or the categories' probabilities).

    ints: n, k, mode, all_le, trees; float-field flags (n); tree starts; node ops; leaf ok.
    floats: den (the weights' sum in tree order); tree weights; the graph's value sets.
    nodes (one row per node): threshold, feature, false target, true target, set range;
    vals (one row per leaf): the k values a leaf adds, times its tree's weight."""
    n, k, mode, all_le, n_trees = ints[0], ints[1], ints[2], ints[3], ints[4]
    if not row_inputs(buf, n, ints, HEAD):
        return -1
    s0 = HEAD + n
    o0 = s0 + n_trees
    k0 = o0 + nodes.shape[0]
    w0 = 1
    q0 = 1 + n_trees
    leaves = np.empty(n_trees, np.int64)
    lane = np.empty(LANES, np.int64)
    for base in range(0, n_trees, LANES):
        m = min(LANES, n_trees - base)
        live = False
        for l in range(m):
            lane[l] = ints[s0 + base + l]
            if lane[l] >= 0:
                live = True
        while live:
            live = False
            for l in range(m):
                t = lane[l]
                if t >= 0:
                    v = buf[np.int64(nodes[t, 1])]
                    if all_le:
                        c = v <= nodes[t, 0]
                    else:
                        c = _goes_right(ints[o0 + t], v, nodes[t, 0], floats,
                                        q0 + np.int64(nodes[t, 4]), q0 + np.int64(nodes[t, 5]))
                    t = np.int64(nodes[t, 3]) if c else np.int64(nodes[t, 2])
                    lane[l] = t
                    if t >= 0:
                        live = True
        for l in range(m):
            leaves[base + l] = -lane[l] - 2
    acc = np.zeros(k)
    first = np.full(k, _NO_VOTE)
    for t in range(n_trees):
        lf = leaves[t]
        if lf < 0 or not ints[k0 + lf]:
            return -1
        w = floats[w0 + t]
        for j in range(k):
            acc[j] += w * vals[lf, j]
            if vals[lf, j] != 0.0 and first[j] > t:
                first[j] = t
    den = floats[0]
    if mode == SUM or mode == MEAN:
        v = acc[0]
        if mode == MEAN:
            v = v / den
        if v - v != 0.0:
            return -1
        buf[n] = v
        return 0
    if mode == AVERAGE:
        win = 0
        best = -np.inf
        for j in range(k):
            p = acc[j] / den
            if p != p:
                return -1
            if p > best:
                win = j
                best = p
            buf[n + j] = p
        return win
    total = 0.0                                    # VOTE
    for j in range(k):
        total += acc[j]
    if total == 0.0 or total - total != 0.0:
        return -1
    best = acc[0]
    for j in range(1, k):
        if acc[j] > best:
            best = acc[j]
    win = -1
    at = _NO_VOTE
    for j in range(k):
        if acc[j] == best and (win < 0 or first[j] < at):
            win = j
            at = first[j]
        buf[n + j] = acc[j] / total
    return win


@njit(cache=True, error_model="numpy")
def network_row(buf, n, lo, hi, ints, floats):
    """Layers lo..hi-1 of a NeuralNetwork on the packed row buf (every neuron's activation, the
    inputs first; ``record_neural._packed``'s arrays: ints = 6 section starts, then connection
    pointers, inputs, per-layer offsets of both and of the biases, activation codes, first
    neurons; floats = weights, biases, activation parameters), neuron by neuron: the column plan's sums
    ((0 + x_0 w_0) + x_1 w_1) + ... + bias in connection order and its activation
    (``network_forward`` on one row, without its tiles of rows). With n > 0 the n inputs are
    checked first (False: one is not finite)."""
    for i in range(n):
        v = buf[i]
        if v - v != 0.0:
            return False
    n_layers = ints[0]
    p0, i0, po, wo, bo, ac = ints[1], ints[2], ints[3], ints[4], ints[5], ints[6]
    st = ac + n_layers
    b0 = ints[wo + n_layers]                       # (weights end: biases start)
    q0 = b0 + ints[bo + n_layers]                  # (biases end: parameters start)
    for l in range(lo, hi):
        a = ints[wo + l]
        pp = p0 + ints[po + l]
        k = ints[po + l + 1] - ints[po + l] - 1
        bb = b0 + ints[bo + l]
        act = ints[ac + l]
        param = floats[q0 + l]
        start = ints[st + l]
        for j in range(k):
            z = 0.0
            for c in range(a + ints[pp + j], a + ints[pp + j + 1]):
                z = z + buf[ints[i0 + c]] * floats[c]
            buf[start + j] = _activation(z + floats[bb + j], act, param)
    return True
