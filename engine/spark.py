"""Score a Spark DataFrame with a model document, on the executors.

The document's bytes (not a pickled Python object) are broadcast once; each executor process
compiles it on first use and keeps it, then scores Arrow batches with ``mapInPandas``.

    from portmodel.spark import score
    scored = score(spark_df, "model.pmml", keep=["id"])
"""
from __future__ import annotations

import hashlib
import os
from typing import Any, Iterator

from .errors import MissingFieldError, ScoringError

_COMPILED: dict[str, Any] = {}   # per executor process: document digest -> compiled model

_SPARK_TYPES = {"double": "double", "float": "double", "integer": "bigint", "boolean": "boolean",
                "string": "string"}


def _document_bytes(model_source: Any) -> bytes:
    if isinstance(model_source, bytes):
        return model_source
    if hasattr(model_source, "source") and isinstance(model_source.source, bytes):
        return model_source.source
    if isinstance(model_source, (str, os.PathLike)):
        text = os.fspath(model_source)
        if text.lstrip()[:1] in ("<", "{"):
            return text.encode("utf-8")
        with open(text, "rb") as fh:
            return fh.read()
    raise TypeError("model_source must be a path, document text/bytes or a loaded model")


def _model_for(doc: bytes, digest: str):
    model = _COMPILED.get(digest)
    if model is None:
        import warnings

        from . import load
        from .errors import PortmodelWarning
        with warnings.catch_warnings():   # the driver loaded it first and warned once
            warnings.simplefilter("ignore", PortmodelWarning)
            model = _COMPILED[digest] = load(doc)
    return model


def reason_without_row(e: Exception) -> str:
    """A rejected row's reason for its own ``error`` cell. Spark hands rows to executors in
    batches whose positions mean nothing to the user, so the cell names no row number; the
    row it sits on is the row it is about."""
    reason = getattr(e, "reason", None)
    if reason is None:
        return " ".join(str(e).split())
    field = getattr(e, "field", None)
    return f"field {field!r}: {reason}" if field is not None else reason


def output_schema(model, keep_fields: list) -> Any:
    """The Spark schema of the scored frame: kept input columns, then the model's outputs."""
    from pyspark.sql.types import StringType, StructField, StructType, _parse_datatype_string
    fields = list(keep_fields)
    for f in model.outputs:
        fields.append(StructField(f.name, _parse_datatype_string(_SPARK_TYPES.get(f.data_type, "string")), True))
    fields.append(StructField("error", StringType(), True))
    return StructType(fields)


def score(spark_df: Any, model_source: Any, keep: list[str] | None = None,
          on_error: str = "record") -> Any:
    """Score spark_df on the executors; returns a Spark DataFrame of kept columns + outputs.

    on_error: "record" keeps rejected rows with empty outputs and the reason in ``error``;
    "fail" makes the Spark job fail at the first rejected row.
    """
    import numpy as np
    import pandas as pd
    from . import load
    doc = _document_bytes(model_source)
    model = load(doc)   # compile once on the driver: schema, and fail early on a bad document
    keep = list(keep or [])
    absent = [f.name for f in model.inputs if f.name not in spark_df.columns]
    if absent:
        raise MissingFieldError("DataFrame lacks column(s) the model needs: "
                                + ", ".join(repr(a) for a in absent), field=absent[0])
    missing_keep = [k for k in keep if k not in spark_df.columns]
    if missing_keep:
        raise ValueError("cannot keep column(s) absent from the DataFrame: " + ", ".join(missing_keep))
    schema = output_schema(model, [spark_df.schema[k] for k in keep])
    digest = hashlib.sha256(doc).hexdigest()
    shipped = spark_df.sparkSession.sparkContext.broadcast(doc)
    needed = [f.name for f in model.inputs]
    out_names = [f.name for f in model.outputs]
    out_types = {f.name: f.data_type for f in model.outputs}
    columns = list(dict.fromkeys(keep + needed))

    def run(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from .columns import frame_columns
        m = _model_for(shipped.value, digest)
        for pdf in frames:
            scored = m.score_columns(frame_columns(pdf[needed]), len(pdf))
            if scored.errors and on_error != "record":
                first = scored.errors[min(scored.errors)]
                raise ScoringError(getattr(first, "reason", None) or reason_without_row(first),
                                   field=getattr(first, "field", None))
            out = pd.DataFrame({k: pdf[k].to_numpy() for k in keep}, index=pdf.index)
            for name in out_names:
                col = scored.columns[name]
                if out_types[name] == "integer":
                    col = pd.array([None if v is None or (isinstance(v, float) and np.isnan(v))
                                    else int(v) for v in col], dtype="Int64")
                out[name] = col
            error = np.full(len(pdf), None, dtype=object)
            for i, e in scored.errors.items():
                error[i] = reason_without_row(e)
            out["error"] = error
            yield out

    return spark_df.select(*columns).mapInPandas(run, schema=schema)
