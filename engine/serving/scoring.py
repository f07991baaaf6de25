"""Scoring request bodies through a model: one JSON record, a JSON list of records, or CSV.

These functions know nothing about HTTP routes; they return ``(status, body)`` so the model
API, the Openscoring paths and the routing endpoints share them. A record the model rejects is a
422 naming the field and the reason; in a list, a rejected record carries its error and the
others are still scored.
"""
from __future__ import annotations

import io
from itertools import repeat
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from ..batch import _MAX_COLUMNS, NULLS, score_batch
from ..errors import PortmodelError, ScoringError
from ..model import Model, _to_python


class BadRequest(ValueError):
    """The body cannot be read (malformed JSON or CSV, wrong shape): the service answers 400."""


# ---------------------------------------------------------------------- JSON

def parse_json(body: bytes) -> Any:
    """Parse a JSON body (BadRequest when malformed)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None


def dumps(obj: Any) -> bytes:
    """JSON bytes (numpy scalars and arrays allowed; NaN becomes null)."""
    return orjson.dumps(obj, default=_default,
                        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def _default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return str(obj)


def error_body(exc: BaseException) -> dict:
    """{"error": message, "field": ..., "reason": ..., "row": ...} for a rejected record."""
    body: dict[str, Any] = {"error": " ".join(str(exc).split()) or type(exc).__name__}
    if isinstance(exc, ScoringError):
        body["field"] = exc.field
        body["reason"] = exc.reason
        if exc.row is not None:
            body["row"] = exc.row
    return body


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and all(map(isinstance, value, repeat(str)))


_NESTED = (list, dict)


def _scalar_record(record: dict) -> bool:
    return not any(map(isinstance, record.values(), repeat(_NESTED)))


def score_record(model: Model, record: dict) -> dict:
    """One record -> its outputs; raises the record's ScoringError (or another PortmodelError)."""
    if _scalar_record(record):
        # a dict whose values are all scalars is one record (lists would mean columns)
        return model.predict(record)
    return score_records(model, [record])[0]   # nested values (PFA arrays, maps): the list path


def score_records(model: Model, records: Sequence[Any]) -> list[dict | BaseException]:
    """Each record -> its outputs, or the exception that rejected it (others still scored)."""
    results: list[dict | BaseException] = [BadRequest("a record must be a JSON object")
                                           if not _is_record(r) else {} for r in records]
    rows = [i for i, r in enumerate(records) if _is_record(r)]
    if not rows:
        return results
    names: dict[str, None] = {}
    for i in rows:
        names.update(dict.fromkeys(records[i]))
    cols = {}
    for name in names:
        arr = np.empty(len(rows), dtype=object)
        arr[:] = [records[i].get(name) for i in rows]
        cols[name] = arr
    try:
        batch = model.score_columns(cols, len(rows))
    except (PortmodelError, TypeError, ValueError) as exc:
        # the batch as a whole failed (e.g. a required field absent from every record): score
        # record by record so each one gets its own answer
        if len(rows) == 1:
            results[rows[0]] = exc
            return results
        for i in rows:
            results[i] = score_records(model, [records[i]])[0]
        return results
    out = batch.columns
    keys = list(out)
    for j, i in enumerate(rows):
        err = batch.errors.get(j)
        if err is not None:
            if isinstance(err, ScoringError) and err.row is not None:
                err = type(err)(err.reason, field=err.field, row=i)
            results[i] = err
        else:
            results[i] = {k: _to_python(out[k][j]) for k in keys}
    return results


def score_json(model: Model, payload: Any, name: str | None = None,
               version: int | None = None) -> tuple[int, Any]:
    """A parsed JSON body -> (status, body).

    An object: one record -> 200 {"model", "version", "outputs"} or 422 {"error", "field",
    "reason"}. A list: 200 and one element per record, {"model", "version", "outputs"} or
    {"model", "version", "error": {...}}. Anything else: BadRequest.
    """
    stamp = {} if name is None else {"model": name, "version": version}
    if isinstance(payload, dict):
        if not _is_record(payload):
            raise BadRequest("a record must be a JSON object with field names as keys")
        try:
            outputs = score_record(model, payload)
        except BadRequest:
            raise
        except (PortmodelError, TypeError, ValueError) as exc:
            return 422, {**stamp, **error_body(exc)}
        return 200, {**stamp, "outputs": outputs}
    if isinstance(payload, list):
        body = []
        for result in score_records(model, payload):
            if isinstance(result, BaseException):
                body.append({**stamp, "error": error_body(result)})
            else:
                body.append({**stamp, "outputs": result})
        return 200, body
    raise BadRequest("the body must be one JSON object (a record) or a list of records")


# ---------------------------------------------------------------------- CSV

def id_columns(names: Sequence[str], requested: Sequence[str] = ()) -> list[str]:
    """Input columns carried through to the output: the requested ones, else a column named
    ``id`` (any letter case)."""
    if requested:
        missing = [c for c in requested if c not in names]
        if missing:
            raise BadRequest(f"id column(s) {', '.join(missing)} not in the CSV header")
        return list(requested)
    return [c for c in names if c.lower() == "id"][:1]


def read_csv(data: bytes, delimiter: str = ",", quotechar: str = '"') -> pa.RecordBatch:
    """CSV bytes with a header -> one record batch, every column as text (the model's field
    types decide how values are parsed, as in ``portmodel score``). BadRequest if malformed."""
    if len(delimiter) != 1 or (quotechar and len(quotechar) != 1):
        raise BadRequest("the CSV delimiter and quote character must be one character each")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=quotechar or False),
            convert_options=pacsv.ConvertOptions(
                null_values=NULLS, strings_can_be_null=True,
                column_types={f"f{i}": pa.string() for i in range(_MAX_COLUMNS)}))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed CSV: {' '.join(str(exc).split())}") from None
    if table.num_rows == 0:
        raise BadRequest("the CSV body has no header line")
    header = ["" if v is None else v for v in table.slice(0, 1).to_pylist()[0].values()]
    if len(set(header)) != len(header):
        raise BadRequest("the CSV header repeats a column name")
    table = table.slice(1).rename_columns(header)
    batches = table.combine_chunks().to_batches()
    if not batches:
        return pa.RecordBatch.from_arrays([pa.array([], pa.string()) for _ in header],
                                          names=header)
    return batches[0]


def score_csv_table(model: Model, data: bytes, delimiter: str = ",", quotechar: str = '"',
                    ids: Sequence[str] = ()) -> tuple[int, Any]:
    """A CSV body -> (200, output table) with the id column(s) first, the outputs, and (when a
    row was rejected) an ``error`` column with the reason, empty for the rows scored; (422, error
    body) when the CSV as a whole cannot be scored (a required column is absent)."""
    batch = read_csv(data, delimiter, quotechar)
    keep = id_columns(batch.schema.names, ids)
    try:
        table, _scored, _rejected, _reasons = score_batch(model, batch, 0, keep, "record")
    except (PortmodelError, TypeError, ValueError) as exc:
        return 422, error_body(exc)
    if not _rejected:
        table = table.drop_columns(["error"])
    return 200, table


def csv_text(table: pa.Table, delimiter: str = ",") -> str:
    """An output table as CSV text (values quoted only where needed)."""
    out = io.BytesIO()
    pacsv.write_csv(table, out, write_options=pacsv.WriteOptions(
        delimiter=delimiter, quoting_style="needed"))
    return out.getvalue().decode("utf-8")


def score_csv(model: Model, data: bytes, delimiter: str = ",", quotechar: str = '"',
              ids: Sequence[str] = ()) -> tuple[int, Any]:
    """A CSV body -> (200, CSV text) (see ``score_csv_table``) or (422, error body)."""
    status, out = score_csv_table(model, data, delimiter, quotechar, ids)
    if status != 200:
        return status, out
    return 200, csv_text(out, delimiter)


# ---------------------------------------------------------------------- one request body

@dataclass
class CsvOptions:
    """The CSV dialect and id columns of a text/csv request (``?delimiter=``, ``?quote=``,
    ``?id=``)."""

    delimiter: str = ","
    quotechar: str = '"'
    ids: tuple[str, ...] = ()


@dataclass
class Scored:
    """A scored request body: ``kind`` "json" (``body`` the JSON answer) or "csv" (``body`` the
    output table when ``status`` is 200, else the error body)."""

    kind: str
    status: int
    body: Any
    csv: CsvOptions | None = None

    def predictions(self, field: str | None) -> list[tuple[bool, Any]]:
        """[(scored, prediction)] per record, in order."""
        if self.kind == "csv":
            if self.status != 200:
                return []
            n = self.body.num_rows
            errors = (self.body.column("error").to_pylist() if "error" in
                      self.body.column_names else [None] * n)
            preds = (self.body.column(field).to_pylist()
                     if field and field in self.body.column_names else [None] * n)
            return [(not e, p if not e else None) for e, p in zip(errors, preds)]
        items = self.body if isinstance(self.body, list) else [self.body]
        out = []
        for item in items:
            outputs = item.get("outputs") if isinstance(item, dict) else None
            if isinstance(outputs, dict):
                out.append((True, outputs.get(field) if field else None))
            else:
                out.append((False, None))
        return out

    def content(self) -> tuple[bytes, str]:
        """(body bytes, media type) of the answer."""
        if self.kind == "csv" and self.status == 200:
            delimiter = self.csv.delimiter if self.csv else ","
            return csv_text(self.body, delimiter).encode("utf-8"), "text/csv"
        return dumps(self.body), "application/json"


def score_payload(model: Model, kind: str, payload: Any, name: str | None = None,
                  version: int | None = None, csv: CsvOptions | None = None) -> Scored:
    """Score one request body: ``kind`` "json" with the parsed JSON, or "csv" with the bytes.
    BadRequest when the body cannot be read."""
    if kind == "csv":
        opts = csv or CsvOptions()
        status, out = score_csv_table(model, payload, opts.delimiter, opts.quotechar, opts.ids)
        return Scored("csv", status, out, opts)
    status, out = score_json(model, payload, name, version)
    return Scored("json", status, out)
