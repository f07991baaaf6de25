"""model.svm.score and model.naive.* (Gaussian, multinomial, Bernoulli naive Bayes)."""
from __future__ import annotations

import math

from ..errors import PFARuntimeError
from . import fn, typed


@fn("model.svm.score")
def svm_score(datum, model, kernel):
    name = "model.svm.score"
    neg, pos = model["negClass"], model["posClass"]
    if not neg and not pos:
        raise PFARuntimeError("no support vectors", 12000, name)
    total = 0.0
    for sv in list(neg) + list(pos):
        if len(sv["supVec"]) != len(datum):
            raise PFARuntimeError("support vectors must have same length as datum", 12001, name)
        total += kernel(sv["supVec"], datum) * sv["coeff"]
    return total + model["const"]


def _gauss_term(x, mean, var, name):
    if not var > 0:
        raise PFARuntimeError("variance less than or equal to zero", 10001, name)
    return -0.5 * math.log(2.0 * math.pi * var) - 0.5 * ((x - mean) * (x - mean)) / var


@typed("model.naive.gaussian")
def gaussian(call):
    name = "model.naive.gaussian"
    if call.sig_index == 0:
        def g(datum, model):
            if len(datum) != len(model):
                raise PFARuntimeError("datum and classModel misaligned", 10000, name)
            return sum(_gauss_term(x, m["mean"], m["variance"], name) for x, m in zip(datum, model))
        return g

    def gm(datum, model):
        if set(datum) != set(model):
            raise PFARuntimeError("datum and classModel misaligned", 10000, name)
        return sum(_gauss_term(x, model[k]["mean"], model[k]["variance"], name)
                   for k, x in datum.items())
    return gm


@typed("model.naive.multinomial")
def multinomial(call):
    name = "model.naive.multinomial"
    record = call.sig_index >= 2
    arrays = call.sig_index in (0, 2)

    def m(datum, model):
        if record:
            model = model["values"]
        values = list(model) if arrays else list(model.values())
        if not values or not all(v > 0 for v in values):
            raise PFARuntimeError("classModel must be non-empty and strictly positive", 10011, name)
        norm = sum(values)
        if arrays:
            if len(datum) != len(model):
                raise PFARuntimeError("datum and classModel misaligned", 10010, name)
            return sum(d * math.log(p / norm) for d, p in zip(datum, model))
        if set(datum) != set(model):
            raise PFARuntimeError("datum and classModel misaligned", 10010, name)
        return sum(d * math.log(model[k] / norm) for k, d in datum.items())
    return m


@typed("model.naive.bernoulli")
def bernoulli(call):
    name = "model.naive.bernoulli"
    record = call.sig_index == 1

    def b(datum, model):
        if record:
            model = model["values"]
        ll = 0.0
        for v in model.values():
            if not 0.0 < v < 1.0:
                raise PFARuntimeError("probability in classModel must be strictly between 0 and 1",
                                      10020, name)
            ll += math.log(1.0 - v)
        for item in datum:
            p = model.get(item)
            if p is not None:
                ll += math.log(p) - math.log(1.0 - p)
        return ll
    return b
