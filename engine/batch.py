"""Batch file scoring: stream CSV / Parquet / JSON Lines through a model in chunks.

Memory stays bounded (one chunk per worker in flight, plus a small window of finished chunks
waiting for their turn), row order is kept, and the output appears atomically: it is written to a
temporary file beside the target and renamed only when every input row has been accounted for.
"""
from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .columns import Columns, is_text
from .errors import MissingFieldError, PortmodelError, ScoringError
from .model import Model

FORMATS = ("csv", "parquet", "jsonl")
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
             ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
_COMPRESSION = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
#: prefix of a kept input column whose name is also an output's
KEPT_PREFIX = "input:"
_MAX_COLUMNS = 10_000   # CSV columns read as text (any beyond get pyarrow's type inference)
NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL"]


class BatchError(PortmodelError):
    """A batch run cannot go on: bad options, unreadable input, missing columns, rejected row."""


@dataclass
class Summary:
    """What a batch run did with every input row."""

    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    output: str | None = None
    errors: list[str] = field(default_factory=list)   # first few rejection reasons

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        return (f"read {self.rows_read} rows, scored {self.rows_scored}, rejected "
                f"{self.rows_rejected} in {self.seconds:.2f} s ({self.rows_per_second:,.0f} rows/s)")


def detect_format(path: str, given: str | None) -> tuple[str, str | None]:
    """(format, compression) from an explicit format or the file's suffixes."""
    if given:
        if given not in FORMATS:
            raise BatchError(f"unknown format {given!r}; use one of {', '.join(FORMATS)}")
        comp = _COMPRESSION.get(os.path.splitext(path)[1].lower()) if path != "-" else None
        return given, comp
    if path == "-":
        return "csv", None
    base, ext = os.path.splitext(path.lower())
    comp = _COMPRESSION.get(ext)
    if comp:
        ext = os.path.splitext(base)[1]
    fmt = _SUFFIXES.get(ext)
    if fmt is None:
        raise BatchError(f"cannot tell the format of {path!r} from its suffix; "
                         f"name it .csv/.parquet/.jsonl or pass a format option")
    return fmt, comp


# ---------------------------------------------------------------------- readers

def _open_input(path: str, compression: str | None):
    if path == "-":
        stream = pa.PythonFile(sys.stdin.buffer, mode="r")
        return pa.CompressedInputStream(stream, compression) if compression else stream
    if not os.path.exists(path):
        raise BatchError(f"input file {path!r} does not exist")
    if not os.access(path, os.R_OK):
        raise BatchError(f"input file {path!r} is not readable")
    return pa.input_stream(path, compression=compression)


def read_batches(path: str, fmt: str, compression: str | None, chunk_rows: int,
                 csv_options: dict | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches of about chunk_rows rows; every column as read (CSV: strings)."""
    opts = csv_options or {}
    if fmt == "parquet":
        import pyarrow.parquet as pq
        if path == "-":
            raise BatchError("Parquet cannot be read from standard input")
        if not os.path.exists(path):
            raise BatchError(f"input file {path!r} does not exist")
        yield from pq.ParquetFile(path).iter_batches(batch_size=chunk_rows)
        return
    stream = _open_input(path, compression)
    if fmt == "jsonl":
        yield from _jsonl_batches(stream, chunk_rows)
        return
    header = opts.get("header", True)
    # Every column as text: the model's own field types decide how each value is parsed (so
    # "007" stays "007" for a string field). pyarrow types columns by name only, so the reader
    # names them f0, f1, ... and the header arrives as the first row, which renames them.
    # Small blocks: pyarrow's peak memory grows with the block size (about 50x for all-text
    # columns), while chunks of chunk_rows are assembled from the blocks below anyway.
    read = pacsv.ReadOptions(block_size=1 << 20,
                             encoding=opts.get("encoding", "utf8"),
                             autogenerate_column_names=True)
    parse = pacsv.ParseOptions(delimiter=opts.get("delimiter", ","),
                               quote_char=opts.get("quotechar", '"') or False)
    reader = pacsv.open_csv(stream, read_options=read, parse_options=parse,
                            convert_options=pacsv.ConvertOptions(
                                null_values=NULLS, strings_can_be_null=True,
                                column_types={f"f{i}": pa.string() for i in range(_MAX_COLUMNS)}))
    pending: list[pa.RecordBatch] = []
    count = 0
    names: list[str] | None = None
    for batch in reader:
        if names is None:
            names = batch.schema.names
            if header:
                names = ["" if v is None else v for v in batch.slice(0, 1).to_pylist()[0].values()]
                batch = batch.slice(1)
        batch = pa.RecordBatch.from_arrays(batch.columns, names=names)
        pending.append(batch)
        count += batch.num_rows
        if count >= chunk_rows:
            table = pa.Table.from_batches(pending)
            for b in table.to_batches(max_chunksize=chunk_rows):
                yield b
            pending, count = [], 0
    if pending:
        yield from pa.Table.from_batches(pending).to_batches(max_chunksize=chunk_rows)


def _jsonl_batches(stream, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    buf: list[dict] = []
    line_no = 0
    for raw in io.TextIOWrapper(stream, encoding="utf-8"):
        line_no += 1
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BatchError(f"line {line_no}: not valid JSON ({exc.msg})") from None
        if not isinstance(rec, dict):
            raise BatchError(f"line {line_no}: a JSON Lines record must be an object")
        buf.append(rec)
        if len(buf) >= chunk_rows:
            yield _records_batch(buf)
            buf = []
    if buf:
        yield _records_batch(buf)


def _records_batch(records: list[dict]) -> pa.RecordBatch:
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))
    arrays = []
    for n in names:
        vals = [r.get(n) for r in records]
        try:
            arrays.append(pa.array(vals))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in vals], pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


# ---------------------------------------------------------------------- scoring one chunk

def _numeric_fields(model: Model) -> set[str]:
    return {f.name for f in model.inputs if f.data_type in ("double", "float", "integer")}


def batch_to_columns(batch: pa.RecordBatch, numeric: set[str]) -> Columns:
    """Arrow columns -> numpy: numeric fields parsed in C++ when every value parses; text
    keeps its Arrow array alongside (models look categories up there)."""
    cols = Columns()
    for name, arr in zip(batch.schema.names, batch.columns):
        if name in numeric and pa.types.is_string(arr.type):
            try:
                arr = pc.cast(arr, pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                try:   # surrounding blanks are allowed; trimming costs, so only when needed
                    arr = pc.cast(pc.utf8_trim_whitespace(arr), pa.float64())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass  # leave as text: the model reports the unparsable values row by row
        if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type):
            cols[name] = arr.to_numpy(zero_copy_only=False).astype(float, copy=False) \
                if arr.null_count == 0 else pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy()
        elif is_text(arr):
            cols.add_text(name, arr)
        else:
            cols[name] = np.asarray(arr.to_pylist(), dtype=object)
    return cols


def score_batch(model: Model, batch: pa.RecordBatch, offset: int, keep: list[str],
                on_error: str) -> tuple[pa.Table, int, int, list[str]]:
    """Score one chunk -> (output table, rows scored, rows rejected, first reasons)."""
    n = batch.num_rows
    cols = batch_to_columns(batch, _numeric_fields(model))
    result = model.score_columns(cols, n)
    rejected = sorted(result.errors)
    reasons = []
    if rejected:
        reasons = [str(_located(result.errors[i], offset)) for i in rejected[:5]]
        if on_error == "fail":
            first = result.errors[rejected[0]]
            row = offset + rejected[0]
            raise BatchError(f"row {row + 1} of the input (data row, 1-based) was rejected: "
                             f"{first.reason if isinstance(first, ScoringError) else first}"
                             + (f" (field {first.field!r})" if getattr(first, 'field', None) else ""))
    out: dict[str, Any] = {}
    taken = set(result.columns) | ({"error"} if on_error == "record" else set())
    for k in keep:   # a kept column named like an output is renamed, not overwritten
        out[KEPT_PREFIX + k if k in taken else k] = batch.column(batch.schema.get_field_index(k))
    types = _output_types(model)
    for name, arr in result.columns.items():
        out[name] = _to_arrow(arr, types.get(name))
    if on_error == "record":
        err = np.full(n, None, dtype=object)
        for i in rejected:
            err[i] = str(_located(result.errors[i], offset))
        out["error"] = pa.array(err.tolist(), pa.string())
    table = pa.table(out)
    if rejected and on_error == "skip":
        mask = np.ones(n, bool)
        mask[rejected] = False
        table = table.filter(pa.array(mask))
    return table, n - len(rejected), len(rejected), reasons


def _located(e: Exception, offset: int) -> Exception:
    """The error with its row counted from the start of the input, not of the chunk."""
    if isinstance(e, ScoringError) and e.row is not None and offset:
        return type(e)(e.reason, field=e.field, row=e.row + offset)
    return e


_ARROW_TYPES = {"double": pa.float64(), "float": pa.float64(), "integer": pa.int64(),
                "boolean": pa.bool_(), "string": pa.string()}


def _output_types(model: Model) -> dict[str, pa.DataType]:
    return {f.name: _ARROW_TYPES.get(f.data_type, pa.string()) for f in model.outputs}


def _to_arrow(arr: np.ndarray, typ: pa.DataType | None = None) -> pa.Array:
    """A result column as Arrow, in the output field's declared type when it is known."""
    out = _to_arrow_inferred(arr)
    if typ is not None and out.type != typ:
        try:
            return out.cast(typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if typ == pa.string():
                return pa.array([None if v is None else str(v) for v in out.to_pylist()], pa.string())
            raise
    return out


def _to_arrow_inferred(arr: np.ndarray) -> pa.Array:
    if arr.dtype == object:
        vals = arr.tolist()
        kinds = {type(v) for v in vals if v is not None}
        if kinds <= {int} and kinds:
            return pa.array(vals, pa.int64())
        if kinds <= {bool} and kinds:
            return pa.array(vals, pa.bool_())
        if kinds <= {float, int} and kinds:
            return pa.array([None if v is None else float(v) for v in vals], pa.float64())
        if kinds and not kinds <= {str}:
            vals = [None if v is None else (json.dumps(v) if isinstance(v, (list, dict)) else str(v))
                    for v in vals]
        return pa.array(vals, pa.string())
    if arr.dtype.kind == "f":
        return pa.array(arr, mask=np.isnan(arr))
    return pa.array(arr)


# ---------------------------------------------------------------------- workers

_WORKER_MODEL: Model | None = None


def _worker_init(source: bytes) -> None:
    global _WORKER_MODEL
    import warnings

    from . import load
    from .errors import PortmodelWarning
    with warnings.catch_warnings():   # the parent process loaded it first and warned once
        warnings.simplefilter("ignore", PortmodelWarning)
        _WORKER_MODEL = load(source)


def _worker_score(batch: pa.RecordBatch, offset: int, keep: list[str], on_error: str):
    assert _WORKER_MODEL is not None
    return score_batch(_WORKER_MODEL, batch, offset, keep, on_error)


# ---------------------------------------------------------------------- writers

class _Writer:
    def __init__(self, path: str, fmt: str, csv_options: dict):
        self.path, self.fmt, self.opts = path, fmt, csv_options
        self.tmp: str | None = None
        self._w = None
        if path == "-":
            if fmt == "parquet":
                raise BatchError("Parquet cannot be written to standard output")
            self.sink = sys.stdout.buffer
        else:
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise BatchError(f"output folder {folder!r} does not exist")
            fd, self.tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                            suffix=".partial", dir=folder)
            os.close(fd)
            self.sink = open(self.tmp, "wb")

    def write(self, table: pa.Table) -> None:
        if self.fmt == "jsonl":
            for rec in table.to_pylist():
                self.sink.write((json.dumps(rec, allow_nan=False, default=str) + "\n").encode())
            return
        if self._w is not None and table.schema != self.schema:
            table = table.cast(self.schema)
        if self._w is None:
            self.schema = table.schema
            if self.fmt == "parquet":
                import pyarrow.parquet as pq
                self._w = pq.ParquetWriter(self.sink, table.schema)
            else:
                self._w = pacsv.CSVWriter(self.sink, table.schema, write_options=pacsv.WriteOptions(
                    delimiter=self.opts.get("delimiter", ","),
                    include_header=self.opts.get("header", True)))
        self._w.write_table(table)

    def commit(self) -> None:
        if self._w is not None:
            self._w.close()
        if self.tmp is not None:
            self.sink.close()
            os.replace(self.tmp, self.path)
            self.tmp = None
        else:
            self.sink.flush()

    def abort(self) -> None:
        try:
            if self._w is not None:
                self._w.close()
        except Exception:  # noqa: BLE001 - already failing; the temp file goes anyway
            pass
        if self.tmp is not None:
            try:
                self.sink.close()
            finally:
                if os.path.exists(self.tmp):
                    os.unlink(self.tmp)
                self.tmp = None


# ---------------------------------------------------------------------- driver

def score_file(model: Any, input: str, output: str, *, input_format: str | None = None,
               output_format: str | None = None, chunk_rows: int = 50_000, jobs: int | None = None,
               keep: list[str] | None = None, keep_all: bool = False, on_error: str = "fail",
               delimiter: str = ",", header: bool = True, quotechar: str = '"',
               encoding: str = "utf8", progress: bool | None = None) -> Summary:
    """Score every row of an input file into an output file; return what happened to the rows.

    model: a loaded Model, or a document path/bytes (needed as bytes for --jobs > 1 anyway).
    jobs: worker processes; None or 0 means one per CPU (a one-chunk input is scored in-process).
    on_error: "fail" stops at the first rejected row (no output file appears); "skip" drops
    rejected rows; "record" keeps them with empty predictions and an ``error`` column.
    """
    from . import load
    if on_error not in ("fail", "skip", "record"):
        raise BatchError("on_error must be fail, skip or record")
    if chunk_rows < 1:
        raise BatchError("chunk_rows must be positive")
    source = model if isinstance(model, (bytes, str, os.PathLike)) else getattr(model, "source", None)
    if not isinstance(model, Model):
        if isinstance(model, (str, os.PathLike)) and not os.path.exists(model):
            raise BatchError(f"model file {os.fspath(model)!r} does not exist")
        if isinstance(model, (str, os.PathLike)):
            with open(model, "rb") as fh:
                source = fh.read()
        model = load(source)
    jobs = jobs or os.cpu_count() or 1
    in_fmt, in_comp = detect_format(input, input_format)
    out_fmt, _ = detect_format(output, output_format)
    csv_opts = {"delimiter": delimiter, "header": header, "quotechar": quotechar, "encoding": encoding}
    summary = Summary(output=output)
    start = time.perf_counter()
    batches = read_batches(input, in_fmt, in_comp, chunk_rows, csv_opts)
    try:
        first = next(batches, None)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BatchError(f"cannot read {input!r}: {exc}") from None
    names = first.schema.names if first is not None else []
    required = [f.name for f in model.inputs]
    absent = [r for r in required if r not in names]
    if first is not None and absent:
        raise MissingFieldError("input lacks column(s) the model needs: "
                                + ", ".join(repr(a) for a in absent), field=absent[0])
    keep_cols = list(names) if keep_all else list(keep or [])
    unknown = [k for k in keep_cols if k not in names]
    if first is not None and unknown:
        raise BatchError("cannot keep column(s) absent from the input: " + ", ".join(unknown))
    writer = _Writer(output, out_fmt, csv_opts)
    bar = _progress(progress)
    try:
        second = next(batches, None) if first is not None else None

        def chunks():
            if first is not None:
                yield first
            if second is not None:
                yield second
                yield from batches

        # workers pay for starting and compiling the model: only worth it beyond one chunk
        if jobs > 1 and source is not None and second is not None:
            results = _parallel(chunks(), source, jobs, keep_cols, on_error)
        else:
            results = _serial(chunks(), model, keep_cols, on_error)
        for table, scored, rejected, reasons, n in results:
            writer.write(table)
            summary.rows_read += n
            summary.rows_scored += scored
            summary.rows_rejected += rejected
            if len(summary.errors) < 5:
                summary.errors.extend(reasons[: 5 - len(summary.errors)])
            if bar is not None:
                bar.update(n)
        if summary.rows_read == 0 and first is None and out_fmt != "jsonl":
            writer.write(pa.table({}))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _serial(chunks, model, keep, on_error):
    offset = 0
    for batch in chunks:
        table, scored, rejected, reasons = score_batch(model, batch, offset, keep, on_error)
        yield table, scored, rejected, reasons, batch.num_rows
        offset += batch.num_rows


def _parallel(chunks, source, jobs, keep, on_error):
    """Score chunks in worker processes; yield results in input order with a bounded window."""
    import multiprocessing as mp
    from collections import deque
    ctx = mp.get_context("forkserver" if sys.platform != "win32" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                             initargs=(bytes(source) if not isinstance(source, bytes) else source,)
                             ) as pool:
        window: deque = deque()
        offset = 0
        try:
            for batch in chunks:
                window.append((pool.submit(_worker_score, batch, offset, keep, on_error),
                               batch.num_rows))
                offset += batch.num_rows
                while len(window) >= 2 * jobs:
                    fut, n = window.popleft()
                    yield (*fut.result(), n)
            while window:
                fut, n = window.popleft()
                yield (*fut.result(), n)
        except BaseException:
            for fut, _ in window:
                fut.cancel()
            raise


def _progress(enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(unit=" rows", unit_scale=True, file=sys.stderr, dynamic_ncols=True)
