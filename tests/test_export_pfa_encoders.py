"""PFA export of OrdinalEncoder (a.index into the fitted categories) and KBinsDiscretizer
(a.count of the inner edges at or below the value, ordinal and one-hot): portmodel's export
check passes, and portmodel and titus2 score like scikit-learn within 1e-9."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from export_util import assert_scores, dataset, expected_outputs, export_fixture, pmml_name

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import (KBinsDiscretizer, OrdinalEncoder,  # noqa: E402
                                   StandardScaler)
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

import portmodel  # noqa: E402
from portmodel.export.pfa_writer import avro_name  # noqa: E402

NUM = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols"]


def _mixed():
    X, y = dataset("mixed")     # text inputs of a PFA document have no missing values
    return X.assign(colour=X["colour"].fillna("white")), y


def _wine_numbers():
    X, y = dataset("wine")
    return X[NUM], y


CASES = {
    "ordinal_tree-mixed": (_mixed, lambda: make_pipeline(ColumnTransformer([
        ("num", "passthrough", NUM), ("cat", OrdinalEncoder(), ["colour"])]),
        DecisionTreeClassifier(max_depth=5, random_state=0))),
    "ordinal_unknown_logistic-mixed": (_mixed, lambda: make_pipeline(ColumnTransformer([
        ("num", StandardScaler(), ["alcohol", "magnesium"]),
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
         ["colour"])]), LogisticRegression(max_iter=2000))),
    "kbins_ordinal_logistic-wine": (_wine_numbers, lambda: make_pipeline(
        KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="quantile"),
        LogisticRegression(max_iter=2000))),
    "kbins_onehot_ridge-diabetes": (lambda: dataset("diabetes"), lambda: make_pipeline(
        KBinsDiscretizer(n_bins=5, encode="onehot-dense", strategy="uniform"), Ridge())),
}


exported = export_fixture(CASES)


def _rows(X):
    return [{k: (float(v) if not isinstance(v, str) else v) for k, v in rec.items()}
            for rec in X.rename(columns=avro_name).to_dict("records")]


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_in_portmodel(exported, case):
    est, X, y, text = exported(case)
    got = portmodel.load(text).predict(X.rename(columns=avro_name)).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name)))


@pytest.mark.parametrize("case", list(CASES))
def test_same_scores_in_titus(exported, case):
    from pfa_titus_util import titus_engine
    est, X, y, text = exported(case)
    engine = titus_engine(text)
    got = pd.DataFrame([engine.action(r) for r in _rows(X)]).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name)))


def test_unknown_category_takes_the_encoded_value(exported):
    est, X, y, text = exported("ordinal_unknown_logistic-mixed")
    X2 = X.head(5).assign(colour="ultraviolet")
    got = portmodel.load(text).predict(X2.rename(columns=avro_name)).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X2, avro_name(y.name)))


def test_unknown_category_without_a_default_is_an_error(exported):
    est, X, y, text = exported("ordinal_tree-mixed")
    X2 = X.head(1).assign(colour="ultraviolet")
    with pytest.raises(ValueError):
        est.predict(X2)
    with pytest.raises(Exception, match="not fitted on"):
        portmodel.load(text).predict(X2.rename(columns=avro_name))
    assert np.all(est.predict(X.head(3)) == est.predict(X.head(3)))
