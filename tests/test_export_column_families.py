"""Every model family behind a ColumnTransformer of one-hot encoded text columns and passthrough
or scaled numeric columns (the shape of most tabular pipelines), to PFA and to PMML.

The case list is generated from the exporter's own list of supported models, so a family added
to the registry without a case here fails ``test_every_supported_model_has_a_case``. Each
document must pass the export's own check, and score like scikit-learn (predict, predict_proba)
in portmodel; PFA documents also in titus2, PMML documents also in JPMML-Evaluator."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from export_util import TOL, assert_scores

sklearn = pytest.importorskip("sklearn")
from sklearn import datasets  # noqa: E402
from sklearn import cluster, ensemble, linear_model, naive_bayes, neighbors  # noqa: E402
from sklearn import neural_network, svm, tree  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

import portmodel  # noqa: E402
from portmodel.export import supported  # noqa: E402
from portmodel.export.errors import UnsupportedEstimatorError  # noqa: E402
from portmodel.export.pfa_writer import avro_name  # noqa: E402

NUM = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols"]
TEXT = ["colour", "shade"]


def _frame() -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Wine's first six columns and two text columns; targets: the cultivar (3 classes), its
    first class (binary), flavanoids (regression)."""
    W = datasets.load_wine(as_frame=True).frame
    X = W[NUM].copy()
    X["colour"] = np.where(X["alcohol"] > 13.5, "red",
                           np.where(X["alcohol"] > 12.5, "rose", "white")).astype(object)
    X["shade"] = np.where(X["ash"] > 2.4, "dark", "light").astype(object)
    y = {"c": W["target"].rename("cultivar"), "b": (W["target"] == 0).astype(int).rename("first"),
         "r": W["flavanoids"].rename("flavanoids"), "u": W["target"].rename("cluster")}
    return X, y


def _optional(module: str, cls: str, **kw):
    def make():
        mod = pytest.importorskip(module)
        return getattr(mod, cls)(**kw)
    return make


#: model class name: (factory, target kind: c multiclass, b binary, r regression, u unsupervised)
FAMILIES = {
    "LinearRegression": (linear_model.LinearRegression, "r"),
    "Ridge": (linear_model.Ridge, "r"),
    "Lasso": (lambda: linear_model.Lasso(alpha=0.01), "r"),
    "ElasticNet": (lambda: linear_model.ElasticNet(alpha=0.01), "r"),
    "SGDRegressor": (lambda: linear_model.SGDRegressor(random_state=0), "r"),
    "SGDClassifier": (lambda: linear_model.SGDClassifier(random_state=0), "c"),
    "LogisticRegression": (lambda: linear_model.LogisticRegression(max_iter=3000), "c"),
    "RidgeClassifier": (linear_model.RidgeClassifier, "b"),
    "LinearSVC": (lambda: svm.LinearSVC(max_iter=5000), "c"),
    "LinearSVR": (lambda: svm.LinearSVR(max_iter=5000), "r"),
    "SVC": (svm.SVC, "c"),
    "SVR": (svm.SVR, "r"),
    "NuSVC": (svm.NuSVC, "b"),
    "NuSVR": (svm.NuSVR, "r"),
    "DecisionTreeClassifier": (lambda: tree.DecisionTreeClassifier(random_state=0), "c"),
    "DecisionTreeRegressor": (lambda: tree.DecisionTreeRegressor(max_depth=6, random_state=0),
                              "r"),
    "ExtraTreeClassifier": (lambda: tree.ExtraTreeClassifier(random_state=0), "b"),
    "ExtraTreeRegressor": (lambda: tree.ExtraTreeRegressor(max_depth=6, random_state=0), "r"),
    "RandomForestClassifier": (lambda: ensemble.RandomForestClassifier(10, random_state=0),
                               "c"),
    "RandomForestRegressor": (lambda: ensemble.RandomForestRegressor(10, random_state=0), "r"),
    "ExtraTreesClassifier": (lambda: ensemble.ExtraTreesClassifier(10, random_state=0), "b"),
    "ExtraTreesRegressor": (lambda: ensemble.ExtraTreesRegressor(10, random_state=0), "r"),
    "GradientBoostingClassifier": (lambda: ensemble.GradientBoostingClassifier(
        n_estimators=20, random_state=0), "c"),
    "GradientBoostingRegressor": (lambda: ensemble.GradientBoostingRegressor(
        n_estimators=20, random_state=0), "r"),
    "HistGradientBoostingClassifier": (lambda: ensemble.HistGradientBoostingClassifier(
        max_iter=15, random_state=0), "c"),
    "HistGradientBoostingRegressor": (lambda: ensemble.HistGradientBoostingRegressor(
        max_iter=15, random_state=0), "r"),
    "IsolationForest": (lambda: ensemble.IsolationForest(n_estimators=10, random_state=0), "u"),
    "KMeans": (lambda: cluster.KMeans(3, n_init=2, random_state=0), "u"),
    "MiniBatchKMeans": (lambda: cluster.MiniBatchKMeans(3, n_init=2, random_state=0), "u"),
    "KNeighborsClassifier": (lambda: neighbors.KNeighborsClassifier(weights="distance"), "c"),
    "KNeighborsRegressor": (neighbors.KNeighborsRegressor, "r"),
    "GaussianNB": (naive_bayes.GaussianNB, "c"),
    "MLPClassifier": (lambda: neural_network.MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=300, random_state=0), "b"),
    "MLPRegressor": (lambda: neural_network.MLPRegressor(
        hidden_layer_sizes=(8,), max_iter=300, random_state=0), "r"),
    "XGBClassifier": (_optional("xgboost", "XGBClassifier", n_estimators=10, max_depth=3), "c"),
    "XGBRegressor": (_optional("xgboost", "XGBRegressor", n_estimators=10, max_depth=3), "r"),
    "LGBMClassifier": (_optional("lightgbm", "LGBMClassifier", n_estimators=10, verbose=-1),
                       "b"),
    "LGBMRegressor": (_optional("lightgbm", "LGBMRegressor", n_estimators=10, verbose=-1), "r"),
}

#: (family, format): why that document is not written (the error must say it is unsupported)
NOT_WRITTEN = {("IsolationForest", "pfa"): "the PFA writer has no isolation forest form"}

#: (family, format): documents JPMML-Evaluator does not read
NOT_IN_JPMML = {"IsolationForest": "this JPMML-Evaluator has no AnomalyDetectionModel"}

#: the numeric columns pass through or are standardised, alternately over the families
CASES = [(name, fmt, "passthrough" if i % 2 == 0 else "scaler")
         for i, name in enumerate(FAMILIES) for fmt in ("pfa", "pmml")]


def test_every_supported_model_has_a_case():
    assert set(supported()[1]) <= set(FAMILIES), set(supported()[1]) - set(FAMILIES)


def _fitted(name: str, numeric: str):
    X, ys = _frame()
    make, kind = FAMILIES[name]
    ct = ColumnTransformer([
        ("text", OneHotEncoder(handle_unknown="ignore"), TEXT),
        ("num", "passthrough" if numeric == "passthrough" else StandardScaler(), NUM)])
    est = make_pipeline(ct, make())
    y = ys[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y) if kind != "u" else est.fit(X)
    return est, X, y, kind


def _want(est, X: pd.DataFrame, y: pd.Series, kind: str, fmt: str = "pfa") -> dict:
    final = est.steps[-1][1]
    if type(final).__name__ == "IsolationForest":
        return {}          # scored against score_samples in test_export_pmml
    out = {y.name: np.asarray(est.predict(X))}
    if fmt == "pmml" and type(final).__name__ == "KNeighborsClassifier":
        return out         # the PMML document publishes the label only (neighbors.py)
    if kind in "cb" and hasattr(final, "predict_proba"):
        try:
            p = est.predict_proba(X)
        except AttributeError:     # SVC without probability=True
            return out
        for k, c in enumerate(final.classes_):
            out[f"probability({c})"] = p[:, k]
    return out


@pytest.fixture(scope="module")
def exported():
    cache: dict = {}

    def get(name, fmt, numeric):
        key = (name, fmt, numeric)
        if key not in cache:
            est, X, y, kind = _fitted(name, numeric)
            text = portmodel.export(est, None, X, format=fmt, target_name=y.name)
            cache[key] = est, X, y, kind, text, _tolerance(est, X, y)
        return cache[key]
    return get


def _tolerance(est, X, y) -> float:
    """The family's stated tolerance (1e-9, or the README's exception: XGBoost)."""
    return getattr(portmodel.export.build(est, X, y.name).model, "tolerance", TOL)


@pytest.mark.parametrize("name,fmt,numeric", CASES, ids=[f"{n}-{f}-{m}" for n, f, m in CASES])
def test_exports_and_scores_in_portmodel(exported, name, fmt, numeric):
    if (name, fmt) in NOT_WRITTEN:
        est, X, y, _ = _fitted(name, numeric)
        with pytest.raises(UnsupportedEstimatorError):
            portmodel.export(est, None, X, format=fmt, target_name=y.name)
        return
    est, X, y, kind, text, tol = exported(name, fmt, numeric)
    model = portmodel.load(text)
    if fmt == "pfa":
        got = model.predict(X.rename(columns=avro_name))
        got = got.rename(columns=lambda c: f"probability({c[12:]})"
                         if c.startswith("probability_") else c)
    else:
        got = model.predict(X)
    assert_scores(got, _want(est, X, y, kind, fmt), tol)


@pytest.mark.oracle
@pytest.mark.parametrize("name,numeric", [(n, m) for n, f, m in CASES if f == "pfa"
                                          and (n, f) not in NOT_WRITTEN])
def test_pfa_same_scores_in_titus(exported, name, numeric):
    from pfa_titus_util import titus_engine
    est, X, y, kind, text, tol = exported(name, "pfa", numeric)
    engine = titus_engine(text)
    rows = []
    for rec in X.rename(columns=avro_name).to_dict("records"):
        rows.append(engine.action({k: v if isinstance(v, str) else float(v)
                                   for k, v in rec.items()}))
    got = pd.DataFrame(rows).rename(columns=lambda c: f"probability({c[12:]})"
                                    if c.startswith("probability_") else c)
    assert_scores(got, _want(est, X, y, kind), tol)


@pytest.mark.oracle
@pytest.mark.parametrize("name,numeric", [(n, m) for n, f, m in CASES if f == "pmml"
                                          and n not in NOT_IN_JPMML])
def test_pmml_same_scores_in_jpmml(exported, name, numeric):
    from reference_engines import jpmml_frame
    est, X, y, kind, text, tol = exported(name, "pmml", numeric)
    got = jpmml_frame(text, X.astype(object))
    assert_scores(got, _want(est, X, y, kind, "pmml"), tol)
