"""The one place where the service observes what it scores.

Every scoring path of the service (JSON records and lists, CSV, the Openscoring paths, V2
``infer``, endpoint variants and shadows) gets its model from the registry, and the registry
hands out an ``ObservedModel``: the compiled model behind a thin layer that passes each scored
batch's inputs, rejected rows and predictions to an observer (monitoring's field-quality and
drift counts) before returning. The two entry points a model has, ``predict`` (one record, its
fast record plan) and ``score_columns`` (everything else), are both covered, so a new path
cannot forget to report.

``ROLE`` says on whose behalf the scoring runs: ``"live"`` (the answer a client gets) unless the
caller set ``"shadow"`` (an endpoint's shadow variant scoring a copy off the response path), so
the two are counted under separate labels.

Reference data (``PUT .../reference``) is scored with the model inside (``inner``): it is not
traffic.
"""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..model import Model, _is_column, _one, _to_python

#: "live" or "shadow": whose scoring the observer is told about
ROLE: ContextVar[str] = ContextVar("portmodel_scoring_role", default="live")

#: observer(records, rejected, predictions): the input records (dicts of the input fields),
#: whether each row was rejected, and each row's prediction (None where rejected)
Observer = Callable[[Sequence[Mapping[str, Any]], Sequence[bool], Sequence[Any]], None]


def _as_list(values: Any, n: int) -> list:
    if isinstance(values, np.ndarray):
        return values.tolist()      # numpy scalars -> Python (NaN stays a float NaN)
    if isinstance(values, (list, tuple)):
        return list(values)
    try:
        return list(values)
    except TypeError:
        return [values] * n


class ObservedModel:
    """A compiled model whose scoring reports to an observer (everything else delegates)."""

    def __init__(self, inner: Model, observer: Observer, prediction: str | None,
                 fields: Sequence[str]):
        self.inner = inner
        self._observer = observer
        self._prediction = prediction
        self._fields = tuple(fields)
        self._plan: Any = None
        self._planned = False
        self._record_plan = None    # Model.predict below: the plan already ran in predict

    def __getattr__(self, name: str) -> Any:      # inputs, outputs, format, describe, ...
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"ObservedModel({self.inner!r})"

    # ---------------------------------------------------------------- reporting
    def _report(self, records: Sequence[Mapping[str, Any]], rejected: Sequence[bool],
                predictions: Sequence[Any]) -> None:
        try:
            self._observer(records, rejected, predictions)
        except Exception:   # noqa: BLE001 - monitoring never fails a request
            import logging
            logging.getLogger("portmodel.serving").exception("observing scored records failed")

    def _report_columns(self, columns: Mapping[str, Any], n: int, errors: Mapping[int, Any],
                        outputs: Mapping[str, Any] | None) -> None:
        if n <= 0:
            return
        names = [f for f in self._fields if f in columns]
        values = [_as_list(columns[f], n) for f in names]
        if n == 1:
            records = [{f: v[0] for f, v in zip(names, values)}]
        else:
            records = [dict(zip(names, row)) for row in zip(*values)]
        rejected = [i in errors for i in range(n)] if errors else [False] * n
        pred = None
        if outputs is not None and self._prediction is not None:
            col = outputs.get(self._prediction)
            if col is not None:
                pred = [_to_python(x) for x in col] if n > 1 else [_to_python(col[0])]
        if pred is None:
            pred = [None] * n
        elif errors:
            pred = [None if bad else p for bad, p in zip(rejected, pred)]
        self._report(records, rejected, pred)

    # ---------------------------------------------------------------- the model's entry points
    def score_columns(self, columns: Mapping[str, Any], n: int) -> Any:
        """The model's ``score_columns``, observed. A batch that fails as a whole is reported
        when it is one record (a larger one is retried record by record or refused whole)."""
        try:
            batch = self.inner.score_columns(columns, n)
        except Exception:
            if n == 1:
                self._report_columns(columns, 1, {0: True}, None)
            raise
        self._report_columns(columns, n, batch.errors, batch.columns)
        return batch

    def predict(self, data: Any, *, errors: str = "raise") -> Any:
        """The model's ``predict``, observed: one record through its record plan, anything else
        through the observed ``score_columns``."""
        if isinstance(data, Mapping) and not (data and all(_is_column(v)
                                                           for v in data.values())):
            if not self._planned:
                self._plan = self.inner.record_plan()
                self._planned = True
            if self._plan is not None:
                try:
                    out = self._plan(data)
                except Exception:
                    self._report([data], [True], [None])
                    raise
                if out is not None:
                    self._report([data], [False],
                                 [out.get(self._prediction) if self._prediction else None])
                    if errors == "mark":
                        out["error"] = None
                    return out
            cols = {str(k): _one(v) for k, v in data.items()}
            out = self._finish(self._score_checked(cols, 1, errors), errors, 1)
            return {k: _to_python(v[0]) for k, v in out.items()}
        return Model.predict(self, data, errors=errors)   # type: ignore[arg-type]

    # Model.predict's helpers, bound to this object so they call the observed score_columns
    _score_checked = Model._score_checked
    _finish = Model._finish
    _predict_records = Model._predict_records

