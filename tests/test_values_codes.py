"""``codes``: the position of each value among a field's categories, -1 when absent or missing.
Large text columns take Arrow's hash lookup; every shape of input must answer what Python's own
equality answers (a dict of first positions)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from portmodel.pmml.values import codes


def _truth(values, categories) -> list[int]:
    first: dict = {}
    for i, c in enumerate(categories):
        first.setdefault(c, i)
    out = []
    for v in values:
        missing = v is None or v is pd.NA or (isinstance(v, float) and v != v)
        try:
            out.append(-1 if missing else first.get(v, -1))
        except TypeError:                 # unhashable: never a category
            out.append(-1)
    return out


CATS = ["red", "green", "blue", "Red ", ""]
POOL = ["red", "green", "blue", "grey", "Red ", "red ", "", "RED", None, np.nan, pd.NA,
        np.str_("green")]


@pytest.mark.parametrize("extra", [[], [b"red"], [3], [2.5], [("red",)]])
@pytest.mark.parametrize("categories", [CATS, ["red", "green", "red", "blue", "green"]])
def test_codes_match_python_equality(extra, categories):
    rng = np.random.default_rng(0)
    values = np.empty(5000, object)
    values[:] = [POOL[i] for i in rng.integers(0, len(POOL), 5000)]
    if extra:
        values[::97] = extra[0]
    got = codes(values, categories)
    assert got.dtype == np.int64
    assert got.tolist() == _truth(values, categories)


def test_small_and_numeric_columns():
    assert codes(np.array(["b", "a", "z"], object), ["a", "b"]).tolist() == [1, 0, -1]
    assert codes(np.array([2.0, 1.0, np.nan, 3.0] * 100), [1.0, 2.0]).tolist() == \
        [1, 0, -1, -1] * 100
