"""Export of XGBoost and LightGBM models to PMML: round trip in portmodel within the family's
tolerance (XGBoost adds in float32: 1e-6; LightGBM in double: 1e-9), missing values routed
as the libraries route them, schema validation, and JPMML-Evaluator (which honours
x-mathContext="float")."""
from __future__ import annotations

import numpy as np
import pytest

from export_util import assert_schema_valid, assert_scores, dataset, expected_outputs

import portmodel  # noqa: E402

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

CASES = [
    ("xgb", "iris"), ("xgb", "breast_cancer"), ("xgb", "diabetes"), ("xgb", "missing"),
    ("lgbm", "iris"), ("lgbm", "breast_cancer"), ("lgbm", "diabetes"), ("lgbm", "missing"),
]
TOLERANCE = {"xgb": 1e-6, "lgbm": 1e-9}


def _data(name):
    if name == "missing":
        X, y = dataset("mixed")
        return X.drop(columns=["colour"]), y
    return dataset(name)


def _fit(lib, data):
    X, y = _data(data)
    regress = data == "diabetes"
    if lib == "xgb":
        cls = xgb.XGBRegressor if regress else xgb.XGBClassifier
        est = cls(n_estimators=25, max_depth=3, random_state=0)
    else:
        cls = lgb.LGBMRegressor if regress else lgb.LGBMClassifier
        est = cls(n_estimators=25, num_leaves=8, min_child_samples=5, random_state=0,
                  verbose=-1)
    return est.fit(X, y), X, y


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cache = {}

    def get(lib, data):
        if (lib, data) not in cache:
            est, X, y = _fit(lib, data)
            path = tmp_path_factory.mktemp("boost") / f"{lib}-{data}.pmml"
            portmodel.export(est, path, X, target_name=y.name)
            cache[lib, data] = est, X, y, path
        return cache[lib, data]
    return get


@pytest.mark.parametrize("lib,data", CASES)
def test_round_trip(exported, lib, data):
    est, X, y, path = exported(lib, data)
    got = portmodel.load(path).predict(X)
    assert_scores(got, expected_outputs(est, X, y.name), TOLERANCE[lib])
    if data == "missing":
        assert X.isna().any().any()


@pytest.mark.parametrize("lib,data", CASES)
def test_schema_and_jpmml(exported, lib, data):
    from reference_engines import jpmml_frame
    est, X, y, path = exported(lib, data)
    assert_schema_valid(path)
    got = jpmml_frame(path.read_text(), X.astype(object).where(X.notna(), None))
    assert_scores(got, expected_outputs(est, X, y.name), TOLERANCE[lib])


def test_xgboost_document_says_float_sums(exported):
    _, _, _, path = exported("xgb", "iris")
    text = path.read_text()
    assert 'x-mathContext="float"' in text and 'dataType="float"' in text
