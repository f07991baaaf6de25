"""Reading and comparing the shared PMML conformance cases (see ../shared/conformance/README.md)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "conformance"
MANIFEST = SHARED / "pmml" / "manifest.json"


def cases() -> list[dict]:
    if not MANIFEST.exists():
        return []
    return json.loads(MANIFEST.read_text())["cases"]


def read_csv(path: Path) -> pd.DataFrame:
    """Conformance CSV: NA and N/A mean missing; everything else is kept as text."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=["NA", "N/A"])


def load_input(case: dict) -> Any:
    df = read_csv(SHARED / case["input"])
    group = case.get("group_by")
    if group:
        item_col = [c for c in df.columns if c != group][0]
        baskets = []
        for _, g in df.groupby(group, sort=False):
            baskets.append({item_col: [v for v in g[item_col] if isinstance(v, str)]})
        return baskets
    return df


def agrees(expected: Any, actual: Any, precision: float, zero: float) -> bool:
    """The manifest's comparison rule for one cell."""
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if actual is None or (isinstance(actual, float) and math.isnan(actual)):
        return False
    if isinstance(actual, (bool, np.bool_)):
        return str(expected).strip().lower() == str(bool(actual)).lower()
    if isinstance(actual, (int, float, np.integer, np.floating)):
        try:
            e = float(expected)
        except ValueError:
            return False
        a = float(actual)
        if abs(e) <= zero and abs(a) <= zero:
            return True
        lo, hi = sorted((e * (1 - precision), e * (1 + precision)))
        return lo <= a <= hi
    if isinstance(actual, (list, tuple)):
        return str(expected) == str(list(actual)) or str(expected) == ",".join(map(str, actual))
    return str(expected) == str(actual)


def compare(case: dict, result: pd.DataFrame | list) -> list[str]:
    """Mismatch messages (empty when the case passes)."""
    expected = read_csv(SHARED / case["expected"])
    if isinstance(result, list):
        result = pd.DataFrame(result)
    problems = []
    cols = [c for c in expected.columns if c not in case.get("ignore_columns", [])]
    if len(result) != len(expected):
        return [f"{len(result)} result rows for {len(expected)} expected rows"]
    for c in cols:
        if c not in result.columns:
            problems.append(f"column {c!r} not produced (got {list(result.columns)})")
            continue
        exp = expected[c].tolist()
        act = result[c].tolist()
        bad = [i for i in range(len(exp))
               if not agrees(None if (isinstance(exp[i], float) and math.isnan(exp[i])) else exp[i],
                             act[i], case["precision"], case["zero_threshold"])]
        if bad:
            i = bad[0]
            problems.append(f"column {c!r}: {len(bad)} rows differ, first row {i}: "
                            f"expected {exp[i]!r}, got {act[i]!r}")
    return problems
