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


@pytest.mark.parametrize("categories", [CATS, ["red", "green", "red", "blue", "green"], ["zz"]])
@pytest.mark.parametrize("kind", ["string", "large_string"])
def test_codes_through_a_dictionary_array(categories, kind):
    # text that came as Arrow strings is kept dictionary-encoded (each distinct string once):
    # its codes are Python's equality's, nulls and strings outside the categories -1
    import pyarrow as pa
    from portmodel.columns import dictionary_text
    rng = np.random.default_rng(1)
    words = ["red", "green", "blue", "grey", "Red ", "", "RED", None]
    values = [words[i] for i in rng.integers(0, len(words), 4000)]
    arrow = pa.chunked_array([pa.array(values[:1500], getattr(pa, kind)()),
                              pa.array(values[1500:], getattr(pa, kind)())])
    text = dictionary_text(arrow)
    assert pa.types.is_dictionary(text.type)
    obj = np.empty(len(values), object)
    obj[:] = values
    assert codes(obj, categories, text).tolist() == _truth(values, categories)
    none = dictionary_text(pa.array([None] * 100, pa.string()))
    assert codes(np.full(100, None, object), categories, none).tolist() == [-1] * 100
