"""Helpers the PMML writer shares with the per-model converters: number text, the object-model
``Model`` of an exported model, and the elements of model bodies that have no typed class in the
PMML object model yet (tree nodes, SVM, naive Bayes, clustering, k-NN, anomaly detection
bodies), kept there as ``Fragment`` values.

Everything the object model types (header, dictionary, transformations, expressions,
predicates, mining schema, output, targets, segmentation, regression tables, neural network
bodies, ModelVerification, inline tables, arrays) is built as object-model values and written by
its writer (``portmodel.pmml.objects.write``); inside a fragment body such a part is written by
that same writer too (``typed``). Number text comes from one place, the object writer's
``format_value``.
"""
from __future__ import annotations

from typing import Any, Sequence

from lxml import etree

from portmodel.pmml import objects as O
from portmodel.pmml.objects.write import _build, format_value


def num(v: Any) -> str:
    """A number as PMML text (the object writer's ``format_value``: shortest exact form)."""
    return format_value(v)


def text(v: Any) -> str:
    """A category, value or number as PMML text."""
    return v if type(v) is str else format_value(v)


def opt(v: Any) -> str | None:
    """``text(v)``, or None for None (an attribute left out)."""
    return None if v is None else text(v)


# ---------------------------------------------------------------- the model element
def model(tag: str, function: str | None, attrs: dict[str, Any] | None, *content: Any,
          vendor: Sequence[tuple[str, str]] = ()) -> O.Model:
    """A model element of the object model: its tag, functionName, its other attributes
    (None values left out) and its children in schema order; lxml elements (body parts without
    a typed class) become ``Fragment`` values, None entries are left out."""
    attributes = tuple((k, text(v)) for k, v in (attrs or {}).items() if v is not None)
    if any(isinstance(c, etree._Element) for c in content):
        # body parts built as elements are read into their typed classes (the reader is the
        # one place that types a body; the model element is there for the parts that read
        # attributes of their model, as a TreeModel's nodes do)
        holder = etree.Element(tag, dict(attributes))
        content = tuple(_typed_part(c, holder) if isinstance(c, etree._Element) else c
                        for c in content)
    return O.Model(
        tag=tag, function_name=function, attributes=attributes,
        content=tuple(c for c in content if c is not None), vendor=tuple(vendor))


_BODY_CLASSES: dict[str, type] = {}


def _typed_part(part: etree._Element, holder: etree._Element) -> Any:
    from portmodel.pmml.objects.models import model_child_classes
    from portmodel.pmml.objects.read import read_node
    if not _BODY_CLASSES:
        _BODY_CLASSES.update(model_child_classes())
    cls = _BODY_CLASSES.get(part.tag)
    if cls is None:
        return O.Fragment(part)
    holder.append(part)
    try:
        return read_node(cls, part)
    finally:
        holder.remove(part)


# ---------------------------------------------------------------- fragment bodies
def el(tag: str, attrs: dict[str, Any] | None = None, *children: Any) -> etree._Element:
    """One element of a fragment body; attributes that are None are left out; typed
    object-model children are written by the object writer. Elements are built without a
    namespace (much faster in lxml); the object writer moves them into the PMML namespace."""
    e = etree.Element(tag, {k: v if type(v) is str else text(v)
                            for k, v in attrs.items() if v is not None} if attrs else None)
    if children:
        e.extend([typed(c) if isinstance(c, O.Node) else c for c in children if c is not None])
    return e


_holder = etree.Element


def typed(node: O.Node) -> etree._Element:
    """A typed object-model value as an element, written by the object model's writer (for a
    typed part inside a body that is still a fragment: a predicate, an Array, a FieldRef, an
    InlineTable)."""
    holder = _holder("_")
    _build(node, holder)
    return holder[0]


def array(values: Sequence[Any], type_: str = "real") -> O.Array:
    return O.Array(type=type_, n=len(values), text=" ".join(text(v) for v in values))


def inline_table(rows: Sequence[dict[str, Any]]) -> O.InlineTable:
    """An InlineTable; cells whose value is None are left out."""
    return O.InlineTable(rows=tuple(
        O.Row(cells=tuple((k, text(v)) for k, v in r.items() if v is not None)) for r in rows))


# ---------------------------------------------------------------- predicates
def simple_set_predicate(field: str, operator: str, values: Sequence[Any]) -> O.SimpleSetPredicate:
    strings = any(isinstance(v, str) for v in values)
    return O.SimpleSetPredicate(field=field, boolean_operator=operator, array=O.Array(
        type="string" if strings else "real", n=len(values),
        text=" ".join('"' + str(v).replace('"', '\\"') + '"' if isinstance(v, str) else text(v)
                      for v in values)))
