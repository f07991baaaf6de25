"""The single-record plan of NeuralNetwork (see pmml/record.py for the contract).

One record goes through the network as a column of one row: the same numba layer kernel as
the column plan's (``_kernels_numba.layer_forward_t``, document-order sums), one call for a run
of layers whose activations are plain arithmetic, and numpy's own functions for the
transcendental activations and the normalizations, on the same values. So the answers are the
column plan's bit for bit; what is saved is the column plan's per-field and per-batch work
around the network.

The subset: NeuralInputs that are a double field or an arithmetic expression of the record
plan (pmml/record.py), no radialBasis layer, no layer wide enough for BLAS, classification
with NormDiscrete outputs or regression with a FieldRef output (a NormContinuous output is
inverted with the column plan's own function). Without numba there is no plan.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .expressions import find_expression

_DOUBLE, _FLOAT = "double", "float"


def network_scorer(model, need: Callable[[str], str]) -> Callable[[dict], Any] | None:
    """A NeuralNetwork's one-record scorer, or None outside the subset."""
    from .models.kernels import kernels
    from .models.neural_network import _denormalize, _kernel_activation, activate, normalize
    kern = kernels()
    if kern is None or model.wide:
        return None
    compiler = getattr(need, "__self__", None)       # (record._Compiler: expressions)
    inputs: list[Callable[[dict], float]] = []
    for ni in model.el.find("NeuralInputs").findall("NeuralInput"):
        df = ni.find("DerivedField")
        ex = find_expression(df)
        if ex is None or df.get("dataType") not in (None, "double"):
            return None
        if ex.tag == "FieldRef":
            name = ex.get("field")
            if need(name) not in (_DOUBLE, _FLOAT):
                return None
            inputs.append(lambda env, name=name: env[name])
        elif compiler is not None:
            fn, kind = compiler.expression(ex, True)
            if kind != _DOUBLE:
                return None
            inputs.append(fn)
        else:
            return None
    steps: list[tuple] = []
    for layer in model.layers:
        if layer.activation == "radialBasis":
            return None
        code, param = _kernel_activation(layer)
        steps.append((layer.conn_ptr, layer.conn_idx, layer.conn_w, layer.bias, code, param,
                      layer.start, slice(layer.start, layer.start + layer.size), layer))
    total = model.total
    out_index = list(model.out_index)
    forward = kern.layer_forward_t

    def run(env: dict) -> list[float] | None:
        a = np.empty((total, 1))
        col = a[:, 0]
        for i, fn in enumerate(inputs):
            v = fn(env)
            if v - v != 0.0:
                return None
            col[i] = v
        for ptr, idx, w, bias, code, param, start, sl, layer in steps:
            forward(a, ptr, idx, w, bias, code, param, start)
            if code == 0:                         # transcendental: numpy's functions
                a[sl] = activate(layer.activation, a[sl], layer.threshold, layer.leakage)
            if layer.normalization != "none":
                y, bad = normalize(layer.normalization, np.ascontiguousarray(a[sl].T))
                if bad[0]:
                    return None
                a[sl] = y.T
        vals = col.tolist()
        out = [vals[j] for j in out_index]
        for v in out:
            if v - v != 0.0:
                return None
        return out

    if model.function == "regression":
        denorm = model.denorm

        def regression(env: dict):
            out = run(env)
            if out is None:
                return None
            y = out[0]
            if denorm is not None:
                y = float(_denormalize(denorm, np.array([y]))[0])
                if y - y != 0.0:
                    return None
            return y, None
        return regression

    cats = list(model.out_cats)
    if not cats:
        return None

    def classification(env: dict):
        out = run(env)
        if out is None:
            return None
        best = 0
        for j, p in enumerate(out):               # argmax: the first of equals
            if p > out[best]:
                best = j
        return cats[best], dict(zip(cats, out))
    return classification
