"""portmodel: score PMML and PFA model documents with vectorized numpy, no JVM.

    import portmodel
    model = portmodel.load("model.pmml")
    model.predict(dataframe)
"""
from __future__ import annotations

import gc
import os
from typing import Any

from .errors import (DocumentError, EvaluationError, InvalidValueError, MissingFieldError,
                     PortmodelError, ResourceLimitError, ScoringError, UnsafeDocumentError,
                     UnsupportedError, ValueParseError, VerificationError)
from .fields import Field
from .model import Model

__version__ = "0.1.0"

__all__ = ["load", "export", "Model", "Field", "PortmodelError", "DocumentError", "UnsafeDocumentError",
           "UnsupportedError", "ScoringError", "MissingFieldError", "InvalidValueError",
           "ValueParseError", "EvaluationError", "VerificationError", "ResourceLimitError",
           "__version__"]


def _sniff(source: Any) -> tuple[str, Any]:
    """('pmml' | 'pfa', payload) for a path, file object, bytes, text or dict."""
    if isinstance(source, dict):
        return "pfa", source
    if isinstance(source, (str, os.PathLike)) and not (isinstance(source, str) and
                                                      source.lstrip()[:1] in ("<", "{")):
        path = os.fspath(source)
        with open(path, "rb") as fh:
            data = fh.read()
    elif hasattr(source, "read"):
        data = source.read()
    else:
        data = source
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes):
        raise TypeError(f"cannot load a model from {type(source).__name__}")
    if _is_xml(data):
        return "pmml", data
    return "pfa", data


# how an XML document can start besides "<": byte-order marks, BOM-less UTF-16 and UTF-32
_XML_STARTS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<",
               b"\x00\x00\x00<")


def _is_xml(data: bytes) -> bool:
    body = data.lstrip()
    return body[:1] == b"<" or body.startswith(_XML_STARTS)


def load(source: Any, *, timeout: float | None = None, strict: bool = False) -> Model:
    """Load and compile a model document: PMML (XML) or PFA (JSON/YAML text, dict).

    source: a path, a file object, bytes, document text, or (PFA) a dict.
    timeout: seconds of wall time one PFA begin/action/end call may take (default 30;
      ``math.inf`` for none). The document's own ``timeout`` options may only lower it.
      PMML: seconds one scoring call may take before it raises ResourceLimitError (default
      ``portmodel.pmml.limits.SCORE_TIMEOUT``, no limit unless set).
    strict: (PMML) refuse the traits outside the PMML 4.4 letter that portmodel otherwise
      reads as the reference engines do, with a warning (see ``portmodel.pmml.leniency``).
    """
    kind, payload = _sniff(source)
    # Compiling a large document allocates many small objects that all live on; the cyclic
    # garbage collector would rescan them again and again (2-3x the load time of a forest).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if kind == "pmml":
            from .pmml import load_pmml
            return load_pmml(payload, strict=strict, timeout=timeout)
        try:
            from .pfa import load_pfa  # type: ignore[attr-defined]
        except ImportError:
            raise UnsupportedError("PFA documents are not supported by this build") from None
        return load_pfa(payload, timeout=timeout)
    finally:
        if was_enabled:
            gc.enable()



def __getattr__(name: str) -> Any:
    """``portmodel.export``: the export package, imported on first use (so that ``import
    portmodel`` does not import scikit-learn); calling it exports a model:
    ``portmodel.export(fitted, "model.pmml", X_sample)``."""
    if name == "export":
        import importlib
        return importlib.import_module(".export", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
