"""The single-record plan of NaiveBayesModel (see pmml/record.py for the contract).

A model whose every input is a continuous field with Gaussian distributions (what
scikit-learn's GaussianNB becomes): each (input, class) term's exponent -0.5 z z - c with
z = (x - mean) / sd in Python floats, the column plan's operations in its order
(``_kernels_numba.gauss_exponents``); the densities, their floor at the threshold and their
logarithms with numpy on the record's terms at once (numpy's exp and log, as the column plan
calls them); each class's log-score as ln(prior) plus its terms in document order; the
max-shifted softmax as ``naive_bayes._softmax`` computes it. So the answers are the column
plan's bit for bit. A record whose scores are not all finite declines (the column plan scores
it); discrete, Poisson or uniform inputs leave the model without a plan.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

_DOUBLE = "double"


def bayes_scorer(model, need: Callable[[str], str]) -> Callable[[dict], Any] | None:
    """The record scorer of a NaiveBayesModel with Gaussian inputs only, else None."""
    from .models.naive_bayes import ContinuousInput
    if not model.inputs or any(not isinstance(inp, ContinuousInput) or
                               any(d.kind != "gauss" for _, d in inp.dists)
                               for inp in model.inputs):
        return None
    fields = [model.inputs[model.cont_input[r]].field for r in range(len(model.cont_pos))]
    if any(need(name) != _DOUBLE for name in fields):
        return None
    terms = list(zip(model.g_feat.tolist(), model.g_mean.tolist(), model.g_sd.tolist(),
                     model.g_c.tolist()))
    # every term is Gaussian: term_rows index the exponents in the order they are listed
    order = list(zip(model.term_cls.tolist(), model.term_rows.tolist()))
    prior = model.log_prior.tolist()
    threshold = model.threshold
    cats = list(model.cats)
    two = len(cats) == 2

    def score(env: dict):
        x = [env[name] for name in fields]
        g = []
        for f, mean, sd, c in terms:
            z = (x[f] - mean) / sd
            g.append(-0.5 * z * z - c)
        g = np.array(g)
        with np.errstate(all="ignore"):
            np.exp(g, out=g)
            if threshold > 0:
                np.copyto(g, threshold, where=g < threshold)
            np.log(g, out=g)
        vals = g.tolist()
        logp = list(prior)
        for j, r in order:
            logp[j] += vals[r]
        for v in logp:
            if v - v != 0.0:
                return None
        with np.errstate(over="ignore"):
            if two:
                top = max(logp[0], logp[1])
                e = np.exp(np.array([logp[0] - top, logp[1] - top]))
                probs = (e / (e[0] + e[1])).tolist()
            else:
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
