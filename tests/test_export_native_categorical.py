"""Native categorical tree splits: HistGradientBoosting with categorical features (pandas
category columns) and LightGBM with categorical_feature (integer codes), to PFA (a TreeNode
whose value is the category array, operator "in"; a missing value reaches the Datum as -1) and,
for LightGBM, to PMML (SimpleSetPredicate). Scored like the estimator in portmodel and in titus2
(PFA) or JPMML-Evaluator (PMML), within 1e-9, on rows with missing values."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from export_util import TOL, assert_scores, dataset, pmml_name

from sklearn.ensemble import (HistGradientBoostingClassifier,  # noqa: E402
                              HistGradientBoostingRegressor)

import portmodel  # noqa: E402
from portmodel.export.pfa_writer import avro_name  # noqa: E402


def _hgb_frame():
    X, y = dataset("mixed")
    X = X.astype({"colour": "category"})
    rng = np.random.default_rng(0)
    X["band"] = pd.Categorical(rng.choice(list("abcdefghij"), len(X)))
    X.loc[rng.random(len(X)) < 0.1, "band"] = np.nan
    return X, y


def _lgbm_frame():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"code": rng.integers(0, 8, 500).astype(float), "x": rng.normal(size=500)})
    X.loc[rng.random(500) < 0.1, "code"] = np.nan
    X.loc[rng.random(500) < 0.05, "x"] = np.nan
    return X


def _cases():
    def hgb_clf():
        X, y = _hgb_frame()
        return HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(X, y), X

    def hgb_reg():
        X, _ = _hgb_frame()
        y = X["alcohol"] + X["band"].cat.codes % 3
        X = X.drop(columns=["alcohol"])
        return HistGradientBoostingRegressor(max_iter=15, random_state=0).fit(X, y), X

    def lgbm(cls: str):
        def make():
            lightgbm = pytest.importorskip("lightgbm")
            X = _lgbm_frame()
            y = ((np.isin(X["code"], [1, 3, 5]) + X["x"].fillna(0)) > 0.5).astype(int)
            if cls == "LGBMRegressor":
                y = X["code"].fillna(9) % 3 + X["x"].fillna(0)
            est = getattr(lightgbm, cls)(n_estimators=10, verbose=-1, min_data_per_group=5,
                                         cat_smooth=1)
            return est.fit(X, y, categorical_feature=[0]), X
        return make
    return {"hgb_classifier": hgb_clf, "hgb_regressor": hgb_reg,
            "lgbm_classifier": lgbm("LGBMClassifier"), "lgbm_regressor": lgbm("LGBMRegressor")}


CASES = _cases()


def _want(est, X) -> dict:
    out = {"t": np.asarray(est.predict(X))}
    if hasattr(est, "predict_proba"):
        p = est.predict_proba(X)
        out.update({f"probability({c})": p[:, k] for k, c in enumerate(est.classes_)})
    return out


@pytest.fixture(scope="module")
def exported():
    cache: dict = {}

    def get(case, fmt):
        if (case, fmt) not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est, X = CASES[case]()
            cache[case, fmt] = est, X, portmodel.export(est, None, X, format=fmt,
                                                        target_name="t")
        return cache[case, fmt]
    return get


@pytest.mark.parametrize("case", list(CASES))
def test_pfa_categorical_splits_in_portmodel(exported, case):
    est, X, text = exported(case, "pfa")
    assert '"operator":"in"' in text
    got = portmodel.load(text).predict(X.rename(columns=avro_name)).rename(columns=pmml_name)
    assert_scores(got, _want(est, X), TOL)


@pytest.mark.oracle
@pytest.mark.parametrize("case", list(CASES))
def test_pfa_categorical_splits_in_titus(exported, case):
    from pfa_titus_util import titus_engine
    est, X, text = exported(case, "pfa")
    types = {f["name"]: f["type"] for f in json.loads(text)["input"]["fields"]}
    engine = titus_engine(text)
    rows = []
    for rec in X.rename(columns=avro_name).to_dict("records"):
        rows.append(engine.action({k: v if isinstance(v, str) else None if types[k] != "double"
                                   else float(v) for k, v in rec.items()}))
    got = pd.DataFrame(rows).rename(columns=pmml_name)
    assert_scores(got, _want(est, X), TOL)


@pytest.mark.parametrize("case", ["lgbm_classifier", "lgbm_regressor"])
def test_lgbm_categorical_splits_in_pmml(exported, case):
    est, X, text = exported(case, "pmml")
    assert 'booleanOperator="isIn"' in text
    assert_scores(portmodel.load(text).predict(X), _want(est, X), TOL)


@pytest.mark.oracle
@pytest.mark.parametrize("case", ["lgbm_classifier", "lgbm_regressor"])
def test_lgbm_categorical_splits_in_jpmml(exported, case):
    from reference_engines import jpmml_frame
    est, X, text = exported(case, "pmml")
    assert_scores(jpmml_frame(text, X.astype(object).where(X.notna(), None)), _want(est, X), TOL)
