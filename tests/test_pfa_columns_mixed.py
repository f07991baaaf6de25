"""The column path on records with text, enums, booleans, nullable numbers and arrays (the
documents exporters write): same outputs, same errors and row numbers as the record path, on
random inputs with nulls, NaN, overflow, out-of-vocabulary and out-of-enum values and wrong
types. The column path uses no numba, so there is no numba on/off variant to run."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pfa_paths_util import EXTREMES, PathPair
from portmodel.pfa import load_pfa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from pfa_docs import COLORS, MIXED_DOCS, SIZES, mixed_input, mixed_records  # noqa: E402

_PAIRS: dict[str, PathPair] = {}


def _pair(shape: str) -> PathPair:
    if shape not in _PAIRS:
        _PAIRS[shape] = PathPair(MIXED_DOCS[shape]())
    return _PAIRS[shape]


numbers = st.one_of(st.sampled_from(EXTREMES), st.floats(min_value=-5, max_value=5),
                    st.floats(allow_nan=True, allow_infinity=True))
wrong = st.sampled_from([None, "abc", True, "1.5", [1.0], {"double": 1.0}])


def _sometimes(good, bad=wrong, p: int = 9):
    """Mostly good values, one time in p something else."""
    return st.one_of(*([good] * p), bad)


FIELDS = {
    **{f"x{i}": _sometimes(numbers) for i in range(8)},
    "color": _sometimes(st.sampled_from(COLORS), st.sampled_from(
        ["purple", "", None, 5, "Red", True])),
    "size": _sometimes(st.sampled_from(SIZES), st.sampled_from(["XL", None, 1, "s"])),
    "flag": _sometimes(st.booleans(), st.sampled_from([None, 1, "true", 0.0])),
    "nx": st.one_of(st.none(), numbers, wrong),
    "count": _sometimes(st.integers(-5, 5), st.sampled_from(
        [2 ** 40, 1.5, 2.0, None, "3", True, -2 ** 31 - 1])),
    "vec": _sometimes(st.lists(numbers, min_size=3, max_size=3), st.sampled_from(
        [[1.0], None, [True, 1.0, 2.0], "abc", [1, 2, 3], [], [1.0, None, 2.0]])),
    "note": _sometimes(st.text(max_size=5), st.sampled_from([None, 7])),
}


def _frame(rows: list[dict], layout: str) -> pd.DataFrame:
    names = list(FIELDS)
    if layout == "objects":    # every value as given
        return pd.DataFrame({k: pd.Series([r[k] for r in rows], dtype=object) for k in names})
    frame = pd.DataFrame(rows, columns=names)   # pandas infers: floats, NaN for None...
    if layout == "arrow text":
        for k in ("color", "size", "note"):
            if all(isinstance(r[k], str) or r[k] is None for r in rows):
                frame[k] = frame[k].astype(pd.ArrowDtype(__import__("pyarrow").string()))
    return frame


@pytest.mark.parametrize("shape", list(MIXED_DOCS))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_column_path_equals_record_path(shape: str, data) -> None:
    n = data.draw(st.integers(1, 10))
    rows = [{k: data.draw(s) for k, s in FIELDS.items()} for _ in range(n)]
    layout = data.draw(st.sampled_from(["objects", "inferred", "arrow text"]))
    _pair(shape).check(_frame(rows, layout))


@pytest.mark.parametrize("shape", list(MIXED_DOCS))
def test_clean_data_takes_the_column_path_for_every_row(shape: str, monkeypatch) -> None:
    """On valid data no row is handed to the record path (the speed comes from here)."""
    pair = _pair(shape)
    recs = mixed_records(300)
    frame = pd.DataFrame(recs)
    frame["nx"] = pd.Series([r["nx"] for r in recs], dtype=object)
    got, want = pair.check(frame)
    calls = []
    monkeypatch.setattr(type(pair.batch), "_score_rows",
                        lambda self, c, n: calls.append(n) or (_ for _ in ()).throw(AssertionError))
    pair.batch.predict(frame)
    assert calls == []


def test_errors_name_the_row_and_field_of_the_whole_batch() -> None:
    pair = _pair("logistic regression")
    recs = mixed_records(50)
    recs[7]["color"] = "purple"      # no ordinal code: the map lookup fails (code 2001)
    recs[31]["size"] = "XL"          # not a symbol of the enum
    recs[40]["x3"] = "abc"
    got, want = pair.check(pd.DataFrame(recs))
    errors = got["error"].dropna()
    assert list(errors.index) == [7, 31, 40]
    assert errors[7].startswith("row 7:") and "map key not found" in errors[7]
    assert "row 31" in errors[31] and "'XL' is not a symbol" in errors[31]
    assert "field 'x3'" in errors[40]
    with pytest.raises(Exception) as info:
        pair.batch.predict(pd.DataFrame(recs))
    assert info.value.row == 7


def test_inspect_says_which_path_and_why() -> None:
    doc = MIXED_DOCS["logistic regression"]()
    assert load_pfa(doc).describe()["scoring_path"] == "columns"
    doc["action"] = {"s.len": "input.note"}
    doc["output"] = "int"
    described = load_pfa(doc).describe()
    assert described["scoring_path"] == "records"
    assert described["record_path_reason"] == "the function 's.len'"


def test_string_tree_tests_and_leaves_match_a_hand_walk() -> None:
    """Independent truth for string tests: walk the tree in plain Python."""
    doc = MIXED_DOCS["tree depth 10"](depth=6)
    model = load_pfa(doc)
    assert model.has_batch_path
    tree = doc["cells"]["tree"]["init"]
    recs = mixed_records(200, seed=21)

    def walk(r):
        node = tree
        while True:
            value = next(iter(node["value"].values()))
            x = r[node["field"]]
            ok = {"<": x < value if not isinstance(x, str) else None,
                  "<=": None, ">": None, ">=": None, "==": x == value, "!=": x != value}
            if node["operator"] in ("<", "<=", ">", ">="):
                ok = {"<": x < value, "<=": x <= value, ">": x > value, ">=": x >= value}
            branch = node["pass" if ok[node["operator"]] else "fail"]
            (kind, inner), = branch.items()
            if kind == "string":
                return inner
            node = inner
    out = model.predict(pd.DataFrame(recs))["output"]
    assert list(out) == [walk(r) for r in recs]


def test_one_hot_and_imputed_features_match_the_formula() -> None:
    doc = MIXED_DOCS["logistic regression"]()
    model = load_pfa(doc)
    params = doc["cells"]["model"]["init"]
    recs = mixed_records(100, seed=22)
    frame = pd.DataFrame(recs)
    frame["nx"] = pd.Series([r["nx"] for r in recs], dtype=object)
    out = model.predict(frame)["output"]
    for r, got in zip(recs, out):
        feats = [r[f"x{i}"] for i in range(8)] + [0.0 if r["nx"] is None else r["nx"]]
        feats += [1.0 if r["color"] == c else 0.0 for c in COLORS[:-1]]
        feats += [float(COLORS.index(r["color"])), float(SIZES.index(r["size"])),
                  1.0 if r["flag"] else -1.0, float(r["count"])]
        z = sum(a * b for a, b in zip(feats, params["coeff"])) + params["const"]
        assert got == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-12)


def test_csv_file_takes_the_column_path(tmp_path) -> None:
    """Text cells of every field type arrive through Arrow and agree with the record path."""
    from portmodel.batch import score_file
    recs = mixed_records(40, seed=23)
    lines = [",".join(f["name"] for f in mixed_input()["fields"] if f["name"] != "vec")]
    for r in recs:
        lines.append(",".join("" if r[k] is None else str(r[k]).lower() if isinstance(r[k], bool)
                              else str(r[k]) for k in lines[0].split(",")))
    doc = MIXED_DOCS["tree depth 10"]()
    doc["input"]["fields"] = [f for f in doc["input"]["fields"] if f["name"] != "vec"]
    doc["cells"]["tree"]["type"]["fields"][0]["type"]["symbols"].remove("vec")
    src = tmp_path / "in.csv"
    src.write_text("\n".join(lines) + "\n")
    for batch in (True, False):
        out = tmp_path / f"out{batch}.csv"
        score_file(load_pfa(doc, batch=batch), str(src), str(out))
    assert (tmp_path / "outTrue.csv").read_text() == (tmp_path / "outFalse.csv").read_text()
    assert load_pfa(doc).has_batch_path


@pytest.mark.parametrize("numba", ["on", "off"])
def test_tree_walk_with_and_without_numba(numba: str, monkeypatch) -> None:
    """The tree walk has a numba kernel and a numpy one (PORTMODEL_NO_NUMBA=1): both give the
    record path's leaves, NaN inputs and strings included."""
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1" if numba == "off" else "0")
    pair = _pair("tree depth 10")
    recs = mixed_records(400, seed=24)
    for i in range(0, 400, 7):
        recs[i][f"x{i % 8}"] = float("nan")
    for i in range(3, 400, 11):
        recs[i]["color"] = "unseen"
    pair.check(pd.DataFrame(recs))


def test_cli_inspect_names_the_scoring_path(tmp_path) -> None:
    import json
    import subprocess
    doc = MIXED_DOCS["logistic regression"]()
    (tmp_path / "cols.json").write_text(json.dumps(doc))
    doc["action"] = {"s.len": "input.note"}
    doc["output"] = "int"
    (tmp_path / "rows.json").write_text(json.dumps(doc))
    lines = {}
    for name in ("cols", "rows"):
        run = subprocess.run([sys.executable, "-m", "portmodel", "inspect",
                              str(tmp_path / f"{name}.json")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        lines[name] = [ln.strip() for ln in run.stdout.splitlines() if "scoring:" in ln]
    assert lines == {"cols": ["scoring:  columns"],
                     "rows": ["scoring:  records (the function 's.len')"]}


@pytest.mark.parametrize("shape", ["logistic regression", "tree depth 10", "k-means"])
def test_column_path_agrees_with_the_same_model_written_as_pmml(shape: str) -> None:
    """Independent truth: the PMML engine scoring the same model (benchmarks/
    pmml_equivalents.py: the PFA parameters written as PMML elements)."""
    import portmodel
    from pmml_equivalents import PMML_EQUIVALENTS
    recs = mixed_records(500, seed=25)
    frame = pd.DataFrame(recs)
    frame["nx"] = pd.Series([r["nx"] for r in recs], dtype=object)
    pfa = _pair(shape).batch.predict(frame)["output"].to_numpy()
    pmml_out = portmodel.load(PMML_EQUIVALENTS[shape]()).predict(frame)
    pmml = pmml_out.iloc[:, 0].to_numpy()
    if pfa.dtype.kind == "f":
        np.testing.assert_allclose(pfa, pmml.astype(float), rtol=1e-12)
    else:
        assert list(pfa) == list(pmml)


def _vocabulary_doc() -> dict:
    """Every construct of the column path's vocabulary in one action."""
    arr = {"type": "array", "items": "double"}
    out = {"type": "record", "name": "Out", "fields": [
        {"name": "a", "type": "double"}, {"name": "b", "type": "int"},
        {"name": "c", "type": "boolean"}, {"name": "d", "type": "string"},
        {"name": "e", "type": arr}, {"name": "f", "type": ["null", "double"]},
        {"name": "g", "type": {"type": "map", "values": "double"}}]}
    return {
        "input": mixed_input(), "output": out,
        "cells": {"onehot": {"type": {"type": "map", "values": arr},
                             "init": {c: [float(c == d) for d in COLORS] for c in COLORS[:3]}},
                  "order": {"type": {"type": "array", "items": "string"}, "init": COLORS},
                  "table": {"type": arr, "init": [0.5, 1.5, 2.5, 3.5]}},
        "action": [
            {"let": {"v": {"attr": {"cell": "onehot"}, "path": ["input.color"]},
                     "code": {"a.index": [{"cell": "order"}, "input.color"]},
                     "big": {"cond": [
                         {"if": {"<": ["input.color", {"string": "green"}]}, "then": 1.0},
                         {"if": {"impute.isnan": "input.x0"}, "then": -1.0},
                         {"if": {">=": ["input.count", 3]}, "then": {"/": ["input.x1", "input.x2"]}}],
                         "else": {"impute.defaultOnNonNum": [{"m.ln": "input.x3"}, 0.0]}}}},
            {"new": {
                "a": {"+": ["big", {"a.sum": "v"}]},
                "b": {"if": {"map.containsKey": [{"cell": "onehot"}, "input.color"]},
                      "then": {"+": ["code", {"enum.toInt": "input.size"}]}, "else": -1},
                "c": {"||": [{"==": ["input.size", {"type": "Size", "value": "M"}]},
                             {"&&": ["input.flag", {">": ["input.x4", "input.x5"]}]}]},
                "d": {"if": {"!=": ["input.color", {"string": "red"}]}, "then": "input.color",
                      "else": {"string": "RED"}},
                "e": {"a.map": ["v", {"params": [{"z": "double"}], "ret": "double",
                                      "do": {"m.exp": "z"}}]},
                "f": {"if": "input.flag", "then": "input.nx", "else": {"impute.errorOnNull": "input.nx"}},
                "g": {"new": {"first": {"attr": {"cell": "table"}, "path": ["code"]},
                              "neg": {"u-": "input.x6"}},
                      "type": {"type": "map", "values": "double"}}},
             "type": "Out"}]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_construct_equals_the_record_path(data) -> None:
    if "vocabulary" not in _PAIRS:
        _PAIRS["vocabulary"] = PathPair(_vocabulary_doc())
    n = data.draw(st.integers(1, 10))
    rows = [{k: data.draw(s) for k, s in FIELDS.items()} for _ in range(n)]
    layout = data.draw(st.sampled_from(["objects", "inferred", "arrow text"]))
    _PAIRS["vocabulary"].check(_frame(rows, layout))
