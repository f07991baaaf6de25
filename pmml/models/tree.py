"""TreeModel: decision trees compiled to flat node arrays and scored for all rows at once.

The document's nodes become parallel arrays (node -> children, score, class distribution, id).
Scoring walks the tree *by node*, not by row: at each node the rows standing there are split
among the children with one vectorized predicate evaluation each. missingValueStrategy and
noTrueChildStrategy route the rows whose predicate is UNKNOWN or that no child takes.
A numba kernel (``tree_kernel``) scores the common case of simple predicates much faster; this
walk is the general path and the kernel's test oracle.
"""
from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from portmodel.errors import DocumentError, UnsupportedError

from ..objects.tree import TreeNodes
from ..predicate_logic import combine_columns, leaf_columns, op_code
from ..predicates import Pred, _compare, _set_hit, predicate_of
from ..scope import Scope
from ..values import Col, full, is_numeric_type, parse_scalar
from .base import CompiledModel, Result, register
from .tree_kernel import compile_kernel

MISSING_STRATEGIES = ("none", "lastPrediction", "nullPrediction", "defaultChild",
                      "weightedConfidence", "aggregateNodes")
NO_TRUE_CHILD = ("returnNullPrediction", "returnLastPrediction")
#: set while a MiningModel compiles segments that its one-pass ensemble plan may score: their
#: own kernels are then lowered only if that plan does not come about (``prepare_kernel``)
DEFER_LOWERING: ContextVar[bool] = ContextVar("DEFER_LOWERING", default=False)


@dataclass
class TreeArrays:
    """A tree as flat arrays; node 0 is the root."""

    pred: list[Pred]                 # predicate of each node
    children: list[list[int]]        # child node indices in document order (read-only)
    default_child: np.ndarray        # node index or -1
    has_score: np.ndarray            # bool
    score: list[Any]                 # parsed score (None if absent)
    ids: np.ndarray                  # entity id text of each node (object)
    record_count: np.ndarray         # float, NaN if absent
    dist: np.ndarray | None          # (nodes, categories) probabilities, NaN where no distribution
    counts: np.ndarray | None        # (nodes, categories) record counts (for aggregateNodes)
    confidence: np.ndarray | None    # (nodes, categories) confidences, NaN where absent
    depth: int = 0
    #: the fields the predicates read
    fields: frozenset = frozenset()
    #: arrays derived from the above at load (``prepare``): the scores as an array per dtype
    #: the model reads, and each category's distribution column
    derived: dict = field(default_factory=dict, repr=False, compare=False)

    def prepare(self, score_dtypes: list) -> None:
        """Build the derived arrays scoring reads (once, at load: a loaded tree is not
        changed by scoring, so threads may share it)."""
        for dtype in score_dtypes:
            dtype = np.dtype(dtype)
            self.derived[("score", dtype)] = self._scores(dtype)
        if self.dist is not None:
            self.derived["dist_cols"] = [np.ascontiguousarray(self.dist[:, j])
                                         for j in range(self.dist.shape[1])]

    def _scores(self, dtype: np.dtype) -> np.ndarray:
        arr = np.empty(len(self.score), dtype=dtype)
        arr[:] = [s if s is not None else (np.nan if dtype != object else None)
                  for s in self.score]
        return arr

    def score_array(self, dtype) -> np.ndarray:
        """The node scores as an array of dtype (NaN, or None for objects, where absent).
        Callers index it (a copy) and never write to it."""
        dtype = np.dtype(dtype)
        arr = self.derived.get(("score", dtype))
        return arr if arr is not None else self._scores(dtype)


@register("TreeModel")
class TreeModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        body = spec.body(TreeNodes)
        if not body:
            raise DocumentError("TreeModel has no Node", line=self.line, element=self.tag)
        body = body[0]
        self.missing_strategy = body.missing_value_strategy or "none"
        self.no_true_child = body.no_true_child_strategy or "returnNullPrediction"
        self.penalty = 1.0 if body.missing_value_penalty is None else body.missing_value_penalty
        if self.function not in ("classification", "regression"):
            raise UnsupportedError(f"TreeModel functionName={self.function!r}",
                                   line=self.line, element=self.tag)
        self.cats = self.categories() if self.function == "classification" else []
        self.tree = build_tree(body, self)
        # one node's score per row (not blended): whole scores give whole predictions
        self.whole_predictions = self.function == "regression" and self.missing_strategy not in (
            "weightedConfidence", "aggregateNodes") and all(
            s is None or float(s).is_integer() for s in self.tree.score)
        self.has_local_transformations = spec.local_transformations is not None
        if self.function == "regression":
            dtypes = [np.float32 if self.float32 else float]
        else:
            dtypes = [full(0, None, self.target_type, "categorical").values.dtype]
        self.tree.prepare(dtypes)
        # None for weightedConfidence / aggregateNodes (blended, never one leaf per row);
        # lowered now unless an enclosing ensemble may lower all its trees at once
        self.kernel = compile_kernel(self.tree, self, lazy=DEFER_LOWERING.get())
        self._tables = _blend_tables(self) if self.missing_strategy in (
            "weightedConfidence", "aggregateNodes") else None
        # JPMML-Evaluator also charges missingValuePenalty for each surrogate predicate decided
        # by an alternative; the kernels do not count those, so such trees are walked
        self.surrogate_penalty = self.penalty != 1.0 and any(_is_surrogate(p)
                                                             for p in self.tree.pred)

    def record_scorer(self, need):
        """The one-record scorer of pmml/record.py (built in pmml/record_tree.py)."""
        from ..record_tree import tree_scorer
        return tree_scorer(self, need)

    # ------------------------------------------------------------------ scoring
    def score(self, scope: Scope) -> Result:
        if self.missing_strategy in ("weightedConfidence", "aggregateNodes"):
            return self._weighted_result(scope)
        if self.surrogate_penalty:
            leaf, penalty = walk(self.tree, self, scope, count_surrogates=True)
        elif self.kernel is not None:
            leaf, penalty = self.kernel.run(scope)
        else:
            leaf, penalty = walk(self.tree, self, scope)
        return self.result_from_leaves(scope.n, leaf, penalty)

    def result_from_leaves(self, n: int, leaf: np.ndarray, penalty: np.ndarray | None) -> Result:
        t = self.tree
        ok = leaf >= 0
        if ok.all():        # (every row reached a node: no substitute index, and when every
            safe = leaf     # node has a score, no per-row look-up of whether it has one)
            has = ok if t.has_score.all() else t.has_score[safe]
        else:
            safe = np.where(ok, leaf, 0)
            has = ok & t.has_score[safe]
        missing = ~has
        extra: dict[str, Any] = {}
        if self.asks("entityId", "clusterId"):
            ids = t.ids[safe]                    # fancy indexing copies
            if not ok.all():
                ids[~ok] = None
            extra["entityId"] = ids
        if self.function == "regression":
            if self.float32:     # x-mathContext="float": scores are float32 numbers
                vals = t.score_array(np.float32)[safe].astype(float)
            else:
                vals = t.score_array(float)[safe]
            vals = np.where(missing, np.nan, vals)
            return Result(n, "regression", Col(vals, missing, self.target_type, "continuous"),
                          extra=extra)
        every = bool(has.all())
        if every:       # (every row has a prediction: one take, no masks)
            score_arr = t.score_array(float if is_numeric_type(self.target_type) else object)
            col = Col(score_arr.take(safe), missing, self.target_type, "categorical")
        else:
            col = full(n, None, self.target_type, "categorical")
            score_arr = t.score_array(col.values.dtype)
            col.values[has] = score_arr[safe[has]]
            col.missing[:] = missing
        probs: dict[Any, np.ndarray] = {}
        if t.dist is not None:
            if not every:
                d = np.take(t.dist, safe, axis=0)    # (much faster than t.dist[safe])
                for j, c in enumerate(self.cats):
                    probs[c] = np.where(missing, np.nan, d[:, j])
            else:
                # every row has a prediction: each category's column gathered straight from a
                # contiguous copy of the node column (no rows x categories intermediate)
                cols = t.derived["dist_cols"]
                for j, c in enumerate(self.cats):
                    probs[c] = np.take(cols[j], safe)
                d = None
            # as JPMML-Evaluator: a node's confidences are its ScoreDistribution confidence
            # attributes (0 where absent), times missingValuePenalty per missing-value step;
            # a node without ScoreDistribution has none (built only when something reads them)
            if self.asks("confidence"):
                if t.confidence is not None:
                    cf = np.take(t.confidence, safe, axis=0)
                    cf = np.where(np.isnan(cf), 0.0, cf)
                else:
                    cf = np.zeros((n, len(self.cats)))
                if penalty is not None:
                    cf *= penalty[:, None]
                none = missing | np.isnan(probs[self.cats[0]]) if len(self.cats) else missing
                extra["confidence"] = {c: np.where(none, np.nan, cf[:, j])
                                       for j, c in enumerate(self.cats)}
        return Result(n, "classification", col, list(self.cats), probs if t.dist is not None else None,
                      extra)

    def _weighted_result(self, scope: Scope) -> Result:
        """weightedConfidence / aggregateNodes (PMML 4.4 TreeModel, missingValueStrategy).

        A row that meets no UNKNOWN predicate ends in one node and gets exactly what the other
        strategies give (``result_from_leaves``: that node's score, distribution, confidences
        and id). At a node where a child's predicate is UNKNOWN, that child and its later
        siblings that are not FALSE (up to and including the first TRUE one, which ends the scan
        as it would for a known value) are all followed, recursively:

        * weightedConfidence: the node's confidences (and probabilities) are the average of the
          followed children's, weighted by their recordCount among those children that give a
          prediction (equal weights when none has a positive recordCount); the predicted value
          is the category with the highest confidence.
        * aggregateNodes: the ScoreDistribution recordCounts of every prediction node reached are
          summed into one virtual node; the predicted value is the category with the most
          records, probability and confidence are shares of the summed records.

        For regression the same traversal averages the node scores (weightedConfidence: by the
        recordCount proportions; aggregateNodes: the recordCount-weighted mean of the reached
        nodes). A blended row has no entityId. missingValuePenalty multiplies the confidences
        once per surrogate predicate decided by an alternative, as in the other strategies.
        """
        tables = self._tables
        t = self.tree
        n = scope.n
        cache = _PredCache(scope)
        leaf = np.full(n, -1, dtype=np.int64)
        penalty = np.ones(n) if self.penalty != 1.0 else None
        blended = np.zeros(n, bool)
        idx = np.arange(n)
        rt, rk = cache.eval(t.pred[0], idx)
        factor = None
        if penalty is not None and _is_surrogate(t.pred[0]):
            factor = np.where(_alternative(cache, t.pred[0], idx, rk), self.penalty, 1.0)
            penalty *= factor
        rows = idx[rt]
        state = _Blend(t, cache, tables, self.missing_strategy == "weightedConfidence",
                       self.no_true_child == "returnLastPrediction", self.penalty, leaf,
                       penalty, blended)
        vals, has = _blend(state, rows)
        result = self.result_from_leaves(n, leaf, penalty)
        mixed = blended[rows]
        if not mixed.any():
            return result
        at = rows[mixed]
        vals, has = vals[mixed], has[mixed]
        if factor is not None and tables.scaled is not None:
            vals[:, tables.scaled] *= factor[at][:, None]
        col = result.value
        if "entityId" in result.extra:
            result.extra["entityId"][at] = None
        if self.function == "regression":
            if state.weighted:
                value = vals[:, 0]
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    value = np.where(vals[:, 1] > 0, vals[:, 0] / vals[:, 1],
                                     vals[:, 2] / vals[:, 3])
            col.values[at] = np.where(has, value, np.nan)
            col.missing[at] = ~has
            return result
        k = len(self.cats)
        if state.weighted:
            conf, prob = vals[:, :k], vals[:, k:]
            best = np.argmax(conf, axis=1)
        else:
            counts = vals[:, k:]
            total = counts.sum(axis=1)
            has &= total > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                prob = counts / total[:, None]
                conf = vals[:, :k] / total[:, None]
            best = np.argmax(counts, axis=1)
        cats = np.empty(k, dtype=col.values.dtype)
        cats[:] = self.cats
        col.values[at[has]] = cats[best[has]]
        col.values[at[~has]] = None if col.values.dtype == object else np.nan
        col.missing[at] = ~has
        if result.probs is None:
            result.probs = {c: np.full(n, np.nan) for c in self.cats}
        confidence = result.extra.get("confidence")
        if confidence is None and self.asks("confidence"):
            confidence = result.extra["confidence"] = {c: np.full(n, np.nan) for c in self.cats}
        for j, c in enumerate(self.cats):
            result.probs[c][at] = np.where(has, prob[:, j], np.nan)
            if confidence is not None:
                confidence[c][at] = np.where(has, conf[:, j], np.nan)
        return result


def _is_surrogate(p: Pred) -> bool:
    return p.kind == "compound" and p.op == "surrogate"


def _alternative(cache: "_PredCache", p: Pred, idx: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Rows where the surrogate predicate p was decided by an alternative: its first predicate
    is UNKNOWN, a later one is not. JPMML-Evaluator (whose outputs are the reference) charges
    missingValuePenalty once for each such evaluation of a Node's predicate."""
    _, first_known = cache.eval(p.children[0], idx)
    return known & ~first_known


@dataclass
class _BlendTables:
    """Per node, what a prediction node contributes to a weightedConfidence / aggregateNodes
    blend: values (nodes, width), whether it predicts at all, and the columns that
    missingValuePenalty scales (confidences, or penalized record counts)."""

    values: np.ndarray
    has: np.ndarray
    scaled: slice | None


def _blend_tables(model: TreeModel) -> _BlendTables:
    """Classification: weightedConfidence blends [confidences | probabilities], aggregateNodes
    sums [record counts (penalized) | record counts]. A node without ScoreDistribution votes for
    its score (probability and confidence 1); a node without confidence attributes offers its
    probabilities as confidences; a ScoreDistribution without recordCounts counts probability x
    the Node's recordCount. Regression: weightedConfidence averages [score]; aggregateNodes sums
    [recordCount x score, recordCount, score, 1] (the last two: an unweighted mean when no
    reached node has a recordCount)."""
    t = model.tree
    nn = len(t.pred)
    weighted = model.missing_strategy == "weightedConfidence"
    rc = np.where(t.record_count > 0, t.record_count, 0.0)     # NaN (absent) -> 0
    if model.function == "regression":
        score = np.array([s if s is not None else np.nan for s in t.score], dtype=float)
        has = t.has_score.copy()
        score = np.where(has, score, 0.0)
        if weighted:
            return _BlendTables(score[:, None], has, None)
        values = np.stack([rc * score, rc, score, np.ones(nn)], axis=1)
        return _BlendTables(np.where(has[:, None], values, 0.0), has, None)
    k = len(model.cats)
    index = {c: j for j, c in enumerate(model.cats)}
    prob = t.dist.copy() if t.dist is not None else np.full((nn, k), np.nan)
    with_sd = ~np.isnan(prob).all(axis=1) if k else np.zeros(nn, bool)
    has = with_sd.copy()
    for v in np.flatnonzero(~with_sd):
        prob[v] = 0.0
        j = index.get(t.score[v]) if t.has_score[v] else None
        if j is not None:
            prob[v, j] = 1.0
            has[v] = True
    prob = np.nan_to_num(prob)
    if weighted:
        conf = prob.copy()
        if t.confidence is not None:
            own = with_sd & ~np.isnan(t.confidence).all(axis=1)
            conf[own] = np.nan_to_num(t.confidence[own])
        return _BlendTables(np.hstack([conf, prob]), has, slice(0, k))
    counts = t.counts.copy() if t.counts is not None else np.zeros((nn, k))
    empty = counts.sum(axis=1) <= 0
    counts[empty] = prob[empty] * rc[empty, None]
    return _BlendTables(np.hstack([counts, counts]), counts.sum(axis=1) > 0, slice(0, k))


@dataclass
class _Blend:
    """One weightedConfidence / aggregateNodes traversal (see TreeModel._weighted_result)."""

    t: TreeArrays
    cache: "_PredCache"
    tables: _BlendTables
    weighted: bool          # weightedConfidence (recordCount-weighted mean), else sums
    last: bool              # noTrueChildStrategy="returnLastPrediction"
    factor: float           # missingValuePenalty
    leaf: np.ndarray        # (n,) prediction node of rows that meet no UNKNOWN (-1: none)
    penalty: np.ndarray | None   # (n,) and their missing-value penalty
    blended: np.ndarray     # (n,) rows that met an UNKNOWN predicate


def _blend(b: _Blend, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, predicts) of the rows standing at the root, whose predicate is TRUE.

    Top-down, each node splits its rows among the children they follow (a row follows its
    first TRUE child; after an UNKNOWN one it follows every child that is not FALSE up to the
    first TRUE one); bottom-up, each node combines its children's values. Iterative: a node's
    frame is pushed before its children's, so the reversed push order visits children first."""
    t, tables = b.t, b.tables
    width = tables.values.shape[1]
    frames: list[tuple] = []
    stack = [(0, rows)]
    while stack:
        node, rows = stack.pop()
        kids = t.children[node]
        if not kids:
            b.leaf[rows] = node
            frames.append((node, rows, None, None, None))
            continue
        m = len(rows)
        open_ = np.ones(m, bool)
        follow = np.zeros((len(kids), m), bool)
        factor = np.ones(m) if b.penalty is not None else None
        for j, c in enumerate(kids):
            pos = np.flatnonzero(open_)
            if not len(pos):
                break
            sub = rows[pos]
            tr, kn = b.cache.eval(t.pred[c], sub)
            if factor is not None and _is_surrogate(t.pred[c]):
                factor[pos[_alternative(b.cache, t.pred[c], sub, kn)]] *= b.factor
            unknown = ~kn
            follow[j, pos[tr | unknown]] = True
            open_[pos[tr]] = False
            b.blended[sub[unknown]] = True
        stop = ~follow.any(axis=0)
        if stop.any():
            b.leaf[rows[stop]] = node if b.last else -1
        if factor is not None:
            b.penalty[rows] *= factor
        frames.append((node, rows, follow, stop, factor))
        for j, c in enumerate(kids):
            sel = follow[j]
            if sel.any():
                stack.append((c, rows[sel]))
    done: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for node, rows, follow, stop, factor in reversed(frames):
        m = len(rows)
        if follow is None:
            done[node] = (np.repeat(tables.values[node][None, :], m, axis=0),
                          np.full(m, tables.has[node]))
            continue
        vals = np.zeros((m, width))
        has = np.zeros(m, bool)
        if b.last and stop.any():
            vals[stop] = tables.values[node]
            has[stop] = tables.has[node]
        num = np.zeros((m, width))
        den = np.zeros(m)
        eq_num = np.zeros((m, width))
        eq_den = np.zeros(m)
        for j, c in enumerate(t.children[node]):
            sel = np.flatnonzero(follow[j])
            if not len(sel):
                continue
            cv, ch = done.pop(c)
            cv = np.where(ch[:, None], cv, 0.0)
            eq_num[sel] += cv
            eq_den[sel] += ch
            if b.weighted:
                w = t.record_count[c]
                w = w if w > 0 else 0.0          # absent (NaN) or 0: weighs nothing
                num[sel] += w * cv
                den[sel] += np.where(ch, w, 0.0)
        went = ~stop
        if b.weighted:
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where((den > 0)[:, None], num / den[:, None],
                                eq_num / eq_den[:, None])
            vals[went] = mean[went]
        else:
            vals[went] = eq_num[went]
        has[went] = eq_den[went] > 0
        if factor is not None and tables.scaled is not None:
            vals[:, tables.scaled] *= factor[:, None]
        done[node] = (vals, has)
    return done[0]


# ---------------------------------------------------------------------- building


_EMBEDDED_TAGS = ("Partition", "Regression", "DecisionTree")
_COMPARISONS = frozenset(("equal", "notEqual", "lessThan", "lessOrEqual", "greaterThan",
                          "greaterOrEqual"))


def build_tree(body: TreeNodes, model: TreeModel) -> TreeArrays:
    """The typed Node hierarchy (``objects.TreeNodes``, already flat: node i = i-th Node in
    document order) as the arrays scoring reads: predicates checked against the fields and their
    values parsed to the field types, scores to the target type, distributions to matrices.

    Large ensembles have tens of thousands of nodes: fields are looked up once per tree,
    constant predicates shared, and the distributions built with numpy.
    """
    n = len(body)
    ctx = model.ctx
    dt = model.target_type
    classification = model.function == "classification"
    score_dt = dt if classification else "double"
    nan = float("nan")
    for i, frags in body.extras:
        for f in frags:
            if f.tag in _EMBEDDED_TAGS:
                raise UnsupportedError("Node with an embedded model", line=body.lines[i],
                                       element="Node")
    parent = body.parent
    # (a leaf's child list is one shared empty tuple: half the nodes of a tree are leaves)
    children: list = [_NO_CHILDREN] * n
    depth = [0] * n
    for i, up in enumerate(parent):  # (a parent precedes its children: document order)
        if up >= 0:
            kids = children[up]
            if kids is _NO_CHILDREN:
                children[up] = [i]
            else:
                kids.append(i)
            depth[i] = depth[up] + 1
    max_depth = max(depth)
    # predicates
    preds: list[Pred] = []
    others = dict(body.predicates)
    plines = body.pred_lines
    constant: dict[str, Pred] = {}   # <True/> and <False/> predicates, shared
    infos: dict[str, Any] = {}
    lines = body.lines
    ops, names, texts = body.pred_op, body.pred_field, body.pred_value
    numeric = _comparison_values(ops, names, texts, ctx, infos)
    for i, op in enumerate(ops):
        v = numeric[i]
        if v is not None:
            fname = names[i]
            # (positional, and the members and children of a simple predicate (none) one
            # shared empty tuple: much cheaper than the keyword call with fresh lists)
            preds.append(Pred("simple", fname, op, v, (), (), infos[fname], plines[i]))
            continue
        if op is None:
            node = others.get(i)
            if node is None:     # (Spark MLlib writes some): read as <True/>, as JPMML does
                ctx.leniency.allow("node-without-predicate", lines[i], "Node")
                op = "True"
            else:
                preds.append(predicate_of(node, ctx))
                continue
        if op == "True" or op == "False":
            p = constant.get(op)
            if p is None:
                p = constant[op] = Pred("true" if op == "True" else "false", line=plines[i])
            preds.append(p)
            continue
        fname, text = names[i], texts[i]
        p = None
        if op in _COMPARISONS and text is not None:
            info = infos.get(fname)
            if info is not None:
                try:
                    p = Pred("simple", fname, op, parse_scalar(text, info.data_type), info=info,
                             line=plines[i])
                except ValueError:
                    p = None
        if p is None:            # anything unusual (errors included): the general reading
            p = predicate_of(body.predicate(i), ctx)
        preds.append(p)
    # node attributes
    default_child = np.full(n, -1, dtype=np.int64)
    if body.id.count(None) == n:         # (no ids, as sklearn2pmml writes: 1, 2, ...)
        ids = _default_ids(n)
    else:
        ids = [v if v is not None else str(i + 1) for i, v in enumerate(body.id)]
    if any(dc is not None for dc in body.default_child):
        id_to_index = {v: j for j, v in enumerate(ids)}
        for j, dc in enumerate(body.default_child):
            if dc is None:
                continue
            if dc not in id_to_index:
                raise DocumentError(f"defaultChild {dc!r} names no Node", line=lines[j],
                                    element="Node")
            default_child[j] = id_to_index[dc]
    rcs = _float_column(body.record_count)
    score_parsed: dict[Any, Any] = dict.fromkeys(body.score)     # (each distinct text once)
    for text in score_parsed:
        if text is not None:
            try:
                score_parsed[text] = parse_scalar(text, score_dt)
            except ValueError:
                i = body.score.index(text)
                raise DocumentError(f"score {text!r} is not a {dt}", line=lines[i],
                                    element="Node") from None
    scores: list[Any] = list(map(score_parsed.__getitem__, body.score))
    dist = counts = conf = None
    if classification:
        dist, counts, conf = _distributions(body, model, scores)
    has_score = np.array([s is not None for s in scores], dtype=bool)
    ids_arr = np.empty(n, object)
    ids_arr[:] = ids
    return TreeArrays(preds, children, default_child, has_score, scores, ids_arr, rcs, dist,
                      counts, conf, max_depth, frozenset(body.fields()))


_NO_CHILDREN: tuple = ()


def _float_column(values: tuple) -> np.ndarray:
    """A column of numbers and Nones as floats, None -> NaN. (numpy converts a None
    several times slower than a number: a column of an attribute no element has, as most
    ScoreDistribution confidences and probabilities, is made NaN at once.)"""
    n = len(values)
    missing = values.count(None)
    if missing == n:
        return np.full(n, np.nan)
    if missing:
        nan = np.nan
        values = [nan if v is None else v for v in values]
    return np.array(values, dtype=float)
_ID_TEXTS: tuple[str, ...] = ()


def _default_ids(n: int) -> tuple[str, ...]:
    """"1" ... str(n), the entity ids of nodes without an id: shared by every tree (a forest of
    many trees builds and frees no text per node)."""
    global _ID_TEXTS
    texts = _ID_TEXTS
    if len(texts) < n:           # (replaced whole: a thread reading the old tuple is not hurt)
        texts = _ID_TEXTS = texts + tuple(map(str, range(len(texts) + 1, max(n, 1024) + 1)))
    return texts[:n]


#: build_tree makes its simple predicates with positional arguments in this order
assert [f.name for f in dataclasses.fields(Pred)][:8] == [
    "kind", "field", "op", "value", "values", "children", "info", "line"]
_NUMERIC_TYPES = ("double", "float", "integer")
#: characters of number texts that Python's ``float`` reads but ``values.parse_scalar``'s
#: pattern does not take (or takes only after its own stripping, or as a special value):
#: blanks, digit group underscores, nan / inf / infinity in any case. ASCII texts without
#: them are numbers for ``float`` exactly when they are for that pattern, with the same value.
_NOT_PLAIN = "_nNiI \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _comparison_values(ops, names, texts, ctx, infos: dict) -> list:
    """Per node, the parsed value of its comparison with a numeric field (None for any other
    predicate): the values of each data type checked at once (ASCII, none of ``_NOT_PLAIN``)
    and converted by ``float``, as ``parse_scalar`` would one by one (anything else, NaN or
    INF or blanks or an error, is left to it). infos receives the fields' FieldInfos."""
    out: list = [None] * len(ops)
    comparisons = _COMPARISONS
    idx = [i for i, op in enumerate(ops) if op in comparisons and texts[i] is not None]
    type_of: dict[str, str | None] = {}      # field -> its numeric data type (None: other)
    for fname in dict.fromkeys([names[i] for i in idx]):
        info = infos.get(fname)
        if info is None:
            info = ctx.lookup(fname)
            if info is None:
                type_of[fname] = None
                continue
            infos[fname] = info
        dt = info.data_type
        type_of[fname] = dt if dt in _NUMERIC_TYPES else None
    kinds = set(type_of.values())
    if len(kinds) == 1 and None not in kinds:    # (one numeric type for all, as is common)
        groups = {kinds.pop(): idx}
    else:
        groups = {}
        for i in idx:
            dt = type_of[names[i]]
            if dt is not None:
                groups.setdefault(dt, []).append(i)
    for dt, members in groups.items():
        group = [texts[i] for i in members]
        joined = "\x00".join(group)
        if not joined.isascii() or any(c in joined for c in _NOT_PLAIN):
            continue
        try:
            values = list(map(float, group))
        except ValueError:
            continue
        if dt == "float":            # (rounded from the double, as parse_scalar rounds)
            values = np.array(values).astype(np.float32).astype(float).tolist()
        for i, v in zip(members, values):
            out[i] = v
    return out


def _distributions(body: TreeNodes, model: TreeModel, scores: list) -> tuple:
    """The ScoreDistributions as (nodes, categories) matrices: probabilities (NaN rows for nodes
    without any), record counts, confidences (None when no node has any); the categories are
    the target's, else those named in distributions and scores (``model.cats`` is set). A node
    without a score predicts its category with the most records (the first of equals)."""
    n = len(body)
    dt = model.target_type
    parsed: dict[Any, Any] = {}
    for text in dict.fromkeys(body.sd_value):
        try:
            parsed[text] = parse_scalar(text, dt)
        except ValueError:
            raise DocumentError(f"ScoreDistribution value {text!r} is not a {dt}",
                                element="ScoreDistribution") from None
    cats = model.cats
    if not cats:
        labels = [parsed[t] for t in body.sd_value]
        by_node: dict[int, list] = {}
        for j, i in enumerate(body.sd_node):
            by_node.setdefault(i, []).append(labels[j])
        seen: dict[Any, None] = {}
        for i, s in enumerate(scores):
            for v in by_node.get(i, ()):
                seen.setdefault(v)
            if s is not None:
                seen.setdefault(s)
        cats = model.cats = list(seen)
    k = len(cats)
    counts = np.zeros((n, k))
    m = len(body.sd_value)
    if not m:
        return None, counts, None
    cat_index = {c: j for j, c in enumerate(cats)}
    text_index = {t: cat_index.get(v, -1) for t, v in parsed.items()}
    ci = np.array([text_index[t] for t in body.sd_value], np.int64)
    node = np.array(body.sd_node, np.int64)
    nan = np.nan
    rc = _float_column(body.sd_record_count)
    pr = _float_column(body.sd_probability)
    cf = _float_column(body.sd_confidence)
    has_sd = np.bincount(node, minlength=n) > 0
    known = ci >= 0
    node_k, ci_k, rc_k = node[known], ci[known], rc[known]
    counts[node_k, ci_k] = np.where(np.isnan(rc_k), 0.0, rc_k)
    total = np.bincount(node_k, weights=np.where(np.isnan(rc_k), 0.0, rc_k), minlength=n)
    dist = np.zeros((n, k))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total[node_k] > 0, rc_k / total[node_k], 0.0)
    pr_k = pr[known]
    dist[node_k, ci_k] = np.where(np.isnan(pr_k), share, pr_k)
    dist[~has_sd] = nan
    conf = None
    cf_k = cf[known]
    given = ~np.isnan(cf_k)
    if given.any():
        conf = np.full((n, k), nan)
        conf[node_k[given], ci_k[given]] = cf_k[given]
    for i in np.flatnonzero(has_sd & np.array([s is None for s in scores], bool)):
        rows = np.flatnonzero(node_k == i)
        if len(rows):
            best = max(rows, key=lambda r: (rc_k[r], -ci_k[r]))
            scores[i] = cats[ci_k[best]]
    return dist, counts, conf


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
        """(truth, known) of p on the rows idx (the logic of ``predicate_logic``)."""
        code = op_code(p.kind, p.op)
        if p.kind in ("simple", "set"):
            col = self.col(p.field)
            miss = col.missing[idx]

            def test() -> np.ndarray:
                sub = Col(col.values[idx], miss, col.data_type, col.op_type)
                if p.kind == "simple":
                    return _compare(sub, p.op, p.value, p.info)
                return _set_hit(sub, p.values, p.op == "isNotIn")
            return leaf_columns(code, miss, test)
        if p.kind != "compound":
            return leaf_columns(code, np.zeros(len(idx), bool), None)
        return combine_columns(code, (self.eval(c, idx) for c in p.children), len(idx))


def walk(t: TreeArrays, model: TreeModel, scope: Scope,
         count_surrogates: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Leaf (prediction node) index per row, -1 for no prediction; and the missing penalty
    (missingValuePenalty per defaultChild step, and with count_surrogates per surrogate
    predicate decided by an alternative, as JPMML-Evaluator counts them)."""
    n = scope.n
    leaf = np.full(n, -1, dtype=np.int64)
    penalty = np.ones(n) if model.penalty != 1.0 else None
    cache = _PredCache(scope)
    idx = np.arange(n)
    rt, rk = cache.eval(t.pred[0], idx)
    surrogates = count_surrogates and penalty is not None
    if surrogates and _is_surrogate(t.pred[0]):
        penalty[_alternative(cache, t.pred[0], idx, rk)] *= model.penalty
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
            if surrogates and _is_surrogate(t.pred[c]):
                penalty[sub[_alternative(cache, t.pred[c], sub, kn)]] *= model.penalty
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
