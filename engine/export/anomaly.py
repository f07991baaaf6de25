"""IsolationForest as a PMML AnomalyDetectionModel (algorithmType "iforest") around a
MiningModel that averages the isolation trees' path lengths; the model's value is
``2 ** (-mean path / c(max_samples))``, scikit-learn's ``-score_samples``. Each leaf holds
scikit-learn's own path length for it (nodes on the path plus the average path length of its
samples, minus one); splits compare float32 values as in the other scikit-learn trees."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from . import ir
from . import pmml_builder as B
from .context import Context
from .registry import model
from .trees import float_threshold


@dataclass
class IForestSpec:
    function: str
    trees: list                   # TreeSpecs of path lengths
    sample_size: int

    @property
    def fields(self) -> list:
        """The fields the trees split on."""
        acc: set = set()
        for t in self.trees:
            stack = [t.root]
            while stack:
                n = stack.pop()
                if n.field is not None:
                    acc.add(n.field)
                    stack += [n.left, n.right]
        return sorted(acc)

    @staticmethod
    def expected(est: Any, X: Any) -> dict:
        return {"__target__": -est.score_samples(X)}

    def pmml(self, w: Any, out: Any) -> Any:
        w.depth += 1
        try:
            inner = w.ensemble(ir.EnsembleSpec("regression", "average", self.trees), None)
        finally:
            w.depth -= 1
        return B.model("AnomalyDetectionModel", "regression",
                       {"algorithmType": "iforest", "sampleDataSize": self.sample_size},
                       w.schema(self.fields), out, inner)


def _tree(est: Any, k: int, fields: list[str]) -> ir.TreeNode:
    t = est.estimators_[k].tree_
    left, right = t.children_left.tolist(), t.children_right.tolist()
    feature = t.feature.tolist()
    paths = (np.asarray(est._decision_path_lengths[k], float) +
             np.asarray(est._average_path_length_per_tree[k], float) - 1.0).tolist()

    def build(i: int) -> ir.TreeNode:
        if left[i] == -1:
            return ir.TreeNode(value=paths[i])
        return ir.TreeNode(field=fields[feature[i]], threshold=float_threshold(t.threshold[i]),
                           left=build(left[i]), right=build(right[i]),
                           missing_left=bool(t.missing_go_to_left[i]))
    return build(0)


@model(IsolationForest)
def isolation_forest(est: IsolationForest, ctx: Context, features: list[str]) -> IForestSpec:
    trees = []
    for k, feats in enumerate(est.estimators_features_):
        used = {int(f) for f in est.estimators_[k].tree_.feature if f >= 0}
        sub = [ctx.as_float(features[j]) if i in used else features[j]
               for i, j in enumerate(feats)]
        trees.append(ir.TreeSpec("regression", _tree(est, k, sub)))
    return IForestSpec("regression", trees, int(est.max_samples_))
