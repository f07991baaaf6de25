"""MLPClassifier and MLPRegressor as a PMML NeuralNetwork: one NeuralLayer per scikit-learn
layer with its activation; a binary classifier's single logistic output becomes two neurons
(p and 1 - p) in an extra identity layer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor

from portmodel.pmml import objects as O

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
        inputs = O.NeuralInputs(number_of_inputs=len(self.fields), inputs=tuple(
            O.NeuralInput(id=str(i), derived_field=O.DerivedField(
                name=f"input({f})", optype="continuous", data_type="double",
                expression=O.FieldRef(field=f)))
            for i, f in enumerate(self.fields)))
        # neuron ids: one running number over inputs and layers (every Con names one)
        prev = [str(i) for i in range(len(self.fields))]
        next_id = len(self.fields)
        layers = []
        last = len(self.weights) - 1
        for k, (W, b, act) in enumerate(zip(self.weights, self.biases, self.activations)):
            ids = [str(next_id + j) for j in range(W.shape[1])]
            next_id += W.shape[1]
            Wl, bl = W.tolist(), b.tolist()
            neurons = tuple(O.Neuron(id=ids[j], bias=bl[j], connections=tuple(
                O.Con(source=prev[i], weight=Wl[i][j])
                for i in range(W.shape[0]) if Wl[i][j] != 0)) for j in range(W.shape[1]))
            layers.append(O.NeuralLayer(
                activation_function=act,
                normalization_method=self.normalization if k == last and
                self.normalization != "none" else None, neurons=neurons))
            prev = ids
        if self.function == "classification":
            if len(self.classes) == 2:      # p(second class) from the logistic unit; 1 - p
                ids = [str(next_id), str(next_id + 1)]
                layers.append(O.NeuralLayer(activation_function="identity", neurons=(
                    O.Neuron(id=ids[0], bias=1.0, connections=(
                        O.Con(source=prev[0], weight=-1.0),)),
                    O.Neuron(id=ids[1], bias=0.0, connections=(
                        O.Con(source=prev[0], weight=1.0),)))))
                prev = ids
            outs = [O.NeuralOutput(output_neuron=prev[j], derived_field=O.DerivedField(
                name=f"output({c})", optype="categorical", data_type=w.doc.target_type,
                expression=O.NormDiscrete(field=w.doc.target, value=B.text(c))))
                for j, c in enumerate(self.classes)]
        else:
            outs = [O.NeuralOutput(output_neuron=prev[0], derived_field=O.DerivedField(
                name="output", optype="continuous", data_type="double",
                expression=O.FieldRef(field=w.doc.target)))]
        return B.model("NeuralNetwork", self.function,
                       {"activationFunction": self.activations[0]},
                       w.schema(self.fields), out, inputs, *layers,
                       O.NeuralOutputs(number_of_outputs=len(outs), outputs=tuple(outs)))


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
