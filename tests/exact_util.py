"""Exact comparison of scored values: two paths that must give the same answer bit for bit."""
from __future__ import annotations

import math

import numpy as np


def canon(v):
    """A scored value for exact comparison: None for missing (None or NaN), floats by their
    bits, anything else with its Python type (numpy scalars as their Python values)."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, float):
        return ("float", v.hex())
    return (type(v).__name__, v)
