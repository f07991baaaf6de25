"""PMMLModel: a whole PMML document compiled into a column plan behind the common Model API."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from portmodel.errors import (MissingFieldError, UnsupportedError,
                              VerificationError)
from portmodel.fields import Field
from portmodel.model import Model, ScoredBatch

from . import dialects, limits, objects, xmlread
from .context import Ctx
from .dictionary import FieldInfo, classify, data_dictionary_infos
from .expressions import compile_derived_fields
from .functions import compile_define_functions
from .leniency import Leniency
from .models.base import CompiledModel, compile_model
from .scope import Scope
from .values import Col, missing_col


class PMMLModel(Model):
    """A compiled PMML document. Build with ``portmodel.load``."""

    format = "pmml"
    fresh_columns = True      # (every output array comes from ``_user_array``: a new array)

    def __init__(self, root, version: str, leniency: Leniency | None = None):
        self.version = version
        #: the document's object model (read once; vendor extensions already set aside)
        self.document: objects.Document = objects.read_document(root, version)
        header = self.document.header
        self.header = header.as_dict() if header is not None else {}
        self.data_fields: dict[str, FieldInfo] = data_dictionary_infos(
            self.document.data_dictionary)
        self.leniency = leniency if leniency is not None else Leniency()
        self.ctx = Ctx(self.data_fields, version=version, leniency=self.leniency)
        #: the typed document the root context compiles (segment models find the model that
        #: holds them through it: see ``models.base``)
        self.ctx.document = self.document
        tdict = self.document.transformation_dictionary
        compile_define_functions(tdict, self.ctx)
        self.global_defs = compile_derived_fields(tdict, self.ctx)
        self.ctx.global_defs = self.global_defs     # (training instances may need them)
        model = self.document.model
        if model is None:
            raise UnsupportedError("document has no model element", line=root.sourceline,
                                   element="PMML")
        self.model: CompiledModel = compile_model(model, self.ctx)
        self.model.narrow_features()
        self.model_type = model.tag
        self.ctx.document = None
        self.ctx.model_parents = {}
        self.function = self.model.function
        if self.model.real_integer_target():
            t = self.model.target
            self.leniency.allow("integer-target", t.line, "DataField", repr(t.name))
        self._build_fields()
        # the root scope's field functions, built at load (a loaded document is not changed
        # by scoring, so threads may share it)
        self._root_defs = {name: _input_fn(name, info) for name, info in self.data_fields.items()}
        self._root_defs.update(self.global_defs)

    # ------------------------------------------------------------------ interface
    def _build_fields(self) -> None:
        m = self.model
        used: list[str] = []
        seen: set[str] = set()
        for name in m.input_names():
            self._collect_data_fields(name, used, seen)
        self._required = used
        self._required_set = frozenset(used)
        mining = {s.name: s for s in m.mining}
        self.inputs = []
        for name in used:
            info = self.data_fields[name]
            f = info.descriptor("active")
            spec = mining.get(name)
            if spec is not None:
                f.extra.update({k: v for k, v in {
                    "missing_value_replacement": spec.missing_replacement,
                    "missing_value_treatment": spec.missing_treatment,
                    "invalid_value_treatment": spec.invalid_treatment,
                    "invalid_value_replacement": spec.invalid_replacement,
                    "outliers": None if spec.outliers == "asIs" else spec.outliers,
                    "low_value": spec.low if spec.outliers != "asIs" else None,
                    "high_value": spec.high if spec.outliers != "asIs" else None,
                }.items() if v is not None})
            self.inputs.append(f)
        self.targets = []
        for name in m.target_names:
            info = self.data_fields.get(name) or m.ctx.lookup(name)
            if info is not None:
                self.targets.append(info.descriptor("target"))
        self.outputs = []
        self._result_names: list[str] = []
        if m.target is not None:
            self._result_names.append(m.target.name)
            self.outputs.append(Field(m.target.name, m.target_type, m.target.op_type,
                                      tuple(m.target.values) or None, usage="predicted"))
            for info, other in getattr(m, "extra_targets", ()):
                self._result_names.append(info.name)
                self.outputs.append(Field(info.name, other.target_type, info.op_type,
                                          tuple(info.values) or None, usage="predicted"))
        elif m.output is None:
            self._result_names.append("predictedValue")
            self.outputs.append(Field("predictedValue", m.target_type, None, usage="predicted"))
        if m.output is not None:
            self.outputs.extend(m.output.fields())

    def _collect_data_fields(self, name: str, out: list[str], seen: set[str]) -> None:
        """Data fields a model input depends on (through global derived fields), in the order
        first met; iterative, and each derived field's references are read once."""
        refs = self.__dict__.get("_global_refs")
        if refs is None:
            refs = self._global_refs = objects.derived_references(self.document.global_fields())
        stack = [name]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in self.data_fields:
                out.append(name)
            else:
                stack.extend(reversed(refs.get(name, ())))

    #: seconds one scoring call may take (None: limits.SCORE_TIMEOUT)
    timeout: float | None = None

    def score_columns(self, columns: Mapping[str, np.ndarray], n: int) -> ScoredBatch:
        seconds = self.timeout if self.timeout is not None else limits.SCORE_TIMEOUT
        if seconds is None:
            return self._score_columns(columns, n)
        with limits.deadline(seconds):
            return self._score_columns(columns, n)

    def _score_columns(self, columns: Mapping[str, np.ndarray], n: int) -> ScoredBatch:
        absent = [] if columns.keys() >= self._required_set else \
            [name for name in self._required if name not in columns]
        if absent:
            raise MissingFieldError(
                "input lacks field(s) the model needs: " + ", ".join(repr(a) for a in absent),
                field=absent[0])
        root = _InputScope(n, columns, self._root_defs)
        result, scope = self.model.evaluate(root, self.global_defs)
        cols: dict[str, Col] = {}
        if self.model.target is not None:
            cols[self.model.target.name] = result.value
        elif self.model.output is None:
            cols["predictedValue"] = result.value
        for name, res in result.extra.get("targets", {}).items():
            cols.setdefault(name, res.value)      # the other targets of a multi-target model
        if self.model.output is not None:
            outs, _ = self.model.output.compute(result, scope)
            cols.update(outs)
        failed = scope.failed_mask() if root.errors else None
        handed: list[np.ndarray] = []
        return ScoredBatch({k: _user_array(c, failed, handed) for k, c in cols.items()},
                           dict(root.errors))

    def record_plan(self):
        from .record import compile_record_plan
        return compile_record_plan(self)

    # ------------------------------------------------------------------ verification
    def verify(self) -> int:
        """Score the document's ModelVerification records; raise VerificationError on a mismatch.

        Returns the number of records checked (0 when the document has none).
        """
        mv = self.document.model.verification
        if mv is None:
            return 0
        spec = {}
        for vf in (mv.fields.fields if mv.fields is not None else ()):
            # cells are keyed by local name (Row.as_dict drops a "data:" prefix)
            spec[vf.field] = ((vf.column or vf.field).split(":")[-1],
                              1e-6 if vf.precision is None else vf.precision,
                              1e-16 if vf.zero_threshold is None else vf.zero_threshold)
        rows = mv.table.as_dicts() if mv.table is not None else []
        absent = [c for c, _, _ in spec.values() if rows and all(c not in r for r in rows)]
        if absent:
            raise VerificationError("ModelVerification: no InlineTable cells for column(s) "
                                    + ", ".join(map(repr, absent)))
        input_names = set(self._required)
        data = {}
        for name, (column, _, _) in spec.items():
            if name in input_names:
                arr = np.empty(len(rows), object)
                arr[:] = [r.get(column) for r in rows]
                data[name] = arr
        for name in input_names - set(data):
            data[name] = np.full(len(rows), None, object)
        batch = self.score_columns(data, len(rows))
        problems = []
        for name, (column, prec, zero) in spec.items():
            if name in input_names or name not in batch.columns:
                continue
            got = batch.columns[name]
            for i, r in enumerate(rows):
                exp = r.get(column)
                if not _agrees(exp, got[i], prec, zero):
                    shown = got[i].item() if isinstance(got[i], np.generic) else got[i]
                    problems.append(f"record {i}: {name} expected {exp!r}, got {shown!r}")
        if problems:
            raise VerificationError("ModelVerification failed:\n" + "\n".join(problems[:20]))
        return len(rows)

    def describe(self) -> dict:
        out = super().describe()
        out.update({"version": self.version, "model_type": self.model_type,
                    "function": self.function, "header": self.header})
        return out


def _agrees(expected: Any, actual: Any, precision: float, zero: float) -> bool:
    if expected is None or expected == "":
        return actual is None or (isinstance(actual, float) and actual != actual)
    if isinstance(actual, (float, int, np.floating, np.integer)) and not isinstance(actual, bool):
        try:
            e = float(expected)
        except ValueError:
            return False
        a = float(actual)
        if abs(e) <= zero and abs(a) <= zero:
            return True
        lo, hi = sorted((e * (1 - precision), e * (1 + precision)))
        return lo <= a <= hi
    return str(expected) == str(actual) or (isinstance(actual, bool) and
                                             str(expected).lower() == str(actual).lower())


class _InputScope(Scope):
    """The root scope of a batch: the user's columns, classified when a field is first used."""

    __slots__ = ("columns",)

    def __init__(self, n: int, columns: Mapping[str, np.ndarray], defs: dict):
        super().__init__(n, None, defs, {})   # defs: shared, never written during scoring
        self.columns = columns


_ABSENT = object()
_FLOAT64 = np.dtype(np.float64)   # (an identity test: native float64 arrays share it)


def _input_fn(name: str, info: FieldInfo):
    """The root definition of a data field: its user column, classified (checks planned once:
    a plain double or float field skips the invalid-value machinery); a field the input lacks
    (not required, e.g. the target, yet referenced) is missing, as JPMML has it."""
    plain = not (info.missing_values or info.invalid_values or info.intervals or
                 (info.values and info.op_type != "continuous"))
    dt, op = info.data_type, info.op_type
    fast = plain and dt in ("double", "float")
    # one text value of a string field whose only check is its list of valid values
    one_text = dt == "string" and not (info.missing_values or info.invalid_values or
                                       info.intervals)
    valid = frozenset(info.values) if (info.values and op != "continuous") else None

    def fn(scope: _InputScope) -> Col:
        raw = scope.columns.get(name, _ABSENT)
        if raw is _ABSENT:
            return missing_col(scope.n, dt, op)
        if type(raw) is np.ndarray and raw.ndim == 1:
            if fast and raw.dtype is _FLOAT64:
                # what classify gives for these (to_column's numeric path; nothing invalid)
                vals = raw if dt == "double" else raw.astype(np.float32).astype(float)
                return Col(vals, np.isnan(vals), dt, op)
            if one_text and len(raw) == 1 and raw.dtype == object and type(raw[0]) is str:
                # what classify gives for one present text value (without its mask algebra)
                vals = np.empty(1, object)
                vals[0] = raw[0]
                if valid is None:
                    return Col(vals, np.zeros(1, bool), dt, op)
                return Col(vals, np.zeros(1, bool), dt, op, np.array([raw[0] not in valid]))
        text = getattr(scope.columns, "text", None)    # (portmodel.columns.Columns)
        col, _ = classify(info, raw, text.get(name) if text else None)
        return col
    #: a float64 user column is the field's value as is ("double") or rounded ("float"):
    #: kernels may read the user's column in place (models/row_blocks.py, user_float_columns)
    fn.raw_float = dt if fast else None
    return fn


def _classifier(info: FieldInfo, raw: np.ndarray):
    def fn(scope: Scope) -> Col:
        col, _ = classify(info, raw)
        return col
    return fn


_INT64_END = 2.0 ** 63      # the integers a user gets as int64 lie strictly within +-this


def _user_array(col: Col, failed: np.ndarray | None, handed: list[np.ndarray]) -> np.ndarray:
    """A Col as the array a user gets: float64 with NaN, or object with None (integers as
    int64 when every row has one). Always an array of the user's own: ``predict`` hands it
    out as it is. handed: the arrays handed out so far in this call without a copy."""
    missing = col.missing if failed is None else (col.missing | failed)
    dt = col.data_type
    vals = col.values
    if dt in ("double", "float") and vals.dtype == float:
        # (a copy when nothing is missing: what np.where gives, in one pass)
        return np.where(missing, np.nan, vals) if missing.any() else \
            _own_array(col, handed)
    if dt == "integer" and vals.dtype == float:
        if len(vals) and not missing.any() and -_INT64_END < vals.min() and \
                vals.max() < _INT64_END:      # (NaN fails both tests: min and max keep it)
            return vals.astype(np.int64)
        with np.errstate(invalid="ignore"):
            missing = missing | ~(np.abs(vals) < _INT64_END)   # NaN and infinities: no integer
        if not missing.any():
            return vals.astype(np.int64)
        out = np.empty(len(vals), object)
        out[:] = [None if m else int(v) for v, m in zip(vals, missing)]
        return out
    if dt == "boolean" and vals.dtype == float:
        out = np.empty(len(vals), object)
        out[:] = [None if m else bool(v) for v, m in zip(vals, missing)]
        return out
    if vals.dtype == float:
        return np.where(missing, np.nan, vals)
    if vals.dtype == object and not missing.any():
        return _own_array(col, handed)
    out = vals.copy() if vals.dtype == object else vals.astype(object)
    if missing.any():
        out[missing] = None
    return out


def _own_array(col: Col, handed: list[np.ndarray]) -> np.ndarray:
    """col's values as they are when they are the call's own (``Col.own``) and no array
    handed out already shares their memory (two outputs of one value), else a copy."""
    vals = col.values
    if col.own and not any(np.may_share_memory(vals, h) for h in handed):
        handed.append(vals)
        return vals
    return vals.copy()


def load_pmml(source: Any, strict: bool = False, timeout: float | None = None) -> PMMLModel:
    """Read, upgrade and compile a PMML document.

    strict: refuse the producer traits ``leniency`` lists (a DocumentError naming the line)
    instead of reading them as the reference engines do, with one PortmodelWarning per trait.
    timeout: seconds one scoring call may take (None: ``limits.SCORE_TIMEOUT``, read when
    scoring).
    """
    data = xmlread.read_bytes(source)
    leniency = Leniency(strict=strict)
    root, version = xmlread.parse(data, leniency)
    dialects.normalize(root, version, source=data, leniency=leniency)
    model = PMMLModel(root, version, leniency)
    model.source = data
    model.timeout = timeout
    leniency.warn(stacklevel=dialects._caller_level() + 1)
    return model
