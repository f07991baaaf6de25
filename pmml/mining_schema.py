"""MiningSchema: a model's view of its input fields and how missing/invalid/outlier values are treated.

Treatment order follows JPMML-Evaluator: classify (missing / invalid / valid), invalid value
treatment (returnInvalid, asIs, asMissing, asValue), outlier treatment on valid continuous values,
then missing value replacement / treatment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from portmodel.errors import DocumentError, InvalidValueError

from .context import Ctx
from .dictionary import FieldInfo, value_error
from .scope import Scope
from .values import Col, is_numeric_type, parse_scalar

USAGE_ALIASES = {"target": "predicted"}
INPUT_USAGES = {"active", "group", "order", "frequencyWeight", "analysisWeight"}


@dataclass
class MiningFieldSpec:
    name: str
    usage: str = "active"
    op_type: str | None = None
    invalid_treatment: str = "returnInvalid"
    invalid_replacement: Any = None
    missing_treatment: str | None = None
    missing_replacement: Any = None
    outliers: str = "asIs"
    low: float | None = None
    high: float | None = None
    line: int | None = None


def parse_mining_schema(schema, ctx: Ctx, model=None) -> list[MiningFieldSpec]:
    """Compile a typed MiningSchema (``objects.MiningSchema``) of the typed model (an
    ``objects.Model``, whose content says whether an undefined name is used); every name must
    be a field visible in ctx (checked at load)."""
    specs = []
    for mf in schema.fields:
        name = mf.name
        info = ctx.lookup(name)
        usage = mf.usage_type or "active"
        usage = USAGE_ALIASES.get(usage, usage)
        if info is None:
            if usage == "predicted" or _used(model, name):
                raise DocumentError(f"MiningField {name!r} names no DataField or DerivedField",
                                    line=mf.line, element="MiningField")
            # a name nothing defines nor uses (producers list dropped columns): skipped
            ctx.leniency.allow("undefined-mining-field", mf.line, "MiningField", repr(name))
            continue
        spec = MiningFieldSpec(name, usage, mf.optype, mf.invalid_value_treatment or
                               "returnInvalid", outliers=mf.outliers or "asIs", line=mf.line,
                               missing_treatment=mf.missing_value_treatment)
        try:
            if mf.invalid_value_replacement is not None:
                spec.invalid_replacement = parse_scalar(mf.invalid_value_replacement,
                                                        info.data_type)
            if mf.missing_value_replacement is not None:
                spec.missing_replacement = parse_scalar(mf.missing_value_replacement,
                                                        info.data_type)
        except ValueError as exc:
            raise DocumentError(f"replacement value for {name!r}: {exc}", line=mf.line,
                                element="MiningField") from None
        spec.low = mf.low_value
        spec.high = mf.high_value
        specs.append(spec)
    return specs


def _used(model, name: str) -> bool:
    """Whether the scored content of a typed model refers to the field name."""
    from .models.base import referenced_names
    return model is not None and bool(referenced_names(model, {name}))


def prepare(spec: MiningFieldSpec, info: FieldInfo, col: Col, scope: Scope) -> Col:
    """Apply the MiningField treatments to a field's column (a new Col; input untouched)."""
    n = len(col)
    op = spec.op_type or info.op_type
    any_missing = bool(col.missing.any())
    if (col.invalid is None or not col.invalid.any()) and spec.outliers == "asIs" and (
            not any_missing or (spec.missing_replacement is None and
                                spec.missing_treatment != "returnInvalid")):
        # nothing to treat (the common case): share the column
        return col if op == col.op_type else Col(col.values, col.missing, col.data_type, op)
    values = col.values
    missing = col.missing.copy()
    invalid = col.invalid.copy() if col.invalid is not None else np.zeros(n, bool)
    invalid &= ~missing
    copied = False

    def writable() -> np.ndarray:
        nonlocal values, copied
        if not copied:
            values = values.copy()
            copied = True
        return values

    if invalid.any():
        t = spec.invalid_treatment
        if t == "returnInvalid":
            scope.fail(invalid, lambda i: value_error(info, col, i))
            missing = missing | invalid
            writable()[invalid] = np.nan if is_numeric_type(info.data_type) else None
        elif t == "asMissing":
            missing = missing | invalid
            writable()[invalid] = np.nan if is_numeric_type(info.data_type) else None
        elif t == "asValue":
            if spec.invalid_replacement is None:
                missing = missing | invalid
                writable()[invalid] = np.nan if is_numeric_type(info.data_type) else None
            else:
                writable()[invalid] = spec.invalid_replacement
        else:  # asIs: keep the value unless it cannot be represented at all
            if is_numeric_type(info.data_type):
                num = values.astype(float)
                bad = invalid & np.isnan(num)
                if info.data_type == "integer":   # 7.5 is no integer: it cannot pass as is
                    bad |= invalid & np.isfinite(num) & (np.floor(num) != num)
                if bad.any():
                    scope.fail(bad, lambda i: value_error(info, col, i))
                    missing = missing | bad
        invalid = invalid & ~missing
    if spec.outliers != "asIs" and is_numeric_type(info.data_type):
        ok = ~missing & ~invalid
        num = values     # (the values before any outlier is replaced)
        for bound, beyond in ((spec.low, np.less), (spec.high, np.greater)):
            if bound is None:
                continue
            out = ok & beyond(num, bound)
            if out.any():
                if spec.outliers == "asMissingValues":
                    missing = missing | out
                    writable()[out] = np.nan
                else:
                    writable()[out] = bound
    if missing.any():
        if spec.missing_replacement is not None:
            writable()[missing] = spec.missing_replacement
            missing = np.zeros(n, bool)
        elif spec.missing_treatment == "returnInvalid":
            scope.fail(missing, lambda i: InvalidValueError("missing value not allowed",
                                                            field=info.name, row=i))
    return Col(values, missing, info.data_type, op, invalid if invalid.any() else None)
