"""s.*: string functions (Python slicing conventions, as the specification states)."""
from __future__ import annotations

import math

from ..errors import PFARuntimeError
from . import fn, typed

fn("s.len")(len)
fn("s.substr")(lambda s, start, end: s[start:end])


@typed("s.substrto")
def substrto(call):
    rt = call.rt

    def f(s, start, end, replacement):
        rt.check_size(len(s) + len(replacement), "string")
        chars = list(s)
        chars[start:end] = replacement
        return "".join(chars)
    return f


fn("s.contains")(lambda h, n: n in h)
fn("s.count")(lambda h, n: h.count(n) if n else 0)
fn("s.index")(lambda h, n: h.find(n))
fn("s.rindex")(lambda h, n: h.rfind(n))
fn("s.startswith")(lambda h, n: h.startswith(n))
fn("s.endswith")(lambda h, n: h.endswith(n))


@typed("s.join")
def join(call):
    rt = call.rt

    def f(array, sep):
        rt.check_size(sum(map(len, array)) + len(sep) * max(0, len(array) - 1), "string")
        return sep.join(array)
    return f


fn("s.split")(lambda s, sep: s.split(sep) if sep else [])


def _pad(text: str, width, zero_pad: bool, code: int, name: str, rt=None) -> str:
    if width is None:
        return text
    if rt is not None:
        rt.check_size(abs(width), "string")
    if width < 0:
        if zero_pad:
            raise PFARuntimeError("negative width cannot be used with zero-padding", code, name)
        return text.ljust(-width)
    if zero_pad:
        if text.startswith("-"):
            return "-" + text[1:].rjust(width - 1, "0")
        return text.rjust(width, "0")
    return text.rjust(width)


@typed("s.int")
def s_int(call):
    if call.sig_index == 0:
        return lambda x: str(x)
    return lambda x, width, zero: _pad(str(x), width, zero, 39240, "s.int", call.rt)


@typed("s.hex")
def s_hex(call):
    def h(x, width=None, zero=False):
        if x < 0:
            raise PFARuntimeError("negative number", 39111, "s.hex")
        return _pad(format(x, "x"), width, zero, 39110, "s.hex", call.rt)
    if call.sig_index == 0:
        return lambda x: h(x)
    return h


def _strip_zeros(s: str) -> str:
    if "." in s:
        s = s.rstrip("0")
        if s.endswith("."):
            s += "0"
    return s


def format_double(x: float, precision, min_no_exp: float = 0.0001,
                  max_no_exp: float = 100000.0) -> str:
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        x = 0.0
    ax = abs(x)
    if ax == 0 or min_no_exp <= ax < max_no_exp:
        if precision is None:
            return _strip_zeros(f"{x:.6f}")
        s = f"{x:.{precision}f}"
        return s if "." in s else s + ".0"
    if precision is None:
        s = f"{x:.6e}"
        mant, exp = s.split("e")
        mant = _strip_zeros(mant)
    else:
        s = f"{x:.{precision}e}"
        mant, exp = s.split("e")
        if "." not in mant:
            mant += ".0"
    sign, digits = exp[0], exp[1:].lstrip("0")
    return f"{mant}e{sign}{digits.rjust(2, '0')}"


@typed("s.number")
def s_number(call):
    i = call.sig_index
    if i == 0:
        return lambda x: str(x)
    if i == 1:
        return lambda x, width, zero: _pad(str(x), width, zero, 39120, "s.number", call.rt)

    def num(x, width, precision, lo=0.0001, hi=100000.0):
        if precision is not None and precision < 0:
            raise PFARuntimeError("negative precision", 39121, "s.number")
        if precision is not None and precision > 1000:
            call.rt.too_big(precision, "string")
        return _pad(format_double(x, precision, lo, hi), width, False, 39120, "s.number",
                    call.rt)
    return num


@typed("s.concat")
def concat(call):
    rt = call.rt

    def f(x, y):
        rt.check_size(len(x) + len(y), "string")
        return x + y
    return f


@typed("s.repeat")
def repeat(call):
    rt = call.rt

    def f(s, n):
        if n > 0:
            rt.check_size(len(s) * n, "string")
        return s * n if n > 0 else ""
    return f


fn("s.lower")(lambda s: s.lower())
fn("s.upper")(lambda s: s.upper())
fn("s.lstrip")(lambda s, chars: s.lstrip(chars) if chars else s)
fn("s.rstrip")(lambda s, chars: s.rstrip(chars) if chars else s)
fn("s.strip")(lambda s, chars: s.strip(chars) if chars else s)


@typed("s.replaceall")
def replaceall(call):
    rt = call.rt

    def f(s, original, replacement):
        n = s.count(original) if original else len(s) + 1
        rt.check_size(max(0, len(s) + n * (len(replacement) - len(original))), "string")
        return s.replace(original, replacement)
    return f


fn("s.replacefirst")(lambda s, o, r: s.replace(o, r, 1))


@fn("s.replacelast")
def replacelast(s, o, r):
    i = s.rfind(o)
    return s if i < 0 else s[:i] + r + s[i + len(o):]


@fn("s.translate")
def translate(s, oldchars, newchars):
    table = {}
    for i, c in enumerate(oldchars):
        if ord(c) not in table:
            table[ord(c)] = newchars[i] if i < len(newchars) else None
    return s.translate(table)
