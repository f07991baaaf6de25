"""KNeighborsClassifier / KNeighborsRegressor as a PMML NearestNeighborModel holding the
training instances (uniform or distance weights; euclidean, manhattan, chebyshev and any
Minkowski p).

Classifier: scikit-learn's predict_proba is the (weighted) vote fractions and its predict the
first class, in class order, with the largest fraction. The PFA document publishes both. The
PMML document publishes the label only: JPMML-Evaluator refuses probability outputs of a
NearestNeighborModel; and a tie of votes goes to the class with the most training instances,
then the smallest value (the spec's rule), which is not always scikit-learn's first class (with
distance weights exact ties of votes are rare; with uniform weights and an even k they are not).

Distance weights are 1 / distance. PMML's are 1 / (distance + threshold); the document writes
threshold 1e-300, which leaves every distance above about 1e-284 unchanged and gives a
neighbour at distance 0 a weight of 1e300 that outweighs the others as scikit-learn's rule (only
the neighbours at distance 0 vote) does, within the 1e-9 tolerance."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from portmodel.pmml.objects import clustering as C

from . import pmml_builder as B
from .context import Context
from .registry import model

#: the measure element of each metric the document names (minkowski takes its p)
_MEASURES = {"euclidean": C.Euclidean, "cityBlock": C.CityBlock, "chebychev": C.Chebychev}
#: PMML's weight threshold for distance weights (see the module docstring)
WEIGHT_THRESHOLD = 1e-300


@dataclass
class NeighborsSpec:
    function: str
    fields: list
    X: np.ndarray
    y: np.ndarray
    k: int
    metric: str                   # euclidean | cityBlock | chebychev | minkowski
    weighted: bool = False        # weights="distance"
    p: float = 2.0                # the Minkowski p (metric "minkowski")
    probabilities: bool = True
    #: JPMML-Evaluator refuses probability outputs of a NearestNeighborModel (its vote is an
    #: affinity distribution), so the PMML document publishes the label only
    pmml_probabilities: bool = False

    def ambiguous_rows(self, est: Any, X: Any) -> np.ndarray:
        """Rows whose k-th and (k+1)-th nearest training rows are at the same distance: the
        document takes the earlier training rows among equals (PMML's rule), scikit-learn's
        choice depends on its search algorithm."""
        final, Xt = est, X
        while type(final).__name__ == "Pipeline":
            Xt = final[:-1].transform(Xt)
            final = final.steps[-1][1]
        if self.k >= len(self.X):
            return np.zeros(len(X), bool)
        dist, _ = final.kneighbors(Xt, self.k + 1)
        a, b = dist[:, self.k - 1], dist[:, self.k]
        return np.abs(b - a) <= 1e-12 * np.maximum(1.0, np.abs(b))

    def _nn_model(self, w: Any, out: Any, function: str) -> Any:
        cols = [f"x{i}" for i in range(len(self.fields))]
        rows = [dict(zip(cols + ["y"], list(map(float, x)) + [v]))
                for x, v in zip(self.X, self.y.tolist())]
        pairs = [C.InstanceField(field=f, column=c) for f, c in zip(self.fields, cols)]
        pairs.append(C.InstanceField(field=w.doc.target, column="y"))
        training = C.TrainingInstances(record_count=len(rows),
                                       instance_fields=C.InstanceFields(fields=tuple(pairs)),
                                       table=B.inline_table(rows))
        metric = C.Minkowski(p=float(self.p)) if self.metric == "minkowski" else \
            _MEASURES[self.metric]()
        measure = C.ComparisonMeasure(kind="distance", measure=metric)
        inputs = C.KNNInputs(inputs=tuple(C.KNNInput(field=f) for f in self.fields))
        return B.model("NearestNeighborModel", function, {
            "numberOfNeighbors": self.k,
            "continuousScoringMethod": "weightedAverage" if self.weighted else "average",
            "categoricalScoringMethod": "weightedMajorityVote" if self.weighted
            else "majorityVote",
            "threshold": WEIGHT_THRESHOLD if self.weighted else None},
            w.schema(self.fields), out, training, measure, inputs)

    def pmml(self, w: Any, out: Any) -> Any:
        return self._nn_model(w, out, self.function)


def _spec(est: Any, ctx: Context, features: list[str], function: str) -> NeighborsSpec:
    if est.weights not in ("uniform", "distance"):
        raise ctx.fail(est, f"weights={est.weights!r} (only 'uniform' and 'distance')")
    metric = est.effective_metric_
    p = float(est.effective_metric_params_.get("p", 2))
    if metric == "minkowski":
        metric = {1.0: "manhattan", 2.0: "euclidean", float("inf"): "chebyshev"}.get(p,
                                                                                    "minkowski")
    names = {"euclidean": "euclidean", "manhattan": "cityBlock", "chebyshev": "chebychev",
             "minkowski": "minkowski"}
    if metric not in names or est.effective_metric_params_.get("w") is not None:
        raise ctx.fail(est, f"metric={est.effective_metric_!r} (euclidean, manhattan, "
                       "chebyshev and minkowski without weights are supported)")
    y = est._y
    if function == "classification":
        if np.ndim(y) != 1:
            raise ctx.fail(est, "multi-output k-NN is not supported")
        y = np.asarray(est.classes_)[y]
    elif np.ndim(y) != 1:
        raise ctx.fail(est, "multi-output k-NN is not supported")
    return NeighborsSpec(function, list(features), np.asarray(est._fit_X, float), np.asarray(y),
                         est.n_neighbors, names[metric], est.weights == "distance", p)


@model(KNeighborsClassifier)
def knn_classifier(est: Any, ctx: Context, features: list[str]) -> NeighborsSpec:
    return _spec(est, ctx, features, "classification")


@model(KNeighborsRegressor)
def knn_regressor(est: Any, ctx: Context, features: list[str]) -> NeighborsSpec:
    return _spec(est, ctx, features, "regression")
