"""prob.dist.*: densities (PDF / log-likelihood), CDFs and quantile functions (QF) via scipy.

Each distribution validates its parameters ("invalid parameterization", base code) and its input
("invalid input", base code + 1): x must be finite for PDF/CDF, p within [0, 1] for QF.
"""
from __future__ import annotations

import math
from typing import Callable

from ..errors import PFARuntimeError
from . import fn, typed

_stats = None


def st():
    global _stats
    if _stats is None:
        import scipy.stats as s
        _stats = s
    return _stats


def _finite(*xs) -> bool:
    return all(math.isfinite(x) for x in xs)


def _check_input(kind: str, x, code: int, name: str) -> None:
    """kind: pdf/cdf/ll (x must be finite) or qf (p within [0, 1])."""
    if not (0 <= x <= 1 if kind == "qf" else math.isfinite(x)):
        raise PFARuntimeError("invalid input", code + 1, name)


def _make(name: str, code: int, kind: str, valid: Callable[..., bool],
          compute: Callable[..., float]) -> None:
    def f(x, *params):
        if not _finite(*params) or not valid(*params):
            raise PFARuntimeError("invalid parameterization", code, name)
        _check_input(kind, x, code, name)
        return float(compute(x, *params))
    fn(name)(f)


# ---------------------------------------------------------------- Gaussian (two signatures)

def _gauss(kind: str):
    def compute(x, mu, sigma):
        if sigma == 0:
            if kind == "ll":
                return math.inf if x == mu else -math.inf
            if kind == "cdf":
                return 1.0 if x >= mu else 0.0
            return mu if 0 < x < 1 else (-math.inf if x == 0 else math.inf)
        if kind == "ll":
            return -0.5 * math.log(2 * math.pi * sigma * sigma) - ((x - mu) * (x - mu)) / (2 * sigma * sigma)
        if kind == "cdf":
            return 0.5 * math.erfc(-(x - mu) / (sigma * math.sqrt(2)))
        return float(st().norm.ppf(x, mu, sigma))
    return compute


for _suffix, _kind, _code in [("LL", "ll", 13000), ("CDF", "cdf", 13010), ("QF", "qf", 13020)]:
    def _build(call, _kind=_kind, _code=_code, _suffix=_suffix):
        name = "prob.dist.gaussian" + _suffix
        comp = _gauss(_kind)
        record = call.sig_index == 1

        def g(x, *params):
            if record:
                mu, var = params[0]["mean"], params[0]["variance"]
                if not _finite(mu, var) or var < 0:
                    raise PFARuntimeError("invalid parameterization", _code, name)
                sigma = math.sqrt(var)
            else:
                mu, sigma = params
                if not _finite(mu, sigma) or sigma < 0:
                    raise PFARuntimeError("invalid parameterization", _code, name)
            _check_input(_kind, x, _code, name)
            return comp(x, mu, sigma)
        return g
    typed("prob.dist.gaussian" + _suffix)(_build)


def _family(stem: str, base: int, valid, pdf, cdf, qf) -> None:
    _make(f"prob.dist.{stem}PDF", base, "pdf", valid, pdf)
    _make(f"prob.dist.{stem}CDF", base + 10, "cdf", valid, cdf)
    _make(f"prob.dist.{stem}QF", base + 20, "qf", valid, qf)


_family("exponential", 13030, lambda lam: lam >= 0,
        lambda x, lam: (lam * math.exp(-lam * x) if x >= 0 else 0.0) if lam > 0 else
        (math.inf if x == 0 else 0.0),
        lambda x, lam: (1 - math.exp(-lam * x)) if x > 0 else 0.0,
        lambda p, lam: (-math.log(1 - p) / lam if p < 1 else math.inf) if lam > 0 else 0.0)
_family("chi2", 13060, lambda k: k >= 0,
        lambda x, k: st().chi2.pdf(x, k) if k > 0 else (math.inf if x == 0 else 0.0),
        lambda x, k: st().chi2.cdf(x, k) if k > 0 else (1.0 if x >= 0 else 0.0),
        lambda p, k: st().chi2.ppf(p, k) if k > 0 else 0.0)
_make("prob.dist.poissonPDF", 13090, "pdf", lambda lam: lam >= 0,
      lambda x, lam: st().poisson.pmf(x, lam) if lam > 0 else (1.0 if x == 0 else 0.0))
_make("prob.dist.poissonCDF", 13100, "cdf", lambda lam: lam >= 0,
      lambda x, lam: st().poisson.cdf(x, lam) if lam > 0 else (1.0 if x >= 0 else 0.0))
_make("prob.dist.poissonQF", 13110, "qf", lambda lam: lam >= 0,
      lambda p, lam: max(st().poisson.ppf(p, lam), 0.0) if lam > 0 else 0.0)
_make("prob.dist.gammaPDF", 13120, "pdf", lambda a, s: a >= 0 and s >= 0,
      lambda x, a, s: st().gamma.pdf(x, a, scale=s) if a > 0 and s > 0 else
      (math.inf if x == 0 else 0.0))
_make("prob.dist.gammaCDF", 13130, "cdf", lambda a, s: a >= 0 and s >= 0,
      lambda x, a, s: st().gamma.cdf(x, a, scale=s) if a > 0 and s > 0 else
      (1.0 if x >= 0 else 0.0))
_make("prob.dist.gammaQF", 13140, "qf", lambda a, s: a > 0 and s > 0,
      lambda p, a, s: st().gamma.ppf(p, a, scale=s))
_family("beta", 13150, lambda a, b: a > 0 and b > 0,
        lambda x, a, b: st().beta.pdf(x, a, b), lambda x, a, b: st().beta.cdf(x, a, b),
        lambda p, a, b: st().beta.ppf(p, a, b))
_family("cauchy", 13180, lambda loc, s: s > 0,
        lambda x, loc, s: st().cauchy.pdf(x, loc, s), lambda x, loc, s: st().cauchy.cdf(x, loc, s),
        lambda p, loc, s: st().cauchy.ppf(p, loc, s))
_family("f", 13210, lambda d1, d2: d1 > 0 and d2 > 0,
        lambda x, d1, d2: st().f.pdf(x, d1, d2), lambda x, d1, d2: st().f.cdf(x, d1, d2),
        lambda p, d1, d2: st().f.ppf(p, d1, d2))
def _lognormal_pdf(x, m, s):
    if x <= 0:
        return 0.0
    z = (math.log(x) - m) / s
    return math.exp(-0.5 * z * z) / (x * s * math.sqrt(2 * math.pi))


def _lognormal_cdf(x, m, s):
    if x <= 0:
        return 0.0
    return 0.5 * math.erfc(-(math.log(x) - m) / (s * math.sqrt(2)))


def _lognormal_qf(p, m, s):
    if p == 0:
        return 0.0
    if p == 1:
        return math.inf
    try:
        return math.exp(m + s * float(st().norm.ppf(p)))
    except OverflowError:
        return math.inf


_family("lognormal", 13240, lambda m, s: s > 0, _lognormal_pdf, _lognormal_cdf, _lognormal_qf)
_family("t", 13270, lambda k: k > 0,
        lambda x, k: st().t.pdf(x, k), lambda x, k: st().t.cdf(x, k),
        lambda p, k: st().t.ppf(p, k))
_family("binomial", 13300, lambda n, q: n >= 0 and 0 <= q <= 1,
        lambda x, n, q: st().binom.pmf(x, n, q), lambda x, n, q: st().binom.cdf(x, n, q),
        lambda p, n, q: max(st().binom.ppf(p, n, q), 0.0))
_family("uniform", 13330, lambda a, b: a < b,
        lambda x, a, b: 1.0 / (b - a) if a <= x <= b else 0.0,
        lambda x, a, b: 0.0 if x < a else (1.0 if x >= b else (x - a) / (b - a)),
        lambda p, a, b: a + p * (b - a))
_family("geometric", 13360, lambda q: 0 < q <= 1,
        lambda x, q: q * (1 - q) ** x if x >= 0 else 0.0,
        lambda x, q: 1 - (1 - q) ** (math.floor(x) + 1) if x >= 0 else 0.0,
        lambda p, q: max(st().geom.ppf(p, q) - 1, 0.0) if q < 1 else 0.0)
_family("weibull", 13420, lambda k, s: k > 0 and s > 0,
        lambda x, k, s: st().weibull_min.pdf(x, k, scale=s),
        lambda x, k, s: st().weibull_min.cdf(x, k, scale=s),
        lambda p, k, s: st().weibull_min.ppf(p, k, scale=s))
_family("negativeBinomial", 13450, lambda n, q: n >= 0 and 0 <= q <= 1,
        lambda x, n, q: (1.0 if x == 0 else 0.0) if n == 0 else st().nbinom.pmf(x, n, q),
        lambda x, n, q: 0.0 if x < 0 else (1.0 if n == 0 else st().nbinom.cdf(x, n, q)),
        lambda p, n, q: 0.0 if n == 0 else max(st().nbinom.ppf(p, n, q), 0.0))


def _hyper_valid(m, n, k):
    return m >= 0 and n >= 0 and k >= 0 and m + n >= k


@fn("prob.dist.hypergeometricPDF")
def hyper_pdf(x, m, n, k):
    if not _hyper_valid(m, n, k):
        raise PFARuntimeError("invalid parameterization", 13390, "prob.dist.hypergeometricPDF")
    return float(st().hypergeom.pmf(x, m + n, m, k))


_make("prob.dist.hypergeometricCDF", 13400, "cdf", _hyper_valid,
      lambda x, m, n, k: st().hypergeom.cdf(x, m + n, m, k))
_make("prob.dist.hypergeometricQF", 13410, "qf", _hyper_valid,
      lambda p, m, n, k: max(st().hypergeom.ppf(p, m + n, m, k), max(0, k - n)))
