"""portmodel: score PMML and PFA model documents with vectorized numpy, no JVM.

    import portmodel
    model = portmodel.load("model.pmml")
    model.predict(dataframe)
"""
import gc as _gc
import os as _os

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

# what a path's suffix says about its content (the content decides when it is XML)
_PMML_SUFFIXES = (".pmml", ".xml")
_PFA_SUFFIXES = (".pfa", ".json", ".yaml", ".yml")
_DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".gz", ".zst",
                  ".bz2")


def __dir__() -> "list[str]":
    return sorted(__all__)


def _is_text(source: str) -> bool:
    """A str given to load(): document text (XML, JSON, or YAML) rather than a path?"""
    if "\n" in source or source.lstrip()[:1] in ("<", "{", "["):
        return True
    return not _os.path.exists(source) and ": " in source     # one line of YAML


def _sniff(source: "object") -> "tuple[str, object, str | None]":
    """('pmml' | 'pfa', payload, file name or None) for a path, file object, bytes, text or
    dict. A file's suffix decides when its content does not (an empty or non-XML .pmml file
    is a broken PMML document, not a PFA one)."""
    if isinstance(source, dict):
        return "pfa", source, None
    name = None
    if isinstance(source, _os.PathLike) or (isinstance(source, str) and not _is_text(source)):
        name = _os.fspath(source)
        if _os.path.isdir(name):
            raise DocumentError(f"model path {name!r} is a folder, not a document")
        with open(name, "rb") as fh:
            data = fh.read()
    elif hasattr(source, "read"):
        data = source.read()
        name = getattr(source, "name", None)
        name = name if isinstance(name, str) else None
    else:
        data = source
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"cannot load a model from {type(source).__name__}")
    label = f"model file {name!r}" if name else "the model document"
    if not data.strip():
        raise DocumentError(f"{label} is empty")
    suffix = _os.path.splitext(name)[1].lower() if name else ""
    if _is_xml(data) or suffix in _PMML_SUFFIXES:
        return "pmml", data, name
    if suffix in _DATA_SUFFIXES:
        raise DocumentError(f"{label} looks like a data file ({suffix}), not a PMML or PFA model "
                            "document (portmodel score takes MODEL first, then INPUT)")
    return "pfa", data, name


# how an XML document can start besides "<": byte-order marks, BOM-less UTF-16 and UTF-32
_XML_STARTS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<",
               b"\x00\x00\x00<")


def _is_xml(data: bytes) -> bool:
    body = data.lstrip()
    return body[:1] == b"<" or body.startswith(_XML_STARTS)


def load(source: "object", *, timeout: "float | None" = None, strict: bool = False) -> Model:
    """Load and compile a model document: PMML (XML) or PFA (JSON/YAML text, dict).

    source: a path, a file object, bytes, document text, or (PFA) a dict. A str is document
      text when it holds a line break or starts with ``<``, ``{`` or ``[`` (or is one line of
      YAML naming no file); otherwise it is a path.
    timeout: seconds of wall time one PFA begin/action/end call may take (default 30;
      ``math.inf`` for none). The document's own ``timeout`` options may only lower it.
      PMML: seconds one scoring call may take before it raises ResourceLimitError (default
      ``portmodel.pmml.limits.SCORE_TIMEOUT``, no limit unless set).
    strict: (PMML) refuse the traits outside the PMML 4.4 letter that portmodel otherwise
      reads as the reference engines do, with a warning (see ``portmodel.pmml.leniency``).
    """
    kind, payload, name = _sniff(source)
    # Compiling a large document allocates many small objects that all live on; the cyclic
    # garbage collector would rescan them again and again (2-3x the load time of a forest).
    was_enabled = _gc.isenabled()
    _gc.disable()
    try:
        if kind == "pmml":
            from .pmml import load_pmml
            model = load_pmml(payload, strict=strict, timeout=timeout)
            model.load_options = {"timeout": timeout, "strict": strict}
            return model
        try:
            from .pfa import load_pfa  # type: ignore[attr-defined]
        except ImportError:
            raise UnsupportedError("PFA documents are not supported by this build") from None
        try:
            model = load_pfa(payload, timeout=timeout)
            # worker processes load the document again with the same options (portmodel.batch)
            model.load_options = {"timeout": timeout}
            return model
        except DocumentError as exc:
            if "must be a JSON object" in str(exc) and not isinstance(payload, dict):
                label = f"model file {name!r}" if name else "the model document"
                raise DocumentError(f"{label} is neither a PMML document (XML) nor a PFA "
                                    "document (a JSON or YAML object)") from None
            raise
    finally:
        if was_enabled:
            _gc.enable()


def __getattr__(name: str) -> "object":
    """``portmodel.export``: the export package, imported on first use (so that ``import
    portmodel`` does not import scikit-learn); calling it exports a model:
    ``portmodel.export(fitted, "model.pmml", X_sample)``."""
    if name == "export":
        import importlib
        return importlib.import_module(".export", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
