"""The single-record plan of NaiveBayesModel (see pmml/record.py for the contract).

A model whose every input is a continuous field with Gaussian distributions (what
scikit-learn's GaussianNB becomes): each (input, class) term's log-density -0.5 z z - c with
z = (x - mean) / sd in Python floats, the column plan's operations in its order
(``_kernels_numba.gauss_exponents``), and those below the cut through the column plan's
``small_densities`` (numpy's exp and log on an array); each class's log-score as
ln(prior) plus its terms in document order; the max-shifted softmax as ``naive_bayes._softmax``
computes it (numpy's exp). So the answers are the column
plan's bit for bit. A record whose scores are not all finite declines (the column plan scores
it); discrete, Poisson or uniform inputs leave the model without a plan.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

_DOUBLE = "double"


def bayes_scorer(model, need: Callable[[str], str]) -> Callable[[dict], Any] | None:
    """The record scorer of a NaiveBayesModel with Gaussian inputs only, else None."""
    from .models.naive_bayes import ContinuousInput, small_densities
    if not model.inputs or any(not isinstance(inp, ContinuousInput) or
                               any(d.kind != "gauss" for _, d in inp.dists)
                               for inp in model.inputs):
        return None
    fields = [model.inputs[model.cont_input[r]].field for r in range(len(model.cont_pos))]
    if any(need(name) != _DOUBLE for name in fields):
        return None
    # every term is Gaussian: row t of the exponents is term t, in document order
    if model.term_rows.tolist() != list(range(len(model.term_rows))):
        return None
    terms = list(zip(model.g_feat.tolist(), model.g_mean.tolist(), model.g_sd.tolist(),
                     model.g_c.tolist(), model.term_cls.tolist()))
    prior = model.log_prior.tolist()
    cut, threshold = model.g_cut, model.threshold
    cats = list(model.cats)
    two = len(cats) == 2

    def small_terms(x: list) -> list:
        # every class's sum again, the terms below the cut through small_densities
        g = np.array([-0.5 * (z := (x[f] - mean) / sd) * z - c for f, mean, sd, c, _ in terms])
        at = g < cut
        part = g[at]
        small_densities(part, threshold)
        g[at] = part
        logp = list(prior)
        for v, t in zip(g.tolist(), terms):
            logp[t[4]] += v
        return logp

    def score(env: dict):
        x = [env[name] for name in fields]
        logp = list(prior)
        small = False
        for f, mean, sd, c, j in terms:   # each class's terms in document order
            z = (x[f] - mean) / sd
            v = -0.5 * z * z - c
            if v < cut:
                small = True
            logp[j] += v
        if small:
            logp = small_terms(x)
        for v in logp:
            if v - v != 0.0:
                return None
        if two:             # (exp of values <= 0 cannot overflow)
            top = max(logp[0], logp[1])
            e0, e1 = np.exp(np.array([logp[0] - top, logp[1] - top])).tolist()
            total = e0 + e1
            probs = [e0 / total, e1 / total]
        else:
            with np.errstate(over="ignore"):
                lp = np.array([logp])
                shifted = np.exp(lp - np.max(lp, axis=1, keepdims=True))
                probs = (shifted / shifted.sum(axis=1, keepdims=True))[0].tolist()
        best = 0
        for j, p in enumerate(probs):
            if p - p != 0.0:
                return None
            if p > probs[best]:              # the first of equals
                best = j
        return cats[best], dict(zip(cats, probs))
    return score
