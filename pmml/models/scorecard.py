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
from ..expressions import compile_expression, find_expression
from ..predicates import Tri, compile_pred, find_predicate, parse_predicate
from ..scope import Scope
from ..values import Col
from .base import CompiledModel, Result, register, regression_result

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
        el = self.el
        if self.function != "regression":
            raise UnsupportedError(f"Scorecard functionName={self.function!r}", line=el.sourceline,
                                   element=el.tag)
        self.initial = attributes.number(el, "initialScore", "0")
        self.use_codes = attributes.boolean(el, "useReasonCodes", True)
        self.algorithm = el.get("reasonCodeAlgorithm", "pointsBelow")
        if self.algorithm not in ("pointsAbove", "pointsBelow"):
            raise UnsupportedError(f"reasonCodeAlgorithm={self.algorithm!r}", line=el.sourceline,
                                   element=el.tag)
        self.baseline_method = el.get("baselineMethod", "other")
        if self.baseline_method not in BASELINE_METHODS:
            raise DocumentError(f"baselineMethod={self.baseline_method!r}", line=el.sourceline,
                                element=el.tag)
        model_baseline = attributes.number(el, "baselineScore")
        chars_el = el.find("Characteristics")
        if chars_el is None or not chars_el.findall("Characteristic"):
            raise DocumentError("Scorecard has no Characteristic", line=el.sourceline,
                                element=el.tag)
        self.codes: list[str] = []
        self.chars: list[_Characteristic] = []
        for ch in chars_el.findall("Characteristic"):
            attrs = []
            for a in ch.findall("Attribute"):
                attrs.append(self._attribute(a, ch))
            if not attrs:
                raise DocumentError("Characteristic has no Attribute", line=ch.sourceline,
                                    element="Characteristic")
            c = _Characteristic(ch.get("name"), attrs, line=ch.sourceline)
            if self.use_codes:
                base = attributes.number(ch, "baselineScore", model_baseline)
                if base is not None:
                    c.baseline = base
                elif self.baseline_method in ("max", "min") and all(
                        a.expr is None for a in attrs):
                    pts = [a.points for a in attrs]
                    c.baseline = max(pts) if self.baseline_method == "max" else min(pts)
                else:
                    raise DocumentError("useReasonCodes needs a baselineScore (on the "
                                        "Characteristic or the Scorecard)", line=ch.sourceline,
                                        element="Characteristic")
            self.chars.append(c)
        # whole points give whole scores: an integer target stays integer
        self.whole_predictions = self.initial.is_integer() and all(
            a.expr is None and a.points is not None and a.points.is_integer()
            for c in self.chars for a in c.attributes)

    def _attribute(self, a, ch) -> _Attribute:
        pel = find_predicate(a)
        if pel is None:
            raise DocumentError("Attribute without a predicate", line=a.sourceline,
                                element="Attribute")
        attr = _Attribute(compile_pred(parse_predicate(pel, self.ctx)), None)
        cps = a.find("ComplexPartialScore")
        if cps is not None:
            ex = find_expression(cps)
            if ex is None:
                raise DocumentError("ComplexPartialScore without an expression",
                                    line=cps.sourceline, element="ComplexPartialScore")
            attr.expr = compile_expression(ex, self.ctx)
        elif a.get("partialScore") is not None:
            attr.points = attributes.number(a, "partialScore", required=True)
        else:
            raise DocumentError("Attribute has neither partialScore nor ComplexPartialScore",
                                line=a.sourceline, element="Attribute")
        if self.use_codes:
            code = a.get("reasonCode") or ch.get("reasonCode")
            if code is None:
                raise DocumentError("useReasonCodes: Attribute has no reasonCode (nor its "
                                    "Characteristic)", line=a.sourceline, element="Attribute")
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
