"""DataDictionary: declared fields, their types, and which values are valid, invalid or missing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from portmodel.errors import DocumentError, InvalidValueError, ValueParseError
from portmodel.fields import Field, Interval

from .values import Col, codes, is_numeric_type, parse_scalar, to_column

OP_TYPES = {"continuous", "categorical", "ordinal"}


@dataclass
class FieldInfo:
    """What the compiler knows of a field: type, op type and (for categorical) its values."""

    name: str
    data_type: str
    op_type: str
    values: list[Any] = field(default_factory=list)          # valid values, document order
    invalid_values: list[Any] = field(default_factory=list)
    missing_values: list[Any] = field(default_factory=list)
    display: dict[Any, str] = field(default_factory=dict)
    intervals: list[Interval] = field(default_factory=list)
    line: int | None = None

    def descriptor(self, usage: str = "active") -> Field:
        from .values import format_value
        return Field(self.name, self.data_type, self.op_type,
                     tuple(format_value(v, self.data_type) for v in self.values) or None,
                     tuple(self.intervals),
                     tuple(format_value(v, self.data_type) for v in self.missing_values), usage)


def default_op_type(data_type: str) -> str:
    return "categorical" if data_type in ("string", "boolean") else "continuous"


def data_field_info(df) -> FieldInfo:
    """What the compiler knows of a DataField of the object model (``objects.DataField``):
    absent dataType is string for a categorical or ordinal field, else double; absent optype
    follows the data type; Values are parsed to the data type."""
    name = df.name
    if not name:
        raise DocumentError("DataField without a name", line=df.line, element="DataField")
    data_type = df.data_type
    op_type = df.optype
    if data_type is None:
        data_type = "string" if op_type in ("categorical", "ordinal") else "double"
    op_type = op_type or default_op_type(data_type)
    info = FieldInfo(name, data_type, op_type, line=df.line)
    for v in df.values:
        text = v.value
        try:
            val = parse_scalar(text, data_type)
        except ValueError:
            raise DocumentError(f"Value {text!r} is not a {data_type} for field {name!r}",
                                line=v.line, element="Value") from None
        prop = v.property or "valid"
        if prop == "valid":
            info.values.append(val)
            if v.display_value is not None:
                info.display[val] = v.display_value
        elif prop == "invalid":
            info.invalid_values.append(val)
        elif prop == "missing":
            info.missing_values.append(val)
    for iv in df.intervals:
        info.intervals.append(Interval(iv.closure or "closedClosed", iv.left_margin,
                                       iv.right_margin))
    return info


def data_dictionary_infos(dd) -> dict[str, FieldInfo]:
    """name -> FieldInfo of an ``objects.DataDictionary`` (a later field of the same name
    wins, as before)."""
    fields: dict[str, FieldInfo] = {}
    for df in (dd.fields if dd is not None else ()):
        info = data_field_info(df)
        fields[info.name] = info
    return fields


def in_intervals(values: np.ndarray, intervals: list[Interval]) -> np.ndarray:
    ok = np.zeros(len(values), bool)
    for iv in intervals:
        m = np.ones(len(values), bool)
        if iv.left is not None:
            m &= values >= iv.left if iv.closure.startswith("closed") else values > iv.left
        if iv.right is not None:
            m &= values <= iv.right if iv.closure.endswith("Closed") else values < iv.right
        ok |= m
    return ok


def classify(info: FieldInfo, raw: np.ndarray, text: Any = None) -> tuple[Col, np.ndarray]:
    """Convert a raw user column to the field's type and mark missing and invalid values.
    ``text``: the same column as an Arrow string array, when it came as one.

    Returns the column and the mask of values that could not be parsed at all (a subset of invalid).
    """
    col, unparsable = to_column(raw, info.data_type, info.op_type, text)
    if not (info.missing_values or info.invalid_values or info.intervals or
            (info.values and info.op_type != "continuous")) and not unparsable.any():
        return col, unparsable   # nothing can be invalid: the common numeric case, kept cheap
    missing = col.missing.copy()
    if info.missing_values:
        missing |= ~missing & _member(col.values, info.missing_values)
    present = ~missing & ~unparsable
    invalid = unparsable.copy()
    if info.invalid_values:
        invalid |= present & _member(col.values, info.invalid_values)
    if info.op_type in ("categorical", "ordinal") and info.values:
        invalid |= present & ~_member(col.values, info.values, col.text)
    elif info.op_type == "continuous":
        if info.intervals:
            num = np.where(present, col.values, 0.0).astype(float)
            ok = in_intervals(num, info.intervals)
            if info.values:
                ok |= _member(col.values, info.values)
            invalid |= present & ~ok
        elif info.values and info.data_type != "string":
            pass  # continuous fields list Values only to describe them; no restriction
    if is_numeric_type(info.data_type):
        vals = col.values
        if missing.any():
            vals = vals.copy()
            vals[missing] = np.nan
    else:
        vals = col.values
        if missing.any():
            vals = vals.copy()
            vals[missing] = None
    return Col(vals, missing, info.data_type, info.op_type, invalid,
               raw if unparsable.any() else None,
               # (the same strings unless missing_values added nulls)
               col.text if vals is col.values or not info.missing_values else None), unparsable


def _member(values: np.ndarray, candidates: list[Any], text: Any = None) -> np.ndarray:
    if not len(values):
        return np.zeros(0, bool)
    hit = codes(values, candidates, text) >= 0
    if values.dtype == object and not hit.all():
        # collection values (an association model's baskets): members when every item is
        allowed = set(candidates)
        for i in np.flatnonzero(~hit):
            if isinstance(values[i], tuple):
                hit[i] = all(v in allowed for v in values[i])
    return hit


def value_error(info: FieldInfo, col: Col, row: int) -> InvalidValueError:
    """The error for an invalid value: input that did not parse (NaN left by classify), or a
    value outside the field's valid values."""
    v = col.values[row]
    if col.raw is not None and isinstance(v, float) and v != v:
        raw = col.raw[row]
        raw = raw.item() if isinstance(raw, np.generic) else raw
        return ValueParseError(f"cannot parse {raw!r} as {info.data_type}", field=info.name,
                               row=row)
    if info.data_type == "integer" and isinstance(v, float) and v == v and v != int(v):
        return ValueParseError(f"{float(v)!r} is not an integer", field=info.name, row=row)
    return invalid_error(info, v, row)


def invalid_error(info: FieldInfo, value: Any, row: int, why: str = "") -> InvalidValueError:
    if isinstance(value, np.generic):
        value = value.item()
    allowed = ""
    if info.values and info.op_type != "continuous":
        shown = ", ".join(repr(v) for v in info.values[:10])
        allowed = f"; valid values: {shown}{', ...' if len(info.values) > 10 else ''}"
    elif info.intervals:
        allowed = "; valid range: " + " or ".join(i.contains_text() for i in info.intervals)
    return InvalidValueError(f"invalid value {value!r}{why}{allowed}", field=info.name, row=row)
