"""Where a part of a document is: the element name and source line of an lxml element, an
object-model node (``.XML.tag``, ``.line``), a ``Model`` (``.tag``) or a ``Fragment``, so that
load-time errors name the element and line whichever of them the compiler holds."""
from __future__ import annotations

from typing import Any


def tag_of(item: Any) -> str:
    """The element name of an element, a typed node, a Model or a Fragment."""
    tag = getattr(item, "tag", None)
    if isinstance(tag, str):
        return tag
    spec = getattr(type(item), "XML", None)
    if spec is not None:
        return spec.tag
    return "element"          # (an lxml comment or processing instruction)


def line_of(item: Any) -> int | None:
    """The source line of an element (``sourceline``) or of a node read from one (``line``)."""
    line = getattr(item, "line", None)
    if line is None:
        line = getattr(item, "sourceline", None)
    return line


def where(item: Any) -> dict:
    """``line=`` and ``element=`` keywords of a ``DocumentError`` for item (None: neither)."""
    if item is None:
        return {"line": None, "element": None}
    return {"line": line_of(item), "element": tag_of(item)}
