"""Typed reading of PMML attributes: one place where attribute text becomes a number, an
integer, a boolean or one of a set of words.

A value that is not of its type, or a required attribute that is absent, is a ``DocumentError``
naming the element, the attribute and the line, never a bare ValueError or TypeError.
"""
from __future__ import annotations

import math
import re
from typing import Iterable

from portmodel.errors import DocumentError

# xs:double and xs:decimal (Python's float() would also take "1_000", "infinity" or "nan(…)")
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_SPECIAL = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
            "infinity": math.inf, "-infinity": -math.inf}


def _where(el) -> dict:
    from .location import where
    return where(el)


def _text(el, name: str, default: str | None, required: bool) -> str | None:
    text = el.get(name, default)
    if text is None and required:
        raise DocumentError(f"missing attribute {name!r}", **_where(el))
    return text


def parse_number(text: str) -> float:
    """An XML Schema double (also INF, -INF, NaN in any case); ValueError otherwise."""
    if _NUMBER.fullmatch(text):
        return float(text)
    special = _SPECIAL.get(text.strip().lower())
    if special is None:
        raise ValueError(f"{text!r} is not a number")
    return special


def number(el, name: str, default: str | float | None = None, *,
           required: bool = False) -> float | None:
    """Attribute name of el (else default) as a float; None when absent (and not required)."""
    text = _text(el, name, None if default is None else str(default), required)
    if text is None:
        return None
    try:
        return parse_number(text)
    except ValueError:
        raise DocumentError(f"attribute {name}={text!r} is not a number", **_where(el)) from None


def finite(el, name: str, default: str | float | None = None, *,
           required: bool = False) -> float | None:
    """``number``, refusing NaN and infinities."""
    value = number(el, name, default, required=required)
    if value is not None and not math.isfinite(value):
        raise DocumentError(f"attribute {name}={el.get(name)!r} is not a finite number",
                            **_where(el))
    return value


def integer(el, name: str, default: str | int | None = None, *, required: bool = False,
            minimum: int | None = None) -> int | None:
    """Attribute name of el as an int (an integral number such as "3" or "3.0"), at least
    ``minimum`` if given; None when absent (and not required)."""
    text = _text(el, name, None if default is None else str(default), required)
    if text is None:
        return None
    try:
        value = parse_number(text)
        if not value.is_integer():
            raise ValueError(text)
    except (ValueError, OverflowError):
        raise DocumentError(f"attribute {name}={text!r} is not an integer",
                            **_where(el)) from None
    result = int(value)
    if minimum is not None and result < minimum:
        raise DocumentError(f"attribute {name}={text!r} is less than {minimum}", **_where(el))
    return result


def boolean(el, name: str, default: bool | None = None, *,
            required: bool = False) -> bool | None:
    """Attribute name of el as xs:boolean (true/false/1/0)."""
    text = _text(el, name, None, required)
    if text is None:
        return default
    value = {"true": True, "1": True, "false": False, "0": False}.get(text.strip())
    if value is None:
        raise DocumentError(f"attribute {name}={text!r} is not a boolean (true or false)",
                            **_where(el))
    return value


def choice(el, name: str, options: Iterable[str], default: str | None = None, *,
           required: bool = False) -> str | None:
    """Attribute name of el, which must be one of options (else default)."""
    text = _text(el, name, default, required)
    if text is None:
        return None
    options = tuple(options)
    if text not in options:
        raise DocumentError(f"attribute {name}={text!r} is not one of "
                            f"{', '.join(options)}", **_where(el))
    return text


DATA_TYPES = ("string", "integer", "float", "double", "boolean", "date", "time", "dateTime",
              "timeSeconds")
_SINCE = re.compile(r"(dateDaysSince|dateTimeSecondsSince)\[\d{4}\]")
OP_TYPES = ("categorical", "ordinal", "continuous")


def data_type(el, name: str = "dataType", default: str | None = None, *,
              required: bool = False) -> str | None:
    """A PMML data type (dataType="double", "dateDaysSince[1970]", ...)."""
    text = _text(el, name, default, required)
    if text is None or text in DATA_TYPES or _SINCE.fullmatch(text):
        return text
    raise DocumentError(f"attribute {name}={text!r} is not a PMML data type", **_where(el))


def op_type(el, name: str = "optype", default: str | None = None) -> str | None:
    """A PMML op type (categorical, ordinal or continuous)."""
    return choice(el, name, OP_TYPES, default)


def text(el, name: str, default: str | None = None, *, required: bool = False) -> str | None:
    """Attribute name of el as text; a required one must be present and not empty."""
    value = _text(el, name, default, required)
    if required and not value:
        raise DocumentError(f"attribute {name!r} is empty", **_where(el))
    return value
