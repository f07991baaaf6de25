"""The single-record plan of NeuralNetwork (see pmml/record.py for the contract).

One record goes through the network as a column of one row: the same numba layer kernel as
the column plan's (``_kernels_numba.layer_forward_t``, document-order sums), one compiled call
(``_record_numba.network_run``) for a run of layers up to one that numpy finishes, and numpy's
own functions for the transcendental activations and the normalizations, on the same values. So the answers are the
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
    if kernels() is None or model.wide or getattr(model, "float32", False):
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
    # the layers as runs for one kernel call each: a run ends at a layer that numpy finishes
    # (a transcendental activation, a normalization)
    codes, params, posts = [], [], []
    for layer in model.layers:
        if layer.activation == "radialBasis":
            return None
        code, param = _kernel_activation(layer)
        codes.append(code)
        params.append(param)
        posts.append(code == 0 or layer.normalization != "none")
    layers = model.layers
    runs: list[tuple[int, int, Any]] = []
    lo = 0
    for i, post in enumerate(posts):
        if post or i == len(layers) - 1:
            last = layers[i]
            runs.append((lo, i + 1, (last, codes[i], slice(last.start, last.start + last.size))
                         if post else None))
            lo = i + 1
    ints, floats = _packed(layers, codes, params)
    from ._record_numba import network_run
    total = model.total
    out_index = list(model.out_index)
    n_in = len(inputs)

    def run(env: dict) -> list[float] | None:
        vals = [fn(env) for fn in inputs]
        s = sum(vals)
        if s - s != 0.0:
            return None
        a = np.empty((total, 1))
        a[:n_in, 0] = vals
        for lo, hi, post in runs:
            network_run(a, lo, hi, ints, floats)
            if post is None:
                continue
            layer, code, sl = post
            if code == 0:                         # transcendental: numpy's functions
                zs = a[sl, 0].tolist()
                if layer.activation == "logistic" and all(-700.0 < z < 700.0 for z in zs):
                    # activate's operations value by value (numpy's exp; no errstate needed:
                    # exp cannot overflow)
                    a[sl, 0] = [1.0 / (1.0 + np.exp(-z)) for z in zs]
                else:
                    a[sl] = activate(layer.activation, a[sl], layer.threshold, layer.leakage)
            if layer.normalization != "none":
                y, bad = normalize(layer.normalization, np.ascontiguousarray(a[sl].T))
                if bad[0]:
                    return None
                a[sl] = y.T
        vals = a[:, 0].tolist()
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


def _packed(layers, codes: list[int], params: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The layers' kernel arrays end to end in one int and one float array, the layout
    ``_record_numba.network_run`` reads (fewer arguments: a call costs per argument)."""
    def offsets(parts) -> list[int]:
        return [0] + np.cumsum([len(p) for p in parts]).tolist()
    ptrs = [layer.conn_ptr.tolist() for layer in layers]
    idx = [layer.conn_idx.tolist() for layer in layers]
    bias = [layer.bias.tolist() for layer in layers]
    n = len(layers)
    sections = [sum(ptrs, []), sum(idx, []), offsets(ptrs), offsets(idx), offsets(bias), codes,
                [layer.start for layer in layers]]
    starts, at = [], 7
    for sec in sections[:-1]:
        starts.append(at)
        at += len(sec)
    ints = [n] + starts + [v for sec in sections for v in sec]
    floats = [w for layer in layers for w in layer.conn_w.tolist()] + sum(bias, []) + \
        list(params)
    return np.array(ints, np.int64), np.array(floats, np.float64)
