"""Single-record plans for TreeModel and tree ensembles (see pmml/record.py for the contract).

A tree's record plan walks the lowered graph form of ``tree_kernel`` (the arrays the batch
kernels walk) on one row. A record on the happy path has every field present, so the missing
targets of the graph are never taken: each step is one comparison. One tree is walked in
Python over plain lists (a few steps cost less than a call into compiled code); an ensemble is
walked by one numba call that also adds up the trees' answers exactly as the batch kernel does
(``_accumulate`` in ``_tree_numba``: the same additions in the same tree order), and the sums
are finished here in Python floats as ``ensemble_aggregation``'s aggregators finish them
(``ValueAggregator``, ``ProbabilityAggregator``, ``VoteAggregator``), so the answers are the
column plan's, bit for bit.

Declines (the column plan answers): at compile time a tree the graph form cannot express, a
missingValueStrategy that blends nodes, a classification tree without probabilities; at
scoring time a record that reaches no prediction (noTrueChildStrategy) or a leaf without a
score or distribution.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .models.tree_kernel import FrozenGraph
from .predicate_logic import G_KNOWN, graph_test

#: the field kinds of pmml/record.py (strings: no import cycle)
_DOUBLE, _TEXT, _FLOAT = "double", "text", "float"
Scorer = Callable[[dict], Any]


# ---------------------------------------------------------------------- the row's features


def _features(fields, need: Callable[[str], str]) -> list[tuple[str, dict | None]] | None:
    """Per slot of the lowered Fields: (field name, text codes or None for a number); None when
    a slot's kind does not match how the graph encodes it."""
    out = []
    for slot in fields.slots:
        kind = need(slot.name)
        if slot.numeric:
            if kind not in (_DOUBLE, _FLOAT):
                return None
            out.append((slot.name, None))
        else:
            if kind != _TEXT:
                return None
            out.append((slot.name, {k: float(v) for k, v in slot.cats.items()
                                    if isinstance(k, str)}))
    return out


def _row(features: list[tuple[str, dict | None]]) -> Callable[[dict], list[float]]:
    """env -> the row as the graph sees it (a string unknown to the tree codes as -1)."""
    if all(c is None for _, c in features):
        names = [n for n, _ in features]
        return lambda env: [env[n] for n in names]

    def row(env: dict) -> list[float]:
        return [env[n] if c is None else c.get(env[n], -1.0) for n, c in features]
    return row


# ---------------------------------------------------------------------- one tree in Python


def _python_walker(g: FrozenGraph) -> Callable[[list[float]], int]:
    """row -> global leaf index (-1: no prediction) of the graph's first tree, in Python."""
    op = g.op.tolist()
    feat = g.feat.tolist()
    thr = g.thr.tolist()
    no = g.nxt[:, 0].tolist()
    yes = g.nxt[:, 1].tolist()
    lo, hi, sets = g.lo.tolist(), g.hi.tolist(), g.sets.tolist()
    start = int(g.starts[0])
    if g.n_tests == 0:
        return lambda x: -start - 2
    if g.all_le:
        def walk_le(x: list[float]) -> int:
            t = start
            while t >= 0:
                t = yes[t] if x[feat[t]] <= thr[t] else no[t]
            return -t - 2
        return walk_le

    def walk(x: list[float]) -> int:
        t = start
        while t >= 0:
            o = op[t]
            c = graph_test(o, x[feat[t]], thr[t], sets[lo[t]:hi[t]]) if o != G_KNOWN else False
            t = yes[t] if c else no[t]
        return -t - 2
    return walk


# ---------------------------------------------------------------------- TreeModel


def tree_scorer(model, need: Callable[[str], str]) -> Scorer | None:
    """A TreeModel's one-record scorer: env -> (predicted value, {category: probability}) or
    None. None at compile time outside the subset."""
    if model.missing_strategy in ("weightedConfidence", "aggregateNodes") or \
            model.kernel is None or model.surrogate_penalty or getattr(model, "float32", False):
        return None          # (x-mathContext="float": float32 arithmetic, the column plan's)
    g = model.kernel.plan
    if not isinstance(g, FrozenGraph) or len(g.starts) != 1:
        return None
    features = _features(g.fields, need)
    if features is None:
        return None
    t = model.tree
    nodes = len(t.pred)
    answers: list[Any] = [None] * nodes
    if model.function == "regression":
        for i in range(nodes):
            if t.has_score[i]:
                answers[i] = (float(t.score[i]), None)
    else:
        if t.dist is None:
            return None          # (probability outputs would be missing: the column plan's)
        cats = list(model.cats)
        for i in range(nodes):
            row = t.dist[i].tolist()
            if t.has_score[i] and not any(math.isnan(p) for p in row):
                answers[i] = (t.score[i], dict(zip(cats, row)))
    row_of = _row(features)
    walk = _python_walker(g)

    def score(env: dict):
        leaf = walk(row_of(env))
        return answers[leaf] if leaf >= 0 else None
    return score


# ---------------------------------------------------------------------- ensembles


def forest_scorer(mm, need: Callable[[str], str]) -> Scorer | None:
    """A MiningModel scored by a ForestPlan (models/forest.py), one record: the trees walked and
    summed by one numba call, finished as ``mining``'s aggregators do."""
    fp = mm.fast
    if fp is None or mm.method not in ("sum", "weightedSum", "average", "weightedAverage",
                                       "majorityVote", "weightedMajorityVote"):
        return None
    if getattr(mm, "float32", False):
        return None                               # (x-mathContext="float": the column plan's)
    for seg in mm.segments:                       # every tree's MiningFields: nothing to change
        if not _plain_mining(seg.model) or getattr(seg.model, "float32", False):
            return None
    g = fp.plan
    if not isinstance(g, FrozenGraph) or g.n_tests == 0:
        return None
    features = _features(g.fields, need)
    if features is None:
        return None
    from .models.tree_kernel import numba_enabled
    if not numba_enabled():
        return None
    weight = np.ascontiguousarray(fp.weight, np.float64)
    if not np.isfinite(weight).all():
        return None
    cats = list(fp.cats)
    k = fp.leaf_val.shape[1]
    if fp.vote:
        vals = np.zeros((len(fp.leaf_cls), k))
        vals[np.arange(len(fp.leaf_cls)), fp.leaf_cls] = 1.0   # w * 1.0 == w: the same votes
    else:
        vals = fp.leaf_val
    vals = np.ascontiguousarray(vals, np.float64)
    ok = np.ascontiguousarray(fp.leaf_ok, np.bool_)
    nodes = np.ascontiguousarray(np.stack([g.thr, g.feat.astype(np.float64),
                                           g.nxt[:, 0].astype(np.float64),
                                           g.nxt[:, 1].astype(np.float64),
                                           g.lo.astype(np.float64), g.hi.astype(np.float64)],
                                          axis=1))
    ops = np.ascontiguousarray(g.op, np.int8)
    sets = np.ascontiguousarray(g.sets, np.float64)
    starts = np.ascontiguousarray(g.starts, np.int64)
    all_le = bool(g.all_le)
    den = 0.0
    for w in weight.tolist():                    # _accumulate's den, tree after tree
        den += w
    from ._record_numba import forest_record
    row_of = _row(features)
    method = mm.method

    def sums(env: dict) -> list[float] | None:
        x = np.array(row_of(env), np.float64)
        acc = np.zeros(k)
        first = np.empty(k, np.int64)
        if not forest_record(x, starts, nodes, ops, sets, all_le, vals, ok, weight, acc, first):
            return None
        return acc.tolist(), first.tolist()

    if fp.vote:
        if mm.function != "classification" or not cats:
            return None

        def vote(env: dict):
            r = sums(env)
            if r is None:
                return None
            votes, first = r
            total = 0.0
            for v in votes:
                total += v
            if total == 0.0:
                return None
            best = max(votes)
            win, at = 0, None
            for j, v in enumerate(votes):          # ties: the category voted for first
                if v == best and (at is None or first[j] < at):
                    win, at = j, first[j]
            return cats[win], {c: v / total for c, v in zip(cats, votes)}
        return vote

    if mm.function == "classification":
        if method not in ("average", "weightedAverage") or den == 0.0 or not cats:
            return None

        def average(env: dict):
            r = sums(env)
            if r is None:
                return None
            probs = [a / den for a in r[0]]
            win, best = 0, -math.inf
            for j, p in enumerate(probs):          # argmax: the first of equals
                if p != p:
                    return None
                if p > best:
                    win, best = j, p
            return cats[win], dict(zip(cats, probs))
        return average

    if mm.function != "regression":
        return None
    mean = method in ("average", "weightedAverage")
    if mean and den == 0.0:
        return None

    def value(env: dict):
        r = sums(env)
        if r is None:
            return None
        v = r[0][0]
        if mean:
            v = v / den
        return (v, None) if v - v == 0.0 else None
    return value


def _plain_mining(model) -> bool:
    """The model's MiningFields change nothing for a present, valid value."""
    for spec in model.mining:
        if spec.usage == "predicted" or spec.usage == "target":
            continue
        info = model.ctx.lookup(spec.name)
        if spec.usage != "active" or spec.outliers != "asIs" or \
                spec.op_type not in (None, info.op_type if info is not None else None):
            return False
    return True
