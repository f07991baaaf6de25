"""NaiveBayesModel: class scores as sums of log-likelihoods, one vectorized pass per BayesInput.

Each row's score for category c is ln(count_c) from BayesOutput plus, for every BayesInput whose
value is present, ln P(x | c):
  - discrete inputs (PairCounts, optionally after a Discretize DerivedField): count(x, c) / sum of
    the input's counts for c, and the model's threshold in place of a zero count; a value with no
    PairCounts contributes nothing;
  - continuous inputs (TargetValueStats): the density of the category's distribution at x, raised
    to the threshold when lower.
Missing inputs are skipped. Scores become probabilities by a max-shifted softmax, as the reference
engine (JPMML-Evaluator) computes them; densities are computed before their logarithm, as there, so
that underflow to zero behaves the same (probability = threshold).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _stats  # type: ignore[import-untyped]

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from ..expressions import cast
from ..scope import Scope
from ..values import codes, is_numeric_type, parse_scalar
from .base import CompiledModel, Result, classification_result, register
from .neural_network import compile_field_container

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass
class Distribution:
    """A TargetValueStat's continuous distribution."""

    kind: str          # "gauss", "poisson" or "uniform"
    a: float = 0.0     # mean / lower
    b: float = 0.0     # variance / upper

    def density(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.kind == "gauss":
                sd = math.sqrt(self.b)
                z = (x - self.a) / sd
                return np.exp(-0.5 * z * z - (math.log(sd) + _HALF_LOG_2PI))
            if self.kind == "poisson":
                return _stats.poisson.pmf(x, self.a)
            inside = (x >= self.a) & (x <= self.b)
            return np.where(inside, 1.0 / (self.b - self.a), 0.0)


@dataclass
class DiscreteInput:
    field: str
    values: list[Any]          # PairCounts values, typed like the (derived) field
    log_probs: np.ndarray      # (len(values) + 1, categories); last row all 0 (no PairCounts)
    derived: Any = None        # fn(scope) -> Col for a discretizing DerivedField


@dataclass
class ContinuousInput:
    field: str
    dists: list[tuple[int, Distribution]]   # (category index, distribution)


def _parse_distribution(el) -> Distribution:
    def num(attr: str) -> float:
        v = el.get(attr)
        if v is None:
            raise DocumentError(f"{el.tag} has no {attr}", line=el.sourceline, element=el.tag)
        try:
            return float(v)
        except ValueError:
            raise DocumentError(f"{attr}={v!r} is not a number", line=el.sourceline,
                                element=el.tag) from None

    if el.tag == "GaussianDistribution":
        var = num("variance")
        if not var > 0:
            raise DocumentError(f"variance={var!r} must be positive", line=el.sourceline,
                                element=el.tag)
        return Distribution("gauss", num("mean"), var)
    if el.tag == "PoissonDistribution":
        return Distribution("poisson", num("mean"))
    if el.tag == "UniformDistribution":
        lo, hi = num("lower"), num("upper")
        if not hi > lo:
            raise DocumentError("UniformDistribution needs lower < upper", line=el.sourceline,
                                element=el.tag)
        return Distribution("uniform", lo, hi)
    raise UnsupportedError(f"<{el.tag}> in a naive Bayes model", line=el.sourceline,
                           element=el.tag)


def _field_name(el) -> str | None:
    return el.get("fieldName") or el.get("field")


@register("NaiveBayesModel")
class NaiveBayesModel(CompiledModel):
    def compile(self) -> None:
        el = self.el
        if self.function != "classification":
            raise UnsupportedError(f"NaiveBayesModel functionName={self.function!r}",
                                   line=el.sourceline, element=el.tag)
        thr = el.get("threshold")
        try:
            self.threshold = float(thr) if thr is not None else 0.0
        except ValueError:
            raise DocumentError(f"threshold={thr!r} is not a number", line=el.sourceline,
                                element=el.tag) from None
        out = el.find("BayesOutput")
        if out is None or out.find("TargetValueCounts") is None:
            raise DocumentError("NaiveBayesModel has no BayesOutput counts", line=el.sourceline,
                                element=el.tag)
        name = _field_name(out)
        if name and self.target is not None and name != self.target.name:
            raise DocumentError(f"BayesOutput names {name!r}, not the target "
                                f"{self.target.name!r}", line=out.sourceline, element="BayesOutput")
        if self.target is None and name:
            self.target = self.ctx.require(name, out)
        dt = self.target_type
        self.cats: list[Any] = []
        prior = []
        for tvc in out.find("TargetValueCounts").findall("TargetValueCount"):
            self.cats.append(self._category(tvc))
            prior.append(self._count(tvc))
        if not self.cats:
            raise DocumentError("BayesOutput lists no categories", line=out.sourceline,
                                element="BayesOutput")
        with np.errstate(divide="ignore"):
            self.log_prior = np.log(np.array(prior))
        self.cat_index = {c: j for j, c in enumerate(self.cats)}
        self.dt = dt
        bis = el.find("BayesInputs")
        if bis is None:
            raise DocumentError("NaiveBayesModel has no BayesInputs", line=el.sourceline,
                                element=el.tag)
        inputs = list(bis.findall("BayesInput"))
        for ext in bis.findall("Extension"):   # older producers park BayesInputs in extensions
            inputs.extend(ext.findall("BayesInput"))
        self.inputs = [self._compile_input(bi) for bi in inputs]

    def _category(self, el) -> Any:
        try:
            return parse_scalar(el.get("value"), self.target_type)
        except ValueError:
            raise DocumentError(f"category {el.get('value')!r} is not a {self.target_type}",
                                line=el.sourceline, element=el.tag) from None

    @staticmethod
    def _count(el) -> float:
        try:
            return float(el.get("count"))
        except (TypeError, ValueError):
            raise DocumentError(f"count={el.get('count')!r} is not a number", line=el.sourceline,
                                element=el.tag) from None

    def _compile_input(self, bi):
        name = _field_name(bi)
        info = self.ctx.require(name, bi)
        tvs = bi.find("TargetValueStats")
        if tvs is not None:
            dists = []
            for st in tvs.findall("TargetValueStat"):
                cat = self._category(st)
                dist_el = next((c for c in st if isinstance(c.tag, str) and c.tag != "Extension"),
                               None)
                if dist_el is None:
                    raise DocumentError("TargetValueStat has no distribution",
                                        line=st.sourceline, element="TargetValueStat")
                if cat in self.cat_index:
                    dists.append((self.cat_index[cat], _parse_distribution(dist_el)))
            return ContinuousInput(name, dists)
        derived = None
        dt = info.data_type
        df = bi.find("DerivedField")
        if df is not None:
            if df.find("Discretize") is None:
                raise UnsupportedError("BayesInput's DerivedField must hold a Discretize",
                                       line=df.sourceline, element="DerivedField")
            dt, derived = compile_field_container(df, self.ctx)
        values: list[Any] = []
        rows: list[dict[int, float]] = []
        sums = np.zeros(len(self.cats))
        for pc in bi.findall("PairCounts"):
            try:
                v = parse_scalar(pc.get("value"), dt)
            except ValueError:
                raise DocumentError(f"PairCounts value {pc.get('value')!r} is not a {dt}",
                                    line=pc.sourceline, element="PairCounts") from None
            tvcs = pc.find("TargetValueCounts")
            if tvcs is None:
                raise DocumentError("PairCounts has no TargetValueCounts", line=pc.sourceline,
                                    element="PairCounts")
            row = {}
            for tvc in tvcs.findall("TargetValueCount"):
                cat = self._category(tvc)
                if cat in self.cat_index:
                    c = self._count(tvc)
                    row[self.cat_index[cat]] = c
                    sums[self.cat_index[cat]] += c
            if v in values:   # the first PairCounts for a value wins
                continue
            values.append(v)
            rows.append(row)
        table = np.zeros((len(values) + 1, len(self.cats)))
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, row in enumerate(rows):
                for j, c in row.items():
                    p = self.threshold if c == 0.0 else c / sums[j]
                    table[i, j] = np.log(p)
        return DiscreteInput(name, values, table, derived)

    # ------------------------------------------------------------------ scoring
    def score(self, scope: Scope) -> Result:
        n = scope.n
        k = len(self.cats)
        logp = np.tile(self.log_prior, (n, 1))
        failed = np.zeros(n, bool)
        for inp in self.inputs:
            if isinstance(inp, ContinuousInput):
                col = scope.get(inp.field)
                if not is_numeric_type(col.data_type):
                    col = cast(col, "double")
                present = ~col.missing
                x = np.where(present, col.values, 0.0).astype(float)
                if any(d.kind == "poisson" for _, d in inp.dists):
                    frac = present & (np.floor(x) != x)
                    if frac.any():
                        name = inp.field
                        scope.fail(frac, lambda i: EvaluationError(
                            "a Poisson-distributed input needs a whole number", field=name, row=i))
                        failed |= frac
                for j, dist in inp.dists:
                    p = dist.density(x)
                    p = np.where(p < self.threshold, self.threshold, p)
                    with np.errstate(divide="ignore"):
                        logp[:, j] += np.where(present, np.log(p), 0.0)
            else:
                col = inp.derived(scope) if inp.derived is not None else scope.get(inp.field)
                idx = codes(col.values, inp.values) if inp.values else np.full(n, -1)
                idx = np.where(col.missing, -1, idx)
                logp += inp.log_probs[idx]
        with np.errstate(invalid="ignore", over="ignore"):
            shifted = np.exp(logp - np.max(logp, axis=1, keepdims=True))
            probs = shifted / shifted.sum(axis=1, keepdims=True)
        missing = failed | np.all(np.isnan(probs), axis=1) if k else failed
        probs[missing] = np.nan
        pmap = {c: probs[:, j] for j, c in enumerate(self.cats)}
        return classification_result(n, self.cats, pmap, missing, self.target_type)
