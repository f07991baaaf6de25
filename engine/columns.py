"""Input columns as the engines take them: numpy arrays by name, plus, for text that arrived as
Arrow strings (a pandas 3 string column, a CSV chunk), the Arrow array itself, so that a model
can look categories up in Arrow without converting the strings back (see ``Col.text``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


class Columns(dict):
    """name -> numpy array (object arrays for text); ``text``: name -> the same values as an
    Arrow dictionary array of strings (nulls where the numpy array has None): each distinct
    string once, so a model looks its categories up among those few, not among every row."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.text: dict[str, Any] = {}

    def add_text(self, name: str, arrow: Any) -> None:
        """Add a text column from its Arrow string array (kept alongside, dictionary-encoded)."""
        encoded = dictionary_text(arrow)
        self[name] = decode_text(encoded)
        self.text[name] = encoded


def is_text(arrow: Any) -> bool:
    """An Arrow array (or type) of strings."""
    t = getattr(arrow, "type", arrow)
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def dictionary_text(arrow: Any) -> Any:
    """An Arrow string array (or chunked array) as one dictionary array of its strings."""
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks() if arrow.num_chunks != 1 else arrow.chunk(0)
    return arrow if pa.types.is_dictionary(arrow.type) else arrow.dictionary_encode()


def decode_text(arrow: Any) -> np.ndarray:
    """An Arrow string array as an object array of str and None, through its dictionary (one
    Python string per distinct value: faster than converting every value)."""
    encoded = dictionary_text(arrow)
    words = np.empty(len(encoded.dictionary) + 1, dtype=object)   # the last one: None
    words[:-1] = encoded.dictionary.to_pylist()
    return words[encoded.indices.fill_null(len(words) - 1).to_numpy()]


def _block_rows(frame: Any) -> dict[int, np.ndarray]:
    """Column position -> its values, read-only, for the columns pandas keeps in 2-D numpy
    blocks of a plain dtype (numbers, booleans): rows of the block, the array ``to_numpy()``
    of the column gives, without building a Series per column (which costs about 50 us each,
    a millisecond for 20 columns). Reads pandas' block manager where it has one (pandas 1.x to
    3.x); anything else is left to the Series path."""
    mgr = getattr(frame, "_mgr", None)
    out: dict[int, np.ndarray] = {}
    try:
        for blk in getattr(mgr, "blocks", ()):
            vals = blk.values
            if type(vals) is not np.ndarray or vals.ndim != 2 or vals.dtype.kind not in "biuf":
                continue
            for k, pos in enumerate(blk.mgr_locs.as_array):
                row = vals[k].view()
                row.flags.writeable = False
                out[int(pos)] = row
    except (AttributeError, TypeError, ValueError):
        return {}
    return out


def frame_columns(frame: Any) -> Columns:
    """A pandas DataFrame's columns by (string) name; Arrow-backed text columns keep their Arrow
    array alongside their object array."""
    import pandas as pd
    cols = Columns()
    rows = _block_rows(frame) if frame.columns.is_unique else {}
    for i, c in enumerate(frame.columns):
        row = rows.get(i)
        if row is not None:
            cols[str(c)] = row
            continue
        s = frame[c]
        dtype = s.dtype
        arrow_backed = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
            isinstance(dtype, pd.ArrowDtype) and is_text(dtype.pyarrow_dtype))
        if arrow_backed:
            arrow = s.array.__arrow_array__()
            if is_text(arrow):
                cols.add_text(str(c), arrow)
                continue
        cols[str(c)] = s.to_numpy()
    return cols
