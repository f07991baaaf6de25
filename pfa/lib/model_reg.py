"""model.reg.*: linear regression, variances, residuals, pulls, chi-square bookkeeping."""
from __future__ import annotations

import math
import operator

from ..errors import PFARuntimeError
from . import fn, typed

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


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return float("nan")
        return math.copysign(float("inf"), a) * math.copysign(1.0, b)


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
            add, n = pull_ * pull_, 1
        elif i == 1:
            add, n = sum(x * x for x in pull_), 1
        else:
            add, n = sum(x * x for x in pull_.values()), 1
        out = dict(state)
        out["chi2"] = state["chi2"] + add
        out["DOF"] = state["DOF"] + n
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
