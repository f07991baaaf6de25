"""Export to PMML: every covered scikit-learn estimator and transformer on the bundled data sets
round-trips through portmodel within 1e-9 of predict / predict_proba, validates against the PMML
4.4 schema, passes its own ModelVerification, and scores the same in JPMML-Evaluator."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from export_util import TOL, assert_schema_valid, assert_scores, dataset, expected_outputs

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,  # noqa: E402
                              GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import (ElasticNet, Lasso, LinearRegression,  # noqa: E402
                                  LogisticRegression, Ridge, SGDClassifier, SGDRegressor)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import (KBinsDiscretizer, MaxAbsScaler, MinMaxScaler,  # noqa: E402
                                   OneHotEncoder, OrdinalEncoder, RobustScaler, StandardScaler)
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

import portmodel  # noqa: E402

CLASSIFY = ("iris", "wine", "breast_cancer")


def _classifiers():
    return {
        "logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "sgd_hinge": lambda: make_pipeline(StandardScaler(), SGDClassifier(random_state=0)),
        "sgd_log": lambda: make_pipeline(RobustScaler(), SGDClassifier(loss="log_loss",
                                                                       random_state=0)),
        "linear_svc": lambda: make_pipeline(MinMaxScaler(), LinearSVC()),
        "tree": lambda: DecisionTreeClassifier(random_state=0),
        "forest": lambda: RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0),
        "extra_trees": lambda: ExtraTreesClassifier(n_estimators=10, random_state=0),
        "gbm": lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0),
        "mlp": lambda: make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(16, 8), max_iter=300, random_state=0)),
        "mlp_tanh": lambda: make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(8,), activation="tanh", max_iter=300, random_state=0)),
        "gaussian_nb": lambda: GaussianNB(),
        "knn": lambda: make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)),
        "svc_rbf": lambda: make_pipeline(StandardScaler(), SVC()),
        "svc_linear": lambda: make_pipeline(StandardScaler(), SVC(kernel="linear")),
        "svc_poly": lambda: make_pipeline(StandardScaler(), SVC(kernel="poly", coef0=1.0)),
        "svc_sigmoid": lambda: make_pipeline(StandardScaler(), SVC(kernel="sigmoid")),
        "hist_gbm": lambda: HistGradientBoostingClassifier(max_iter=20, random_state=0),
    }


def _regressors():
    return {
        "linear": lambda: LinearRegression(),
        "ridge": lambda: make_pipeline(StandardScaler(), Ridge(alpha=0.5)),
        "lasso": lambda: make_pipeline(MaxAbsScaler(), Lasso(alpha=0.01)),
        "elastic_net": lambda: make_pipeline(StandardScaler(), ElasticNet(alpha=0.01)),
        "sgd": lambda: make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
        "linear_svr": lambda: make_pipeline(StandardScaler(), LinearSVR(max_iter=5000)),
        "tree": lambda: DecisionTreeRegressor(max_depth=8, random_state=0),
        "forest": lambda: RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0),
        "extra_trees": lambda: ExtraTreesRegressor(n_estimators=10, random_state=0),
        "gbm": lambda: GradientBoostingRegressor(n_estimators=30, random_state=0),
        "mlp": lambda: make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=(16,), max_iter=300, random_state=0)),
        "knn": lambda: KNeighborsRegressor(n_neighbors=5),
        "hist_gbm": lambda: HistGradientBoostingRegressor(max_iter=30, random_state=0),
        "svr_rbf": lambda: make_pipeline(StandardScaler(), SVR(C=10.0)),
        "svr_poly": lambda: make_pipeline(StandardScaler(), SVR(kernel="poly", coef0=1.0)),
        "kmeans": lambda: make_pipeline(StandardScaler(), KMeans(n_clusters=4, n_init=3,
                                                                 random_state=0)),
        "knn_distance_minkowski": lambda: make_pipeline(StandardScaler(), KNeighborsRegressor(
            weights="distance", p=1.5)),
    }


def _mixed_pipelines():
    num = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols"]

    def prep(strategy, encoder):
        return ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy=strategy), StandardScaler()), num),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), encoder), ["colour"]),
        ])
    return {
        "mean_onehot_logistic": lambda: make_pipeline(
            prep("mean", OneHotEncoder(handle_unknown="ignore")),
            LogisticRegression(max_iter=2000)),
        "median_onehot_drop_forest": lambda: make_pipeline(
            prep("median", OneHotEncoder(drop="first")),
            RandomForestClassifier(n_estimators=10, random_state=0)),
        "frequent_ordinal_gbm": lambda: make_pipeline(
            prep("most_frequent", OrdinalEncoder(handle_unknown="use_encoded_value",
                                                 unknown_value=-1)),
            GradientBoostingClassifier(n_estimators=10, random_state=0)),
        "constant_onehot_missing_tree": lambda: make_pipeline(ColumnTransformer([
            ("num", SimpleImputer(strategy="constant", fill_value=0.0), num),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])]),
            DecisionTreeClassifier(random_state=0)),
        "infrequent_onehot_passthrough": lambda: make_pipeline(ColumnTransformer([
            ("cat", OneHotEncoder(min_frequency=40, handle_unknown="infrequent_if_exist"),
             ["colour"])], remainder=make_pipeline(SimpleImputer(), StandardScaler())),
            LogisticRegression(max_iter=2000)),
        "kbins_drop_remainder": lambda: make_pipeline(ColumnTransformer([
            ("bins", KBinsDiscretizer(n_bins=4, encode="onehot-dense",
                                      quantile_method="averaged_inverted_cdf"),
             ["alcalinity_of_ash", "magnesium"]),
            ("ord", KBinsDiscretizer(n_bins=3, encode="ordinal", strategy="uniform"),
             ["total_phenols"])]), LogisticRegression(max_iter=2000)),
        "hist_gbm_native_categorical": lambda: HistGradientBoostingClassifier(
            max_iter=15, random_state=0),
        "native_missing_tree": lambda: make_pipeline(ColumnTransformer([
            ("num", "passthrough", num)]), DecisionTreeClassifier(random_state=0)),
    }


CASES = ([(f"{m}-{d}", "c", m, d) for m in _classifiers() for d in CLASSIFY
          if m != "sgd_log" or d == "breast_cancer"]
         + [(f"{m}-diabetes", "r", m, "diabetes") for m in _regressors()]
         + [(f"{m}-mixed", "m", m, "mixed") for m in _mixed_pipelines()])


def fitted(kind: str, name: str, data: str):
    X, y = dataset(data)
    if name == "hist_gbm_native_categorical":
        X = X.astype({"colour": "category"})
    est = {"c": _classifiers, "r": _regressors, "m": _mixed_pipelines}[kind]()[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # convergence warnings of small fits
        est.fit(X, y)
    return est, X, y


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cache: dict = {}

    def get(kind, name, data):
        key = (kind, name, data)
        if key not in cache:
            est, X, y = fitted(kind, name, data)
            path = tmp_path_factory.mktemp("pmml") / f"{name}-{data}.pmml"
            portmodel.export(est, path, X, target_name=y.name)
            cache[key] = (est, X, y, path)
        return cache[key]
    return get


@pytest.mark.parametrize("case,kind,name,data", CASES, ids=[c[0] for c in CASES])
def test_round_trip_in_portmodel(exported, case, kind, name, data):
    est, X, y, path = exported(kind, name, data)
    model = portmodel.load(path)
    got = model.predict(X)
    assert_scores(got, expected_outputs(est, X, y.name, proba=name != "knn"))
    # README: 5 to 20 rows carried, as the block's size budget allows
    assert min(5, len(X)) <= model.verify() <= 20


@pytest.mark.parametrize("case,kind,name,data", CASES, ids=[c[0] for c in CASES])
def test_schema_valid(exported, case, kind, name, data):
    assert_schema_valid(exported(kind, name, data)[3])


@pytest.mark.parametrize("case,kind,name,data", CASES, ids=[c[0] for c in CASES])
def test_written_through_the_object_model(exported, case, kind, name, data):
    """The exporter builds an object-model Document and the object model's writer writes it:
    reading the bytes back gives the same Document (typed parts and fragment bodies alike),
    and the file export wrote reads back to the same model element."""
    from portmodel.export import build, pmml_writer
    from portmodel.pmml import objects
    est, X, y, path = exported(kind, name, data)
    doc = build(est, X, y.name)
    doc.probabilities &= getattr(doc.model, "pmml_probabilities", True)   # as export() does
    built = pmml_writer.document(doc)
    assert objects.read(pmml_writer.to_bytes(built)) == built
    written = objects.read(path)
    model = written.model
    body = tuple(c for c in model.content if not isinstance(c, objects.ModelVerification))
    from dataclasses import replace
    if model.tag != "AnomalyDetectionModel":
        assert replace(model, content=body) == built.model
    assert written.data_dictionary == built.data_dictionary
    assert written.transformation_dictionary == built.transformation_dictionary


def test_numbers_are_written_in_their_shortest_exact_form():
    """One number formatter (the object writer's): whole floats without ".0", other doubles
    as repr, float32 values in float32's shortest form; every text reads back exactly."""
    from portmodel.pmml.objects.write import format_value
    assert [format_value(v) for v in (1.0, -0.0, 0.0, 123.0, 1e15, 1e16, 0.1, -2.5)] == \
        ["1", "-0", "0", "123", "1000000000000000", "1e+16", "0.1", "-2.5"]
    assert [format_value(v) for v in (np.float32(0.1), np.float32(2.0), np.int64(4),
                                      np.float64(3.5), float("nan"), -float("inf"), True)] == \
        ["0.1", "2", "4", "3.5", "NaN", "-INF", "true"]
    rng = np.random.default_rng(0)
    doubles = np.concatenate([rng.standard_normal(2000) * 10.0 ** rng.integers(-300, 300, 2000),
                              np.round(rng.standard_normal(500) * 1e6)])
    for v in doubles.tolist():
        text = format_value(v)
        assert float(text) == v and len(text) <= len(repr(v)), (v, text)
    for v in doubles[np.abs(doubles) < 3e38].astype(np.float32)[:1000]:
        assert np.float32(format_value(v)) == v


@pytest.mark.oracle
@pytest.mark.parametrize("case,kind,name,data", CASES, ids=[c[0] for c in CASES])
def test_same_scores_in_jpmml(exported, case, kind, name, data):
    from reference_engines import jpmml_frame
    est, X, y, path = exported(kind, name, data)
    frame = X.astype(object).where(X.notna(), None)
    got = jpmml_frame(path.read_text(), frame)
    assert_scores(got, expected_outputs(est, X, y.name, proba=name != "knn"))


def test_unsupported_estimator_names_class_place_and_list():
    from sklearn.decomposition import PCA
    X, y = dataset("iris")
    est = make_pipeline(StandardScaler(), PCA(2), LogisticRegression()).fit(X, y)
    with pytest.raises(portmodel.export.UnsupportedEstimatorError,
                       match=r"PCA at step 'pca' is not supported.*StandardScaler"):
        portmodel.export(est, None, X)


def test_unsupported_setting_is_refused():
    X, y = dataset("iris")
    est = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    with pytest.raises(portmodel.export.UnsupportedEstimatorError, match="SGDClassifier"):
        portmodel.export(est, None, X)


def test_mismatch_is_caught_by_the_check(monkeypatch):
    """A deliberately wrong coefficient: the check names the output column, row and values."""
    from portmodel.export import linear
    X, y = dataset("diabetes")
    est = LinearRegression().fit(X, y)
    real = linear.terms

    def off(features, coefs):
        t = list(real(features, coefs))
        t[0] = (t[0][0], t[0][1] * (1 + 1e-6))
        return tuple(t)
    monkeypatch.setattr(linear, "terms", off)
    with pytest.raises(portmodel.export.ExportMismatchError,
                       match=r"output 'target' row \d+: document gives .*estimator gives"):
        portmodel.export(est, None, X, target_name="target")


def test_format_from_suffix_and_text_return(tmp_path):
    X, y = dataset("iris")
    est = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    assert portmodel.export(est, tmp_path / "m.pmml", X) is None
    assert (tmp_path / "m.pmml").read_text().startswith("<?xml")
    text = portmodel.export(est, None, X)
    assert "<TreeModel" in text


def test_import_portmodel_does_not_import_sklearn():
    import subprocess
    import sys
    code = "import sys, portmodel; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_cli_export_writes_a_checked_document(tmp_path):
    import joblib

    from portmodel.cli import main
    X, y = dataset("mixed")
    est = _mixed_pipelines()["mean_onehot_logistic"]().fit(X, y)
    joblib.dump(est, tmp_path / "m.joblib")
    X.assign(cultivar=y).to_csv(tmp_path / "s.csv", index=False)
    assert main(["export", str(tmp_path / "m.joblib"), "-o", str(tmp_path / "m.pmml"),
                 "--sample", str(tmp_path / "s.csv"), "--target", "cultivar"]) == 0
    model = portmodel.load(tmp_path / "m.pmml")
    assert model.output_names[0] == "cultivar"
    assert 5 <= model.verify() <= 20
    assert main(["export", str(tmp_path / "nope.joblib"), "-o", str(tmp_path / "x.pmml"),
                 "--sample", str(tmp_path / "s.csv")]) == 1


@pytest.mark.parametrize("data", ["breast_cancer", "diabetes", "mixed"])
def test_isolation_forest_scores_like_score_samples(tmp_path, data):
    """AnomalyDetectionModel (iforest): the document's value is -score_samples within 1e-9
    (JPMML-Evaluator 1.6 refuses AnomalyDetectionModel, so only portmodel and the schema)."""
    from sklearn.ensemble import IsolationForest
    X, _ = dataset(data)
    if data == "mixed":
        X = X.drop(columns=["colour"])       # missing values: routed as scikit-learn routes
    est = IsolationForest(n_estimators=30, random_state=0).fit(X)
    path = tmp_path / "iforest.pmml"
    portmodel.export(est, path, X, target_name="anomaly")
    assert_schema_valid(path)
    model = portmodel.load(path)
    got = model.predict(X)
    assert_scores(got, {"anomaly": -est.score_samples(X)})
    assert 5 <= model.verify() <= 20
