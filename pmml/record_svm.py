"""The single-record plan of SupportVectorMachineModel (see pmml/record.py for the contract).

A model whose VectorFields are double fields (no CategoricalPredictor): the record's row goes
through the model's own ``exact_values`` (its kernel matrix and coefficient product), the very
path the column plan takes for one row, so the decision values are the column plan's bit for
bit; then the column plan's decision: a regression's value, or one-against-one votes (each
machine's threshold, maxWins) and the first class with the most votes, the votes' shares as
probabilities. What is saved is the column plan's per-field and per-batch work around them.
With numba, a radial basis kernel's squared distances come from one compiled loop with the same
sums. A one-against-all classifier or an alternateBinaryTargetCategory leaves the model without
a plan.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

_DOUBLE = "double"


def svm_scorer(model, need: Callable[[str], str]) -> Callable[[dict], Any] | None:
    """The record scorer of a SupportVectorMachineModel in the subset above, else None."""
    if not model.plain_fields or any(need(name) != _DOUBLE for name in model.field_names):
        return None
    names = list(model.field_names)
    exact = _rbf_row(model) or model.exact_values

    def values(env: dict) -> list[float] | None:
        with np.errstate(all="ignore"):       # (a value that is not finite declines)
            f = exact(np.array([[env[name] for name in names]])).tolist()[0]
        for v in f:
            if v - v != 0.0:
                return None
        return f

    if model.function == "regression":
        def regression(env: dict):
            f = values(env)
            return None if f is None else (f[0], None)
        return regression
    if model.alt_binary is not None or not model.voting:
        return None
    cats = list(model.cats)
    share = float(len(model.machines))
    max_wins = model.max_wins
    picks = [(m.threshold, model.cat_pos[m.target], model.cat_pos[m.alternate])
             for m in model.machines]

    def classification(env: dict):
        f = values(env)
        if f is None:
            return None
        votes = [0.0] * len(cats)
        for v, (threshold, first, alternate) in zip(f, picks):
            won = v > threshold if max_wins else v < threshold
            votes[first if won else alternate] += 1.0
        best = 0
        for j, n in enumerate(votes):           # the first class with the most votes
            if n > votes[best]:
                best = j
        return cats[best], {c: n / share for c, n in zip(cats, votes)}
    return classification


def _rbf_row(model) -> Callable[[np.ndarray], np.ndarray] | None:
    """For a radial basis kernel with numba: ``exact_values`` of one row with its squared
    distances from a compiled loop (``_kernels_numba.sq_euclidean_row``: the sums cdist takes
    there, without its per-call cost) and then ``Kernel.matrix``'s and ``exact_values``'s own
    numpy operations on the same shapes. Else None."""
    from .models.compute_backend import kernels
    kern = kernels()
    if kern is None or model.sv is None or model.kernel.kind != "RadialBasisKernelType" or \
            not len(model.sv):
        return None
    vt = np.ascontiguousarray(model.sv.T, dtype=float)
    gamma, coef, intercepts = model.kernel.gamma, model.coef, model.intercepts
    row = kern.sq_euclidean_row

    def values(x: np.ndarray) -> np.ndarray:
        d = np.empty((1, vt.shape[1]))
        row(x[0], vt, d[0])
        np.negative(d, out=d)
        d *= gamma
        np.exp(d, out=d)
        return d @ coef + intercepts
    return values
