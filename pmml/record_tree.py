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
from array import array
from typing import Any, Callable

import numpy as np

from .models.tree_kernel import FrozenGraph
from .predicate_logic import G_KNOWN, graph_test
from .record_row import RowScorer

#: forest_row's modes (``_record_numba``)
SUM, MEAN, AVERAGE, VOTE = 0, 1, 2, 3
_NO_VOTE = 2 ** 63 - 1

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


def _python_walker(g: FrozenGraph, pos: list[int] | None = None) -> Callable[[Any], int]:
    """row -> global leaf index (-1: no prediction) of the graph's first tree, in Python. pos:
    where the row holds each of the graph's features (default: in the graph's order)."""
    op = g.op.tolist()
    feat = g.feat.tolist()
    if pos is not None:
        feat = [pos[f] if 0 <= f < len(pos) else f for f in feat]
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
    names = tuple(n for n, _ in features)
    if any(c is not None for _, c in features) or len(set(names)) != len(names):
        return score
    return _tree_row(g, names, answers, score, need)(names)


def _tree_row(g: FrozenGraph, names: tuple[str, ...], answers: list, score: Scorer,
              need: Callable[[str], str]) -> Callable[[tuple[str, ...]], RowScorer]:
    """fields -> the tree as a RowScorer over a row of ``fields`` (numeric fields that hold the
    tree's ``names``), walked in place with no environment dict: float fields rounded to
    float32 and the row checked finite (a NaN or infinite value declines) as the environment's
    plan does (``numbers`` in pmml/record.py)."""
    def over(fields: tuple[str, ...]) -> RowScorer:
        walk = _python_walker(g, [fields.index(n) for n in names])
        f32 = [i for i, n in enumerate(fields) if need(n) == _FLOAT]
        all_f32 = len(f32) == len(fields)

        def row(buf) -> Any:
            if all_f32:
                x = array("f", buf).tolist()
            elif f32:
                x = buf.tolist()
                for i, v in zip(f32, array("f", [x[i] for i in f32]).tolist()):
                    x[i] = v
            else:
                x = buf
            total = sum(x)
            if total - total != 0.0:      # NaN (missing) or infinite (or an overflowing sum)
                return None
            leaf = walk(x)
            return answers[leaf] if leaf >= 0 else None
        return RowScorer(fields, len(fields), row, score, over)
    return over


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
    den = 0.0
    for w in weight.tolist():                    # _accumulate's den, tree after tree
        den += w
    method = mm.method
    if fp.vote:
        if mm.function != "classification" or not cats:
            return None
        mode = VOTE
    elif mm.function == "classification":
        if method not in ("average", "weightedAverage") or den == 0.0 or not cats:
            return None
        mode = AVERAGE
    elif mm.function == "regression":
        mode = MEAN if method in ("average", "weightedAverage") else SUM
        if mode == MEAN and den == 0.0:
            return None
    else:
        return None
    nodes = np.ascontiguousarray(np.stack([g.thr, g.feat.astype(np.float64),
                                           g.nxt[:, 0].astype(np.float64),
                                           g.nxt[:, 1].astype(np.float64),
                                           g.lo.astype(np.float64), g.hi.astype(np.float64)],
                                          axis=1))
    names = tuple(name for name, _ in features)
    kinds = {name: need(name) for name in names}
    from .models.tree_kernel import numba_enabled
    if numba_enabled():
        from ._record_numba import forest_row as kernel
    else:
        kernel = forest_row_twin
    feat = g.feat.astype(np.int64)

    def build(order: tuple[str, ...]):
        """The scorer over a row holding the fields ``order`` (the graph's slots at their
        places in it)."""
        n = len(order)
        at = np.array([order.index(name) for name in names], np.int64)
        nodes = np.ascontiguousarray(np.stack([g.thr, at[feat].astype(np.float64),
                                               g.nxt[:, 0].astype(np.float64),
                                               g.nxt[:, 1].astype(np.float64),
                                               g.lo.astype(np.float64), g.hi.astype(np.float64)],
                                              axis=1))
        ints = np.array([n, k, mode, int(bool(g.all_le)), len(g.starts)] +
                        [int(kinds.get(name) == _FLOAT) for name in order] +
                        g.starts.tolist() + g.op.tolist() +
                        fp.leaf_ok.astype(np.int64).tolist(), np.int64)
        floats = np.concatenate([[den], weight, np.asarray(g.sets, np.float64)])
        if mode == SUM or mode == MEAN:
            def answer(buf):
                r = kernel(buf, ints, nodes, vals, floats)
                return None if r < 0 else (buf[n], None)
        else:
            def answer(buf):
                r = kernel(buf, ints, nodes, vals, floats)
                if r < 0:
                    return None
                return cats[r], dict(zip(cats, buf[n:n + k].tolist()))
        return answer

    answer = build(names)
    row_of = _row(features)
    pad = [0.0] * k

    def env_score(env: dict):
        # (env's numbers are rounded already: rounding again leaves them, codes are finite)
        return answer(array("d", row_of(env) + pad))
    if any(c is not None for _, c in features):
        return env_score
    return RowScorer(names, len(names) + k, answer, env_score,
                     lambda order: RowScorer(order, len(order) + k, build(order), env_score))


def forest_row_twin(buf, ints, nodes, vals, floats) -> int:
    """``_record_numba.forest_row`` in plain Python: the same walks, the same additions in the
    same tree order and the same finish (tests/test_record_row.py holds the two together)."""
    n, k, mode, all_le, n_trees = (int(v) for v in ints[:5])
    flags = ints[5:5 + n]
    for i in range(n):
        v = buf[i]
        if flags[i]:
            with np.errstate(over="ignore"):       # (beyond float32: inf, as the cast)
                v = float(np.float32(v))
            buf[i] = v
        if v - v != 0.0:
            return -1
    s0 = 5 + n
    o0 = s0 + n_trees
    k0 = o0 + len(nodes)
    q0 = 1 + n_trees
    thr, feat = nodes[:, 0].tolist(), nodes[:, 1].astype(np.int64).tolist()
    no, yes = nodes[:, 2].astype(np.int64).tolist(), nodes[:, 3].astype(np.int64).tolist()
    lo, hi = nodes[:, 4].astype(np.int64).tolist(), nodes[:, 5].astype(np.int64).tolist()
    sets = floats[q0:].tolist()
    acc = [0.0] * k
    first = [_NO_VOTE] * k
    for tree in range(n_trees):
        t = int(ints[s0 + tree])
        while t >= 0:
            v, th = buf[feat[t]], thr[t]
            c = v <= th if all_le else _op_test(int(ints[o0 + t]), v, th, sets[lo[t]:hi[t]])
            t = yes[t] if c else no[t]
        lf = -t - 2
        if lf < 0 or not ints[k0 + lf]:
            return -1
        w = float(floats[1 + tree])
        row = vals[lf].tolist()
        for j in range(k):
            acc[j] += w * row[j]
            if row[j] != 0.0 and first[j] > tree:
                first[j] = tree
    den = float(floats[0])
    if mode in (SUM, MEAN):
        v = acc[0] / den if mode == MEAN else acc[0]
        if v - v != 0.0:
            return -1
        buf[n] = v
        return 0
    if mode == AVERAGE:
        win, best = 0, -math.inf
        for j in range(k):
            p = acc[j] / den
            if p != p:
                return -1
            if p > best:
                win, best = j, p
            buf[n + j] = p
        return win
    total = 0.0
    for v in acc:
        total += v
    if total == 0.0 or total - total != 0.0:
        return -1
    best = max(acc)
    win, at = -1, _NO_VOTE
    for j in range(k):                             # ties: the category voted for first
        if acc[j] == best and (win < 0 or first[j] < at):
            win, at = j, first[j]
        buf[n + j] = acc[j] / total
    return win


def _op_test(o: int, v: float, th: float, members: list[float]) -> bool:
    """One node's test on a present value (``_tree_numba._goes_right``: G_KNOWN sends it false)."""
    return False if o == G_KNOWN else graph_test(o, v, th, members)


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
