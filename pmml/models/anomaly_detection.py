"""AnomalyDetectionModel (PMML 4.4): an anomaly score computed from one embedded model.

The embedded model (any model element) is compiled like a segment and scored over the same
rows; its predicted value becomes the anomaly score according to ``algorithmType``:

- ``iforest``: the embedded model (a MiningModel averaging isolation trees, as the R pmml package
  and the spec write it) predicts the mean path length E(h(x)); the score is
  ``2 ** (-E(h(x)) / c(sampleDataSize))`` with ``c(n) = 2 (ln(n - 1) + euler_gamma) - 2 (n - 1) / n``
  (``c(2) = 1``, ``c(n <= 1) = 0``), the average path length of an unsuccessful BST search.
  This is scikit-learn's ``-score_samples`` for an IsolationForest exported with max_samples_.
- ``ocsvm``: the embedded SupportVectorMachineModel's decision value, as is.
- ``clusterMeanDist``: the distance from the winning cluster of the embedded ClusteringModel,
  divided by that cluster's entry in ``MeanClusterDistances``.
- ``other``: the embedded model's (numeric) predicted value, as is.

Outlier flags and decision functions are ordinary OutputFields (expressions over the score).
"""
from __future__ import annotations

import math

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from ..objects.anomaly_detection import MeanClusterDistances
from ..objects.models import Model
from ..objects.nodes import Fragment
from ..predicates import parse_array
from ..scope import Scope
from ..values import codes, is_numeric_type
from .base import (COMMON_CHILDREN, CompiledModel, Result, compile_model, register,
                   regression_result)
from .node_access import model_attrs

ALGORITHMS = ("iforest", "ocsvm", "clusterMeanDist", "other")
_CHILDREN = COMMON_CHILDREN | {"MeanClusterDistances"}


def average_path_length(n: float) -> float:
    """c(n): average path length of an unsuccessful search in a binary search tree of n nodes."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n


@register("AnomalyDetectionModel")
class AnomalyDetectionModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        at = model_attrs(spec)
        self.algorithm = at.get("algorithmType")
        if self.algorithm is None:
            raise DocumentError("AnomalyDetectionModel needs an algorithmType", line=spec.line,
                                element=spec.tag)
        if self.algorithm not in ALGORITHMS:
            raise UnsupportedError(f"AnomalyDetectionModel algorithmType={self.algorithm!r}",
                                   line=spec.line, element=spec.tag)
        inner = next((c for c in spec.content if isinstance(c, Model)), None)
        if inner is None:
            raise DocumentError("AnomalyDetectionModel embeds no model", line=spec.line,
                                element=spec.tag)
        for child in spec.content:
            tag = child.tag if isinstance(child, (Fragment, Model)) else child.XML.tag
            if child is not inner and tag not in _CHILDREN:
                raise UnsupportedError(f"<{tag}> in AnomalyDetectionModel is not supported",
                                       line=child.line, element=tag)
        self.inner: CompiledModel = self._compile_inner(inner)
        self.scale = None
        if self.algorithm == "iforest":
            size = at.get("sampleDataSize")
            try:
                n = float(size) if size is not None else math.nan
            except ValueError:
                n = math.nan
            if not n > 0:
                raise DocumentError(f"an iforest AnomalyDetectionModel needs a positive "
                                    f"sampleDataSize, not {size!r}", line=spec.line,
                                    element=spec.tag)
            self.scale = average_path_length(n)
        if self.algorithm in ("iforest", "ocsvm", "other") and self.inner.function in (
                "classification", "clustering", "association"):
            raise UnsupportedError(f"{self.algorithm} anomaly score from a {self.inner.function} "
                                   f"<{inner.tag}>", line=inner.line, element=inner.tag)
        self.mean_distances = None
        if self.algorithm == "clusterMeanDist":
            mcd = spec.body(MeanClusterDistances)
            arr = mcd[0].array if mcd else None
            if arr is None:
                raise DocumentError("clusterMeanDist needs MeanClusterDistances", line=spec.line,
                                    element=spec.tag)
            if inner.tag != "ClusteringModel":
                raise UnsupportedError(f"clusterMeanDist over <{inner.tag}> (needs a "
                                       "ClusteringModel)", line=inner.line, element=inner.tag)
            self.mean_distances = np.array(parse_array(arr, "double"), float)
            ids = list(self.inner.ids)  # type: ignore[attr-defined]
            if len(self.mean_distances) != len(ids):
                raise DocumentError(f"MeanClusterDistances has {len(self.mean_distances)} values "
                                    f"for {len(ids)} clusters", line=mcd[0].line,
                                    element="MeanClusterDistances")
            self.cluster_ids = [str(i) for i in ids]

    def _compile_inner(self, inner: Model) -> CompiledModel:
        """The embedded model, compiled from its typed node like a segment's."""
        return compile_model(inner, self.ctx)

    @property
    def target_type(self) -> str:
        if self.target is not None and is_numeric_type(self.target.data_type):
            return self.target.data_type
        return "double"

    def score(self, scope: Scope) -> Result:
        res, _ = self.inner.evaluate(scope)
        if self.algorithm == "clusterMeanDist":
            return self._cluster_score(res, scope.n)
        col = res.value
        missing = col.missing.copy()
        with np.errstate(all="ignore"):
            v = np.where(missing, np.nan, col.values.astype(float))
            if self.algorithm == "iforest":
                v = np.power(2.0, -v / self.scale) if self.scale > 0 else np.where(
                    missing, np.nan, 1.0)
        return regression_result(v, missing, self.target_type)

    def _cluster_score(self, res: Result, n: int) -> Result:
        ids = res.extra.get("entityId")
        aff = res.extra.get("affinity")
        if ids is None or aff is None:
            return regression_result(np.full(n, np.nan), np.ones(n, bool), self.target_type)
        idx = codes(np.asarray(ids, dtype=object), self.cluster_ids)   # ids are id strings
        dist = aff(None, 1) if callable(aff) else np.asarray(aff, float)
        missing = (idx < 0) | np.isnan(dist)
        with np.errstate(all="ignore"):
            v = dist / self.mean_distances[np.where(idx < 0, 0, idx)]
        return regression_result(np.where(missing, np.nan, v), missing, self.target_type)
