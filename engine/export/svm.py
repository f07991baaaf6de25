"""SVC and SVR as a PMML SupportVectorMachineModel (linear, poly, rbf and sigmoid kernels).

SVC is one-against-one over libsvm's own coefficients (``_dual_coef_``, ``_intercept_``; the
public ones are negated for two classes): for classes i < j the machine's value is
``sum coef * K(x, sv) + intercept``, and libsvm votes i when it is positive; PMML takes the
targetCategory when the value is below the threshold 0, so j is the target category and i the
alternate one.

probability=True: scikit-learn's predict_proba is libsvm's: each machine's value through its
Platt sigmoid (``probA_``, ``probB_``), clipped to [1e-7, 1 - 1e-7], then pairwise coupling
(Wu, Lin and Weng's second method, an iteration that stops once every error is below
0.005 / classes; also for two classes). The PFA document runs the same iteration (a ``while``
loop, the same operations in the same order) and publishes the probabilities; the label stays
libsvm's vote, as predict's. PMML has no loop: the PMML document publishes the label only."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.svm import SVC, SVR, NuSVC, NuSVR

from portmodel.pmml import objects as O
from portmodel.pmml.objects import svm as S

from . import pmml_builder as B
from .context import Context
from .registry import model
from .trees import py_classes


@dataclass
class SVMSpec:
    function: str
    fields: list
    kernel: Any
    vectors: np.ndarray
    machines: list               # (target, alternate, intercept, [(vector index, coef)])
    probabilities: bool = False
    #: Platt scaling per machine (probability=True), else None
    prob_a: tuple | None = None
    prob_b: tuple | None = None
    #: PMML has no form for the pairwise coupling (see the module docstring)
    pmml_probabilities: bool = False

    def pmml(self, w: Any, out: Any) -> Any:
        n_fields = len(self.fields)
        vd = S.VectorDictionary(
            number_of_vectors=len(self.vectors),
            vector_fields=S.VectorFields(number_of_fields=n_fields, fields=tuple(
                O.FieldRef(field=f) for f in self.fields)),
            instances=tuple(S.VectorInstance(id=str(i), array=B.array(list(map(float, v))))
                            for i, v in enumerate(self.vectors)))
        machines = tuple(S.SupportVectorMachine(
            target_category=None if target is None else B.text(target),
            alternate_target_category=None if alt is None else B.text(alt),
            support_vectors=S.SupportVectors(
                number_of_support_vectors=len(coefs), number_of_attributes=n_fields,
                vectors=tuple(S.SupportVector(vector_id=str(i)) for i, _ in coefs)),
            coefficients=S.Coefficients(
                number_of_coefficients=len(coefs), absolute_value=icpt,
                coefficients=tuple(S.Coefficient(value=c) for _, c in coefs)))
            for target, alt, icpt, coefs in self.machines)
        return B.model("SupportVectorMachineModel", self.function, {
            "classificationMethod": "OneAgainstOne" if self.function == "classification"
            else None},
            w.schema(self.fields), out, self.kernel, vd, *machines)


def _kernel(est: Any, ctx: Context) -> Any:
    k = est.kernel
    g = float(est._gamma)
    if k == "linear":
        return S.LinearKernelType()
    if k == "rbf":
        return S.RadialBasisKernelType(gamma=g)
    if k == "poly":
        return S.PolynomialKernelType(gamma=g, coef0=float(est.coef0), degree=float(est.degree))
    if k == "sigmoid":
        return S.SigmoidKernelType(gamma=g, coef0=float(est.coef0))
    raise ctx.fail(est, f"kernel={k!r}")


@model(SVC, NuSVC)
def svc(est: Any, ctx: Context, features: list[str]) -> SVMSpec:
    classes = py_classes(est)
    n = len(classes)
    starts = np.concatenate([[0], np.cumsum(est.n_support_)])
    dual = np.asarray(est._dual_coef_, float)
    icpt = np.asarray(est._intercept_, float)
    machines = []
    p = 0
    for i in range(n):
        for j in range(i + 1, n):
            coefs = [(s, float(dual[j - 1, s])) for s in range(starts[i], starts[i + 1])]
            coefs += [(s, float(dual[i, s])) for s in range(starts[j], starts[j + 1])]
            machines.append((classes[j], classes[i], float(icpt[p]), coefs))
            p += 1
    platt = _platt(est)
    return SVMSpec("classification", list(features), _kernel(est, ctx),
                   np.asarray(est.support_vectors_, float), machines, platt is not None,
                   *(platt or (None, None)))


def _platt(est: Any) -> tuple | None:
    """(probA, probB) of a probability=True machine (libsvm's own arrays), else None."""
    if not getattr(est, "probability", False):
        return None
    a, b = getattr(est, "_probA", None), getattr(est, "_probB", None)
    if a is None or b is None or len(a) == 0:
        return None
    return tuple(map(float, a)), tuple(map(float, b))


@model(SVR, NuSVR)
def svr(est: Any, ctx: Context, features: list[str]) -> SVMSpec:
    dual = np.asarray(est._dual_coef_, float)[0]
    machines = [(None, None, float(np.asarray(est._intercept_, float)[0]),
                 [(s, float(c)) for s, c in enumerate(dual)])]
    return SVMSpec("regression", list(features), _kernel(est, ctx),
                   np.asarray(est.support_vectors_, float), machines)
