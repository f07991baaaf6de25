"""KMeans as a PMML ClusteringModel: squared Euclidean distance to each center; the output
names the nearest cluster by scikit-learn's label (0, 1, ...)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

from portmodel.pmml import objects as O
from portmodel.pmml.objects import clustering as C

from . import pmml_builder as B
from .context import Context
from .registry import model


@dataclass
class ClusteringSpec:
    function: str
    fields: list
    centers: np.ndarray
    probabilities: bool = False

    def pmml(self, w: Any, out: Any) -> Any:
        fields = [C.ClusteringField(field=f) for f in self.fields]
        clusters = [C.Cluster(id=str(k), name=str(k), array=B.array(list(c)))
                    for k, c in enumerate(self.centers)]
        out = O.Output(fields=(O.OutputField(name=w.doc.target, optype="categorical",
                                             data_type="string", feature="predictedValue"),))
        return B.model("ClusteringModel", "clustering",
                       {"modelClass": "centerBased", "numberOfClusters": len(self.centers)},
                       w.schema(self.fields, target=False), out,
                       C.ComparisonMeasure(kind="distance", measure=C.SquaredEuclidean()),
                       *fields, *clusters)


@model(KMeans, MiniBatchKMeans)
def kmeans(est: Any, ctx: Context, features: list[str]) -> ClusteringSpec:
    return ClusteringSpec("clustering", list(features), np.asarray(est.cluster_centers_, float))
