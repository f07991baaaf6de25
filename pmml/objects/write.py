"""The writer: object model -> PMML 4.4 XML (lxml), valid against the shipped XSD when the
object model is (what the reader gives for a valid document is)."""
from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from lxml import etree

from .document import Document
from .models import MODEL_ATTRS, Model
from .nodes import Fragment, Node

PMML44_NS = "http://www.dmg.org/PMML-4_4"


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
        if not np.isfinite(value) or float(value).is_integer():
            return format_value(float(value))
        return str(value)
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


_INF = math.inf


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
        custom(parent)
        return
    spec = node.XML
    el = etree.SubElement(parent, spec.tag)
    _fill(node, el)


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
    root = etree.Element(f"{{{PMML44_NS}}}PMML", nsmap={None: PMML44_NS})
    root.set("version", "4.4")
    _fill(doc, root)
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and tag[:1] != "{":
            el.tag = f"{{{PMML44_NS}}}{tag.split(':')[-1]}"
    return root


def write(doc: Document) -> bytes:
    """The document as PMML 4.4 XML bytes (UTF-8, with an XML declaration)."""
    return etree.tostring(to_element(doc), xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)
