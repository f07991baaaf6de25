"""TreeModel's body: its Node hierarchy as flat, parallel tuples (``TreeNodes``).

A tree may hold tens of thousands of Nodes (a random forest, hundreds of thousands) and nest
thousands deep, so it is not a tree of frozen objects: node i is the i-th <Node> in document
order (node 0 the root), ``parent[i]`` its parent (-1 for the root), and each Node attribute is
a tuple over the nodes. Predicates are typed: a plain <SimplePredicate> (field, operator,
value, nothing else) is held in the ``pred_*`` tuples, <True/> and <False/> as the operator
"True" / "False"; any other predicate (compound, set, or a simple one with extensions) is an
``objects.Predicate`` in ``predicates`` (node -> predicate, sparse). ScoreDistributions are flat
too (``sd_node`` names the node of each). Extensions, Partition, embedded models and anything
else a Node holds are kept as fragments (``extras``), written back in schema order.

``read_element`` reads the elements in one iterative pass (no recursion), the numbers then
parsed in bulk (each distinct text once, as the typed attribute helpers parse them), so a bad
value is still a ``DocumentError`` naming element, attribute and line;
``write_element`` writes the Node elements back (iteratively too). The TreeModel attributes
that govern the nodes (missingValueStrategy, noTrueChildStrategy, splitCharacteristic,
missingValuePenalty) are read, typed, from the model element with the body: they stay in the
``Model``'s attributes as text too, which is what is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator

from portmodel.errors import DocumentError

from .nodes import CHOICE, NUMBER, TEXT, Attr, Fragment, Node, Spec, line_field
from .predicates import (PREDICATE_CLASSES, SIMPLE_OPERATORS, FalsePredicate, Predicate,
                         SimplePredicate, TruePredicate)

MISSING_VALUE_STRATEGIES = ("lastPrediction", "nullPrediction", "defaultChild",
                            "weightedConfidence", "aggregateNodes", "none")
NO_TRUE_CHILD_STRATEGIES = ("returnNullPrediction", "returnLastPrediction")
SPLIT_CHARACTERISTICS = ("binarySplit", "multiSplit")
#: the TreeModel attributes typed with its body
TREE_MODEL_ATTRS = (
    Attr("missing_value_strategy", "missingValueStrategy", CHOICE,
         options=MISSING_VALUE_STRATEGIES),
    Attr("missing_value_penalty", "missingValuePenalty", NUMBER),
    Attr("no_true_child_strategy", "noTrueChildStrategy", CHOICE,
         options=NO_TRUE_CHILD_STRATEGIES),
    Attr("split_characteristic", "splitCharacteristic", CHOICE, options=SPLIT_CHARACTERISTICS))
NODE_ATTRS = (Attr("id", "id"), Attr("score", "score"), Attr("record_count", "recordCount", NUMBER),
              Attr("default_child", "defaultChild"))
SD_ATTRS = (Attr("value", "value"), Attr("record_count", "recordCount", NUMBER),
            Attr("confidence", "confidence", NUMBER),
            Attr("probability", "probability", NUMBER))
#: Node children kept as fragments, by where they are written: before the predicate, after it
#: (before the ScoreDistributions), after the child Nodes
_HEAD, _AFTER_PREDICATE = ("Extension",), ("Partition",)
_SIMPLE_OPS = frozenset(SIMPLE_OPERATORS)
_PRED_TAGS = frozenset(PREDICATE_CLASSES)
_NO_VALUE = ("isMissing", "isNotMissing")


@dataclass(frozen=True, slots=True)
class TreeNodes(Node):
    """The Node hierarchy of a TreeModel (see the module docstring)."""

    # the TreeModel's node attributes, typed (None where absent)
    missing_value_strategy: str | None = None
    missing_value_penalty: float | None = None
    no_true_child_strategy: str | None = None
    split_characteristic: str | None = None
    # one entry per node, in document order
    parent: tuple[int, ...] = ()
    id: tuple[str | None, ...] = ()
    score: tuple[str | None, ...] = ()
    record_count: tuple[float | None, ...] = ()
    default_child: tuple[str | None, ...] = ()
    pred_op: tuple[str | None, ...] = ()       # simple operator, "True", "False"; else None
    pred_field: tuple[str | None, ...] = ()
    pred_value: tuple[str | None, ...] = ()
    predicates: tuple[tuple[int, Predicate], ...] = ()      # the other predicates, by node
    # one entry per ScoreDistribution, in document order
    sd_node: tuple[int, ...] = ()
    sd_value: tuple[str | None, ...] = ()
    sd_record_count: tuple[float | None, ...] = ()
    sd_confidence: tuple[float | None, ...] = ()
    sd_probability: tuple[float | None, ...] = ()
    # kept, sparse: node -> fragments / x- attributes; ScoreDistribution -> the same
    extras: tuple[tuple[int, tuple[Fragment, ...]], ...] = ()
    vendor_attrs: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = ()
    sd_extras: tuple[tuple[int, tuple[Fragment, ...]], ...] = ()
    sd_vendor: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = ()
    lines: tuple[int | None, ...] = field(default=(), compare=False, repr=False)
    pred_lines: tuple[int | None, ...] = field(default=(), compare=False, repr=False)
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Node")

    def __len__(self) -> int:
        return len(self.parent)

    def __repr__(self) -> str:
        return f"TreeNodes({len(self.parent)} nodes, line {self.line})"

    def children(self) -> Iterator[Node]:
        """The typed predicates held as objects (the others are in the arrays)."""
        return (p for _, p in self.predicates)

    def predicate(self, i: int) -> Predicate | None:
        """Node i's predicate as an ``objects.Predicate`` (None: the Node has none)."""
        op = self.pred_op[i]
        line = self.pred_lines[i] if self.pred_lines else None
        if op is None:
            return dict(self.predicates).get(i)
        if op == "True":
            return TruePredicate(line=line)
        if op == "False":
            return FalsePredicate(line=line)
        return SimplePredicate(self.pred_field[i], op, self.pred_value[i], line=line)

    def fields(self) -> tuple[str, ...]:
        """The fields the predicates name, each once, in order of first use."""
        out = dict.fromkeys(self.pred_field)
        out.pop(None, None)
        for _, p in self.predicates:
            out.update(dict.fromkeys(p.fields()))
        return tuple(out)

    # ------------------------------------------------------------------ reading
    @classmethod
    def read_element(cls, root) -> "TreeNodes":
        """The root <Node> element (and every Node below it) read in one iterative pass."""
        from .read import attribute, read_node
        model_el = root.getparent()
        model_kw: dict[str, Any] = {}
        if model_el is not None:
            get = model_el.get
            for a in TREE_MODEL_ATTRS:
                if get(a.xml) is not None:
                    model_kw[a.py] = attribute(model_el, a)
        # per node: parent, line, its attribute list, predicate operator, field, value, line
        rows: list[tuple] = []
        sd_node: list[int] = []      # per ScoreDistribution: its node, its attribute list
        sd_items: list[list] = []
        others: list = []
        extras: list = []
        sd_extras: list = []
        # the Nodes to read, and the index of each one's parent (two stacks: no pair per Node)
        stack, ups = [root], [-1]
        pop, pop_up, add = stack.pop, ups.pop, rows.append
        add_sd, add_sd_items = sd_node.append, sd_items.append
        while stack:
            el = pop()
            up = pop_up()
            i = len(rows)
            kids = None
            pel = ptag = None
            extra = None
            for c in el:
                tag = c.tag
                if tag == "Node":
                    if kids is None:
                        kids = [c]
                    else:
                        kids.append(c)
                elif tag == "ScoreDistribution":
                    if len(c):
                        frags = tuple(Fragment(x) for x in c if isinstance(x.tag, str))
                        if frags:
                            sd_extras.append((len(sd_node), frags))
                    add_sd(i)
                    add_sd_items(c.items())
                elif pel is None and tag in _PRED_TAGS:
                    pel, ptag = c, tag
                elif isinstance(tag, str):
                    if extra is None:
                        extra = [Fragment(c)]
                    else:
                        extra.append(Fragment(c))
            if extra is not None:
                extras.append((i, tuple(extra)))
            if pel is None:
                add((up, el.sourceline, el.items(), None, None, None, None))
            else:
                pa = pel.items()
                if ptag == "SimplePredicate":
                    if len(pa) == 3 and pa[0][0] == "field" and pa[1][0] == "operator" \
                            and pa[2][0] == "value":
                        fname, op, value = pa[0][1], pa[1][1], pa[2][1]
                    else:
                        pget = dict(pa).get
                        op = pget("operator")
                        fname = pget("field")
                        value = pget("value")
                    if op in _SIMPLE_OPS and fname and len(pa) == 2 + (value is not None) \
                            and not len(pel):
                        add((up, el.sourceline, el.items(), op, fname, value, pel.sourceline))
                    else:
                        ptag = None
                elif (ptag == "True" or ptag == "False") and not len(pa) and not len(pel):
                    add((up, el.sourceline, el.items(), ptag, None, None, pel.sourceline))
                else:
                    ptag = None
                if ptag is None:
                    others.append((i, read_node(PREDICATE_CLASSES[pel.tag], pel)))
                    add((up, el.sourceline, el.items(), None, None, None, pel.sourceline))
            if kids is not None:         # (reversed: the first child is read next)
                kids.reverse()
                stack.extend(kids)
                ups.extend([i] * len(kids))
        parent, lines, node_items, ops, pfields, pvalues, plines = zip(*rows)
        scores, rcs, ids, dcs, vendors = _attribute_columns(node_items, _NODE_NAMES)
        sd_cols = [tuple(sd_node), *_attribute_columns(sd_items, _SD_NAMES)]
        sd_vendor = sd_cols.pop()
        # the numbers (kept as text above), each distinct text parsed once, all at once
        try:
            value_of = _parse_numbers((rcs, *sd_cols[2:]))
        except ValueError:
            _raise_bad_number(root)
            raise
        rcs = tuple(map(value_of, rcs))
        for k in (2, 3, 4):
            if sd_cols[k].count(None) != len(sd_cols[k]):     # (an absent attribute: as is)
                sd_cols[k] = tuple(map(value_of, sd_cols[k]))
        return cls(parent=parent, id=ids, score=scores, record_count=rcs, default_child=dcs,
                   pred_op=ops, pred_field=pfields, pred_value=pvalues,
                   predicates=tuple(others), sd_node=sd_cols[0], sd_value=sd_cols[1],
                   sd_record_count=sd_cols[2], sd_confidence=sd_cols[3],
                   sd_probability=sd_cols[4], extras=tuple(extras),
                   vendor_attrs=vendors, sd_extras=tuple(sd_extras),
                   sd_vendor=sd_vendor, lines=lines, pred_lines=plines,
                   line=root.sourceline, **model_kw)

    # ------------------------------------------------------------------ writing
    def write_element(self, parent_el) -> None:
        """Append the root <Node> (and every Node below it) to parent_el (iteratively)."""
        from lxml import etree
        from .write import _append_fragment, _build, format_value
        n = len(self.parent)
        els: list = [None] * n
        others = dict(self.predicates)
        extras = dict(self.extras)
        vendors = dict(self.vendor_attrs)
        sd_extras = dict(self.sd_extras)
        sd_vendor = dict(self.sd_vendor)
        sds: dict[int, list[int]] = {}
        for j, i in enumerate(self.sd_node):
            sds.setdefault(i, []).append(j)
        tails: list = []
        sub = etree.SubElement
        for i in range(n):
            up = self.parent[i]
            el = els[i] = sub(parent_el if up < 0 else els[up], "Node")
            for name, values in (("id", self.id), ("score", self.score),
                                 ("recordCount", self.record_count),
                                 ("defaultChild", self.default_child)):
                v = values[i]
                if v is not None:
                    el.set(name, format_value(v))
            for k, v in vendors.get(i, ()):
                el.set(k, v)
            frags = extras.get(i, ())
            for f in frags:
                if f.tag in _HEAD:
                    _append_fragment(el, f)
            op = self.pred_op[i]
            if op is None:
                p = others.get(i)
                if p is not None:
                    _build(p, el)
            elif op == "True" or op == "False":
                sub(el, op)
            else:
                p = sub(el, "SimplePredicate")
                p.set("field", self.pred_field[i])
                p.set("operator", op)
                if self.pred_value[i] is not None:
                    p.set("value", self.pred_value[i])
            for f in frags:
                if f.tag in _AFTER_PREDICATE:
                    _append_fragment(el, f)
            for j in sds.get(i, ()):
                s = sub(el, "ScoreDistribution")
                for name, values in (("value", self.sd_value),
                                     ("recordCount", self.sd_record_count),
                                     ("confidence", self.sd_confidence),
                                     ("probability", self.sd_probability)):
                    v = values[j]
                    if v is not None:
                        s.set(name, format_value(v))
                for k, v in sd_vendor.get(j, ()):
                    s.set(k, v)
                for f in sd_extras.get(j, ()):
                    _append_fragment(s, f)
            tail = [f for f in frags if f.tag not in _HEAD and f.tag not in _AFTER_PREDICATE]
            if tail:
                tails.append((el, tail))
        for el, tail in tails:            # (after the child Nodes: embedded models)
            for f in tail:
                _append_fragment(el, f)


#: the attributes of a Node and of a ScoreDistribution, in the order ``_attribute_columns``
#: takes them: first the two that sklearn2pmml and the like write, in the order they write them
_NODE_NAMES = ("score", "recordCount", "id", "defaultChild")
_SD_NAMES = ("value", "recordCount", "confidence", "probability")


def _attribute_columns(items, names: tuple[str, str, str, str]) -> tuple:
    """Four columns (tuples) from the attribute lists (``el.items()``) of many elements: each
    element's value of each of the four names (None where absent); and, fifth, the x- vendor
    attributes of the elements that hold more than those, as (position, ((name, value), ...)).

    The common layouts (no attribute, or just the first two names in that order) take no
    lookup per name; the others are read through a dict.
    """
    first, second, third, fourth = names
    n = len(items)
    if n and set(map(len, items)) == {2}:    # (all of two: split at C speed if all common)
        one, two = zip(*items)
        k1, v1 = zip(*one)
        k2, v2 = zip(*two)
        if set(k1) == {first} and set(k2) == {second}:
            return v1, v2, (None,) * n, (None,) * n, ()
    c1: list = [None] * n
    c2: list = [None] * n
    c3: list = [None] * n
    c4: list = [None] * n
    vendors: list = []
    for j, a in enumerate(items):
        if not a:
            continue
        if len(a) == 2:
            (k1, v1), (k2, v2) = a
            if k1 == first and k2 == second:
                c1[j] = v1
                c2[j] = v2
                continue
        get = dict(a).get
        v1, v2, v3, v4 = c1[j], c2[j], c3[j], c4[j] = (get(first), get(second), get(third),
                                                      get(fourth))
        if len(a) > (v1 is not None) + (v2 is not None) + (v3 is not None) + (v4 is not None):
            v = tuple((k, x) for k, x in a if k[:2] == "x-")    # (others: x- ones kept)
            if v:
                vendors.append((j, v))
    return tuple(c1), tuple(c2), tuple(c3), tuple(c4), tuple(vendors)


#: characters of the texts Python's ``float`` reads but ``attributes.parse_number`` reads
#: otherwise or not at all (digit group underscores; nan, inf, infinity in any case)
_NOT_PLAIN = "_nNiI"


def _parse_numbers(columns) -> Callable[[str | None], float | None]:
    """text -> number for every text in columns (None -> None), as ``parse_number`` would
    read them one by one (which raises a ValueError for a text that is not a number).

    The distinct texts are converted by ``float`` at once when all are ASCII without any of
    ``_NOT_PLAIN``: then ``float`` takes exactly the texts ``parse_number``'s pattern takes,
    with the same value (optional blanks, sign, digits with an optional point, an optional
    exponent). Anything else (INF, NaN, non-ASCII digits, an error) is left to
    ``parse_number``."""
    from ..attributes import parse_number
    texts: dict = {}
    for col in columns:
        if col.count(None) != len(col):      # (a column of an attribute no element has: none)
            texts.update(dict.fromkeys(col))
    texts.pop(None, None)
    values = None
    if texts:
        joined = "\x00".join(texts)
        if joined.isascii() and not any(c in joined for c in _NOT_PLAIN):
            try:
                values = dict(zip(texts, map(float, texts)))
            except ValueError:
                values = None
    if values is None:
        values = {t: parse_number(t) for t in texts}
    values[None] = None
    return values.__getitem__


def _raise_bad_number(root) -> None:
    """The DocumentError (element, attribute, line) for the first number attribute of the
    Nodes and ScoreDistributions under root (in document order) that is not a number."""
    from ..attributes import parse_number
    from .read import attribute
    stack = [root]
    while stack:
        el = stack.pop()
        todo = [(el, NODE_ATTRS)] + [(c, SD_ATTRS) for c in el if c.tag == "ScoreDistribution"]
        for x, attrs in todo:
            for a in attrs:
                text = x.get(a.xml)
                if a.kind == NUMBER and text is not None:
                    try:
                        parse_number(text)
                    except ValueError:
                        attribute(x, a)          # (raises)
        stack.extend(reversed([c for c in el if c.tag == "Node"]))
assert all(a.kind in (TEXT, NUMBER) for a in NODE_ATTRS + SD_ATTRS)
