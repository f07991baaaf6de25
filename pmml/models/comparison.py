"""ComparisonMeasure: how far (distance) or how alike (similarity) records are from reference
points — cluster centers in ClusteringModel, training instances in NearestNeighborModel.

A measure combines an *inner* compare function per field (absDiff, gaussSim, delta, equal,
table) with an *outer* aggregation (euclidean, squaredEuclidean, cityBlock, chebychev,
minkowski), or counts binary matches (simpleMatching, jaccard, tanimoto, binarySimilarity).
Everything is computed as (rows x references) matrices, in row chunks to bound memory. With
numba, absDiff distances (euclidean, squaredEuclidean, cityBlock, chebychev) come from the
kernels in ``_kernels_numba`` (``kernel_plan``): the same sums in the same order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from ..objects import clustering as oc
from ..objects.matrix import Matrix
from ..dictionary import FieldInfo
from ..values import Col, codes, is_numeric_type, parse_scalar
from .compute_backend import kernels
from ..location import where
from .row_blocks import column_block

DISTANCES = ("euclidean", "squaredEuclidean", "chebychev", "cityBlock", "minkowski")
SIMILARITIES = ("simpleMatching", "jaccard", "tanimoto", "binarySimilarity")
COMPARE_FUNCTIONS = ("absDiff", "gaussSim", "delta", "equal", "table")
_CHUNK_CELLS = 2_000_000   # rows x references computed at once
_LN2 = math.log(2.0)


@dataclass
class FieldComparison:
    """One compared field: its weight, inner compare function and that function's parameters."""

    name: str
    info: FieldInfo
    weight: float = 1.0
    compare: str = "absDiff"
    scale: float | None = None            # gaussSim similarityScale
    table: np.ndarray | None = None       # table: comparison matrix
    table_values: list[Any] | None = None  # table: the values its rows and columns stand for

    @property
    def numeric(self) -> bool:
        return is_numeric_type(self.info.data_type)


@dataclass
class Measure:
    """A parsed ComparisonMeasure element."""

    kind: str                    # "distance" or "similarity"
    name: str                    # the measure element's tag
    compare: str = "absDiff"     # model-wide compare function
    p: float = 2.0               # minkowski
    c: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)   # binarySimilarity c00 c01 c10 c11
    d: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)   # binarySimilarity d00 d01 d10 d11

    @property
    def is_distance(self) -> bool:
        """Computed as a distance (inner compare functions, outer aggregation)."""
        return self.name in DISTANCES

    @property
    def lower_is_better(self) -> bool:
        """Nearest = smallest value: a distance measure of kind "distance" (gaussSim sums, for
        one, are similarities: kind "similarity" makes the largest value win)."""
        return self.is_distance and self.kind == "distance"


def parse_measure(cm: "oc.ComparisonMeasure | None", model=None) -> Measure:
    """A ComparisonMeasure node compiled; unknown measures are refused at load. model: the
    model node, named when the measure is absent."""
    if cm is None:
        raise DocumentError("model has no ComparisonMeasure", **where(model))
    kind = cm.kind or "distance"
    compare = cm.compare_function or "absDiff"
    if compare not in COMPARE_FUNCTIONS:
        raise UnsupportedError(f"compareFunction={compare!r}", line=cm.line,
                               element="ComparisonMeasure")
    unknown = [f for f in cm.extensions if f.tag != "Extension"]
    if cm.measure is None and len(unknown) == 1:
        raise UnsupportedError(f"comparison measure <{unknown[0].tag}> is not supported",
                               line=unknown[0].line, element=unknown[0].tag)
    if cm.measure is None or unknown:
        raise DocumentError("ComparisonMeasure needs exactly one measure element",
                            line=cm.line, element="ComparisonMeasure")
    m = cm.measure
    tag = m.XML.tag
    measure = Measure(kind, tag, compare)
    if isinstance(m, oc.Minkowski):
        measure.p = m.p
        if measure.p <= 0:
            raise DocumentError("minkowski p-parameter must be positive", line=m.line,
                                element="minkowski")
    elif isinstance(m, oc.BinarySimilarity):
        measure.c = (m.c00, m.c01, m.c10, m.c11)
        measure.d = (m.d00, m.d01, m.d10, m.d11)
    return measure


def parse_field_comparison(node, info: FieldInfo, measure: Measure) -> FieldComparison:
    """A ClusteringField (or a KNNInput, which has the same attributes) compiled."""
    at = where(node)
    compare = node.compare_function or measure.compare
    if compare not in COMPARE_FUNCTIONS:
        raise UnsupportedError(f"compareFunction={compare!r}", **at)
    weight = 1.0 if node.field_weight is None else node.field_weight
    fc = FieldComparison(info.name, info, weight, compare)
    fc.scale = node.similarity_scale
    if compare == "gaussSim" and (fc.scale is None or fc.scale == 0):
        raise DocumentError(f"gaussSim for field {info.name!r} needs a non-zero similarityScale",
                            **at)
    if compare == "absDiff" or compare == "gaussSim":
        if not fc.numeric:
            raise DocumentError(f"{compare} needs a numeric field, {info.name!r} is a "
                                f"{info.data_type}", **at)
    if compare == "table":
        comp = node.comparisons
        matrix = comp.matrix if comp is not None else None
        if matrix is None:
            raise DocumentError(f"compareFunction table for {info.name!r} needs Comparisons/Matrix",
                                **at)
        if not info.values:
            raise DocumentError(f"compareFunction table needs the valid Values of {info.name!r}",
                                **at)
        k = len(info.values)
        fc.table = table_matrix(matrix, k)
        fc.table_values = list(info.values)
    return fc


def table_matrix(matrix: Matrix, size: int) -> np.ndarray:
    """A comparison table's Matrix node as a size x size array."""
    mat = matrix.to_array(size)
    if mat.shape != (size, size):
        raise DocumentError(f"Matrix is {mat.shape[0]}x{mat.shape[1]}, expected {size}x{size}",
                            line=matrix.line, element="Matrix")
    return mat


def reference_column(tokens: list[Any], fc: FieldComparison, line: int | None = None) -> np.ndarray:
    """Reference values (center coordinates, training values) of one field as an array."""
    if fc.numeric:
        out = np.empty(len(tokens))
        for i, t in enumerate(tokens):
            try:
                v = parse_scalar(t, fc.info.data_type) if not isinstance(t, float) else t
            except ValueError:
                raise DocumentError(f"reference value {t!r} of {fc.name!r} is not a "
                                    f"{fc.info.data_type}", line=line) from None
            out[i] = np.nan if v is None else v
        return out
    arr = np.empty(len(tokens), object)
    arr[:] = [None if t is None else str(t) for t in tokens]
    return arr


def id_text(v: Any) -> str:
    """An entity id given in an OutputField value, as text (2.0 -> "2")."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def ranked_ids(order: np.ndarray, ids: np.ndarray, undefined: np.ndarray, rank: int) -> np.ndarray:
    """Per row, the id of the reference at ``rank`` (1-based) in ``order`` (references by rank
    per row); None past the end and in undefined rows."""
    out = np.full(order.shape[0], None, dtype=object)
    if 1 <= rank <= order.shape[1]:
        out[:] = ids[order[:, rank - 1]]
        out[undefined] = None
    return out


# ---------------------------------------------------------------------- scoring


def _inner(fc: FieldComparison, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """c(x_i, y_j) for rows x (n,) and references y (m,): an (n, m) matrix and a per-row mask of
    values that cannot be compared (treated like missing)."""
    n = len(x)
    bad = np.zeros(n, bool)
    f = fc.compare
    if f in ("absDiff", "gaussSim"):
        d = np.abs(x[:, None] - y[None, :])
        if f == "gaussSim":
            d = np.exp(-_LN2 * d * d / (fc.scale * fc.scale))
        return d, bad
    if f in ("delta", "equal"):
        if fc.numeric:
            eq = x[:, None] == y[None, :]
        else:
            vocab = list(dict.fromkeys(v for v in y if v is not None))
            cy = codes(y, vocab) if vocab else np.full(len(y), -1)
            cx = codes(x, vocab) if vocab else np.full(n, -1)
            cx = np.where(cx < 0, -2, cx)       # unknown input values equal no reference
            eq = cx[:, None] == cy[None, :]
        return (np.where(eq, 0.0, 1.0) if f == "delta" else eq.astype(float)), bad
    # table: both sides looked up among the field's values
    cx = codes(x, fc.table_values)
    cy = codes(y, fc.table_values)
    bad = cx < 0
    d = fc.table[np.where(bad, 0, cx)][:, np.where(cy < 0, 0, cy)]
    if (cy < 0).any():
        d[:, cy < 0] = np.nan
    return d, bad


def distances(measure: Measure, fields: list[FieldComparison], cols: list[Col],
              refs: list[np.ndarray], adjust_weights: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every row to every reference: an (n, m) matrix (possibly a transposed
    view) and the rows where it is undefined (every compared field missing). Missing fields
    are skipped and the sum scaled by sum(q) / sum(q over present fields), q being the
    missing-value weights (default 1)."""
    plan = kernel_plan(measure, fields, cols, refs, adjust_weights)
    if plan is not None:
        kern, args = plan[0], plan[1:]
        n, m = args[2], args[5].shape[1]
        if m <= kern.FEW_REFERENCES:          # computed reference by reference: (m, n)
            out = np.empty((m, n))
            mode = args[7]
            kern.DISTANCE_COLUMNS[mode](*args[:7], *args[8:], out)
            return out.T, args[-1]
        out = np.empty((n, m))
        kern.distance_rows(*args, out)
        return out, args[-1]
    n = len(cols[0]) if cols else 0
    m = len(refs[0]) if refs else 0
    q = np.ones(len(fields)) if adjust_weights is None else np.asarray(adjust_weights, float)
    present = np.column_stack([~c.missing for c in cols]) if cols else np.zeros((n, 0), bool)
    out = np.empty((n, m))
    undefined = np.zeros(n, bool)
    step = _chunk_rows(m)
    p = {"euclidean": 2.0, "squaredEuclidean": 2.0, "cityBlock": 1.0, "chebychev": 1.0,
         "minkowski": measure.p}[measure.name]
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        pres = present[lo:hi].copy()
        acc = np.zeros((hi - lo, m))
        for i, (fc, col, y) in enumerate(zip(fields, cols, refs)):
            x = col.values[lo:hi]
            d, bad = _inner(fc, x, y)
            pres[:, i] &= ~bad
            if p == 2.0:
                d = d * d                 # what np.power(d, 2.0) gives, faster
            elif p != 1.0:
                d = np.power(d, p)
            if fc.weight != 1.0:
                d = d * fc.weight
            d = np.where(pres[:, i][:, None], d, 0.0)
            if measure.name == "chebychev":
                np.maximum(acc, d, out=acc)
            else:
                acc += d
        adj, undef = _adjustment(pres, q)
        acc = acc * adj[:, None]
        if measure.name == "euclidean" or measure.name == "minkowski":
            with np.errstate(invalid="ignore"):
                acc = np.sqrt(acc) if p == 2.0 else np.power(acc, 1.0 / p)
        acc[undef] = np.nan
        out[lo:hi] = acc
        undefined[lo:hi] = undef
    return out, undefined


def _chunk_rows(m: int) -> int:
    return max(1, _CHUNK_CELLS // max(m, 1))


def _adjustment(pres: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: sum(q) / sum(q over present fields) (pres: rows x fields, C order), NaN and
    undefined where no field is present."""
    total = q.sum()
    got = pres @ q
    undef = got <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = np.where(undef, np.nan, total / np.where(undef, 1.0, got))
    return adj, undef


#: distance measures the numba kernels compute (absDiff fields): kernel mode, square root
_KERNEL_MODES = {"cityBlock": (0, False), "squaredEuclidean": (1, False), "euclidean": (1, True),
                 "chebychev": (2, False)}


def kernel_plan(measure: Measure, fields: list[FieldComparison], cols: list[Col],
                refs: list[np.ndarray], adjust_weights: np.ndarray | None = None
                ) -> tuple | None:
    """Arguments of the numba distance kernels, or None when numba is off or the measure is
    not one they compute (then ``distances`` runs its numpy loop: the same numbers).

    Returns (kernels, flat, offsets, n, P, has_missing, Y, weights, mode, root, adj,
    undefined): the rows as ``column_block`` gives them, P their present mask (fields x rows;
    read only when has_missing), Y the references (fields x references)."""
    mode = _KERNEL_MODES.get(measure.name)
    if mode is None or not fields or not refs or len(refs[0]) == 0:
        return None
    if any(fc.compare != "absDiff" or not fc.numeric for fc in fields):
        return None
    if any(c.values.dtype != np.float64 for c in cols) or \
            any(r.dtype != np.float64 for r in refs):
        return None
    kern = kernels()
    if kern is None:
        return None
    n, f = len(cols[0]), len(fields)
    flat, off = column_block([c.values for c in cols])
    has_missing = any(c.missing.any() for c in cols)
    P = np.empty((f, n) if has_missing else (f, 0), bool)
    if has_missing:
        for i, c in enumerate(cols):
            np.logical_not(c.missing, out=P[i])
    if adjust_weights is None:
        if has_missing:
            got = P.sum(axis=0).astype(float)        # what pres @ ones gives: exact counts
            undef = got <= 0
            with np.errstate(divide="ignore", invalid="ignore"):
                adj = np.where(undef, np.nan, float(f) / np.where(undef, 1.0, got))
        else:
            adj, undef = np.ones(n), np.zeros(n, bool)
    else:   # the numpy loop's own computation, chunk by chunk (BLAS sums depend on the call)
        q = np.asarray(adjust_weights, float)
        adj, undef = np.empty(n), np.empty(n, bool)
        step = _chunk_rows(len(refs[0]))
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            pres = np.ascontiguousarray(P[:, lo:hi].T) if has_missing else \
                np.ones((hi - lo, f), bool)
            adj[lo:hi], undef[lo:hi] = _adjustment(pres, q)
    Y = np.ascontiguousarray(np.vstack(refs))
    w = np.array([fc.weight for fc in fields], float)
    return kern, flat, off, n, P, has_missing, Y, w, mode[0], mode[1], adj, undef


def raw_distances(measure: Measure, fields: list[FieldComparison], raw: list[np.ndarray],
                  refs: list[np.ndarray]) -> tuple[np.ndarray, ...] | None:
    """``distances`` (no missing-value weights) of the user's own double columns, where NaN
    is missing (``row_blocks.user_float_columns``): the few-references kernel that finds the
    missing values block by block (``distance_columns_raw``), with no mask built per column.
    Returns the distances, the undefined rows and each row's nearest reference with whether
    its distance is finite (``clustering.best_references``); None where that kernel does not
    apply."""
    mode = _KERNEL_MODES.get(measure.name)
    kern = kernels()
    if kern is None or mode is None or not fields or not refs or \
            not 0 < len(refs[0]) <= kern.FEW_REFERENCES:
        return None
    if any(fc.compare != "absDiff" or not fc.numeric for fc in fields) or \
            any(r.dtype != np.float64 for r in refs):
        return None
    n = len(raw[0])
    flat, off = column_block(raw)
    Y = np.ascontiguousarray(np.vstack(refs))
    w = np.array([fc.weight for fc in fields], float)
    P = np.empty((len(fields), n), bool)     # (written only in blocks with a missing value)
    adj, undef = np.empty(n), np.empty(n, bool)
    out = np.empty((len(refs[0]), n))
    best, finite = np.empty(n, np.int64), np.empty(n, bool)
    kern.distance_columns_raw(mode[0], flat, off, n, P, Y, w, mode[1], adj, undef, out, best,
                              finite)
    return out.T, undef, best, finite


def _binary(col: Col) -> tuple[np.ndarray, np.ndarray]:
    """A field's values as 0/1 and the mask of rows whose value is not binary."""
    if col.values.dtype != object:
        v = col.values
        ok = (v == 0) | (v == 1)
        return np.where(ok, v, 0.0), ~ok & ~col.missing
    low = np.array([str(s).strip().lower() if s is not None else "" for s in col.values], object)
    one = np.isin(low, ["true", "1", "1.0", "t"])
    zero = np.isin(low, ["false", "0", "0.0", "f"])
    return one.astype(float), ~(one | zero) & ~col.missing


def binary_reference(tokens: list[Any], line: int | None = None) -> np.ndarray:
    """Reference values for a binary similarity: each must be 0/1 (or true/false)."""
    out = np.empty(len(tokens))
    for i, t in enumerate(tokens):
        s = str(t).strip().lower()
        if s in ("1", "1.0", "true"):
            out[i] = 1.0
        elif s in ("0", "0.0", "false"):
            out[i] = 0.0
        else:
            raise DocumentError(f"binary similarity needs 0/1 reference values, got {t!r}",
                                line=line)
    return out


def similarities(measure: Measure, cols: list[Col], refs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary similarity of every row to every reference (refs: (m, f) of 0/1).

    Returns the (n, m) matrix, the rows where it is undefined (a missing value, or a zero
    denominator) and the rows whose values are not binary (errors)."""
    n = len(cols[0]) if cols else 0
    xs, bads, miss = [], np.zeros(n, bool), np.zeros(n, bool)
    for c in cols:
        v, b = _binary(c)
        xs.append(v)
        bads |= b
        miss |= c.missing
    X = np.column_stack(xs) if xs else np.zeros((n, 0))
    Y = refs
    a11 = X @ Y.T
    a10 = X @ (1 - Y).T
    a01 = (1 - X) @ Y.T
    a00 = (1 - X) @ (1 - Y).T
    name = measure.name
    if name == "simpleMatching":
        num, den = a11 + a00, a11 + a10 + a01 + a00
    elif name == "jaccard":
        num, den = a11, a11 + a10 + a01
    elif name == "tanimoto":
        num, den = a11 + a00, a11 + 2.0 * (a10 + a01) + a00
    else:
        c00, c01, c10, c11 = measure.c
        d00, d01, d10, d11 = measure.d
        num = c11 * a11 + c10 * a10 + c01 * a01 + c00 * a00
        den = d11 * a11 + d10 * a10 + d01 * a01 + d00 * a00
    with np.errstate(divide="ignore", invalid="ignore"):
        s = num / den
    undefined = miss | bads | (den == 0).any(axis=1)
    s[undefined] = np.nan
    return s, undefined, bads
