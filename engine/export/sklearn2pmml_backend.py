"""``backend="sklearn2pmml"``: the optional fallback for estimators this package does not cover.
It needs the ``export`` extra and Java; when the converter fails, its own Java error (the
exception line it printed) is raised as ExportError instead of sklearn2pmml's generic
"the Java executable should have printed more information"."""
from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from typing import Any

import pandas as pd

from .errors import ExportError


def java_error(printed: str) -> str:
    """The most telling line of the converter's output: its exception message."""
    lines = [ln.strip() for ln in printed.splitlines() if ln.strip()]
    for ln in lines:
        if re.search(r"(Exception|Error)\b.*:", ln) and not ln.startswith("at "):
            return ln
    return lines[-1] if lines else "no output"


def export_sklearn2pmml(est: Any, X: pd.DataFrame, target_name: str | None) -> bytes:
    try:
        from sklearn2pmml import make_pmml_pipeline, sklearn2pmml
    except ImportError:
        raise ExportError("backend='sklearn2pmml' needs the sklearn2pmml package "
                          "(pip install 'portmodel[export]') and Java") from None
    pipe = make_pmml_pipeline(est, active_fields=[str(c) for c in X.columns],
                              target_fields=[target_name or "y"])
    printed = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.pmml")
        try:
            with contextlib.redirect_stdout(printed):
                sklearn2pmml(pipe, path)
        except RuntimeError as exc:
            raise ExportError(f"sklearn2pmml failed: {java_error(printed.getvalue())}"
                              ) from exc
        with open(path, "rb") as fh:
            return fh.read()
