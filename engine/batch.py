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
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import storage
from .columns import Columns, is_text
from .errors import MissingFieldError, PortmodelError, ScoringError
from .model import Model
from .output import OutputFile, same_file

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

@dataclass
class Chunk:
    """Rows of the input as read, plus the rows that could not be read as rows at all (wrong
    number of fields, invalid text): chunk-relative index -> the error. Such a row is all
    missing in ``batch`` and is rejected whatever the model would make of it."""

    batch: pa.RecordBatch
    unreadable: dict[int, str] = field(default_factory=dict)   # plain text: chunks are pickled

    @property
    def num_rows(self) -> int:
        return self.batch.num_rows


class _Source:
    """An open input and how far through it the reader is (for a progress estimate)."""

    def __init__(self, path: str, compression: str | None):
        self.path = path
        self.size: int | None = None
        if path == "-":
            self.raw = pa.PythonFile(sys.stdin.buffer, mode="r")
        elif storage.is_remote(path):      # s3://, gs://, abfs://, https:// (storage.py)
            self.raw = storage.open_input_stream(path)
            self.size = storage.size(path)
        else:
            if not os.path.exists(path):
                raise BatchError(f"input file {path!r} does not exist")
            if not os.access(path, os.R_OK):
                raise BatchError(f"input file {path!r} is not readable")
            if os.path.isdir(path):
                raise BatchError(f"input {path!r} is a folder")
            self.raw = pa.OSFile(path, "rb")
            try:
                self.size = os.fstat(self.raw.fileno()).st_size or None
            except (OSError, AttributeError, pa.ArrowException):
                self.size = None
        self.stream = pa.CompressedInputStream(self.raw, compression) if compression else self.raw

    def fraction(self, behind: int = 0) -> float | None:
        """How much of the input has been read, 0..1, when its size is known; ``behind``: bytes
        the reader may have read ahead (None until more than that has been read)."""
        if not self.size:
            return None
        try:
            pos = self.raw.tell() - behind
        except (OSError, pa.ArrowException):
            return None
        return min(pos / self.size, 1.0) if pos > 0 else None


def read_batches(path: str, fmt: str, compression: str | None, chunk_rows: int,
                 csv_options: dict | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches of about chunk_rows rows; every column as read (CSV: strings)."""
    for chunk in read_chunks(path, fmt, compression, chunk_rows, csv_options):
        yield chunk.batch


def read_chunks(path: str, fmt: str, compression: str | None, chunk_rows: int,
                csv_options: dict | None = None, source: _Source | None = None
                ) -> Iterator[Chunk]:
    """Chunks of chunk_rows rows (the last one shorter). The first chunk always comes, with
    the input's column names, even if it has no rows. Problems reading the input raise
    BatchError naming the file and how far it got."""
    done = 0
    try:
        for chunk in _chunks(path, fmt, compression, chunk_rows, csv_options or {}, source):
            done += chunk.num_rows
            yield chunk
    except (pa.ArrowException, OSError, EOFError, UnicodeError, ValueError) as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        where = f" (after row {done})" if done else ""
        raise BatchError(f"cannot read {path if path != '-' else 'standard input'!r}{where}: "
                         f"{_reading_problem(exc)}") from None


def _reading_problem(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if "straddling" in text or "block size" in text:
        return (f"a row is longer than the read block ({_BLOCK_SIZE >> 20} MiB); such long rows "
                "are not supported")
    if isinstance(exc, UnicodeError) or "UTF8" in text or "UTF-8" in text:
        return f"the text is not valid UTF-8 ({text})"
    if isinstance(exc, EOFError) or "truncated" in text.lower() or "unexpected end" in text.lower():
        return f"the input ends in the middle ({text})"
    return text or type(exc).__name__


_BLOCK_SIZE = 1 << 20


def _chunks(path: str, fmt: str, compression: str | None, chunk_rows: int, opts: dict,
            source: _Source | None) -> Iterator[Chunk]:
    if fmt == "parquet":
        import pyarrow.parquet as pq
        if path == "-":
            raise BatchError("Parquet cannot be read from standard input")
        if storage.is_remote(path):
            pf = pq.ParquetFile(storage.open_input_file(path))
        elif not os.path.exists(path):
            raise BatchError(f"input file {path!r} does not exist")
        else:
            pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        _check_unique(names, path)
        empty = True
        for b in pf.iter_batches(batch_size=chunk_rows):
            empty = False
            yield Chunk(b)
        if empty:
            yield Chunk(pa.RecordBatch.from_pylist([], schema=pf.schema_arrow))
        return
    source = source or _Source(path, compression)
    if fmt == "jsonl":
        yield from _jsonl_chunks(source.stream, chunk_rows)
    else:
        yield from _csv_chunks(source.stream, path, chunk_rows, opts)


def _check_unique(names: list[str], path: str) -> None:
    """Refuse two columns of one name: which one a model should read is not ours to guess."""
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen:
            raise BatchError(f"input {path!r} has two columns named {n!r} (columns {seen[n] + 1} "
                             f"and {i + 1}); rename one")
        seen[n] = i


def _csv_chunks(stream, path: str, chunk_rows: int, opts: dict) -> Iterator[Chunk]:
    header = opts.get("header", True)
    # Rows with the wrong number of fields are set aside by pyarrow and reported here; their
    # number is the physical row in the file (header = 1), which needs the single-threaded
    # reader (the streaming reader parses one block at a time anyway).
    bad: list[tuple[int, ScoringError]] = []
    first_data = 2 if header else 1

    def set_aside(row) -> str:
        index = (row.number or 0) - first_data
        bad.append((index, ScoringError(
            f"has {row.actual_columns} field(s) where the header has {row.expected_columns}",
            row=index)))
        return "skip"

    # Every column as text: the model's own field types decide how each value is parsed (so
    # "007" stays "007" for a string field). pyarrow types columns by name only, so the reader
    # names them f0, f1, ... and the header arrives as the first row, which renames them.
    # Small blocks: pyarrow's peak memory grows with the block size (about 50x for all-text
    # columns), while chunks of chunk_rows are assembled from the blocks below anyway.
    read = pacsv.ReadOptions(block_size=_BLOCK_SIZE, use_threads=False,
                             encoding=opts.get("encoding", "utf8"),
                             autogenerate_column_names=True)
    parse = pacsv.ParseOptions(delimiter=opts.get("delimiter", ","),
                               quote_char=opts.get("quotechar", '"') or False,
                               invalid_row_handler=set_aside)
    try:
        reader = pacsv.open_csv(stream, read_options=read, parse_options=parse,
                                convert_options=pacsv.ConvertOptions(
                                    null_values=NULLS, strings_can_be_null=True,
                                    column_types={f"f{i}": pa.string() for i in range(_MAX_COLUMNS)}))
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise BatchError(f"input {path if path != '-' else 'standard input'!r} is empty "
                             "(not even a header)") from None
        raise
    names: list[str] | None = None
    good: list[pa.RecordBatch] = []
    n_good = 0
    base = 0          # input row index of the first pending row

    def take(m: int) -> Chunk:
        """The next m rows (good and unreadable, in input order) as a chunk."""
        nonlocal good, n_good, bad, base
        hits = [(i, e) for i, e in bad if i < base + m]
        bad = [(i, e) for i, e in bad if i >= base + m]
        g = m - len(hits)
        table = pa.Table.from_batches(good, schema=schema)
        rows, rest = table.slice(0, g), table.slice(g)
        good, n_good = rest.to_batches(), n_good - g
        unreadable = {}
        if hits:
            at = {i - base: e for i, e in hits}
            idx, j = [], 0
            for p in range(m):
                if p in at:
                    idx.append(None)
                else:
                    idx.append(j)
                    j += 1
            rows = rows.take(pa.array(idx, pa.int64()))
            unreadable = {p: e.reason for p, e in at.items()}
        batch = rows.combine_chunks().to_batches()
        batch = batch[0] if batch else pa.RecordBatch.from_pylist([], schema=schema)
        base += m
        return Chunk(batch, unreadable)

    schema = None
    for batch in reader:
        if names is None:
            names = batch.schema.names
            if header:
                names = ["" if v is None else v for v in batch.slice(0, 1).to_pylist()[0].values()]
                _check_unique(names, path)
                batch = batch.slice(1)
            schema = pa.schema([(n, batch.schema.field(i).type) for i, n in enumerate(names)])
        batch = pa.RecordBatch.from_arrays(batch.columns, schema=schema)
        good.append(batch)
        n_good += batch.num_rows
        while n_good + len(bad) >= chunk_rows:
            yield take(chunk_rows)
    if names is None:
        raise BatchError(f"input {path if path != '-' else 'standard input'!r} is empty "
                         "(not even a header)")
    if n_good + len(bad) or base == 0:
        yield take(n_good + len(bad))


def _jsonl_chunks(stream, chunk_rows: int) -> Iterator[Chunk]:
    buf: list[dict] = []
    unreadable: dict[int, str] = {}
    line_no = 0
    yielded = False
    for raw in io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape"):
        line_no += 1
        if not raw.strip():
            continue
        problem = None
        rec: Any = {}
        if not raw.isascii() and not _encodable(raw):
            problem = f"line {line_no} is not valid UTF-8"
        else:
            try:
                rec = json.loads(raw)
            except json.JSONDecodeError as exc:
                problem = f"line {line_no} is not valid JSON ({exc.msg})"
            else:
                if not isinstance(rec, dict):
                    problem = f"line {line_no} is not a JSON object"
                elif "\\u" in raw and not all(_encodable(v) for v in _strings(rec)):
                    problem = (f"line {line_no} holds text that is not valid Unicode (an "
                               "unpaired surrogate such as \\ud800)")
        if problem is not None:
            unreadable[len(buf)] = problem
            rec = {}
        buf.append(rec)
        if len(buf) >= chunk_rows:
            yield Chunk(_records_batch(buf), unreadable)
            buf, unreadable, yielded = [], {}, True
    if buf or not yielded:
        yield Chunk(_records_batch(buf), unreadable)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _records_batch(records: list[dict]) -> pa.RecordBatch:
    """JSON records -> columns. A column of numbers stays numeric, of booleans boolean; any
    mix (or nested values) becomes text, each value written as JSON would (``true``, ``1.5``),
    so a value is read the same whatever the other rows of its chunk hold."""
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))
    arrays = []
    for n in names:
        vals = [r.get(n) for r in records]
        kinds = {type(v) for v in vals if v is not None}
        arr = None
        if kinds and (kinds <= {int, float} or kinds == {bool} or kinds == {str}):
            try:
                arr = pa.array(vals)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                arr = None
        if arr is None:
            arr = pa.array([None if v is None else v if isinstance(v, str) else
                            json.dumps(v) for v in vals], pa.string())
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


# ---------------------------------------------------------------------- scoring one chunk

def _numeric_fields(model: Model) -> set[str]:
    return {f.name for f in model.inputs if f.data_type in ("double", "float", "integer")}


def batch_to_columns(batch: pa.RecordBatch, numeric: set[str]) -> Columns:
    """Arrow columns -> numpy: numeric fields parsed in C++ when every value parses; text
    keeps its Arrow array alongside (models look categories up there). A JSON boolean given
    for a numeric field stays the text ``true``/``false`` and is rejected as a number would be
    in any other chunk (booleans are not numbers)."""
    cols = Columns()
    for name, arr in zip(batch.schema.names, batch.columns):
        if name in numeric and pa.types.is_boolean(arr.type):
            arr = pc.if_else(arr, "true", "false")
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


def row_reason(e: BaseException, offset: int = 0) -> str:
    """A rejected row's reason as files number rows: from 1, header excluded, counted from the
    start of the input (``offset``: the chunk's first row)."""
    if isinstance(e, ScoringError):
        parts = []
        if e.row is not None:
            parts.append(f"row {offset + e.row + 1}")
        if e.field is not None:
            parts.append(f"field {e.field!r}")
        return f"{', '.join(parts)}: {e.reason}" if parts else e.reason
    return " ".join(str(e).split()) or type(e).__name__


def score_batch(model: Model, batch: pa.RecordBatch | Chunk, offset: int, keep: list[str],
                on_error: str) -> tuple[pa.Table, int, int, list[str]]:
    """Score one chunk -> (output table, rows scored, rows rejected, first reasons)."""
    chunk = batch if isinstance(batch, Chunk) else Chunk(batch)
    batch = chunk.batch
    n = batch.num_rows
    names = set(batch.schema.names)
    cols = batch_to_columns(batch, _numeric_fields(model))
    for f in model.inputs:      # JSON Lines: a chunk whose records all lack a field
        if f.name not in names:
            cols[f.name] = np.full(n, None, dtype=object)
    result = model.score_columns(cols, n)
    errors = dict(result.errors)
    errors.update({i: ScoringError(reason, row=i) for i, reason in chunk.unreadable.items()})
    rejected = sorted(errors)
    reasons = []
    if rejected:
        reasons = [row_reason(errors[i], offset) for i in rejected[:5]]
        if on_error == "fail":
            raise BatchError(f"{reasons[0]} (rows count from 1, header excluded; "
                             "--on-error skip or record scores the other rows)")
    out: dict[str, Any] = {}
    taken = set(result.columns) | ({"error"} if on_error == "record" else set())
    for k in keep:   # a kept column named like an output is renamed, not overwritten
        # a kept column absent from this chunk (JSON Lines) is missing in its rows
        out[KEPT_PREFIX + k if k in taken else k] = (
            batch.column(k) if k in names else pa.nulls(n, pa.string()))
    types = _output_types(model)
    dropped = None
    if rejected:
        dropped = np.zeros(n, bool)
        dropped[rejected] = True
    for name, arr in result.columns.items():
        col = _to_arrow(arr, types.get(name))
        if dropped is not None and chunk.unreadable:   # an unreadable row has no outputs
            col = pc.if_else(pa.array(dropped), pa.nulls(n, col.type), col)
        out[name] = col
    if on_error == "record":
        err = np.full(n, None, dtype=object)
        for i in rejected:
            err[i] = row_reason(errors[i], offset)
        out["error"] = pa.array(err.tolist(), pa.string())
    table = pa.table(out)
    if rejected and on_error == "skip":
        table = table.filter(pa.array(~dropped))
    return table, n - len(rejected), len(rejected), reasons


def empty_output(model: Model, keep: list[str], on_error: str) -> pa.Table:
    """The output of an input without rows: the header (kept columns, outputs, error)."""
    types = _output_types(model)
    taken = set(types) | ({"error"} if on_error == "record" else set())
    fields = [pa.field(KEPT_PREFIX + k if k in taken else k, pa.string()) for k in keep]
    fields += [pa.field(name, typ) for name, typ in types.items()]
    if on_error == "record":
        fields.append(pa.field("error", pa.string()))
    return pa.schema(fields).empty_table()


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


def _worker_init(source: bytes, run_pid: int | None = None,
                 options: dict | None = None) -> None:
    global _WORKER_MODEL
    import warnings

    from . import load
    from .errors import PortmodelWarning
    if run_pid is not None:
        from .workers import guard_worker
        guard_worker(run_pid)
    with warnings.catch_warnings():   # the parent process loaded it first and warned once
        warnings.simplefilter("ignore", PortmodelWarning)
        _WORKER_MODEL = load(source, **(options or {}))


def _worker_score(batch: pa.RecordBatch | Chunk, offset: int, keep: list[str], on_error: str):
    assert _WORKER_MODEL is not None
    return score_batch(_WORKER_MODEL, batch, offset, keep, on_error)


# ---------------------------------------------------------------------- writers

class _Writer:
    def __init__(self, path: str, fmt: str, compression: str | None, csv_options: dict,
                 kept: set[str] = frozenset()):
        self.fmt, self.opts, self.kept = fmt, csv_options, set(kept)
        self._w = None
        if fmt == "parquet" and path == "-":
            raise BatchError("Parquet cannot be written to standard output")
        if fmt == "parquet" and compression:
            raise BatchError(f"{path!r}: Parquet compresses its own columns; drop the "
                             f".{_COMPRESSION_SUFFIX[compression]} suffix")
        # a remote output: a multipart upload completed by commit (storage.py)
        self.file = storage.RemoteOutput(path, compression) if storage.is_remote(path) \
            else OutputFile(path, compression)

    def write(self, table: pa.Table) -> None:
        if self.fmt == "jsonl":
            lines = [json.dumps(rec, allow_nan=False, default=str) for rec in table.to_pylist()]
            if lines:
                self.file.write(("\n".join(lines) + "\n").encode("utf-8", "backslashreplace"))
            return
        if self.fmt == "csv":
            # kept columns as text (a CSV file holds nothing else), so that a kept JSON Lines
            # column whose values change type from one chunk to the next is written as it came
            table = _as_text(table, self.kept)
        if self._w is not None and table.schema != self.schema:
            try:
                table = table.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
                changed = [f.name for f in table.schema if self.schema.field(f.name).type != f.type] \
                    if table.schema.names == self.schema.names else table.schema.names
                raise BatchError("column(s) " + ", ".join(map(repr, changed)) + " change type "
                                 "between chunks, which a Parquet file cannot hold; write CSV "
                                 "or JSON Lines") from None
        if self._w is None:
            self.schema = table.schema
            if self.fmt == "parquet":
                import pyarrow.parquet as pq
                self._w = pq.ParquetWriter(self.file.sink, table.schema)
            else:
                self._w = pacsv.CSVWriter(self.file.sink, table.schema,
                                          write_options=pacsv.WriteOptions(
                                              delimiter=self.opts.get("delimiter", ","),
                                              include_header=self.opts.get("header", True)))
        self._w.write_table(table)

    def commit(self) -> None:
        if self._w is not None:
            self._w.close()
        self.file.commit()

    def abort(self) -> None:
        try:
            if self._w is not None:
                self._w.close()
        except Exception:  # noqa: BLE001 - already failing; the temp file goes anyway
            pass
        self.file.abort()


_COMPRESSION_SUFFIX = {"gzip": "gz", "zstd": "zst", "bz2": "bz2"}


def _as_text(table: pa.Table, names: set[str]) -> pa.Table:
    if not names:
        return table
    cols = [pc.cast(col, pa.string()) if name in names and not pa.types.is_string(col.type)
            else col for name, col in zip(table.column_names, table.columns)]
    return pa.table(cols, names=table.column_names)


# ---------------------------------------------------------------------- driver

def score_file(model: Any, input: str, output: str, *, input_format: str | None = None,
               output_format: str | None = None, chunk_rows: int = 50_000, jobs: int | None = None,
               keep: list[str] | None = None, keep_all: bool = False, on_error: str = "fail",
               delimiter: str | None = None, header: bool = True, quotechar: str = '"',
               encoding: str = "utf8", progress: bool | None = None,
               on_chunk: Callable[[Summary], None] | None = None,
               before_commit: Callable[[Summary], None] | None = None) -> Summary:
    """Score every row of an input file into an output file; return what happened to the rows.

    model: a loaded Model, or a document path/bytes (needed as bytes for --jobs > 1 anyway).
    jobs: worker processes; None or 0 means one per CPU (a one-chunk input is scored in-process).
    on_error: "fail" stops at the first rejected row (no output file appears); "skip" drops
    rejected rows; "record" keeps them with empty predictions and an ``error`` column.
    delimiter: CSV field separator (default: tab for a .tsv file, else a comma).
    Rows are numbered from 1, header excluded, in every message.
    on_chunk: called with the running summary after each chunk is written (a service's job
    reports its progress through it).
    before_commit: called once every row is written, just before the output appears; if it
    raises, the output is dropped (a cancelled service job must leave nothing behind).
    """
    from . import load
    if on_error not in ("fail", "skip", "record"):
        raise BatchError("on_error must be fail, skip or record")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise BatchError(f"rows per chunk must be a positive whole number, not {chunk_rows!r}")
    if jobs is not None and (not isinstance(jobs, int) or jobs < 0):
        raise BatchError(f"worker processes must be 0 (one per CPU) or more, not {jobs!r}")
    source = model if isinstance(model, (bytes, str, os.PathLike)) else getattr(model, "source", None)
    if isinstance(model, str) and storage.is_remote(model):
        model = source = storage.read_bytes(model)
    if not isinstance(model, Model):
        if isinstance(model, (str, os.PathLike)) and not os.path.exists(model):
            raise BatchError(f"model file {os.fspath(model)!r} does not exist")
        if isinstance(model, (str, os.PathLike)):
            with open(model, "rb") as fh:
                source = fh.read()
        model = load(source)
    input, output = os.fspath(input), os.fspath(output)
    jobs = jobs or os.cpu_count() or 1
    in_fmt, in_comp = detect_format(input, input_format)
    out_fmt, out_comp = detect_format(output, output_format)
    if same_file(input, output):
        raise BatchError(f"the output {output!r} is the input file; write it elsewhere")
    in_delim = out_delim = delimiter
    if delimiter is None:
        in_delim = "\t" if _is_tsv(input) else ","
        out_delim = "\t" if _is_tsv(output) else ","
    if len(in_delim) != 1:
        raise BatchError(f"the delimiter must be one character, not {in_delim!r}")
    in_opts = {"delimiter": in_delim, "header": header, "quotechar": quotechar, "encoding": encoding}
    out_opts = {"delimiter": out_delim, "header": header}
    summary = Summary(output=output)
    start = time.perf_counter()
    src = _Source(input, in_comp) if in_fmt != "parquet" else None
    chunks_in = read_chunks(input, in_fmt, in_comp, chunk_rows, in_opts, src)
    first = next(chunks_in)
    names = first.batch.schema.names
    required = [f.name for f in model.inputs]
    absent = [r for r in required if r not in names]
    if absent and (in_fmt != "jsonl" or first.num_rows):
        raise MissingFieldError("input lacks column(s) the model needs: "
                                + ", ".join(repr(a) for a in absent), field=absent[0])
    keep_cols = list(names) if keep_all else list(keep or [])
    unknown = [k for k in keep_cols if k not in names]
    if unknown and (in_fmt != "jsonl" or first.num_rows):
        raise BatchError("cannot keep column(s) absent from the input: " + ", ".join(unknown))
    taken = {f.name for f in model.outputs} | ({"error"} if on_error == "record" else set())
    writer = _Writer(output, out_fmt, out_comp, out_opts,
                     {KEPT_PREFIX + k if k in taken else k for k in keep_cols})
    bar = _progress(progress, input, in_fmt, src)
    try:
        second = next(chunks_in, None) if first.num_rows else None

        def chunks():
            if first.num_rows:
                yield first
            if second is not None:
                yield second
                yield from chunks_in

        # workers pay for starting and compiling the model: only worth it beyond one chunk
        if jobs > 1 and source is not None and second is not None:
            results = _parallel(chunks(), source, jobs, keep_cols, on_error,
                                getattr(model, "load_options", None))
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
                bar.advance(n)
            if on_chunk is not None:
                on_chunk(summary)
        if summary.rows_read == 0:
            writer.write(empty_output(model, keep_cols, on_error))
        if before_commit is not None:
            before_commit(summary)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _is_tsv(path: str) -> bool:
    base, ext = os.path.splitext(path.lower())
    if ext in _COMPRESSION:
        ext = os.path.splitext(base)[1]
    return ext == ".tsv"


def _serial(chunks, model, keep, on_error):
    offset = 0
    for chunk in chunks:
        table, scored, rejected, reasons = score_batch(model, chunk, offset, keep, on_error)
        yield table, scored, rejected, reasons, chunk.num_rows
        offset += chunk.num_rows


def _parallel(chunks, source, jobs, keep, on_error, options=None):
    """Score chunks in worker processes; yield results in input order with a bounded window.

    The workers exit by themselves if this process dies (see ``portmodel.workers``)."""
    import multiprocessing as mp
    from collections import deque
    ctx = mp.get_context("forkserver" if sys.platform != "win32" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                             initargs=(bytes(source) if not isinstance(source, bytes) else source,
                                       os.getpid(), options)) as pool:
        window: deque = deque()
        offset = 0
        try:
            for chunk in chunks:
                window.append((pool.submit(_worker_score, chunk, offset, keep, on_error),
                               chunk.num_rows, offset))
                offset += chunk.num_rows
                while len(window) >= 2 * jobs:
                    fut, n, at = window.popleft()
                    yield (*_result(fut, at), n)
            while window:
                fut, n, at = window.popleft()
                yield (*_result(fut, at), n)
        except BaseException:
            for fut, _, _ in window:
                fut.cancel()
            raise


def _result(fut, offset: int):
    from concurrent.futures.process import BrokenProcessPool
    try:
        return fut.result()
    except BrokenProcessPool:
        raise BatchError(f"a worker process died while scoring the rows from row {offset + 1} "
                         "(killed, or out of memory?); no output written") from None


_BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt}{unit} [{elapsed}<{remaining}, {rate_fmt}]"


class _Progress:
    """A progress bar in rows; with a total (and so an ETA) when the input's size is known:
    exact for Parquet, estimated from the bytes read so far for text files."""

    def __init__(self, source: _Source | None, rows: int | None):
        from tqdm import tqdm
        self.source = source
        self.bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, dynamic_ncols=True,
                        total=rows, bar_format=_BAR if rows is not None else None)
        self.exact = rows is not None

    def advance(self, n: int) -> None:
        if not self.exact and self.source is not None:
            # the reader is up to a block ahead of the rows it has handed out
            done = self.source.fraction(behind=2 * _BLOCK_SIZE)
            if done:
                self.bar.bar_format = _BAR
                self.bar.total = max(int((self.bar.n + n) / done), self.bar.n + n)
        self.bar.update(n)

    def close(self) -> None:
        if not self.exact and self.bar.total is not None:
            self.bar.total = self.bar.n
            self.bar.refresh()
        self.bar.close()


def _progress(enabled: bool | None, path: str, fmt: str, source: _Source | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    rows = None
    if fmt == "parquet":
        import pyarrow.parquet as pq
        try:
            rows = pq.ParquetFile(storage.open_input_file(path) if storage.is_remote(path)
                                  else path).metadata.num_rows
        except (OSError, pa.ArrowException, storage.StorageError):
            rows = None
    return _Progress(source, rows)
