"""Input columns for the PFA column path: each field's column read as a vector value, and the rows
the record path would reject (or treat in a way the column path does not mirror).

The record path (values.input_converter) is the reference. A row it rejects is marked ``bad``
here and scored by the record path, so its error (message, field and row) is the record path's
own. Accepted rows get exactly the record path's values: numbers of the field's kind, strings as
dictionary codes into the batch's distinct words, nulls of ``["null", X]`` unions as a mask.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from .types import INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, AvroType
from .values import _Bad, _conv

NUMBER_KINDS = ("double", "float", "int", "long")
SCALAR_KINDS = NUMBER_KINDS + ("boolean", "string", "enum")


class Cat:
    """A string column as codes into its distinct words (code -1: null)."""

    __slots__ = ("codes", "words")

    def __init__(self, codes: np.ndarray, words: list[str]):
        self.codes, self.words = codes, words

    def table(self, f, dtype=bool, null: Any = False) -> np.ndarray:
        """f(word) for every row, computed once per distinct word."""
        vals = np.empty(len(self.words) + 1, dtype=dtype)
        for i, w in enumerate(self.words):
            vals[i] = f(w)
        vals[-1] = null
        return vals[self.codes]


def field_kind(t: AvroType) -> tuple[str | None, bool]:
    """(kind the column path reads, nullable) for a field type; kind None: not readable.
    Kinds: double/float/int/long/boolean/string/enum, or "vector" for arrays of numbers."""
    nullable = False
    if t.kind == "union":
        others = [m for m in t.types if m.kind != "null"]
        if len(others) != 1 or len(others) == len(t.types):
            return None, False
        t, nullable = others[0], True
    if t.kind in SCALAR_KINDS:
        return t.kind, nullable
    if t.kind == "array" and t.items.kind in ("double", "float") and not nullable:
        return "vector", False
    return None, False


def _generic_bad(col: Any, t: AvroType, n: int) -> np.ndarray:
    """Rows the record path's own converter rejects (for field types read nowhere)."""
    conv = _conv(t)
    bad = np.zeros(n, dtype=bool)
    for i in range(n):
        try:
            conv(col[i])
        except (_Bad, RecursionError):
            bad[i] = True
        except Exception:     # the record path reports whatever this is
            bad[i] = True
    return bad


def _item(v: Any) -> Any:
    item = getattr(v, "item", None)
    if item is not None and isinstance(v, np.generic):
        return v.item()
    return v


def read_column(col: Any, t: AvroType, n: int, text: Any = None, need_value: bool = True):
    """(value, null mask or None, bad mask) of one input column of type t.

    value: float64/int64/bool array, a Cat for strings and enums, a 2-D float array for
    vectors, or None when t is not a readable kind (only ``bad`` is computed then). With
    need_value False (a field the action never reads) strings and vectors are only checked."""
    kind, nullable = field_kind(t)
    if kind is None:
        return None, None, _generic_bad(col, t, n)
    inner = t
    if t.kind == "union":
        inner = next(m for m in t.types if m.kind != "null")
    null = None
    arr = col if isinstance(col, np.ndarray) else np.asarray(col, dtype=object) \
        if not hasattr(col, "dtype") else np.asarray(col)
    if arr.shape != (n,):
        raise ValueError("column of the wrong length")
    if nullable and arr.dtype == object:
        types = set(map(type, arr))
        null = np.equal(arr, None) if type(None) in types else np.zeros(n, dtype=bool)
        if kind not in ("double", "float") and float in types:
            null |= np.fromiter((type(v) is float and v != v for v in arr), dtype=bool, count=n)
        if not null.any():
            null = None
    elif nullable and arr.dtype.kind == "f" and kind not in ("double", "float"):
        null = np.isnan(arr)       # the record path takes NaN for null in such a union
        if not null.any():
            null = None
    if kind in ("double", "float"):
        value, bad = _doubles(arr, n, null)
    elif kind in ("int", "long"):
        value, bad = _ints(arr, n, kind, null)
    elif kind == "boolean":
        value, bad = _bools(arr, n, null)
    elif kind in ("string", "enum"):
        if not need_value and kind == "string":
            value, bad = None, _string_bad(arr, n, text)
        else:
            value, bad = _strings(arr, n, null, text, inner if kind == "enum" else None)
    elif not need_value:
        value, bad = None, _vector_bad(arr, n)
    else:
        value, bad = _vectors(arr, n)
    if null is not None:
        bad &= ~null
    return value, null, bad


def _doubles(arr: np.ndarray, n: int, null):
    k = arr.dtype.kind
    if k == "f":
        return arr.astype(np.float64, copy=False), np.zeros(n, dtype=bool)
    if k in "iu":
        return arr.astype(np.float64), np.zeros(n, dtype=bool)
    if k != "O":
        return np.zeros(n), np.ones(n, dtype=bool)
    types = set(map(type, arr))
    if types <= {float, int, type(None)}:
        # numbers and nulls only: converted in C (None rows are bad unless the caller's null
        # mask excuses them)
        none = np.equal(arr, None) if type(None) in types else np.zeros(n, dtype=bool)
        try:
            return np.where(none, 0.0, arr).astype(np.float64), none
        except OverflowError:
            pass
    out = np.zeros(n)
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(arr):
        tv = type(v)
        if tv is float or tv is int:
            try:
                out[i] = v
            except OverflowError:
                bad[i] = True
        elif isinstance(v, (np.floating, np.integer)) and not isinstance(v, np.bool_):
            out[i] = v
        else:
            bad[i] = True
    return out, bad


def _ints(arr: np.ndarray, n: int, kind: str, null):
    lo, hi = (INT_MIN, INT_MAX) if kind == "int" else (LONG_MIN, LONG_MAX)
    k = arr.dtype.kind
    bad = np.zeros(n, dtype=bool)
    if k == "i":
        out = arr.astype(np.int64, copy=False)
        if kind == "int":
            bad = (out < lo) | (out > hi)
        return out, bad
    if k == "u":
        bad = arr > (hi if kind == "int" else LONG_MAX)
        return np.where(bad, 0, arr).astype(np.int64), bad
    if k == "f":
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(arr) & (arr == np.floor(arr)) & (arr >= lo) & (arr <= hi)
        # a float at the top of the long range (2**63) is out of it; float(hi) rounds up to it
        ok &= arr < 2.0 ** 63
        return np.where(ok, arr, 0).astype(np.int64), ~ok
    if k != "O":
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
    out = np.zeros(n, dtype=np.int64)
    for i, v in enumerate(arr):
        if type(v) is not int:
            v = _item(v)
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if type(v) is not int:
                bad[i] = True
                continue
        if lo <= v <= hi:
            out[i] = v
        else:
            bad[i] = True
    return out, bad


def _bools(arr: np.ndarray, n: int, null):
    k = arr.dtype.kind
    if k == "b":
        return arr.astype(bool, copy=False), np.zeros(n, dtype=bool)
    if k != "O":
        return np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(arr):
        v = _item(v)
        if v is True or v is False:
            out[i] = v
        else:
            bad[i] = True
    return out, bad


def _strings(arr: np.ndarray, n: int, null, text: Any, enum: AvroType | None):
    bad = np.zeros(n, dtype=bool)
    strings = text
    if strings is None:
        try:
            strings = pa.array(arr, type=pa.string(), from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            strings = None
    if strings is None:
        vals = np.empty(n, dtype=object)
        for i, v in enumerate(arr):
            if isinstance(v, str):
                vals[i] = str(v)
            else:
                bad[i] = True
        strings = pa.array(vals, type=pa.string(), from_pandas=False)
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    encoded = strings.dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    words = encoded.dictionary.to_pylist()
    bad |= codes < 0       # None (null rows are excused by the caller's null mask)
    if enum is not None:
        known = np.array([w in enum.index for w in words] + [True], dtype=bool)
        bad |= ~known[codes]
    return Cat(codes, words), bad


def _string_bad(arr: np.ndarray, n: int, text: Any) -> np.ndarray:
    """Rows of an unread string field the record path rejects (None; not a string)."""
    if text is not None:
        return np.asarray(pa.compute.is_null(text), dtype=bool)
    if arr.dtype.kind == "U":
        return np.zeros(n, dtype=bool)
    if arr.dtype == object and set(map(type, arr)) <= {str}:
        return np.zeros(n, dtype=bool)
    return np.fromiter((not isinstance(v, str) for v in arr), dtype=bool, count=n)


def _vector_bad(arr: np.ndarray, n: int) -> np.ndarray:
    """Rows of an unread array-of-double field the record path rejects."""
    if arr.dtype == object and set(map(type, arr)) <= {list, tuple} and \
            set(map(type, itertools.chain.from_iterable(arr))) <= _NUMBER_TYPES:
        return np.zeros(n, dtype=bool)
    return _vectors_loop(arr, n, any_length=True)[1]


def _vectors(arr: np.ndarray, n: int):
    if arr.dtype != object:
        return np.zeros((n, 0)), np.ones(n, dtype=bool)
    fast = _vectors_arrow(arr, n)
    if fast is not None:
        return fast
    return _vectors_loop(arr, n)


_ROW_TYPES = {list, tuple, np.ndarray}
_NUMBER_TYPES = {float, int, np.float64, np.float32, np.int64, np.int32, np.int16, np.int8,
                 np.uint8, np.uint16, np.uint32, np.float16}


def _vectors_arrow(arr: np.ndarray, n: int):
    """Rows that are lists (or tuples, or 1-D arrays) of numbers, all as long as the first:
    the element types are checked in one pass (Arrow alone would take True for 1.0) and Arrow
    converts them; anything else declines, and the loop below decides row by row."""
    if not set(map(type, arr)) <= _ROW_TYPES:
        return None
    if not set(map(type, itertools.chain.from_iterable(arr))) <= _NUMBER_TYPES:
        return None
    try:
        lists = pa.array(arr, type=pa.list_(pa.float64()), from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    if lists.null_count or lists.flatten().null_count:
        return None
    lengths = pa.compute.list_value_length(lists).to_numpy(zero_copy_only=False)
    if n and (lengths != lengths[0]).any():
        return None
    flat = lists.flatten().to_numpy(zero_copy_only=False)
    width = int(lengths[0]) if n else 0
    return flat.reshape(n, width), np.zeros(n, dtype=bool)


def _vectors_loop(arr: np.ndarray, n: int, any_length: bool = False):
    bad = np.zeros(n, dtype=bool)
    rows: list = [None] * n
    width = None
    for i, v in enumerate(arr):
        if isinstance(v, np.ndarray):
            v = v.tolist() if v.ndim == 1 else None
        if not isinstance(v, (list, tuple)):
            bad[i] = True
            continue
        ok = True
        for x in v:
            tx = type(x)
            if not (tx is float or tx is int or (isinstance(x, (np.floating, np.integer))
                                                 and not isinstance(x, np.bool_))):
                ok = False
                break
        if not ok:
            bad[i] = True
            continue
        if any_length:
            continue
        if width is None:
            width = len(v)
        if len(v) != width:
            bad[i] = True      # another length than this batch's first: the record path
            continue
        rows[i] = v
    width = width or 0
    out = np.zeros((n, width))
    for i, v in enumerate(rows):
        if v is not None:
            try:
                out[i] = v
            except (OverflowError, ValueError, TypeError):
                bad[i] = True
    return out, bad
