"""frame_columns: a DataFrame's columns as the engines read them, through pandas' blocks."""
from __future__ import annotations

import numpy as np
import pandas as pd

from portmodel.columns import frame_columns


def test_every_column_is_what_to_numpy_gives_and_read_only():
    """Numeric and boolean columns (read as rows of pandas' 2-D blocks), datetimes, nullable
    integers, text and Arrow text give the values, dtype and memory of ``Series.to_numpy()``,
    and none of them can be written through (scoring never changes the user's frame)."""
    n = 50
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"f1": rng.normal(size=n), "i": np.arange(n), "f2": rng.normal(size=n),
                       "b": rng.random(n) < 0.5, "f32": rng.normal(size=n).astype(np.float32),
                       "d": pd.date_range("2020-01-01", periods=n),
                       "nullable": pd.array([1, None] * (n // 2), dtype="Int64"),
                       "text": ["a", None] * (n // 2)})
    df["late"] = 3.0                                  # a float column in a block of its own
    cols = frame_columns(df)
    assert list(cols) == list(df.columns)
    for name in df.columns:
        want = df[name].to_numpy()
        got = cols[name]
        assert got.dtype == want.dtype, name
        if got.dtype == object:
            assert list(got) == [None if v is None or v != v else v for v in want], name
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)
        if name in ("f1", "i", "f2", "b", "f32", "late"):    # numpy blocks
            assert np.shares_memory(got, want), name   # read in place, not copied
            assert not got.flags.writeable, name


def test_non_string_column_names():
    """Columns named by numbers are keyed by their string."""
    df = pd.DataFrame(np.arange(6.0).reshape(3, 2), columns=[0, 1])
    cols = frame_columns(df)
    np.testing.assert_array_equal(cols["0"], [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(cols["1"], [1.0, 3.0, 5.0])
