"""model.reg.*: linear regression, variances, residuals, pulls, chi-square bookkeeping."""
from __future__ import annotations

import math
import operator

from ..errors import PFARuntimeError
from . import fn, typed
from .core import div as _div

_mul = operator.mul


def _err(code: int, msg: str, name: str = "model.reg.linear") -> PFARuntimeError:
    return PFARuntimeError(msg, code, name)


def _dot_map(d, c):
    return sum(v * d[k] for k, v in c.items() if k in d)


@typed("model.reg.linear")
def linear(call):
    i = call.sig_index
    if i == 0:
        def lin(datum, model):
            coeff = model["coeff"]
            if len(coeff) != len(datum):
                raise _err(31000, "misaligned coeff")
            return sum(map(_mul, datum, coeff)) + model["const"]
        return lin
    if i == 1:
        def lin_m(datum, model):
            coeff, const = model["coeff"], model["const"]
            if len(coeff) != len(const):
                raise _err(31001, "misaligned const")
            n = len(datum)
            out = []
            for row, c in zip(coeff, const):
                if len(row) != n:
                    raise _err(31000, "misaligned coeff")
                out.append(sum(map(_mul, datum, row)) + c)
            return out
        return lin_m
    if i == 2:
        return lambda datum, model: _dot_map(datum, model["coeff"]) + model["const"]

    def lin_mm(datum, model):
        coeff, const = model["coeff"], model["const"]
        keys = set(coeff) | set(const)
        return {k: _dot_map(datum, coeff.get(k, {})) + const.get(k, 0.0) for k in keys}
    return lin_mm


def _quad_arr(datum, covar, code):
    d = list(datum) + [1.0]
    n = len(d)
    if len(covar) != n or any(len(r) != n for r in covar):
        raise _err(code, "misaligned covariance", "model.reg.linearVariance")
    return sum(d[i] * sum(map(_mul, covar[i], d)) for i in range(n))


def _quad_map(datum, covar):
    d = dict(datum)
    d[""] = 1.0
    total = 0.0
    for i, row in covar.items():
        if i not in d:
            continue
        for j, v in row.items():
            if j in d:
                total += d[i] * v * d[j]
    return total


@typed("model.reg.linearVariance")
def linear_variance(call):
    i = call.sig_index
    if i == 0:
        return lambda datum, model: _quad_arr(datum, model["covar"], 31010)
    if i == 1:
        return lambda datum, model: [_quad_arr(datum, c, 31010) for c in model["covar"]]
    if i == 2:
        return lambda datum, model: _quad_map(datum, model["covar"])
    return lambda datum, model: {k: _quad_map(datum, c) for k, c in model["covar"].items()}


@typed("model.reg.residual")
def residual(call):
    i = call.sig_index
    if i == 0:
        return lambda o, p: o - p
    if i == 1:
        def r_arr(o, p):
            if len(o) != len(p):
                raise _err(31020, "misaligned prediction", "model.reg.residual")
            return [a - b for a, b in zip(o, p)]
        return r_arr

    def r_map(o, p):
        if set(o) != set(p):
            raise _err(31020, "misaligned prediction", "model.reg.residual")
        return {k: o[k] - p[k] for k in o}
    return r_map


@typed("model.reg.pull")
def pull(call):
    i = call.sig_index
    name = "model.reg.pull"
    if i == 0:
        return lambda o, p, u: _div(o - p, u)
    if i == 1:
        def p_arr(o, p, u):
            if len(o) != len(p):
                raise _err(31030, "misaligned prediction", name)
            if len(o) != len(u):
                raise _err(31031, "misaligned uncertainty", name)
            return [_div(a - b, c) for a, b, c in zip(o, p, u)]
        return p_arr

    def p_map(o, p, u):
        if set(o) != set(p):
            raise _err(31030, "misaligned prediction", name)
        if set(o) != set(u):
            raise _err(31031, "misaligned uncertainty", name)
        return {k: _div(o[k] - p[k], u[k]) for k in o}
    return p_map


@typed("model.reg.mahalanobis")
def mahalanobis(call):
    import numpy as np
    name = "model.reg.mahalanobis"
    arrays = call.sig_index == 0

    def mh(o, p, cov):
        if len(o) < 1:
            raise _err(31040, "too few rows/cols", name)
        if arrays:
            if len(p) != len(o):
                raise _err(31041, "misaligned prediction", name)
            if len(cov) != len(o) or any(len(r) != len(o) for r in cov):
                raise _err(31042, "misaligned covariance", name)
            d = np.array(o, dtype=float) - np.array(p, dtype=float)
            c = np.array(cov, dtype=float)
        else:
            keys = sorted(o)
            if set(p) != set(o):
                raise _err(31041, "misaligned prediction", name)
            if set(cov) != set(o) or any(set(cov[k]) != set(o) for k in keys):
                raise _err(31042, "misaligned covariance", name)
            d = np.array([o[k] - p[k] for k in keys], dtype=float)
            c = np.array([[cov[a][b] for b in keys] for a in keys], dtype=float)
        try:
            inv = np.linalg.pinv(c)
        except np.linalg.LinAlgError:
            return float("nan")
        return float(math.sqrt(max(float(d @ inv @ d), 0.0)))
    return mh


@typed("model.reg.updateChi2")
def update_chi2(call):
    i = call.sig_index

    def upd(pull_, state):
        if i == 0:
            add = pull_ * pull_
        elif i == 1:
            add = sum(x * x for x in pull_)
        else:
            add = sum(x * x for x in pull_.values())
        out = dict(state)
        out["chi2"] = state["chi2"] + add
        out["DOF"] = state["DOF"] + 1
        return out
    return upd


fn("model.reg.reducedChi2")(lambda state: _div(state["chi2"], state["DOF"]))


@fn("model.reg.chi2Prob")
def chi2_prob(state):
    dof, chi2 = state["DOF"], state["chi2"]
    if dof < 0:
        raise _err(31070, "invalid parameterization", "model.reg.chi2Prob")
    if dof == 0:
        return 0.0 if chi2 < 0 else 1.0
    from scipy.special import gammainc
    if chi2 != chi2:
        return float("nan")
    if chi2 <= 0:
        return 0.0
    return float(gammainc(dof / 2.0, chi2 / 2.0))


# ---------------------------------------------------------------- Gaussian process (kriging)

@typed("model.reg.gaussianProcess")
def gaussian_process(call):
    """DACE-style kriging: inputs and outputs are standardised, the correlation matrix is the
    kernel on standardised inputs (plus a nugget on the diagonal: (sigma/to)^2 per entry when the
    table has "sigma", else 10 machine epsilons), the constant trend beta is the kriging weight
    or, when null, fitted (universal kriging)."""
    import numpy as np
    name = "model.reg.gaussianProcess"
    vector_x = call.sig_index in (2, 3)
    vector_to = call.sig_index in (1, 3)

    def E(code, msg):
        return PFARuntimeError(msg, code, name)

    def fit_predict(xq, X, y, nugget, beta, kernel):
        mx, sx = X.mean(axis=0), X.std(axis=0)
        sx = np.where(sx == 0, 1.0, sx)
        my, sy = y.mean(), y.std()
        sy = sy if sy != 0 else 1.0
        xn = (X - mx) / sx
        yn = (y - my) / sy
        n = len(X)
        R = np.eye(n) * (1.0 + nugget)
        for i in range(n):
            for j in range(i + 1, n):
                R[i, j] = R[j, i] = kernel(xn[i].tolist(), xn[j].tolist())
        try:
            C = np.linalg.cholesky(R)
        except np.linalg.LinAlgError:
            raise E(31088, "matrix of kernel results is not positive definite") from None
        F = np.ones((n, 1))
        Ft = np.linalg.solve(C, F)
        Yt = np.linalg.solve(C, yn)
        if beta is None:
            Q, G = np.linalg.qr(Ft)
            b = float(np.linalg.solve(G, Q.T @ Yt)[0])
        else:
            b = beta
        gamma = np.linalg.solve(C.T, Yt - Ft[:, 0] * b)
        q = (np.asarray(xq, dtype=float) - mx) / sx
        pred = b + sum(kernel(q.tolist(), xi.tolist()) * g for xi, g in zip(xn, gamma))
        return float(my + sy * pred)

    def gp(x, table, kriging_weight, kernel):
        if not table:
            raise E(31080, "table must have at least 1 entry")
        if vector_x:
            if len(x) < 1:
                raise E(31081, "x must have at least 1 feature")
            if any(len(t["x"]) != len(x) for t in table):
                raise E(31082, "table must have the same number of features as x")
            xs = [list(t["x"]) for t in table]
            xq = list(x)
        else:
            xs = [[t["x"]] for t in table]
            xq = [x]
        if vector_to:
            dims = {len(t["to"]) for t in table}
            if 0 in dims:
                raise E(31083, "table outputs must have at least 1 dimension")
            if len(dims) != 1:
                raise E(31084, "table outputs must all have the same number of dimensions")
        if not all(math.isfinite(v) for v in xq):
            raise E(31085, "x is not finite")
        if not all(math.isfinite(v) for row in xs for v in row):
            raise E(31086, "table value is not finite")
        if kriging_weight is not None and not math.isfinite(kriging_weight):
            raise E(31087, "krigingWeight is not finite")
        X = np.array(xs, dtype=float)
        has_sigma = "sigma" in table[0]

        def one(ys, sig):
            y = np.array(ys, dtype=float)
            if sig is None:
                nugget = 10.0 * np.finfo(float).eps
            else:
                nugget = np.array([(s / t) ** 2 if t != 0 else float("inf")
                                   for s, t in zip(sig, ys)])
            return fit_predict(xq, X, y, nugget, kriging_weight, kernel)

        if not vector_to:
            return one([t["to"] for t in table],
                       [t["sigma"] for t in table] if has_sigma else None)
        k = len(table[0]["to"])
        return [one([t["to"][i] for t in table],
                    [t["sigma"][i] for t in table] if has_sigma else None) for i in range(k)]
    return gp
