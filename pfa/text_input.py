"""Text input for typed PFA fields: CSV cells (and other text) converted to the declared Avro type.

A CSV file carries every cell as text. PMML converts a field's text to its declared data type;
PFA input fields get the same treatment here, before the record (or column) path validates them:
an ``int``/``long`` field takes ``"42"`` (and ``"42.0"``, as the record path takes the number
42.0), a ``boolean`` field ``"true"``/``"false"``/``"1"``/``"0"`` (any case), a ``float``/``double``
field a decimal number, ``inf`` or ``nan``. Surrounding blanks are allowed; digits are ASCII only
(``"1_000"`` and other scripts' digits are not numbers). A cell that does not parse stays text, so
the record path rejects it with its usual message ("expected an int, got 'abc'") and its row.
Only fields whose type is one of those scalars, or a union of ``null`` and one of them, convert;
text for a ``string`` or a wider union is left as it is.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

import numpy as np

from .types import AvroType, Record

_INT = re.compile(r"[ \t]*[+-]?[0-9]+[ \t]*\Z")
_FLOAT = re.compile(r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)"
                    r"[ \t]*\Z", re.IGNORECASE)
_BOOL = {"true": True, "false": False, "1": True, "0": False}


def _parse_int(s: str) -> Any:
    if _INT.match(s):
        return int(s)
    if _FLOAT.match(s):
        f = float(s)
        if f.is_integer():
            return int(f)
    return s


def _parse_float(s: str) -> Any:
    return float(s) if _FLOAT.match(s) else s


def _parse_bool(s: str) -> Any:
    return _BOOL.get(s.strip().lower(), s)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": _parse_int, "long": _parse_int, "float": _parse_float, "double": _parse_float,
    "boolean": _parse_bool}


def scalar_kind(t: AvroType) -> tuple[str | None, bool]:
    """(the scalar kind text converts to, nullable) for a field type; (None, _) if none."""
    if t.kind in _PARSERS:
        return t.kind, False
    if t.kind == "union":
        others = [m for m in t.types if m.kind != "null"]
        if len(others) == 1 and len(others) < len(t.types) and others[0].kind in _PARSERS:
            return others[0].kind, True
    return None, False


def text_fields(t: AvroType) -> dict[str, str]:
    """Input field name -> scalar kind, for the fields whose text converts (see module doc)."""
    fields = t.fields if isinstance(t, Record) else []
    out = {}
    for f in fields:
        kind, _ = scalar_kind(f.type)
        if kind is not None:
            out[f.name] = kind
    if not isinstance(t, Record):
        kind, _ = scalar_kind(t)
        if kind is not None:
            out["input"] = kind
    return out


def convert_text(columns: Mapping[str, np.ndarray], fields: dict[str, str]) -> Mapping[str, Any]:
    """The columns with text values of the given fields parsed; others are passed through."""
    out = None
    for name, kind in fields.items():
        col = columns.get(name)
        if col is None or getattr(col, "dtype", None) != object:
            continue
        if not any(issubclass(t, str) for t in set(map(type, col))):
            continue
        parse = _PARSERS[kind]
        conv = None
        for i, v in enumerate(col):
            if type(v) is str or isinstance(v, str):
                if conv is None:
                    conv = col.copy()
                conv[i] = parse(v)
        if conv is None:
            continue
        if out is None:
            out = _copy(columns)
        out[name] = _narrow(conv, kind)
        getattr(out, "text", {}).pop(name, None)
    return columns if out is None else out


def _copy(columns: Mapping[str, Any]) -> Any:
    """A shallow copy that keeps the Arrow text kept alongside (engine.columns.Columns)."""
    out = type(columns)(columns) if isinstance(columns, dict) else dict(columns)
    text = getattr(columns, "text", None)
    if text is not None:
        out.text = dict(text)
    return out


def _narrow(col: np.ndarray, kind: str) -> np.ndarray:
    """An all-parsed column as a numpy array of its kind (the column path takes those)."""
    want = (int,) if kind in ("int", "long") else (bool,) if kind == "boolean" else (float, int)
    if all(type(v) in want for v in col):
        if kind in ("int", "long"):
            try:
                return col.astype(np.int64)
            except OverflowError:
                return col
        return col.astype(bool if kind == "boolean" else np.float64)
    return col
