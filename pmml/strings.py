"""Text rules PMML borrows from other languages, for the string built-ins.

- numbers as text: Java's Double.toString / Float.toString (what a PMML engine prints for a
  double converted to string: "2.0", "1.0E7");
- regular expressions: PMML patterns are written for Java/PCRE engines; ``java_regex`` rewrites
  the Java-only syntax to Python ``re`` syntax (ASCII \\d \\w \\s as Java has by default);
- replacement templates: Java's "$1" / "${name}" / "\\$" syntax (and "$$" for a literal "$");
- formatNumber: C printf conversions; formatDatetime: C strftime conversions.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Callable

import numpy as np

# ---------------------------------------------------------------- numbers as text


def java_double_str(v: float) -> str:
    """Double -> text as Java's Double.toString writes it (shortest round-trip digits)."""
    return _java_str(float(v), np.float64)


def java_float_str(v: float) -> str:
    """Float (32-bit) -> text as Java's Float.toString writes it."""
    return _java_str(float(np.float32(v)), np.float32)


def _java_str(v: float, kind) -> str:
    if v != v:
        return "NaN"
    if v in (np.inf, -np.inf):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "-0.0" if np.signbit(v) else "0.0"
    a = abs(v)
    if 1e-3 <= a < 1e7:
        s = np.format_float_positional(kind(v), unique=True, trim="0")
        return s
    s = np.format_float_scientific(kind(v), unique=True, trim="0", exp_digits=1)
    mant, exp = s.split("e")
    return f"{mant}E{int(exp)}"


# ---------------------------------------------------------------- regular expressions

_POSIX = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7f", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "!-~", "Print": " -~",
    "Blank": " \\t", "Cntrl": "\\x00-\\x1f\\x7f", "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r", "javaLowerCase": "a-z", "javaUpperCase": "A-Z",
    "javaWhitespace": " \\t\\n\\x0b\\f\\r\\x1c-\\x1f", "IsAlphabetic": "^\\W\\d_",
    "L": "^\\W\\d_", "IsL": "^\\W\\d_", "IsLetter": "^\\W\\d_", "N": "\\d", "Nd": "\\d",
    "IsDigit": "\\d",
}


class RegexError(ValueError):
    """A pattern we cannot translate (or that is not a valid regular expression)."""


@functools.lru_cache(maxsize=256)
def java_regex(pattern: str) -> re.Pattern:
    """Compile a Java-syntax regular expression as an equivalent Python pattern."""
    try:
        return re.compile(_translate(pattern), re.ASCII)
    except re.error as e:
        raise RegexError(f"bad regular expression {pattern!r}: {e}") from None


def _translate(p: str) -> str:
    out: list[str] = []
    i, n = 0, len(p)
    in_class = 0
    while i < n:
        c = p[i]
        if c == "\\" and i + 1 < n:
            d = p[i + 1]
            if d == "Q":
                end = p.find("\\E", i + 2)
                lit = p[i + 2:] if end < 0 else p[i + 2:end]
                out.append(re.escape(lit))
                i = n if end < 0 else end + 2
                continue
            if d in "pP":
                m = re.match(r"\{(\w+)\}|(\w)", p[i + 2:])
                if not m:
                    raise RegexError(f"bad property escape in {p!r}")
                name = m.group(1) or m.group(2)
                name = name[2:] if name.startswith("Is") and name[2:] in _POSIX else name
                body = _POSIX.get(name)
                if body is None:
                    raise RegexError(f"character property \\p{{{name}}} is not supported")
                neg = (d == "P") != body.startswith("^")
                body = body.lstrip("^")
                if in_class:
                    if neg:
                        raise RegexError(f"negated property inside a class in {p!r}")
                    out.append(body)
                else:
                    out.append(("[^" if neg else "[") + body + "]")
                i += 2 + m.end()
                continue
            if d == "z" and not in_class:
                out.append("\\Z")
            elif d == "Z" and not in_class:
                out.append("(?=\\n?\\Z)")
            elif d == "h":
                out.append(("" if in_class else "[") + " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a"
                           "\\u202f\\u205f\\u3000" + ("" if in_class else "]"))
            elif d == "R" and not in_class:
                out.append("(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])")
            elif d == "k" and p.startswith("<", i + 2):
                end = p.index(">", i + 3)
                out.append(f"(?P={p[i + 3:end]})")
                i = end + 1
                continue
            else:
                out.append(c + d)
            i += 2
            continue
        if in_class:
            if c == "[":
                raise RegexError(f"nested character classes are not supported in {p!r}")
            if c == "&" and p.startswith("&&", i):
                raise RegexError(f"class intersection is not supported in {p!r}")
            if c == "]":
                in_class = 0
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = 1
            if p.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and p[i] == "]":   # a leading ] is a literal in Java too
                out.append("\\]")
                i += 1
            continue
        if c == "(" and p.startswith("(?<", i) and i + 3 < n and p[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def java_replacement(template: str) -> Callable[[re.Match], str]:
    """A re.sub replacement function for a Java Matcher.replaceAll template.

    "$n" and "${name}" insert groups, "\\x" is a literal x, and "$$" (PCRE style) a literal "$".
    """
    parts: list[tuple[str, object]] = []
    lit: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c == "\\":
            if i + 1 >= n:
                raise RegexError("replacement ends with a backslash")
            lit.append(template[i + 1])
            i += 2
        elif c == "$":
            if template.startswith("$$", i):
                lit.append("$")
                i += 2
                continue
            m = re.match(r"\$(?:\{([A-Za-z][A-Za-z0-9]*)\}|(\d+))", template[i:])
            if not m:
                raise RegexError(f"bad group reference in replacement {template!r}")
            if lit:
                parts.append(("lit", "".join(lit)))
                lit = []
            parts.append(("name", m.group(1)) if m.group(1) else ("num", m.group(2)))
            i += m.end()
        else:
            lit.append(c)
            i += 1
    if lit:
        parts.append(("lit", "".join(lit)))

    def repl(match: re.Match) -> str:
        buf = []
        for kind, ref in parts:
            if kind == "lit":
                buf.append(ref)
            elif kind == "name":
                buf.append(match.group(ref) or "")
            else:
                g, rest = _java_group_number(str(ref), match.re.groups)
                buf.append((match.group(g) or "") + rest)
        return "".join(buf)

    return repl


def _java_group_number(digits: str, groups: int) -> tuple[int, str]:
    """Java reads as many digits as still name an existing group; the rest are literal."""
    k = 1
    while k < len(digits) and int(digits[:k + 1]) <= groups:
        k += 1
    g = int(digits[:k])
    if g > groups:
        raise IndexError(f"no group {g}")
    return g, digits[k:]


# ---------------------------------------------------------------- formatNumber / formatDatetime

_SPEC = re.compile(r"%(?P<flags>[-+ 0#]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?(?P<conv>[a-zA-Z%])")
_INT_CONV = set("diouxXc")
_FLOAT_CONV = set("eEfFgGaA")


@functools.lru_cache(maxsize=256)
def printf_spec(pattern: str) -> str | None:
    """The one value conversion in a C printf pattern (e.g. "f" for "%.2f"); None if invalid."""
    convs = []
    pos = 0
    while True:
        j = pattern.find("%", pos)
        if j < 0:
            break
        m = _SPEC.match(pattern, j)
        if not m:
            return None
        if m.group("conv") != "%":
            convs.append(m.group("conv"))
        pos = m.end()
    if len(convs) != 1:
        return None
    conv = convs[0]
    if conv not in _INT_CONV | _FLOAT_CONV | {"s"}:
        return None
    return conv


def format_number(value: float, pattern: str, integer_typed: bool) -> str:
    """C printf formatting of one number; ValueError if the pattern does not fit the value."""
    conv = printf_spec(pattern)
    if conv is None:
        raise ValueError(f"formatNumber pattern {pattern!r} is not a single printf conversion")
    if conv in _INT_CONV:
        if not float(value).is_integer():
            raise ValueError(f"formatNumber: {value!r} is not an integer for {pattern!r}")
        arg: object = int(value)
    elif conv == "s":
        arg = str(int(value)) if integer_typed else java_double_str(value)
    else:
        arg = float(value)
    return pattern % arg


def to_datetime(value: float, data_type: str) -> _dt.datetime:
    """A temporal column value (see values.py units) as a naive datetime."""
    from .values import _SINCE, _year_offset_days
    epoch = _dt.datetime(1970, 1, 1)
    if data_type == "date":
        return epoch + _dt.timedelta(days=value)
    if data_type in ("time", "timeSeconds"):
        return epoch + _dt.timedelta(seconds=value)
    m = _SINCE.match(data_type)
    if m:
        base = epoch + _dt.timedelta(days=_year_offset_days(int(m.group(2))))
        if m.group(1) == "dateDaysSince":
            return base + _dt.timedelta(days=value)
        return base + _dt.timedelta(seconds=value)
    return epoch + _dt.timedelta(seconds=value)


def format_datetime(value: float, data_type: str, pattern: str) -> str:
    """C strftime formatting of one temporal value."""
    return to_datetime(value, data_type).strftime(pattern)
