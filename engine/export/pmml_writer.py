"""The intermediate form (``ir.Export``) as a PMML 4.4 document: an object-model ``Document``
(``portmodel.pmml.objects``), written by the object model's writer.

Derived fields go to the TransformationDictionary; each model's MiningSchema lists the input
fields it depends on. Ensembles are MiningModels: forests average their trees; boosters sum
their trees (and a constant tree for the initial score) and, for classifiers, chain a
RegressionModel whose normalization is the loss's link (logit or softmax), as sklearn2pmml does.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable


from portmodel.pmml import objects as O
from portmodel.pmml.objects.write import format_values, to_lines

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
        self._tree_fields: dict[int, frozenset] = {}

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
               ) -> O.MiningSchema:
        used: set[str] = set()
        for f in fields:
            used |= self.deps(f)
        self.fields_used |= used
        mf = []
        if target and self.depth == 0:
            mf.append(O.MiningField(name=self.doc.target, usage_type="target"))
        for f in self.doc.inputs:
            if f.name in used:
                mf.append(O.MiningField(name=f.name))
        mf.extend(O.MiningField(name=n) for n in extra)
        if not mf:      # a constant model inside a sum: the schema needs one field
            first = self.doc.inputs[0]
            self.fields_used.add(first.name)
            mf.append(O.MiningField(name=first.name))
        return O.MiningSchema(fields=tuple(mf))

    # ------------------------------------------------------------ expressions
    def expr(self, e: ir.Expr) -> O.Expression:
        if isinstance(e, ir.Ref):
            return O.FieldRef(field=e.name, map_missing_to=B.opt(e.missing_to))
        if isinstance(e, ir.Const):
            return _constant(e.value, "string" if isinstance(e.value, str) else "double")
        if isinstance(e, ir.Call):
            return O.Apply(function=e.fn, arguments=tuple(self.expr(a) for a in e.args))
        if isinstance(e, ir.ToFloat):
            return O.FieldRef(field=e.name)
        if isinstance(e, ir.Indicator):
            if len(e.values) == 1 and not e.negate:
                return O.NormDiscrete(field=e.name, value=B.text(e.values[0]),
                                      map_missing_to=_float(e.missing))
            fn = "isNotIn" if e.negate else "isIn"
            dt = "string" if self._type(e.name) == "string" else "double"
            test = O.Apply(function=fn, arguments=(O.FieldRef(field=e.name),) + tuple(
                _constant(v, dt) for v in e.values))
            return O.Apply(function="if", map_missing_to=B.opt(e.missing), arguments=(
                test, _constant(1.0, "double"), _constant(0.0, "double")))
        if isinstance(e, ir.Lookup):
            return O.MapValues(
                output_column="output", data_type="double", default_value=B.opt(e.default),
                map_missing_to=B.opt(e.missing),
                pairs=(O.FieldColumnPair(field=e.name, column="input"),),
                table=B.inline_table([{"input": k, "output": v} for k, v in e.table]))
        if isinstance(e, ir.Bins):
            edges = list(e.edges)
            bins = []
            for i in range(len(edges) + 1):
                lo = edges[i - 1] if i > 0 else None
                hi = edges[i] if i < len(edges) else None
                bins.append(O.DiscretizeBin(bin_value=B.text(float(i)), interval=O.Interval(
                    closure="closedOpen", left_margin=_float(lo), right_margin=_float(hi))))
            return O.Discretize(field=e.name, data_type="double", bins=tuple(bins))
        raise TypeError(f"no PMML form for {e!r}")

    def _type(self, name: str) -> str:
        if name in self.inputs:
            return self.inputs[name].data_type
        return self.derived[name].data_type

    # ------------------------------------------------------------ models
    def outputs(self) -> O.Output | None:
        if not self.doc.probabilities:
            return None
        return O.Output(fields=tuple(
            O.OutputField(name=f"probability({c})", optype="continuous", data_type="double",
                          feature="probability", value=B.text(c)) for c in self.doc.classes))

    def model(self, spec: Any, top: bool = True) -> O.Model:
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

    def linear(self, spec: ir.LinearSpec, out: O.Output | None,
               extra: Iterable[str] = ()) -> O.Model:
        fields = [f for _, _, terms in spec.tables for f, _ in terms]
        fields = [(self.one_hot_term(f) or (f,))[0] for f in fields]
        tables = []
        for cat, icpt, terms in spec.tables:
            numeric, categorical = [], []
            for t in terms:
                one_hot = self.one_hot_term(t[0])
                if one_hot is None:
                    numeric.append(O.NumericPredictor(
                        name=t[0], exponent=t[2] if len(t) > 2 else None,
                        coefficient=float(t[1])))
                else:
                    categorical.append(O.CategoricalPredictor(
                        name=one_hot[0], value=B.text(one_hot[1]), coefficient=float(t[1])))
            tables.append(_table(icpt, numeric, cat, categorical))
        return B.model("RegressionModel", spec.function,
                       {"normalizationMethod": spec.normalization},
                       self.schema(fields, True, extra), out, *tables)

    def _split_fields(self, spec: ir.TreeSpec, acc: set) -> set:
        """acc, with the fields the tree splits on (once per tree: the schema, the
        ensemble's schema and the needed derived fields all ask)."""
        got = self._tree_fields.get(id(spec.root))
        if got is None:
            got = self._tree_fields[id(spec.root)] = ir.tree_split_fields(spec)
        acc |= got
        return acc


    def tree(self, spec: ir.TreeSpec, out: O.Output | None) -> O.Model:
        """A binary tree without node ids: at each split the child that takes missing values
        comes second, and the first child's predicate is written so that it is FALSE for them
        (missingValueStrategy "none", the schema's default and so not written: a comparison
        with a missing value is FALSE). A second child that splits again is flattened into its
        parent (its children follow the first child), and the last leaf of such a chain is not
        written: its score (and score distribution) sits on the parent, which
        noTrueChildStrategy "returnLastPrediction" returns when no child's predicate is TRUE.
        This is how JPMML's converters compact trees; the answer is the same for every input,
        missing or not. The nodes are built as the typed body (``objects.TreeNodes``) directly."""
        # the written Nodes in document order (a Node, then its children's subtrees): each
        # is a chain of second children; its children are the chain members' first children
        parent: list[int] = []
        ops: list[str | None] = []
        split_fields: list[str | None] = []
        thresholds: list[Any] = []
        others: list[tuple[int, O.Predicate]] = []
        leaves: list[ir.TreeNode] = []
        stack: list[tuple] = [(spec.root, -1, "True", None, None)]
        pop, push = stack.pop, stack.extend
        add_parent, add_op, add_field = parent.append, ops.append, split_fields.append
        add_threshold, add_leaf = thresholds.append, leaves.append
        while stack:
            n, up, op, field, threshold = pop()
            i = len(parent)
            add_parent(up)
            if op is None:                        # a set predicate (typed)
                others.append((i, field))
                field = None
            add_op(op)
            add_field(field)
            add_threshold(threshold)
            kids = []
            while n.field is not None:
                # the first child's predicate is FALSE for missing values (see above)
                if n.categories is not None:
                    if n.missing_left:
                        kids.append((n.right, i, None, B.simple_set_predicate(
                            n.field, "isNotIn", list(n.categories)), None))
                        n = n.left
                    else:
                        kids.append((n.left, i, None, B.simple_set_predicate(
                            n.field, "isIn", list(n.categories)), None))
                        n = n.right
                elif n.missing_left:
                    kids.append((n.right, i, "greaterThan", n.field, n.threshold))
                    n = n.left
                else:
                    kids.append((n.left, i, "lessOrEqual", n.field, n.threshold))
                    n = n.right
            add_leaf(n)               # the node's score: the last leaf of its chain
            if kids:
                kids.reverse()
                push(kids)
        simple = [k for k, op in enumerate(ops) if op is not None and op != "True"]
        values: list[str | None] = [None] * len(ops)
        for k, t in zip(simple, _texts([thresholds[k] for k in simple])):
            values[k] = t
        sd_node: list[int] = []
        sd_value: list[str] = []
        sd_count: list[float] = []
        if spec.function == "classification":
            # ScoreDistributions: recordCount as written (its text read back)
            labels = [B.text(c) for c in spec.classes]
            counts = [leaf.counts for leaf in leaves]
            width = len(labels)
            if all(len(c) == width for c in counts):
                sd_node = [i for i in range(len(leaves)) for _ in labels]
                sd_value = labels * len(leaves)
                flat = [k for c in counts for k in c]
            else:
                flat = []
                for i, c in enumerate(counts):
                    for label, k in zip(labels, c):
                        sd_node.append(i)
                        sd_value.append(label)
                        flat.append(k)
            # (``float`` reads every text format_value writes as parse_number does)
            sd_count = list(map(float, _texts(flat)))
        nodes = _tree_nodes(parent, _texts([leaf.value for leaf in leaves]), ops, split_fields,
                            values, others, sd_node, sd_value, sd_count,
                            no_true_child_strategy="returnLastPrediction")
        fields = self._split_fields(spec, set())
        return B.model("TreeModel", spec.function, {"noTrueChildStrategy": "returnLastPrediction"},
                       self.schema(sorted(fields)), out, nodes)

    def _constant_tree(self, value: float) -> O.Model:
        nodes = _tree_nodes([-1], [B.text(value)], ["True"], [None], [None], [], [], [], [])
        return B.model("TreeModel", "regression", None, self.schema([]), nodes)

    def _mining(self, function: str, fields: Iterable[str], method: str,
                segments: list[O.Segment], out: O.Output | None, vendor: tuple = ()
                ) -> O.Model:
        return B.model("MiningModel", function, None, self.schema(sorted(fields)), out,
                       O.Segmentation(multiple_model_method=method, segments=tuple(segments)),
                       vendor=vendor)

    def _sum(self, members: list, intercept: float, out: O.Output | None,
             vendor: tuple = ()) -> O.Model:
        self.depth += 1
        try:
            segs = [_segment(1, self._constant_tree(intercept))] if intercept else []
            segs += [_segment(i + 2, self.model(m, False)) for i, m in enumerate(members)]
        finally:
            self.depth -= 1
        fields: set = set()
        for m in members:
            fields |= self._all_fields(m)
        return self._mining("regression", fields, "sum", segs, out, vendor)

    def _all_fields(self, spec: Any) -> set:
        if isinstance(spec, ir.TreeSpec):
            return self._split_fields(spec, set())
        if isinstance(spec, ir.EnsembleSpec):
            acc: set = set()
            for m in spec.members:
                for mm in (m if isinstance(m, list) else [m]):
                    acc |= self._all_fields(mm)
            return acc
        if isinstance(spec, ir.LinearSpec):
            return {(self.one_hot_term(f) or (f,))[0] for _, _, t in spec.tables for f, _ in t}
        return set(getattr(spec, "fields", ()))

    def ensemble(self, spec: ir.EnsembleSpec, out: O.Output | None) -> O.Model:
        # XGBoost's float32 sums: JPMML's x-mathContext="float", which portmodel honours
        vendor = (("x-mathContext", "float"),) if spec.float_sum else ()
        if spec.method == "average":
            self.depth += 1
            try:
                segs = [_segment(i + 1, self.model(m, False))
                        for i, m in enumerate(spec.members)]
            finally:
                self.depth -= 1
            return self._mining(spec.function, self._all_fields(spec), "average", segs, out)
        if spec.function == "regression":
            return self._sum(spec.members, spec.intercept, out, vendor)
        # classification: raw scores per class, then the link
        per_class = spec.members
        icpts = spec.intercept if isinstance(spec.intercept, tuple) else (spec.intercept,)
        segs = []
        raw_names = []
        for k, (members, icpt) in enumerate(zip(per_class, icpts)):
            name = "decisionFunction" if len(per_class) == 1 else \
                f"decisionFunction({spec.classes[k]})"
            raw_names.append(name)
            self.depth += 1      # nested: no target field in its schema
            try:
                sub = self._sum(members, icpt, O.Output(fields=(O.OutputField(
                    name=name, optype="continuous", data_type="double",
                    feature="predictedValue"),)), vendor)
            finally:
                self.depth -= 1
            segs.append(_segment(k + 1, sub))
        if len(per_class) == 1:
            tables = [(spec.classes[1], 0.0, ((raw_names[0], 1.0),)), (spec.classes[0], 0.0, ())]
            link = "logit"
        else:
            tables = [(c, 0.0, ((raw_names[k], 1.0),)) for k, c in enumerate(spec.classes)]
            link = "softmax"
        # the probabilities are the last segment's outputs (JPMML-Evaluator does not resolve
        # them on the chain itself)
        reg = B.model("RegressionModel", "classification", {"normalizationMethod": link},
                      O.MiningSchema(fields=(O.MiningField(name=self.doc.target,
                                                           usage_type="target"),) +
                                     tuple(O.MiningField(name=n) for n in raw_names)),
                      out, *[_table(i, [O.NumericPredictor(name=f, coefficient=float(c))
                                        for f, c in t], c) for c, i, t in tables])
        segs.append(_segment(len(segs) + 1, reg))
        return self._mining("classification", self._all_fields(spec), "modelChain", segs, None)


def _tree_nodes(parent: list[int], score: list[str | None], op: list[str | None],
               field: list[str | None], value: list[str | None],
               others: list[tuple[int, O.Predicate]], sd_node: list[int], sd_value: list[str],
               sd_count: list[float], **model_attrs: Any) -> O.TreeNodes:
    """A TreeModel body (``objects.TreeNodes``: flat columns over the nodes in document
    order); op: a simple predicate's operator, "True", or None for a typed one in
    ``others``."""
    n, m = len(parent), len(sd_node)
    none, sd_none = (None,) * n, (None,) * m
    return O.TreeNodes(parent=tuple(parent), id=none, score=tuple(score), record_count=none,
                       default_child=none, pred_op=tuple(op), pred_field=tuple(field),
                       pred_value=tuple(value), predicates=tuple(others),
                       sd_node=tuple(sd_node), sd_value=tuple(sd_value),
                       sd_record_count=tuple(sd_count), sd_confidence=sd_none,
                       sd_probability=sd_none, lines=none, pred_lines=none, **model_attrs)


def _texts(values: list[Any]) -> list[str | None]:
    """``B.text`` of each value (None stays None), the numbers formatted in bulk."""
    if None in values:                       # (identity or ==: no NaN is None)
        present = [k for k, v in enumerate(values) if v is not None]
        out: list[str | None] = [None] * len(values)
        for k, t in zip(present, _texts([values[k] for k in present])):
            out[k] = t
        return out
    types = set(map(type, values))
    if types == {str}:
        return list(values)
    if str in types:
        return [B.text(v) for v in values]
    return format_values(values)


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def _constant(v: Any, data_type: str) -> O.Constant:
    return O.Constant(value=B.text(v), data_type=data_type)


def _table(intercept: float, numeric: list, category: Any = None, categorical: list = ()
           ) -> O.RegressionTable:
    return O.RegressionTable(intercept=float(intercept), target_category=B.opt(category),
                             numeric=tuple(numeric), categorical=tuple(categorical))


def _segment(id_: int, model: O.Model) -> O.Segment:
    return O.Segment(id=str(id_), predicate=O.TruePredicate(), model=model)


def _refs(e: ir.Expr) -> list[str]:
    if isinstance(e, (ir.Ref, ir.ToFloat, ir.Indicator, ir.Lookup, ir.Bins)):
        return [e.name]
    if isinstance(e, ir.Call):
        return [n for a in e.args for n in _refs(a)]
    return []


def _data_field(name: str, optype: str, data_type: str, values: Iterable[Any] = ()
                ) -> O.DataField:
    return O.DataField(name=name, optype=optype, data_type=data_type,
                       values=tuple(O.Value(value=B.text(v)) for v in values))


def _input_field(f: ir.InputField) -> O.DataField:
    if f.data_type == "string":
        return _data_field(f.name, "categorical", "string", f.categories)
    return _data_field(f.name, "continuous", f.data_type)


def model_verification(fields: Iterable[tuple[str, str, float | None]],
                       rows: Iterable[dict[str, Any]]) -> O.ModelVerification:
    """fields: (field name, column name, precision or None for inputs); rows: column -> value
    (None: a missing cell, left out)."""
    table = B.inline_table(rows)
    return O.ModelVerification(
        record_count=len(table.rows), table=table,
        fields=O.VerificationFields(fields=tuple(
            O.VerificationField(field=f, column=c, precision=p, zero_threshold=p)
            for f, c, p in fields)))


def document(doc: ir.Export, verification: tuple[list, list] | None = None,
             version: str = "") -> O.Document:
    """The PMML document of ``doc`` as the object model; ``verification`` = (fields, rows)
    for ModelVerification."""
    w = _Writer(doc)
    model = w.model(doc.model)
    if getattr(doc.model, "function", None) == "clustering":
        target = None
    elif doc.classes:
        target = _data_field(doc.target, "categorical", doc.target_type, doc.classes)
    else:
        target = _data_field(doc.target, "continuous", doc.target_type)
    fields = ([target] if target is not None else []) + \
        [_input_field(f) for f in doc.inputs if f.name in w.fields_used]
    derived = [O.DerivedField(name=d.name, optype=d.optype, data_type=d.data_type,
                              expression=w.expr(d.expr)) for d in _needed(doc, w)]
    if verification is not None:
        vfields, rows = verification
        # inputs the model does not use are left out of the block: their fields and their
        # rows' cells (a cell no VerificationField names is bytes no engine reads)
        vfields = [(f, c, p) for f, c, p in vfields if p is not None or f in w.fields_used]
        columns = {c for _, c, _ in vfields}
        mv = model_verification(vfields, [{c: v for c, v in r.items() if c in columns}
                                          for r in rows])
        # ModelVerification ends a model element, except AnomalyDetectionModel (before its model)
        content = list(model.content)
        content.insert(len(content) - 1 if model.tag == "AnomalyDetectionModel"
                       else len(content), mv)
        model = replace(model, content=tuple(content))
    notes = "; ".join(doc.notes)
    return O.Document(
        header=O.Header(description=doc.description + (f". {notes}" if notes else ""),
                        application=O.Application(name="portmodel", version=version)),
        data_dictionary=O.DataDictionary(number_of_fields=len(fields), fields=tuple(fields)),
        transformation_dictionary=O.TransformationDictionary(derived_fields=tuple(derived))
        if derived else None,
        models=(model,))


def to_bytes(document_: O.Document) -> bytes:
    """The document's bytes, written by the object model's writer, one element per line
    without indentation: lines keep error messages' line numbers useful, while indentation
    would be a fifth of a deep tree's bytes (documents are meant to be no larger than
    sklearn2pmml's). (``to_lines``: tree bodies written as text, not built as elements.)"""
    return to_lines(document_)


def write(doc: ir.Export, verification: tuple[list, list] | None = None,
          version: str = "", budget: tuple[int, float] | None = None) -> bytes:
    """The PMML document's bytes; ``verification`` = (fields, rows) for ModelVerification.

    budget = (least rows, share): the ModelVerification block keeps its rows while it takes at
    most ``share`` of the bytes of the rest of the document, else as many of its first rows as
    fit (at least ``least rows``): a large model carries every row, a small one a few, so that
    the block does not outweigh the model it verifies."""
    built = document(doc, verification, version)
    data = to_bytes(built)
    if verification is None or budget is None:
        return data
    least, share = budget
    rows = verification[1]
    start, end = data.find(b"<ModelVerification"), data.find(b"</ModelVerification>")
    block = end - start
    if len(rows) <= least or block <= share * (len(data) - block):
        return data
    # the block's bytes: a fixed head (its fields) and about the same per row
    head = data.find(b"<row>", start) - start
    per_row = (block - head) / len(rows)
    fit = int((share * (len(data) - block) - head) // per_row)
    keep = max(least, min(len(rows), fit))
    mv = built.model.verification
    table = replace(mv.table, rows=mv.table.rows[:keep])
    model = built.model
    model = replace(model, content=tuple(
        replace(mv, record_count=keep, table=table) if c is mv else c for c in model.content))
    return to_bytes(replace(built, models=(model,)))


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
