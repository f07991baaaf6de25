"""GeneralRegressionModel: linear predictors built from a parameter x predictor matrix.

Document -> plan: ParameterList, FactorList/CovariateList, PPMatrix and ParamMatrix become, per
target category (or the shared ``None`` key), a list of (parameter, beta) in ParamMatrix order and a
"design row" per parameter: the product of factor indicators (or contrast-matrix entries) and
covariates raised to the PPCell power. Scoring builds each design column once over all rows and sums
beta * x in ParamMatrix order (the reference engine's order, which keeps results bit-comparable).

Model types: regression / generalLinear (plain dot product), generalizedLinear (offset, inverse
link, trials), multinomialLogistic (exp, reference category at 0, normalized by the sum),
ordinalMultinomial (cumulative link of threshold + shared terms, differenced) and CoxRegression
(baseline cumulative hazard, per stratum, times exp(x.beta - reference.beta); the predicted value is
the cumulative hazard, as the reference engine reports it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from .. import attributes
from ..objects.general_regression import (BaseCumHazardTables, CovariateList, FactorList,
                                          ParameterList, ParamMatrix, PPMatrix)
from ..scope import Scope
from ..values import Col, codes, is_numeric_type, parse_scalar
from .base import CompiledModel, Result, classification_result, register, regression_result
from ..location import where
from .node_access import model_attrs
from .regression import link

MODEL_TYPES = ("regression", "generalLinear", "generalizedLinear", "multinomialLogistic",
               "ordinalMultinomial", "CoxRegression")
LINK_FUNCTIONS = ("cloglog", "identity", "log", "logc", "logit", "loglog", "negbin", "oddspower",
                  "power", "probit", "cauchit")
CUMULATIVE_LINKS = ("logit", "probit", "cloglog", "loglog", "cauchit")


def inverse_link(name: str, eta: np.ndarray, dist_parameter: float | None = None,
                 link_parameter: float | None = None) -> np.ndarray:
    """mu = g^-1(eta) for a GeneralRegressionModel linkFunction (PMML formulas)."""
    with np.errstate(all="ignore"):
        if name == "identity":
            return eta
        if name == "log":
            return link("exp", eta)
        if name == "logc":
            return 1.0 - np.exp(eta)
        if name in ("logit", "probit", "cloglog", "loglog", "cauchit"):
            return link(name, eta)
        if name == "negbin":
            return 1.0 / (dist_parameter * (np.exp(-eta) - 1.0))
        if name == "oddspower":
            d = link_parameter
            if d == 0.0:
                return link("logit", eta)
            return 1.0 / (1.0 + np.power(1.0 + d * eta, -(1.0 / d)))
        if name == "power":
            d = link_parameter
            if d == 0.0:
                return np.exp(eta)
            return np.power(eta, 1.0 / d)
    raise ValueError(name)


# ------------------------------------------------------------------ compiled pieces

@dataclass
class _Factor:
    """One factor PPCell: indicator of field == value, or a contrast-matrix entry."""

    field: str
    value: Any
    contrast: "_Contrast | None" = None


@dataclass
class _Covariate:
    field: str
    exponent: float | None  # None means 1 (plain multiplication)


@dataclass
class _Row:
    """The PPMatrix cells of one parameter: x = prod(factors) * prod(covariates ** value)."""

    factors: list[_Factor] = field(default_factory=list)
    covariates: list[_Covariate] = field(default_factory=list)


@dataclass
class _Contrast:
    """A Predictor's Categories + Matrix: x = M[index(field value), index(PPCell value)]."""

    categories: list[Any]
    matrix: np.ndarray


@dataclass
class _Stratum:
    times: np.ndarray      # ascending, first occurrence of each distinct time
    hazards: np.ndarray
    max_time: float


def _parse_value(raw: str | None, data_type: str, node) -> Any:
    """A PMML value typed like its field; a DocumentError naming node's tag and line."""
    at = where(node)
    if raw is None:
        raise DocumentError("missing attribute 'value'", **at)
    try:
        return parse_scalar(raw, data_type)
    except ValueError:
        raise DocumentError(f"value {raw!r} is not a {data_type}", **at) from None


@register("GeneralRegressionModel")
class GeneralRegressionModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        self.attrs = attrs = model_attrs(spec)
        self.model_type = spec.attribute("modelType")
        if self.model_type not in MODEL_TYPES:
            raise UnsupportedError(f"modelType={self.model_type!r}", line=self.line,
                                   element=self.tag)
        classification = self.model_type in ("multinomialLogistic", "ordinalMultinomial")
        if self.function not in ("regression", "classification"):
            raise UnsupportedError(f"GeneralRegressionModel functionName={self.function!r}",
                                   line=self.line, element=self.tag)
        regression_only = self.model_type in ("regression", "generalLinear", "CoxRegression")
        if (classification and self.function != "classification") or \
                (regression_only and self.function != "regression"):
            raise DocumentError(f"modelType={self.model_type!r} cannot have functionName="
                                f"{self.function!r}", line=self.line, element=self.tag)
        self._parse_parameters()
        self._parse_predictors()
        self._parse_ppmatrix()
        self._parse_parammatrix()
        self._parse_link()
        self.offset_var = self._field_attr("offsetVariable")
        self.offset_value = attributes.number(attrs, "offsetValue")
        self.trials_var = self._field_attr("trialsVariable")
        self.trials_value = attributes.number(attrs, "trialsValue")
        if self.function == "classification":
            self._plan_classification()
        else:
            self._plan_regression()

    # -- parsing
    def _part(self, cls, required: bool = True):
        """The model's first body part of class cls (a DocumentError when required and
        absent)."""
        parts = self.spec.body(cls)
        if not parts:
            if required:
                raise DocumentError(f"GeneralRegressionModel has no {cls.XML.tag}",
                                    line=self.line, element=self.tag)
            return None
        return parts[0]

    def _field_attr(self, name: str) -> str | None:
        value = self.spec.attribute(name)
        if value is not None:
            self.ctx.require(value, self.spec)
        return value

    def _parse_parameters(self) -> None:
        pl = self._part(ParameterList)
        self.reference_points: dict[str, float] = {
            p.name: p.reference_point or 0.0 for p in pl.parameters}

    def _parse_predictors(self) -> None:
        self.factors: dict[str, _Contrast | None] = {}
        self.covariates: set[str] = set()
        for p in self._predictors(FactorList):
            info = self.ctx.require(p.name, p)
            contrast = None
            if p.matrix is not None:
                if p.categories is None:
                    raise UnsupportedError("contrast Matrix without Categories", line=p.line,
                                           element="Predictor")
                cats = [_parse_value(c.value, info.data_type, c)
                        for c in p.categories.categories]
                contrast = _Contrast(cats, p.matrix.to_array())
            self.factors[p.name] = contrast
        for p in self._predictors(CovariateList):
            info = self.ctx.require(p.name, p)
            if not is_numeric_type(info.data_type):
                raise DocumentError(f"covariate {p.name!r} is a {info.data_type}, not a number",
                                    line=p.line, element="Predictor")
            self.covariates.add(p.name)

    def _predictors(self, cls) -> tuple:
        part = self._part(cls, required=False)
        return () if part is None else part.predictors

    def _category_key(self, raw: str | None) -> Any:
        """targetCategory text -> target value (typed like the target), None for no category."""
        if raw is None:
            return None
        try:
            return parse_scalar(raw, self.target_type)
        except ValueError:
            return raw

    def _parse_ppmatrix(self) -> None:
        pp = self._part(PPMatrix)
        self.ppmatrix: dict[Any, dict[str, _Row]] = {}
        self.factor_levels: dict[str, dict[Any, int]] = {}   # field -> PPCell value -> index
        for c in pp.cells:
            name = c.predictor_name
            param = c.parameter_name
            info = self.ctx.require(name, c)
            rows = self.ppmatrix.setdefault(self._category_key(c.target_category), {})
            row = rows.setdefault(param, _Row())
            if name in self.factors:
                value = _parse_value(c.value, info.data_type, c)
                levels = self.factor_levels.setdefault(name, {})
                levels.setdefault(value, len(levels))
                row.factors.append(_Factor(name, value, self.factors[name]))
            elif name in self.covariates:
                exp = _parse_value(c.value, "double", c)
                row.covariates.append(_Covariate(name, None if exp == 1.0 else exp))
            else:
                raise DocumentError(f"PPCell predictor {name!r} is in neither FactorList nor "
                                    "CovariateList", line=c.line, element="PPCell")

    def _parse_parammatrix(self) -> None:
        pm = self._part(ParamMatrix)
        self.parammatrix: dict[Any, list[tuple[str, float]]] = {}
        for c in pm.cells:
            key = self._category_key(c.target_category)
            self.parammatrix.setdefault(key, []).append((c.parameter_name, c.beta))

    def _parse_link(self) -> None:
        attrs = self.attrs
        self.link_function = self.spec.attribute("linkFunction")
        self.cumulative_link = self.spec.attribute("cumulativeLink")
        self.dist_parameter = attributes.number(attrs, "distParameter")
        self.link_parameter = attributes.number(attrs, "linkParameter")
        if self.model_type == "generalizedLinear":
            if self.link_function is None:
                raise DocumentError("generalizedLinear model needs a linkFunction", line=self.line,
                                    element=self.tag)
            if self.link_function not in LINK_FUNCTIONS:
                raise UnsupportedError(f"linkFunction={self.link_function!r}", line=self.line,
                                       element=self.tag)
            if self.link_function == "negbin" and self.dist_parameter is None:
                raise DocumentError("linkFunction negbin needs distParameter", line=self.line,
                                    element=self.tag)
            if self.link_function in ("power", "oddspower") and self.link_parameter is None:
                raise DocumentError(f"linkFunction {self.link_function} needs linkParameter",
                                    line=self.line, element=self.tag)
        if self.model_type == "ordinalMultinomial":
            if self.cumulative_link is None:
                raise DocumentError("ordinalMultinomial model needs cumulativeLink", line=self.line,
                                    element=self.tag)
            if self.cumulative_link not in CUMULATIVE_LINKS:
                raise UnsupportedError(f"cumulativeLink={self.cumulative_link!r}", line=self.line,
                                       element=self.tag)

    # -- plans
    def _default_rows(self) -> dict[str, _Row]:
        if not self.ppmatrix:
            return {}
        if None not in self.ppmatrix:
            raise DocumentError("PPMatrix has no cells without targetCategory", line=self.line,
                                element="PPMatrix")
        return self.ppmatrix[None]

    def _plan_regression(self) -> None:
        if set(self.parammatrix) != {None}:
            raise DocumentError("a regression ParamMatrix needs PCells without targetCategory (and "
                                "at least one)", line=self.line, element="ParamMatrix")
        self.rows = self._default_rows()
        self.cells = self.parammatrix[None]
        if self.model_type == "CoxRegression":
            self._parse_cox()

    def _plan_classification(self) -> None:
        cats = self.categories()
        if self.target is not None and self.target.op_type not in ("categorical", "ordinal"):
            raise DocumentError("classification target must be categorical or ordinal",
                                line=self.line, element=self.tag)
        if len(cats) < 2:
            raise DocumentError("classification target needs at least two categories",
                                line=self.line, element=self.tag)
        ref_raw = self.spec.attribute("targetReferenceCategory")
        ref = self._category_key(ref_raw) if ref_raw is not None else None
        mt = self.model_type
        if mt in ("generalizedLinear", "multinomialLogistic") and ref is None:
            absent = [c for c in cats if c not in self.parammatrix]
            if len(absent) != 1:
                raise DocumentError("cannot tell the reference category: give "
                                    "targetReferenceCategory or leave exactly one category out of "
                                    "ParamMatrix", line=self.line, element="ParamMatrix")
            ref = absent[0]
        if ref is not None and ref in cats:
            cats = [c for c in cats if c != ref] + [ref]
        self.class_order = cats
        self.plans: list[tuple[list[tuple[str, float]], dict[str, _Row], Any]] = []
        for c in cats[:-1]:
            rows = self.ppmatrix.get(c) if self.ppmatrix else {}
            if rows is None:
                rows = self._default_rows()
            if mt in ("generalizedLinear", "multinomialLogistic"):
                cells = self.parammatrix.get(c)
                if cells is None and len(cats) == 2:
                    cells = self.parammatrix.get(None)
                if cells is None:
                    raise DocumentError(f"ParamMatrix has no PCell for category {c!r}",
                                        line=self.line, element="ParamMatrix")
            elif mt == "ordinalMultinomial":
                intercept = self.parammatrix.get(c)
                if intercept is None or len(intercept) != 1:
                    raise DocumentError(f"ordinalMultinomial ParamMatrix needs exactly one PCell "
                                        f"for category {c!r}", line=self.line, element="ParamMatrix")
                shared = self.parammatrix.get(None)
                if shared is None:
                    raise DocumentError("ordinalMultinomial ParamMatrix needs PCells without "
                                        "targetCategory", line=self.line, element="ParamMatrix")
                cells = shared + intercept
            else:
                raise DocumentError(f"modelType={mt!r} cannot classify", line=self.line,
                                    element=self.tag)
            self.plans.append((cells, rows, c))

    def _parse_cox(self) -> None:
        spec = self.spec
        self.end_time_var = spec.attribute("endTimeVariable")
        if self.end_time_var is None:
            raise DocumentError("CoxRegression needs endTimeVariable", line=self.line,
                                element=self.tag)
        self.ctx.require(self.end_time_var, spec)
        tables = self._part(BaseCumHazardTables, required=False)
        if tables is None:
            raise DocumentError("CoxRegression needs BaseCumHazardTables", line=self.line,
                                element=self.tag)
        self.strata_var = spec.attribute("baselineStrataVariable")
        if self.strata_var is not None:
            info = self.ctx.require(self.strata_var, spec)
            self.strata_values: list[Any] = []
            self.strata: list[_Stratum] = []
            for s in tables.strata:
                self.strata_values.append(_parse_value(s.value, info.data_type, s))
                self.strata.append(self._stratum(s, s.cells, s.max_time))
        else:
            if tables.max_time is None:
                raise DocumentError("missing attribute 'maxTime'", line=tables.line,
                                    element="BaseCumHazardTables")
            self.strata = [self._stratum(tables, tables.cells, tables.max_time)]
        self.reference = 0.0
        self.reference_known = True
        for param, beta in self.cells:
            if param not in self.reference_points:
                self.reference_known = False
                break
            self.reference += beta * self.reference_points[param]

    @staticmethod
    def _stratum(node, cells, max_time: float) -> _Stratum:
        if not cells:
            at = where(node)
            raise DocumentError("no BaselineCell", **at)
        times = np.array([c.time for c in cells])
        hazards = np.array([c.cum_hazard for c in cells])
        order = np.argsort(times, kind="stable")
        times, hazards = times[order], hazards[order]
        uniq, first = np.unique(times, return_index=True)   # first cell of equal times wins
        return _Stratum(uniq, hazards[first], max_time)

    # -- scoring
    def _term(self, row: _Row, scope: Scope, cache: dict) -> tuple[np.ndarray, np.ndarray]:
        """Design column of one parameter and its missing mask."""
        key = id(row)
        hit = cache.get(key)
        if hit is not None:
            return hit
        n = scope.n
        prod = np.ones(n)
        missing = np.zeros(n, bool)
        for f in row.factors:
            col = scope.get(f.field)
            missing |= col.missing
            if f.contrast is None:
                hit = self._codes(f.field, col, cache) == self.factor_levels[f.field][f.value]
                prod = np.where(hit & ~col.missing, prod, prod * 0.0)
            else:
                prod = prod * self._contrast(f, col, scope)
        zero = prod == 0.0
        for cv in row.covariates:
            col = scope.get(cv.field)
            missing |= col.missing & ~zero
            x = col.values.astype(float)
            with np.errstate(all="ignore"):
                factor = x if cv.exponent is None else np.power(x, cv.exponent)
                prod = np.where(zero, prod, prod * factor)
        cache[key] = (prod, missing)
        return prod, missing

    def _codes(self, name: str, col: Col, cache: dict) -> np.ndarray:
        """Per row, the index of a factor's value among its PPCell values (-1: none of them)."""
        key = ("codes", name)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = codes(col.values, list(self.factor_levels[name]))
        return hit

    def _contrast(self, f: _Factor, col: Col, scope: Scope) -> np.ndarray:
        c = f.contrast
        row_idx = codes(col.values, c.categories)
        try:
            col_idx = c.categories.index(f.value)
        except ValueError:
            col_idx = -1
        out = np.zeros(len(row_idx))
        bad = (row_idx < 0) & ~col.missing
        if col_idx < 0 or col_idx >= c.matrix.shape[1]:
            bad = ~col.missing
        else:
            ok = (row_idx >= 0) & (row_idx < c.matrix.shape[0])
            bad |= ~ok & ~col.missing
            out[ok] = c.matrix[row_idx[ok], col_idx]
            bad |= np.isnan(out) & ~col.missing
        if bad.any():
            scope.fail(bad, lambda i: EvaluationError(
                "value has no row in the contrast matrix", field=f.field, row=i))
            out[bad] = np.nan
        return out

    def _linear(self, cells: list[tuple[str, float]], rows: dict[str, _Row], scope: Scope,
                cache: dict) -> tuple[np.ndarray, np.ndarray]:
        """sum of beta * x in ParamMatrix order (parameters without PPCells count x = 1)."""
        y = np.zeros(scope.n)
        missing = np.zeros(scope.n, bool)
        for param, beta in cells:
            row = rows.get(param)
            if row is None:
                y = y + beta
            else:
                x, m = self._term(row, scope, cache)
                missing |= m
                y = y + beta * x
        return y, missing

    def _required(self, name: str, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """A field the model cannot do without: a missing value is a row error."""
        col = scope.get(name)
        if col.missing.any():
            scope.fail(col.missing, lambda i: EvaluationError("missing value", field=name, row=i))
        return col.values.astype(float), col.missing

    def _offset(self, y: np.ndarray, scope: Scope, missing: np.ndarray) -> np.ndarray:
        if self.offset_var is not None:
            off, m = self._required(self.offset_var, scope)
            missing |= m
            return y + off
        if self.offset_value is not None:
            return y + self.offset_value
        return y

    def _link(self, y: np.ndarray, scope: Scope, missing: np.ndarray) -> np.ndarray:
        y = self._offset(y, scope, missing)
        mu = inverse_link(self.link_function, y, self.dist_parameter, self.link_parameter)
        trials = None
        if self.trials_var is not None:
            trials, m = self._required(self.trials_var, scope)
            missing |= m
            frac = ~m & (trials != np.trunc(trials))
            if frac.any():
                scope.fail(frac, lambda i: EvaluationError("trials is not an integer",
                                                           field=self.trials_var, row=i))
                missing |= frac
        elif self.trials_value is not None:
            trials = self.trials_value
        if trials is not None:
            mu = mu * trials
        return mu

    def score(self, scope: Scope) -> Result:
        cache: dict = {}
        if self.function == "classification":
            return self._classify(scope, cache)
        if self.model_type == "CoxRegression":
            return self._cox(scope, cache)
        y, missing = self._linear(self.cells, self.rows, scope, cache)
        if self.model_type == "generalizedLinear":
            y = self._link(y, scope, missing)
        return regression_result(y, missing, self.target_type)

    def _classify(self, scope: Scope, cache: dict) -> Result:
        n = scope.n
        mt = self.model_type
        missing = np.zeros(n, bool)
        values: list[np.ndarray] = []
        prev = None
        for cells, rows, _ in self.plans:
            y, m = self._linear(cells, rows, scope, cache)
            missing |= m
            if mt == "generalizedLinear":
                v = self._link(y, scope, missing)
            elif mt == "multinomialLogistic":
                v = y     # exponentiated below, shifted by the row's largest linear predictor
            else:
                with np.errstate(all="ignore"):
                    cum = link(self.cumulative_link, self._offset(y, scope, missing))
                v = cum if prev is None else cum - prev
                prev = cum
            values.append(v)
        if mt == "generalizedLinear":
            values.append(1.0 - values[-1])
        elif mt == "multinomialLogistic":
            # exp(eta_j) / sum_k exp(eta_k), the reference category's eta being 0, computed as
            # exp(eta_j - max) / sum_k exp(eta_k - max): the same numbers where nothing
            # overflows, and the limit (1 for the largest eta) where exp(eta) would be inf
            values.append(np.zeros(n))
            with np.errstate(all="ignore"):
                top = np.maximum.reduce(values)
                values = [np.exp(v - top) for v in values]
                total = values[0].copy()
                for v in values[1:]:
                    total = total + v
                values = [v / total for v in values]
        else:
            values.append(1.0 - prev)
        probs = {c: np.where(missing, np.nan, v) for c, v in zip(self.class_order, values)}
        return classification_result(n, self.class_order, probs, missing, self.target_type)

    def _cox(self, scope: Scope, cache: dict) -> Result:
        n = scope.n
        missing = np.zeros(n, bool)
        if self.strata_var is not None:
            col = scope.get(self.strata_var)
            if col.missing.any():
                scope.fail(col.missing, lambda i: EvaluationError(
                    "missing value", field=self.strata_var, row=i))
            idx = codes(col.values, self.strata_values)
            idx = np.where(col.missing, -1, idx)
            missing |= idx < 0
        else:
            idx = np.zeros(n, int)
        tcol = scope.get(self.end_time_var)
        tm = tcol.missing & ~missing          # a row without a stratum needs no time
        if tm.any():
            scope.fail(tm, lambda i: EvaluationError("missing value", field=self.end_time_var, row=i))
        t = tcol.values.astype(float)
        missing |= tcol.missing
        hazard = np.full(n, np.nan)
        zero = np.zeros(n, bool)
        for k, s in enumerate(self.strata):
            sel = (idx == k) & ~missing
            if not sel.any():
                continue
            ts = t[sel]
            over = ts > s.max_time
            under = ts < s.times[0]
            pos = np.searchsorted(s.times, ts, side="right") - 1
            h = s.hazards[np.clip(pos, 0, len(s.hazards) - 1)]
            h = np.where(over, np.nan, h)
            hazard[sel] = h
            z = np.zeros(n, bool)
            z[np.flatnonzero(sel)[under & ~over]] = True
            zero |= z
            m = np.zeros(n, bool)
            m[np.flatnonzero(sel)[over]] = True
            missing |= m
        r, rm = self._linear(self.cells, self.rows, scope, cache)
        missing |= rm & ~zero
        if not self.reference_known:
            missing |= ~zero
        with np.errstate(all="ignore"):
            value = np.exp(r - self.reference) * hazard
        value = np.where(zero, 0.0, value)
        missing &= ~zero
        return regression_result(value, missing, self.target_type)

