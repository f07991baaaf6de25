"""Compare the PFA column (batch) path with the record path, the reference, on the same rows:
exactly (``assert_same_frames``, ``assert_paths_equal``) or to 12 digits (``PathPair``), and
count the rows the column path hands to the record path."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from portmodel.pfa import load_pfa

INPUT3 = {"type": "record", "name": "In", "fields": [
    {"name": n, "type": "double"} for n in ("a", "b", "c")]}

# values that overflow, underflow or are not numbers, mixed into random inputs
EXTREMES = [0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 1.7976931348623157e308, 710.0, -710.0, 1e-308,
            5e-324, float("inf"), float("-inf"), float("nan"), 40.0, -40.0, 1e154, -1e154]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.generic):
        a = a.item()
    if isinstance(b, np.generic):
        b = b.item()
    none_a = a is None or (isinstance(a, float) and math.isnan(a))
    none_b = b is None or (isinstance(b, float) and math.isnan(b))
    if none_a or none_b:
        return none_a == none_b
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a is b
        a, b = float(a), float(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(a, (list, tuple, np.ndarray)) and isinstance(b, (list, tuple, np.ndarray)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class PathPair:
    """One document loaded twice: with its column path and record by record only."""

    def __init__(self, doc: dict, expect_batch: bool = True):
        self.doc = doc
        self.batch = load_pfa(doc)
        if expect_batch:
            assert self.batch.has_batch_path, "the document should take the column path"
        self.rows = load_pfa(doc, batch=False)

    def check(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Score the frame both ways (errors marked) and assert identical outputs and errors."""
        got = self.batch.predict(frame, errors="mark")
        want = self.rows.predict(frame, errors="mark")
        assert list(got.columns) == list(want.columns)
        for name in want.columns:
            for i, (x, y) in enumerate(zip(got[name], want[name])):
                assert _same(x, y), f"row {i} {name}: column path {x!r}, record path {y!r}\n" \
                                    f"{frame.iloc[i].to_dict()}"
        return got, want


def assert_same_frames(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """The same columns and values bit for bit: the same floats (-0.0 apart from 0.0, NaN in
    the same rows, any NaN), other cells equal (or both NaN)."""
    assert list(got.columns) == list(want.columns)
    for name in want.columns:
        g, w = got[name].to_numpy(), want[name].to_numpy()
        if g.dtype.kind == "f" and w.dtype.kind == "f":
            nan = np.isnan(g)
            assert np.array_equal(nan, np.isnan(w)), name
            gi, wi = g[~nan].view(np.int64), w[~nan].view(np.int64)
            assert np.array_equal(gi, wi), name
        else:
            bad = [i for i, (a, b) in enumerate(zip(g, w))
                   if not (a == b or (a != a and b != b))]
            assert not bad, f"{name} rows {bad[:5]}: {g[bad[0]]!r} vs {w[bad[0]]!r}"


def random_frame(seed: int = 0, n: int = 400) -> pd.DataFrame:
    """Columns a, b, c (INPUT3's fields): normal values, a quarter of them EXTREMES."""
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 2, size=(n, 3))
    mask = rng.random(size=data.shape) < 0.25
    data[mask] = rng.choice(EXTREMES, size=mask.sum())
    return pd.DataFrame(data, columns=["a", "b", "c"])


def assert_paths_equal(doc: dict, frame: pd.DataFrame, *, numba: str | None = None,
                       monkeypatch: Any = None, **load: Any
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The document takes the column path and scores the frame as the record path does, bit
    for bit, errors (marked) included; numba "on"/"off" through PORTMODEL_NO_NUMBA when given.
    Returns (column path's frame, record path's frame)."""
    if numba is not None:
        monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1" if numba == "off" else "0")
    columns, records = load_pfa(doc, **load), load_pfa(doc, batch=False, **load)
    assert columns.has_batch_path, columns.batch_path_reason
    got, want = columns.predict(frame, errors="mark"), records.predict(frame, errors="mark")
    assert_same_frames(got, want)
    return got, want


def rows_sent_to_record_path(doc: dict, frame: pd.DataFrame, monkeypatch: Any) -> int:
    """How many rows of the frame the column path hands to the record path."""
    model = load_pfa(doc)
    calls: list[int] = []
    real = type(model)._score_rows
    monkeypatch.setattr(type(model), "_score_rows",
                        lambda self, c, n: calls.append(n) or real(self, c, n))
    model.predict(frame)
    return sum(calls)
