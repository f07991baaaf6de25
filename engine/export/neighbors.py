"""KNeighborsClassifier / KNeighborsRegressor as a PMML NearestNeighborModel holding the
training instances; uniform weights: majority vote (classifier) or average (regressor).
Only the prediction is published (PMML has no vote-fraction output)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from . import pmml_builder as B
from .context import Context
from .registry import model


@dataclass
class NeighborsSpec:
    function: str
    fields: list
    X: np.ndarray
    y: np.ndarray
    k: int
    metric: str
    probabilities: bool = False

    def pmml(self, w: Any, out: Any) -> Any:
        cols = [f"x{i}" for i in range(len(self.fields))]
        rows = [dict(zip(cols + ["y"], list(map(float, x)) + [v]))
                for x, v in zip(self.X, self.y.tolist())]
        pairs = [B.el("InstanceField", {"field": f, "column": c})
                 for f, c in zip(self.fields, cols)]
        pairs.append(B.el("InstanceField", {"field": w.doc.target, "column": "y"}))
        training = B.el("TrainingInstances", {"recordCount": len(rows)},
                        B.el("InstanceFields", None, *pairs), B.inline_table(rows))
        measure = B.el("ComparisonMeasure", {"kind": "distance"}, B.el(self.metric))
        inputs = B.el("KNNInputs", None, *[B.el("KNNInput", {"field": f}) for f in self.fields])
        return B.el("NearestNeighborModel", {
            "functionName": self.function, "numberOfNeighbors": self.k,
            "continuousScoringMethod": "average", "categoricalScoringMethod": "majorityVote"},
            w.schema(self.fields), out, training, measure, inputs)


def _spec(est: Any, ctx: Context, features: list[str], function: str) -> NeighborsSpec:
    if est.weights != "uniform":
        raise ctx.fail(est, f"weights={est.weights!r} (only 'uniform')")
    metric = est.effective_metric_
    p = est.effective_metric_params_.get("p", 2)
    if metric == "minkowski":
        metric = {1: "manhattan", 2: "euclidean"}.get(p)
    names = {"euclidean": "euclidean", "manhattan": "cityBlock", "chebyshev": "chebychev"}
    if metric not in names:
        raise ctx.fail(est, f"metric={est.effective_metric_!r}")
    y = est._y
    if function == "classification":
        y = np.asarray(est.classes_)[y]
    return NeighborsSpec(function, list(features), np.asarray(est._fit_X, float), np.asarray(y),
                         est.n_neighbors, names[metric])


@model(KNeighborsClassifier)
def knn_classifier(est: Any, ctx: Context, features: list[str]) -> NeighborsSpec:
    return _spec(est, ctx, features, "classification")


@model(KNeighborsRegressor)
def knn_regressor(est: Any, ctx: Context, features: list[str]) -> NeighborsSpec:
    return _spec(est, ctx, features, "regression")
