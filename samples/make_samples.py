"""Regenerate the sample documents and data in this folder.

    pip install -e ".[export]"      # scikit-learn + sklearn2pmml (needs Java at export time)
    python samples/make_samples.py

Writes iris.csv, iris_tree.pmml, iris_forest.pmml, diabetes.csv and diabetes_linear.pmml. Every
document carries ModelVerification records (scikit-learn's own predictions for a few rows), so
``portmodel verify samples/<doc>.pmml`` checks the engine against scikit-learn.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn2pmml import sklearn2pmml
from sklearn2pmml.pipeline import PMMLPipeline

HERE = Path(__file__).resolve().parent
IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def iris() -> tuple[pd.DataFrame, pd.Series]:
    data = load_iris(as_frame=True)
    X = data.data.copy()
    X.columns = IRIS_COLUMNS
    y = data.target.map(dict(enumerate(data.target_names))).rename("species")
    return X, y


def diabetes() -> tuple[pd.DataFrame, pd.Series]:
    data = load_diabetes(as_frame=True)
    return data.data.copy(), data.target.rename("progression")


def export(estimator, X: pd.DataFrame, y: pd.Series, name: str) -> None:
    """Fit a PMMLPipeline, embed verification records for 10 rows, write name.pmml."""
    pipeline = PMMLPipeline([("model", estimator)])
    pipeline.fit(X, y)
    pipeline.verify(X.sample(10, random_state=1))
    path = HERE / f"{name}.pmml"
    sklearn2pmml(pipeline, str(path))
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


def main() -> None:
    X, y = iris()
    pd.concat([X, y], axis=1).to_csv(HERE / "iris.csv", index=False)
    export(DecisionTreeClassifier(max_depth=4, random_state=0), X, y, "iris_tree")
    export(RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0), X, y,
           "iris_forest")
    X, y = diabetes()
    pd.concat([X, y], axis=1).to_csv(HERE / "diabetes.csv", index=False)
    export(LinearRegression(), X, y, "diabetes_linear")


if __name__ == "__main__":
    main()
