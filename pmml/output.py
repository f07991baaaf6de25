"""Output: the OutputFields of a model, computed from its Result after scoring.

Each OutputField becomes a column function; earlier output fields are visible by name to later
ones (and to expressions in transformedValue / decision fields), as PMML requires.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError
from portmodel.fields import Field

from .dictionary import FieldInfo
from .expressions import cast, compile_expression
from .scope import Scope
from .values import Col, full, parse_scalar

SUPPORTED_FEATURES = {
    "predictedValue", "predictedDisplayValue", "probability", "confidence", "transformedValue",
    "decision", "entityId", "clusterId", "affinity", "entityAffinity", "clusterAffinity",
    "residual", "standardError", "standardDeviation", "warning", "reasonCode", "ruleValue",
    "antecedent", "consequent", "rule", "ruleId", "support", "lift", "leverage",
}


@dataclass
class OutputFieldSpec:
    name: str
    feature: str
    data_type: str | None
    op_type: str | None
    value: Any
    target_field: str | None
    segment_id: str | None
    rank: int
    line: int | None
    expr: Any = None
    field: Any = None          # the objects.OutputField


class OutputPlan:
    """The compiled <Output> of one model."""

    def __init__(self, specs: list[OutputFieldSpec], model):
        self.specs = specs
        self.model = model

    def fields(self) -> list[Field]:
        out = []
        for s in self.specs:
            out.append(Field(s.name, s.data_type or self._default_type(s), s.op_type, usage="output",
                             extra={"feature": s.feature}))
        return out

    def _default_type(self, s: OutputFieldSpec) -> str:
        if s.feature in ("predictedValue",):
            return self.model.target_type
        if s.feature in ("entityId", "clusterId", "predictedDisplayValue", "warning", "reasonCode",
                         "antecedent", "consequent", "rule", "ruleId"):
            return "string"
        if s.feature == "ruleValue" and s.field is not None and (
                s.field.rule_feature or "consequent") in ("antecedent", "consequent", "rule",
                                                          "ruleId"):
            return "string"
        if s.expr is not None:
            return s.expr.data_type
        return "double"

    def compute(self, result, scope: Scope) -> tuple[dict[str, Col], Scope]:
        """Compute every output field; returns them and the scope where they are visible."""
        oscope = scope.child()
        outs: dict[str, Col] = {}
        targets = result.extra.get("targets")
        for s in self.specs:
            # a model of several targets: targetField picks the one (first when absent)
            res = targets.get(s.target_field, result) if targets and s.target_field else result
            col = _feature(s, res, oscope, self.model)
            if s.data_type is not None and col.data_type != s.data_type:
                col = cast(col, s.data_type, s.op_type)
            oscope.put(s.name, col)
            outs[s.name] = col
        return outs, oscope


def compile_output(output, model) -> OutputPlan | None:
    """Compile a typed Output (``objects.Output``, or None: no output) of a compiled model."""
    if output is None:
        return None
    specs = []
    ctx = model.ctx.child()
    for of in output.fields:
        name = of.name
        feature = of.feature or "predictedValue"
        if feature not in SUPPORTED_FEATURES:
            raise UnsupportedError(f"OutputField feature {feature!r} is not supported",
                                   line=of.line, element="OutputField")
        dt = of.data_type
        raw_value = of.value
        value = raw_value
        if raw_value is not None and model.target is not None and feature in (
                "probability", "confidence", "affinity", "entityAffinity", "clusterAffinity"):
            try:
                value = parse_scalar(raw_value, model.target.data_type)
            except ValueError:
                value = raw_value
        rank = 1 if of.rank is None else of.rank
        spec = OutputFieldSpec(name, feature, dt, of.optype, value, of.target_field,
                               of.segment_id, rank, of.line, field=of)
        if of.expression is not None:
            spec.expr = compile_expression(of.expression, ctx)
        elif feature in ("transformedValue", "decision") and of.segment_id is None:
            raise DocumentError(f"OutputField {name!r} ({feature}) has no expression",
                                line=of.line, element="OutputField")
        specs.append(spec)
        ctx.add(FieldInfo(name, dt or (spec.expr.data_type if spec.expr is not None else
                                       _static_type(feature, model)),
                          of.optype or "continuous"))
    return OutputPlan(specs, model)


def _static_type(feature: str, model) -> str:
    if feature == "predictedValue":
        return model.target_type
    if feature in ("entityId", "clusterId", "predictedDisplayValue", "warning", "reasonCode"):
        return "string"
    return "double"


def _feature(s: OutputFieldSpec, result, scope: Scope, model) -> Col:
    n = scope.n
    if s.segment_id is not None:
        view = result.segments.get(s.segment_id)
        if view is None:
            return full(n, None, s.data_type or "double")
        result = view.result
        if s.feature in ("transformedValue", "decision") and s.expr is None:
            # with segmentId, value names an output field of that segment's model
            col = view.outputs.get(str(s.value)) if s.value is not None else None
            return col if col is not None else full(n, None, s.data_type or "double")
    f = s.feature
    if s.expr is not None and f in ("transformedValue", "decision", "predictedValue") and s.segment_id is None:
        return s.expr(scope)
    if f == "predictedValue":
        if s.rank > 1 and result.probs:
            return _ranked_category(result, s.rank)
        return result.value
    if f == "predictedDisplayValue":
        return _display(result, model)
    if f == "probability":
        if s.value is None:
            return _prob_of_predicted(result)
        p = result.probability(s.value)
        return Col(p, np.isnan(p), "double", "continuous")
    if f == "confidence":
        conf = result.extra.get("confidence")
        if conf is None:
            if s.value is None:
                return _prob_of_predicted(result)
            p = result.probability(s.value)
            return Col(p, np.isnan(p), "double")
        if isinstance(conf, dict):
            if s.value is not None:
                arr = conf.get(s.value, np.full(n, np.nan))
            else:
                arr = _pick(conf, result)
        else:
            arr = conf
        return Col(arr, np.isnan(arr), "double", "continuous")
    if f in ("entityId", "clusterId"):
        ids = result.extra.get("entityId")
        if ids is None:
            return full(n, None, "string", "categorical")
        if s.rank > 1 and "entityRanks" in result.extra:
            ids = result.extra["entityRanks"](s.rank)
        return Col(ids, np.array([v is None for v in ids], bool), "string", "categorical")
    if f in ("affinity", "entityAffinity", "clusterAffinity"):
        aff = result.extra.get("affinity")
        if aff is None:
            return full(n, None, "double")
        if isinstance(aff, dict):
            arr = aff.get(s.value, np.full(n, np.nan)) if s.value is not None else _pick(aff, result)
        elif callable(aff):
            arr = aff(s.value, s.rank)
        else:
            arr = aff
        return Col(arr, np.isnan(arr), "double", "continuous",
                   own=bool(result.extra.get("affinity_own")))
    if f == "residual":
        return _residual(result, scope, model)
    if f in ("standardError", "standardDeviation", "warning", "reasonCode", "ruleValue",
             "antecedent", "consequent", "rule", "ruleId", "support", "lift", "leverage"):
        val = result.extra.get(f)
        if callable(val):
            val = val(s)
        if val is None:
            return full(n, None, "double" if f in ("standardError", "standardDeviation") else "string")
        if isinstance(val, Col):
            return val
        if val.dtype == object:
            return Col(val, np.array([v is None for v in val], bool), "string", "categorical")
        return Col(val, np.isnan(val), "double", "continuous")
    if f in ("transformedValue", "decision"):
        return s.expr(scope)
    raise UnsupportedError(f"OutputField feature {f!r}", line=s.line, element="OutputField")


def _pick(by_cat: dict, result) -> np.ndarray:
    """Per row, the entry of by_cat for the predicted category."""
    n = result.n
    out = np.full(n, np.nan)
    vals = result.value.values
    for c, arr in by_cat.items():
        hit = ~result.value.missing & _eq(vals, c)
        out[hit] = arr[hit]
    return out


def _eq(vals: np.ndarray, c: Any) -> np.ndarray:
    if vals.dtype == object:
        return np.array([v == c for v in vals], bool)
    return vals == c


def _prob_of_predicted(result) -> Col:
    if result.probs is None:
        return full(result.n, None, "double")
    arr = _pick(result.probs, result)
    return Col(arr, np.isnan(arr), "double", "continuous")


def _ranked_category(result, rank: int) -> Col:
    cats = result.categories
    mat = np.vstack([result.probability(c) for c in cats])
    order = np.argsort(-mat, axis=0, kind="stable")
    idx = order[min(rank, len(cats)) - 1]
    vals = np.array(cats, dtype=object)[idx]
    missing = result.value.missing | (rank > len(cats))
    vals[missing] = None
    return Col(vals, missing, result.value.data_type, "categorical")


def _display(result, model) -> Col:
    col = result.value
    shown = result.extra.get("displayValue")   # models that name their entities (cluster names)
    if callable(shown):
        shown = shown()
    if isinstance(shown, np.ndarray):
        return Col(shown, np.array([v is None for v in shown], bool), "string", "categorical")
    display: dict = {}
    if model.target is not None:
        display.update(model.target.display)
    spec = model.target_spec()
    if spec is not None:
        display.update({tv.value: tv.display for tv in spec.values if tv.display is not None})
    from .values import _as_string
    vals = np.empty(len(col), object)
    vals[:] = [None if m else display.get(v, _as_string(v))
               for v, m in zip(col.values, col.missing)]
    return Col(vals, col.missing, "string", "categorical")


def _residual(result, scope: Scope, model) -> Col:
    n = scope.n
    if model.target is None or not scope.has(model.target.name):
        return full(n, None, "double")
    try:
        actual = scope.get(model.target.name)
    except KeyError:
        return full(n, None, "double")
    if result.probs is None:
        r = actual.values.astype(float) - result.value.values.astype(float)
        missing = actual.missing | result.value.missing
        return Col(np.where(missing, np.nan, r), missing, "double")
    p = np.full(n, np.nan)
    for c, arr in result.probs.items():
        hit = ~actual.missing & _eq(actual.values, c)
        p[hit] = arr[hit]
    r = 1.0 - p
    return Col(r, np.isnan(r), "double")
