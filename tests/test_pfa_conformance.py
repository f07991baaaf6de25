"""Every trial of the shared PFA conformance slice (../shared/conformance/pfa/pfa-tests-re.json).

Trial format (see ../shared/conformance/README.md): a PFA document, samples, and either the
expected result (Avro-JSON: tagged unions, base64 bytes, "inf"/"-inf"/"nan" doubles) or the
expected runtime error code. Tolerance: absolute 1e-8 near zero, otherwise relative 0.01.
"""
from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest

from portmodel.pfa import PFARuntimeError, load_pfa
from portmodel.pfa.types import AvroType, matches

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "pfa" / \
    "pfa-tests-re.json"


def _suite() -> list[dict]:
    if not SUITE.exists():
        return []
    return json.loads(SUITE.read_text())["pfa-tests"]


def _tag(t: AvroType) -> str:
    return t.fullname if t.kind in ("record", "enum", "fixed") else t.kind


def decode(t: AvroType, j: Any) -> Any:
    """Suite JSON -> Python input value of type t."""
    k = t.kind
    if k in ("bytes", "fixed"):
        return base64.b64decode(j)
    if k in ("float", "double"):
        return float(j) if isinstance(j, str) else float(j)
    if k == "array":
        return [decode(t.items, x) for x in j]
    if k == "map":
        return {a: decode(t.values, x) for a, x in j.items()}
    if k == "record":
        return {f.name: decode(f.type, j[f.name]) for f in t.fields if f.name in j}
    if k == "union":
        if j is None:
            return None
        (tag, val), = j.items()
        member = next(m for m in t.types if _tag(m) == tag or getattr(m, "name", None) == tag)
        return decode(member, val)
    return j


def encode(t: AvroType, v: Any) -> Any:
    """Output value -> suite JSON conventions."""
    k = t.kind
    if k in ("bytes", "fixed"):
        return base64.b64encode(v).decode()
    if k in ("float", "double"):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if k == "array":
        return [encode(t.items, x) for x in v]
    if k == "map":
        return {a: encode(t.values, x) for a, x in v.items()}
    if k == "record":
        return {f.name: encode(f.type, v[f.name]) for f in t.fields}
    if k == "union":
        if v is None:
            return None
        member = next(m for m in t.types if matches(m, v))
        return {_tag(member): encode(member, v)}
    return v


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if abs(expected) < 1e-8 and abs(actual) < 1e-8:
            return True
        return math.isclose(expected, actual, rel_tol=0.01, abs_tol=1e-8)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(a, b) for a, b in zip(expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(expected[k], actual[k]) for k in expected)
    return expected == actual


CASES = [(i, t) for i, t in enumerate(_suite())]


@pytest.mark.skipif(not SUITE.exists(), reason="../shared/conformance/pfa is not available")
@pytest.mark.parametrize("index,test", CASES, ids=[f"{t['function']}-{i}" for i, t in CASES])
def test_conformance_engine(index: int, test: dict) -> None:
    model = load_pfa(test["engine"])
    failures = []
    for trial in test["trials"]:
        sample = decode(model.input_type, trial["sample"])
        try:
            got = ("result", encode(model.output_type, model.action(sample)))
        except PFARuntimeError as exc:
            got = ("error", exc.code)
        want = ("error", trial["error"]) if "error" in trial else ("result", trial["result"])
        if got[0] != want[0] or not same(want[1], got[1]):
            failures.append(f"{trial['sample']!r}: expected {want}, got {got}")
    assert not failures, f"{len(failures)} of {len(test['trials'])} trials failed:\n" + \
        "\n".join(failures[:10])


@pytest.mark.skipif(not SUITE.exists(), reason="../shared/conformance/pfa is not available")
def test_conformance_trial_count() -> None:
    """The slice is the one described in the README (30 engines, 723 trials)."""
    suite = _suite()
    assert len(suite) == 30
    assert sum(len(t["trials"]) for t in suite) == 723
