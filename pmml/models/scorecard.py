"""Scorecard: the score is initialScore plus one partial score per Characteristic — that of the
first Attribute whose predicate is TRUE (a fixed partialScore or a ComplexPartialScore
expression). With useReasonCodes, each characteristic's points above (pointsAbove) or below
(pointsBelow) its baseline score are summed per reason code; the codes with non-negative points,
highest first (ties: the order they first appear in), are the reasonCode outputs by rank.

A row for which some characteristic matches no attribute (or whose complex partial score is
missing) has no score: the spec says the scorecard then returns an invalid value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from .. import attributes
from ..objects.scorecard import Attribute, Characteristic, Characteristics
from ..predicates import Tri, compile_pred, predicate_of
from ..scope import Scope
from ..values import Col
from .base import CompiledModel, Result, register, regression_result
from ..expressions import compile_expression
from .node_access import model_attrs

BASELINE_METHODS = ("max", "min", "mean", "neutral", "other")


@dataclass
class _Attribute:
    pred: Callable[[Scope], Tri]
    points: float | None              # partialScore
    expr: Any = None                  # ComplexPartialScore expression (takes precedence)
    code: int = -1                    # index of its reason code


@dataclass
class _Characteristic:
    name: str | None
    attributes: list[_Attribute]
    baseline: float = 0.0
    line: int | None = None


@register("Scorecard")
class Scorecard(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        at = model_attrs(spec)           # the Scorecard's own attributes (text until here)
        if self.function != "regression":
            raise UnsupportedError(f"Scorecard functionName={self.function!r}", line=spec.line,
                                   element=spec.tag)
        self.initial = attributes.number(at, "initialScore", "0")
        self.use_codes = attributes.boolean(at, "useReasonCodes", True)
        self.algorithm = at.get("reasonCodeAlgorithm", "pointsBelow")
        if self.algorithm not in ("pointsAbove", "pointsBelow"):
            raise UnsupportedError(f"reasonCodeAlgorithm={self.algorithm!r}", line=spec.line,
                                   element=spec.tag)
        self.baseline_method = at.get("baselineMethod", "other")
        if self.baseline_method not in BASELINE_METHODS:
            raise DocumentError(f"baselineMethod={self.baseline_method!r}", line=spec.line,
                                element=spec.tag)
        model_baseline = attributes.number(at, "baselineScore")
        parts = spec.body(Characteristics)
        if not parts or not parts[0].characteristics:
            raise DocumentError("Scorecard has no Characteristic", line=spec.line,
                                element=spec.tag)
        self.codes: list[str] = []
        self.chars: list[_Characteristic] = []
        for ch in parts[0].characteristics:
            attrs = [self._attribute(a, ch) for a in ch.attributes]
            if not attrs:
                raise DocumentError("Characteristic has no Attribute", line=ch.line,
                                    element="Characteristic")
            c = _Characteristic(ch.name, attrs, line=ch.line)
            if self.use_codes:
                base = ch.baseline_score if ch.baseline_score is not None else model_baseline
                if base is not None:
                    c.baseline = base
                elif self.baseline_method in ("max", "min") and all(
                        a.expr is None for a in attrs):
                    pts = [a.points for a in attrs]
                    c.baseline = max(pts) if self.baseline_method == "max" else min(pts)
                else:
                    raise DocumentError("useReasonCodes needs a baselineScore (on the "
                                        "Characteristic or the Scorecard)", line=ch.line,
                                        element="Characteristic")
            self.chars.append(c)
        # whole points give whole scores: an integer target stays integer
        self.whole_predictions = self.initial.is_integer() and all(
            a.expr is None and a.points is not None and a.points.is_integer()
            for c in self.chars for a in c.attributes)

    def _attribute(self, a: Attribute, ch: Characteristic) -> _Attribute:
        if a.predicate is None:
            raise DocumentError("Attribute without a predicate", line=a.line,
                                element="Attribute")
        attr = _Attribute(compile_pred(predicate_of(a.predicate, self.ctx)), None)
        cps = a.complex_partial_score
        if cps is not None:
            if cps.expression is None:
                raise DocumentError("ComplexPartialScore without an expression",
                                    line=cps.line, element="ComplexPartialScore")
            attr.expr = compile_expression(cps.expression, self.ctx)
        elif a.partial_score is not None:
            attr.points = a.partial_score
        else:
            raise DocumentError("Attribute has neither partialScore nor ComplexPartialScore",
                                line=a.line, element="Attribute")
        if self.use_codes:
            code = a.reason_code or ch.reason_code
            if code is None:
                raise DocumentError("useReasonCodes: Attribute has no reasonCode (nor its "
                                    "Characteristic)", line=a.line, element="Attribute")
            if code not in self.codes:
                self.codes.append(code)
            attr.code = self.codes.index(code)
        return attr

    def score(self, scope: Scope) -> Result:
        n = scope.n
        total = np.full(n, self.initial)
        bad = np.zeros(n, bool)
        k = len(self.codes)
        points = np.zeros((n, k))
        seen_at = np.full((n, k), np.iinfo(np.int64).max)   # first characteristic giving a code
        sign = 1.0 if self.algorithm == "pointsAbove" else -1.0
        for ci, ch in enumerate(self.chars):
            part = np.full(n, np.nan)
            code = np.full(n, -1, dtype=np.int64)
            open_ = np.ones(n, bool)
            for a in ch.attributes:
                t, known = a.pred(scope)
                take = open_ & t & known
                if not take.any():
                    continue
                if a.expr is not None:
                    v = a.expr(scope)
                    vals = np.where(v.missing, np.nan, v.values.astype(float))
                    part[take] = vals[take]
                else:
                    part[take] = a.points
                code[take] = a.code
                open_ &= ~take
            undefined = np.isnan(part)
            if undefined.any():
                fresh = undefined & ~bad
                name = ch.name or f"#{ci + 1}"
                scope.fail(fresh, lambda i, name=name: EvaluationError(
                    f"no Attribute of Characteristic {name!r} applies (or its partial score is "
                    "missing)", row=i))
                bad |= undefined
            total += np.where(undefined, 0.0, part)
            if self.use_codes:
                ok = np.flatnonzero(~undefined & (code >= 0))
                diff = sign * (part[ok] - ch.baseline)
                np.add.at(points, (ok, code[ok]), diff)
                seen_at[ok, code[ok]] = np.minimum(seen_at[ok, code[ok]], ci)
        extra: dict[str, Any] = {}
        if self.use_codes:
            extra["reasonCode"] = self._reason_codes(points, seen_at, bad)
        return regression_result(total, bad, self.target_type, extra)

    def _reason_codes(self, points: np.ndarray, seen_at: np.ndarray, bad: np.ndarray):
        """Output-field function: the reason code at the field's rank, per row."""
        codes = np.array(self.codes + [None], dtype=object)
        n, k = points.shape
        present = (seen_at < np.iinfo(np.int64).max) & (points >= 0)
        # descending points, then first appearance; absent codes sort last
        key_pts = np.where(present, -points, np.inf)
        order = np.lexsort((seen_at, key_pts), axis=1) if k else np.zeros((n, 0), np.int64)
        count = present.sum(axis=1)

        def at_rank(spec) -> Col:
            rank = spec.rank
            out = np.full(n, None, dtype=object)
            if 1 <= rank <= k:
                idx = order[:, rank - 1]
                ok = (rank <= count) & ~bad
                out[ok] = codes[idx[ok]]
            return Col(out, np.array([v is None for v in out], bool), "string", "categorical")
        return at_rank
