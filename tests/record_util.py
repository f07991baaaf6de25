"""Shared checks of the single-record plans (tests/test_record_*.py): the model with and without
its record plan, the comparison of one record on both, conformance rows as a service sends
them, records one step off the happy path, and the conformance-record loop that holds a
document's every input row to the column plan and to the corpus's expected outputs.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from conformance_util import SHARED, agrees, cases, read_csv
from exact_util import canon


def pair(source) -> tuple[portmodel.Model, portmodel.Model]:
    """The model twice: with its record plan, and with the column plan only."""
    fast = portmodel.load(source)
    fast._record_plan = fast.record_plan()     # (what the first predict(dict) compiles)
    slow = portmodel.load(source)
    slow._record_plan = None
    return fast, slow


def answered_rows(fast, slow, frame: pd.DataFrame) -> list[dict]:
    """Every row of frame as a record: the record plan answers it, with the column plan's
    answer; returns the answers in row order."""
    out = []
    for i, rec in enumerate(frame.to_dict("records")):
        assert same_answer(fast, slow, rec), i
        out.append(fast.predict(rec))
    return out


def same_answer(fast, slow, record) -> bool:
    """predict(record) equal on both; returns whether the record plan answered it."""
    answered = fast._record_plan is not None and fast._record_plan(record) is not None
    try:
        want = slow.predict(record, errors="mark")
    except Exception as exc:          # noqa: BLE001 - the record plan must raise the same
        with pytest.raises(type(exc)):
            fast.predict(record, errors="mark")
        assert not answered
        return False
    got = fast.predict(record, errors="mark")
    assert list(got) == list(want), record
    assert {k: canon(v) for k, v in got.items()} == {k: canon(v) for k, v in want.items()}, \
        record
    return answered


def typed_records(model, frame: pd.DataFrame) -> list[dict]:
    """Conformance input rows (text) as a service would send them: numbers for numeric fields."""
    numeric = {f.name for f in model.inputs if f.data_type in ("double", "float", "integer")}
    out = []
    for row in frame.to_dict("records"):
        rec = {}
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                rec[k] = None
            elif k in numeric:
                rec[k] = float(v)
            else:
                rec[k] = v
        out.append(rec)
    return out


def mutations(model, record: dict):
    """Records one step off the happy path (and a few still on it)."""
    for f in model.inputs:
        name = f.name
        for value in (None, math.nan, math.inf, -math.inf, "", "abc", " 1.5", True,
                      np.float32(1.5), np.int64(3), 7, 2 ** 70, [1.0], np.array([1.0]),
                      "zzz-not-a-category"):
            rec = dict(record)
            rec[name] = value
            yield rec
        rec = dict(record)
        del rec[name]
        yield rec
    yield {**record, "unused_extra": "x"}
    yield {}


@pytest.fixture(scope="module")
def conformance_cases() -> dict:
    """The shared corpus's cases by id (skipped when ../shared/conformance is absent)."""
    found = {c["id"]: c for c in cases()}
    if not found:
        pytest.skip("../shared/conformance is absent")
    return found


def check_conformance_records(case: dict, mutate: int = 0) -> tuple:
    """Every input row of a conformance case through the record plan: exactly the column plan's
    answer, and the corpus's expected outputs (JPMML-Evaluator's) within the case's precision;
    the plan answers at least 90% of the complete records. The first ``mutate`` records are
    also mutated off the happy path. Returns (fast, slow, records) for further checks."""
    fast, slow = pair(SHARED / case["document"])
    assert fast._record_plan is not None
    frame = read_csv(SHARED / case["input"])
    expected = read_csv(SHARED / case["expected"])
    records = typed_records(fast, frame)
    answered = 0
    for i, rec in enumerate(records):
        answered += same_answer(fast, slow, rec)
        got = fast.predict(rec, errors="mark")
        for col in expected.columns:
            if col in case.get("ignore_columns", []):
                continue
            assert col in got, (col, list(got))
            exp = expected[col].iloc[i]
            exp = None if isinstance(exp, float) and math.isnan(exp) else exp
            assert agrees(exp, got[col], case["precision"], case["zero_threshold"]), \
                (i, col, exp, got[col])
    complete = sum(all(rec.get(f.name) is not None for f in fast.inputs) for rec in records)
    assert answered >= 0.9 * complete > 0
    for rec in records[:mutate]:
        for m in mutations(fast, rec):
            same_answer(fast, slow, m)
    return fast, slow, records
