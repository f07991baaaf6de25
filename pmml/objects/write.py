"""The writer: object model -> PMML 4.4 XML (lxml), valid against the shipped XSD when the
object model is (what the reader gives for a valid document is)."""
from __future__ import annotations

import copy
import math
import uuid
from contextvars import ContextVar
from typing import Any

import numpy as np
from lxml import etree

from .document import Document
from .models import MODEL_ATTRS, Model
from .nodes import Fragment, Node
from .tree import TreeNodes
from .tree_text import append_nodes, nodes_text

#: while ``to_lines`` builds a document: (placeholder tag, the texts of the tree bodies it
#: stands for, in document order)
_SPLICE: ContextVar[tuple[str, list[str]] | None] = ContextVar("_SPLICE", default=None)

PMML44_NS = "http://www.dmg.org/PMML-4_4"
_ROOT_TAG = f"{{{PMML44_NS}}}PMML"


def format_value(value: Any) -> str:
    """An attribute value as PMML text (xs:boolean, xs:double with INF/-INF/NaN).

    Numbers get their shortest text that reads back to the same value: a whole float below
    1e16 without a fraction ("1", not "1.0"; "-0" keeps the sign), other floats as ``repr``,
    numpy float32 values in float32's shortest form, numpy integers as integers."""
    t = type(value)
    if t is str:
        return value
    if t is float or isinstance(value, float):     # also numpy float64
        value = float(value)
        if value.is_integer():
            if abs(value) < 1e16:
                return str(int(value)) if value or math.copysign(1.0, value) > 0 else "-0"
        elif value != value:
            return "NaN"
        elif value in (_INF, -_INF):
            return "INF" if value > 0 else "-INF"
        return repr(value)
    if t is int:
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, np.floating):  # float32: its own shortest round-trip text
        f = float(value)
        if not math.isfinite(f) or f.is_integer():
            return format_value(f)
        return str(value)
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


_INF = math.inf
#: types whose equal values have one text (unlike floats: 0.0 and -0.0)
_ONE_TEXT_PER_VALUE = (int, bool, str, np.int64, np.int32, np.bool_, np.str_)


def format_values(values: Any) -> list[str]:
    """``format_value`` of each of many values (a sequence or a numpy array), the same texts
    computed in bulk: the whole numbers and the other finite numbers of a float64 or float32
    column sorted out by numpy, so that each number is one conversion (a tree's thresholds,
    scores and counts: tens of thousands of numbers in a forest). A column of one other type
    (integers, labels) is formatted once per distinct value; mixed ones one by one."""
    if isinstance(values, np.ndarray):
        arr = values
    else:
        types = set(map(type, values))
        if types == {float}:
            arr = np.array(values, np.float64)
        elif len(types) == 1 and next(iter(types)) in (np.float32, np.float64):
            arr = np.array(values)
        elif len(types) == 1 and next(iter(types)) in _ONE_TEXT_PER_VALUE:
            texts = {v: format_value(v) for v in set(values)}
            return list(map(texts.__getitem__, values))
        else:
            return [format_value(v) for v in values]
    if arr.dtype not in (np.float64, np.float32) or arr.ndim != 1:
        return [format_value(v) for v in arr.ravel()]
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(arr)
        whole = finite & (arr == np.trunc(arr))
    small = whole & (np.abs(arr) < 1e16)
    if small.all():
        out = list(map(str, arr.astype(np.int64).tolist()))
    else:
        out = np.empty(len(arr), object)
        out[small] = list(map(str, arr[small].astype(np.int64).tolist()))
        other = finite & ~whole                 # repr / float32's own shortest text
        out[other] = list(map(repr, arr[other].tolist())) if arr.dtype == np.float64 else \
            list(map(str, arr[other]))
        rest = ~small & ~other                  # INF, NaN, whole beyond 1e16
        if rest.any():
            out[rest] = [format_value(v) for v in arr[rest]]
        out = out.tolist()
    for i in np.flatnonzero(small & (arr == 0) & np.signbit(arr)).tolist():
        out[i] = "-0"
    return out


def _append_fragment(parent, frag: Fragment) -> None:
    el = copy.deepcopy(frag.element)
    el.tail = None
    parent.append(el)


def _build(node: Any, parent) -> None:
    if isinstance(node, Fragment):
        _append_fragment(parent, node)
        return
    if isinstance(node, Model):
        _build_model(node, parent)
        return
    custom = getattr(node, "write_element", None)
    if custom is not None:           # a class with its own (flat) writer: TreeNodes
        if type(node) is TreeNodes:  # in bulk, from their text (``tree_text``)
            splice = _SPLICE.get()
            if splice is not None:   # (``to_lines``: the text itself goes in the bytes)
                text = nodes_text(node, lines=True)
                if text is not None:
                    etree.SubElement(parent, splice[0])
                    splice[1].append(text)
                    return
            if append_nodes(node, parent, _namespace_of(parent)):
                return
        custom(parent)
        return
    spec = node.XML
    el = etree.SubElement(parent, spec.tag)
    _fill(node, el)


def _namespace_of(el) -> str | None:
    """The namespace elements built under ``el`` end in: PMML 4.4's in a document
    ``to_element`` builds (which moves every element there at the end), none elsewhere."""
    return PMML44_NS if el.getroottree().getroot().tag == _ROOT_TAG else None


def _fill(node: Node, el) -> None:
    spec = node.XML
    for a in spec.attrs:
        value = getattr(node, a.py)
        if value is not None:
            el.set(a.xml, format_value(value))
    for k, v in node.vendor:
        el.set(k, v)
    if not spec.extensions_last:
        for f in node.extensions:
            _append_fragment(el, f)
    if spec.text is not None:
        el.text = getattr(node, spec.text)
    if spec.cells is not None:
        for tag, text in getattr(node, spec.cells):
            etree.SubElement(el, tag).text = text
    for c in spec.children:
        value = getattr(node, c.py)
        if value is None:
            continue
        for v in (value if c.many else (value,)):
            _build(v, el)
    if spec.extensions_last:
        for f in node.extensions:
            _append_fragment(el, f)


def _build_model(model: Model, parent) -> None:
    el = etree.SubElement(parent, model.tag)
    for a in MODEL_ATTRS:
        value = getattr(model, a.py)
        if value is not None:
            el.set(a.xml, format_value(value))
    for k, v in model.attributes + model.vendor:
        el.set(k, v)
    for c in model.content:
        _build(c, el)


def to_element(doc: Document):
    """The document as a PMML 4.4 element tree (in the PMML 4.4 namespace)."""
    root = etree.Element(_ROOT_TAG, nsmap={None: PMML44_NS})
    root.set("version", "4.4")
    _fill(doc, root)
    for el in root.iter("{}*"):      # (the elements in no namespace yet, found by lxml)
        el.tag = f"{{{PMML44_NS}}}{el.tag.split(':')[-1]}"
    return root


def to_lines(doc: Document) -> bytes:
    """The document as PMML 4.4 XML bytes (UTF-8, with an XML declaration), one element per
    line without indentation: ``etree.indent(to_element(doc), space="")`` written by
    ``etree.tostring``, the same bytes, but the tree bodies ``tree_text`` takes are never built
    as elements: a placeholder element stands for each in the tree lxml writes, and their text
    (one element per line too) replaces the placeholders in the bytes."""
    token = f"_{uuid.uuid4().hex}"
    bodies: list[str] = []
    reset = _SPLICE.set((token, bodies))
    try:
        root = to_element(doc)
    finally:
        _SPLICE.reset(reset)
    etree.indent(root, space="")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if not bodies:
        return data
    parts = data.split(f"<{token}/>".encode())
    if len(parts) != len(bodies) + 1:        # (cannot be: one placeholder per body)
        raise AssertionError("tree body placeholders lost")
    out = [parts[0]]
    for body, rest in zip(bodies, parts[1:]):
        out.append(body.encode("utf-8"))
        out.append(rest)
    return b"".join(out)


def write(doc: Document) -> bytes:
    """The document as PMML 4.4 XML bytes (UTF-8, with an XML declaration)."""
    return etree.tostring(to_element(doc), xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)
