"""The single-record plan of NeuralNetwork (see pmml/record.py for the contract).

One record goes through the network as one packed row (every neuron's value, the inputs first):
one compiled call (``_record_numba.network_row``) for a run of layers up to one that numpy
finishes, with the column plan's sums (document order: ((0 + x_0 w_0) + x_1 w_1) + ... + bias)
and activations neuron by neuron; numpy's own functions for the transcendental activations and
the normalizations, on the same values; a last run of a few identity connections in Python
floats (the same operations). So the answers are the column plan's bit for bit; what is saved
is the column plan's per-field and per-batch work around the network. A network whose inputs
are the double fields themselves reads the record as a packed row (pmml/record_row.py).

The subset: NeuralInputs that are a double field or an arithmetic expression of the record
plan (pmml/record.py), no radialBasis layer, no layer wide enough for BLAS, classification
with NormDiscrete outputs or regression with a FieldRef output (a NormContinuous output is
inverted with the column plan's own function). Without numba there is no plan.
"""
from __future__ import annotations

from array import array
from typing import Any, Callable

import numpy as np

from .record_row import RowScorer

_DOUBLE, _FLOAT = "double", "float"
#: connections of a last identity run summed in Python rather than by a compiled call
_PYTHON_TAIL = 16


def network_scorer(model, need: Callable[[str], str]) -> Callable[[dict], Any] | None:
    """A NeuralNetwork's one-record scorer, or None outside the subset."""
    from .models.compute_backend import kernels
    from .models.neural_network import _denormalize, _kernel_activation, activate, normalize
    if kernels() is None or model.wide or getattr(model, "float32", False):
        return None
    compiler = getattr(need, "__self__", None)       # (record._Compiler: expressions)
    inputs: list[Callable[[dict], float]] = []
    plain: list[str] = []              # the inputs' fields, while every input is a double field
    from .models.node_access import element_for
    from .objects.expressions import FieldRef
    from .objects.neural import NeuralInputs
    for ni in model.spec.body(NeuralInputs)[0].inputs:
        df = ni.derived_field
        ex = df.expression
        if ex is None or df.data_type not in (None, "double"):
            return None
        if isinstance(ex, FieldRef):
            name = ex.field
            kind = need(name)
            if kind not in (_DOUBLE, _FLOAT):
                return None
            if kind == _DOUBLE and plain is not None and name not in plain:
                plain.append(name)
            else:
                plain = None
            inputs.append(lambda env, name=name: env[name])
        elif compiler is not None:
            fn, kind = compiler.expression(element_for(ex), True)
            if kind != _DOUBLE:
                return None
            inputs.append(fn)
            plain = None
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
            quick = last.activation == "logistic" and last.size == 1 and \
                last.normalization == "none"
            runs.append((lo, i + 1, (last, codes[i], last.start, last.start + last.size, quick)
                         if post else None))
            lo = i + 1
    ints, floats = _packed(layers, codes, params)
    # a last run of a few identity connections (sklearn2pmml's p, 1 - p after a logistic
    # output neuron) costs less in Python floats than a compiled call: the kernel's sums,
    # ((0 + x w) + ...) + bias, in the same order
    tail = None
    lo, hi, post = runs[-1]
    if len(runs) > 1 and post is None and all(codes[i] == 1 for i in range(lo, hi)) and \
            sum(len(layers[i].conn_w) for i in range(lo, hi)) <= _PYTHON_TAIL:
        tail = [(layers[i].start + j, float(layers[i].bias[j]),
                 list(zip(layers[i].conn_idx[layers[i].conn_ptr[j]:
                                             layers[i].conn_ptr[j + 1]].tolist(),
                          layers[i].conn_w[layers[i].conn_ptr[j]:
                                           layers[i].conn_ptr[j + 1]].tolist())))
                for i in range(lo, hi) for j in range(layers[i].size)]
        runs = runs[:-1]
    from ._record_numba import network_row
    total = model.total
    out_index = list(model.out_index)
    n_in = len(inputs)
    pad = [0.0] * (total - n_in)
    if len(runs) == 0:
        return None

    def run_row(buf) -> list[float] | None:
        """The packed row (the inputs, then room for every neuron) through the network."""
        check = n_in
        for lo, hi, post in runs:
            if not network_row(buf, check, lo, hi, ints, floats):
                return None
            check = 0
            if post is None:
                continue
            layer, code, a, b, quick = post
            if quick:                             # one logistic neuron (a binary classifier)
                z = buf[a]
                if -700.0 < z < 700.0:            # (activate's operations; exp cannot overflow)
                    buf[a] = 1.0 / (1.0 + float(np.exp(-z)))
                    continue
            zs = buf[a:b].tolist()
            if code == 0:                         # transcendental: numpy's functions
                if layer.activation == "logistic" and all(-700.0 < z < 700.0 for z in zs):
                    # activate's operations value by value (numpy's exp; no errstate needed:
                    # exp cannot overflow)
                    zs = [float(1.0 / (1.0 + np.exp(-z))) for z in zs]
                else:
                    zs = activate(layer.activation, np.array(zs).reshape(-1, 1),
                                  layer.threshold, layer.leakage)[:, 0].tolist()
            if layer.normalization != "none":
                y, bad = normalize(layer.normalization, np.array([zs]))
                if bad[0]:
                    return None
                zs = y[0].tolist()
            buf[a:b] = array("d", zs)
        vals = buf.tolist()
        if tail is not None:
            for at, bias, conns in tail:
                z = 0.0
                for src, w in conns:
                    z = z + vals[src] * w
                vals[at] = z + bias
        out = [vals[j] for j in out_index]
        for v in out:
            if v - v != 0.0:
                return None
        return out

    def run(env: dict) -> list[float] | None:
        return run_row(array("d", [fn(env) for fn in inputs] + pad))

    def finished(finish: Callable[[list[float]], Any]):
        """The scorer: a RowScorer when the inputs are the double fields themselves."""
        def env_score(env: dict):
            out = run(env)
            return None if out is None else finish(out)
        if plain is None or len(plain) != n_in:
            return env_score

        def row_score(buf):
            out = run_row(buf)
            return None if out is None else finish(out)
        return RowScorer(tuple(plain), total, row_score, env_score)

    if model.function == "regression":
        denorm = model.denorm

        def regression(out: list[float]):
            y = out[0]
            if denorm is not None:
                y = float(_denormalize(denorm, np.array([y]))[0])
                if y - y != 0.0:
                    return None
            return y, None
        return finished(regression)

    cats = list(model.out_cats)
    if not cats:
        return None

    def classification(out: list[float]):
        best = 0
        for j, p in enumerate(out):               # argmax: the first of equals
            if p > out[best]:
                best = j
        return cats[best], dict(zip(cats, out))
    return finished(classification)


def _packed(layers, codes: list[int], params: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The layers' kernel arrays end to end in one int and one float array, the layout
    ``_record_numba.network_row`` reads (fewer arguments: a call costs per argument)."""
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
