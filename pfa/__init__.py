"""portmodel.pfa: load, type-check and run PFA (Portable Format for Analytics 0.8.1) documents."""
from __future__ import annotations

from .errors import (PFADocumentError, PFALimitError, PFARuntimeError, PFASemanticError,
                     PFASyntaxError, PFATimeoutError, PFAUserError)

__all__ = ["load_pfa", "PFAModel", "PFADocumentError", "PFASyntaxError", "PFASemanticError",
           "PFARuntimeError", "PFAUserError", "PFALimitError", "PFATimeoutError"]


def load_pfa(payload, **options):
    """Load a PFA document (JSON/YAML text or bytes, a path, a file object or a dict)."""
    from .document import load_pfa as _load
    return _load(payload, **options)


def __getattr__(name):
    if name == "PFAModel":
        from .document import PFAModel
        return PFAModel
    raise AttributeError(name)
