"""TreeModel: decision trees compiled to flat node arrays and scored for all rows at once.

The document's nodes become parallel arrays (node -> children, score, class distribution, id).
Scoring walks the tree *by node*, not by row: at each node the rows standing there are split
among the children with one vectorized predicate evaluation each. missingValueStrategy and
noTrueChildStrategy route the rows whose predicate is UNKNOWN or that no child takes.
A numba kernel (``tree_kernel``) scores the common case of simple predicates much faster; this
walk is the general path and the kernel's test oracle.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from ..predicates import PREDICATE_TAGS, Pred, parse_predicate
from ..scope import Scope
from ..values import Col, codes, full, parse_scalar
from .base import CompiledModel, Result, register

MISSING_STRATEGIES = ("none", "lastPrediction", "nullPrediction", "defaultChild",
                      "weightedConfidence", "aggregateNodes")
NO_TRUE_CHILD = ("returnNullPrediction", "returnLastPrediction")


@dataclass
class TreeArrays:
    """A tree as flat arrays; node 0 is the root."""

    pred: list[Pred]                 # predicate of each node
    children: list[list[int]]        # child node indices in document order
    default_child: np.ndarray        # node index or -1
    has_score: np.ndarray            # bool
    score: list[Any]                 # parsed score (None if absent)
    ids: np.ndarray                  # entity id text of each node (object)
    record_count: np.ndarray         # float, NaN if absent
    dist: np.ndarray | None          # (nodes, categories) probabilities, NaN where no distribution
    counts: np.ndarray | None        # (nodes, categories) record counts (for aggregateNodes)
    confidence: np.ndarray | None    # (nodes, categories) confidences, NaN where absent
    depth: int = 0


class _Path:
    """Rows still to be routed: their indices and missing-value penalty so far."""


@register("TreeModel")
class TreeModel(CompiledModel):
    def compile(self) -> None:
        el = self.el
        self.missing_strategy = el.get("missingValueStrategy", "none")
        if self.missing_strategy not in MISSING_STRATEGIES:
            raise UnsupportedError(f"missingValueStrategy={self.missing_strategy!r}",
                                   line=el.sourceline, element=el.tag)
        self.no_true_child = el.get("noTrueChildStrategy", "returnNullPrediction")
        if self.no_true_child not in NO_TRUE_CHILD:
            raise UnsupportedError(f"noTrueChildStrategy={self.no_true_child!r}",
                                   line=el.sourceline, element=el.tag)
        self.penalty = float(el.get("missingValuePenalty", "1"))
        if self.function not in ("classification", "regression"):
            raise UnsupportedError(f"TreeModel functionName={self.function!r}",
                                   line=el.sourceline, element=el.tag)
        root = el.find("Node")
        if root is None:
            raise DocumentError("TreeModel has no Node", line=el.sourceline, element=el.tag)
        self.cats = self.categories() if self.function == "classification" else []
        self.tree = build_tree(root, self)
        self.kernel = None
        if self.missing_strategy not in ("weightedConfidence", "aggregateNodes"):
            try:
                from .tree_kernel import compile_kernel
                self.kernel = compile_kernel(self.tree, self)
            except ImportError:
                self.kernel = None

    # ------------------------------------------------------------------ scoring
    def score(self, scope: Scope) -> Result:
        if self.kernel is not None and getattr(self, "use_kernel", True):
            leaf, penalty = self.kernel.run(scope)
        else:
            leaf, penalty = walk(self.tree, self, scope)
        if self.missing_strategy in ("weightedConfidence", "aggregateNodes"):
            return self._weighted_result(scope)
        return self.result_from_leaves(scope.n, leaf, penalty)

    def result_from_leaves(self, n: int, leaf: np.ndarray, penalty: np.ndarray | None) -> Result:
        t = self.tree
        ok = leaf >= 0
        safe = np.where(ok, leaf, 0)
        has = ok & t.has_score[safe]
        missing = ~has
        ids = t.ids[safe]                    # fancy indexing copies
        if not ok.all():
            ids[~ok] = None
        extra: dict[str, Any] = {"entityId": ids}
        if self.function == "regression":
            vals = np.array([s if s is not None else np.nan for s in t.score], dtype=float)[safe]
            vals = np.where(missing, np.nan, vals)
            return Result(n, "regression", Col(vals, missing, self.target_type, "continuous"),
                          extra=extra)
        col = full(n, None, self.target_type, "categorical")
        score_arr = np.empty(len(t.score), dtype=col.values.dtype)
        score_arr[:] = [s if s is not None else (np.nan if col.values.dtype != object else None)
                        for s in t.score]
        col.values[has] = score_arr[safe[has]]
        col.missing[:] = missing
        probs: dict[Any, np.ndarray] = {}
        if t.dist is not None:
            d = np.take(t.dist, safe, axis=0)    # (much faster than t.dist[safe])
            for j, c in enumerate(self.cats):
                probs[c] = np.where(missing, np.nan, d[:, j])
        conf = None
        if t.confidence is not None:
            cf = np.take(t.confidence, safe, axis=0)
            if penalty is not None:
                cf = cf * penalty[:, None]
            conf = {c: np.where(missing, np.nan, cf[:, j]) for j, c in enumerate(self.cats)}
        elif penalty is not None and t.dist is not None and self.penalty != 1.0:
            conf = {c: probs[c] * penalty for c in self.cats}
        if conf is not None:
            extra["confidence"] = conf
        return Result(n, "classification", col, list(self.cats), probs if t.dist is not None else None,
                      extra)

    def _weighted_result(self, scope: Scope) -> Result:
        """weightedConfidence / aggregateNodes: blend the distributions of every reachable leaf."""
        t = self.tree
        n = scope.n
        k = len(self.cats) if self.function == "classification" else 1
        acc = np.zeros((n, k))
        got = np.zeros(n, bool)
        use_counts = self.missing_strategy == "aggregateNodes"
        table = (t.counts if use_counts else t.confidence if t.confidence is not None else t.dist)
        if table is None:
            raise UnsupportedError(f"{self.missing_strategy} needs ScoreDistribution elements",
                                   line=self.line, element="TreeModel")
        cache = _PredCache(scope)
        idx = np.arange(n)
        rt, rk = cache.eval(t.pred[0], idx)
        start = idx[rt | ~rk] if False else idx[rt]
        _blend(t, 0, start, np.ones(len(start)), acc, got, table, cache, self, use_counts)
        col = full(n, None, self.target_type, "categorical")
        sums = acc.sum(axis=1)
        if use_counts:
            with np.errstate(invalid="ignore", divide="ignore"):
                acc = acc / sums[:, None]
        best = np.argmax(acc, axis=1)
        missing = ~got
        cats = np.array(self.cats, dtype=col.values.dtype)
        col.values[got] = cats[best[got]]
        col.missing[:] = missing
        probs = {c: np.where(missing, np.nan, acc[:, j]) for j, c in enumerate(self.cats)}
        return Result(n, "classification", col, list(self.cats), probs, {"confidence": probs})


def _blend(t: TreeArrays, node: int, idx: np.ndarray, weight: np.ndarray, acc: np.ndarray,
           got: np.ndarray, table: np.ndarray, cache, model, use_counts: bool) -> None:
    """Route rows idx (with weights) below node; unknown predicates split by record counts."""
    if not len(idx):
        return
    kids = t.children[node]
    if not kids:
        acc[idx] += weight[:, None] * np.nan_to_num(table[node])[None, :]
        got[idx] = True
        return
    remaining = np.ones(len(idx), bool)
    unknown_any = np.zeros(len(idx), bool)
    for c in kids:
        tr, kn = cache.eval(t.pred[c], idx)
        take = remaining & tr & kn
        _blend(t, c, idx[take], weight[take], acc, got, table, cache, model, use_counts)
        remaining &= ~take
        unknown_any |= remaining & ~kn
    unk = unknown_any & remaining
    if unk.any():
        rc = t.record_count
        total = np.nansum([rc[c] for c in kids])
        for c in kids:
            w = rc[c] / total if total > 0 else 1.0 / len(kids)
            if use_counts:
                w = 1.0
            _blend(t, c, idx[unk], weight[unk] * w, acc, got, table, cache, model, use_counts)
        remaining &= ~unk
    if remaining.any() and model.no_true_child == "returnLastPrediction":
        rows = idx[remaining]
        acc[rows] += weight[remaining][:, None] * np.nan_to_num(table[node])[None, :]
        got[rows] = True


# ---------------------------------------------------------------------- building


_EMBEDDED_TAGS = ("Partition", "Regression", "DecisionTree")


def build_tree(root_el, model: TreeModel) -> TreeArrays:
    """The Node elements under root_el as flat arrays (node i = i-th Node in document order).

    Large ensembles have tens of thousands of nodes, so each node's children are read in one
    pass (no ElementPath searches) and constant predicates are shared.
    """
    preds: list[Pred] = []
    children: list[list[int]] = []
    default_ids: list[tuple[int, str]] = []
    scores: list[Any] = []
    ids: list[str] = []
    rcs: list[float] = []
    dists: list[Any] = []            # per node: (value, recordCount, probability, confidence)
    cats = model.cats
    dt = model.target_type
    classification = model.function == "classification"
    score_dt = dt if classification else "double"
    ctx = model.ctx
    nan = float("nan")
    max_depth = 0
    parsed: dict[str, Any] = {}      # category texts repeat on every node: parse each once
    score_parsed: dict[str, Any] = {}
    constant: dict[str, Pred] = {}   # <True/> and <False/> predicates, shared

    def label(text):
        v = parsed.get(text, parsed)
        if v is parsed:
            v = parsed[text] = parse_scalar(text, dt)
        return v

    stack = [(root_el, -1, 0)]
    while stack:
        el, parent, d = stack.pop()
        if d > max_depth:
            max_depth = d
        i = len(preds)
        pel = None
        sds = None
        kids = None
        embedded = False
        for c in el:                 # one pass over the children (comments are parsed away)
            tag = c.tag
            if tag == "Node":
                if kids is None:
                    kids = [c]
                else:
                    kids.append(c)
            elif tag == "ScoreDistribution":
                if classification:
                    get = c.get
                    sd = (get("value"), get("recordCount"), get("probability"), get("confidence"))
                    if sds is None:
                        sds = [sd]
                    else:
                        sds.append(sd)
            elif pel is None and tag in PREDICATE_TAGS:
                pel = c
            elif tag in _EMBEDDED_TAGS:
                embedded = True
        if pel is None:
            raise DocumentError("Node without a predicate", line=el.sourceline, element="Node")
        ptag = pel.tag
        if ptag == "True" or ptag == "False":
            p = constant.get(ptag)
            if p is None:
                p = constant[ptag] = parse_predicate(pel, ctx)
        else:
            p = parse_predicate(pel, ctx)
        preds.append(p)
        children.append([])
        if parent >= 0:
            children[parent].append(i)
        get = el.get
        dc = get("defaultChild")
        if dc is not None:
            default_ids.append((i, dc))
        node_id = get("id")
        ids.append(node_id if node_id is not None else str(i + 1))
        rc = get("recordCount")
        rcs.append(float(rc) if rc is not None else nan)
        score = get("score")
        if score is not None:
            v = score_parsed.get(score, score_parsed)
            if v is score_parsed:
                try:
                    v = score_parsed[score] = parse_scalar(score, score_dt)
                except ValueError:
                    raise DocumentError(f"score {score!r} is not a {dt}", line=el.sourceline,
                                        element="Node") from None
            score = v
        dists.append(sds)
        scores.append(score)
        if embedded:
            raise UnsupportedError("Node with an embedded model", line=el.sourceline, element="Node")
        if kids is not None:
            d += 1
            for k in reversed(kids):
                stack.append((k, i, d))
    n = len(preds)
    # children are appended as nodes are numbered (document order): already sorted
    default_child = np.full(n, -1, dtype=np.int64)
    if default_ids:
        id_to_index = {v: j for j, v in enumerate(ids)}
        for j, dc in default_ids:
            if dc not in id_to_index:
                raise DocumentError(f"defaultChild {dc!r} names no Node", element="Node")
            default_child[j] = id_to_index[dc]
    dist = counts = conf = None
    if classification:
        # categories: target values, else those named in distributions and scores
        if not cats:
            seen: list[Any] = []
            for sds, s in zip(dists, scores):
                for sd in sds or ():
                    v = label(sd[0])
                    if v not in seen:
                        seen.append(v)
                if s is not None and s not in seen:
                    seen.append(s)
            cats = model.cats = seen
        k = len(cats)
        nan_row = [nan] * k
        zero_row = [0.0] * k
        dist_rows: list[list[float]] = []
        count_rows: list[list[float]] = []
        conf_rows: list[list[float]] = []
        any_conf = any_dist = False
        cat_index = {c: j for j, c in enumerate(cats)}
        for j, sds in enumerate(dists):
            if not sds:
                dist_rows.append(nan_row)
                count_rows.append(zero_row)
                conf_rows.append(nan_row)
                continue
            any_dist = True
            rc_vals = []
            probs = {}
            frow = nan_row
            for value, rct, prob, cf in sds:
                v = label(value)
                if v not in cat_index:
                    continue
                ci = cat_index[v]
                c = float(rct if rct is not None else "nan")
                rc_vals.append((ci, c))
                if prob is not None:
                    probs[ci] = float(prob)
                if cf is not None:
                    if frow is nan_row:
                        frow = list(nan_row)
                    frow[ci] = float(cf)
                    any_conf = True
            drow = list(zero_row)
            crow = list(zero_row)
            total = sum(c for _, c in rc_vals if c == c)
            for ci, c in rc_vals:
                crow[ci] = c if c == c else 0.0
                if ci in probs:
                    drow[ci] = probs[ci]
                elif total > 0:
                    drow[ci] = c / total
            dist_rows.append(drow)
            count_rows.append(crow)
            conf_rows.append(frow)
            if scores[j] is None and rc_vals:
                best = max(rc_vals, key=lambda t: (t[1], -t[0]))
                scores[j] = cats[best[0]]
        dist = np.array(dist_rows, dtype=float).reshape(n, k) if any_dist else None
        counts = np.array(count_rows, dtype=float).reshape(n, k)
        conf = np.array(conf_rows, dtype=float).reshape(n, k) if any_conf else None
    has_score = np.array([s is not None for s in scores], dtype=bool)
    ids_arr = np.empty(n, object)
    ids_arr[:] = ids
    return TreeArrays(preds, children, default_child, has_score, scores, ids_arr,
                      np.array(rcs), dist, counts, conf, max_depth)


# ---------------------------------------------------------------------- general walk


class _PredCache:
    """Evaluates parsed predicates on a subset of rows, reading full columns from the scope."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.cols: dict[str, Col] = {}

    def col(self, name: str) -> Col:
        c = self.cols.get(name)
        if c is None:
            c = self.cols[name] = self.scope.get(name)
        return c

    def eval(self, p: Pred, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = len(idx)
        if p.kind == "true":
            return np.ones(m, bool), np.ones(m, bool)
        if p.kind == "false":
            return np.zeros(m, bool), np.ones(m, bool)
        if p.kind in ("simple", "set"):
            from ..predicates import _compare
            col = self.col(p.field)
            miss = col.missing[idx]
            if p.op == "isMissing":
                return miss.copy(), np.ones(m, bool)
            if p.op == "isNotMissing":
                return ~miss, np.ones(m, bool)
            sub = Col(col.values[idx], miss, col.data_type, col.op_type)
            if p.kind == "simple":
                truth = _compare(sub, p.op, p.value, p.info)
            else:
                hit = codes(sub.values, p.values) >= 0
                truth = ~hit if p.op == "isNotIn" else hit
            known = ~miss
            return truth & known, known
        results = None
        if p.op == "surrogate":
            truth = np.zeros(m, bool)
            known = np.zeros(m, bool)
            for c in p.children:
                t, k = self.eval(c, idx)
                take = ~known & k
                truth[take] = t[take]
                known |= k
            return truth, known
        results = [self.eval(c, idx) for c in p.children]
        if p.op == "and":
            false = np.zeros(m, bool)
            allk = np.ones(m, bool)
            for t, k in results:
                false |= k & ~t
                allk &= k
            known = false | allk
            return known & ~false, known
        if p.op == "or":
            true = np.zeros(m, bool)
            allk = np.ones(m, bool)
            for t, k in results:
                true |= k & t
                allk &= k
            return true, true | allk
        acc = np.zeros(m, bool)
        known = np.ones(m, bool)
        for t, k in results:
            acc ^= t
            known &= k
        return acc & known, known


def walk(t: TreeArrays, model: TreeModel, scope: Scope) -> tuple[np.ndarray, np.ndarray | None]:
    """Leaf (prediction node) index per row, -1 for no prediction; and the missing penalty."""
    n = scope.n
    leaf = np.full(n, -1, dtype=np.int64)
    penalty = np.ones(n) if model.penalty != 1.0 else None
    cache = _PredCache(scope)
    idx = np.arange(n)
    rt, rk = cache.eval(t.pred[0], idx)
    strategy = model.missing_strategy
    last = model.no_true_child == "returnLastPrediction"
    stack = [(0, idx[rt])]
    while stack:
        node, rows = stack.pop()
        if not len(rows):
            continue
        kids = t.children[node]
        if not kids:
            leaf[rows] = node
            continue
        remaining = np.ones(len(rows), bool)
        for c in kids:
            if not remaining.any():
                break
            sub = rows[remaining]
            tr, kn = cache.eval(t.pred[c], sub)
            take = tr & kn
            stack.append((c, sub[take]))
            unknown = ~kn
            pos = np.flatnonzero(remaining)
            remaining[pos[take]] = False
            if unknown.any() and strategy != "none":
                urows = sub[unknown]
                if strategy == "lastPrediction":
                    leaf[urows] = node
                elif strategy == "nullPrediction":
                    leaf[urows] = -1
                elif strategy == "defaultChild":
                    dc = t.default_child[node]
                    if dc < 0:
                        leaf[urows] = node   # no default child: the node's own prediction
                    else:
                        if penalty is not None:
                            penalty[urows] *= model.penalty
                        stack.append((int(dc), urows))
                remaining[pos[unknown]] = False
        if remaining.any() and last:
            leaf[rows[remaining]] = node
    return leaf, penalty
