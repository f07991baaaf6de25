"""PFAModel: a loaded PFA engine behind portmodel's common Model interface.

Columns are turned into input records (one per row), the action runs per record, and record
outputs are split back into columns (the record path, the reference). When the action is free of
side effects and built from the column path's vocabulary, ``batch.plan_or_reason`` scores whole
columns with numpy instead; rows it cannot answer exactly are handed to the record path one by
one, so outputs and errors are the record path's whichever path runs. Text cells of typed fields
are converted first (``text_input``).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from ..errors import MissingFieldError, ScoringError
from ..fields import Field
from ..model import Model, ScoredBatch
from .engine import Engine
from .errors import PFARuntimeError
from .reader import read_document
from .runtime import Limits
from .text_input import convert_text, text_fields
from .types import AvroType, Record
from .values import input_converter, output_converter, to_json

_NUMERIC = ("int", "long", "float", "double")


def _field(name: str, t: AvroType, usage: str = "active") -> Field:
    dt = t.describe() if t.kind in ("record", "enum", "fixed", "array", "map", "union") else t.kind
    return Field(name=name, data_type=dt, op_type=None, usage=usage, extra={"avro_type": t.kind})


class PFAModel(Model):
    """A compiled PFA document. ``action(value)`` runs the engine on one input value."""

    format = "pfa"

    def __init__(self, engine: Engine, batch: bool = True):
        self.engine = engine
        it, ot = engine.input_type, engine.output_type
        self.input_record = isinstance(it, Record)
        self.output_record = isinstance(ot, Record) and engine.method == "map"
        self.inputs = [_field(f.name, f.type) for f in it.fields] if self.input_record \
            else [_field("input", it)]
        self.outputs = [_field(f.name, f.type, "output") for f in ot.fields] \
            if self.output_record else [_field("output", ot, "output")]
        self.targets: list[Field] = []
        self._in = input_converter(it)
        self._out = output_converter(ot)
        self._text_fields = text_fields(it)
        self._batch = None
        self.batch_path_reason: str | None = "disabled by the caller (batch=False)"
        if batch:
            from .batch import plan_or_reason
            self._batch, self.batch_path_reason = plan_or_reason(engine)

    # -- the PFA view
    @property
    def input_type(self) -> AvroType:
        return self.engine.input_type

    @property
    def output_type(self) -> AvroType:
        return self.engine.output_type

    @property
    def method(self) -> str:
        return self.engine.method

    @property
    def has_batch_path(self) -> bool:
        """True when predict() scores whole columns with numpy for this document (rows the
        column path cannot answer exactly still go through the record path, one by one)."""
        return self._batch is not None

    def describe(self) -> dict:
        """The common description, plus which path scores columns and, for the record path,
        the construct that keeps the document there."""
        out = super().describe()
        out["scoring_path"] = "columns" if self._batch is not None else "records"
        if self._batch is None:
            out["record_path_reason"] = self.batch_path_reason
        return out

    def action(self, value: Any) -> Any:
        """One input value (a dict for a record) -> the engine's output value.

        map: the output; emit: the list of emitted values; fold: the updated tally.
        Runtime errors raise PFARuntimeError (``.code`` is the specification's error code)."""
        out = self.engine.action(self._in(value))
        conv = self._out
        if conv is None:
            return out
        if self.engine.method == "emit":
            return [conv(v) for v in out]
        return conv(out)

    def end(self) -> None:
        """Run the document's ``end`` routine."""
        self.engine.end()

    def merge(self, tally_one: Any, tally_two: Any) -> Any:
        """Fold engines: combine two tallies with the ``merge`` routine."""
        out = self.engine.merge(self._in_output(tally_one), self._in_output(tally_two))
        return self._out(out) if self._out is not None else out

    def _in_output(self, v: Any) -> Any:
        return input_converter(self.engine.output_type, "tally")(v)

    @property
    def tally(self) -> Any:
        return self.engine.tally

    def cell(self, name: str) -> Any:
        """Current value of a cell."""
        return self.engine.rt.cells[name][0]

    def pool(self, name: str) -> dict:
        """Current contents of a pool (a copy)."""
        return dict(self.engine.rt.pools[name])

    def to_json(self, value: Any) -> Any:
        """An output value in Avro-JSON form (tagged unions, bytes as latin-1 strings)."""
        return to_json(self.engine.output_type, value)

    # -- the Model view
    def score_columns(self, columns: Mapping[str, np.ndarray], n: int) -> ScoredBatch:
        if self._text_fields:
            columns = convert_text(columns, self._text_fields)
        if self._batch is not None:
            done = self._batch.run(columns, n)
            if done is not None:
                out, bad = done
                if bad is None or not bad.any():
                    return ScoredBatch(out)
                return self._rescore(columns, out, np.flatnonzero(bad))
        return self._score_rows(columns, n)

    def _rescore(self, columns: Mapping[str, np.ndarray], out: dict[str, np.ndarray],
                 rows: np.ndarray) -> ScoredBatch:
        """The column path's outputs with the given rows scored by the record path (their
        outputs and errors, numbered in the whole batch)."""
        sub = {k: np.asarray(v)[rows] if hasattr(v, "__len__") and not isinstance(v, str) else v
               for k, v in columns.items()}
        part = self._score_rows(sub, len(rows))
        merged = {}
        for name, col in out.items():
            fix = part.columns[name]
            if fix.dtype != col.dtype:
                col = col.astype(object)
                fix = fix.astype(object)
            else:
                col = col.copy()
            col[rows] = fix
            merged[name] = col
        errors = {int(rows[i]): _renumber(e, int(rows[i])) for i, e in part.errors.items()}
        return ScoredBatch(merged, errors)

    def _rows(self, columns: Mapping[str, np.ndarray], n: int):
        if self.input_record:
            names = [f.name for f in self.inputs]
            missing = [nm for nm in names if nm not in columns]
            present = [(nm, columns[nm]) for nm in names if nm in columns]
            for i in range(n):
                yield {nm: c[i] for nm, c in present}, missing
        else:
            if "input" not in columns:
                for i in range(n):
                    yield None, ["input"]
                return
            c = columns["input"]
            for i in range(n):
                yield c[i], []

    def _score_rows(self, columns: Mapping[str, np.ndarray], n: int) -> ScoredBatch:
        results: list[Any] = [None] * n
        ok = np.zeros(n, dtype=bool)
        errors: dict[int, ScoringError] = {}
        for i, (row, missing) in enumerate(self._rows(columns, n)):
            try:
                if missing and not self._nullable_missing(missing):
                    raise MissingFieldError("field is absent from the input", field=missing[0])
                if missing and isinstance(row, dict):
                    for m in missing:
                        row[m] = None
                results[i] = self.action(row)
                ok[i] = True
            except PFARuntimeError as exc:
                errors[i] = exc.at_row(i)
            except ScoringError as exc:
                errors[i] = type(exc)(exc.reason, exc.field, i)
        return ScoredBatch(self._columns(results, ok), errors)

    def _nullable_missing(self, missing: list[str]) -> bool:
        if not self.input_record:
            return False
        rec = self.engine.input_type
        for m in missing:
            f = rec.field(m)
            if not (f.has_default or (f.type.kind == "union" and f.type.nullable)):
                return False
        return True

    def _columns(self, results: list, ok: np.ndarray) -> dict[str, np.ndarray]:
        n = len(results)
        if self.output_record:
            out = {}
            for f in self.engine.output_type.fields:
                out[f.name] = _column([r[f.name] if ok[i] else None for i, r in enumerate(results)],
                                      f.type, ok)
            return out
        if self.engine.method == "map":
            return {"output": _column(results, self.engine.output_type, ok)}
        col = np.empty(n, dtype=object)
        col[:] = [r if ok[i] else None for i, r in enumerate(results)]
        return {"output": col}


def _renumber(e: ScoringError, row: int) -> ScoringError:
    if isinstance(e, PFARuntimeError):
        return e.at_row(row)
    return type(e)(e.reason, e.field, row)


def _column(values: list, t: AvroType, ok: np.ndarray) -> np.ndarray:
    if t.kind in ("float", "double"):
        return np.array([v if v is not None else np.nan for v in values], dtype=np.float64)
    if t.kind in ("int", "long") and ok.all():
        return np.array(values, dtype=np.int64)
    if t.kind == "boolean" and ok.all():
        return np.array(values, dtype=bool)
    col = np.empty(len(values), dtype=object)
    col[:] = values
    return col


def load_pfa(payload: Any, *, limits: Limits | None = None, batch: bool = True,
             instance: int = 0, timeout: float | None = None) -> PFAModel:
    """Read, check and compile a PFA document; run its ``begin`` routine.

    payload: JSON/YAML text or bytes, a path, a file object, or a dict.
    limits: engine safety limits (defaults: see runtime.Limits).
    batch: allow the vectorised path for predict() when the action permits it.
    timeout: seconds one begin/action/end call may take (``math.inf``: no host limit); the
      document's ``timeout`` options may lower it. Default: runtime.DEFAULT_TIMEOUT_MS.
    """
    if timeout is not None:
        limits = replace(limits or Limits(), timeout_ms=timeout_ms(timeout))
    doc = read_document(payload)
    return PFAModel(Engine(doc, limits, instance), batch=batch)


def timeout_ms(seconds: float) -> int | None:
    """A timeout in seconds (a positive number, or math.inf for none) as whole milliseconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {seconds!r}")
    if math.isinf(seconds):
        return None
    return max(1, int(math.ceil(seconds * 1000)))
