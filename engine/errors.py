"""Exceptions raised by portmodel.

Load-time problems (a document we cannot read or do not support) and score-time problems (a
record the model rejects) are separate families, so callers can tell a bad model from bad data.
"""
from __future__ import annotations


class PortmodelError(Exception):
    """Base class of every error portmodel raises on purpose."""


class DocumentError(PortmodelError):
    """The document cannot be read: malformed, unsafe, or inconsistent. Names its line if known."""

    def __init__(self, message: str, line: int | None = None, element: str | None = None):
        self.line = line
        self.element = element
        where = []
        if element:
            where.append(f"<{element}>")
        if line:
            where.append(f"line {line}")
        super().__init__(f"{message} ({' at '.join(where)})" if where else message)


class UnsafeDocumentError(DocumentError):
    """The document uses a DTD, entities or external references, which we refuse."""


class UnsupportedError(DocumentError):
    """The document is well-formed but uses an element or attribute value we do not implement."""


class ScoringError(PortmodelError):
    """A record cannot be scored. Carries the field, the row (0-based) and the reason."""

    def __init__(self, reason: str, field: str | None = None, row: int | None = None):
        self.reason = reason
        self.field = field
        self.row = row
        parts = []
        if row is not None:
            parts.append(f"row {row}")
        if field is not None:
            parts.append(f"field {field!r}")
        super().__init__(f"{', '.join(parts)}: {reason}" if parts else reason)


class MissingFieldError(ScoringError):
    """A field the model requires is absent from the input altogether."""


class InvalidValueError(ScoringError):
    """A value is invalid for its field and the model says returnInvalid (or cannot use it)."""


class ValueParseError(InvalidValueError):
    """A value cannot be converted to its field's data type (e.g. 'abc' for a double)."""


class EvaluationError(ScoringError):
    """The model's own arithmetic failed for a record (e.g. no segment or rule applies)."""


class VerificationError(PortmodelError):
    """ModelVerification records disagree with what the engine computes."""


class PortmodelWarning(UserWarning):
    """Something portmodel set aside without failing (e.g. vendor extensions it ignores)."""


class ResourceLimitError(PortmodelError):
    """Scoring ran past its wall-clock limit (``portmodel.load(..., timeout=)``): the whole call
    is abandoned, not one row. A document whose work per row exceeds the load-time budgets is
    refused earlier, with a DocumentError."""
