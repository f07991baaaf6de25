"""The ``portmodel`` command: score a CSV file, inspect a document, run its verification records.

    portmodel score MODEL INPUT.csv -o OUTPUT.csv [--keep id,name] [--errors mark]
    portmodel inspect MODEL [--json]
    portmodel verify MODEL

Exit status: 0 on success, 1 when the document, the data or a file is at fault (one line on
stderr saying what and where), 2 for a usage error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

from . import __version__, load
from .errors import PortmodelError, VerificationError
from .model import Model

#: CSV cells that mean "missing", besides an empty cell.
NA_VALUES = ("", "NA", "N/A")
#: input types read as numbers by the CSV reader; every other input is read as text and
#: converted by the engine, so "007" stays "007" for a string field and dates parse per field.
_NUMERIC_INPUTS = {"double", "float", "integer"}
#: prefix for a --keep column whose name is also an output's name
KEPT_PREFIX = "input:"


class CliError(Exception):
    """A problem the user can fix (bad path, unknown column); printed as one line."""


# ------------------------------------------------------------------ CSV in and out

def read_csv(path: str | os.PathLike, text_columns: Sequence[str] = ()) -> Any:
    """Read a CSV file into a DataFrame: empty cells, NA and N/A are missing.

    text_columns are read as strings (kept verbatim); other columns get pyarrow's type inference.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(
        null_values=list(NA_VALUES), strings_can_be_null=True, quoted_strings_can_be_null=True,
        column_types={name: pa.string() for name in text_columns})
    try:
        table = pacsv.read_csv(os.fspath(path), convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise CliError(f"cannot read {os.fspath(path)}: {exc}") from None
    return table.to_pandas()


def write_csv_atomic(frame: Any, path: str | os.PathLike) -> None:
    """Write frame to path through a temporary file in the same folder, then rename it.

    Readers of path see the old file or the complete new one, never a partial one.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"output folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            frame.to_csv(fh, index=False)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# ------------------------------------------------------------------ commands

def _load(path: str) -> Model:
    if not os.path.exists(path):
        raise CliError(f"model file {path!r} does not exist")
    if os.path.isdir(path):
        raise CliError(f"model path {path!r} is a folder, not a document")
    return load(Path(path))


def cmd_score(args: argparse.Namespace) -> int:
    """Score every row of a CSV file and write the model's outputs (plus kept columns)."""
    model = _load(args.model)
    if not os.path.isfile(args.input):
        raise CliError(f"input file {args.input!r} does not exist")
    keep = [c.strip() for c in args.keep.split(",") if c.strip()] if args.keep else []
    text_cols = {f.name for f in model.inputs if f.data_type not in _NUMERIC_INPUTS}
    frame = read_csv(args.input, sorted(text_cols | set(keep)))
    unknown = [c for c in keep if c not in frame.columns]
    if unknown:
        raise CliError(f"--keep names column(s) not in {args.input}: {', '.join(unknown)}")
    scored = model.predict(frame, errors=args.errors)
    if keep:
        import pandas as pd

        kept = frame[keep].rename(columns={c: KEPT_PREFIX + c for c in keep if c in scored.columns})
        scored = pd.concat([kept, scored], axis=1)
    write_csv_atomic(scored, args.output)
    failed = int(scored["error"].notna().sum()) if args.errors == "mark" else 0
    note = f" ({failed} rejected, see the error column)" if failed else ""
    print(f"scored {len(scored)} rows -> {args.output}{note}", file=sys.stderr)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print what a model takes and gives: type, function, inputs, targets, outputs."""
    info = _load(args.model).describe()
    if args.json:
        json.dump(info, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_description(info, args.model))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Score the document's ModelVerification records and compare with the expected values."""
    model = _load(args.model)
    checked = model.verify()
    if checked:
        print(f"verified {checked} records: all agree")
    else:
        print("the document has no ModelVerification records; nothing checked")
    return 0


# ------------------------------------------------------------------ text rendering

def _field_notes(f: dict) -> str:
    notes = []
    if "values" in f:
        shown = ", ".join(map(str, f["values"][:8]))
        more = f", ... ({len(f['values'])} values)" if len(f["values"]) > 8 else ""
        notes.append(f"values: {shown}{more}")
    if "intervals" in f:
        notes.append("range: " + " or ".join(f["intervals"]))
    if "missing_values" in f:
        notes.append("missing codes: " + ", ".join(map(str, f["missing_values"])))
    skip = {"name", "data_type", "op_type", "usage", "values", "intervals", "missing_values"}
    for key, value in f.items():
        if key not in skip and value is not None:
            notes.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(notes)


def _table(fields: list[dict]) -> list[str]:
    if not fields:
        return ["  (none)"]
    rows = [(f["name"], f.get("data_type") or "", f.get("op_type") or "", _field_notes(f))
            for f in fields]
    widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
    return ["  " + "  ".join(str(r[i]).ljust(widths[i]) for i in range(3)) +
            (f"  {r[3]}" if r[3] else "") for r in rows]


def format_description(info: dict, source: str) -> str:
    """Human-readable rendering of Model.describe()."""
    fmt = str(info.get("format", "")).upper()
    version = info.get("version")
    app = (info.get("header") or {}).get("application")
    lines = [source,
             f"  format:   {fmt}{' ' + version if version else ''}"
             f"{f' (written by {app})' if app else ''}"]
    if info.get("model_type"):
        lines.append(f"  model:    {info['model_type']} ({info.get('function')})")
    for title, key in (("Inputs", "inputs"), ("Targets", "targets"), ("Outputs", "outputs")):
        lines.append(f"{title} ({len(info.get(key, []))}):")
        lines.extend(_table(info.get(key, [])))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ entry point

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portmodel", description="Score PMML model documents with numpy, no JVM.")
    parser.add_argument("--version", action="version", version=f"portmodel {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("score", help="score a CSV file and write the predictions as CSV",
                       description="Score every row of INPUT and write the model's outputs, one "
                                   "row per input row. Empty cells, NA and N/A are missing.")
    p.add_argument("model", metavar="MODEL", help="model document (.pmml)")
    p.add_argument("input", metavar="INPUT.csv", help="input rows, CSV with a header")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT.csv",
                   help="where to write the predictions (replaced atomically)")
    p.add_argument("--keep", metavar="COL,...",
                   help="input columns to copy to the output, before the predictions "
                        f"(written as {KEPT_PREFIX}COL if an output has the same name)")
    p.add_argument("--errors", choices=("raise", "mark"), default="raise",
                   help="raise: stop at the first rejected row (default); mark: leave its "
                        "outputs empty and explain in an 'error' column")
    p.set_defaults(run=cmd_score)

    p = sub.add_parser("inspect", help="show a model's type, inputs, targets and outputs")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=cmd_inspect)

    p = sub.add_parser("verify", help="check the document's ModelVerification records")
    p.add_argument("model", metavar="MODEL")
    p.set_defaults(run=cmd_verify)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except VerificationError as exc:
        lines = str(exc).splitlines()
        print(f"portmodel: {lines[0] if lines else 'verification failed'}", file=sys.stderr)
        for line in lines[1:]:
            print(f"  {line}", file=sys.stderr)
        return 1
    except (CliError, PortmodelError) as exc:
        print(f"portmodel: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"portmodel: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
