"""What the typed model bodies share: the fields a body part names (its nodes' ``REFS``)."""
from __future__ import annotations

from .expressions import own_references
from .nodes import Node


def body_fields(node: Node) -> tuple[str, ...]:
    """Every field node and the nodes below it name (``REFS``), each once, in document
    order."""
    seen: dict[str, None] = {}
    for n in node.walk():
        if getattr(n, "REFS", ()):
            for _, name in own_references(n):
                seen.setdefault(name, None)
    return tuple(seen)
