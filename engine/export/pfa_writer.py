"""The intermediate form as a PFA 0.8.1 document (JSON), using the library's model functions so
that other PFA engines read it: ``model.reg.linear`` and ``m.link.*`` for linear models,
``model.tree.simpleWalk`` for trees and tree ensembles, ``model.neural.simpleLayers`` for
MLPs, ``model.cluster.closest`` for k-means; support vector machines, naive Bayes and nearest
neighbours in :mod:`.pfa_models`.

Field names become Avro names (every character other than a letter, digit or ``_`` becomes
``_``); classifiers output ``probability_<class>``. Covered: numeric inputs (a missing value is
NaN) and text inputs (a text column with missing values in the sample is declared
``["null", "string"]`` and read through ``ifnotnull``); scalers, imputers, one-hot and ordinal
encoding, binning.
PFA engines keep a ``float`` input as a double and have no float32 rounding for computed
values, while scikit-learn's trees (and XGBoost) compare float32(x) <= t for a float32 t. A
split on a float-typed field therefore writes the largest double d with float32(d) <= t
(:func:`double_bound`) and keeps ``<=``: for every double x, ``x <= d`` iff float32(x) <= t,
so the document splits exactly as the estimator, with no float type needed.
"""
from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from . import ir
from .errors import UnsupportedEstimatorError

DOUBLES = {"type": "array", "items": "double"}
_F32_MAX = float(np.finfo(np.float32).max)


def avro_name(name: str) -> str:
    s = re.sub(r"\W", "_", str(name), flags=re.ASCII)
    return s if s and not s[0].isdigit() else f"_{s}"


def _d(v: float) -> dict:
    return {"double": float(v)}


def double_bound(t: float) -> float:
    """The largest double d with float32(d) <= t, for a float32 threshold t.

    Doubles round to float32 to nearest, ties to even: everything below the midpoint m of t
    and the next float32 above goes to t or lower, m itself goes to t only when t's last
    mantissa bit is even. So d is m, or the double just below m."""
    t32 = np.float32(t)
    if float(t32) != float(t):
        raise ValueError(f"threshold {t!r} is not a float32")
    with np.errstate(over="ignore"):
        up = np.nextafter(t32, np.float32(np.inf))
        return _midpoint_down(t32, up)


def _midpoint_down(t32: np.float32, up: np.float32) -> float:
    if np.isinf(up):                         # t is the largest float32: round-to-inf boundary
        m = float(t32) + (float(t32) - float(np.nextafter(t32, np.float32(0)))) / 2
    else:
        m = (float(t32) + float(up)) / 2     # exact: 25 significant bits fit a double
    if np.float32(m) > t32:
        m = float(np.nextafter(m, -np.inf))
    return m


class _Writer:
    def __init__(self, doc: ir.Export):
        self.doc = doc
        self.inputs = {f.name: f for f in doc.inputs}
        self.env: dict[str, Any] = {f.name: f"input.{avro_name(f.name)}" for f in doc.inputs}
        self.cells: dict[str, Any] = {}
        self.lets: list[dict] = []
        #: scores the label is the first largest of, when not the probabilities
        self.label_scores: Any = None

    def fail(self, what: str) -> UnsupportedEstimatorError:
        return UnsupportedEstimatorError(f"PFA output: {what} is not supported yet")

    # ------------------------------------------------------------ expressions
    def expr(self, e: ir.Expr) -> Any:
        if isinstance(e, ir.Ref):
            x = self.env[e.name]
            if e.missing_to is None:
                return x
            if isinstance(e.missing_to, str):
                if not self._nullable(e.name):
                    return x
                return self._if_text(e.name, lambda v: v, {"string": e.missing_to})
            return {"if": {"impute.isnan": x}, "then": _d(e.missing_to), "else": x}
        if isinstance(e, ir.Const):
            return _d(e.value) if not isinstance(e.value, str) else {"string": e.value}
        if isinstance(e, ir.ToFloat):
            return self.env[e.name]
        if isinstance(e, ir.Call):
            args = [self.expr(a) for a in e.args]
            if e.fn in ("+", "-", "*", "/", "min", "max"):
                return {e.fn: args}
            if e.fn == "isMissing":
                a = e.args[0]
                if isinstance(a, ir.Ref) and a.missing_to is None and self._nullable(a.name):
                    return self._if_text(a.name, lambda v: False, True)
                if isinstance(a, ir.Ref) and self._type(a.name) == "string":
                    return False
                return {"impute.isnan": args[0]}
            if e.fn == "if":
                return {"if": args[0], "then": args[1], "else": args[2]}
            raise self.fail(f"function {e.fn!r}")
        if isinstance(e, ir.Indicator):
            if self._nullable(e.name):
                return self._if_text(e.name, lambda v: self.expr(e), self._missing_text(
                    e.name, e.missing))
            x = self.env[e.name]
            text = self._type(e.name) == "string"
            if text:
                vals = [{"string": str(v)} for v in e.values]
            else:
                vals = [_d(v) for v in e.values]
            test: Any = {"||": [{"==": [x, v]} for v in vals]} if len(vals) > 1 else \
                {"==": [x, vals[0]]} if vals else False
            if len(vals) > 2:
                test = {"a.contains": [{"type": {"type": "array", "items": "string" if text
                                                 else "double"},
                                        "value": [v["string" if text else "double"]
                                                  for v in vals]}, x]}
            if e.negate:
                test = {"!": test}
            out = {"if": test, "then": _d(1.0), "else": _d(0.0)}
            if not text and e.missing is not None:
                out = {"if": {"impute.isnan": x}, "then": _d(e.missing), "else": out}
            return out
        if isinstance(e, ir.Lookup):
            return self._lookup(e)
        if isinstance(e, ir.Bins):
            return self._bins(e)
        raise self.fail(type(e).__name__)

    def _nullable(self, name: str) -> bool:
        """A text input declared ["null", "string"] (not yet narrowed by ifnotnull)."""
        f = self.inputs.get(name)
        return f is not None and f.nullable and self.env[name] == f"input.{avro_name(name)}"

    def _if_text(self, name: str, present, missing: Any) -> Any:
        """``present(v)`` with v the text of a nullable input, ``missing`` when it is null."""
        self._n_text = getattr(self, "_n_text", 0) + 1
        var = f"text{self._n_text}"
        outer = self.env[name]
        self.env[name] = var
        try:
            then = present(var)
        finally:
            self.env[name] = outer
        return {"ifnotnull": {var: outer}, "then": then, "else": missing}

    def _missing_text(self, name: str, value: Any) -> Any:
        """What a missing text value gives: ``value``, or (None) a missing number (NaN, the
        intermediate form's meaning), which a tree routes by its missing-value rule."""
        if value is None:
            return {"/": [_d(0.0), _d(0.0)]}
        return _d(value)

    def _lookup(self, e: ir.Lookup) -> Any:
        """``table[x]`` as a position in the keys (``a.index``, -1 when absent) into the values;
        an unknown key without a default is a runtime error, as scikit-learn's transform
        raises; a missing number stays NaN unless the table says otherwise."""
        if self._nullable(e.name):
            return self._if_text(e.name, lambda v: self._lookup(e),
                                 self._missing_text(e.name, e.missing))
        x = self.env[e.name]
        text = self._type(e.name) == "string"
        if any(isinstance(v, str) for _, v in e.table) or isinstance(e.default, str):
            raise self.fail("text lookup results")
        keys = {"type": {"type": "array", "items": "string" if text else "double"},
                "value": [str(k) if text else float(k) for k, _ in e.table]}
        vals = {"type": DOUBLES, "value": [float(v) for _, v in e.table]}
        idx = {"a.index": [keys, x]}
        other = _d(e.default) if e.default is not None else \
            {"error": f"{e.name}: a category the encoder was not fitted on"}
        out = {"if": {"<": [idx, 0]}, "then": other, "else": {"attr": vals, "path": [idx]}}
        if not text:
            out = {"if": {"impute.isnan": x},
                   "then": x if e.missing is None else _d(e.missing), "else": out}
        return out

    def _bins(self, e: ir.Bins) -> Any:
        """The bin index: how many inner edges are <= x (NaN stays NaN)."""
        x = self.env[e.name]
        edges = {"type": DOUBLES, "value": [float(v) for v in e.edges]}
        count = {"a.count": [edges, {"params": [{"edge_": "double"}], "ret": "boolean",
                                     "do": {"<=": ["edge_", x]}}]}
        return {"if": {"impute.isnan": x}, "then": x, "else": {"+": [_d(0.0), count]}}

    def _type(self, name: str) -> str:
        if name in self.inputs:
            return self.inputs[name].data_type
        return next(d.data_type for d in self.doc.derived if d.name == name)

    def derive(self) -> None:
        for k, d in enumerate(self.doc.derived):
            var = f"d{k}"
            self.lets.append({"let": {var: self.expr(d.expr)}})
            self.env[d.name] = var

    def vector(self, fields: list[str]) -> dict:
        return {"new": [self.env[f] for f in fields], "type": DOUBLES}

    # ------------------------------------------------------------ models
    def linear(self, spec: ir.LinearSpec) -> tuple[Any, str]:
        """(expression, kind): kind "value" (a double) or "probs" (array in class order)."""
        fields = sorted({f for _, _, t in spec.tables for f, *_ in t})
        if any(len(p) > 2 for _, _, t in spec.tables for p in t):
            raise self.fail("polynomial terms")
        x = self.vector(fields)

        def row(terms):
            m = dict((f, c) for f, c, *_ in terms)
            return [float(m.get(f, 0.0)) for f in fields]
        if spec.function == "regression":
            cat, icpt, terms = spec.tables[0]
            self.cells["model"] = {"type": {"type": "record", "name": "Linear", "fields": [
                {"name": "coeff", "type": DOUBLES}, {"name": "const", "type": "double"}]},
                "init": {"coeff": row(terms), "const": icpt}}
            return {"model.reg.linear": [x, {"cell": "model"}]}, "value"
        if spec.normalization == "logit":      # tables: second class, then the first
            cat, icpt, terms = spec.tables[0]
            self.cells["model"] = {"type": {"type": "record", "name": "Linear", "fields": [
                {"name": "coeff", "type": DOUBLES}, {"name": "const", "type": "double"}]},
                "init": {"coeff": row(terms), "const": icpt}}
            self.lets.append({"let": {"p1": {"m.link.logit": {"model.reg.linear": [
                x, {"cell": "model"}]}}}})
            return {"new": [{"-": [_d(1.0), "p1"]}, "p1"], "type": DOUBLES}, "probs"
        self.cells["model"] = {"type": {"type": "record", "name": "Linear", "fields": [
            {"name": "coeff", "type": {"type": "array", "items": DOUBLES}},
            {"name": "const", "type": DOUBLES}]},
            "init": {"coeff": [row(t) for _, _, t in spec.tables],
                     "const": [float(i) for _, i, _ in spec.tables]}}
        return {"m.link.softmax": {"model.reg.linear": [x, {"cell": "model"}]}}, "probs"

    def _tree_json(self, n: ir.TreeNode, fields: list[str], leaf) -> Any:
        if n.field is None:
            return leaf(n)
        name = avro_name(n.field)
        if n.categories is not None:
            # the Datum carries a missing value of a categorical field as -1 (codes are >= 0)
            cats = [float(c) for c in n.categories] + ([-1.0] if n.missing_left else [])
            return {"TreeNode": {"field": name, "operator": "in", "value": {"array": cats},
                                 "pass": self._branch(n.left, fields, leaf),
                                 "fail": self._branch(n.right, fields, leaf)}}
        first, second = (n.right, n.left) if n.missing_left else (n.left, n.right)
        op = ">" if n.missing_left else "<="
        t = float(n.threshold)
        if self._type(n.field) == "float" and abs(t) <= _F32_MAX:   # not _root's dummy split
            # float32(x) <= t  iff  x <= double_bound(t)
            t = double_bound(t)
        # NaN compares FALSE: the child taking missing values is the "fail" branch
        return {"TreeNode": {"field": name, "operator": op,
                             "value": {"double": t} if self._categorical else t,
                             "pass": self._branch(first, fields, leaf),
                             "fail": self._branch(second, fields, leaf)}}

    def _branch(self, n: ir.TreeNode, fields: list[str], leaf) -> Any:
        if n.field is None:
            return {self._leaf_type_name: leaf(n)}
        return self._tree_json(n, fields, leaf)

    def trees(self, specs: list[ir.TreeSpec], cell: str, classify: bool) -> Any:
        """An array of leaf values (doubles, or probability arrays) for every tree."""
        # one TreeNode type (and its Fields enum) serves every tree of the model
        fields = sorted({avro_name(f) for s in _tree_specs(self.doc.model)
                         for f in ir.tree_split_fields(s)})
        fields = fields or [avro_name(self.doc.inputs[0].name)]
        cat_fields, num_fields = _split_kinds(_tree_specs(self.doc.model))
        if cat_fields & num_fields:
            raise self.fail("a field with both categorical and numeric splits")
        self._categorical = bool(cat_fields)
        value_type: Any = ["double", DOUBLES] if cat_fields else "double"
        leaf_type: Any = DOUBLES if classify else "double"
        self._leaf_type_name = "array" if classify else "double"
        leaf = (lambda n: list(n.probabilities)) if classify else (lambda n: float(n.value))
        node_type = {"type": "record", "name": "TreeNode", "fields": [
            {"name": "field", "type": {"type": "enum", "name": "Fields", "symbols": fields}},
            {"name": "operator", "type": "string"}, {"name": "value", "type": value_type},
            {"name": "pass", "type": [leaf_type, "TreeNode"]},
            {"name": "fail", "type": [leaf_type, "TreeNode"]}]}
        if "Datum" not in self._types:
            self._types.add("Datum")
            cats = {avro_name(f) for f in cat_fields}

            def value(f: str) -> Any:
                x = self.env[_from_avro(self, f)]
                if f in cats:
                    return {"if": {"impute.isnan": x}, "then": _d(-1.0), "else": x}
                return x
            self.lets.append({"let": {"datum": {"new": {
                f: value(f) for f in fields}, "type": {
                "type": "record", "name": "Datum",
                "fields": [{"name": f, "type": "double"} for f in fields]}}}})
            self.cells[cell] = {"type": {"type": "array", "items": node_type}, "init": [
                self._root(s.root, fields, leaf) for s in specs]}
        else:
            self.cells[cell] = {"type": {"type": "array", "items": "TreeNode"}, "init": [
                self._root(s.root, fields, leaf) for s in specs]}
        return {"a.map": [{"cell": cell}, {"params": [{"tree": "TreeNode"}], "ret": leaf_type,
                                           "do": {"model.tree.simpleWalk": [
                                               "datum", "tree", {"params": [{"d": "Datum"}, {"t": "TreeNode"}], "ret": "boolean",
                            "do": {"model.tree.simpleTest": ["d", "t"]}}]}}]}

    def _root(self, n: ir.TreeNode, fields, leaf) -> Any:
        if n.field is None:     # a single leaf: a split that always passes
            n = ir.TreeNode(field=_first_field(fields, self), threshold=1e308, left=n, right=n,
                            missing_left=False)
        return self._tree_json(n, fields, leaf)["TreeNode"]

    def ensemble(self, spec: ir.EnsembleSpec) -> tuple[Any, str]:
        classify = spec.function == "classification"
        if spec.method == "average":
            leaves = self.trees(spec.members, "trees", classify)
            n = float(len(spec.members))
            if classify:
                total = {"a.fold": [leaves, {"value": [0.0] * len(spec.classes), "type": DOUBLES},
                                    {"params": [{"acc": DOUBLES}, {"x": DOUBLES}],
                                     "ret": DOUBLES, "do": {"la.add": ["acc", "x"]}}]}
                return {"la.scale": [total, _d(1.0 / n)]}, "probs"
            return {"/": [{"a.sum": leaves}, _d(n)]}, "value"
        if not classify:
            return {"a.sum": self.trees(spec.members, "trees", False)}, "value"
        sums = [{"a.sum": self.trees(members, f"trees{k}", False)}
                for k, members in enumerate(spec.members)]
        if spec.link == "logit":
            self.lets.append({"let": {"p1": {"m.link.logit": sums[0]}}})
            return {"new": [{"-": [_d(1.0), "p1"]}, "p1"], "type": DOUBLES}, "probs"
        return {"m.link.softmax": {"new": sums, "type": DOUBLES}}, "probs"

    def model(self) -> tuple[Any, str]:
        spec = self.doc.model
        self._types: set = set()
        if isinstance(spec, ir.LinearSpec):
            return self.linear(spec)
        if isinstance(spec, ir.TreeSpec):
            leaves = self.trees([spec], "trees", spec.function == "classification")
            return {"attr": leaves, "path": [0]}, \
                "probs" if spec.function == "classification" else "value"
        if isinstance(spec, ir.EnsembleSpec):
            return self.ensemble(spec)
        kind = type(spec).__name__
        if kind == "NeuralSpec":
            return self.neural(spec)
        if kind == "ClusteringSpec":
            return self.clustering(spec)
        from . import pfa_models
        if kind == "SVMSpec":
            return pfa_models.svm(self, spec)
        if kind == "NaiveBayesSpec":
            return pfa_models.naive_bayes(self, spec)
        if kind == "NeighborsSpec":
            return pfa_models.neighbors(self, spec)
        raise self.fail(kind)

    def neural(self, spec: Any) -> tuple[Any, str]:
        """Every layer through model.neural.simpleLayers (which applies the activation to all
        layers but the last, as scikit-learn's hidden layers), then the output link."""
        acts = {"rectifier": "m.link.relu", "tanh": "m.link.tanh", "logistic": "m.link.logit"}
        act = spec.activations[0]
        body = {acts[act]: "x"} if act in acts else "x"
        self.cells["layers"] = {"type": {"type": "array", "items": {
            "type": "record", "name": "Layer", "fields": [
                {"name": "weights", "type": {"type": "array", "items": DOUBLES}},
                {"name": "bias", "type": DOUBLES}]}},
            "init": [{"weights": np.asarray(W, float).T.tolist(),
                      "bias": np.asarray(b, float).tolist()}
                     for W, b in zip(spec.weights, spec.biases)]}
        self.lets.append({"let": {"raw": {"model.neural.simpleLayers": [
            self.vector(spec.fields), {"cell": "layers"},
            {"params": [{"x": "double"}], "ret": "double", "do": body}]}}})
        if spec.function == "regression":
            return {"attr": "raw", "path": [0]}, "value"
        if len(spec.classes) == 2:
            self.lets.append({"let": {"p1": {"m.link.logit": {"attr": "raw", "path": [0]}}}})
            return {"new": [{"-": [_d(1.0), "p1"]}, "p1"], "type": DOUBLES}, "probs"
        return {"m.link.softmax": "raw"}, "probs"

    def clustering(self, spec: Any) -> tuple[Any, str]:
        self.cells["clusters"] = {"type": {"type": "array", "items": {
            "type": "record", "name": "Cluster", "fields": [
                {"name": "center", "type": DOUBLES}, {"name": "id", "type": "string"}]}},
            "init": [{"center": np.asarray(c, float).tolist(), "id": str(k)}
                     for k, c in enumerate(spec.centers)]}
        closest = {"model.cluster.closest": [self.vector(spec.fields), {"cell": "clusters"}]}
        return {"attr": closest, "path": [{"string": "id"}]}, "label"


def _tree_specs(spec: Any) -> list:
    """Every TreeSpec of a tree or tree ensemble (multiclass boosting: a list per class)."""
    if isinstance(spec, ir.TreeSpec):
        return [spec]
    if isinstance(spec, (list, tuple)):
        return [t for m in spec for t in _tree_specs(m)]
    if isinstance(spec, ir.EnsembleSpec):
        return _tree_specs(spec.members)
    return []


def _split_kinds(specs: list) -> tuple[set, set]:
    """(fields with categorical splits, fields with numeric splits) over the trees."""
    cat, num = set(), set()
    stack = [s.root for s in specs]
    while stack:
        n = stack.pop()
        if n.field is not None:
            (cat if n.categories is not None else num).add(n.field)
            stack += [n.left, n.right]
    return cat, num


def _from_avro(w: _Writer, avro: str) -> str:
    for name in w.env:
        if avro_name(name) == avro:
            return name
    raise KeyError(avro)


def _first_field(fields, w) -> str:
    return _from_avro(w, fields[0])


def write(doc: ir.Export) -> str:
    """The PFA document's JSON text."""
    w = _Writer(doc)
    w.derive()
    value, kind = w.model()
    target = avro_name(doc.target)
    out_fields: list[dict] = []
    result: dict[str, Any] = {}
    if kind == "label":
        out_fields.append({"name": target, "type": "string"})
        result[target] = value
        action = w.lets + [{"new": result, "type": "Output"}]
    elif kind == "value":
        out_fields.append({"name": target, "type": "double"})
        result[target] = value
        action = w.lets + [{"new": result, "type": "Output"}]
    else:
        labels = [str(c) for c in doc.classes]
        w.lets.append({"let": {"probs": value}})
        label_scores: Any = "probs"
        if w.label_scores is not None:       # a label not the most probable class (SVC)
            w.lets.append({"let": {"labelScores": w.label_scores}})
            label_scores = "labelScores"
        out_fields.append({"name": target, "type": "string"})
        result[target] = {"attr": {"type": {"type": "array", "items": "string"},
                                   "value": labels}, "path": [{"a.argmax": [label_scores]}]}
        if doc.probabilities:
            for k, c in enumerate(labels):
                name = avro_name(f"probability_{c}")
                out_fields.append({"name": name, "type": "double"})
                result[name] = {"attr": "probs", "path": [k]}
        action = w.lets + [{"new": result, "type": "Output"}]
    types = {"string": "string", "integer": "double", "double": "double", "float": "float"}
    document = {
        "name": "portmodel_export",
        "input": {"type": "record", "name": "Input", "fields": [
            {"name": avro_name(f.name), "type": ["null", "string"] if f.nullable
             else types[f.data_type]} for f in doc.inputs]},
        "output": {"type": "record", "name": "Output", "fields": out_fields},
        "cells": w.cells,
        "action": action,
    }
    return json.dumps(document, separators=(",", ":"))
