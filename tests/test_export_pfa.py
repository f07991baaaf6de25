"""Export to PFA: linear models, trees, forests and gradient boosting (with scalers, numeric
imputers and one-hot encoding) score like the estimator in portmodel and in titus2."""
from __future__ import annotations

import json
import math

import pytest

from export_util import assert_scores, expected_outputs, export_fixture, pmml_name

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import (ExtraTreesRegressor, GradientBoostingClassifier,  # noqa: E402
                              GradientBoostingRegressor, RandomForestClassifier)
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import (LinearRegression, LogisticRegression, Ridge,  # noqa: E402
                                  SGDClassifier)
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

import portmodel  # noqa: E402
from portmodel.export.pfa_writer import avro_name  # noqa: E402

NUM = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols"]

CASES = {
    "logistic-iris": ("iris", lambda: make_pipeline(StandardScaler(),
                                                    LogisticRegression(max_iter=2000))),
    "logistic-breast_cancer": ("breast_cancer", lambda: make_pipeline(
        MinMaxScaler(), LogisticRegression(max_iter=2000))),
    "sgd_hinge-wine": ("wine", lambda: make_pipeline(StandardScaler(),
                                                     SGDClassifier(random_state=0))),
    "linear-diabetes": ("diabetes", lambda: LinearRegression()),
    "ridge-diabetes": ("diabetes", lambda: make_pipeline(StandardScaler(), Ridge())),
    "tree-iris": ("iris", lambda: DecisionTreeClassifier(random_state=0)),
    "tree-diabetes": ("diabetes", lambda: DecisionTreeRegressor(max_depth=6, random_state=0)),
    "forest-wine": ("wine", lambda: RandomForestClassifier(n_estimators=10, random_state=0)),
    "extra_trees-diabetes": ("diabetes", lambda: ExtraTreesRegressor(n_estimators=5,
                                                                     random_state=0)),
    "gbm-breast_cancer": ("breast_cancer", lambda: GradientBoostingClassifier(
        n_estimators=10, random_state=0)),
    "gbm-iris": ("iris", lambda: GradientBoostingClassifier(n_estimators=10, random_state=0)),
    "gbm-diabetes": ("diabetes", lambda: GradientBoostingRegressor(n_estimators=20,
                                                                   random_state=0)),
    "mlp-iris": ("iris", lambda: make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(8, 4), max_iter=300, random_state=0))),
    "mlp_logistic-breast_cancer": ("breast_cancer", lambda: make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,), activation="tanh",
                                        max_iter=300, random_state=0))),
    "mlp-diabetes": ("diabetes", lambda: make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(10,), max_iter=300, random_state=0))),
    "kmeans-wine": ("wine", lambda: make_pipeline(StandardScaler(), KMeans(
        n_clusters=3, n_init=3, random_state=0))),
    "onehot_logistic-mixed": ("mixed", lambda: make_pipeline(ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUM),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])]),
        LogisticRegression(max_iter=2000))),
}


exported = export_fixture(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_in_portmodel(exported, case):
    est, X, y, text = exported(case)
    doc = json.loads(text)
    assert any("model." in json.dumps(a) for a in doc["action"])   # library model functions
    got = portmodel.load(text).predict(X.rename(columns=avro_name))
    got = got.rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name)))


@pytest.mark.parametrize("case", list(CASES))
def test_same_scores_in_titus(exported, case):
    from pfa_titus_util import titus_engine
    engine = titus_engine(exported(case)[3])
    est, X, y, _ = exported(case)
    rows = []
    for rec in X.rename(columns=avro_name).to_dict("records"):
        rec = {k: (float(v) if not isinstance(v, str) else v) for k, v in rec.items()}
        rec = {k: (math.nan if v is None else v) for k, v in rec.items()}
        rows.append(engine.action(rec))
    import pandas as pd
    got = pd.DataFrame(rows).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name)))
