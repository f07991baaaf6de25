"""MLPClassifier and MLPRegressor as a PMML NeuralNetwork: one NeuralLayer per scikit-learn
layer with its activation; a binary classifier's single logistic output becomes two neurons
(p and 1 - p) in an extra identity layer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor

from . import pmml_builder as B
from .context import Context
from .registry import model
from .trees import py_classes

ACTIVATIONS = {"relu": "rectifier", "tanh": "tanh", "logistic": "logistic",
               "identity": "identity"}


@dataclass
class NeuralSpec:
    function: str
    fields: list
    weights: list                 # per layer (n_in, n_out)
    biases: list
    activations: list             # PMML activation per layer
    normalization: str           # of the output layer: none | softmax
    classes: tuple = ()

    def pmml(self, w: Any, out: Any) -> Any:
        inputs = B.el("NeuralInputs", {"numberOfInputs": len(self.fields)}, *[
            B.el("NeuralInput", {"id": str(i)}, B.derived_field(
                f"input({f})", "continuous", "double", B.field_ref(f)))
            for i, f in enumerate(self.fields)])
        # neuron ids: one running number over inputs and layers (every Con names one)
        prev = [str(i) for i in range(len(self.fields))]
        next_id = len(self.fields)
        layers = []
        last = len(self.weights) - 1
        for k, (W, b, act) in enumerate(zip(self.weights, self.biases, self.activations)):
            ids = [str(next_id + j) for j in range(W.shape[1])]
            next_id += W.shape[1]
            neurons = [B.el("Neuron", {"id": ids[j], "bias": float(b[j])}, *[
                B.el("Con", {"from": prev[i], "weight": float(W[i, j])})
                for i in range(W.shape[0]) if W[i, j] != 0]) for j in range(W.shape[1])]
            layers.append(B.el("NeuralLayer", {
                "activationFunction": act,
                "normalizationMethod": self.normalization if k == last and
                self.normalization != "none" else None}, *neurons))
            prev = ids
        if self.function == "classification":
            if len(self.classes) == 2:      # p(second class) from the logistic unit; 1 - p
                ids = [str(next_id), str(next_id + 1)]
                layers.append(B.el("NeuralLayer", {"activationFunction": "identity"},
                                   B.el("Neuron", {"id": ids[0], "bias": 1},
                                        B.el("Con", {"from": prev[0], "weight": -1})),
                                   B.el("Neuron", {"id": ids[1], "bias": 0},
                                        B.el("Con", {"from": prev[0], "weight": 1}))))
                prev = ids
            outs = [B.el("NeuralOutput", {"outputNeuron": prev[j]}, B.derived_field(
                f"output({c})", "categorical", w.doc.target_type,
                B.norm_discrete(w.doc.target, c))) for j, c in enumerate(self.classes)]
        else:
            outs = [B.el("NeuralOutput", {"outputNeuron": prev[0]}, B.derived_field(
                "output", "continuous", "double", B.field_ref(w.doc.target)))]
        return B.el("NeuralNetwork", {"functionName": self.function,
                                      "activationFunction": self.activations[0]},
                    w.schema(self.fields), out, *([inputs] + layers),
                    B.el("NeuralOutputs", {"numberOfOutputs": len(outs)}, *outs))


def _spec(est: Any, ctx: Context, features: list[str], function: str) -> NeuralSpec:
    if est.activation not in ACTIVATIONS:
        raise ctx.fail(est, f"activation={est.activation!r}")
    n = len(est.coefs_)
    acts = [ACTIVATIONS[est.activation]] * (n - 1)
    out_act = est.out_activation_
    classes: tuple = ()
    if function == "classification":
        classes = py_classes(est)
        if out_act == "logistic" and len(classes) == 2:
            acts.append("logistic")
            norm = "none"
        elif out_act == "softmax":
            acts.append("identity")
            norm = "softmax"
        else:
            raise ctx.fail(est, "multi-label output is not supported")
    else:
        if est.n_outputs_ != 1:
            raise ctx.fail(est, "multi-output regression is not supported")
        acts.append("identity")
        norm = "none"
    return NeuralSpec(function, list(features), [np.asarray(W, float) for W in est.coefs_],
                      [np.asarray(b, float) for b in est.intercepts_], acts, norm, classes)


@model(MLPClassifier)
def mlp_classifier(est: Any, ctx: Context, features: list[str]) -> NeuralSpec:
    return _spec(est, ctx, features, "classification")


@model(MLPRegressor)
def mlp_regressor(est: Any, ctx: Context, features: list[str]) -> NeuralSpec:
    return _spec(est, ctx, features, "regression")
