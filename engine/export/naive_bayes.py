"""GaussianNB as a PMML NaiveBayesModel: one GaussianDistribution per input and class (the
fitted means and variances, smoothing included) and the class priors as counts. Engines score
it in log space with a max-shifted softmax, which is scikit-learn's joint log likelihood."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.naive_bayes import GaussianNB

from portmodel.pmml.objects import naive_bayes as NB
from portmodel.pmml.objects.distributions import GaussianDistribution

from . import pmml_builder as B
from .context import Context
from .registry import model
from .trees import py_classes


@dataclass
class NaiveBayesSpec:
    function: str
    fields: list
    classes: tuple
    priors: np.ndarray
    means: np.ndarray            # (classes, fields)
    variances: np.ndarray

    def pmml(self, w: Any, out: Any) -> Any:
        inputs = tuple(NB.BayesInput(field_name=f, target_value_stats=NB.TargetValueStats(
            stats=tuple(NB.TargetValueStat(value=B.text(c), distribution=GaussianDistribution(
                mean=float(self.means[k, i]), variance=float(self.variances[k, i])))
                for k, c in enumerate(self.classes))))
            for i, f in enumerate(self.fields))
        counts = NB.TargetValueCounts(counts=tuple(
            NB.TargetValueCount(value=B.text(c), count=float(p))
            for c, p in zip(self.classes, self.priors)))
        return B.model("NaiveBayesModel", "classification", {"threshold": 0},
                       w.schema(self.fields), out, NB.BayesInputs(inputs=inputs),
                       NB.BayesOutput(field_name=w.doc.target, counts=counts))


@model(GaussianNB)
def gaussian_nb(est: GaussianNB, ctx: Context, features: list[str]) -> NaiveBayesSpec:
    return NaiveBayesSpec("classification", list(features), py_classes(est),
                          np.asarray(est.class_prior_, float), np.asarray(est.theta_, float),
                          np.asarray(est.var_, float))
