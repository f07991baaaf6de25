"""PFA documents used by the PFA benchmark and tests: logistic regression and a full binary tree."""
from __future__ import annotations

import numpy as np


def logistic_regression_doc(n_features: int = 10, seed: int = 1) -> dict:
    """model.reg.linear + m.link.logit over a record of doubles."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(n_features)]
    return {
        "name": "logreg",
        "input": {"type": "record", "name": "Input",
                  "fields": [{"name": n, "type": "double"} for n in names]},
        "output": "double",
        "cells": {"model": {
            "type": {"type": "record", "name": "Model", "fields": [
                {"name": "coeff", "type": {"type": "array", "items": "double"}},
                {"name": "const", "type": "double"}]},
            "init": {"coeff": [float(c) for c in rng.normal(size=n_features)],
                     "const": float(rng.normal())}}},
        "action": {"m.link.logit": {"model.reg.linear": [
            {"new": [f"input.{n}" for n in names], "type": {"type": "array", "items": "double"}},
            {"cell": "model"}]}},
    }


def tree_doc(depth: int = 10, n_features: int = 10, seed: int = 2) -> dict:
    """A full binary decision tree walked with model.tree.simpleWalk + simpleTest."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(n_features)]

    def node(d: int) -> dict:
        def branch():
            if d + 1 == depth:
                return {"double": float(np.round(rng.normal(), 6))}
            return {"TreeNode": node(d + 1)}
        return {"field": names[int(rng.integers(n_features))],
                "operator": ["<", "<=", ">", ">="][int(rng.integers(4))],
                "value": float(np.round(rng.normal(), 6)),
                "pass": branch(), "fail": branch()}

    return {
        "name": "tree",
        "input": {"type": "record", "name": "Input",
                  "fields": [{"name": n, "type": "double"} for n in names]},
        "output": "double",
        "cells": {"tree": {
            "type": {"type": "record", "name": "TreeNode", "fields": [
                {"name": "field", "type": {"type": "enum", "name": "Fields", "symbols": names}},
                {"name": "operator", "type": "string"},
                {"name": "value", "type": "double"},
                {"name": "pass", "type": ["TreeNode", "double"]},
                {"name": "fail", "type": ["TreeNode", "double"]}]},
            "init": node(0)}},
        "action": {"model.tree.simpleWalk": [
            "input", {"cell": "tree"},
            {"params": [{"d": "Input"}, {"t": "TreeNode"}], "ret": "boolean",
             "do": {"model.tree.simpleTest": ["d", "t"]}}]},
    }


def records(n: int, n_features: int = 10, seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    names = [f"x{i}" for i in range(n_features)]
    return [dict(zip(names, map(float, row))) for row in x]


# ---------------------------------------------------------------- documents with text and nulls
# What exporters write for records that carry strings, enums, booleans, nullable numbers and
# arrays: one-hot encodings as string comparisons, ordinal codes as map lookups, nulls imputed.

COLORS = ["red", "green", "blue", "white"]
SIZES = ["S", "M", "L"]
N_NUM = 8
ARRAY = {"type": "array", "items": "double"}


def mixed_input(n_numbers: int = N_NUM) -> dict:
    """A record of doubles plus a string, an enum, a boolean, a nullable double, an int, a
    fixed-size array, and a free-text string no model reads."""
    return {"type": "record", "name": "Mixed", "fields": [
        *[{"name": f"x{i}", "type": "double"} for i in range(n_numbers)],
        {"name": "color", "type": "string"},
        {"name": "size", "type": {"type": "enum", "name": "Size", "symbols": SIZES}},
        {"name": "flag", "type": "boolean"},
        {"name": "nx", "type": ["null", "double"]},
        {"name": "count", "type": "int"},
        {"name": "vec", "type": ARRAY},
        {"name": "note", "type": "string"}]}


def mixed_features(n_numbers: int = N_NUM) -> list:
    """The feature vector expressions: numbers, imputed null, one-hot colours (string ==),
    an ordinal code (map lookup), the enum's index, the boolean as 0/1."""
    one_hot = [{"if": {"==": ["input.color", {"string": c}]}, "then": 1.0, "else": 0.0}
               for c in COLORS[:-1]]
    return [*[f"input.x{i}" for i in range(n_numbers)],
            {"impute.defaultOnNull": ["input.nx", 0.0]},
            *one_hot,
            {"attr": {"cell": "codes"}, "path": ["input.color"]},
            {"enum.toInt": "input.size"},
            {"if": "input.flag", "then": 1.0, "else": -1.0},
            "input.count"]


def _codes_cell() -> dict:
    return {"type": {"type": "map", "values": "double"},
            "init": {c: float(i) for i, c in enumerate(COLORS)}}


def mixed_logistic_doc(n_numbers: int = N_NUM, seed: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    feats = mixed_features(n_numbers)
    return {
        "name": "mixed_logreg", "input": mixed_input(n_numbers), "output": "double",
        "cells": {"codes": _codes_cell(), "model": {
            "type": {"type": "record", "name": "Model", "fields": [
                {"name": "coeff", "type": ARRAY}, {"name": "const", "type": "double"}]},
            "init": {"coeff": [float(c) for c in rng.normal(size=len(feats))],
                     "const": float(rng.normal())}}},
        "action": {"m.link.logit": {"model.reg.linear": [
            {"new": feats, "type": ARRAY}, {"cell": "model"}]}}}


def mixed_softmax_doc(n_numbers: int = N_NUM, n_classes: int = 3, seed: int = 5) -> dict:
    """Softmax regression with a record output: the label (array lookup by a.argmax), the
    probabilities, and a map of them by class name."""
    rng = np.random.default_rng(seed)
    feats = mixed_features(n_numbers)
    labels = [f"class{i}" for i in range(n_classes)]
    out = {"type": "record", "name": "Out", "fields": [
        {"name": "label", "type": "string"}, {"name": "probs", "type": ARRAY},
        {"name": "by_class", "type": {"type": "map", "values": "double"}}]}
    return {
        "name": "mixed_softmax", "input": mixed_input(n_numbers), "output": out,
        "cells": {"codes": _codes_cell(),
                  "labels": {"type": {"type": "array", "items": "string"}, "init": labels},
                  "model": {"type": {"type": "record", "name": "Model", "fields": [
                      {"name": "coeff", "type": {"type": "array", "items": ARRAY}},
                      {"name": "const", "type": ARRAY}]},
                      "init": {"coeff": rng.normal(size=(n_classes, len(feats))).tolist(),
                               "const": rng.normal(size=n_classes).tolist()}}},
        "action": [
            {"let": {"p": {"m.link.softmax": {"model.reg.linear": [
                {"new": feats, "type": ARRAY}, {"cell": "model"}]}}}},
            {"new": {"label": {"attr": {"cell": "labels"}, "path": [{"a.argmax": "p"}]},
                     "probs": "p",
                     "by_class": {"new": {lab: {"attr": "p", "path": [i]}
                                          for i, lab in enumerate(labels)},
                                  "type": {"type": "map", "values": "double"}}},
             "type": "Out"}]}


def mixed_tree_doc(depth: int = 10, n_numbers: int = N_NUM, seed: int = 6) -> dict:
    """A full binary tree whose nodes test numbers (<, <=, >, >=) and the colour (== on
    strings), walked with model.tree.simpleWalk + simpleTest; string leaves."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(n_numbers)]

    def node(d: int) -> dict:
        def branch():
            if d + 1 == depth:
                return {"string": f"leaf{int(rng.integers(20))}"}
            return {"TreeNode": node(d + 1)}
        if rng.random() < 0.3:
            test = {"field": "color", "operator": ["==", "!="][int(rng.integers(2))],
                    "value": {"string": COLORS[int(rng.integers(len(COLORS)))]}}
        else:
            test = {"field": names[int(rng.integers(n_numbers))],
                    "operator": ["<", "<=", ">", ">="][int(rng.integers(4))],
                    "value": {"double": float(np.round(rng.normal(), 6))}}
        return {**test, "pass": branch(), "fail": branch()}

    return {
        "name": "mixed_tree", "input": mixed_input(n_numbers), "output": "string",
        "cells": {"tree": {
            "type": {"type": "record", "name": "TreeNode", "fields": [
                {"name": "field", "type": {"type": "enum", "name": "Fields", "symbols": [
                    f["name"] for f in mixed_input(n_numbers)["fields"]]}},
                {"name": "operator", "type": "string"},
                {"name": "value", "type": ["double", "string"]},
                {"name": "pass", "type": ["TreeNode", "string"]},
                {"name": "fail", "type": ["TreeNode", "string"]}]},
            "init": node(0)}},
        "action": {"model.tree.simpleWalk": [
            "input", {"cell": "tree"},
            {"params": [{"d": "Mixed"}, {"t": "TreeNode"}], "ret": "boolean",
             "do": {"model.tree.simpleTest": ["d", "t"]}}]}}


def mixed_neural_doc(n_numbers: int = N_NUM, hidden: int = 8, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    feats = mixed_features(n_numbers)
    layer = {"type": "record", "name": "Layer", "fields": [
        {"name": "weights", "type": {"type": "array", "items": ARRAY}},
        {"name": "bias", "type": ARRAY}]}
    layers = [{"weights": (rng.normal(size=(hidden, len(feats))) / 4).tolist(),
               "bias": rng.normal(size=hidden).tolist()},
              {"weights": rng.normal(size=(2, hidden)).tolist(), "bias": rng.normal(size=2).tolist()}]
    return {
        "name": "mixed_nn", "input": mixed_input(n_numbers), "output": "int",
        "cells": {"codes": _codes_cell(),
                  "nn": {"type": {"type": "array", "items": layer}, "init": layers}},
        "action": {"a.argmax": {"m.link.softmax": {"model.neural.simpleLayers": [
            {"new": feats, "type": ARRAY}, {"cell": "nn"},
            {"params": [{"v": "double"}], "ret": "double", "do": {"m.link.tanh": "v"}}]}}}}


def mixed_cluster_doc(n_numbers: int = N_NUM, k: int = 5, seed: int = 8) -> dict:
    rng = np.random.default_rng(seed)
    feats = mixed_features(n_numbers)
    cluster = {"type": "record", "name": "Cluster", "fields": [
        {"name": "center", "type": ARRAY}, {"name": "id", "type": "string"}]}
    return {
        "name": "mixed_cluster", "input": mixed_input(n_numbers), "output": "string",
        "cells": {"codes": _codes_cell(),
                  "clusters": {"type": {"type": "array", "items": cluster}, "init": [
                      {"center": rng.normal(size=len(feats)).tolist(), "id": f"c{i}"}
                      for i in range(k)]}},
        "action": {"attr": {"model.cluster.closest": [{"new": feats, "type": ARRAY},
                                                      {"cell": "clusters"}]},
                   "path": [["id"]]}}


def mixed_vector_doc() -> dict:
    """a.map and a.argmax over the array field, and a nullable output."""
    return {
        "name": "mixed_vector", "input": mixed_input(), "output": ["null", "double"],
        "action": [
            {"let": {"p": {"a.map": ["input.vec", {"fcn": "m.link.logit"}]}}},
            {"if": {"&&": [{">": [{"a.argmax": "p"}, 0]}, {"!": "input.flag"}]},
             "then": {"attr": "p", "path": [0]}, "else": "input.nx"}]}


MIXED_DOCS = {"logistic regression": mixed_logistic_doc, "softmax regression": mixed_softmax_doc,
              "tree depth 10": mixed_tree_doc, "neural network": mixed_neural_doc,
              "k-means": mixed_cluster_doc, "array functions": mixed_vector_doc}


def mixed_records(n: int, n_numbers: int = N_NUM, seed: int = 9, null_rate: float = 0.1) -> list[dict]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_numbers))
    out = []
    for i in range(n):
        r = {f"x{j}": float(x[i, j]) for j in range(n_numbers)}
        r["color"] = COLORS[int(rng.integers(len(COLORS)))]
        r["size"] = SIZES[int(rng.integers(len(SIZES)))]
        r["flag"] = bool(rng.random() < 0.5)
        r["nx"] = None if rng.random() < null_rate else float(rng.normal())
        r["count"] = int(rng.integers(0, 5))
        r["vec"] = rng.normal(size=3).tolist()
        r["note"] = f"free text {i}"
        out.append(r)
    return out


# ---------------------------------------------------------------- the exporter's other shapes

def _feature_rows(n: int, seed: int) -> np.ndarray:
    """n plausible feature vectors (the columns of mixed_features) for support vectors,
    class statistics and training instances."""
    rng = np.random.default_rng(seed)
    k = N_NUM
    rows = np.zeros((n, len(mixed_features())))
    rows[:, :k] = rng.normal(size=(n, k))
    rows[:, k] = rng.normal(size=n)
    color = rng.integers(len(COLORS), size=n)
    for j in range(len(COLORS) - 1):
        rows[:, k + 1 + j] = color == j
    rows[:, k + len(COLORS)] = color
    rows[:, k + len(COLORS) + 1] = rng.integers(len(SIZES), size=n)
    rows[:, k + len(COLORS) + 2] = rng.choice([-1.0, 1.0], size=n)
    rows[:, k + len(COLORS) + 3] = rng.integers(0, 5, size=n)
    return rows


SV = {"type": "record", "name": "SupportVector", "fields": [
    {"name": "supVec", "type": ARRAY}, {"name": "coeff", "type": "double"}]}
MACHINE = {"type": "record", "name": "Machine", "fields": [
    {"name": "const", "type": "double"}, {"name": "posClass", "type": {"type": "array", "items": SV}},
    {"name": "negClass", "type": {"type": "array", "items": "SupportVector"}}]}


def _centred(c: np.ndarray) -> np.ndarray:
    return c - c.mean()


def mixed_svm_doc(n_vectors: int = 100, gamma: float = 0.05, seed: int = 10) -> dict:
    """A binary RBF support vector machine as the exporter writes it: a.map of model.svm.score
    over a cell of machines, the label by the sign of the decision value."""
    rng = np.random.default_rng(seed)
    vecs = _feature_rows(n_vectors, seed + 1)
    machine = {"const": 0.0, "negClass": [], "posClass": [
        {"supVec": v.tolist(), "coeff": float(c)}
        for v, c in zip(vecs, _centred(rng.normal(size=n_vectors)))]}
    return {
        "name": "mixed_svm", "input": mixed_input(), "output": "string",
        "cells": {"codes": _codes_cell(), "machines": {
            "type": {"type": "array", "items": MACHINE}, "init": [machine]}},
        "action": [
            {"let": {"x": {"new": mixed_features(), "type": ARRAY}}},
            {"let": {"scores": {"a.map": [{"cell": "machines"}, {
                "params": [{"m": "Machine"}], "ret": "double",
                "do": {"model.svm.score": ["x", "m", {
                    "params": [{"sv": ARRAY}, {"dat": ARRAY}], "ret": "double",
                    "do": {"m.kernel.rbf": ["sv", "dat", {"double": gamma}]}}]}}]}}},
            {"if": {"<": [{"attr": "scores", "path": [0]}, 0.0]},
             "then": {"string": "a"}, "else": {"string": "b"}}]}


GAUSSIAN = {"type": "record", "name": "Gaussian", "fields": [
    {"name": "mean", "type": "double"}, {"name": "variance", "type": "double"}]}


def mixed_naive_bayes_doc(n_classes: int = 3, seed: int = 11) -> dict:
    """Gaussian naive Bayes as the exporter writes it: log prior + model.naive.gaussian per
    class, probabilities through exp of the differences to the largest, the label by argmax."""
    rng = np.random.default_rng(seed)
    m = len(mixed_features())
    classes = [[{"mean": float(rng.normal()), "variance": float(rng.uniform(0.5, 3.0))}
                for _ in range(m)] for _ in range(n_classes)]
    priors = rng.dirichlet(np.ones(n_classes))
    return {
        "name": "mixed_nb", "input": mixed_input(), "output": "string",
        "cells": {"codes": _codes_cell(),
                  "labels": {"type": {"type": "array", "items": "string"},
                             "init": [f"class{i}" for i in range(n_classes)]},
                  "classes": {"type": {"type": "array", "items": {"type": "array",
                                                                  "items": GAUSSIAN}},
                              "init": classes}},
        "action": [
            {"let": {"x": {"new": mixed_features(), "type": ARRAY}}},
            {"let": {"jll": {"new": [
                {"+": [{"double": float(np.log(p))},
                       {"model.naive.gaussian": ["x", {"cell": "classes", "path": [i]}]}]}
                for i, p in enumerate(priors)], "type": ARRAY}}},
            {"let": {"top": {"a.max": ["jll"]}}},
            {"let": {"e": {"a.map": ["jll", {"params": [{"v": "double"}], "ret": "double",
                                             "do": {"m.exp": {"-": ["v", "top"]}}}]}}},
            {"let": {"total": {"a.sum": ["e"]}}},
            {"let": {"probs": {"a.map": ["e", {"params": [{"v": "double"}], "ret": "double",
                                               "do": {"/": ["v", "total"]}}]}}},
            {"attr": {"cell": "labels"}, "path": [{"a.argmax": ["probs"]}]}]}


def mixed_knn_doc(n_train: int = 300, k: int = 5, n_classes: int = 2, seed: int = 12) -> dict:
    """k nearest neighbours as the exporter writes them: model.neighbor.nearestK over
    codebook rows carrying the class in their last place (a Euclidean metric over a.subseq),
    the votes counted with a.count, the label by argmax (two classes and an odd k: no tied
    votes, whose rules differ between this shape and PMML's)."""
    rng = np.random.default_rng(seed)
    m = len(mixed_features())
    rows = np.column_stack([_feature_rows(n_train, seed + 1),
                            rng.integers(n_classes, size=n_train).astype(float)])
    return {
        "name": "mixed_knn", "input": mixed_input(), "output": "string",
        "cells": {"codes": _codes_cell(),
                  "labels": {"type": {"type": "array", "items": "string"},
                             "init": [f"class{i}" for i in range(n_classes)]},
                  "codebook": {"type": {"type": "array", "items": ARRAY},
                               "init": rows.tolist()}},
        "action": [
            {"let": {"near": {"model.neighbor.nearestK": [
                k, {"a.append": [{"new": mixed_features(), "type": ARRAY}, 0.0]},
                {"cell": "codebook"},
                {"params": [{"a": ARRAY}, {"b": ARRAY}], "ret": "double",
                 "do": {"metric.euclidean": [{"fcn": "metric.absDiff"},
                                             {"a.subseq": ["a", 0, m]},
                                             {"a.subseq": ["b", 0, m]}]}}]}}},
            {"let": {"votes": {"a.map": ["near", {"params": [{"row": ARRAY}], "ret": "double",
                                                  "do": {"attr": "row", "path": [m]}}]}}},
            {"let": {"counts": {"new": [
                {"a.count": ["votes", {"params": [{"t": "double"}], "ret": "boolean",
                                       "do": {"==": ["t", float(c)]}}]}
                for c in range(n_classes)], "type": ARRAY}}},
            {"attr": {"cell": "labels"}, "path": [{"a.argmax": ["counts"]}]}]}


MODEL_DOCS = {"SVM (RBF)": mixed_svm_doc, "naive Bayes": mixed_naive_bayes_doc,
              "k-NN": mixed_knn_doc}
