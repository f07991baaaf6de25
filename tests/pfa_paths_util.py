"""Compare the PFA column (batch) path with the record path, the reference, on the same rows."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from portmodel.pfa import load_pfa

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
