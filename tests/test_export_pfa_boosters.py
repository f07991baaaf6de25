"""PFA export of HistGradientBoosting, XGBoost and LightGBM as sums of model.tree.simpleWalk
trees, with missing values (NaN) routed the way each library routes them: portmodel's export
check passes, and portmodel and titus2 score like the estimator within the family's tolerance
(XGBoost adds in float32: 1e-6; the others 1e-9)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from export_util import assert_scores, dataset, expected_outputs

from sklearn.ensemble import (HistGradientBoostingClassifier,  # noqa: E402
                              HistGradientBoostingRegressor)

import portmodel  # noqa: E402
from portmodel.export.pfa_writer import avro_name  # noqa: E402

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

CASES = [("hist", "iris"), ("hist", "breast_cancer"), ("hist", "diabetes"), ("hist", "missing"),
         ("xgb", "iris"), ("xgb", "breast_cancer"), ("xgb", "diabetes"), ("xgb", "missing"),
         ("lgbm", "iris"), ("lgbm", "breast_cancer"), ("lgbm", "diabetes"), ("lgbm", "missing")]
TOLERANCE = {"hist": 1e-9, "xgb": 1e-6, "lgbm": 1e-9}


def _data(name):
    if name == "missing":      # numeric columns with missing cells, a class target
        X, y = dataset("mixed")
        return X.drop(columns=["colour"]), y
    X, y = dataset(name)
    if name == "diabetes":     # missing cells in a regression too
        X = X.copy()
        X.loc[X.index[::9], "bmi"] = np.nan
    return X, y


def _fit(lib, data):
    X, y = _data(data)
    regress = data == "diabetes"
    if lib == "hist":
        cls = HistGradientBoostingRegressor if regress else HistGradientBoostingClassifier
        est = cls(max_iter=15, random_state=0)
    elif lib == "xgb":
        cls = xgb.XGBRegressor if regress else xgb.XGBClassifier
        est = cls(n_estimators=25, max_depth=3, random_state=0)
    else:
        cls = lgb.LGBMRegressor if regress else lgb.LGBMClassifier
        est = cls(n_estimators=25, num_leaves=8, min_child_samples=5, random_state=0,
                  verbose=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est, X, y


@pytest.fixture(scope="module")
def exported():
    cache = {}

    def get(lib, data):
        if (lib, data) not in cache:
            est, X, y = _fit(lib, data)
            text = portmodel.export(est, None, X, format="pfa", target_name=y.name)
            cache[lib, data] = est, X, y, text
        return cache[lib, data]
    return get


def _pmml_name(c: str) -> str:
    return f"probability({c[len('probability_'):]})" if c.startswith("probability_") else c


def _want(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return expected_outputs(est, X, avro_name(y.name))


@pytest.mark.parametrize("lib,data", CASES)
def test_round_trip_in_portmodel(exported, lib, data):
    est, X, y, text = exported(lib, data)
    assert "model.tree.simpleWalk" in json.dumps(json.loads(text)["action"])
    if data in ("missing", "diabetes"):
        assert X.isna().any().any()
    got = portmodel.load(text).predict(X.rename(columns=avro_name)).rename(columns=_pmml_name)
    assert_scores(got, _want(est, X, y), tol=TOLERANCE[lib])


@pytest.mark.parametrize("lib,data", CASES)
def test_same_scores_in_titus(exported, lib, data):
    from pfa_titus_util import titus_engine
    est, X, y, text = exported(lib, data)
    engine = titus_engine(text)
    rows = [engine.action({k: float(v) for k, v in rec.items()})
            for rec in X.rename(columns=avro_name).to_dict("records")]
    got = pd.DataFrame(rows).rename(columns=_pmml_name)
    assert_scores(got, _want(est, X, y), tol=TOLERANCE[lib])
