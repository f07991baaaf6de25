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
from typing import Callable

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from ..dictionary import FieldInfo
from ..expressions import compile_derived_fields
from ..output import OutputPlan
from .. import objects
from ..objects import Fragment
from ..predicates import Pred, Tri, compile_pred, predicate_of
from ..scope import Scope
from ..values import Col, format_value, full, is_numeric_type
from .base import CompiledModel, Result, SegmentView, compile_model, register
from .ensemble_aggregation import VOTE_METHODS, blank_rows, make_aggregator
from .row_subsets import combine, combine_results, expand, expand_result, subset_scope, take, \
    take_result

SELECT_METHODS = ("selectFirst", "selectAll", "modelChain")
VALUE_METHODS = ("average", "weightedAverage", "median", "weightedMedian", "sum", "weightedSum")
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
        spec = self.spec
        for c in spec.content:
            if isinstance(c, Fragment) and c.tag in ("Regression", "DecisionTree"):
                raise UnsupportedError(f"model composition with an embedded <{c.tag}>",
                                       line=c.line, element=c.tag)
        seg = spec.segmentation
        if seg is None:
            raise DocumentError("MiningModel has no Segmentation", line=self.line,
                                element=self.tag)
        self.method = seg.multiple_model_method
        if self.method not in ALL_METHODS:
            raise UnsupportedError(f"multipleModelMethod={self.method!r}", line=seg.line,
                                   element="Segmentation")
        allowed = METHODS_BY_FUNCTION.get(self.function, SELECT_METHODS)
        if self.method not in allowed:
            raise DocumentError(f"multipleModelMethod={self.method!r} does not apply to "
                                f"functionName={self.function!r}", line=seg.line,
                                element="Segmentation")
        self.treatment = seg.missing_prediction_treatment or "continue"
        if self.treatment not in TREATMENTS:
            raise UnsupportedError(f"missingPredictionTreatment={self.treatment!r}",
                                   line=seg.line, element="Segmentation")
        if self.treatment == "skipSegment" and self.method in ("selectAll", "modelChain"):
            raise UnsupportedError(f"missingPredictionTreatment=\"skipSegment\" with "
                                   f"{self.method}", line=seg.line, element="Segmentation")
        self.threshold = 1.0 if seg.missing_threshold is None else seg.missing_threshold
        if not 0.0 <= self.threshold <= 1.0:
            raise DocumentError("missingThreshold must be within [0, 1]", line=seg.line,
                                element="Segmentation")
        # PMML 4.4: Segmentation may carry its own LocalTransformations, visible to every
        # segment
        self.defs.update(compile_derived_fields(seg.local_transformations, self.ctx))
        self.segments: list[Segment] = []
        seen: set[str] = set()
        # segment trees that a one-pass plan (forest.py) may score are lowered only if it
        # does not come about (below): lowering a large ensemble twice would double its load
        from .forest import CLASSIFICATION_METHODS, REGRESSION_METHODS
        from .tree import DEFER_LOWERING
        token = DEFER_LOWERING.set(self.method in REGRESSION_METHODS + CLASSIFICATION_METHODS)
        try:
            for i, s in enumerate(seg.segments):
                self.segments.append(self._compile_segment(s, i, seen))
        finally:
            DEFER_LOWERING.reset(token)
        if not self.segments:
            raise DocumentError("Segmentation has no Segment", line=seg.line,
                                element="Segmentation")
        out = spec.output
        self.view_ids = {of.segment_id for of in (out.fields if out is not None else ())
                         if of.segment_id is not None}
        self.exposed = self._exposed_segments()
        self.cats = self.categories() if self.function == "classification" else []
        self.fast = None
        if self.method not in SELECT_METHODS and not self.view_ids and \
                not any(sg.variable_weight for sg in self.segments):
            from .forest import try_compile_forest
            self.fast = try_compile_forest(self)
        if self.fast is None or self.fast.plan is None:
            from .tree_kernel import TreeKernel
            for sg in self.segments:            # the segments score themselves
                kernel = getattr(sg.model, "kernel", None)
                if isinstance(kernel, TreeKernel):
                    kernel.prepare()

    def _compile_segment(self, s: objects.Segment, i: int, seen: set[str]) -> Segment:
        sid = s.id or str(i + 1)
        if sid in seen:
            raise DocumentError(f"duplicate Segment id {sid!r}", line=s.line,
                                element="Segment")
        seen.add(sid)
        vw = s.variable_weight
        variable = None
        if vw is not None:
            info = self.ctx.lookup(vw.field) if vw.field else None
            if info is None:
                raise DocumentError(f"reference to unknown field {vw.field!r}", line=vw.line,
                                    element="VariableWeight")
            variable = info.name
            if not is_numeric_type(info.data_type):
                raise DocumentError(f"VariableWeight field {variable!r} is not numeric",
                                    line=vw.line, element="VariableWeight")
        weight = 1.0 if s.weight is None else s.weight
        if s.predicate is None:
            raise DocumentError("Segment without a predicate", line=s.line, element="Segment")
        pred = predicate_of(s.predicate, self.ctx)
        mspec = s.model
        if mspec is None:
            raise DocumentError("Segment without a model", line=s.line, element="Segment")
        model = compile_model(mspec, self.ctx)
        if self.function == "regression" and self.method in VALUE_METHODS and \
                not is_numeric_type(model.target_type):
            raise DocumentError(f"multipleModelMethod={self.method!r} combines numbers, but "
                                f"segment {sid!r} predicts {model.target_type} values",
                                line=mspec.line, element=mspec.tag)
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
        agg = make_aggregator(self, n) if method not in SELECT_METHODS else None
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
            size = n if rows is None else len(rows)
            extra = dict(res.extra)
            if self.asks("entityId", "clusterId"):      # (the chosen segment's id)
                ids = np.empty(size, object)
                ids[:] = seg.id
                extra["entityId"] = ids
            seg_outs = {k: outs.get(k) if k in outs else full(size, None, "double")
                        for k in names}
            extra["segmentOutputs"] = seg_outs
            pieces.append((rows, Result(size, res.function, res.value, list(res.categories),
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



# ---------------------------------------------------------------------- helpers


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



def _empty(model: MiningModel, n: int) -> Result:
    fn = model.function
    col = full(n, None, model.target_type, "categorical" if fn != "regression" else "continuous")
    return Result(n, fn, col, list(getattr(model, "cats", []) or []), None)



def _all(rows: np.ndarray | None, n: int) -> np.ndarray:
    """Row indices: rows, or every row when rows is None."""
    return np.arange(n) if rows is None else rows


def _mask(rows: np.ndarray, n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    m[rows] = True
    return m
