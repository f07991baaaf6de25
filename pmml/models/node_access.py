"""Reading typed object-model nodes at compile time the way element code read elements.

``where(node)`` gives ``Ctx.require`` and the ``attributes`` readers what they use of an
element (``tag``, ``sourceline``, ``get``), so an error about a body part names its tag and
line. ``model_attrs(model)`` does the same for a model's own attributes (``Model.attributes``
are text): ``attributes.number(model_attrs(spec), "offsetValue")`` is a ``DocumentError``
naming the model element, the attribute and the line when the text is not a number.
"""
from __future__ import annotations

from typing import Any

from ..objects.models import Model
from ..objects.nodes import Node


class Where:
    """An element's face of a node: tag, source line and (text) attributes."""

    __slots__ = ("tag", "sourceline", "_attrs")

    def __init__(self, tag: str, line: int | None, attrs: dict[str, str] | None = None):
        self.tag = tag
        self.sourceline = line
        self._attrs = attrs or {}

    def get(self, name: str, default: Any = None) -> Any:
        return self._attrs.get(name, default)


def where(node: Node) -> Where:
    """Tag and line of a typed node (for ``Ctx.require`` and ``DocumentError``)."""
    tag = node.tag if isinstance(node, Model) else node.XML.tag
    return Where(tag, node.line)


def model_attrs(model: Model) -> Where:
    """A model node's model-specific attributes, readable by ``portmodel.pmml.attributes``."""
    return Where(model.tag, model.line, dict(model.attributes))


def element_for(node: Node):
    """node written back as an lxml element whose elements carry the nodes' source lines: the
    bridge for compilers that still take elements (DerivedFields inside a model body compile
    through ``expressions.compile_expression``), so their errors name the document's lines."""
    from lxml import etree

    from ..objects.write import _build
    holder = etree.Element("holder")
    _build(node, holder)
    el = holder[0]
    _copy_lines(node, el)
    return el


def _copy_lines(node: Node, el) -> None:
    stack = [(node, el)]
    while stack:
        n, e = stack.pop()
        if n.line is not None:
            e.sourceline = n.line
        spec = n.XML
        kids = [k for k in e if isinstance(k.tag, str)]
        at = 0 if spec.extensions_last else len(n.extensions)
        if spec.cells is not None:
            continue
        for c in spec.children:
            value = getattr(n, c.py)
            if value is None:
                continue
            for v in (value if c.many else (value,)):
                if at < len(kids) and isinstance(v, Node) and not isinstance(v, Model):
                    stack.append((v, kids[at]))
                at += 1
