"""The numpy batch path gives the same results as the per-record engine (and hand-computed
values), and steps aside whenever it cannot guarantee that."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portmodel.pfa import load_pfa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from pfa_docs import logistic_regression_doc, records, tree_doc  # noqa: E402

ARR = {"type": "array", "items": "double"}
REC2 = {"type": "record", "name": "In", "fields": [{"name": "x", "type": "double"},
                                                   {"name": "y", "type": "double"}]}


def both(doc: dict, rows: list[dict]) -> tuple[np.ndarray, list]:
    batch_model = load_pfa(doc)
    assert batch_model.has_batch_path
    plain = load_pfa(doc, batch=False)
    df = pd.DataFrame(rows)
    return batch_model.predict(df), [plain.action(r) for r in rows]


def test_logistic_regression_batch_matches_per_record_and_formula():
    doc = logistic_regression_doc(n_features=4)
    rows = records(500, n_features=4)
    out, ref = both(doc, rows)
    np.testing.assert_allclose(out["output"].to_numpy(), ref, rtol=1e-12)
    model = doc["cells"]["model"]["init"]
    r = rows[0]
    z = sum(c * r[f"x{i}"] for i, c in enumerate(model["coeff"])) + model["const"]
    assert math.isclose(out["output"][0], 1 / (1 + math.exp(-z)), rel_tol=1e-12)


def test_tree_batch_matches_per_record_including_nan_inputs():
    doc = tree_doc(depth=6)
    rows = records(400)
    rows[3]["x0"] = float("nan")
    rows[7] = {k: float("nan") for k in rows[7]}
    out, ref = both(doc, rows)
    np.testing.assert_array_equal(out["output"].to_numpy(), np.array(ref))


def _network_doc(layers: list[dict]) -> dict:
    mtype = {"type": "array", "items": {"type": "record", "name": "Layer", "fields": [
        {"name": "weights", "type": {"type": "array", "items": ARR}},
        {"name": "bias", "type": ARR}]}}
    return {"input": REC2, "output": ARR, "cells": {"nn": {"type": mtype, "init": layers}},
            "action": {"model.neural.simpleLayers": [
                {"new": ["input.x", "input.y"], "type": ARR}, {"cell": "nn"},
                {"params": [{"v": "double"}], "ret": "double", "do": {"m.link.logit": "v"}}]}}


def test_neural_network_batch():
    layers = [{"weights": [[0.5, -1.0], [1.5, 0.25], [-0.5, 2.0]], "bias": [0.1, -0.2, 0.0]},
              {"weights": [[1.0, -1.0, 0.5]], "bias": [0.3]}]
    doc = _network_doc(layers)
    rows = [{"x": 0.5, "y": -1.0}, {"x": 2.0, "y": 3.0}]
    out, ref = both(doc, rows)
    for got, want in zip(out["output"], ref):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    h = [1 / (1 + math.exp(-(w[0] * 0.5 + w[1] * -1.0 + b)))
         for w, b in zip(layers[0]["weights"], layers[0]["bias"])]
    want0 = sum(a * b for a, b in zip(layers[1]["weights"][0], h)) + 0.3
    assert math.isclose(out["output"][0][0], want0, rel_tol=1e-12)


def test_ragged_weights_fail_as_on_the_record_path():
    """Weights that are no matrix: the batch steps aside and the record path's error (spec code
    11001, inconsistent dimensions) reaches the user, whichever path was asked for."""
    from portmodel.pfa.errors import PFARuntimeError
    layers = [{"weights": [[0.5, -1.0], [1.5]], "bias": [0.1, -0.2]},
              {"weights": [[1.0, -1.0]], "bias": [0.3]}]
    rows = pd.DataFrame([{"x": 0.5, "y": -1.0}, {"x": 2.0, "y": 3.0}])
    codes = []
    for batch in (True, False):
        with pytest.raises(PFARuntimeError) as info:
            load_pfa(_network_doc(layers), batch=batch).predict(rows)
        codes.append(info.value.code)
    assert codes == [11001, 11001]


def test_cluster_batch_returns_record_fields():
    ctype = {"type": "array", "items": {"type": "record", "name": "Cluster", "fields": [
        {"name": "center", "type": ARR}, {"name": "id", "type": "string"}]}}
    clusters = [{"center": [0.0, 0.0], "id": "origin"}, {"center": [10.0, 10.0], "id": "far"}]
    doc = {"input": REC2, "output": "string", "cells": {"c": {"type": ctype, "init": clusters}},
           "action": {"attr": {"model.cluster.closest": [
               {"new": ["input.x", "input.y"], "type": ARR}, {"cell": "c"},
               {"fcn": "metric.euclidean", "fill": {"similarity": {"fcn": "metric.absDiff"}}}]},
               "path": [["id"]]}}
    rows = [{"x": 1.0, "y": 1.0}, {"x": 9.0, "y": 6.0}, {"x": 5.0, "y": 5.0}]
    out, ref = both(doc, rows)
    assert list(out["output"]) == ref == ["origin", "far", "origin"]


def test_impure_or_unusual_actions_do_not_take_the_batch_path():
    counting = {"input": "double", "output": "double",
                "cells": {"n": {"type": "int", "init": 0}},
                "action": [{"cell": "n", "to": {"+": [{"cell": "n"}, 1]}}, "input"]}
    assert not load_pfa(counting).has_batch_path
    logging = {"input": "double", "output": "double", "action": [{"log": "input"}, "input"]}
    assert not load_pfa(logging).has_batch_path
    strings = {"input": {"type": "record", "name": "S", "fields": [
        {"name": "s", "type": "string"}, {"name": "x", "type": "double"}]},
        "output": "string", "action": {"s.concat": ["input.s", "input.s"]}}
    model = load_pfa(strings)
    assert not model.has_batch_path
    assert model.describe()["record_path_reason"] == "the function 's.concat'"
    # a string field the action does not read no longer keeps the document off columns
    unread = dict(strings, output="double", action={"m.exp": "input.x"})
    assert load_pfa(unread).describe()["scoring_path"] == "columns"


def test_batch_falls_back_for_rows_the_engine_rejects():
    doc = logistic_regression_doc(n_features=2)
    model = load_pfa(doc)
    bad = pd.DataFrame({"x0": [1.0, None], "x1": [0.5, 0.5]}, dtype=object)
    marked = model.predict(bad, errors="mark")
    assert pd.isna(marked["error"][0]) and "x0" in marked["error"][1]
    assert math.isnan(marked["output"][1])


def test_predict_without_batch_flag_is_identical():
    doc = tree_doc(depth=4)
    rows = records(50)
    a = load_pfa(doc).predict(pd.DataFrame(rows))["output"].to_numpy()
    b = load_pfa(doc, batch=False).predict(pd.DataFrame(rows))["output"].to_numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("link", ["m.link.probit", "m.link.cloglog", "m.link.softplus",
                                  "m.link.tanh", "m.link.relu", "m.link.cauchit"])
def test_link_functions_batch(link: str):
    doc = {"input": REC2, "output": "double",
           "action": {link: {"+": ["input.x", {"*": ["input.y", 2.0]}]}}}
    rows = [{"x": v, "y": w} for v in (-40.0, -1.0, 0.0, 0.3, 50.0) for w in (-2.0, 0.0, 1.5)]
    out, ref = both(doc, rows)
    np.testing.assert_allclose(out["output"].to_numpy(), ref, rtol=1e-12, atol=1e-300)
