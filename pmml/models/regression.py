"""RegressionModel: linear regression tables, and classification by one table per category."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from ..functions import _special  # (scipy.special, imported on first use)
from ..scope import Scope
from ..expressions import to_numbers
from ..values import Col, _is_na, codes, parse_scalar
from ..objects.regression import RegressionTable
from .base import CompiledModel, Result, classification_result, register, regression_result


NORMALIZATIONS = ("none", "simplemax", "softmax", "logit", "probit", "cloglog", "exp", "loglog",
                  "cauchit")


@np.errstate(all="ignore")   # (as a decorator: cheaper per call than a with-block)
def link(method: str, y: np.ndarray) -> np.ndarray:
    """Inverse link functions shared by regression-type models."""
    if method == "none":
        return y
    if method in ("logit", "softmax"):
        return 1.0 / (1.0 + np.exp(-y))
    if method == "probit":
        return _special.ndtr(y)
    if method == "cloglog":
        return 1.0 - np.exp(-np.exp(y))
    if method == "loglog":
        return np.exp(-np.exp(-y))
    if method == "cauchit":
        return 0.5 + np.arctan(y) / math.pi
    if method == "exp":
        return np.exp(y)
    raise ValueError(method)


_link = link.__wrapped__     # for callers already under np.errstate(all="ignore")


#: the base of JPMML's float exp: e written with float precision (the double nearest
#: 2.7182817), not the double e
_E_FLOAT32 = 2.7182817


def exp_float32(x: np.ndarray) -> np.ndarray:
    """exp of float32 values as JPMML's float arithmetic computes it (JPMML-Evaluator 1.7):
    2.7182817 raised to x in double precision, rounded to float32. It differs from the float32
    of exp(x) in the last bit for about half of all values; matching it makes x-mathContext
    documents agree with JPMML exactly."""
    with np.errstate(all="ignore"):
        return np.power(_E_FLOAT32, np.asarray(x, np.float32).astype(float)).astype(np.float32)


class Table:
    """One RegressionTable compiled to vectorizable terms."""

    def __init__(self, node: RegressionTable, model: "RegressionModel"):
        self.line = node.line
        self.intercept = 0.0 if node.intercept is None else node.intercept
        self.category = node.target_category
        self.numeric = []      # (field, exponent, coefficient)
        self.categorical = {}  # field -> (values, coefficients)
        self.terms = []        # (coefficient, [fields])
        for p in node.numeric:
            model.ctx.require(p.name, p)
            self.numeric.append((p.name, 1.0 if p.exponent is None else float(p.exponent),
                                 p.coefficient))
        for p in node.categorical:
            info = model.ctx.require(p.name, p)
            try:
                v = parse_scalar(p.value, info.data_type)
            except ValueError:
                raise DocumentError(f"value {p.value!r} is not a {info.data_type}",
                                    line=p.line, element="CategoricalPredictor") from None
            vals, coefs = self.categorical.setdefault(p.name, ([], []))
            vals.append(v)
            coefs.append(p.coefficient)
        for t in node.terms:
            refs = [r.field for r in t.fields]
            for ref in t.fields:
                model.ctx.require(ref.field, ref)
            self.terms.append((t.coefficient, refs))

        # planned once: the lookup tables of the categorical predictors (a trailing 0 for
        # values without a coefficient), and whether one record may take the scalar path
        self.cat_tables = {name: np.append(np.asarray(coefs), 0.0)
                           for name, (_, coefs) in self.categorical.items()}
        self.cat_lookup = {}
        for name, (vals, _) in self.categorical.items():
            lookup: dict = {}
            for i, v in enumerate(vals):
                lookup.setdefault(v, i)
            self.cat_lookup[name] = lookup
        self.scalar_ok = not self.terms and all(e == 1.0 for _, e, _ in self.numeric)
        # the same terms for the one-record sums (Python floats)
        self.numeric_terms = [(name, coef) for name, _, coef in self.numeric]
        self.cat_terms = [(name, self.cat_lookup[name], self.cat_tables[name].tolist())
                          for name in self.categorical]

    def fields(self) -> set[str]:
        return {n for n, _, _ in self.numeric} | set(self.categorical) | \
            {f for _, refs in self.terms for f in refs}

    def evaluate(self, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        n = scope.n
        if n == 1 and self.scalar_ok:
            out = self._evaluate_one(scope)
            if out is not None:
                return out
        y = np.zeros(n)
        missing = np.zeros(n, bool)
        for name, exp, coef in self.numeric:
            col = scope.get(name)
            x = _numbers(col, name, scope)
            missing |= col.missing
            y += coef * (x if exp == 1.0 else np.power(x, exp))
        for name, (vals, coefs) in self.categorical.items():
            # PMML: a missing categorical input is ignored (the term adds 0), unlike a
            # missing NumericPredictor or PredictorTerm input, which makes the result missing
            col = scope.get(name)
            idx = codes(col.values, vals, col.text)
            idx[col.missing] = -1
            y += self.cat_tables[name][idx]  # idx == -1 picks the trailing 0
        for coef, refs in self.terms:
            prod = np.full(n, coef)
            for r in refs:
                col = scope.get(r)
                missing |= col.missing
                prod = prod * _numbers(col, r, scope)
            y += prod
        y += self.intercept
        return y, missing

    def evaluate_float32(self, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """``evaluate`` in float32 arithmetic (x-mathContext="float"): the intercept first,
        then each term in document order, every product and sum rounded to float32, as
        JPMML's FloatValue computes; returned as float64 holding float32 values."""
        f32 = np.float32
        n = scope.n
        y = np.full(n, f32(self.intercept), f32)
        missing = np.zeros(n, bool)
        with np.errstate(all="ignore"):
            for name, exp, coef in self.numeric:
                col = scope.get(name)
                missing |= col.missing
                x = col.values.astype(f32)
                if exp != 1.0:
                    x = np.power(x.astype(float), exp).astype(f32)
                y = y + x * f32(coef)
            for name, (vals, _) in self.categorical.items():
                col = scope.get(name)
                idx = codes(col.values, vals, col.text)
                idx[col.missing] = -1
                y = y + self.cat_tables[name].astype(f32)[idx]
            for coef, refs in self.terms:
                prod = np.full(n, f32(coef), f32)
                for r in refs:
                    col = scope.get(r)
                    missing |= col.missing
                    prod = prod * col.values.astype(f32)
                y = y + prod
        return y.astype(float), missing

    def _evaluate_one(self, scope: Scope) -> tuple[np.ndarray, np.ndarray] | None:
        """``evaluate`` for one record in Python floats: the same IEEE operations in the same
        order (products, then a running sum from 0.0), without a numpy call per term. None when
        a column is not float64 (the vectorized path then handles it)."""
        y = 0.0
        missing = False
        for name, coef in self.numeric_terms:
            col = scope.get(name)
            x = col.values
            if x.dtype.kind != "f":
                return None
            if col.missing[0]:
                missing = True
            y += coef * float(x[0])
        for name, lookup, coefs in self.cat_terms:
            col = scope.get(name)
            v = col.values.tolist()[0]      # (as codes() reads values)
            y += coefs[-1 if col.missing[0] or _is_na(v) else lookup.get(v, -1)]
        y += self.intercept
        return np.array([y]), np.array([missing])

    def sum_record(self, env: dict) -> float:
        """``_evaluate_one`` for a record on the happy path (field -> float or text, nothing
        missing): the same operations in the same order."""
        y = 0.0
        for name, coef in self.numeric_terms:
            y += coef * env[name]
        for name, lookup, coefs in self.cat_terms:
            y += coefs[lookup.get(env[name], -1)]
        return y + self.intercept


def _numbers(col: Col, name: str, scope: Scope) -> np.ndarray:
    """A numeric input's values as float64; a present value that is no number (a text field
    under a NumericPredictor) fails its row, as the reference engine rejects it."""
    if col.values.dtype.kind == "f":
        return col.values
    x, bad = to_numbers(col)
    if bad.any():
        scope.fail(bad, lambda i: EvaluationError(
            f"value {col.values[i]!r} is not a number", field=name, row=i))
    return np.where(bad | col.missing, np.nan, x)


@register("RegressionModel")
class RegressionModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        self.normalization = spec.attribute("normalizationMethod") or "none"
        if self.normalization not in NORMALIZATIONS:
            raise UnsupportedError(f"normalizationMethod={self.normalization!r}",
                                   line=self.line, element=self.tag)
        tables = spec.body(RegressionTable)
        if not tables:
            raise DocumentError("RegressionModel has no RegressionTable", line=self.line,
                                element=self.tag)
        self.tables = [Table(t, self) for t in tables]
        if self.function == "classification":
            dt = self.target_type
            for t in self.tables:
                try:
                    t.category = parse_scalar(t.category, dt)
                except ValueError:
                    raise DocumentError(f"targetCategory {t.category!r} is not a {dt}",
                                        line=t.line, element="RegressionTable") from None
        elif self.function != "regression":
            raise UnsupportedError(f"RegressionModel functionName={self.function!r}",
                                   line=self.line, element=self.tag)

    def record_scorer(self, need: Callable[[str], str]) -> Callable[[dict], Any] | None:
        """The one-record scorer for pmml/record.py: env (field -> float or text) ->
        (predicted value, {category: probability}) in the column plan's IEEE operations, or
        None where the column plan must answer. ``need(field)`` plans a field and gives its
        kind ("double" or "text"). None at compile time outside the subset."""
        if self.float32 or not all(t.scalar_ok for t in self.tables):
            return None
        for t in self.tables:
            if any(need(n) != "double" for n, _ in t.numeric_terms) or \
                    any(need(n) != "text" for n, _, _ in t.cat_terms):
                return None
        tables = self.tables

        if self.function == "regression":
            method = "logit" if self.normalization == "softmax" else self.normalization
            table = tables[0]    # (the column plan's table: the first)

            def regression(env: dict):
                y = table.sum_record(env)
                if y - y != 0.0:
                    return None
                if method != "none":
                    y = float(link(method, np.array([y]))[0])
                return y, None
            return regression

        cats = [t.category for t in self.tables]
        if len(set(cats)) != len(cats):
            return None

        # two categories by logit (sklearn2pmml's binary classifiers): _binomial_or_ordinal's
        # operations on the scalar (np.exp's own loop), without the array round trip
        binary_logit = len(tables) == 2 and self.normalization == "logit"

        first, second = tables[0], tables[-1]

        def classification(env: dict):
            if binary_logit:
                y = first.sum_record(env)
                y1 = second.sum_record(env)
                if y - y != 0.0 or y1 - y1 != 0.0:
                    return None
                if -700.0 < y < 700.0:                        # (exp cannot overflow)
                    # np.exp's own loop; then Python floats (the same IEEE operations as
                    # numpy's float64 scalars, without their overhead)
                    p0 = 1.0 / (1.0 + float(np.exp(-y)))
                    p1 = 1.0 - p0
                    if p0 != p0 or p1 != p1:
                        return None
                    if p1 > p0:
                        return cats[1], {cats[0]: p0, cats[1]: p1}
                    return cats[0], {cats[0]: p0, cats[1]: p1}
            ys = [t.sum_record(env) for t in tables]
            for y in ys:
                if y - y != 0.0:
                    return None
            if binary_logit and -700.0 < ys[0] < 700.0:      # (exp cannot overflow)
                p0 = float(1.0 / (1.0 + np.exp(-ys[0])))
                probs = [p0, 1.0 - p0]
            else:
                probs = self._normalize(np.array([[y] for y in ys]))[:, 0].tolist()
            best = 0
            for i, p in enumerate(probs):
                if p != p:
                    return None
                if p > probs[best]:       # (argmax: the first of equals wins)
                    best = i
            return cats[best], dict(zip(cats, probs))
        return classification

    def score(self, scope: Scope) -> Result:
        if self.float32:
            return self._score_float32(scope)
        if self.function == "regression":
            y, missing = self.tables[0].evaluate(scope)
            y = link(self.normalization, y) if self.normalization != "softmax" else link("logit", y)
            return regression_result(y, missing, self.target_type)
        ys = []
        missing = np.zeros(scope.n, bool)
        for t in self.tables:
            y, m = t.evaluate(scope)
            ys.append(y)
            missing |= m
        cats = [t.category for t in self.tables]
        probs = self._normalize(np.array(ys))     # (as np.vstack, in fewer steps)
        probs = np.where(missing, np.nan, probs)
        return classification_result(scope.n, cats, dict(zip(cats, probs)), missing, self.target_type)

    @np.errstate(all="ignore")
    def _score_float32(self, scope: Scope) -> Result:
        """x-mathContext="float" (what JPMML's XGBoost and LightGBM converters write): tables and
        normalization in float32 arithmetic, JPMML's FloatValue operations (logit
        1f / (1f + exp(-y)); the second of two classes 1f - p; softmax exp(y - max) over their
        float32 running sum; exp as ``exp_float32``). Other normalizations are computed in
        double and rounded to float32."""
        f32 = np.float32
        pairs = [t.evaluate_float32(scope) for t in self.tables]
        missing = np.zeros(scope.n, bool)
        for _, m in pairs:
            missing |= m
        ys = [y.astype(f32) for y, _ in pairs]

        def inverse_logit(y):
            return f32(1) / (f32(1) + exp_float32(-y))

        if self.function == "regression":
            method = "logit" if self.normalization == "softmax" else self.normalization
            y = ys[0]
            if method == "logit":
                y = inverse_logit(y)
            elif method != "none":
                y = link(method, y.astype(float)).astype(f32)
            return regression_result(y.astype(float), missing, self.target_type)
        cats = [t.category for t in self.tables]
        method = self.normalization
        if method == "softmax":
            top = ys[0]
            for y in ys[1:]:
                top = np.maximum(top, y)
            es = [exp_float32(y - top) for y in ys]
            total = np.zeros(scope.n, f32)
            for e in es:
                total = total + e
            probs = np.array([e / total for e in es]).astype(float)
        elif len(ys) == 2 and method in ("logit", "none") and not self.target_ordinal():
            p0 = inverse_logit(ys[0]) if method == "logit" else ys[0]
            probs = np.array([p0, f32(1) - p0]).astype(float)
        else:
            probs = self._normalize(np.array([y.astype(float) for y in ys]))
            probs = probs.astype(f32).astype(float)
        probs = np.where(missing, np.nan, probs)
        return classification_result(scope.n, cats, dict(zip(cats, probs)), missing,
                                     self.target_type)

    @np.errstate(all="ignore")
    def _normalize(self, y: np.ndarray) -> np.ndarray:
        method = self.normalization
        k = y.shape[0]
        if method == "softmax":
            e = np.exp(y - np.max(y, axis=0))
            return e / e.sum(axis=0)
        if method == "simplemax":
            return y / y.sum(axis=0)
        if k == 2 or self.target_ordinal():
            return self._binomial_or_ordinal(y, method)
        if method == "none":
            out = y.copy()
            out[-1] = 1.0 - out[:-1].sum(axis=0)
            return out
        p = _link(method, y)
        return p / p.sum(axis=0)

    def target_ordinal(self) -> bool:
        return self.target is not None and self.target.op_type == "ordinal"

    def _binomial_or_ordinal(self, y: np.ndarray, method: str) -> np.ndarray:
        if y.shape[0] == 2:
            p0 = _link(method, y[0]) if method != "none" else y[0]
            return np.array([p0, 1.0 - p0])
        # ordinal: tables give cumulative probabilities; the last category takes the rest
        cum = _link(method, y[:-1]) if method != "none" else y[:-1]
        out = np.empty_like(y)
        prev = np.zeros(y.shape[1])
        for i in range(y.shape[0] - 1):
            out[i] = cum[i] - prev
            prev = cum[i]
        out[-1] = 1.0 - prev
        return out
