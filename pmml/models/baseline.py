"""BaselineModel: change detection by a test statistic of one field against a baseline
distribution (TestDistributions).

A batch is scored as one stream of events in row order; every ``predict`` call starts afresh
(``Z[-1] = 0``, empty histograms). Rows whose tested field (or weight) is missing are not events.

- ``zValue``: ``(x - mean) / sqrt(variance)`` of the Baseline distribution (Gaussian and Any give
  both; Poisson has variance = mean; Uniform(a, b) has mean (a + b) / 2, variance (b - a)^2 / 12).
- ``CUSUM``: ``Z[n] = max(resetValue, Z[n-1] + log(f1(x[n]) / f0(x[n])))`` with f0 the Baseline
  and f1 the Alternate density (Gaussian, Poisson probability mass, Uniform). With
  ``windowSize`` w > 0, Z[n] runs the recursion over the last w events only (from Z = 0).
  Rows that are not events get no score.
- ``chiSquareDistribution``: Pearson's statistic sum((O_i - E_i)^2 / E_i) of the observed
  histogram of the field (the events so far, or the last ``windowSize`` of them, weighted by
  ``weightField``) against E_i = N p_i, p_i the Baseline CountTable / NormalizedCountTable
  proportions; an observed value the table gives no expected count makes it infinite.
- ``scalarProduct``: sum(C_i O_i) of the Baseline counts and that observed histogram, divided
  by ``sqrt(sum C^2) sqrt(sum O^2)`` (normalizationScheme "Independent") or by
  ``(sum C^2 + sum O^2) / 2`` ("SizeWeighted"); unnormalized when the scheme is absent.
  Both histogram statistics score every row with the histogram as of that row; none before
  the first event.
- ``chiSquareIndependence``: Pearson's independence statistic of the (n-way) Baseline count
  table itself: sum over all cells of (O - E)^2 / E with E the product of the marginals over
  N^(k-1); the same value for every row (the data built the table).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import special as _special  # type: ignore[import-untyped]

from portmodel.errors import DocumentError, UnsupportedError

from ..objects.baseline import FieldValueCount, TestDistributions
from ..objects.models import Model
from ..objects.nodes import Fragment, Node
from ..scope import Scope
from ..values import Col, codes, is_numeric_type, parse_scalar
from .base import COMMON_CHILDREN, CompiledModel, Result, register, regression_result

STATISTICS = ("zValue", "CUSUM", "chiSquareDistribution", "scalarProduct", "chiSquareIndependence")
CONTINUOUS = ("GaussianDistribution", "PoissonDistribution", "UniformDistribution", "AnyDistribution")
_CHILDREN = COMMON_CHILDREN | {"TestDistributions"}


@dataclass
class Distribution:
    """A continuous (or Poisson) distribution of the field, with its log density."""

    kind: str
    mean: float
    variance: float
    lower: float = math.nan
    upper: float = math.nan

    def log_density(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.kind == "GaussianDistribution":
                return -0.5 * np.log(2.0 * math.pi * self.variance) - \
                    (x - self.mean) ** 2 / (2.0 * self.variance)
            if self.kind == "PoissonDistribution":
                ok = (x >= 0) & (x == np.floor(x))
                lam = self.mean
                out = x * math.log(lam) - lam - _special.gammaln(x + 1.0)
                return np.where(ok, out, -np.inf)
            if self.kind == "UniformDistribution":
                inside = (x >= self.lower) & (x <= self.upper)
                return np.where(inside, -math.log(self.upper - self.lower), -np.inf)
        raise ValueError(self.kind)


def _finite(node: Node, attr: str) -> float:
    """A typed distribution parameter, refused unless finite."""
    value = getattr(node, attr)
    if not math.isfinite(value):
        raise DocumentError(f"attribute {attr}={value!r} is not a finite number", line=node.line,
                            element=node.XML.tag)
    return value


def parse_distribution(node: Node) -> Distribution:
    """A test distribution (a typed ``objects.distributions`` node); its parameters must be
    finite numbers."""
    kind = node.XML.tag
    if kind in ("GaussianDistribution", "AnyDistribution"):
        mean, var = _finite(node, "mean"), _finite(node, "variance")
        if not var > 0:
            raise DocumentError(f"{kind} variance must be positive, not {var}", line=node.line,
                                element=kind)
        return Distribution(kind, mean, var)
    if kind == "PoissonDistribution":
        mean = _finite(node, "mean")
        if not mean > 0:
            raise DocumentError(f"PoissonDistribution mean must be positive, not {mean}",
                                line=node.line, element=kind)
        return Distribution(kind, mean, mean)
    if kind == "UniformDistribution":
        lo, hi = _finite(node, "lower"), _finite(node, "upper")
        if not hi > lo:
            raise DocumentError(f"UniformDistribution needs lower < upper ({lo}, {hi})",
                                line=node.line, element=kind)
        width = hi - lo          # (a product, not ** 2: overflows to inf, never raises)
        return Distribution(kind, (lo + hi) / 2.0, width * width / 12.0, lo, hi)
    raise UnsupportedError(f"<{kind}> as a test distribution is not supported",
                           line=node.line, element=kind)


def _refuse_unknown(node: Node, where: str) -> None:
    """Elements the schema does not put in this part (kept as fragments) are refused."""
    for f in node.extensions:
        if f.tag != "Extension":
            raise UnsupportedError(f"<{f.tag}> in {where}", line=f.line, element=f.tag)


def cusum(g: np.ndarray, reset: float, window: int) -> np.ndarray:
    """Z[n] = max(reset, Z[n-1] + g[n]), Z[-1] = 0; with window w > 0 each Z[n] restarts from 0
    at event n - w + 1. Closed form: Z[n] = max(reset + S[n] - min(S[s..n]), S[n] - S[s-1])
    with S the running sum of g and s the window start."""
    n = len(g)
    if n == 0:
        return g.copy()
    if not np.isfinite(g).all():
        return _cusum_loop(g, reset, window)
    S = np.cumsum(g)
    if window <= 0 or window >= n:
        return np.maximum(reset + S - np.minimum.accumulate(S), S)
    w = window
    mins = sliding_window_view(np.concatenate([np.full(w - 1, np.inf), S]), w).min(axis=1)
    before = np.concatenate([np.zeros(w), S[:-w]])   # S[n - w], 0 while the window starts at 0
    return np.maximum(reset + S - mins, S - before)


def _cusum_loop(g: np.ndarray, reset: float, window: int) -> np.ndarray:
    """Reference recursion (used when some log-likelihood ratio is infinite)."""
    out = np.empty(len(g))
    for i in range(len(g)):
        start = 0 if window <= 0 else max(0, i - window + 1)
        z = 0.0
        for k in range(start, i + 1):
            z = max(reset, z + g[k])
        out[i] = z
    return out


class CountTable:
    """A Baseline CountTable / NormalizedCountTable: nested FieldValue levels ending in
    FieldValueCount leaves."""

    def __init__(self, node: Node, model: CompiledModel):
        self.tag = node.XML.tag
        self.line = node.line
        self.normalized = self.tag == "NormalizedCountTable"
        self.sample = node.sample
        self.fields: list[str] = []
        self.cells: list[tuple[tuple[Any, ...], float]] = []
        self._walk(node, model)
        if not self.cells:
            raise DocumentError(f"{self.tag} has no FieldValueCount", line=node.line,
                                element=self.tag)

    def _walk(self, table: Node, model: CompiledModel) -> None:
        """Depth first over the nested FieldValues (iterative: tables may nest deeply)."""
        stack: list[tuple[Node, tuple, int]] = [(table, (), 0)]
        while stack:
            node, prefix, depth = stack.pop()
            _refuse_unknown(node, "a count table")
            later = []
            for child in node.entries:
                tag = child.XML.tag
                name = child.field
                info = model.ctx.require(name, child)
                if depth == len(self.fields):
                    self.fields.append(name)
                elif self.fields[depth] != name:
                    raise DocumentError(f"count table level {depth + 1} names field {name!r}, "
                                        f"expected {self.fields[depth]!r}", line=child.line,
                                        element=tag)
                try:
                    value = parse_scalar(child.value, info.data_type)
                except ValueError:
                    raise DocumentError(f"value {child.value!r} is not a {info.data_type}",
                                        line=child.line, element=tag) from None
                if isinstance(child, FieldValueCount):
                    self.cells.append((prefix + (value,), child.count))
                else:
                    later.append((child, prefix + (value,), depth + 1))
            stack.extend(reversed(later))
        if any(len(key) != len(self.fields) for key, _ in self.cells):
            raise DocumentError("count table levels differ in depth", line=table.line,
                                element=table.XML.tag)

    def scaled_counts(self) -> np.ndarray:
        counts = np.array([c for _, c in self.cells], float)
        if self.normalized and self.sample is not None and counts.sum() > 0:
            counts = counts * (self.sample / counts.sum())
        return counts


def independence_chi2(table: CountTable) -> float:
    """Pearson's chi-square statistic of independence over the full grid of table values."""
    counts = table.scaled_counts()
    total = counts.sum()
    k = len(table.fields)
    if total <= 0 or k < 2:
        return math.nan
    levels = [list(dict.fromkeys(key[d] for key, _ in table.cells)) for d in range(k)]
    grid = np.zeros([len(lv) for lv in levels])
    for (key, _), c in zip(table.cells, counts):
        grid[tuple(lv.index(v) for lv, v in zip(levels, key))] += c
    expected = np.full(grid.shape, total)
    for d in range(k):
        margin = grid.sum(axis=tuple(a for a in range(k) if a != d)) / total
        shape = [1] * k
        shape[d] = len(margin)
        expected = expected * margin.reshape(shape)
    with np.errstate(all="ignore"):
        terms = np.where(expected > 0, (grid - expected) ** 2 / expected,
                         np.where(grid > 0, np.inf, 0.0))
    return float(terms.sum())


@register("BaselineModel")
class BaselineModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        for child in spec.content:
            tag = child.tag if isinstance(child, (Fragment, Model)) else child.XML.tag
            if tag not in _CHILDREN:
                raise UnsupportedError(f"<{tag}> in BaselineModel is not supported",
                                       line=child.line, element=tag)
        tds = spec.body(TestDistributions)
        if not tds:
            raise DocumentError("BaselineModel has no TestDistributions", line=spec.line,
                                element=spec.tag)
        td = tds[0]
        self.statistic = td.test_statistic
        if self.statistic not in STATISTICS:
            raise UnsupportedError(f"testStatistic={self.statistic!r}", line=td.line,
                                   element="TestDistributions")
        self.field = td.field
        self.info = self.ctx.require(self.field, td)
        self.reset = td.reset_value if td.reset_value is not None else 0.0
        self.window = td.window_size or 0
        if self.window < 0:
            raise DocumentError(f"attribute windowSize={self.window} is less than 0",
                                line=td.line, element="TestDistributions")
        self.weight_field = td.weight_field
        if self.weight_field is not None:
            self.ctx.require(self.weight_field, td)
        self.scheme = td.normalization_scheme
        _refuse_unknown(td, "TestDistributions")
        base = td.baseline
        if base is None:
            raise DocumentError("TestDistributions has no Baseline", line=td.line,
                                element="TestDistributions")
        _refuse_unknown(base, "Baseline")
        if base.field_refs:
            raise UnsupportedError("a Baseline given by FieldRef elements is not supported",
                                   line=base.field_refs[0].line, element="FieldRef")
        dist = base.distribution
        if dist is None:
            raise DocumentError("Baseline has no distribution", line=base.line,
                                element="Baseline")
        kind = dist.XML.tag
        alt = td.alternate
        if self.statistic in ("zValue", "CUSUM"):
            if not is_numeric_type(self.info.data_type):
                raise DocumentError(f"{self.statistic} needs a numeric field, not the "
                                    f"{self.info.data_type} {self.field!r}", line=td.line,
                                    element="TestDistributions")
            if kind not in CONTINUOUS:
                raise DocumentError(f"{self.statistic} needs a continuous Baseline distribution, "
                                    f"not <{kind}>", line=dist.line, element=kind)
            self.baseline = parse_distribution(dist)
            if self.statistic == "CUSUM":
                if alt is None:
                    raise DocumentError("CUSUM needs an Alternate distribution", line=td.line,
                                        element="TestDistributions")
                _refuse_unknown(alt, "Alternate")
                if alt.distribution is None:
                    raise DocumentError("Alternate has no distribution", line=alt.line,
                                        element="Alternate")
                self.alternate = parse_distribution(alt.distribution)
                for d, node in ((self.baseline, dist), (self.alternate, alt)):
                    if d.kind == "AnyDistribution":
                        raise UnsupportedError("CUSUM over an AnyDistribution (it has no density)",
                                               line=node.line, element="AnyDistribution")
            return
        if kind not in ("CountTable", "NormalizedCountTable"):
            raise DocumentError(f"{self.statistic} needs a CountTable or NormalizedCountTable "
                                f"Baseline, not <{kind}>", line=dist.line, element=kind)
        self.table = CountTable(dist, self)
        if self.statistic == "chiSquareIndependence":
            if len(self.table.fields) < 2:
                raise DocumentError("chiSquareIndependence needs a table over two or more fields",
                                    line=dist.line, element=kind)
            self.independence = independence_chi2(self.table)
            return
        if self.table.fields != [self.field]:
            raise DocumentError(f"{self.statistic} needs a count table over {self.field!r} alone",
                                line=dist.line, element=kind)
        if self.statistic == "scalarProduct" and self.scheme not in (None, "Independent",
                                                                     "SizeWeighted"):
            raise UnsupportedError(f"normalizationScheme={self.scheme!r}", line=td.line,
                                   element="TestDistributions")
        self.table_values = [key[0] for key, _ in self.table.cells]
        self.table_counts = self.table.scaled_counts()

    # ------------------------------------------------------------------ scoring
    def score(self, scope: Scope) -> Result:
        n = scope.n
        if self.statistic == "chiSquareIndependence":
            v = np.full(n, self.independence)
            return regression_result(v, np.isnan(v), self.target_type)
        col = scope.get(self.field)
        if self.statistic in ("zValue", "CUSUM"):
            x = col.values.astype(float)
            ok = col.valid
            out = np.full(n, np.nan)
            if self.statistic == "zValue":
                out[ok] = (x[ok] - self.baseline.mean) / math.sqrt(self.baseline.variance)
            else:
                xs = x[ok]
                with np.errstate(all="ignore"):
                    g = self.alternate.log_density(xs) - self.baseline.log_density(xs)
                g = np.where(np.isnan(g), 0.0, g)  # both densities zero: no evidence either way
                out[ok] = cusum(g, self.reset, self.window)
            return regression_result(out, ~ok, self.target_type)
        return self._histogram(scope, col)

    def _histogram(self, scope: Scope, col: Col) -> Result:
        """chiSquareDistribution / scalarProduct over the running (or windowed) histogram of
        the events; one pass per category, so memory stays linear in the rows."""
        n = scope.n
        ok = col.valid
        weights = np.ones(n)
        if self.weight_field is not None:
            wcol = scope.get(self.weight_field)
            ok = ok & wcol.valid
            weights = np.where(wcol.missing, 0.0, wcol.values.astype(float))
        events = np.flatnonzero(ok)
        vals = col.values[events]
        w = weights[events]
        m = len(self.table_values)
        idx = codes(vals, list(self.table_values))
        unknown = idx < 0
        if unknown.any():   # values the table lacks: categories of their own, after the table's
            extra = list(dict.fromkeys(vals[unknown].tolist()))
            idx[unknown] = codes(vals[unknown], extra) + m
        window = self.window

        def running(x: np.ndarray) -> np.ndarray:
            s = np.cumsum(x)
            if 0 < window < len(s):
                s[window:] = s[window:] - s[:-window].copy()
            return s

        total = running(w)
        with np.errstate(all="ignore"):
            if self.statistic == "chiSquareDistribution":
                stat = np.zeros(len(events))
                p = self.table_counts / self.table_counts.sum()
                for j in range(m):
                    observed = running(np.where(idx == j, w, 0.0))
                    expected = total * p[j]
                    stat += np.where(expected > 0, (observed - expected) ** 2 / expected,
                                     np.where(observed > 0, np.inf, 0.0))
                if unknown.any():
                    stat[running(np.where(idx >= m, w, 0.0)) > 0] = np.inf
            else:
                n_extra = max(int(idx.max(initial=-1)) + 1 - m, 0)
                base = np.concatenate([self.table_counts, np.zeros(n_extra)])
                dot = running(w * base[idx]) if len(events) else np.zeros(0)
                obs2 = np.zeros(len(events))
                for c in np.unique(idx):
                    obs2 += running(np.where(idx == c, w, 0.0)) ** 2
                base2 = float((self.table_counts ** 2).sum())
                if self.scheme == "Independent":
                    dot = dot / math.sqrt(base2) / np.sqrt(obs2)
                elif self.scheme == "SizeWeighted":
                    dot = 2.0 * dot / (base2 + obs2)
                stat = np.where(obs2 > 0, dot, np.nan)
        stat = np.where(total > 0, stat, np.nan)
        pos = np.cumsum(ok) - 1       # the latest event at or before each row
        out = np.full(n, np.nan)
        has = pos >= 0
        out[has] = stat[pos[has]]
        return regression_result(out, np.isnan(out), self.target_type)
