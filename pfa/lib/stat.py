"""stat.sample.*, stat.change.*, stat.test.*: running statistics, change detection, tests."""
from __future__ import annotations

import math

from ..errors import PFARuntimeError
from ..types import Record, Union
from . import E, fn, typed
from .core import div as _div


def _record(t):
    if isinstance(t, Union):
        return next(m for m in t.types if m.kind != "null")
    return t


def _level(rec: Record) -> int:
    """0: count only; 1: count and mean; 2: count, mean and variance."""
    if rec.field("variance") is not None and rec.field("mean") is not None:
        return 2
    if rec.field("mean") is not None:
        return 1
    return 0


def _update(x, w, state, level):
    n0 = state["count"]
    n = n0 + w
    out = dict(state)
    out["count"] = n
    if level == 0:
        return out
    mean = state["mean"]
    delta = x - mean
    shift = _div(delta * w, n)
    out["mean"] = mean + shift
    if level == 2:
        out["variance"] = _div(state["variance"] * n0 + n0 * delta * shift, n)
    return out


@typed("stat.sample.update")
def update(call):
    level = _level(_record(call.params[2]))
    return lambda x, w, state: _update(x, w, state, level)


@typed("stat.sample.updateCovariance")
def update_covariance(call):
    name = "stat.sample.updateCovariance"
    if call.sig_index == 0:
        def uc(x, w, state):
            k = len(x)
            if k < 2:
                raise E(14011, "too few components", name)
            mean, cov = state["mean"], state["covariance"]
            if len(mean) != k or len(cov) != k or any(len(r) != k for r in cov):
                raise E(14012, "unequal length arrays", name)
            n0 = state["count"]
            n = n0 + w
            d = [x[i] - mean[i] for i in range(k)]
            new_mean = [mean[i] + _div(w * d[i], n) for i in range(k)]
            new_cov = [[_div(cov[i][j] * n0 + _div(n0 * w, n) * d[i] * d[j], n) for j in range(k)]
                       for i in range(k)]
            out = dict(state)
            out.update(count=n, mean=new_mean, covariance=new_cov)
            return out
        return uc

    def ucm(x, w, state):
        if len(x) < 2:
            raise E(14011, "too few components", name)
        count, mean, cov = state["count"], state["mean"], state["covariance"]
        keys = set(x) | set(mean)
        new_count = {i: dict(count.get(i, {})) for i in keys}
        new_mean = dict(mean)
        new_cov = {i: dict(cov.get(i, {})) for i in keys}
        for i in keys:
            for j in keys:
                if i in x and j in x:
                    n0 = count.get(i, {}).get(j, 0.0)
                    n = n0 + w
                    mi, mj = mean.get(i, 0.0), mean.get(j, 0.0)
                    di, dj = x[i] - mi, x[j] - mj
                    c0 = cov.get(i, {}).get(j, 0.0)
                    new_cov[i][j] = _div(c0 * n0 + _div(n0 * w, n) * di * dj, n)
                    new_count[i][j] = n
        for i in x:
            n0 = count.get(i, {}).get(i, 0.0)
            new_mean[i] = mean.get(i, 0.0) + _div(w * (x[i] - mean.get(i, 0.0)), n0 + w)
        out = dict(state)
        out.update(count=new_count, mean=new_mean, covariance=new_cov)
        return out
    return ucm


@typed("stat.sample.updateWindow")
def update_window(call):
    name = "stat.sample.updateWindow"
    rec = call.params[2].items
    level = _level(rec)
    extra = {f.name for f in rec.fields} - {"x", "w", "count", "mean", "variance"}

    def uw(x, w, state, size):
        if size < 2:
            raise E(14020, "windowSize must be at least 2", name)
        if not state:
            if extra:
                raise E(14021, "cannot initialize unrecognized fields", name)
            first = {"x": x, "w": w, "count": w}
            if level >= 1:
                first["mean"] = x
            if level == 2:
                first["variance"] = 0.0
            return [first]
        last = state[-1]
        new = _update(x, w, last, level)
        new["x"], new["w"] = x, w
        out = list(state) + [new]
        while len(out) > size:
            old = out.pop(0)
            cur = out[-1]
            # remove the oldest sample from the running statistics (negative weight)
            removed = _update(old["x"], -old["w"], cur, level)
            removed["x"], removed["w"] = cur["x"], cur["w"]
            out[-1] = removed
        return out
    return uw


@fn("stat.sample.updateEWMA")
def update_ewma(x, alpha, state):
    if not 0 <= alpha <= 1:
        raise E(14030, "alpha out of range", "stat.sample.updateEWMA")
    mean = state["mean"]
    diff = x - mean
    incr = alpha * diff
    out = dict(state)
    out["mean"] = mean + incr
    if "variance" in state:
        out["variance"] = (1.0 - alpha) * (state["variance"] + diff * incr)
    return out


@fn("stat.sample.updateHoltWinters")
def update_holt_winters(x, alpha, beta, state):
    name = "stat.sample.updateHoltWinters"
    if not 0 <= alpha <= 1:
        raise E(14040, "alpha out of range", name)
    if not 0 <= beta <= 1:
        raise E(14041, "beta out of range", name)
    a0, b0 = state["level"], state["trend"]
    a = alpha * x + (1 - alpha) * (a0 + b0)
    b = beta * (a - a0) + (1 - beta) * b0
    out = dict(state)
    out.update(level=a, trend=b)
    return out


@fn("stat.sample.updateHoltWintersPeriodic")
def update_holt_winters_periodic(x, alpha, beta, gamma, state):
    name = "stat.sample.updateHoltWintersPeriodic"
    if not 0 <= alpha <= 1:
        raise E(14050, "alpha out of range", name)
    if not 0 <= beta <= 1:
        raise E(14051, "beta out of range", name)
    if not 0 <= gamma <= 1:
        raise E(14052, "gamma out of range", name)
    cycle = state["cycle"]
    if not cycle:
        raise E(14053, "empty cycle", name)
    a0, b0, c0 = state["level"], state["trend"], cycle[0]
    if state["multiplicative"]:
        a = alpha * _div(x, c0) + (1 - alpha) * (a0 + b0)
        b = beta * (a - a0) + (1 - beta) * b0
        c = gamma * _div(x, a) + (1 - gamma) * c0
    else:
        a = alpha * (x - c0) + (1 - alpha) * (a0 + b0)
        b = beta * (a - a0) + (1 - beta) * b0
        c = gamma * (x - a) + (1 - gamma) * c0
    out = dict(state)
    out.update(level=a, trend=b, cycle=list(cycle[1:]) + [c])
    return out


def _forecast(state, i, code, name):
    a, b = state["level"], state["trend"]
    if "cycle" in state:
        cycle = state["cycle"]
        if not cycle:
            raise E(code, "empty cycle", name)
        c = cycle[(i - 1) % len(cycle)]
        return (a + i * b) * c if state.get("multiplicative") else a + i * b + c
    return a + i * b


@fn("stat.sample.forecast1HoltWinters")
def forecast1(state):
    return _forecast(state, 1, 14060, "stat.sample.forecast1HoltWinters")


@typed("stat.sample.forecastHoltWinters")
def forecast_n(call):
    def f(n, state):
        call.rt.check_size(n)
        return [_forecast(state, i, 14070, "stat.sample.forecastHoltWinters")
                for i in range(1, n + 1)]
    return f


def _flow(out, key, w):
    if key in out:
        out[key] = out[key] + w
        return True
    return False


@typed("stat.sample.fillHistogram")
def fill_histogram(call):
    name = "stat.sample.fillHistogram"
    form = call.sig_index

    def fh(x, w, h):
        out = dict(h)
        values = list(h["values"])
        if form == 0:
            nb, lo, hi = h["numbins"], h["low"], h["high"]
            if len(values) != nb:
                raise E(14080, "wrong histogram size", name)
            if not lo < hi:
                raise E(14081, "bad histogram range", name)
            if nb < 1:
                raise E(14082, "bad histogram scale", name)
        elif form == 1:
            lo, size = h["low"], h["binsize"]
            if not size > 0:
                raise E(14082, "bad histogram scale", name)
        else:
            ranges = h["ranges"]
            if len(values) != len(ranges):
                raise E(14080, "wrong histogram size", name)
            for r in ranges:
                if len(r) != 2 or not r[0] < r[1]:
                    raise E(14083, "bad histogram ranges", name)
        if x != x:
            _flow(out, "nanflow", w)
            out["values"] = values
            return out
        if math.isinf(x) and _flow(out, "infflow", w):
            out["values"] = values
            return out
        if form == 0:
            if x < lo:
                _flow(out, "underflow", w)
            elif x >= hi:
                _flow(out, "overflow", w)
            else:
                i = min(int(math.floor((x - lo) / (hi - lo) * nb)), nb - 1)
                values[i] += w
        elif form == 1:
            if x < lo or math.isinf(x):
                _flow(out, "underflow" if x < lo else "overflow", w)
            else:
                i = int(math.floor((x - lo) / size))
                call.rt.check_size(i + 1)
                if i >= len(values):
                    values.extend([0.0] * (i + 1 - len(values)))
                values[i] += w
        else:
            hit = False
            for i, (a, b) in enumerate(ranges):
                if a <= x < b:
                    values[i] += w
                    hit = True
            if not hit:
                _flow(out, "underflow", w)
        out["values"] = values
        return out
    return fh


@fn("stat.sample.fillHistogram2d")
def fill_histogram_2d(x, y, w, h):
    name = "stat.sample.fillHistogram2d"
    xn, xl, xh = h["xnumbins"], h["xlow"], h["xhigh"]
    yn, yl, yh = h["ynumbins"], h["ylow"], h["yhigh"]
    values = [list(r) for r in h["values"]]
    if len(values) != xn or any(len(r) != yn for r in values):
        raise E(14090, "wrong histogram size", name)
    if not xl < xh or not yl < yh:
        raise E(14091, "bad histogram range", name)
    if xn < 1 or yn < 1:
        raise E(14092, "bad histogram scale", name)
    out = dict(h)
    if x != x or y != y:
        _flow(out, "nanflow", w)
    elif (math.isinf(x) or math.isinf(y)) and _flow(out, "infflow", w):
        pass
    else:
        xs = "under" if x < xl else ("over" if x >= xh else "mid")
        ys = "under" if y < yl else ("over" if y >= yh else "mid")
        if xs == "mid" and ys == "mid":
            i = min(int(math.floor((x - xl) / (xh - xl) * xn)), xn - 1)
            j = min(int(math.floor((y - yl) / (yh - yl) * yn)), yn - 1)
            values[i][j] += w
        else:
            _flow(out, f"{xs}{ys}flow", w)
    out["values"] = values
    return out


@fn("stat.sample.fillCounter")
def fill_counter(x, w, counter):
    out = dict(counter)
    values = dict(counter["values"])
    values[x] = values.get(x, 0.0) + w
    out["values"] = values
    return out


@fn("stat.sample.topN")
def top_n(x, top, n, less_than):
    out = list(top)
    for i, item in enumerate(out):
        if less_than(item, x):
            out.insert(i, x)
            break
    else:
        out.append(x)
    return out[:max(n, 0)]


# ---------------------------------------------------------------- stat.change

@fn("stat.change.updateTrigger")
def update_trigger(predicate, history):
    keys = ("numEvents", "numRuns", "currentRun", "longestRun")
    if any(history[k] < 0 for k in keys):
        raise E(37000, "counter out of range", "stat.change.updateTrigger")
    ne, nr, cr, lr = (history[k] for k in keys)
    if predicate:
        ne += 1
        if cr == 0:
            nr += 1
        cr += 1
        lr = max(lr, cr)
    else:
        cr = 0
    out = dict(history)
    out.update(numEvents=ne, numRuns=nr, currentRun=cr, longestRun=lr)
    return out


@typed("stat.change.zValue")
def z_value(call):
    if call.sig_index == 0:
        return lambda x, mv: _div(x - mv["mean"], math.sqrt(mv["variance"])
                                  if mv["variance"] >= 0 else float("nan"))

    def z(x, mv, unbiased):
        sd = math.sqrt(mv["variance"]) if mv["variance"] >= 0 else float("nan")
        base = _div(x - mv["mean"], sd)
        if unbiased:
            n = mv["count"]
            return base * math.sqrt(_div(n, n - 1)) if _div(n, n - 1) >= 0 else float("nan")
        return base
    return z


fn("stat.change.updateCUSUM")(lambda llr, last, reset: max(llr + last, reset))


# ---------------------------------------------------------------- stat.test

@fn("stat.test.kolmogorov")
def kolmogorov(x, y):
    """Two-sample Kolmogorov-Smirnov probability with the asymptotic distribution Q_KS."""
    xs = sorted(v for v in x if v == v)
    ys = sorted(v for v in y if v == v)
    if not xs and not ys:
        return 1.0
    if not xs or not ys:
        return 0.0
    n, m = len(xs), len(ys)
    i = j = 0
    d = 0.0
    while i < n and j < m:
        v = min(xs[i], ys[j])
        while i < n and xs[i] == v:
            i += 1
        while j < m and ys[j] == v:
            j += 1
        d = max(d, abs(i / n - j / m))
    ne = math.sqrt(n * m / (n + m))
    lam = (ne + 0.12 + 0.11 / ne) * d
    if lam < 0.2:
        return 1.0
    total, sign = 0.0, 1.0
    for k in range(1, 101):
        term = sign * 2.0 * math.exp(-2.0 * k * k * lam * lam)
        total += term
        if abs(term) < 1e-12:
            break
        sign = -sign
    return min(max(total, 0.0), 1.0)


def _alias(new: str, old: str, codes: dict[int, int], rename: dict[str, str] | None = None):
    """stat.test.X behaves as model.reg.X with its own error codes (and dof spelling)."""
    from . import REGISTRY

    @typed(new)
    def build(call):
        kind, f = REGISTRY[old]
        impl = f(call) if kind == "typed" else f

        def g(*args):
            if rename:
                args = tuple({rename.get(k, k): v for k, v in a.items()} if isinstance(a, dict)
                             and "dof" in a else a for a in args)
            try:
                out = impl(*args)
            except PFARuntimeError as exc:
                raise PFARuntimeError(exc.message, codes.get(exc.code, exc.code), new) from None
            if rename and isinstance(out, dict) and "DOF" in out:
                out = {("dof" if k == "DOF" else k): v for k, v in out.items()}
            return out
        return g


_alias("stat.test.residual", "model.reg.residual", {31020: 38010})
_alias("stat.test.pull", "model.reg.pull", {31030: 38020, 31031: 38021})
_alias("stat.test.mahalanobis", "model.reg.mahalanobis", {31040: 38030, 31041: 38031,
                                                          31042: 38032})
_alias("stat.test.updateChi2", "model.reg.updateChi2", {}, {"dof": "DOF"})
_alias("stat.test.reducedChi2", "model.reg.reducedChi2", {}, {"dof": "DOF"})
_alias("stat.test.chi2Prob", "model.reg.chi2Prob", {31070: 38060}, {"dof": "DOF"})
