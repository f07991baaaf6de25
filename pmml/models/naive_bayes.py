"""NaiveBayesModel: class scores as sums of log-likelihoods, one vectorized pass per BayesInput.

Each row's score for category c is ln(count_c) from BayesOutput plus, for every BayesInput whose
value is present, ln P(x | c):
  - discrete inputs (PairCounts, optionally after a Discretize DerivedField): count(x, c) / sum of
    the input's counts for c, and the model's threshold in place of a zero count; a value with no
    PairCounts contributes nothing;
  - continuous inputs (TargetValueStats): the density of the category's distribution at x, raised
    to the threshold when lower.
Missing inputs are skipped. Scores become probabilities by a max-shifted softmax, as the reference
engine (JPMML-Evaluator) computes them. A Gaussian term whose density is a normal double at or
above the threshold is its log-density itself, the exponent -0.5 z z - ln(sd sqrt(2 pi)), not
exp and then log again (within an ulp or two of that, and half the cost of a batch); the rare
others go that way (``small_densities``), so that a density below the threshold counts as
the threshold and one that underflows loses what it loses where the reference engine
multiplies densities.

Scoring runs in row blocks over a terms matrix (one row per (input, class) term); the Gaussian
terms and the per-class sums in document order are numba kernels when numba is on (numpy twins
otherwise); the other terms' logarithms and the softmax's exp are numpy's.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _stats  # type: ignore[import-untyped]

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from .. import attributes
from ..expressions import cast, compile_field_container
from ..scope import Scope
from ..values import Col, codes, is_numeric_type, parse_scalar
from ..objects.expressions import Discretize
from ..objects.naive_bayes import (BayesInput, BayesInputs, BayesOutput, GaussianDistribution,
                                   PoissonDistribution, UniformDistribution)
from .base import CompiledModel, Result, classification_result, register
from .compute_backend import kernels
from .row_blocks import column_block
from .node_access import model_attrs

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def exponent_cut(threshold: float) -> float:
    """The Gaussian log-density below which a term is ``small_densities``'s: where the density
    falls under the threshold or under the least normal double."""
    return math.log(max(threshold, sys.float_info.min))


def small_densities(g: np.ndarray, threshold: float) -> None:
    """ln(density) for log-densities g below ``exponent_cut``, in place, as the densities
    themselves give it: numpy's exp, the threshold for a density below it, numpy's log."""
    with np.errstate(all="ignore"):
        np.exp(g, out=g)
        if threshold > 0:
            np.copyto(g, threshold, where=g < threshold)
        np.log(g, out=g)
ROW_BLOCK = 4096      # rows scored at a time (the terms matrix stays in cache)


@dataclass
class Distribution:
    """A TargetValueStat's continuous distribution."""

    kind: str          # "gauss", "poisson" or "uniform"
    a: float = 0.0     # mean / lower
    b: float = 0.0     # variance / upper

    def density(self, x: np.ndarray) -> np.ndarray:
        """Poisson or uniform (Gaussian terms are scored apart: ``gauss_exponents``)."""
        with np.errstate(all="ignore"):
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


def _parse_distribution(node) -> Distribution:
    if isinstance(node, GaussianDistribution):
        if not node.variance > 0:
            raise DocumentError(f"variance={node.variance!r} must be positive", line=node.line,
                                element=node.XML.tag)
        return Distribution("gauss", node.mean, node.variance)
    if isinstance(node, PoissonDistribution):
        return Distribution("poisson", node.mean)
    if isinstance(node, UniformDistribution):
        if not node.upper > node.lower:
            raise DocumentError("UniformDistribution needs lower < upper", line=node.line,
                                element=node.XML.tag)
        return Distribution("uniform", node.lower, node.upper)
    raise UnsupportedError(f"<{node.XML.tag}> in a naive Bayes model", line=node.line,
                           element=node.XML.tag)


@register("NaiveBayesModel")
class NaiveBayesModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        if self.function != "classification":
            raise UnsupportedError(f"NaiveBayesModel functionName={self.function!r}",
                                   line=self.line, element=self.tag)
        self.threshold = attributes.number(model_attrs(spec), "threshold", 0.0)
        self.g_cut = exponent_cut(self.threshold)
        outs = spec.body(BayesOutput)
        out = outs[0] if outs else None
        if out is None or out.counts is None:
            raise DocumentError("NaiveBayesModel has no BayesOutput counts", line=self.line,
                                element=self.tag)
        name = out.name
        if name and self.target is not None and name != self.target.name:
            raise DocumentError(f"BayesOutput names {name!r}, not the target "
                                f"{self.target.name!r}", line=out.line, element="BayesOutput")
        if self.target is None and name:
            self.target = self.ctx.require(name, out)
        self.cats: list[Any] = []
        prior = []
        for tvc in out.counts.counts:
            self.cats.append(self._category(tvc))
            prior.append(tvc.count)
        if not self.cats:
            raise DocumentError("BayesOutput lists no categories", line=out.line,
                                element="BayesOutput")
        with np.errstate(divide="ignore"):
            self.log_prior = np.log(np.array(prior))
        self.cat_index = {c: j for j, c in enumerate(self.cats)}
        bis = spec.body(BayesInputs)
        if not bis:
            raise DocumentError("NaiveBayesModel has no BayesInputs", line=self.line,
                                element=self.tag)
        self.inputs = [self._compile_input(bi) for bi in bis[0].inputs]
        self._compile_terms()

    def record_scorer(self, need):
        """The one-record scorer of pmml/record.py (built in pmml/record_bayes.py)."""
        from ..record_bayes import bayes_scorer
        return bayes_scorer(self, need)

    def _category(self, node) -> Any:
        try:
            return parse_scalar(node.value, self.target_type)
        except ValueError:
            raise DocumentError(f"category {node.value!r} is not a {self.target_type}",
                                line=node.line, element=node.XML.tag) from None

    def _compile_input(self, bi: BayesInput):
        name = bi.name
        info = self.ctx.require(name, bi)
        tvs = bi.target_value_stats
        if tvs is not None:
            dists = []
            for st in tvs.stats:
                cat = self._category(st)
                if st.distribution is None:
                    raise DocumentError("TargetValueStat has no distribution",
                                        line=st.line, element="TargetValueStat")
                if cat in self.cat_index:
                    dists.append((self.cat_index[cat], _parse_distribution(st.distribution)))
            return ContinuousInput(name, dists)
        derived = None
        dt = info.data_type
        df = bi.derived_field
        if df is not None:
            if not isinstance(df.expression, Discretize):
                raise UnsupportedError("BayesInput's DerivedField must hold a Discretize",
                                       line=df.line, element="DerivedField")
            dt, derived = compile_field_container(df, self.ctx)
        values: list[Any] = []
        rows: list[dict[int, float]] = []
        sums = np.zeros(len(self.cats))
        for pc in bi.pair_counts:
            try:
                v = parse_scalar(pc.value, dt)
            except ValueError:
                raise DocumentError(f"PairCounts value {pc.value!r} is not a {dt}",
                                    line=pc.line, element="PairCounts") from None
            if pc.counts is None:
                raise DocumentError("PairCounts has no TargetValueCounts", line=pc.line,
                                    element="PairCounts")
            row = {}
            for tvc in pc.counts.counts:
                cat = self._category(tvc)
                if cat in self.cat_index:
                    c = tvc.count
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

    # ------------------------------------------------------------------ scoring plan
    def _compile_terms(self) -> None:
        """Lay the per-class log-likelihood terms out for block scoring.

        Every (input, class) contribution is one row of a terms matrix L (terms x rows): the
        Gaussian ones first (computed together, self.g_*), then the others. ``term_rows`` and
        ``term_cls`` list them in document order, the order each class's sum adds them."""
        self.cont_pos: dict[int, int] = {}           # input index -> continuous input number
        g_feat, g_mean, g_sd, g_c, gauss_terms = [], [], [], [], []
        other_terms: list[tuple[int, int, int, Any]] = []   # (term, input, class, dist)
        order: list[tuple[int, int]] = []            # (term, class) in document order
        t = 0
        for i, inp in enumerate(self.inputs):
            if isinstance(inp, ContinuousInput):
                self.cont_pos[i] = len(self.cont_pos)
                for j, dist in inp.dists:
                    if dist.kind == "gauss":
                        sd = math.sqrt(dist.b)
                        g_feat.append(self.cont_pos[i])
                        g_mean.append(dist.a)
                        g_sd.append(sd)
                        g_c.append(math.log(sd) + _HALF_LOG_2PI)
                        gauss_terms.append(t)
                    else:
                        other_terms.append((t, i, j, dist))
                    order.append((t, j))
                    t += 1
            else:
                for j in range(len(self.cats)):
                    other_terms.append((t, i, j, None))
                    order.append((t, j))
                    t += 1
        # L rows: Gaussian terms first, in document order, then the others
        row_of = {term: r for r, term in enumerate(gauss_terms + [o[0] for o in other_terms])}
        self.g_feat = np.array(g_feat, np.int64)
        self.g_mean = np.array(g_mean, float)
        self.g_sd = np.array(g_sd, float)
        self.g_c = np.array(g_c, float)
        self.other_terms = [(row_of[term], i, j, d) for term, i, j, d in other_terms]
        self.term_rows = np.array([row_of[term] for term, _ in order], np.int64)
        self.term_cls = np.array([j for _, j in order], np.int64)
        self.n_terms = t
        self.cont_input = {r: i for i, r in self.cont_pos.items()}

    # ------------------------------------------------------------------ scoring
    def score(self, scope: Scope) -> Result:
        """Class log-scores = ln(prior) + each input's ln P(x | class) in document order, then a
        max-shifted softmax; ROW_BLOCK rows at a time so the terms matrix stays in cache."""
        n = scope.n
        k = len(self.cats)
        failed = np.zeros(n, bool)
        cont: list[Col] = [None] * len(self.cont_pos)    # continuous inputs, in cont_pos order
        idx: dict[int, np.ndarray] = {}         # discrete inputs: PairCounts row per value
        for i, inp in enumerate(self.inputs):
            if isinstance(inp, ContinuousInput):
                col = scope.get(inp.field)
                if not is_numeric_type(col.data_type) or col.values.dtype != np.float64:
                    col = cast(col, "double")
                cont[self.cont_pos[i]] = col
            else:
                col = inp.derived(scope) if inp.derived is not None else scope.get(inp.field)
                ix = codes(col.values, inp.values) if inp.values else np.full(n, -1)
                idx[i] = np.where(col.missing, -1, ix)
        # every use of a continuous value is masked by `present`: missing ones stay as they are
        flat, off = column_block([c.values for c in cont]) if cont else (np.zeros(0), [])
        any_missing = any(c.missing.any() for c in cont)
        present = np.empty((len(cont), n if any_missing else 0), bool)
        for r, c in enumerate(cont):
            if any_missing:
                np.logical_not(c.missing, out=present[r])
            if any(d.kind == "poisson" for _, d in self.inputs[self.cont_input[r]].dists):
                x = flat[off[r]:off[r] + n]
                with np.errstate(invalid="ignore"):
                    frac = ~c.missing & (np.floor(x) != x)
                if frac.any():
                    c_name = self.inputs[self.cont_input[r]].field
                    scope.fail(frac, lambda i, name=c_name: EvaluationError(
                        "a Poisson-distributed input needs a whole number", field=name, row=i))
                    failed |= frac
        kern = kernels()
        if kern is None and len(cont):
            xs = np.stack([flat[o:o + n] for o in off])
        probs = np.empty((k, n))
        L = np.empty((self.n_terms, min(n, ROW_BLOCK)))
        G = len(self.g_feat)
        for lo in range(0, n, ROW_BLOCK):
            hi = min(n, lo + ROW_BLOCK)
            Lb = L[:, :hi - lo]
            g = Lb[:G]
            if G:
                if kern is not None:
                    below = kern.gauss_exponents(flat, off, lo, self.g_feat, self.g_mean,
                                                 self.g_sd, self.g_c, self.g_cut, g)
                else:
                    below = _gauss_exponents(xs[:, lo:hi], self.g_feat, self.g_mean, self.g_sd,
                                             self.g_c, self.g_cut, g)
                if below:                        # (NaN is never below)
                    small = g < self.g_cut
                    vals = g[small]
                    small_densities(vals, self.threshold)
                    g[small] = vals
                if any_missing:
                    np.copyto(g, 0.0, where=~present[self.g_feat, lo:hi])
            for row, i, j, dist in self.other_terms:
                if dist is not None:                      # Poisson or uniform
                    r = self.cont_pos[i]
                    with np.errstate(all="ignore"):
                        p = dist.density(flat[off[r] + lo:off[r] + hi])
                        p = np.where(p < self.threshold, self.threshold, p)
                        Lb[row] = np.log(p)
                    if any_missing:
                        np.copyto(Lb[row], 0.0, where=~present[r, lo:hi])
                else:                                     # discrete: PairCounts table
                    Lb[row] = self.inputs[i].log_probs[idx[i][lo:hi], j]
            logp = np.empty((k, hi - lo))                 # class-major
            logp[:] = self.log_prior[:, None]
            (kern.add_terms if kern is not None else _add_terms)(
                Lb, self.term_rows, self.term_cls, logp)
            _softmax(logp, probs[:, lo:hi])
        missing = failed | np.all(np.isnan(probs), axis=0)
        probs[:, missing] = np.nan
        pmap = {c: probs[j] for j, c in enumerate(self.cats)}
        return classification_result(n, self.cats, pmap, missing, self.target_type)


def _softmax(logp: np.ndarray, out: np.ndarray) -> None:
    """out = max-shifted softmax over classes of class-major scores (classes x rows; logp is
    overwritten), computed as numpy computes it over rows x classes: with two classes the row
    sum is e0 + e1 and the max max(s0, s1), so elementwise operations give the same numbers;
    other class counts use numpy's own row reductions."""
    with np.errstate(invalid="ignore", over="ignore"):
        if logp.shape[0] == 2:
            np.subtract(logp, np.maximum(logp[0], logp[1]), out=logp)
            np.exp(logp, out=logp)
            np.divide(logp, logp[0] + logp[1], out=out)
            return
        lp = np.ascontiguousarray(logp.T)
        shifted = np.exp(lp - np.max(lp, axis=1, keepdims=True))
        out[:] = (shifted / shifted.sum(axis=1, keepdims=True)).T


def _gauss_exponents(x: np.ndarray, feat: np.ndarray, mean: np.ndarray, sd: np.ndarray,
                     c: np.ndarray, cut: float, out: np.ndarray) -> int:
    """out[p] = -0.5 z z - c[p], z = (x[feat[p]] - mean[p]) / sd[p]: the Gaussian terms'
    log-densities; returns how many are below cut (numpy twin of the numba kernel
    ``gauss_exponents``)."""
    with np.errstate(all="ignore"):
        z = (x[feat] - mean[:, None]) / sd[:, None]
        np.multiply(-0.5 * z, z, out=out)
        out -= c[:, None]
        return int(np.count_nonzero(out < cut))


def _add_terms(terms: np.ndarray, rows: np.ndarray, cls: np.ndarray, logp: np.ndarray) -> None:
    """logp[cls[t]] += terms[rows[t]] for t in order (numpy twin of ``add_terms``)."""
    for r, j in zip(rows, cls):
        logp[j] += terms[r]
