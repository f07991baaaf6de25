"""The single-record plan of ClusteringModel (see pmml/record.py for the contract).

A center-based model under a distance measure the column plan sums field by field (cityBlock,
squaredEuclidean, euclidean, chebychev) over double fields compared by absDiff, without
MissingValueWeights, its cluster ids as text (no numeric target): each cluster's distance in
Python floats with the column plan's operations in its order (``comparison.distances``: |x - y|,
squared for the Euclidean measures, times the field weight, added to a sum that starts at 0 or
kept as the running maximum; the square root for euclidean; with numba the column plan's own
distance kernel for the one row), then the nearest cluster, the first one on ties. So the
answers are the column plan's bit for bit. The answer is the winning id and every cluster's
distance by id, which ``record.py`` hands to predictedValue and to affinity outputs that name
a cluster.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

_DOUBLE = "double"
_MEASURES = ("cityBlock", "squaredEuclidean", "euclidean", "chebychev")


def cluster_scorer(model, need: Callable[[str], str]) -> Callable[[dict], Any] | None:
    """The record scorer of a ClusteringModel in the subset above, else None."""
    measure = model.measure.name
    if measure not in _MEASURES or model.missing_weights is not None or \
            model.target is not None or not model.measure.is_distance:
        return None
    if any(fc.compare != "absDiff" or not fc.numeric for fc in model.fields):
        return None
    names = [fc.name for fc in model.fields]
    if any(need(name) != _DOUBLE for name in names):
        return None
    weights = [float(fc.weight) for fc in model.fields]
    try:
        centers = [[float(ref[j]) for ref in model.refs] for j in range(len(model.ids))]
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for c in centers for v in c):
        return None
    ids = [str(v) for v in model.ids]
    squared = measure in ("squaredEuclidean", "euclidean")
    root = measure == "euclidean"
    biggest = measure == "chebychev"

    def loop(x: list) -> list:
        # (a weight of 1 multiplies exactly: the column plan skips that product)
        dist = []
        for center in centers:
            acc = 0.0
            for xi, y, w in zip(x, center, weights):
                d = abs(xi - y)
                if squared:
                    d = d * d
                d = d * w
                acc = (d if d > acc else acc) if biggest else acc + d
            dist.append(math.sqrt(acc) if root else acc)
        return dist

    distances = _compiled(model, measure, weights) or loop

    def score(env: dict):
        dist = distances([env[name] for name in names])
        best = 0
        for j, v in enumerate(dist):
            if v - v != 0.0:
                return None
            if v < dist[best]:
                best = j
        return ids[best], dict(zip(ids, dist))
    return score


def _compiled(model, measure: str, weights: list[float]) -> Callable[[list], list] | None:
    """With numba: every cluster's distance from the column plan's own distance kernel for one
    row (``_kernels_numba.distance_rows``, held to the numpy loop bit for bit). Else None."""
    from .models.compute_backend import kernels
    from .models.comparison import _KERNEL_MODES
    kern = kernels()
    if kern is None:
        return None
    mode, root = _KERNEL_MODES[measure]
    f = len(weights)
    off = np.arange(f, dtype=np.int64)             # field i of the one row at x[i]
    P = np.empty((f, 0), bool)
    Y = np.ascontiguousarray(np.vstack([np.asarray(r, float) for r in model.refs]))
    w = np.array(weights, float)
    adj, undef = np.ones(1), np.zeros(1, bool)
    rows = kern.distance_rows

    def distances(x: list) -> list:
        out = np.empty((1, Y.shape[1]))
        rows(np.array(x), off, 1, P, False, Y, w, mode, root, adj, undef, out)
        return out[0].tolist()
    return distances
