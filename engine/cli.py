"""The ``portmodel`` command: score a file, inspect a document, run its verification records.

    portmodel score MODEL INPUT -o OUTPUT [--keep id,name] [--on-error record]
    portmodel inspect MODEL [--json]
    portmodel verify MODEL [--strict]
    portmodel validate MODEL
    portmodel serve [--repo DIR|URL] [--model NAME=PATH ...] [--host H] [--port P] [--workers N]

MODEL is a PMML (XML) or PFA (JSON/YAML) document. ``score`` streams the file through
``portmodel.batch.score_file`` (chunks, optional worker processes, atomic output); this module
only turns options into calls and errors into messages.

Exit status: 0 on success, 1 when the document, the data or a file is at fault (one line on
stderr saying what and where), 2 for a usage error. A closed output pipe (``-o - | head``) ends
the run quietly with status 0.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Sequence

from . import __version__, load, storage
from .batch import FORMATS, KEPT_PREFIX, score_file
from .errors import PortmodelError, VerificationError
from .model import Model


class CliError(Exception):
    """A problem the user can fix (bad path, unknown option value); printed as one line."""


def _check_model_path(path: str) -> None:
    if not os.path.exists(path):
        raise CliError(f"model file {path!r} does not exist")
    if os.path.isdir(path):
        raise CliError(f"model path {path!r} is a folder, not a document")


def _load(path: str, timeout: float | None = None) -> Model:
    if storage.is_remote(path):     # a document on object storage or a web server
        try:
            return load(storage.read_bytes(path), timeout=timeout)
        except PortmodelError as exc:
            raise _named(exc, path) from None
    _check_model_path(path)
    try:
        return load(Path(path), timeout=timeout)
    except PortmodelError as exc:
        raise _named(exc, path) from None


def _named(exc: PortmodelError, path: str) -> PortmodelError:
    """The error with the model file's name in front (unless it names it already)."""
    text = _one_line(exc)
    if path in text:
        return exc
    return CliError(f"{path}: {text}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that a run cleans up like after Ctrl-C."""


def _terminate(signum, frame):
    raise Terminated()


def _interruptible() -> None:
    """Make SIGINT and SIGTERM stop a scoring run cleanly (its temporary file removed).

    A process started in the background by a non-interactive shell inherits SIGINT *ignored*;
    scoring should still stop when asked to.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _terminate)


def cmd_score(args: argparse.Namespace) -> int:
    """Score every row of a file (streamed in chunks) and write the outputs, one row per row."""
    keep = [c.strip() for c in args.keep.split(",") if c.strip()] if args.keep else []
    _interruptible()
    # a command scoring a small file should not pay for loading numba: the tree kernels wait
    # for a batch worth it (pmml/models/tree_kernel.py, use_numba); for this command only
    floor = "PORTMODEL_NUMBA_MIN_WORK"
    own_floor = floor not in os.environ
    if own_floor:
        os.environ[floor] = "200000"
    progress = True if args.progress else (False if args.quiet else None)  # None: if a terminal
    try:
        model = _load(args.model, timeout=args.timeout)
        summary = score_file(model, args.input, args.output, input_format=args.input_format,
                             output_format=args.output_format, chunk_rows=args.chunk_rows,
                             jobs=args.jobs, keep=keep, keep_all=args.keep_all,
                             on_error=args.on_error, delimiter=args.delimiter,
                             progress=progress)
    finally:
        if own_floor:
            os.environ.pop(floor, None)
    if not args.quiet:
        print(f"portmodel: {summary}", file=sys.stderr)
        for reason in summary.errors:
            print(f"  rejected: {reason}", file=sys.stderr)
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
    """Score the document's ModelVerification records and compare with the expected values.

    PFA has no verification records: there is nothing to check (the document loaded, which
    type-checks it). With --strict, nothing to check is a failure (exit status 1)."""
    model = _load(args.model)
    verify = getattr(model, "verify", None)
    if model.format == "pfa" or verify is None:
        checked, why = 0, "PFA documents carry no verification records"
    else:
        checked, why = verify(), "the document has no ModelVerification records"
    if checked:
        print(f"verified {checked} records: all agree")
        return 0
    print(f"no records: {why}; nothing checked", file=sys.stdout)
    if args.strict:
        print(f"portmodel: error: {args.model}: no verification records to check (--strict)",
              file=sys.stderr)
        return 1
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a PMML document against the PMML 4.4 schema and portmodel's own rules.

    Prints one ``LINE: SEVERITY: message`` per problem; exit status 1 if any is an error.
    """
    from . import _sniff
    from .pmml.validate import ERROR, Problem, format_problem, has_errors, validate
    _check_model_path(args.model)
    try:
        kind, _, _ = _sniff(Path(args.model))
    except PortmodelError as exc:
        kind, problems = None, [Problem(getattr(exc, "line", None), None, _one_line(exc), ERROR)]
    if kind == "pmml":
        problems = validate(Path(args.model))
    elif kind == "pfa":
        # PFA: the load checks are the validation (syntax, Avro types, signatures, compile)
        try:
            load(Path(args.model))
            problems = []
        except PortmodelError as exc:
            problems = [Problem(None, None, _one_line(exc), ERROR)]
    for problem in problems:
        print(format_problem(problem))
    counts = {s: sum(p.severity == s for p in problems) for s in ("error", "warning")}
    verdict = "invalid" if has_errors(problems) else "valid"
    print(f"portmodel: {args.model}: {verdict} ({counts['error']} error(s), "
          f"{counts['warning']} warning(s))", file=sys.stderr)
    return 1 if has_errors(problems) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the scoring service (FastAPI on uvicorn; needs the ``serve`` extra)."""
    try:
        from .serving.launch import serve
    except ImportError as exc:
        raise CliError(f"the scoring service needs the serve extra "
                       f"(pip install 'portmodel[serve]'): {exc}") from None
    return serve(args)


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
    if info.get("scoring_path"):     # PFA: columns (numpy) or record by record, and why
        why = info.get("record_path_reason")
        lines.append(f"  scoring:  {info['scoring_path']}{f' ({why})' if why else ''}")
    for title, key in (("Inputs", "inputs"), ("Targets", "targets"), ("Outputs", "outputs")):
        lines.append(f"{title} ({len(info.get(key, []))}):")
        lines.extend(_table(info.get(key, [])))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ entry point

MODEL_HELP = "model document: PMML (.pmml, .xml) or PFA (.pfa, .json, .yaml)"


def _count(least: int):
    """An argparse type: a whole number >= least (a usage error otherwise, exit status 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be {least} or more, not {value}")
        return value
    parse.__name__ = "number"
    return parse


def _seconds(text: str) -> float:
    """An argparse type: a positive number of seconds (a usage error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


_NAMED_DELIMITERS = {"\\t": "\t", "tab": "\t", "TAB": "\t", "\\s": " ", "space": " ",
                     "\\x1f": "\x1f"}


def _delimiter(text: str) -> str:
    """--delimiter: one character; \\t (as a shell passes it) or tab mean a tab."""
    text = _NAMED_DELIMITERS.get(text, text)
    if len(text) != 1 or text in ('"', "\n", "\r"):
        raise argparse.ArgumentTypeError(f"must be one character (or \\t for a tab), not "
                                         f"{text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portmodel", description="Score PMML and PFA model documents with vectorized "
                                      "numpy, no JVM.")
    parser.add_argument("--version", action="version", version=f"portmodel {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("score", help="score a CSV / Parquet / JSON Lines file",
                       description="Score every row of INPUT and write the model's outputs, one "
                                   "row per input row, in order. CSV cells that are empty, NA, "
                                   "N/A, NaN or null are missing. The output appears atomically "
                                   "(written beside OUTPUT, then renamed) and only when every "
                                   "row has been scored.")
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("input", metavar="INPUT", help="input rows with a header: .csv or .tsv "
                                                  "(optionally .gz, .zst, .bz2), .parquet, "
                                                  ".jsonl; - reads CSV from stdin")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="where to write the predictions (format and compression from the "
                        "suffix, as for INPUT; - is stdout)")
    p.add_argument("--keep", metavar="COL,...",
                   help="input columns to copy to the output, before the predictions "
                        f"(written as {KEPT_PREFIX}COL if an output has the same name)")
    p.add_argument("--keep-all", action="store_true", help="copy every input column")
    p.add_argument("--on-error", choices=("fail", "skip", "record"), default="fail",
                   help="a rejected row: fail stops and writes nothing (default); skip drops "
                        "it; record keeps it with empty outputs and the reason in an 'error' "
                        "column")
    p.add_argument("--jobs", type=_count(0), default=0, metavar="N",
                   help="worker processes (default 0: one per CPU; inputs of one chunk are "
                        "scored in-process)")
    p.add_argument("--chunk-rows", type=_count(1), default=50_000, metavar="N",
                   help="rows per chunk (default 50000); memory grows with chunk size x jobs")
    p.add_argument("--input-format", choices=FORMATS, help="override the input suffix")
    p.add_argument("--output-format", choices=FORMATS, help="override the output suffix")
    p.add_argument("--delimiter", type=_delimiter, default=None, metavar="CHAR",
                   help="CSV field delimiter: one character, or \\t or tab (default: tab for "
                        ".tsv files, else ,)")
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="wall time one scoring call may take (a chunk for PMML, one record's "
                        "action for PFA; PFA's default is 30 s, PMML has none)")
    p.add_argument("--quiet", action="store_true", help="no summary on stderr")
    p.add_argument("--progress", action="store_true",
                   help="show a progress bar (default: when stderr is a terminal)")
    p.set_defaults(run=cmd_score)

    p = sub.add_parser("inspect", help="show a model's type, inputs, targets and outputs",
                       description="Load MODEL and print its format, model type and function, "
                                   "its inputs (type, valid values or ranges, missing and "
                                   "invalid treatments), targets and outputs.")
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=cmd_inspect)

    p = sub.add_parser("verify", help="check the document's ModelVerification records",
                       description="Score the PMML document's ModelVerification records and "
                                   "compare every output with the expected value (within its "
                                   "precision). Exit status 1 if any record disagrees. A "
                                   "document without records (every PFA document) says 'no "
                                   "records' and passes, unless --strict.")
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.add_argument("--strict", action="store_true",
                   help="fail (exit status 1) when there are no records to check")
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser("validate", help="check a document: schema, fields, and whether "
                                        "portmodel can score it",
                       description="PMML: validate MODEL against the PMML 4.4 schema (older "
                                   "versions after upgrading), check field references, "
                                   "duplicates, cycles and probabilities, and compile it. PFA: "
                                   "run the load checks (syntax, Avro types, function "
                                   "signatures, compilation). Prints LINE: SEVERITY: message "
                                   "per problem (- when there is no line); exit status 1 if "
                                   "any error.")
    p.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("serve", help="run the scoring service (HTTP, several workers)",
                       description="Serve the models of a repository over HTTP: the model API, "
                                   "Openscoring-compatible paths and the Open Inference Protocol "
                                   "v2; OpenAPI page at /docs. Tokens may also come from "
                                   "PORTMODEL_ADMIN_TOKEN and PORTMODEL_TOKEN. Without an admin "
                                   "token a random one is made and printed at start.")
    p.add_argument("--repo", metavar="DIR|URL",
                   help="model repository: a folder (SQLite) or a postgresql:// URL (default: "
                        "$PORTMODEL_REPO, else ~/.local/share/portmodel/repository)")
    p.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                   help="deploy and promote this document as NAME at start (repeatable)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes (default 1)")
    p.add_argument("--admin-token", metavar="T",
                   help="bearer token for deploying, promoting, deleting, routing")
    p.add_argument("--token", metavar="T", help="bearer token for scoring (default: open)")
    p.add_argument("--batch-token", metavar="T",
                   help="bearer token for batch jobs (the admin token works too; also "
                        "PORTMODEL_BATCH_TOKEN)")
    p.add_argument("--jobs-root", action="append", default=[], metavar="DIR",
                   help="a folder batch jobs may read and write (repeatable; none: no local "
                        "files)")
    p.add_argument("--jobs-allow", action="append", default=[], metavar="URI",
                   help="an object-storage prefix batch jobs may read and write, e.g. "
                        "s3://bucket/prefix (repeatable)")
    p.add_argument("--jobs-workers", type=int, default=1, metavar="N",
                   help="batch jobs run at once per worker process, each in its own "
                        "lower-priority process (default 1)")
    p.add_argument("--max-body", default="5MB", metavar="SIZE",
                   help="largest request body, e.g. 5MB, 512KiB (default 5MB)")
    p.add_argument("--log-level", default="warning",
                   choices=("critical", "error", "warning", "info", "debug"),
                   help="uvicorn's log level (default warning)")
    p.set_defaults(run=cmd_serve)

    from .export.cli import add_command as add_export
    add_export(sub)
    return parser


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (e.g. ignored vendor extensions) as one stderr line, not a Python location."""
    print(f"portmodel: warning: {message}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _pipe_closed() -> int:
    """The reader of our standard output went away (``| head``): stop quietly. Standard output
    is pointed at /dev/null so that the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _print_warning
            return args.run(args)
    except BrokenPipeError:
        return _pipe_closed()
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
        if exc.errno == errno.EPIPE or "Broken pipe" in str(exc):
            return _pipe_closed()
        where = f" {exc.filename!r}" if exc.filename else ""
        print(f"portmodel: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Terminated:
        print("portmodel: terminated; no output written", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("portmodel: interrupted; no output written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
