"""PFA export of support vector machines (model.svm.score), Gaussian naive Bayes
(model.naive.gaussian) and k nearest neighbours (model.neighbor.nearestK): portmodel's export
check passes, and portmodel and titus2 score the document like scikit-learn within 1e-9."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from export_util import assert_scores, expected_outputs, export_fixture, pmml_name

from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, StandardScaler  # noqa: E402
from sklearn.svm import SVC, SVR, NuSVC  # noqa: E402

import portmodel  # noqa: E402
from portmodel.export.pfa_writer import avro_name  # noqa: E402

#: case: (data set, estimator, library function the document must call, compare probabilities)
CASES = {
    "svc_rbf-iris": ("iris", lambda: make_pipeline(StandardScaler(), SVC()), "model.svm.score",
                     False),
    "svc_linear-wine": ("wine", lambda: make_pipeline(StandardScaler(), SVC(kernel="linear")),
                        "model.svm.score", False),
    "svc_poly-iris": ("iris", lambda: make_pipeline(StandardScaler(), SVC(
        kernel="poly", coef0=1.0)), "model.svm.score", False),
    "svc_sigmoid-breast_cancer": ("breast_cancer", lambda: make_pipeline(
        StandardScaler(), SVC(kernel="sigmoid")), "model.svm.score", False),
    "svr_rbf-diabetes": ("diabetes", lambda: make_pipeline(StandardScaler(), SVR(C=10.0)),
                         "model.svm.score", False),
    "svr_poly-diabetes": ("diabetes", lambda: make_pipeline(MinMaxScaler(), SVR(
        kernel="poly", degree=2, coef0=1.0)), "model.svm.score", False),
    "gaussian_nb-iris": ("iris", lambda: GaussianNB(), "model.naive.gaussian", True),
    "gaussian_nb-wine": ("wine", lambda: GaussianNB(), "model.naive.gaussian", True),
    "knn-iris": ("iris", lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(
        n_neighbors=5)), "model.neighbor.nearestK", False),
    "knn_manhattan-wine": ("wine", lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(
        n_neighbors=3, p=1)), "model.neighbor.nearestK", False),
    "knn_regressor-diabetes": ("diabetes", lambda: KNeighborsRegressor(n_neighbors=4),
                               "model.neighbor.nearestK", False),
    # libsvm's probabilities (Platt scaling and pairwise coupling, also for two classes)
    "svc_proba-iris": ("iris", lambda: make_pipeline(StandardScaler(), SVC(
        probability=True, random_state=0)), "model.svm.score", True),
    "svc_proba-breast_cancer": ("breast_cancer", lambda: make_pipeline(StandardScaler(), SVC(
        probability=True, random_state=0)), "model.svm.score", True),
    "nusvc_proba_poly-wine": ("wine", lambda: make_pipeline(StandardScaler(), NuSVC(
        kernel="poly", probability=True, random_state=0)), "model.svm.score", True),
    # vote fractions (predict_proba), distance weights, Chebyshev and Minkowski p
    "knn_proba-wine": ("wine", lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(
        n_neighbors=6)), "model.neighbor.nearestK", True),
    "knn_distance-wine": ("wine", lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(
        weights="distance")), "model.neighbor.nearestK", True),
    "knn_chebyshev-breast_cancer": ("breast_cancer", lambda: make_pipeline(
        StandardScaler(), KNeighborsClassifier(metric="chebyshev", weights="distance")),
        "metric.chebyshev", True),
    "knn_minkowski3-wine": ("wine", lambda: make_pipeline(MinMaxScaler(), KNeighborsClassifier(
        p=3)), "metric.minkowski", True),
    "knn_regressor_distance_p1.5-diabetes": ("diabetes", lambda: KNeighborsRegressor(
        weights="distance", p=1.5), "metric.minkowski", False),
}


exported = export_fixture(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_in_portmodel(exported, case):
    est, X, y, text = exported(case)
    assert CASES[case][2] in json.dumps(json.loads(text)["action"])
    got = portmodel.load(text).predict(X.rename(columns=avro_name)).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name), proba=CASES[case][3]))


@pytest.mark.parametrize("case", list(CASES))
def test_same_scores_in_titus(exported, case):
    from pfa_titus_util import titus_engine
    est, X, y, text = exported(case)
    engine = titus_engine(text)
    rows = [engine.action({k: float(v) for k, v in rec.items()})
            for rec in X.rename(columns=avro_name).to_dict("records")]
    got = pd.DataFrame(rows).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name), proba=CASES[case][3]))
