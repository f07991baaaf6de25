"""MiningModel: segmentation, ensembles and model chains (PMML "Multiple Models").

Each Segment's predicate is evaluated once over the batch; its model is then evaluated once,
over all rows when the predicate holds everywhere, else over the subset of rows where it is
TRUE (a row-subset scope, so that a segment's per-row errors only concern its own rows). The
segment results are combined with numpy: running sums for sums/averages/votes, per-segment
matrices for medians and max. Where the specification is loose we follow the reference engine
(JPMML-Evaluator): vote fractions as majorityVote probabilities, first-voted category wins a
tie, missingPredictionTreatment/missingThreshold per segment result, selectFirst/modelChain
results are the chosen segment's result (the MiningModel's Targets only fill rows that no
segment scored), and the output fields of the selectFirst head / modelChain tail are exposed
as outputs of the whole model.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from portmodel.errors import DocumentError, EvaluationError, ScoringError, UnsupportedError

from .. import attributes
from ..dictionary import FieldInfo
from ..expressions import compile_derived_fields
from ..output import OutputPlan
from ..predicates import Pred, Tri, compile_pred, find_predicate, parse_predicate
from ..scope import Scope
from ..values import Col, codes, format_value, full, is_numeric_type
from .base import CompiledModel, Result, SegmentView, compile_model, find_model, register

SELECT_METHODS = ("selectFirst", "selectAll", "modelChain")
VALUE_METHODS = ("average", "weightedAverage", "median", "weightedMedian", "sum", "weightedSum")
VOTE_METHODS = ("majorityVote", "weightedMajorityVote")
PROB_METHODS = ("average", "weightedAverage", "median", "max")
METHODS_BY_FUNCTION = {
    "regression": VALUE_METHODS + SELECT_METHODS,
    "classification": VOTE_METHODS + PROB_METHODS + SELECT_METHODS,
    "clustering": VOTE_METHODS + SELECT_METHODS,
}
ALL_METHODS = set(VALUE_METHODS + VOTE_METHODS + PROB_METHODS + SELECT_METHODS)
TREATMENTS = ("continue", "skipSegment", "returnMissing")


@dataclass
class Segment:
    """One compiled Segment: id, weight, predicate (parsed and compiled) and model."""

    id: str
    weight: float
    pred: Pred
    test: Callable[[Scope], Tri]
    model: CompiledModel
    index: int
    always: bool
    #: VariableWeight: the field whose value (per row) multiplies the weight, as PyPMML reads it
    variable_weight: str | None = None


@register("MiningModel")
class MiningModel(CompiledModel):
    def compile(self) -> None:
        el = self.el
        for tag in ("Regression", "DecisionTree"):
            if el.find(tag) is not None:
                raise UnsupportedError(f"model composition with an embedded <{tag}>",
                                       line=el.find(tag).sourceline, element=tag)
        seg_el = el.find("Segmentation")
        if seg_el is None:
            raise DocumentError("MiningModel has no Segmentation", line=el.sourceline,
                                element=el.tag)
        self.method = seg_el.get("multipleModelMethod")
        if self.method not in ALL_METHODS:
            raise UnsupportedError(f"multipleModelMethod={self.method!r}", line=seg_el.sourceline,
                                   element="Segmentation")
        allowed = METHODS_BY_FUNCTION.get(self.function, SELECT_METHODS)
        if self.method not in allowed:
            raise DocumentError(f"multipleModelMethod={self.method!r} does not apply to "
                                f"functionName={self.function!r}", line=seg_el.sourceline,
                                element="Segmentation")
        self.treatment = seg_el.get("missingPredictionTreatment", "continue")
        if self.treatment not in TREATMENTS:
            raise UnsupportedError(f"missingPredictionTreatment={self.treatment!r}",
                                   line=seg_el.sourceline, element="Segmentation")
        if self.treatment == "skipSegment" and self.method in ("selectAll", "modelChain"):
            raise UnsupportedError(f"missingPredictionTreatment=\"skipSegment\" with "
                                   f"{self.method}", line=seg_el.sourceline, element="Segmentation")
        try:
            self.threshold = attributes.number(seg_el, "missingThreshold", "1")
        except ValueError:
            raise DocumentError("missingThreshold is not a number", line=seg_el.sourceline,
                                element="Segmentation") from None
        if not 0.0 <= self.threshold <= 1.0:
            raise DocumentError("missingThreshold must be within [0, 1]", line=seg_el.sourceline,
                                element="Segmentation")
        # PMML 4.4: Segmentation may carry its own LocalTransformations, visible to every segment
        self.defs.update(compile_derived_fields(seg_el.find("LocalTransformations"), self.ctx))
        self.segments: list[Segment] = []
        seen: set[str] = set()
        for i, s in enumerate(seg_el.findall("Segment")):
            self.segments.append(self._compile_segment(s, i, seen))
        if not self.segments:
            raise DocumentError("Segmentation has no Segment", line=seg_el.sourceline,
                                element="Segmentation")
        out_el = el.find("Output")
        self.view_ids = {of.get("segmentId") for of in (out_el.findall("OutputField")
                                                         if out_el is not None else [])
                         if of.get("segmentId") is not None}
        self.exposed = self._exposed_segments()
        self.cats = self.categories() if self.function == "classification" else []
        self.fast = None
        if self.method not in SELECT_METHODS and not self.view_ids and \
                not any(sg.variable_weight for sg in self.segments):
            try:
                from .forest import try_compile_forest
                self.fast = try_compile_forest(self)
            except ImportError:
                self.fast = None

    def _compile_segment(self, s, i: int, seen: set[str]) -> Segment:
        sid = s.get("id") or str(i + 1)
        if sid in seen:
            raise DocumentError(f"duplicate Segment id {sid!r}", line=s.sourceline,
                                element="Segment")
        seen.add(sid)
        vw = s.find("VariableWeight")
        variable = None
        if vw is not None:
            variable = self.ctx.require(vw.get("field"), vw).name
            if not is_numeric_type(self.ctx.lookup(variable).data_type):
                raise DocumentError(f"VariableWeight field {variable!r} is not numeric",
                                    line=vw.sourceline, element="VariableWeight")
        try:
            weight = attributes.number(s, "weight", "1")
        except ValueError:
            raise DocumentError(f"Segment weight {s.get('weight')!r} is not a number",
                                line=s.sourceline, element="Segment") from None
        pel = find_predicate(s)
        if pel is None:
            raise DocumentError("Segment without a predicate", line=s.sourceline, element="Segment")
        pred = parse_predicate(pel, self.ctx)
        mel = find_model(s)
        if mel is None:
            raise DocumentError("Segment without a model", line=s.sourceline, element="Segment")
        model = compile_model(mel, self.ctx)
        if self.function == "regression" and self.method in VALUE_METHODS and \
                not is_numeric_type(model.target_type):
            raise DocumentError(f"multipleModelMethod={self.method!r} combines numbers, but "
                                f"segment {sid!r} predicts {model.target_type} values",
                                line=mel.sourceline, element=mel.tag)
        if self.method == "modelChain" and model.output is not None:
            # a chain's outputs become fields of the MiningModel, visible to later segments
            for f in model.output.fields():
                self.ctx.add(FieldInfo(f.name, f.data_type, f.op_type or (
                    "continuous" if is_numeric_type(f.data_type) else "categorical")))
        return Segment(sid, weight, pred, compile_pred(pred), model, i, pred.kind == "true",
                       variable)

    def _exposed_segments(self) -> list[Segment]:
        """Segments whose output fields are outputs of the whole model (as the reference does)."""
        segs = self.segments
        if self.method == "selectFirst":
            for j, s in enumerate(segs):
                if s.always:
                    return segs[:j + 1]
            return segs
        if self.method == "modelChain":
            for j in range(len(segs) - 1, -1, -1):
                if segs[j].always:
                    return segs[j:]
            return segs
        return []

    def __init__(self, el, ctx):
        super().__init__(el, ctx)
        nested: list = []
        names = {s.name for s in self.output.specs} if self.output is not None else set()
        for seg in self.exposed:
            if seg.model.output is None:
                continue
            for f in seg.model.output.fields():
                if f.name not in names:
                    names.add(f.name)
                    nested.append(f)
        if nested:
            self.output = MiningOutputPlan(self.output, nested, self)

    @property
    def target_type(self) -> str:
        if self.target is None and self.function == "clustering":
            return "string"
        return super().target_type

    def record_scorer(self, need):
        """The one-record scorer of pmml/record.py (built in pmml/record_mining.py)."""
        from ..record_mining import mining_scorer
        return mining_scorer(self, need)

    # ------------------------------------------------------------------ scoring
    def score(self, scope: Scope) -> Result:
        if self.fast is not None:
            return self.fast.score(scope)
        n = scope.n
        method = self.method
        views: dict[str, SegmentView] = {}
        parts: list[tuple[np.ndarray | None, Result, dict, Segment]] = []
        agg = _make_aggregator(self, n) if method not in SELECT_METHODS else None
        exposed = {s.id for s in self.exposed}
        taken = np.zeros(n, bool) if method == "selectFirst" else None
        skipped = np.zeros(n, bool)
        fallbacks: list = []           # selectFirst + skipSegment: first skipped result per row
        ran_any = np.zeros(n, bool)
        poisoned = np.zeros(n, bool)   # returnMissing: a segment returned no prediction
        for seg in self.segments:
            sel = None
            if not seg.always:
                truth, known = seg.test(scope)
                sel = truth & known
            if taken is not None:
                sel = ~taken if sel is None else sel & ~taken
            rows = None
            if sel is not None and not sel.all():
                rows = np.flatnonzero(sel)
                if not len(rows):
                    continue
            sub = scope if rows is None else subset_scope(scope, rows)
            res, sscope = seg.model.evaluate(sub)
            outs: dict[str, Col] = {}
            if seg.model.output is not None and (method == "modelChain" or seg.id in self.view_ids
                                                 or seg.id in exposed):
                outs, _ = seg.model.output.compute(res, sscope)
            if method == "modelChain":
                for name, col in outs.items():
                    prev = scope.cache.get(name)
                    scope.put(name, col if rows is None else
                              combine([(None, prev), (rows, col)], n) if prev is not None
                              else expand(col, rows, n))
            if seg.id in self.view_ids:
                mask = np.ones(n, bool) if rows is None else _mask(rows, n)
                views[seg.id] = SegmentView(expand_result(res, rows, n),
                                            {k: expand(v, rows, n) for k, v in outs.items()}, mask)
            miss = res.value.missing
            if rows is None:
                ran_any[:] = True
            else:
                ran_any[rows] = True
            if self.treatment == "returnMissing" and miss.any():
                poisoned[np.flatnonzero(miss) if rows is None else rows[miss]] = True
            if method == "selectFirst":
                if self.treatment == "skipSegment" and miss.any():
                    # a skipped result stays the row's answer only if no later segment takes it
                    local = np.flatnonzero(miss & ~skipped[_all(rows, n)])
                    if len(local):
                        at = _all(rows, n)[local]
                        skipped[at] = True
                        fallbacks.append((at, take_result(res, local),
                                          {k: take(v, local) for k, v in outs.items()}, seg))
                    keep = np.flatnonzero(~miss)
                    rows = keep if rows is None else rows[keep]
                    res, outs = take_result(res, keep), {k: take(v, keep) for k, v in outs.items()}
                if rows is None:
                    taken[:] = True
                else:
                    taken[rows] = True
                parts.append((rows, res, outs, seg))
                if taken.all():
                    break
            elif agg is None:
                parts.append((rows, res, outs, seg))
            else:
                if seg.variable_weight is not None:
                    seg, unweighted = _row_weights(seg, scope, rows)
                    if unweighted.any():    # no weight: no prediction for the row (PyPMML)
                        poisoned[_all(rows, n)[unweighted]] = True
                agg.add(seg, rows, res)
        if method == "selectAll":
            result = self._select_all(parts, n)
        elif method in SELECT_METHODS:
            result = self._select(fallbacks + parts, n)
        else:
            result = agg.finish(scope, ran_any)
        if poisoned.any():
            result = blank_rows(result, poisoned)
        if method in SELECT_METHODS:
            result = self._default_rows(result, ~ran_any | poisoned)
        result.segments = views
        return result

    def _same_target(self, seg: Segment) -> bool:
        """Whether the segment's model predicts the MiningModel's target field (by name)."""
        mine = self.target_names[0] if self.target_names else None
        theirs = seg.model.target_names[0] if seg.model.target_names else None
        return mine == theirs

    def _default_rows(self, result: Result, unscored: np.ndarray) -> Result:
        """selectFirst/selectAll/modelChain: the reference engine returns the chosen segment's
        result as is; the MiningModel's Targets only supply the default where no segment scored."""
        spec = self.target_spec()
        if spec is None or not unscored.any():
            return result
        rows = np.flatnonzero(unscored)
        default = spec.apply(_empty(self, len(rows)))
        if not default.value.missing.all() or default.probs:
            return combine_results([(None, result), (rows, default)], result.n)
        return result

    def _select(self, parts, n: int) -> Result:
        """selectFirst / modelChain: each row takes the result of its chosen (or last) segment."""
        if not parts:
            return _empty(self, n)
        names = [f.name for s in self.exposed if s.model.output is not None
                 for f in s.model.output.fields()]
        pieces = []
        for rows, res, outs, seg in parts:
            if not self._same_target(seg):
                # the reference looks the MiningModel's target up by name in the segment's result
                res = blank_rows(res, np.ones(res.n, bool))
            ids = np.empty(n if rows is None else len(rows), object)
            ids[:] = seg.id
            extra = dict(res.extra)
            extra["entityId"] = ids
            seg_outs = {k: outs.get(k) if k in outs else full(len(ids), None, "double")
                        for k in names}
            extra["segmentOutputs"] = seg_outs
            pieces.append((rows, Result(len(ids), res.function, res.value, list(res.categories),
                                        res.probs, extra, res.segments)))
        if len(pieces) == 1 and pieces[0][0] is None:
            return pieces[0][1]
        return combine_results(pieces, n)

    def _select_all(self, parts, n: int) -> Result:
        """selectAll: per row, the list of the predictions of every segment that scored it."""
        lists: list[list] = [[] for _ in range(n)]
        for rows, res, _, seg in parts:
            if not self._same_target(seg):
                continue
            dt = res.value.data_type
            vals = [None if m else format_value(v, dt)
                    for v, m in zip(res.value.values, res.value.missing)]
            for i, v in zip(range(n) if rows is None else rows.tolist(), vals):
                lists[i].append(v)
        arr = np.empty(n, object)
        for i, lst in enumerate(lists):      # element-wise: equal-length lists must not broadcast
            arr[i] = lst
        missing = np.array([not x for x in lists], bool)
        arr[missing] = None
        return Result(n, self.function, Col(arr, missing, self.target_type, "categorical"))

    def apply_targets(self, result: Result) -> Result:
        if self.method in SELECT_METHODS:
            return result      # see _default_rows
        return super().apply_targets(result)


class MiningOutputPlan(OutputPlan):
    """The MiningModel's own Output plus the output fields of its exposed segments."""

    def __init__(self, own: OutputPlan | None, nested: list, model):
        super().__init__(own.specs if own is not None else [], model)
        self.nested = nested

    def fields(self):
        return list(self.nested) + super().fields()

    def compute(self, result, scope: Scope):
        seg_outs = result.extra.get("segmentOutputs") or {}
        outs: dict[str, Col] = {}
        for f in self.nested:
            col = seg_outs.get(f.name)
            outs[f.name] = col if col is not None else full(result.n, None, f.data_type)
        own, oscope = super().compute(result, scope)
        outs.update(own)
        return outs, oscope


# ---------------------------------------------------------------------- aggregation
# The one-pass ensemble kernel (forest.py) fills these aggregators' running sums itself and
# calls finish(): keep their attribute names (_Votes.cats/votes/first/miss_votes,
# _Probabilities.cats/acc/den, _Values.acc/den, _Missing.*) and blank_rows stable.


def _make_aggregator(model: MiningModel, n: int):
    if model.method in VOTE_METHODS:
        return _Votes(model, n)
    if model.function == "classification":
        return _Probabilities(model, n)
    return _Values(model, n)


def _row_weights(seg: Segment, scope: Scope, rows) -> tuple[Segment, np.ndarray]:
    """The segment with its weight times its VariableWeight field's value for each of rows (an
    array), and which of those rows have no weight (the field is missing there)."""
    col = scope.get(seg.variable_weight)
    vals = col.values.astype(float)
    missing = col.missing
    if rows is not None:
        vals, missing = vals[rows], missing[rows]
    w = np.where(missing, 0.0, seg.weight * vals)
    return replace(seg, weight=w), missing


class _Missing:
    """Per-row bookkeeping of missing segment predictions (missingPredictionTreatment)."""

    def __init__(self, model: MiningModel, n: int):
        self.treatment = model.treatment
        self.threshold = model.threshold
        self.total_w = np.zeros(n)
        self.miss_w = np.zeros(n)
        self.any_miss = np.zeros(n, bool)

    def add(self, rows, w: float, miss: np.ndarray) -> None:
        sl = slice(None) if rows is None else rows
        self.total_w[sl] += w
        if miss.any():
            self.miss_w[sl] += np.where(miss, w, 0.0)
            self.any_miss[sl] |= miss

    def null_rows(self, continue_nulls: bool) -> np.ndarray:
        """Rows whose result is missing because of missing segment predictions."""
        if self.treatment == "returnMissing" or (self.treatment == "continue" and continue_nulls):
            return self.any_miss.copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = self.miss_w / self.total_w
        return self.any_miss & (frac > self.threshold)


class _Values:
    """Regression: (weighted) sum, average, median."""

    def __init__(self, model: MiningModel, n: int):
        self.model = model
        self.method = model.method
        self.n = n
        self.miss = _Missing(model, n)
        # x-mathContext="float": a float32 running sum, each addition rounded as JPMML's is
        self.acc = np.zeros(n, np.float32 if model.float32 else float)
        self.den = np.zeros(n)
        self.stack: list[tuple[np.ndarray | None, np.ndarray, np.ndarray, float]] = []

    def add(self, seg: Segment, rows, res: Result) -> None:
        m = res.value.missing
        w = seg.weight
        self.miss.add(rows, w, m)
        v = res.value.values
        v = v.astype(float) if v.dtype != float else v
        if self.method in ("median", "weightedMedian"):
            self.stack.append((rows, v, m, w))
            return
        weighted = self.method in ("weightedAverage", "weightedSum")
        ok = ~m
        if m.any():
            v = np.where(ok, v, 0.0)
        term = v * w if (weighted and (np.ndim(w) or w != 1.0)) else v
        sl = slice(None) if rows is None else rows
        self.acc[sl] += term
        self.den[sl] += (ok * w) if weighted else ok

    def finish(self, scope: Scope, ran: np.ndarray) -> Result:
        n = self.n
        null = self.miss.null_rows(True) | ~ran
        if self.method in ("median", "weightedMedian"):
            vals, undefined = self._median()
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                if self.method in ("average", "weightedAverage"):
                    den = self.den.astype(self.acc.dtype)
                    vals = (self.acc / den).astype(float)
                    undefined = self.den == 0
                else:
                    vals = self.acc.astype(float)
                    undefined = np.zeros(n, bool)
        _fail_undefined(scope, undefined & ~null, self.method)
        missing = null | undefined
        vals = np.where(missing, np.nan, vals)
        return Result(n, "regression", Col(vals, missing, _num_type(self.model), "continuous"))

    def _median(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.n
        S = len(self.stack)
        V = np.full((max(S, 1), n), np.nan)
        W = np.zeros((max(S, 1), n))
        for j, (rows, v, m, w) in enumerate(self.stack):
            sl = slice(None) if rows is None else rows
            V[j, sl] = np.where(m, np.nan, v)
            W[j, sl] = np.where(m, 0.0, w)
        if self.method == "median":
            out, cnt = legacy_median(V)
            return out, cnt == 0
        # weighted median: sort by value (stable), first value whose cumulated weight reaches
        # half the total weight
        order = np.argsort(V, axis=0, kind="stable")
        Vs = np.take_along_axis(V, order, axis=0)
        Ws = np.take_along_axis(W, order, axis=0)
        total = np.zeros(n)
        for j in range(V.shape[0]):
            total += W[j]
        cum = np.cumsum(Ws, axis=0)
        valid = ~np.isnan(Vs)
        hit = (cum >= 0.5 * total) & valid
        first = np.argmax(hit, axis=0)
        out = Vs[first, np.arange(n)]
        undefined = ~hit.any(axis=0)
        return np.where(undefined, np.nan, out), undefined


def legacy_median(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise median ignoring NaN, as the reference's 50th percentile (legacy estimate)."""
    s = np.sort(V, axis=0)                       # NaN last
    cnt = (~np.isnan(V)).sum(axis=0)
    n = V.shape[1]
    pos = (cnt + 1) / 2.0
    fl = np.floor(pos).astype(np.int64)
    d = pos - fl
    cols = np.arange(n)
    lo_i = np.clip(fl - 1, 0, V.shape[0] - 1)
    hi_i = np.clip(np.minimum(fl, cnt - 1), 0, V.shape[0] - 1)
    lo = s[lo_i, cols]
    hi = s[hi_i, cols]
    with np.errstate(invalid="ignore"):
        out = np.where(d == 0, lo, lo + d * (hi - lo))
    return np.where(cnt == 0, np.nan, out), cnt


class _Votes:
    """majorityVote / weightedMajorityVote: vote sums; probabilities are vote fractions."""

    def __init__(self, model: MiningModel, n: int):
        self.model = model
        self.n = n
        self.weighted = model.method == "weightedMajorityVote"
        self.miss = _Missing(model, n)
        self.cats: list[Any] = list(model.cats)
        k = len(self.cats)
        self.votes = np.zeros((k, n))
        self.first = np.full((k, n), np.iinfo(np.int64).max, dtype=np.int64)
        self.arange = np.arange(n)
        self.miss_votes = np.zeros(n)

    def _codes(self, vals: np.ndarray) -> np.ndarray:
        c = codes(vals, self.cats) if self.cats else np.full(len(vals), -1, dtype=np.int64)
        if (c < 0).any():
            new = [v for v in pd.unique(vals[c < 0]) if v is not None]
            self.cats.extend(new)
            grow = len(new)
            self.votes = np.vstack([self.votes, np.zeros((grow, self.n))])
            self.first = np.vstack([self.first, np.full((grow, self.n), np.iinfo(np.int64).max,
                                                        dtype=np.int64)])
            c = codes(vals, self.cats)
        return c

    def add(self, seg: Segment, rows, res: Result) -> None:
        w = seg.weight if self.weighted else 1.0
        m = res.value.missing
        self.miss.add(rows, seg.weight, m)
        if m.any():
            self.miss_votes[slice(None) if rows is None else rows] += np.where(m, w, 0.0)
        ok = np.flatnonzero(~m)
        if not len(ok):
            return
        r = (self.arange if rows is None else rows)[ok]
        c = self._codes(res.value.values[ok])
        self.votes[c, r] += w[ok] if np.ndim(w) else w
        f = self.first[c, r]
        self.first[c, r] = np.minimum(f, seg.index)

    def finish(self, scope: Scope, ran: np.ndarray) -> Result:
        n = self.n
        k = len(self.cats)
        total = np.zeros(n)
        for j in range(k):
            total += self.votes[j]
        best_votes = self.votes.max(axis=0) if k else np.zeros(n)
        null = self.miss.null_rows(False) | ~ran
        if self.miss.treatment == "continue":
            # the missing pseudo-category wins when it gets strictly the most votes
            null |= (total > 0) & (self.miss_votes > best_votes)
        undefined = (total == 0) & ~null
        _fail_undefined(scope, undefined, self.model.method)
        missing = null | undefined
        if k:
            tie = self.votes == best_votes[None, :]
            first = np.where(tie, self.first, np.iinfo(np.int64).max)
            win = np.argmin(first, axis=0)
        else:
            win = np.zeros(n, np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            probs = {c: np.where(missing, np.nan, self.votes[j] / total)
                     for j, c in enumerate(self.cats)}
        col = _category_col(self.model, self.cats, win, missing, n)
        fn = "clustering" if self.model.function == "clustering" else "classification"
        return Result(n, fn, col, list(self.cats), probs if fn == "classification" else None)


class _Probabilities:
    """Classification average / weightedAverage / median / max of segment probabilities."""

    def __init__(self, model: MiningModel, n: int):
        self.model = model
        self.method = model.method
        self.n = n
        self.miss = _Missing(model, n)
        self.cats: list[Any] = list(model.cats)
        self.acc: dict[Any, np.ndarray] = {c: np.zeros(n) for c in self.cats}
        self.den = np.zeros(n)
        self.stack: list[tuple[np.ndarray | None, dict, np.ndarray]] = []

    def _probs(self, res: Result) -> dict[Any, np.ndarray]:
        m = res.value.missing
        if res.probs is None:
            # a segment without probabilities: certainty for its predicted category
            vals = res.value.values
            cats = list(res.categories) or [v for v in pd.unique(vals[~m])]
            idx = codes(vals, cats)
            return {c: np.where(m, 0.0, (idx == j).astype(float)) for j, c in enumerate(cats)}
        return {c: np.where(m | np.isnan(p), 0.0, p) for c, p in res.probs.items()}

    def add(self, seg: Segment, rows, res: Result) -> None:
        m = res.value.missing
        w = seg.weight if self.method == "weightedAverage" else 1.0
        self.miss.add(rows, seg.weight, m)
        probs = self._probs(res)
        for c in probs:
            if c not in self.acc:
                self.cats.append(c)
                self.acc[c] = np.zeros(self.n)
        sl = slice(None) if rows is None else rows
        ok = ~m
        if self.method in ("median", "max"):
            self.stack.append((rows, probs, m))
            self.den[sl] += ok
            return
        for c, p in probs.items():
            self.acc[c][sl] += p * w if (np.ndim(w) or w != 1.0) else p
        self.den[sl] += ok * w

    def finish(self, scope: Scope, ran: np.ndarray) -> Result:
        n = self.n
        null = self.miss.null_rows(True) | ~ran
        undefined = (self.den == 0) & ~null
        _fail_undefined(scope, undefined, self.method)
        missing = null | undefined
        if self.method in ("median", "max"):
            probs = self._pick()
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                probs = {c: self.acc[c] / self.den for c in self.cats}
        probs = {c: np.where(missing, np.nan, p) for c, p in probs.items()}
        if self.cats:
            mat = _nan_to_num_low(np.array([probs[c] for c in self.cats]))   # (as np.vstack)
            win = np.argmax(mat, axis=0)
        else:
            win = np.zeros(n, np.int64)
        col = _category_col(self.model, self.cats, win, missing, n)
        return Result(n, "classification", col, list(self.cats), probs)

    def _pick(self) -> dict[Any, np.ndarray]:
        """median / max: the winning category's statistic picks the contributing segments,
        whose distributions are averaged."""
        n, cats = self.n, self.cats
        S, K = max(len(self.stack), 1), len(cats)
        P = np.full((S, K, n), np.nan)
        for j, (rows, probs, m) in enumerate(self.stack):
            sl = slice(None) if rows is None else rows
            for ci, c in enumerate(cats):
                p = probs.get(c)
                if p is None:
                    p = np.zeros(len(m))
                P[j, ci, sl] = np.where(m, np.nan, p)
        if self.method == "median":
            stat = np.vstack([legacy_median(P[:, ci, :])[0] for ci in range(K)]) if K else \
                np.zeros((0, n))
        else:
            stat = np.vstack([np.fmax.reduce(P[:, ci, :], axis=0) for ci in range(K)]) if K \
                else np.zeros((0, n))
        cols = np.arange(n)
        win = np.argmax(np.nan_to_num(stat, nan=-np.inf), axis=0) if K else np.zeros(n, int)
        target = stat[win, cols] if K else np.full(n, np.nan)
        pw = P[:, win, cols] if K else np.full((S, n), np.nan)     # (S, n): each segment's p(win)
        diff = np.abs(pw - target[None, :])
        best = np.nanmin(np.where(np.isnan(diff), np.inf, diff), axis=0)
        contrib = diff == best[None, :]
        cnt = contrib.sum(axis=0)
        out = {}
        for ci, c in enumerate(cats):
            acc = np.zeros(n)
            for j in range(S):
                acc += np.where(contrib[j], np.nan_to_num(P[j, ci]), 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[c] = acc / cnt
        return out


# ---------------------------------------------------------------------- helpers


def _num_type(model: MiningModel) -> str:
    t = model.target_type
    return t if is_numeric_type(t) else "double"


def _nan_to_num_low(mat: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(mat, nan=-np.inf)``, in three ufunc calls when no value is infinite
    (probabilities): the Python-level nan_to_num costs more than the rest of a one-record
    finish. Infinities (to the extreme finite values) take nan_to_num itself."""
    if mat.dtype != np.float64 or np.isinf(mat).any():
        return np.nan_to_num(mat, nan=-np.inf)
    return np.where(np.isnan(mat), -np.inf, mat)


def _category_col(model: MiningModel, cats: list[Any], win: np.ndarray, missing: np.ndarray,
                  n: int) -> Col:
    col = full(n, None, model.target_type, "categorical")
    if cats:
        cat_arr = np.empty(len(cats), dtype=col.values.dtype)
        cat_arr[:] = cats
        ok = ~missing
        col.values[ok] = cat_arr[win[ok]]
    col.missing[:] = missing
    return col


def _fail_undefined(scope: Scope, mask: np.ndarray, method: str) -> None:
    if mask.any():
        scope.fail(mask, lambda i: EvaluationError(
            f"{method} of the segment predictions is undefined (no usable prediction)", row=i))


def _empty(model: MiningModel, n: int) -> Result:
    fn = model.function
    col = full(n, None, model.target_type, "categorical" if fn != "regression" else "continuous")
    return Result(n, fn, col, list(getattr(model, "cats", []) or []), None)


def blank_rows(result: Result, mask: np.ndarray) -> Result:
    """The result with no prediction on the rows of mask."""
    v = result.value
    vals = v.values.copy()
    vals[mask] = np.nan if vals.dtype.kind == "f" else None
    col = Col(vals, v.missing | mask, v.data_type, v.op_type)
    probs = None if result.probs is None else {
        c: np.where(mask, np.nan, p) for c, p in result.probs.items()}
    return Result(result.n, result.function, col, result.categories, probs, result.extra,
                  result.segments)


def _all(rows: np.ndarray | None, n: int) -> np.ndarray:
    """Row indices: rows, or every row when rows is None."""
    return np.arange(n) if rows is None else rows


def _mask(rows: np.ndarray, n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    m[rows] = True
    return m


# ---------------------------------------------------------------------- row subsets


class _SliceDefs:
    """Field functions of a row-subset scope: whatever the source scope knows, restricted."""

    __slots__ = ("src", "rows")

    def __init__(self, src: Scope, rows: np.ndarray):
        self.src = src
        self.rows = rows

    def get(self, name: str, default=None):
        if not self.src.has(name):
            return default
        src, rows = self.src, self.rows
        return lambda s: take(src.get(name), rows)

    def __contains__(self, name: str) -> bool:
        return self.src.has(name)

    def __bool__(self) -> bool:
        return True


class _RowErrors:
    """The error map of a row subset: local row i is row rows[i] of the source."""

    def __init__(self, target, rows: np.ndarray):
        self.target = target
        self.rows = rows

    def __contains__(self, i) -> bool:
        return int(self.rows[i]) in self.target

    def __getitem__(self, i):
        return self.target[int(self.rows[i])]

    def __setitem__(self, i, err) -> None:
        g = int(self.rows[i])
        if isinstance(err, ScoringError) and err.row == i:
            ScoringError.__init__(err, err.reason, err.field, g)
        self.target[g] = err

    def _local(self) -> list[int]:
        if not len(self.target):
            return []
        hit = np.isin(self.rows, np.fromiter((int(k) for k in self.target), np.int64))
        return np.flatnonzero(hit).tolist()

    def __iter__(self):
        return iter(self._local())

    def __len__(self) -> int:
        return len(self._local())

    def items(self):
        return [(i, self[i]) for i in self._local()]

    def get(self, i, default=None):
        return self[i] if i in self else default


def subset_scope(src: Scope, rows: np.ndarray) -> Scope:
    """A scope over the given rows of src (fields sliced on first use; errors mapped back)."""
    return Scope(len(rows), None, _SliceDefs(src, rows), _RowErrors(src.errors, rows))


# ---------------------------------------------------------------------- row-wise plumbing


def take(x: Any, sel: np.ndarray) -> Any:
    """Rows sel of a per-row value (array, Col, dict of them, or a function returning them)."""
    if x is None:
        return None
    if isinstance(x, Col):
        return Col(x.values[sel], x.missing[sel], x.data_type, x.op_type,
                   None if x.invalid is None else x.invalid[sel])
    if isinstance(x, np.ndarray):
        return x[sel] if x.ndim >= 1 else x
    if isinstance(x, dict):
        return {k: take(v, sel) for k, v in x.items()}
    if callable(x):
        return lambda *a, **k: take(x(*a, **k), sel)
    return x


def take_result(res: Result, sel: np.ndarray) -> Result:
    return Result(len(sel), res.function, take(res.value, sel), list(res.categories),
                  take(res.probs, sel), take(res.extra, sel),
                  {k: SegmentView(take_result(v.result, sel), take(v.outputs, sel), v.mask[sel])
                   for k, v in res.segments.items()})


def expand(x: Any, rows: np.ndarray | None, n: int) -> Any:
    """A per-row value over rows spread to n rows (missing elsewhere)."""
    if rows is None:
        return x
    return combine([(rows, x)], n)


def expand_result(res: Result, rows: np.ndarray | None, n: int) -> Result:
    if rows is None:
        return res
    return combine_results([(rows, res)], n)


def combine(parts: list[tuple[np.ndarray | None, Any]], n: int) -> Any:
    """Merge per-row values: each part covers its rows (None = all), later parts win."""
    live = [(r, x) for r, x in parts if x is not None]
    if not live:
        return None
    first = live[-1][1]
    if isinstance(first, Col):
        cols = [(r, x) for r, x in live if isinstance(x, Col)]
        vals = combine([(r, x.values) for r, x in cols], n)
        missing = np.ones(n, bool)
        for r, x in cols:
            missing[slice(None) if r is None else r] = x.missing
        invalid = None
        if any(x.invalid is not None for _, x in cols):
            invalid = np.zeros(n, bool)
            for r, x in cols:
                if x.invalid is not None:
                    invalid[slice(None) if r is None else r] = x.invalid
        return Col(vals, missing, first.data_type, first.op_type, invalid)
    if isinstance(first, np.ndarray):
        arrs = [(r, x) for r, x in live if isinstance(x, np.ndarray) and x.ndim == 1
                and x.shape[0] == (n if r is None else len(r))]
        if not arrs or arrs[-1][1] is not first:
            return first      # not a per-row array
        kinds = {x.dtype.kind for _, x in arrs}
        if kinds <= {"b"}:
            out = np.zeros(n, bool)
        elif kinds <= {"f", "i", "u", "b"}:
            out = np.full(n, np.nan)
        else:
            out = np.full(n, None, object)
        for r, x in arrs:
            out[slice(None) if r is None else r] = x
        return out
    if isinstance(first, dict):
        keys: list = []
        for _, x in live:
            if isinstance(x, dict):
                keys.extend(k for k in x if k not in keys)
        return {k: combine([(r, x.get(k)) for r, x in live if isinstance(x, dict)], n)
                for k in keys}
    if callable(first) and not isinstance(first, type):
        fns = [(r, x) for r, x in live if callable(x)]
        return lambda *a, **k: combine([(r, f(*a, **k)) for r, f in fns], n)
    return first


def combine_results(parts: list[tuple[np.ndarray | None, Result]], n: int) -> Result:
    """Row-wise merge of Results (later parts win on their rows)."""
    last = parts[-1][1]
    cats: list = []
    for _, r in parts:
        cats.extend(c for c in r.categories if c not in cats)
    value = combine([(rows, r.value) for rows, r in parts], n)
    probs = None
    if any(r.probs is not None for _, r in parts):
        probs = {}
        for c in cats:
            probs[c] = combine([(rows, r.probability(c)) for rows, r in parts], n)
        missing_any = value.missing
        for c in probs:
            probs[c] = np.where(missing_any, np.nan, probs[c])
    extra = combine([(rows, r.extra) for rows, r in parts], n) or {}
    segments: dict[str, SegmentView] = {}
    for rows, r in parts:
        for k, v in r.segments.items():
            exp = SegmentView(expand_result(v.result, rows, n), expand(v.outputs, rows, n) or {},
                              v.mask if rows is None else _expand_mask(v.mask, rows, n))
            segments[k] = exp
    return Result(n, last.function, value, cats, probs, extra, segments)


def _expand_mask(mask: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    out[rows] = mask
    return out
