"""la.*: linear algebra on dense (array) and sparse (map) vectors and matrices, via numpy."""
from __future__ import annotations

import math

import numpy as np

from . import E, typed


def _dense(x, code_ragged, name, code_few=None):
    if code_few is not None and (len(x) < 1 or len(x[0]) < 1):
        raise E(code_few, "too few rows/cols", name)
    n = len(x[0]) if x else 0
    if any(len(r) != n for r in x):
        raise E(code_ragged, "ragged columns", name)
    return np.array(x, dtype=float).reshape(len(x), n)


def _map_few(x) -> bool:
    """A map matrix has too few rows/cols when it has no rows or no entries at all."""
    return not x or all(not r for r in x.values())


def _mm_to_dense(m):
    rows = sorted(m)
    cols = sorted({c for r in m.values() for c in r})
    a = np.zeros((len(rows), len(cols)))
    ci = {c: j for j, c in enumerate(cols)}
    for i, r in enumerate(rows):
        for c, v in m[r].items():
            a[i, ci[c]] = v
    return rows, cols, a


def _mm_square(m):
    """A map matrix as a square array over the union of its row and column keys (sorted)."""
    keys = sorted(set(m) | {c for r in m.values() for c in r})
    return keys, np.array([[m.get(r, {}).get(c, 0.0) for c in keys] for r in keys])


def _to_lists(a) -> list:
    return [[float(v) for v in row] for row in a]


@typed("la.map")
def la_map(call):
    if call.sig_index == 0:
        return lambda x, f: [[f(v) for v in row] for row in x]
    return lambda x, f: {r: {c: f(v) for c, v in row.items()} for r, row in x.items()}


@typed("la.scale")
def scale(call):
    i = call.sig_index
    if i == 0:
        return lambda x, a: [v * a for v in x]
    if i == 1:
        return lambda x, a: [[v * a for v in row] for row in x]
    if i == 2:
        return lambda x, a: {k: v * a for k, v in x.items()}
    return lambda x, a: {r: {c: v * a for c, v in row.items()} for r, row in x.items()}


def _elementwise(name, code, op):
    @typed(name)
    def build(call):
        i = call.sig_index
        if name == "la.zipmap":
            i = 1 if i == 0 else 3
        if i == 0:
            def vec(x, y, *f):
                if len(x) != len(y):
                    raise E(code, "misaligned matrices", name)
                g = f[0] if f else op
                return [g(a, b) for a, b in zip(x, y)]
            return vec
        if i == 1:
            def mat(x, y, *f):
                if len(x) != len(y) or any(len(a) != len(b) for a, b in zip(x, y)):
                    raise E(code, "misaligned matrices", name)
                g = f[0] if f else op
                return [[g(a, b) for a, b in zip(ra, rb)] for ra, rb in zip(x, y)]
            return mat
        if i == 2:
            def mvec(x, y, *f):
                g = f[0] if f else op
                return {k: g(x.get(k, 0.0), y.get(k, 0.0)) for k in set(x) | set(y)}
            return mvec

        def mmat(x, y, *f):
            # sparse: missing row/column combinations are zeros; the result is dense over the
            # union of row keys and the union of column keys
            g = f[0] if f else op
            cols = {c for r in x.values() for c in r} | {c for r in y.values() for c in r}
            out = {}
            for r in set(x) | set(y):
                rx, ry = x.get(r, {}), y.get(r, {})
                out[r] = {c: g(rx.get(c, 0.0), ry.get(c, 0.0)) for c in cols}
            return out
        return mmat


_elementwise("la.zipmap", 24020, None)
_elementwise("la.add", 24030, lambda a, b: a + b)
_elementwise("la.sub", 24040, lambda a, b: a - b)


@typed("la.dot")
def dot(call):
    i = call.sig_index
    name = "la.dot"
    if i in (0, 2):
        def d(x, y):
            if len(x) < 1 or any(len(r) < 1 for r in x) or len(y) < 1:
                raise E(24051, "too few rows/cols", name)
            if i == 2 and any(len(r) < 1 for r in y):
                raise E(24051, "too few rows/cols", name)
            for r in x:
                for v in r:
                    if not math.isfinite(v):
                        raise E(24052, "contains non-finite values", name)
            for v in (y if i == 0 else [w for r in y for w in r]):
                if not math.isfinite(v):
                    raise E(24052, "contains non-finite values", name)
            n = len(x[0])
            if any(len(r) != n for r in x):
                raise E(24050, "misaligned matrices", name)
            a = np.array(x, dtype=float)
            if i == 0:
                if len(y) != n:
                    raise E(24050, "misaligned matrices", name)
                return [float(v) for v in a @ np.array(y, dtype=float)]
            m = len(y[0])
            if len(y) != n or any(len(r) != m for r in y):
                raise E(24050, "misaligned matrices", name)
            return _to_lists(a @ np.array(y, dtype=float))
        return d

    def dm(x, y):
        # sparse maps: missing entries are zeros
        if not x or (i == 3 and not any(y.values())):
            raise E(24051, "too few rows/cols", name)
        if i == 1:
            out = {}
            for r, row in x.items():
                for v in row.values():
                    if not math.isfinite(v):
                        raise E(24052, "contains non-finite values", name)
                out[r] = sum(v * y[c] for c, v in row.items() if c in y)
            if any(not math.isfinite(v) for v in y.values()):
                raise E(24052, "contains non-finite values", name)
            return out
        for row in list(x.values()) + list(y.values()):
            for v in row.values():
                if not math.isfinite(v):
                    raise E(24052, "contains non-finite values", name)
        cols = {c for row in y.values() for c in row}
        out = {}
        for r, row in x.items():
            acc: dict = dict.fromkeys(cols, 0.0)
            for k, v in row.items():
                for c, w in y.get(k, {}).items():
                    acc[c] = acc.get(c, 0.0) + v * w
            out[r] = acc
        return out
    return dm


@typed("la.transpose")
def transpose(call):
    name = "la.transpose"
    if call.sig_index == 0:
        def t(x):
            a = _dense(x, 24061, name, 24060)
            return _to_lists(a.T)
        return t

    def tm(x):
        if not x:
            raise E(24060, "too few rows/cols", name)
        keys = set(next(iter(x.values())))
        if any(set(r) != keys for r in x.values()):
            raise E(24061, "ragged columns", name)
        if not keys:
            raise E(24060, "too few rows/cols", name)
        return {c: {r: x[r][c] for r in x} for c in keys}
    return tm


@typed("la.inverse")
def inverse(call):
    name = "la.inverse"
    if call.sig_index == 0:
        def inv(x):
            a = _dense(x, 24071, name, 24070)
            return _to_lists(np.linalg.pinv(a))
        return inv

    def invm(x):
        if _map_few(x):
            raise E(24070, "too few rows/cols", name)
        rows, cols, a = _mm_to_dense(x)
        p = np.linalg.pinv(a)
        return {c: {r: float(p[j, i]) for i, r in enumerate(rows)} for j, c in enumerate(cols)}
    return invm


@typed("la.trace")
def trace(call):
    if call.sig_index == 0:
        def tr(x):
            if not x:
                return 0.0
            _dense(x, 24080, "la.trace")
            return float(sum(x[i][i] for i in range(min(len(x), len(x[0])))))
        return tr
    return lambda x: float(sum(row.get(r, 0.0) for r, row in x.items()))


@typed("la.det")
def det(call):
    name = "la.det"
    if call.sig_index == 0:
        def d(x):
            a = _dense(x, 24091, name, 24090)
            if a.shape[0] != a.shape[1]:
                raise E(24092, "non-square matrix", name)
            if not np.all(np.isfinite(a)):
                return float("nan")
            return float(np.linalg.det(a))
        return d

    def dm(x):
        if _map_few(x):
            raise E(24090, "too few rows/cols", name)
        a = _mm_square(x)[1]
        if not np.all(np.isfinite(a)):
            return float("nan")
        return float(np.linalg.det(a))
    return dm


@typed("la.symmetric")
def symmetric(call):
    name = "la.symmetric"
    if call.sig_index == 0:
        def s(x, tol):
            a = _dense(x, 24101, name, 24100)
            if a.shape[0] != a.shape[1]:
                raise E(24102, "non-square matrix", name)
            return not bool(np.any(np.abs(a - a.T) >= tol))
        return s

    def sm(x, tol):
        if _map_few(x):
            raise E(24100, "too few rows/cols", name)
        keys = set(x) | {c for r in x.values() for c in r}
        return not any(abs(x.get(r, {}).get(c, 0.0) - x.get(c, {}).get(r, 0.0)) >= tol
                       for r in keys for c in keys)
    return sm


def _eigen(a):
    vals, vecs = np.linalg.eigh(a)
    order = np.argsort(-vals)
    rows = []
    for k in order:
        v = vecs[:, k]
        nz = np.flatnonzero(np.abs(v) > 0)
        if nz.size and v[nz[0]] < 0:
            v = -v
        lam = abs(vals[k])
        rows.append(v / math.sqrt(lam) if lam > 0 else v * float("inf"))
    return rows


@typed("la.eigenBasis")
def eigen_basis(call):
    name = "la.eigenBasis"

    def check(a):
        if a.shape[0] != a.shape[1]:
            raise E(24112, "non-square matrix", name)
        if not np.all(np.isfinite(a)):
            raise E(24113, "non-finite matrix", name)

    if call.sig_index == 0:
        def eb(x):
            a = _dense(x, 24111, name, 24110)
            check(a)
            return [[float(v) for v in r] for r in _eigen(a)]
        return eb

    def ebm(x):
        if _map_few(x):
            raise E(24110, "too few rows/cols", name)
        keys, a = _mm_square(x)
        check(a)
        return {str(i): {k: float(v) for k, v in zip(keys, r)} for i, r in enumerate(_eigen(a))}
    return ebm


@typed("la.truncate")
def truncate(call):
    name = "la.truncate"
    if call.sig_index == 0:
        def tr(x, keep):
            _dense(x, 24121, name, 24120)
            return [list(r) for r in x[:max(keep, 0)]]
        return tr

    def trm(x, keep):
        if _map_few(x):
            raise E(24120, "too few rows/cols", name)
        return {k: dict(x[k]) for k in keep if k in x}
    return trm
