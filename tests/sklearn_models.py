"""Scikit-learn pipelines fitted on sklearn's bundled data sets, exported with sklearn2pmml.

Shared by the differential tests (tests/test_sklearn_pmml.py). Exports need Java at *export* time
only; the documents are written to a temporary folder per test session, never committed.
``require_exporter`` and ``export_all`` serve the model-type tests that fit their own pipelines.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

#: options for the short-lived exporter JVMs: they start faster
JAVA_OPTS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def require_exporter() -> None:
    """Skip the calling test or fixture where sklearn2pmml or its Java is missing."""
    import shutil

    import pytest
    pytest.importorskip("sklearn2pmml")
    if shutil.which("java") is None:
        pytest.skip("exporting with sklearn2pmml needs Java")


def export_all(jobs: dict) -> None:
    """Export fitted pipelines {name: (pipeline, path)} with sklearn2pmml, a few JVMs at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from sklearn2pmml import sklearn2pmml
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda job: sklearn2pmml(job[0], str(job[1]), java_opts=JAVA_OPTS),
                      jobs.values()))


@dataclass
class Fitted:
    name: str
    kind: str            # "classifier" or "regressor"
    pipeline: Any
    X: pd.DataFrame
    target: str
    path: Path


def _with_category(X: pd.DataFrame, source: str, name: str = "band") -> pd.DataFrame:
    """Add a string column derived from a numeric one, so one-hot encoding has work to do."""
    X = X.copy()
    X[name] = pd.qcut(X[source], 3, labels=["low", "mid", "high"]).astype(str)
    return X


def datasets() -> dict[str, tuple[pd.DataFrame, pd.Series]]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
    out = {}
    for key, loader in (("iris", load_iris), ("wine", load_wine), ("cancer", load_breast_cancer),
                        ("diabetes", load_diabetes)):
        X, y = loader(return_X_y=True, as_frame=True)
        X.columns = [c.replace(" ", "_").replace("(", "").replace(")", "") for c in X.columns]
        out[key] = (X, y)
    return out


def _logistic(X: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    cat = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return [("prep", ColumnTransformer([("num", StandardScaler(), num),
                                        ("cat", OneHotEncoder(), cat)])),
            ("clf", LogisticRegression(max_iter=5000))]


def specs() -> list[tuple[str, str, str, Callable[[pd.DataFrame], list]]]:
    """(name, data set, kind, steps factory)."""
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                                  RandomForestClassifier, RandomForestRegressor)
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    return [
        ("logreg_wine", "wine", "classifier", _logistic),
        ("logreg_cancer", "cancer", "classifier", _logistic),
        ("tree_iris", "iris", "classifier",
         lambda X: [("clf", DecisionTreeClassifier(max_depth=6, random_state=0))]),
        ("tree_diabetes", "diabetes", "regressor",
         lambda X: [("reg", DecisionTreeRegressor(max_depth=6, random_state=0))]),
        ("forest_wine", "wine", "classifier",
         lambda X: [("clf", RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0))]),
        ("forest_diabetes", "diabetes", "regressor",
         lambda X: [("reg", RandomForestRegressor(n_estimators=30, max_depth=6, random_state=0))]),
        ("gbm_cancer", "cancer", "classifier",
         lambda X: [("clf", GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0))]),
        ("gbm_iris", "iris", "classifier",
         lambda X: [("clf", GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0))]),
        ("gbm_diabetes", "diabetes", "regressor",
         lambda X: [("reg", GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=0))]),
    ]


def fit_and_export(folder: Path) -> dict[str, Fitted]:
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    data = datasets()
    out = {}
    for name, ds, kind, steps in specs():
        X, y = data[ds]
        if name.startswith("logreg"):
            X = _with_category(X, X.columns[0])
        pipe = PMMLPipeline(steps(X))
        pipe.fit(X, y)
        path = folder / f"{name}.pmml"
        sklearn2pmml(pipe, str(path))
        out[name] = Fitted(name, kind, pipe, X, y.name or "y", path)
    return out
