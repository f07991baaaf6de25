"""PFA errors: load-time (syntax, semantic) with the JSON path of the node, runtime with a code.

Load-time errors are DocumentErrors (a bad document); runtime errors are ScoringErrors (a record
the engine rejects). Runtime errors carry ``.code``: the specification's numeric error code for
library functions and special forms, the document's own (negative) code for the ``error`` form,
and None for engine limits (timeout, iteration, recursion and size limits).
"""
from __future__ import annotations

from ..errors import DocumentError, EvaluationError, UnsupportedError


def format_path(path: tuple) -> str:
    """('action', 0, 'let', 'x') -> '$.action[0].let.x'"""
    out = "$"
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


class PFADocumentError(DocumentError):
    """The PFA document cannot be loaded. ``.path`` is the JSON path of the offending node."""

    def __init__(self, message: str, path: tuple | str = ()):
        self.path = path if isinstance(path, str) else format_path(tuple(path))
        self.reason = message
        DocumentError.__init__(self, f"{message} (at {self.path})")


class PFASyntaxError(PFADocumentError):
    """Malformed JSON/YAML, or a form with the wrong members or member types."""


class PFASemanticError(PFADocumentError):
    """Well-formed but inconsistent: type errors, unknown symbols/functions, scope violations."""


class PFAUnsupportedError(PFADocumentError, UnsupportedError):
    """The document uses a function or feature this engine does not implement (or refuses)."""


class PFARuntimeError(EvaluationError):
    """A runtime error of a library function or special form; ``.code`` is the spec's code."""

    def __init__(self, message: str, code: int | None = None, fcn: str | None = None,
                 row: int | None = None):
        self.message = message
        self.code = code
        self.fcn = fcn
        reason = message
        if fcn:
            reason = f"{message} in {fcn}"
        if code is not None:
            reason = f"{reason} (code {code})"
        EvaluationError.__init__(self, reason, row=row)

    def at_row(self, row: int) -> "PFARuntimeError":
        """A copy of this error that names the row it happened in."""
        err = self.__class__.__new__(self.__class__)
        err.__dict__.update(self.__dict__)
        PFARuntimeError.__init__(err, self.message, self.code, self.fcn, row)
        return err


class PFAUserError(PFARuntimeError):
    """Raised by the document's own ``error`` special form (code is None or negative)."""


class PFALimitError(PFARuntimeError):
    """An engine safety limit was exceeded: loop iterations, recursion depth, value sizes."""


class PFATimeoutError(PFALimitError):
    """A begin/action/end routine exceeded its timeout (the ``timeout`` option or a host limit)."""
