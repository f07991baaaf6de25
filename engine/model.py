"""The common Model interface that PMML and PFA models both answer.

A model scores *columns*: ``score_columns`` takes a dict of equally long numpy arrays and returns
a dict of output arrays plus the per-row errors. ``predict`` adapts the user's data shape (one
record, a list of records, a DataFrame, a dict of arrays) to columns and back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import MissingFieldError, ScoringError
from .fields import Field


@dataclass
class ScoredBatch:
    """Output columns of one batch, with the rows that failed and why (row index -> error)."""

    columns: dict[str, np.ndarray]
    errors: dict[int, ScoringError] = field(default_factory=dict)


def _is_column(value: Any) -> bool:
    return isinstance(value, (np.ndarray, list, tuple)) or (
        hasattr(value, "__len__") and hasattr(value, "dtype") and not isinstance(value, (str, bytes))
    )


def _one(value: Any) -> np.ndarray:
    """A one-row column with the narrowest dtype (numbers stay float64, avoiding object paths)."""
    if type(value) is float or type(value) is int:      # the common case first
        return np.array([value], dtype=float)
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return np.array([value], dtype=float)
    arr = np.empty(1, dtype=object)
    arr[0] = value
    return arr


def _to_python(value: Any) -> Any:
    """numpy scalar -> plain Python value; NaN and None -> None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _blank(col: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """col with the given rows missing (NaN for floats, None otherwise)."""
    if col.dtype.kind == "f":
        out = col.copy()
        out[rows] = np.nan
        return out
    out = col.astype(object, copy=True)
    out[rows] = None
    return out


_UNPLANNED = object()


def _frame(pd: Any, out: dict[str, np.ndarray], index: Any, fresh: bool) -> Any:
    """The output columns as a DataFrame on the input's index. The arrays become its columns
    without a copy (and without pandas consolidating same-typed columns into one block, which
    copies them all once more); arrays that may be shared are copied first (``fresh``). Text
    columns stay object dtype: converting them to pandas' Arrow-backed string dtype would cost
    more than scoring a fast model."""
    frame: dict[str, Any] = {}
    for k, v in out.items():
        if not fresh:
            v = v.copy()
        frame[k] = pd.Series(v, dtype=object, index=index, copy=False) \
            if v.dtype == object else v
    return pd.DataFrame(frame, index=index, copy=False)


class Model:
    """A loaded, compiled model. Subclasses implement ``score_columns``."""

    #: "pmml" or "pfa"
    format: str = ""
    #: the document's bytes (what worker processes and Spark executors load)
    source: bytes | None = None
    #: input fields a record must have (its value may still be missing); PMML fills it
    _required: Sequence[str] = ()
    inputs: list[Field]
    targets: list[Field]
    outputs: list[Field]
    #: whether ``score_columns`` returns output arrays of its own: each a new, writable array
    #: that neither the input nor another output nor the model shares. ``predict`` then wraps
    #: them in its DataFrame as they are; otherwise it copies them first.
    fresh_columns: bool = False

    def score_columns(self, columns: Mapping[str, np.ndarray], n: int) -> ScoredBatch:
        """Score ``n`` rows given as named columns; never raises for one bad row."""
        raise NotImplementedError

    def record_plan(self):
        """An optional fast path for one record: record -> output dict, or None to decline
        (then the column plan scores it). Must give exactly the column plan's answer."""
        return None

    @property
    def output_names(self) -> list[str]:
        return [f.name for f in self.outputs]

    def predict(self, data: Any, *, errors: str = "raise") -> Any:
        """Score data and return it in the shape it came in.

        DataFrame -> DataFrame (same index); list of dicts -> list of dicts; one dict -> one dict;
        dict of arrays -> dict of arrays. ``errors="raise"`` raises the first rejected row's
        error; ``errors="mark"`` leaves that row's outputs missing and adds an ``error`` column.
        """
        if errors not in ("raise", "mark"):
            raise ValueError("errors must be 'raise' or 'mark'")
        if type(data) is dict:          # one record first: a service's every call
            plan = self.__dict__.get("_record_plan", _UNPLANNED)
            if plan is _UNPLANNED:
                plan = self._record_plan = self.record_plan()
            if plan is not None:
                out = plan(data)
                if out is not None:
                    if errors == "mark":
                        out["error"] = None
                    return out
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is a core dependency
            pd = None
        if pd is not None and isinstance(data, pd.DataFrame):
            from .columns import frame_columns   # (pyarrow: imported when first needed)
            cols = frame_columns(data)
            batch = self._score_checked(cols, len(data), errors)
            return _frame(pd, self._finish(batch, errors, len(data)), data.index,
                          self.fresh_columns)
        if isinstance(data, Mapping):
            plan = self.__dict__.get("_record_plan", _UNPLANNED)
            if plan is _UNPLANNED:
                plan = self._record_plan = self.record_plan()
            if plan is not None and type(data) is not dict:     # (a dict: tried above)
                out = plan(data)
                if out is not None:
                    if errors == "mark":
                        out["error"] = None
                    return out
            if data and all(_is_column(v) for v in data.values()):
                cols = {str(k): np.asarray(v) if not isinstance(v, np.ndarray) else v
                        for k, v in data.items()}
                n = len(next(iter(cols.values())))
                return self._finish(self._score_checked(cols, n, errors), errors, n)
            cols = {str(k): _one(v) for k, v in data.items()}
            out = self._finish(self._score_checked(cols, 1, errors), errors, 1)
            return {k: _to_python(v[0]) for k, v in out.items()}
        if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
            return self._predict_records(list(data), errors)
        raise TypeError(
            "predict() takes a DataFrame, a list of dicts, one dict, or a dict of arrays; "
            f"got {type(data).__name__}")

    def _predict_records(self, rows: list, errors: str) -> list[dict]:
        """A list of dicts, scored as one batch. A record lacking a field the model needs is
        rejected as one dict lacking it would be (raised, or marked under errors="mark"); a
        field absent from every record is absent from the input (MissingFieldError)."""
        if not rows:
            return []
        names: dict[str, None] = {}
        for i, r in enumerate(rows):
            if not isinstance(r, Mapping):
                raise TypeError(f"predict() takes a list of dicts; item {i} is a "
                                f"{type(r).__name__}")
            names.update(dict.fromkeys(r.keys()))
        cols = {}
        for name in names:
            arr = np.empty(len(rows), dtype=object)
            arr[:] = [r.get(name) for r in rows]
            cols[str(name)] = arr
        lacking: dict[int, ScoringError] = {}
        for name in self._required:
            if name in names:
                for i, r in enumerate(rows):
                    if name not in r and i not in lacking:
                        lacking[i] = MissingFieldError("field is absent from the record",
                                                       field=name, row=i)
        batch = self.score_columns(cols, len(rows))
        if lacking:
            batch.errors.update(lacking)
            gone = np.zeros(len(rows), bool)
            gone[list(lacking)] = True
            batch.columns = {k: _blank(v, gone) for k, v in batch.columns.items()}
        if errors == "raise" and batch.errors:
            raise batch.errors[min(batch.errors)]
        out = self._finish(batch, errors, len(rows))
        keys = list(out)
        return [{k: _to_python(out[k][i]) for k in keys} for i in range(len(rows))]

    def _score_checked(self, cols: dict, n: int, errors: str) -> ScoredBatch:
        batch = self.score_columns(cols, n)
        if errors == "raise" and batch.errors:
            first = min(batch.errors)
            raise batch.errors[first]
        return batch

    def _finish(self, batch: ScoredBatch, errors: str, n: int) -> dict[str, np.ndarray]:
        """The output columns of n scored rows, with an ``error`` column under "mark" (even
        for a model without outputs)."""
        out = dict(batch.columns)
        if errors == "mark":
            err = np.full(n, None, dtype=object)
            for i, e in batch.errors.items():
                err[i] = str(e)
            out["error"] = err
        return out

    def __repr__(self) -> str:
        try:
            info = self.describe()
        except Exception:  # noqa: BLE001 - a repr must not fail
            info = {}
        kind = info.get("model_type")
        what = f" {kind}" + (f" ({info['function']})" if info.get("function") else "") \
            if kind else ""

        def names(fields: list) -> str:
            shown = ", ".join(f.name for f in fields[:6])
            return f"[{shown}{', ...' if len(fields) > 6 else ''}]"
        return (f"<{type(self).__name__} {self.format.upper()}{what}: {len(self.inputs)} "
                f"input(s) {names(self.inputs)} -> {len(self.outputs)} output(s) "
                f"{names(self.outputs)}>")

    def describe(self) -> dict:
        """A JSON-friendly summary of the model's interface."""
        return {
            "format": self.format,
            "inputs": [f.describe() for f in self.inputs],
            "targets": [f.describe() for f in self.targets],
            "outputs": [f.describe() for f in self.outputs],
        }
