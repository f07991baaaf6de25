"""Targets: post-processing of a model's prediction (rescale, bounds, castInteger, priors, default)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..values import Col, parse_scalar


@dataclass
class TargetValueSpec:
    value: Any
    display: str | None = None
    prior: float | None = None
    default: float | None = None


@dataclass
class TargetSpec:
    field: str | None
    op_type: str | None = None
    cast_integer: str | None = None
    min: float | None = None
    max: float | None = None
    factor: float = 1.0
    constant: float = 0.0
    values: list[TargetValueSpec] = field(default_factory=list)
    #: the model's x-mathContext="float": bounds and rescaling in float32 arithmetic
    float32: bool = False

    def _rescale_float32(self, v: np.ndarray) -> np.ndarray:
        """Bounds and rescaling of a float32 model, each step rounded to float32 (as JPMML's
        FloatValue does)."""
        v = v.astype(np.float32).astype(float)
        if self.min is not None:
            v = _f32_op(np.maximum, v, self.min)
        if self.max is not None:
            v = _f32_op(np.minimum, v, self.max)
        if self.factor != 1.0:
            v = _f32_op(np.multiply, v, self.factor)
        if self.constant != 0.0:
            v = _f32_op(np.add, v, self.constant)
        return v

    def apply(self, result):
        """Apply to a Result in place of the model's raw answer (new Result)."""
        from .base import Result
        if result.function == "regression" or (result.probs is None and result.value.data_type != "string"):
            val = result.value
            v = val.values.astype(float)
            missing = val.missing
            default = next((tv.default for tv in self.values if tv.default is not None), None)
            if default is not None and missing.any():
                v = np.where(missing, default, v)
                missing = np.zeros(len(v), bool)
            if self.float32:
                v = self._rescale_float32(v)
            else:
                if self.min is not None:
                    v = np.maximum(v, self.min)
                if self.max is not None:
                    v = np.minimum(v, self.max)
                if self.factor != 1.0:
                    v = v * self.factor
                if self.constant != 0.0:
                    v = v + self.constant
            dt = val.data_type
            if self.cast_integer:
                v = {"round": lambda a: np.floor(a + 0.5), "ceiling": np.ceil,
                     "floor": np.floor}[self.cast_integer](v)
                dt = "integer"
            v = np.where(missing, np.nan, v)
            return Result(result.n, result.function, Col(v, missing, dt, val.op_type),
                          result.categories, result.probs, result.extra, result.segments)
        # classification: priors fill rows without a prediction
        priors = {tv.value: tv.prior for tv in self.values if tv.prior is not None}
        if priors and result.value.missing.any():
            miss = result.value.missing
            cats = result.categories or list(priors)
            probs = dict(result.probs or {})
            for c in cats:
                p = probs.get(c, np.full(result.n, np.nan)).copy()
                p[miss] = priors.get(c, 0.0)
                probs[c] = p
            best = max(priors, key=lambda c: priors[c])
            vals = result.value.values.copy()
            vals[miss] = best
            col = Col(vals, np.zeros(result.n, bool), result.value.data_type, result.value.op_type)
            return Result(result.n, result.function, col, cats, probs, result.extra, result.segments)
        return result


def _f32_op(op, a: np.ndarray, b: float) -> np.ndarray:
    """op in float32 arithmetic (IEEE float32 numpy arrays), returned as float64."""
    with np.errstate(all="ignore"):
        return op(a.astype(np.float32), np.float32(b)).astype(float)


def parse_targets(node, ctx) -> dict[str | None, TargetSpec]:
    """Compile a typed Targets (``objects.Targets``, or None: no targets)."""
    out: dict[str | None, TargetSpec] = {}
    if node is None:
        return out
    targets = node.targets
    for t in targets:
        name = t.field
        info = ctx.lookup(name) if name else None
        dt = info.data_type if info is not None else "string"
        spec = TargetSpec(name, t.optype, t.cast_integer, t.min, t.max,
                          1.0 if t.rescale_factor is None else t.rescale_factor,
                          0.0 if t.rescale_constant is None else t.rescale_constant)
        for tv in t.values:
            raw = tv.value
            try:
                v = parse_scalar(raw, dt) if raw is not None else None
            except ValueError:
                v = raw
            spec.values.append(TargetValueSpec(v, tv.display_value, tv.prior_probability,
                                               tv.default_value))
        out[name] = spec
        if len(targets) == 1:
            out.setdefault(None, spec)
    return out
