"""PFA actions for the models scored through library functions other than trees and linear
models: support vector machines (``model.svm.score`` with ``m.kernel.*``), Gaussian naive Bayes
(``model.naive.gaussian``) and k nearest neighbours (``model.neighbor.nearestK`` with
``metric.*``). Each function returns (expression, kind) as ``_Writer.model`` does."""
from __future__ import annotations

from typing import Any

import numpy as np

DOUBLES = {"type": "array", "items": "double"}
VECTOR = {"type": "array", "items": "double"}


def _d(v: float) -> dict:
    return {"double": float(v)}


def _kernel(kernel: Any, fail) -> dict:
    """The PMML kernel (an object-model kernel type: ``objects.svm.KERNELS``) as a PFA kernel
    function of (support vector, datum)."""
    tag = kernel.XML.tag
    gamma, coef0 = getattr(kernel, "gamma", None), getattr(kernel, "coef0", None)
    g = 1.0 if gamma is None else float(gamma)
    c0 = 0.0 if coef0 is None else float(coef0)
    body: Any
    if tag == "LinearKernelType":
        body = {"m.kernel.linear": ["sv", "dat"]}
    elif tag == "RadialBasisKernelType":
        body = {"m.kernel.rbf": ["sv", "dat", _d(g)]}
    elif tag == "PolynomialKernelType":
        body = {"m.kernel.poly": ["sv", "dat", _d(g), _d(c0), _d(float(kernel.degree))]}
    elif tag == "SigmoidKernelType":
        body = {"m.kernel.sigmoid": ["sv", "dat", _d(g), _d(c0)]}
    else:
        raise fail(f"kernel {tag}")
    return {"params": [{"sv": VECTOR}, {"dat": VECTOR}], "ret": "double", "do": body}


def svm(w: Any, spec: Any) -> tuple[Any, str]:
    """One ``model.svm.score`` per machine (every support vector in ``posClass`` with its signed
    coefficient: the score is the plain sum plus the constant). SVR returns the score; SVC
    counts libsvm's one-against-one votes (a positive score votes the machine's alternate
    category, the lower class index) and takes the first class with most votes, as libsvm."""
    sv_rec = {"type": "record", "name": "SupportVector", "fields": [
        {"name": "supVec", "type": VECTOR}, {"name": "coeff", "type": "double"}]}
    machine = {"type": "record", "name": "Machine", "fields": [
        {"name": "const", "type": "double"},
        {"name": "posClass", "type": {"type": "array", "items": sv_rec}},
        {"name": "negClass", "type": {"type": "array", "items": "SupportVector"}}]}
    vectors = np.asarray(spec.vectors, float)
    init = [{"const": float(icpt), "negClass": [],
             "posClass": [{"supVec": vectors[i].tolist(), "coeff": float(c)} for i, c in coefs]}
            for _, _, icpt, coefs in spec.machines]
    w.cells["machines"] = {"type": {"type": "array", "items": machine}, "init": init}
    kernel = _kernel(spec.kernel, w.fail)
    w.lets.append({"let": {"svm_x": w.vector(spec.fields)}})
    w.lets.append({"let": {"scores": {"a.map": [{"cell": "machines"}, {
        "params": [{"m": "Machine"}], "ret": "double",
        "do": {"model.svm.score": ["svm_x", "m", kernel]}}]}}})
    if spec.function == "regression":
        return {"attr": "scores", "path": [0]}, "value"
    classes = [str(c) for c in w.doc.classes]
    index = {c: k for k, c in enumerate(classes)}
    terms: list[list] = [[] for _ in classes]
    for p, (target, alt, _, _) in enumerate(spec.machines):
        positive = {">": [{"attr": "scores", "path": [p]}, _d(0.0)]}
        terms[index[str(alt)]].append({"if": positive, "then": _d(1.0), "else": _d(0.0)})
        terms[index[str(target)]].append({"if": positive, "then": _d(0.0), "else": _d(1.0)})
    votes = [_sum(t) for t in terms]
    if spec.prob_a is None:
        return {"new": votes, "type": DOUBLES}, "probs"
    w.label_scores = {"new": votes, "type": DOUBLES}
    return _coupling(w, spec, len(classes)), "probs"


def _coupling(w: Any, spec: Any, k: int) -> Any:
    """libsvm's probability estimates (svm.cpp: sigmoid_predict, multiclass_probability) over
    the machines' values in ``scores``: the same operations in the same order, the iteration a
    ``while`` loop with the inner loops unrolled. Returns the array of probabilities."""
    lets = w.lets
    r: dict = {}
    for q, (i, j) in enumerate((i, j) for i in range(k) for j in range(i + 1, k)):
        f = {"+": [{"*": [{"attr": "scores", "path": [q]}, _d(spec.prob_a[q])]},
                   _d(spec.prob_b[q])]}
        lets.append({"let": {f"fApB{q}": f}})
        e = {"m.exp": {"u-": f"fApB{q}"}}
        sig = {"if": {">=": [f"fApB{q}", _d(0.0)]},
               "then": {"/": [e, {"+": [_d(1.0), e]}]},
               "else": {"/": [_d(1.0), {"+": [_d(1.0), {"m.exp": f"fApB{q}"}]}]}}
        clipped = {"min": [{"max": [sig, _d(1e-7)]}, {"-": [_d(1.0), _d(1e-7)]}]}
        lets.append({"let": {f"r{i}_{j}": clipped}})
        lets.append({"let": {f"r{j}_{i}": {"-": [_d(1.0), f"r{i}_{j}"]}}})
        r[i, j], r[j, i] = f"r{i}_{j}", f"r{j}_{i}"

    def Q(t: int, j: int) -> str:
        return f"Q{t}_{j}"
    for t in range(k):
        acc: Any = _d(0.0)
        for j in list(range(t)) + list(range(t + 1, k)):
            acc = {"+": [acc, {"*": [r[j, t], r[j, t]]}]}
        lets.append({"let": {Q(t, t): acc}})
        for j in range(t + 1, k):
            lets.append({"let": {Q(t, j): {"*": [{"u-": r[j, t]}, r[t, j]]}}})
    for t in range(k):
        for j in range(t):
            lets.append({"let": {Q(t, j): Q(j, t)}})
    lets.append({"let": {f"p{t}": _d(1.0 / k) for t in range(k)}})
    lets.append({"let": {f"Qp{t}": _d(0.0) for t in range(k)}})
    lets.append({"let": {"pQp": _d(0.0), "maxError": _d(0.0), "diff": _d(0.0),
                         "iter": 0, "converged": False}})
    body: list = []
    for t in range(k):
        acc = _d(0.0)
        for j in range(k):
            acc = {"+": [acc, {"*": [Q(t, j), f"p{j}"]}]}
        body.append({"set": {f"Qp{t}": acc}})
    acc = _d(0.0)
    for t in range(k):
        acc = {"+": [acc, {"*": [f"p{t}", f"Qp{t}"]}]}
    body.append({"set": {"pQp": acc}})
    body.append({"set": {"maxError": _d(0.0)}})
    for t in range(k):
        err = {"m.abs": {"-": [f"Qp{t}", "pQp"]}}
        body.append({"if": {">": [err, "maxError"]}, "then": [{"set": {"maxError": err}}]})
    step: list = []
    for t in range(k):
        step.append({"set": {"diff": {"/": [{"+": [{"u-": f"Qp{t}"}, "pQp"]}, Q(t, t)]}}})
        step.append({"set": {f"p{t}": {"+": [f"p{t}", "diff"]}}})
        one_plus = {"+": [_d(1.0), "diff"]}
        step.append({"set": {"pQp": {"/": [{"/": [{"+": ["pQp", {"*": ["diff", {"+": [
            {"*": ["diff", Q(t, t)]}, {"*": [_d(2.0), f"Qp{t}"]}]}]}]}, one_plus]},
            one_plus]}}})
        for j in range(k):
            step.append({"set": {f"Qp{j}": {"/": [{"+": [f"Qp{j}", {"*": ["diff", Q(t, j)]}]},
                                                  one_plus]}}})
            step.append({"set": {f"p{j}": {"/": [f"p{j}", one_plus]}}})
    eps = 0.005 / k
    body.append({"if": {"<": ["maxError", _d(eps)]}, "then": [{"set": {"converged": True}}],
                 "else": step + [{"set": {"iter": {"+": ["iter", 1]}}}]})
    lets.append({"while": {"&&": [{"!": "converged"}, {"<": ["iter", max(100, k)]}]},
                 "do": body})
    return {"new": [f"p{t}" for t in range(k)], "type": DOUBLES}


def _sum(terms: list) -> Any:
    if not terms:
        return _d(0.0)
    out = terms[0]
    for t in terms[1:]:
        out = {"+": [out, t]}
    return out


def naive_bayes(w: Any, spec: Any) -> tuple[Any, str]:
    """Joint log likelihood log(prior) + ``model.naive.gaussian`` per class, shifted by its
    maximum, exponentiated and normalised (scikit-learn's exp(jll - logsumexp(jll)); titus2's
``m.link.softmax`` overflows on widely spread log likelihoods)."""
    gauss = {"type": "record", "name": "Gaussian", "fields": [
        {"name": "mean", "type": "double"}, {"name": "variance", "type": "double"}]}
    means = np.asarray(spec.means, float)
    var = np.asarray(spec.variances, float)
    w.cells["classes"] = {"type": {"type": "array", "items": {"type": "array", "items": gauss}},
                          "init": [[{"mean": float(m), "variance": float(v)}
                                    for m, v in zip(means[k], var[k])]
                                   for k in range(len(spec.classes))]}
    priors = np.asarray(spec.priors, float)
    if np.any(priors <= 0):
        raise w.fail("a class prior of zero")
    w.lets.append({"let": {"nb_x": w.vector(spec.fields)}})
    jll = [{"+": [_d(np.log(p)), {"model.naive.gaussian": [
        "nb_x", {"cell": "classes", "path": [k]}]}]} for k, p in enumerate(priors)]
    w.lets.append({"let": {"jll": {"new": jll, "type": DOUBLES}}})
    w.lets.append({"let": {"top": {"a.max": ["jll"]}}})
    w.lets.append({"let": {"e": {"a.map": ["jll", {"params": [{"v": "double"}], "ret": "double",
                                                  "do": {"m.exp": {"-": ["v", "top"]}}}]}}})
    w.lets.append({"let": {"total": {"a.sum": ["e"]}}})
    return {"a.map": ["e", {"params": [{"v": "double"}], "ret": "double",
                            "do": {"/": ["v", "total"]}}]}, "probs"


_METRICS = {"euclidean": "metric.euclidean", "cityBlock": "metric.taxicab",
            "chebychev": "metric.chebyshev", "minkowski": "metric.minkowski"}


def neighbors(w: Any, spec: Any) -> tuple[Any, str]:
    """``model.neighbor.nearestK`` over the training rows, each stored with its target (class
    index or value) as one extra last element that the metric leaves out.

    Uniform weights: the classifier's vote fractions (scikit-learn's predict_proba; the label
    is the first most frequent class), the regressor's mean. Distance weights: each neighbour
    weighs 1 / its distance (the same metric again), except that when some neighbours are at
    distance 0 only they count, each with weight 1, as scikit-learn's rule says."""
    if spec.metric not in _METRICS:
        raise w.fail(f"metric {spec.metric}")
    X = np.asarray(spec.X, float)
    d = X.shape[1]
    if spec.function == "classification":
        classes = [str(c) for c in w.doc.classes]
        index = {c: k for k, c in enumerate(classes)}
        y = np.array([index[str(v)] for v in spec.y], float)
    else:
        y = np.asarray(spec.y, float)
    w.cells["codebook"] = {"type": {"type": "array", "items": VECTOR},
                           "init": np.column_stack([X, y]).tolist()}

    def distance(a: Any, b: Any) -> Any:
        args = [{"fcn": "metric.absDiff"}, {"a.subseq": [a, 0, d]}, {"a.subseq": [b, 0, d]}]
        if spec.metric == "minkowski":
            args.append(_d(spec.p))
        return {_METRICS[spec.metric]: args}
    metric = {"params": [{"a": VECTOR}, {"b": VECTOR}], "ret": "double",
              "do": distance("a", "b")}
    w.lets.append({"let": {"datum": {"a.append": [w.vector(spec.fields), _d(0.0)]}}})
    w.lets.append({"let": {"near": {"model.neighbor.nearestK": [
        int(spec.k), "datum", {"cell": "codebook"}, metric]}}})
    w.lets.append({"let": {"targets": {"a.map": ["near", {
        "params": [{"row": VECTOR}], "ret": "double", "do": {"attr": "row", "path": [d]}}]}}})
    if getattr(spec, "weighted", False):
        w.lets.append({"let": {"dists": {"a.map": ["near", {
            "params": [{"row": VECTOR}], "ret": "double", "do": distance("row", "datum")}]}}})
        w.lets.append({"let": {"exact": {"a.any": ["dists", {
            "params": [{"v": "double"}], "ret": "boolean", "do": {"==": ["v", _d(0.0)]}}]}}})
        w.lets.append({"let": {"weights": {"a.map": ["dists", {
            "params": [{"v": "double"}], "ret": "double", "do": {
                "if": "exact", "then": {"if": {"==": ["v", _d(0.0)]}, "then": _d(1.0),
                                        "else": _d(0.0)},
                "else": {"/": [_d(1.0), "v"]}}}]}}})
        w.lets.append({"let": {"total": {"a.sum": ["weights"]}}})
        if spec.function == "regression":
            products = {"a.zipmap": ["targets", "weights", {
                "params": [{"t": "double"}, {"u": "double"}], "ret": "double",
                "do": {"*": ["t", "u"]}}]}
            return {"/": [{"a.sum": [products]}, "total"]}, "value"
        fracs = [{"/": [{"a.sum": [{"a.zipmap": ["targets", "weights", {
            "params": [{"t": "double"}, {"u": "double"}], "ret": "double",
            "do": {"if": {"==": ["t", _d(c)]}, "then": "u", "else": _d(0.0)}}]}]}, "total"]}
            for c in range(len(classes))]
        return {"new": fracs, "type": DOUBLES}, "probs"
    if spec.function == "regression":
        return {"a.mean": ["targets"]}, "value"
    k = float(min(int(spec.k), len(X)))
    fracs = [{"/": [{"a.count": ["targets", {"params": [{"t": "double"}], "ret": "boolean",
                                              "do": {"==": ["t", _d(c)]}}]}, _d(k)]}
             for c in range(len(classes))]
    return {"new": fracs, "type": DOUBLES}, "probs"
