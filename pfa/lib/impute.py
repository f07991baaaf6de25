"""impute.*: missing-value (null) and non-number handling."""
from __future__ import annotations

import math

from ..errors import PFARuntimeError
from . import fn


@fn("impute.errorOnNull")
def error_on_null(x):
    if x is None:
        raise PFARuntimeError("encountered null", 21000, "impute.errorOnNull")
    return x


fn("impute.defaultOnNull")(lambda x, default: default if x is None else x)
fn("impute.isnan")(lambda x: x != x)
fn("impute.isinf")(lambda x: math.isinf(x))
fn("impute.isnum")(lambda x: math.isfinite(x))


@fn("impute.errorOnNonNum")
def error_on_non_num(x):
    if x != x:
        raise PFARuntimeError("encountered nan", 21050, "impute.errorOnNonNum")
    if x == math.inf:
        raise PFARuntimeError("encountered +inf", 21051, "impute.errorOnNonNum")
    if x == -math.inf:
        raise PFARuntimeError("encountered -inf", 21052, "impute.errorOnNonNum")
    return x


fn("impute.defaultOnNonNum")(lambda x, default: x if math.isfinite(x) else default)
