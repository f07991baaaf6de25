"""The packed-row entry of the single-record plans (pmml/record_row.py): the compiled forest
kernel (``_record_numba.forest_row``) and its plain-Python twin (``record_tree.forest_row_twin``)
give the same answers, and both the column plan's, bit for bit; models whose inputs are plain
numeric fields take the packed row.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import portmodel
from conformance_util import SHARED
from record_util import (conformance_cases, mutations, pair, same_answer,  # noqa: F401
                         typed_records)

pytest.importorskip("numba")

SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, 3.4028235e38, 3.5e38, -3.5e38, 1e-300]


def _records(path, base_rows: list[dict]) -> list[dict]:
    """Rows of the data, and each with one field set to a split threshold, its neighbouring
    doubles, or a special value (float32 overflow, subnormals, signed zeros)."""
    doc = path.read_text() if hasattr(path, "read_text") else path
    thresholds: dict[str, set] = {}
    for field, value in re.findall(r'SimplePredicate field="([^"]+)" operator="\w+" '
                                   r'value="([^"]+)"', doc):
        try:
            thresholds.setdefault(field, set()).add(float(value))
        except ValueError:
            pass
    out = list(base_rows)
    base = base_rows[0]
    for field, values in thresholds.items():
        if not isinstance(base.get(field), float):
            continue
        for v in sorted(values)[:4]:
            for x in (v, np.nextafter(v, -np.inf), np.nextafter(v, np.inf), float(np.float32(v))):
                out.append({**base, field: float(x)})
        for x in SPECIAL:
            out.append({**base, field: float(x)})
    return out


def _three(monkeypatch, source):
    """The record plan with the numba kernel, the same with the Python twin, and the column
    plan only."""
    fast, slow = pair(source)
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    twin = portmodel.load(source)
    twin._record_plan = twin.record_plan()
    monkeypatch.delenv("PORTMODEL_NO_NUMBA")
    return fast, twin, slow


@pytest.mark.parametrize("name", ["forest_wine", "forest_diabetes", "gbm_cancer", "gbm_iris",
                                  "gbm_diabetes"])
def test_kernel_twin_and_column_plan_agree(monkeypatch, fitted, name):
    f = fitted[name]
    fast, twin, slow = _three(monkeypatch, f.path)
    assert fast._record_plan.__name__ == "fused"     # (the packed row, not the env dict)
    assert twin._record_plan.__name__ == "fused"
    answered = 0
    for rec in _records(f.path, f.X.head(30).to_dict("records")):
        a = same_answer(fast, slow, rec)
        assert same_answer(twin, slow, rec) == a, rec
        answered += a
    assert answered > 30
    for m in mutations(fast, f.X.iloc[0].to_dict()):
        same_answer(fast, slow, m)
        same_answer(twin, slow, m)


@pytest.mark.parametrize("case_id", ["rattle/RandomForestAudit", "rattle/RandomForestIris"])
def test_conformance_forests_both_ways(monkeypatch, conformance_cases, case_id):
    """Votes and categorical splits (value sets) through the kernel and the twin."""
    from conformance_util import read_csv
    case = conformance_cases[case_id]
    fast, twin, slow = _three(monkeypatch, SHARED / case["document"])
    records = typed_records(fast, read_csv(SHARED / case["input"]))
    answered = 0
    for rec in records:
        a = same_answer(fast, slow, rec)
        assert same_answer(twin, slow, rec) == a
        answered += a
    assert answered > 0.5 * len(records)


def test_sample_forest_takes_the_packed_row(samples_dir):
    m = portmodel.load(samples_dir / "iris_forest.pmml")
    rec = {"sepal_length": 5.1, "petal_length": 1.4, "petal_width": 0.2, "sepal_width": 3.5}
    plan = m.record_plan()
    assert plan.__name__ == "fused"
    out = plan(rec)
    assert out is not None and out == m.predict(rec)
    assert plan({**rec, "petal_length": 1}) == m.predict({**rec, "petal_length": 1.0})
    assert plan({**rec, "petal_length": math.nan}) is None


def test_predict_takes_the_record_plan(monkeypatch, samples_dir):
    """predict(dict) answers from the record plan without the column plan; a record the plan
    declines (a missing value) goes to the column plan once."""
    m = portmodel.load(samples_dir / "iris_forest.pmml")
    rec = {"sepal_length": 5.1, "petal_length": 1.4, "petal_width": 0.2, "sepal_width": 3.5}
    want = m.predict(rec)
    calls = []
    column = m._score_checked
    monkeypatch.setattr(m, "_score_checked", lambda *a, **k: calls.append(1) or column(*a, **k))
    assert m.predict(rec) == want and m.predict(rec, errors="mark") == {**want, "error": None}
    assert calls == []
    m.predict({**rec, "petal_length": None})
    assert calls == [1]
