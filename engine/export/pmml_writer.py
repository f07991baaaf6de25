"""The intermediate form (``ir.Export``) as a PMML 4.4 document, through ``pmml_builder``.

Derived fields go to the TransformationDictionary; each model's MiningSchema lists the input
fields it depends on. Ensembles are MiningModels: forests average their trees; boosters sum
their trees (and a constant tree for the initial score) and, for classifiers, chain a
RegressionModel whose normalization is the loss's link (logit or softmax), as sklearn2pmml does.
"""
from __future__ import annotations

from typing import Any, Iterable

from lxml import etree

from . import ir
from . import pmml_builder as B


class _Writer:
    def __init__(self, doc: ir.Export):
        self.doc = doc
        self.inputs = {f.name: f for f in doc.inputs}
        self.derived = {d.name: d for d in doc.derived}
        self._deps: dict[str, frozenset] = {}
        self.fields_used: set[str] = set()
        #: nesting depth: models inside a MiningModel do not name the target
        self.depth = 0

    # ------------------------------------------------------------ dependencies
    def deps(self, name: str) -> frozenset:
        """The input fields a field depends on."""
        if name in self.inputs:
            return frozenset([name])
        got = self._deps.get(name)
        if got is None:
            got = frozenset().union(*[self.deps(n) for n in _refs(self.derived[name].expr)]) \
                if name in self.derived else frozenset()
            self._deps[name] = got
        return got

    def schema(self, fields: Iterable[str], target: bool = True, extra: Iterable[str] = ()
               ) -> etree._Element:
        used: set[str] = set()
        for f in fields:
            used |= self.deps(f)
        self.fields_used |= used
        mf = []
        if target and self.depth == 0:
            mf.append(B.mining_field(self.doc.target, "target"))
        for f in self.doc.inputs:
            if f.name in used:
                mf.append(B.mining_field(f.name))
        mf.extend(B.mining_field(n) for n in extra)
        if not mf:      # a constant model inside a sum: the schema needs one field
            first = self.doc.inputs[0]
            self.fields_used.add(first.name)
            mf.append(B.mining_field(first.name))
        return B.mining_schema(mf)

    # ------------------------------------------------------------ expressions
    def expr(self, e: ir.Expr) -> etree._Element:
        if isinstance(e, ir.Ref):
            return B.field_ref(e.name, e.missing_to)
        if isinstance(e, ir.Const):
            return B.constant(e.value, "string" if isinstance(e.value, str) else "double")
        if isinstance(e, ir.Call):
            return B.apply(e.fn, *[self.expr(a) for a in e.args])
        if isinstance(e, ir.ToFloat):
            return B.field_ref(e.name)
        if isinstance(e, ir.Indicator):
            if len(e.values) == 1 and not e.negate:
                return B.norm_discrete(e.name, e.values[0], e.missing)
            fn = "isNotIn" if e.negate else "isIn"
            dt = "string" if self._type(e.name) == "string" else "double"
            test = B.apply(fn, B.field_ref(e.name), *[B.constant(v, dt) for v in e.values])
            return B.apply("if", test, B.constant(1.0, "double"), B.constant(0.0, "double"),
                           map_missing_to=e.missing)
        if isinstance(e, ir.Lookup):
            return B.map_values(e.name, dict(e.table), "double", e.default, e.missing)
        if isinstance(e, ir.Bins):
            edges = list(e.edges)
            bins = []
            for i in range(len(edges) + 1):
                lo = edges[i - 1] if i > 0 else None
                hi = edges[i] if i < len(edges) else None
                bins.append((float(i), B.interval("closedOpen", lo, hi)))
            return B.discretize(e.name, bins, "double")
        raise TypeError(f"no PMML form for {e!r}")

    def _type(self, name: str) -> str:
        if name in self.inputs:
            return self.inputs[name].data_type
        return self.derived[name].data_type

    # ------------------------------------------------------------ models
    def outputs(self) -> etree._Element | None:
        if not self.doc.probabilities:
            return None
        return B.output([B.output_field(f"probability({c})", "probability", "double",
                                        "continuous", c) for c in self.doc.classes])

    def model(self, spec: Any, top: bool = True) -> etree._Element:
        out = self.outputs() if top else None
        if isinstance(spec, ir.LinearSpec):
            return self.linear(spec, out)
        if isinstance(spec, ir.TreeSpec):
            return self.tree(spec, out)
        if isinstance(spec, ir.EnsembleSpec):
            return self.ensemble(spec, out)
        writer = getattr(spec, "pmml", None)
        if writer is not None:
            return writer(self, out)
        raise TypeError(f"no PMML writer for {type(spec).__name__}")

    def one_hot_term(self, name: str) -> tuple[str, Any] | None:
        """(input field, category) when ``name`` is a one-hot indicator of one text category
        whose missing input makes the result missing (a RegressionModel term of it is then a
        CategoricalPredictor on the input itself, as sklearn2pmml writes it: no derived
        field)."""
        d = self.derived.get(name)
        if d is None or not isinstance(d.expr, ir.Indicator):
            return None
        e = d.expr
        if e.negate or len(e.values) != 1 or e.missing is not None or \
                e.name not in self.inputs or self.inputs[e.name].data_type != "string":
            return None
        return e.name, e.values[0]

    def linear(self, spec: ir.LinearSpec, out: etree._Element | None,
               extra: Iterable[str] = ()) -> etree._Element:
        fields = [f for _, _, terms in spec.tables for f, _ in terms]
        fields = [(self.one_hot_term(f) or (f,))[0] for f in fields]
        tables = []
        for cat, icpt, terms in spec.tables:
            numeric = [t for t in terms if self.one_hot_term(t[0]) is None]
            table = B.regression_table(icpt, numeric, cat)
            for f, c in terms:
                one_hot = self.one_hot_term(f)
                if one_hot is not None:
                    table.append(B.el("CategoricalPredictor", {
                        "name": one_hot[0], "value": one_hot[1], "coefficient": c}))
            tables.append(table)
        return B.regression_model(spec.function, spec.normalization, self.schema(fields, True,
                                                                                 extra),
                                  out, None, tables)

    def _split_fields(self, node: ir.TreeNode, acc: set) -> set:
        if node.field is not None:
            acc.add(node.field)
            self._split_fields(node.left, acc)
            self._split_fields(node.right, acc)
        return acc

    def tree(self, spec: ir.TreeSpec, out: etree._Element | None) -> etree._Element:
        """A binary tree without node ids: at each split the child that takes missing values
        comes second, and the first child's predicate is written so that it is FALSE for them
        (missingValueStrategy "none", the schema's default and so not written: a comparison
        with a missing value is FALSE). A second child that splits again is flattened into its
        parent (its children follow the first child), and the last leaf of such a chain is not
        written: its score (and score distribution) sits on the parent, which
        noTrueChildStrategy "returnLastPrediction" returns when no child's predicate is TRUE.
        This is how JPMML's converters compact trees; the answer is the same for every input,
        missing or not."""
        classify = spec.function == "classification"
        labels = [B.text(c) for c in spec.classes]
        sd = B.score_distribution

        def node(n: ir.TreeNode, pred: etree._Element, kids: list = ()) -> etree._Element:
            """A node with leaf ``n``'s score (and distribution) and the given children."""
            dist = [sd(c, k) for c, k in zip(labels, n.counts)] if classify else ()
            return B.node(n.value, pred, kids, distribution=dist)

        def first_pred(n: ir.TreeNode) -> tuple[etree._Element, ir.TreeNode, ir.TreeNode]:
            """(predicate of the first child, first subtree, second subtree)."""
            if n.categories is not None:
                if n.missing_left:
                    return (B.simple_set_predicate(n.field, "isNotIn", list(n.categories)),
                            n.right, n.left)
                return B.simple_set_predicate(n.field, "isIn", list(n.categories)), n.left, \
                    n.right
            if n.missing_left:
                return B.simple_predicate(n.field, "greaterThan", n.threshold), n.right, n.left
            return B.simple_predicate(n.field, "lessOrEqual", n.threshold), n.left, n.right

        def build(n: ir.TreeNode, pred: etree._Element) -> etree._Element:
            kids: list[etree._Element] = []
            while n.field is not None:
                p, first, second = first_pred(n)
                kids.append(build(first, p))
                n = second
            return node(n, pred, kids)

        root = build(spec.root, B.true())
        fields = self._split_fields(spec.root, set())
        return B.tree_model(spec.function, self.schema(sorted(fields)), root, out,
                            missing_strategy=None, no_true_child="returnLastPrediction",
                            split=None)

    def _constant_tree(self, value: float) -> etree._Element:
        return B.tree_model("regression", self.schema([]), B.node(value, B.true()))

    def _sum(self, members: list, intercept: float, out: etree._Element | None,
             function: str = "regression") -> etree._Element:
        self.depth += 1
        try:
            segs = [B.segment(1, B.true(), self._constant_tree(intercept))] if intercept else []
            segs += [B.segment(i + 2, B.true(), self.model(m, False))
                     for i, m in enumerate(members)]
        finally:
            self.depth -= 1
        fields = set()
        for m in members:
            fields |= self._all_fields(m)
        return B.mining_model(function, self.schema(sorted(fields)), "sum", segs, out)

    def _all_fields(self, spec: Any) -> set:
        if isinstance(spec, ir.TreeSpec):
            return self._split_fields(spec.root, set())
        if isinstance(spec, ir.EnsembleSpec):
            acc: set = set()
            for m in spec.members:
                for mm in (m if isinstance(m, list) else [m]):
                    acc |= self._all_fields(mm)
            return acc
        if isinstance(spec, ir.LinearSpec):
            return {(self.one_hot_term(f) or (f,))[0] for _, _, t in spec.tables for f, _ in t}
        return set(getattr(spec, "fields", ()))

    def ensemble(self, spec: ir.EnsembleSpec, out: etree._Element | None) -> etree._Element:
        if spec.method == "average":
            self.depth += 1
            try:
                segs = [B.segment(i + 1, B.true(), self.model(m, False))
                        for i, m in enumerate(spec.members)]
            finally:
                self.depth -= 1
            return B.mining_model(spec.function, self.schema(sorted(self._all_fields(spec))),
                                  "average", segs, out)
        if spec.function == "regression":
            model = self._sum(spec.members, spec.intercept, out)
            self._float_sum(model, spec)
            return model
        # classification: raw scores per class, then the link
        per_class = spec.members
        icpts = spec.intercept if isinstance(spec.intercept, tuple) else (spec.intercept,)
        segs = []
        raw_names = []
        for k, (members, icpt) in enumerate(zip(per_class, icpts)):
            name = "decisionFunction" if len(per_class) == 1 else \
                f"decisionFunction({spec.classes[k]})"
            raw_names.append(name)
            self.depth += 1
            try:
                sub = self._sum(members, icpt, B.output([B.output_field(
                    name, "predictedValue", "double", "continuous")]))
            finally:
                self.depth -= 1
            self._float_sum(sub, spec)
            self._drop_target(sub)
            segs.append(B.segment(k + 1, B.true(), sub))
        if len(per_class) == 1:
            tables = [(spec.classes[1], 0.0, ((raw_names[0], 1.0),)), (spec.classes[0], 0.0, ())]
            link = "logit"
        else:
            tables = [(c, 0.0, ((raw_names[k], 1.0),)) for k, c in enumerate(spec.classes)]
            link = "softmax"
        # the probabilities are the last segment's outputs (JPMML-Evaluator does not resolve
        # them on the chain itself)
        reg = B.regression_model("classification", link, B.mining_schema(
            [B.mining_field(self.doc.target, "target")] +
            [B.mining_field(n) for n in raw_names]), out, None,
            [B.regression_table(i, t, c) for c, i, t in tables])
        segs.append(B.segment(len(segs) + 1, B.true(), reg))
        fields = self._all_fields(spec)
        return B.mining_model("classification", self.schema(sorted(fields)), "modelChain",
                              segs, None)

    def _drop_target(self, model: etree._Element) -> None:
        ms = model.find("MiningSchema")
        for mf in ms.findall("MiningField"):
            if mf.get("usageType") == "target":
                ms.remove(mf)

    def _float_sum(self, model: etree._Element, spec: ir.EnsembleSpec) -> None:
        if spec.float_sum:
            model.set("x-mathContext", "float")


def _refs(e: ir.Expr) -> list[str]:
    if isinstance(e, (ir.Ref, ir.ToFloat, ir.Indicator, ir.Lookup, ir.Bins)):
        return [e.name]
    if isinstance(e, ir.Call):
        return [n for a in e.args for n in _refs(a)]
    return []


def _data_field(f: ir.InputField) -> etree._Element:
    if f.data_type == "string":
        return B.data_field(f.name, "categorical", "string", f.categories)
    return B.data_field(f.name, "continuous", f.data_type)


def write(doc: ir.Export, verification: tuple[list, list] | None = None,
          version: str = "") -> bytes:
    """The PMML document's bytes; ``verification`` = (fields, rows) for ModelVerification."""
    w = _Writer(doc)
    model = w.model(doc.model)
    if getattr(doc.model, "function", None) == "clustering":
        target = None
    elif doc.classes:
        target = B.data_field(doc.target, "categorical", doc.target_type, doc.classes)
    else:
        target = B.data_field(doc.target, "continuous", doc.target_type)
    inputs = [_data_field(f) for f in doc.inputs if f.name in w.fields_used]
    td = B.transformations("TransformationDictionary",
                           [B.derived_field(d.name, d.optype, d.data_type, w.expr(d.expr))
                            for d in _needed(doc, w)])
    if verification is not None:
        fields, rows = verification
        # ModelVerification ends a model element, except AnomalyDetectionModel (before its model)
        where = len(model) - 1 if model.tag == "AnomalyDetectionModel" else len(model)
        model.insert(where, B.model_verification(
            [(f, c, p) for f, c, p in fields if p is not None or f in w.fields_used], rows))
    notes = "; ".join(doc.notes)
    root = B.pmml(B.header(doc.description + (f". {notes}" if notes else ""), "portmodel",
                           version), B.data_dictionary(([target] if target is not None else []) + inputs), td, model)
    return B.to_bytes(B.finish(root))


def _needed(doc: ir.Export, w: _Writer) -> list[ir.Derived]:
    """Derived fields the model reaches, in definition order."""
    byname = {d.name: d for d in doc.derived}
    need: set[str] = set()

    def visit(n: str) -> None:
        if n in need or n not in byname:
            return
        need.add(n)
        for r in _refs(byname[n].expr):
            visit(r)
    for n in w._all_fields(doc.model) | set(getattr(doc.model, "fields", ())):
        visit(n)
    return [d for d in doc.derived if d.name in need]
