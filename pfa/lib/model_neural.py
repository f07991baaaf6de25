"""model.neural.simpleLayers: feed-forward neural network layers."""
from __future__ import annotations

import operator

from ..errors import PFARuntimeError
from . import fn

_mul = operator.mul


@fn("model.neural.simpleLayers")
def simple_layers(datum, model, activation):
    name = "model.neural.simpleLayers"
    if not model:
        raise PFARuntimeError("no layers", 11000, name)
    last = len(model) - 1
    x = datum
    for i, layer in enumerate(model):
        weights, bias = layer["weights"], layer["bias"]
        n = len(x)
        if len(bias) != len(weights) or any(len(w) != n for w in weights):
            raise PFARuntimeError("weights, bias, or datum misaligned", 11001, name)
        out = [sum(map(_mul, w, x)) + b for w, b in zip(weights, bias)]
        x = out if i == last else [activation(v) for v in out]
    return x
