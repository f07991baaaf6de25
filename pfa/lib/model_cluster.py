"""model.cluster.* and model.neighbor.*: nearest centres, k-means steps, nearest neighbours."""
from __future__ import annotations

import math

from ..errors import PFARuntimeError
from . import fn, typed


def _euclid(name, code):
    def d(x, y):
        if len(x) != len(y):
            raise PFARuntimeError("dimensions of vectors do not match", code, name)
        return sum((a - b) * (a - b) for a, b in zip(x, y))
    return d


@typed("model.cluster.closest")
def closest(call):
    name = "model.cluster.closest"
    default = _euclid(name, 29001)

    def f(datum, clusters, metric=None):
        if not clusters:
            raise PFARuntimeError("no clusters", 29000, name)
        m = metric or default
        best, best_d = None, None
        for c in clusters:
            d = m(datum, c["center"])
            if best is None or d < best_d or (best_d != best_d and d == d):
                best, best_d = c, d
        return best
    return f


@typed("model.cluster.closestN")
def closest_n(call):
    name = "model.cluster.closestN"
    default = _euclid(name, 29011)

    def f(n, datum, clusters, metric=None):
        if n < 0:
            raise PFARuntimeError("n must be nonnegative", 29010, name)
        m = metric or default
        scored = [(m(datum, c["center"]), i) for i, c in enumerate(clusters)]
        scored.sort(key=lambda t: (t[0] != t[0], t[0], t[1]))
        return [clusters[i] for _, i in scored[:n]]
    return f


def _key(v):
    return tuple(v)


@typed("model.cluster.randomSeeds")
def random_seeds(call):
    rng = call.rt.rng
    name = "model.cluster.randomSeeds"

    def f(data, k, new_cluster):
        if k <= 0:
            raise PFARuntimeError("k must be greater than zero", 29020, name)
        if data and any(len(x) != len(data[0]) for x in data):
            raise PFARuntimeError("dimensions of vectors do not match", 29022, name)
        uniq, seen = [], set()
        for x in data:
            if _key(x) not in seen:
                seen.add(_key(x))
                uniq.append(x)
        if len(uniq) < k:
            raise PFARuntimeError("not enough unique points", 29021, name)
        picks = rng.sample(uniq, k)
        return [new_cluster(i, list(p)) for i, p in enumerate(picks)]
    return f


@fn("model.cluster.kmeansIteration")
def kmeans_iteration(data, clusters, metric, update):
    name = "model.cluster.kmeansIteration"
    if not data:
        raise PFARuntimeError("no data", 29030, name)
    if not clusters:
        raise PFARuntimeError("no clusters", 29031, name)
    matched = [[] for _ in clusters]
    for x in data:
        best, best_d = 0, None
        for i, c in enumerate(clusters):
            d = metric(x, c["center"])
            if best_d is None or d < best_d:
                best, best_d = i, d
        matched[best].append(x)
    return [update(m, c) if m else c for m, c in zip(matched, clusters)]


@fn("model.cluster.updateMean")
def update_mean(data, cluster, weight):
    name = "model.cluster.updateMean"
    if not data:
        raise PFARuntimeError("no data", 29040, name)
    center = cluster["center"]
    n = len(center)
    if any(len(x) != n for x in data):
        raise PFARuntimeError("dimensions of vectors do not match", 29041, name)
    total = len(data) + weight
    new = [(sum(x[i] for x in data) + weight * center[i]) / total if total else float("nan")
           for i in range(n)]
    out = dict(cluster)
    out["center"] = new
    return out


# ---------------------------------------------------------------- model.neighbor

@typed("model.neighbor.mean")
def neighbor_mean(call):
    name = "model.neighbor.mean"

    def f(points, weight=None):
        if not points:
            raise PFARuntimeError("not enough points", 30000, name)
        n = len(points[0])
        if any(len(p) != n for p in points):
            raise PFARuntimeError("inconsistent dimensionality", 30001, name)
        ws = [weight(p) for p in points] if weight is not None else [1.0] * len(points)
        total = sum(ws)
        return [sum(w * p[i] for w, p in zip(ws, points)) / total if total else float("nan")
                for i in range(n)]
    return f


@typed("model.neighbor.nearestK")
def nearest_k(call):
    name = "model.neighbor.nearestK"

    def f(k, datum, codebook, metric=None):
        if k < 0:
            raise PFARuntimeError("k must be nonnegative", 30010, name)
        if metric is None:
            def metric(x, y):
                if len(x) != len(y):
                    raise PFARuntimeError("inconsistent dimensionality", 30011, name)
                return math.sqrt(sum((a - b) * (a - b) for a, b in zip(x, y)))
        scored = sorted(((metric(datum, c), i) for i, c in enumerate(codebook)),
                        key=lambda t: (t[0] != t[0], t[0], t[1]))
        return [codebook[i] for _, i in scored[:k]]
    return f


@typed("model.neighbor.ballR")
def ball_r(call):
    def f(r, datum, codebook, metric=None):
        if metric is None:
            def metric(x, y):
                return math.sqrt(sum((a - b) * (a - b) for a, b in zip(x, y)))
        return [c for c in codebook if metric(datum, c) < r]
    return f
