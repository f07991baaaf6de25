"""Typed columns and value conversion: the numpy representation of PMML field values.

A ``Col`` is one field over a batch: ``values`` (float64 for every numeric, boolean and temporal
type; object for strings), a ``missing`` mask and an ``invalid`` mask. Temporal types are numbers:
date -> days since 1970-01-01, time -> seconds since midnight, dateTime -> seconds since the epoch,
dateDaysSince[Y] / dateTimeSecondsSince[Y] -> days / seconds since Y-01-01, as PMML defines them.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from portmodel.lazy_import import lazy_module

pd = lazy_module("pandas")     # (imported on first use: see portmodel.lazy_import)

NUMERIC_TYPES = {"integer", "float", "double", "boolean"}
_SINCE = re.compile(r"^(dateDaysSince|dateTimeSecondsSince)\[(\d{4})\]$")
TEMPORAL_TYPES = {"date", "time", "dateTime", "timeSeconds"}
_EPOCH = _dt.date(1970, 1, 1)


def is_numeric_type(data_type: str) -> bool:
    """True for every type stored as float64 (numbers, booleans and temporal types)."""
    return data_type != "string"


def is_temporal(data_type: str) -> bool:
    return data_type in TEMPORAL_TYPES or bool(_SINCE.match(data_type))


def _year_offset_days(year: int) -> int:
    return (_dt.date(year, 1, 1) - _EPOCH).days


@dataclass
class Col:
    """A field's values over a batch, with missing and invalid masks (same length)."""

    values: np.ndarray
    missing: np.ndarray
    data_type: str = "double"
    op_type: str = "continuous"
    invalid: np.ndarray | None = None
    #: the user's raw input, kept only when some values could not be parsed (for error messages)
    raw: np.ndarray | None = None
    #: text input as it arrived, as an Arrow string array or a dictionary array of strings
    #: (null where missing), when ``values`` are exactly those strings: ``codes`` then looks
    #: them up without converting them again
    text: Any = None
    #: values is this scoring call's own array, which nothing else holds or changes later: an
    #: output may hand it to the user without a copy (``document._user_array``)
    own: bool = False

    def __len__(self) -> int:
        return len(self.values)

    @property
    def valid(self) -> np.ndarray:
        ok = ~self.missing
        if self.invalid is not None:
            ok &= ~self.invalid
        return ok


def full(n: int, value: Any, data_type: str, op_type: str = "continuous") -> Col:
    """A constant column (missing everywhere when value is None)."""
    if value is None:
        vals = np.full(n, np.nan) if is_numeric_type(data_type) else np.full(n, None, object)
        return Col(vals, np.ones(n, bool), data_type, op_type)
    if is_numeric_type(data_type):
        return Col(np.full(n, float(value)), np.zeros(n, bool), data_type, op_type)
    vals = np.empty(n, object)
    vals[:] = [value] * n
    return Col(vals, np.zeros(n, bool), data_type, op_type)


def missing_col(n: int, data_type: str = "double", op_type: str = "continuous") -> Col:
    return full(n, None, data_type, op_type)


# ---------------------------------------------------------------- scalars from document text

def parse_scalar(text: Any, data_type: str) -> Any:
    """Parse one document value (attribute text) to its column representation; None if missing."""
    if text is None:
        return None
    if data_type == "string":
        return str(text)
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip()
    if data_type == "boolean":
        low = s.lower()
        if low in ("true", "1", "1.0"):
            return 1.0
        if low in ("false", "0", "0.0"):
            return 0.0
        raise ValueError(f"not a boolean: {text!r}")
    if data_type in ("integer", "float", "double"):
        # document values for integer fields may be fractional (e.g. a split at 70.5):
        # they compare as numbers, as the reference engine does
        v = _parse_number(s)
        return float(np.float32(v)) if data_type == "float" else v
    return _parse_temporal_scalar(s, data_type)


#: a number as text: ASCII decimal digits with an optional sign, fraction and exponent.
#: Python's float() also takes "1_000" and non-ASCII digits ("١٢"), which no data file means
#: as numbers; Arrow's parser (the batch path) takes neither, and every path must agree.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _parse_number(s: str) -> float:
    low = s.lower()
    if low in ("nan", "+nan", "-nan"):
        return math.nan
    if low in ("inf", "+inf", "infinity", "+infinity", "positiveinfinity"):
        return math.inf
    if low in ("-inf", "-infinity", "negativeinfinity"):
        return -math.inf
    if not _NUMBER.fullmatch(s):
        raise ValueError(f"not a number: {s!r}")
    return float(s)


def _parse_temporal_scalar(s: str, data_type: str) -> float:
    try:
        return float(s)
    except ValueError:
        pass
    arr = parse_temporal(np.array([s], dtype=object), data_type)
    if np.isnan(arr[0]):
        raise ValueError(f"not a {data_type}: {s!r}")
    return float(arr[0])


def parse_temporal(raw: np.ndarray, data_type: str) -> np.ndarray:
    """Strings (ISO 8601) or datetime objects -> float64 in the type's unit; NaN if unparsable."""
    s = pd.Series(raw, dtype=object)
    if data_type in ("time", "timeSeconds"):
        td = pd.to_timedelta(s.astype(str).where(s.notna(), None), errors="coerce")
        return td.dt.total_seconds().to_numpy(dtype=float)
    ts = pd.to_datetime(s, errors="coerce", format="ISO8601")
    secs = (ts - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(dtype=float)
    if data_type == "date":
        return np.floor(secs / 86400.0)
    if data_type == "dateTime":
        return secs
    m = _SINCE.match(data_type)
    if not m:
        raise ValueError(f"unknown temporal type {data_type}")
    off = _year_offset_days(int(m.group(2)))
    if m.group(1) == "dateDaysSince":
        return np.floor(secs / 86400.0) - off
    return secs - off * 86400.0


def convert_temporal(values: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Re-express temporal numbers of type src in type dst (e.g. date -> dateDaysSince[1960])."""
    if src == dst:
        return values

    def to_secs(v: np.ndarray, t: str) -> np.ndarray:
        if t == "date":
            return v * 86400.0
        if t in ("dateTime", "time", "timeSeconds"):
            return v
        m = _SINCE.match(t)
        if m:
            off = _year_offset_days(int(m.group(2))) * 86400.0
            return (v * 86400.0 if m.group(1) == "dateDaysSince" else v) + off
        return v

    secs = to_secs(values, src)
    if dst == "date":
        return np.floor(secs / 86400.0)
    if dst in ("dateTime", "time", "timeSeconds"):
        return secs
    m = _SINCE.match(dst)
    if m:
        off = _year_offset_days(int(m.group(2))) * 86400.0
        secs = secs - off
        return np.floor(secs / 86400.0) if m.group(1) == "dateDaysSince" else secs
    return values


# ---------------------------------------------------------------- columns from user input

def raw_missing(raw: np.ndarray) -> np.ndarray:
    """Missing mask of a raw user column: None, NaN, pd.NA, NaT."""
    if raw.dtype.kind == "f":
        return np.isnan(raw)
    if raw.dtype.kind in "iubUS":
        return np.zeros(len(raw), bool)
    if len(raw) <= _SMALL:
        return np.array([_is_na(v) for v in raw], dtype=bool)
    return pd.isna(pd.Series(raw, dtype=object)).to_numpy()


_SMALL = 64   # below this many rows, plain Python beats pandas' per-call overhead


def _is_na(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT


def to_column(raw: np.ndarray, data_type: str, op_type: str = "continuous",
              text: Any = None) -> tuple[Col, np.ndarray]:
    """Convert a raw user column to a typed Col; also return the mask of unparsable values.
    ``text``: the same column as an Arrow string array, when it came as one.

    Unparsable values are neither missing nor usable: the caller treats them as invalid.
    """
    raw = np.asarray(raw)
    n = len(raw)
    if data_type == "string":
        if text is None and raw.dtype == object and n > _SMALL:
            text = _arrow_text(raw)
            if text is None:
                broken = _unencodable(raw)
                if broken.any():
                    # text that is not valid Unicode (a lone surrogate such as '\ud800') cannot
                    # go through Arrow or pandas: it is invalid, spelled with escapes from here on
                    raw = raw.copy()
                    raw[broken] = [v.encode("utf-8", "backslashreplace").decode("utf-8")
                                   for v in raw[broken]]
                    col, bad = to_column(raw, data_type, op_type)
                    return col, bad | broken
        if text is not None:       # all text (or missing): its missing mask comes with it
            missing = text.is_null().to_numpy(zero_copy_only=False)
            vals = raw       # (read only, as a numeric column's values are)
            if text.null_count:
                vals = raw.copy()
                vals[missing] = None
            return Col(vals, missing, data_type, op_type, text=text), np.zeros(n, bool)
        missing = raw_missing(raw)
        if raw.dtype.kind in "OUS":
            vals = raw.astype(object, copy=True)
            if raw.dtype.kind == "O" and not (
                    n > _SMALL and pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty")):
                # mixed values need converting one by one; an all-text column (the usual case,
                # e.g. from a CSV reader) is already what it should be
                conv = [_as_string(v) for v in vals]
                vals = np.empty(n, object)   # not np.array(): equal-length baskets would go 2-D
                vals[:] = conv
        else:
            vals = np.array([_as_string(v) for v in raw.tolist()], dtype=object)
        vals[missing] = None
        return Col(vals, missing, data_type, op_type), np.zeros(n, bool)
    if raw.dtype == np.float64 and data_type == "double":   # the common case, kept lean
        return Col(raw, np.isnan(raw), data_type, op_type), np.zeros(n, bool)
    if raw.dtype.kind in "iuf":
        vals = raw.astype(np.float32).astype(float) if data_type == "float" else raw.astype(float)
        missing = np.isnan(vals)
        bad = np.zeros(n, bool)
        if data_type == "integer":
            bad = ~missing & (np.floor(vals) != vals) & np.isfinite(vals)
        return Col(vals, missing, data_type, op_type), bad
    if raw.dtype.kind == "b":
        if data_type in ("integer", "float", "double"):   # booleans are not numbers
            return Col(np.full(n, np.nan), np.zeros(n, bool), data_type, op_type), np.ones(n, bool)
        return Col(raw.astype(float), np.zeros(n, bool), data_type, op_type), np.zeros(n, bool)
    if raw.dtype.kind == "M":
        vals = parse_temporal(raw.astype(object), data_type if is_temporal(data_type) else "dateTime")
        missing = np.isnan(vals)
        return Col(vals, missing, data_type, op_type), np.zeros(n, bool)
    # object / string input for a numeric-like type
    obj = raw if raw.dtype == object else raw.astype(object)
    missing = raw_missing(obj)
    if data_type in ("integer", "float", "double"):
        vals, bad = _numbers_from_objects(obj, missing)
        if data_type == "float":
            vals = vals.astype(np.float32).astype(float)
        if data_type == "integer":
            bad |= ~missing & ~bad & np.isfinite(vals) & (np.floor(vals) != vals)
    elif data_type == "boolean":
        vals, bad = _booleans_from_objects(obj, missing)
    else:
        vals, bad = _temporal_from_objects(obj, missing, data_type)
    missing = missing | (~bad & np.isnan(vals) & _is_blank(obj))
    bad &= ~missing
    return Col(vals, missing, data_type, op_type), bad


def _unencodable(obj: np.ndarray) -> np.ndarray:
    """Strings that UTF-8 cannot encode (lone surrogates)."""
    def broken(v: Any) -> bool:
        if not isinstance(v, str) or v.isascii():
            return False
        try:
            v.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True
    return np.fromiter((broken(v) for v in obj), bool, len(obj))


def _is_blank(obj: np.ndarray) -> np.ndarray:
    return np.array([isinstance(v, str) and v.strip() == "" for v in obj], dtype=bool)


def _as_string(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return str(int(f)) if f.is_integer() and abs(f) < 1e16 else repr(f)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if v is pd.NA:
        return None
    if isinstance(v, (list, tuple, set, frozenset, np.ndarray)):
        # a collection value (an association model's basket): a tuple of its items as text
        return tuple(x for x in (_as_string(e) for e in v) if x is not None)
    return str(v)


def _numbers_from_objects(obj: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(obj) <= _SMALL:
        num = np.full(len(obj), np.nan)
        bad = np.zeros(len(obj), bool)
        for i, v in enumerate(obj):
            if missing[i]:
                continue
            if isinstance(v, (bool, np.bool_)):   # booleans are not numbers
                bad[i] = True
            elif isinstance(v, (int, float, np.integer, np.floating)):
                num[i] = float(v)
            elif isinstance(v, str) and not v.strip():
                continue
            else:
                try:
                    num[i] = _parse_number(str(v).strip())
                except ValueError:
                    bad[i] = True
        return num, bad
    s = pd.Series(obj, dtype=object)
    blank = _is_blank(obj)
    boolean = np.fromiter((isinstance(v, (bool, np.bool_)) for v in obj), bool, len(obj))
    s = s.where(~blank & ~boolean, None)
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(num) & ~missing & ~blank
    if bad.any():  # literal NaN / inf spellings; booleans are not numbers
        for i in np.flatnonzero(bad & ~boolean):
            v = obj[i]
            try:
                num[i] = _parse_number(str(v).strip())
                bad[i] = False
            except ValueError:
                pass
    return num, bad


def _booleans_from_objects(obj: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vals = np.full(len(obj), np.nan)
    bad = np.zeros(len(obj), bool)
    for i, v in enumerate(obj):
        if missing[i]:
            continue
        try:
            vals[i] = parse_scalar(v if not isinstance(v, (bool, np.bool_)) else int(v), "boolean")
        except (ValueError, TypeError):
            if isinstance(v, str) and not v.strip():
                continue
            bad[i] = True
    return vals, bad


def _temporal_from_objects(obj: np.ndarray, missing: np.ndarray, data_type: str):
    nums = np.full(len(obj), np.nan)
    is_num = np.array([isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                       for v in obj], dtype=bool)
    nums[is_num] = obj[is_num].astype(float)
    rest = ~is_num & ~missing
    if rest.any():
        parsed = parse_temporal(obj[rest], data_type)
        nums[rest] = parsed
    bad = rest & np.isnan(nums) & ~_is_blank(obj)
    return nums, bad


def isin(values: np.ndarray, candidates: Iterable[Any]) -> np.ndarray:
    """Hash-based membership test for object or float columns."""
    cands = list(candidates)
    if not cands:
        return np.zeros(len(values), bool)
    if values.dtype.kind == "f":
        return np.isin(values, np.asarray(cands, dtype=float))
    idx = pd.Index(cands)
    return idx.get_indexer_for(values) >= 0 if idx.is_unique else pd.Series(values).isin(cands).to_numpy()


def codes(values: np.ndarray, categories: list[Any], text: Any = None) -> np.ndarray:
    """Index of each value in categories, -1 when absent. ``text``: the same values as an Arrow
    string array (a Col's ``text``), when there is one."""
    first: dict = {}                       # each category's first position
    for i, c in enumerate(categories):
        first.setdefault(c, i)
    if len(values) <= _SMALL:
        return np.array([first.get(v, -1) if not _is_na(v) else -1 for v in values.tolist()],
                        dtype=np.int64)
    if values.dtype.kind == "f":
        cats = np.asarray(categories, dtype=float)
        order = np.argsort(cats)
        pos = np.searchsorted(cats[order], values)
        pos = np.clip(pos, 0, len(cats) - 1)
        hit = cats[order][pos] == values
        return np.where(hit, order[pos], -1)
    unique = list(first)
    idx = None
    if values.dtype == object and unique and all(type(c) is str for c in unique):
        idx = _text_codes(values if text is None else text, unique)
    if idx is None:
        idx = pd.Index(unique).get_indexer(values)
    if len(unique) < len(categories):
        idx = np.array(list(first.values()) + [-1], dtype=np.int64)[idx]
    return idx


def _text_codes(values: Any, categories: list[str]) -> np.ndarray | None:
    """Codes of text values (an object array, or already an Arrow string array) among distinct
    text categories with Arrow's hash lookup (a third of pandas' time: pandas 3 converts object
    values to Arrow strings first, then looks them up). None when the values are not all text
    or missing (bytes, numbers, tuples): pandas' equality decides those."""
    import pyarrow as pa
    import pyarrow.compute as pc
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else _arrow_text(values)
    if arr is None:
        return None
    value_set = pa.array(categories, pa.string())
    if isinstance(arr, pa.DictionaryArray):
        # each distinct string looked up once, then its code spread over the rows (a null
        # row: the extra -1 at the end)
        found = pc.index_in(arr.dictionary, value_set=value_set).fill_null(-1)
        table = np.append(found.to_numpy(zero_copy_only=False).astype(np.int64), -1)
        indices = arr.indices if not arr.null_count else arr.indices.fill_null(len(table) - 1)
        return table[indices.to_numpy(zero_copy_only=False)]
    found = pc.index_in(arr, value_set=value_set)
    return found.fill_null(-1).to_numpy().astype(np.int64)


def _arrow_text(values: np.ndarray) -> Any:
    """An object array as an Arrow string array (None, NaN and pd.NA as nulls), or None when it
    holds anything but text and missing values."""
    import pyarrow as pa
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError):   # e.g. a lone '\ud800'
        return None
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def format_value(v: Any, data_type: str) -> Any:
    """Column value -> the Python value a user sees for that data type."""
    if v is None:
        return None
    if data_type == "string":
        return v
    if isinstance(v, float) and v != v:
        return None
    if data_type == "integer":
        return int(v)
    if data_type == "boolean":
        return bool(v)
    return float(v)
