"""Tree ensembles scored in one pass: every tree of a MiningModel lowered into one set of node
arrays, all trees walked for all rows by one kernel that accumulates the ensemble's sums.

Applies to a MiningModel whose segments are all TreeModels with ``True`` predicates, combined
by sum / weightedSum / average / weightedAverage (regression), majorityVote /
weightedMajorityVote / average / weightedAverage (classification): random forests, boosted
trees (sklearn2pmml's gradient boosting is a modelChain whose first segment is such a sum),
R's and KNIME's ensembles. The kernel produces exactly the running sums the general
aggregation keeps (same additions in the same order), and ``ensemble_aggregation``'s aggregators
finish them, so the Result is the one the segment-by-segment path gives.
The arrays are built at load, so a loaded model never changes while it scores (its segment
trees are not lowered on their own then: the plan replaces them); without numba the same
arrays are walked by the kernels' numpy twins.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..scope import Scope
from ..values import codes
from .base import Result
from .ensemble_aggregation import (ProbabilityAggregator, ValueAggregator, VoteAggregator,
                                   blank_rows)
from .compute_backend import pair
from .tree_kernel import FrozenGeneral, FrozenGraph, General, Graph, NotLowerable, _parallel
from .tree import walk
from .tree_numpy import accumulate

REGRESSION_METHODS = ("sum", "weightedSum", "average", "weightedAverage")
CLASSIFICATION_METHODS = ("majorityVote", "weightedMajorityVote", "average", "weightedAverage")
_NO_VOTE = np.iinfo(np.int64).max


def _spec_key(spec) -> tuple:
    """What makes two MiningFields prepare a column the same way."""
    return (spec.op_type, spec.invalid_treatment, repr(spec.invalid_replacement),
            spec.missing_treatment, repr(spec.missing_replacement), spec.outliers, spec.low,
            spec.high)


class ForestPlan:
    """A tree ensemble compiled for one-pass scoring; ``score`` replaces MiningModel.score."""

    def __init__(self, mm, trees: list, fast: bool, defs: dict,
                 leaf_val: np.ndarray, leaf_cls: np.ndarray, leaf_ok: np.ndarray,
                 weight: np.ndarray, segw: np.ndarray, cats: list[Any], vote: bool):
        self.mm = mm
        self.trees = trees                # (TreeModel, base) per segment
        #: the trees' arrays, lowered at load (None: each tree is walked on its own)
        self.plan: FrozenGraph | FrozenGeneral | None = _lower_or_none(
            [m for m, _ in trees], fast)
        self.defs = defs
        self.leaf_val = leaf_val
        self.leaf_cls = leaf_cls
        self.leaf_ok = leaf_ok
        self.weight = weight              # the method's weight of each tree (1 when unweighted)
        self.segw = segw                  # each segment's weight (missing-prediction bookkeeping)
        self.cats = cats
        self.vote = vote
        total = 0.0
        for w in segw:
            total += float(w)
        self.total_w = total

    # ------------------------------------------------------------------ scoring
    def score(self, scope: Scope) -> Result:
        n = scope.n
        plan = self.plan
        X = plan.fields.matrix(scope.child(self.defs)) if plan is not None else None
        k = self.leaf_val.shape[1]
        # x-mathContext="float": float32 running sums in segment order (the kernels sum in
        # float64), so the trees are walked one by one
        float32 = self.mm.float32 and not self.vote
        acc = np.zeros((n, k), np.float32 if float32 else float)
        den = np.zeros(n)
        missw = np.zeros(n)
        missv = np.zeros(n)
        nmiss = np.zeros(n, np.int32)
        first = np.full((n, k) if self.vote else (1, 1), _NO_VOTE, np.int64)
        out = (acc, den, missw, missv, nmiss, first)
        if X is not None and not float32:
            self._run_plan(X, out)
        else:
            for t in range(len(self.trees)):
                self._accumulate_np(t, self._leaves(t, X, scope), out)
        return self._finish(scope, out)

    def _run_plan(self, X: np.ndarray, out: tuple) -> None:
        """All trees over X in one kernel call (numba, or its numpy twin)."""
        p = self.plan
        n = X.shape[1]
        par = "_par" if _parallel(n, len(self.trees)) else ""
        common = (self.weight, self.segw, self.vote, self.leaf_val, self.leaf_cls, self.leaf_ok)
        if isinstance(p, FrozenGraph):
            fn = pair("tree.graph_forest" + par).pick(n * len(self.trees))
            fn(X, p.starts, *common, *p.args(), p.all_le, *out)
        else:
            fn = pair("tree.general_forest" + par).pick(n * len(self.trees))
            fn(X, p.roots, p.strategy, p.last, p.factor, *common, *p.tree_args(), p.scratch, *out)

    def _leaves(self, t: int, X: np.ndarray | None, scope: Scope) -> np.ndarray:
        """Global leaf index of tree t per row (float32 sums walk the trees one by one; without
        a matrix each tree takes its own kernel or the general walk)."""
        model, base = self.trees[t]
        if X is None:       # (kernel and walk give the same leaves)
            sub = scope.child(model.defs)
            kernel = model.kernel
            leaf, _ = kernel.run(sub) if kernel is not None and kernel.lowered else \
                walk(model.tree, model, sub)
            return np.where(leaf >= 0, leaf + base, -1)
        p = self.plan
        if isinstance(p, FrozenGraph):
            return p.leaves(X, t)
        return p.leaves(X, t, None)

    def _accumulate_np(self, t: int, leaf: np.ndarray, out: tuple) -> None:
        accumulate(t, leaf, float(self.weight[t]), float(self.segw[t]), self.vote, self.leaf_val,
                   self.leaf_cls, self.leaf_ok, *out)

    def _finish(self, scope: Scope, out: tuple) -> Result:
        """Hand the sums to the general path's aggregator, which computes the Result."""
        acc, den, missw, missv, nmiss, first = out
        acc = acc.astype(float, copy=False)
        mm = self.mm
        n = scope.n
        if self.vote:
            agg = VoteAggregator(mm, n)
            agg.cats = list(self.cats)
            agg.votes = np.ascontiguousarray(acc.T)
            agg.first = np.ascontiguousarray(first.T)
            agg.miss_votes = missv
        elif mm.function == "classification":
            agg = ProbabilityAggregator(mm, n)
            agg.cats = list(self.cats)
            agg.acc = {c: acc[:, j] for j, c in enumerate(self.cats)}
            agg.den = den
        else:
            agg = ValueAggregator(mm, n)
            agg.acc = acc[:, 0]
            agg.den = den
        miss = agg.miss
        miss.total_w = np.full(n, self.total_w)
        miss.miss_w = missw
        miss.any_miss = nmiss > 0
        result = agg.finish(scope, np.ones(n, bool))
        if mm.treatment == "returnMissing" and miss.any_miss.any():
            result = blank_rows(result, miss.any_miss)
        result.segments = {}
        return result


# ---------------------------------------------------------------------- compiling


def try_compile_forest(mm, fast: bool = True) -> ForestPlan | None:
    """A ForestPlan for a MiningModel of plain tree segments; None when the general path must
    score it (other segment models or predicates, per-segment transformations, ...).
    ``fast=False`` skips the graph form (tests use it)."""
    from .tree import TreeModel
    fn = mm.function
    allowed = {"regression": REGRESSION_METHODS, "classification": CLASSIFICATION_METHODS}
    if mm.method not in allowed.get(fn, ()) or not mm.segments:
        return None
    models = []
    for seg in mm.segments:
        m = seg.model
        if not seg.always or type(m) is not TreeModel or m.function != fn:
            return None
        # (no kernel: weightedConfidence / aggregateNodes blend leaves, which no plan does)
        if m.has_local_transformations or m.kernel is None:
            return None
        if fn == "classification" and (m.target_spec() is not None or not m.cats):
            return None
        models.append(m)
    defs = _shared_defs(models)
    if defs is None:
        return None
    cats, vote = _categories(mm, models)
    if cats is None:
        return None
    sizes = [len(m.tree.pred) for m in models]
    bases = [int(b) for b in np.cumsum([0] + sizes[:-1])]
    leaves = _leaf_tables(mm, models, bases, cats, vote)
    if leaves is None:
        return None
    weighted = mm.method in ("weightedSum", "weightedAverage", "weightedMajorityVote")
    segw = np.array([s.weight for s in mm.segments], np.float64)
    weight = segw.copy() if weighted else np.ones(len(models))
    return ForestPlan(mm, list(zip(models, bases)), fast, defs, *leaves, weight, segw, cats, vote)


def _shared_defs(models: list) -> dict | None:
    """The segments' MiningField functions, merged: each field the trees test must be prepared
    the same way by every segment that tests it (or passed through by all of them)."""
    defs: dict = {}
    keys: dict[str, tuple] = {}
    for m in models:
        specs = {s.name: s for s in m.mining if s.usage != "predicted"}
        for name in m.tree.fields:
            spec = specs.get(name)
            key = _spec_key(spec) if spec is not None else ("parent",)
            if keys.setdefault(name, key) != key:
                return None
            if spec is not None and name not in defs:
                defs[name] = _passthrough(name, m.defs[name]) if _plain(spec) else m.defs[name]
    return defs


def _plain(spec) -> bool:
    """A MiningField that changes nothing in a column without invalid values."""
    return (spec.outliers == "asIs" and spec.missing_replacement is None
            and spec.missing_treatment != "returnInvalid")


def _passthrough(name: str, prepare_fn):
    """The segment's column is the parent's unless invalid values need the treatment (this
    saves the per-field preparation cost, which dominates one-record scoring)."""
    def fn(scope: Scope):
        col = scope.parent.get(name)
        return col if col.invalid is None else prepare_fn(scope)
    #: (as a MiningField's: the column passes through when it has no invalid values)
    fn.passthrough = True
    return fn


def _categories(mm, models: list) -> tuple[list | None, bool]:
    """The aggregator's category list (as the general path grows it) and whether trees vote."""
    if mm.function != "classification":
        return [None], False
    if mm.method in ("majorityVote", "weightedMajorityVote"):
        return (list(mm.cats) or None), True
    cats = list(mm.cats)
    for m in models:
        for c in m.cats:
            if c not in cats:
                cats.append(c)
    return cats, False


def _lower_or_none(models: list, fast: bool) -> FrozenGraph | FrozenGeneral | None:
    try:
        return _lower(models, fast)
    except NotLowerable:
        return None


def _lower(models: list, fast: bool) -> FrozenGraph | FrozenGeneral:
    """All trees in one graph (or general) form; node indices are global, tree after tree."""
    if fast:
        try:
            g = Graph()
            for m in models:   # penalties only weigh confidences, which ensembles do not use
                g.add_tree(m.tree, m.missing_strategy, m.no_true_child, 1.0)
            return g.freeze()
        except NotLowerable:
            pass
    gen = General()
    for m in models:
        gen.add_tree(m.tree, m.missing_strategy, m.no_true_child, m.penalty)
    return gen.freeze()


def _leaf_tables(mm, models: list, bases: list[int], cats: list, vote: bool):
    """Per global node: its value row (regression value or class probabilities), its class
    index (votes) and whether it gives a prediction -- as each tree's own Result would say."""
    total = bases[-1] + len(models[-1].tree.pred)
    k = len(cats)
    leaf_val = np.zeros((total, k))
    leaf_cls = np.zeros(total, np.int64)
    leaf_ok = np.zeros(total, np.bool_)
    for m, base in zip(models, bases):
        t = m.tree
        nodes = len(t.pred)
        sl = slice(base, base + nodes)
        every = np.arange(nodes)
        res = m.result_from_leaves(nodes, every, None)
        if mm.function == "regression":
            res = m.apply_targets(res)
            # a Targets default would give rows without a leaf a value: not expressible here
            none = m.apply_targets(m.result_from_leaves(1, np.array([-1]), None))
            if not none.value.missing.all():
                return None
            vals = res.value.values.astype(float)
            leaf_val[sl, 0] = np.where(res.value.missing, np.nan, vals)
            leaf_ok[sl] = ~res.value.missing
            continue
        ok = ~res.value.missing
        leaf_ok[sl] = ok
        if vote:
            c = codes(res.value.values[ok], cats) if ok.any() else np.zeros(0, np.int64)
            if (c < 0).any():
                return None       # a class the target does not list: the general path grows it
            leaf_cls[base + np.flatnonzero(ok)] = c
            continue
        probs = ProbabilityAggregator(mm, 1)._probs(res)
        for j, c in enumerate(cats):
            p = probs.get(c)
            if p is not None:
                leaf_val[sl, j] = p
    return leaf_val, leaf_cls, leaf_ok
