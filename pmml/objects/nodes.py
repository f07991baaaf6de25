"""The machinery every object-model class shares: how its attributes and children map to XML.

Each class is a frozen, slotted dataclass with a class-level ``XML`` spec: its tag, its
attributes (``Attr``: Python name, XML name, kind) and its children in schema order (``Child``).
The reader (``read.py``) and the writer (``write.py``) both walk these specs, so one table says
how a class is read and written. An attribute absent from the document is ``None`` (defaults are
applied by the consumers, so a document is written back as it was read). ``required`` marks
what portmodel cannot score without; some attributes the XSD requires (a DataField's optype
and dataType, a model's functionName, ...) have defaults portmodel has always applied, and stay
optional here so that ``load`` accepts what it accepted.

Every class keeps its source ``line`` (not compared: a written document has other lines), its
``Extension`` children (and any element the spec does not name) as ``Fragment`` values, and its
vendor ``x-`` attributes, so nothing is lost on the way back to XML.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

from lxml import etree

#: attribute kinds, read by ``portmodel.pmml.attributes``
TEXT, NUMBER, INTEGER, BOOLEAN, CHOICE, DATA_TYPE, OP_TYPE = (
    "text", "number", "integer", "boolean", "choice", "dataType", "optype")


@dataclass(frozen=True, slots=True)
class Attr:
    """One XML attribute of a class: its Python field, XML name, kind and whether required."""

    py: str
    xml: str
    kind: str = TEXT
    required: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Child:
    """Child elements of a class held in field ``py``: instances of ``types`` (classes or tag
    names kept as ``Fragment``); ``many`` gives a tuple, else one value or None."""

    py: str
    types: tuple[Any, ...]
    many: bool = False


@dataclass(frozen=True, slots=True)
class Spec:
    """How a class maps to one XML element."""

    tag: str
    attrs: tuple[Attr, ...] = ()
    children: tuple[Child, ...] = ()
    text: str | None = None            # field holding the element's text, if any
    extensions_last: bool = False      # Extension children after the others (<PMML>, models)
    cells: str | None = None           # field holding any child elements as (tag, text) pairs


def _canonical(el) -> tuple:
    """A comparable value of an element: tag, attributes, stripped text, children (with an
    explicit stack: fragments may nest deeper than Python's recursion limit)."""
    out: list = []
    stack: list[tuple[Any, list]] = [(el, out)]
    while stack:
        node, into = stack.pop()
        if not isinstance(node.tag, str):
            continue
        kids: list = []
        into.append((node.tag, tuple(sorted(node.attrib.items())),
                     (node.text or "").strip(), kids))
        for child in reversed(node):
            stack.append((child, kids))
    return _freeze(out[0])


def _freeze(item):
    # turn the nested lists into tuples, iteratively
    result: dict[int, tuple] = {}
    stack = [(item, False)]
    while stack:
        node, done = stack.pop()
        tag, attrs, text, kids = node
        if done:
            result[id(node)] = (tag, attrs, text, tuple(result.pop(id(k)) for k in reversed(kids)))
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids)
    return result[id(item)]


@dataclass(frozen=True, slots=True, eq=False)
class Fragment:
    """An XML element kept as it is (an Extension, or model content without a typed spec).

    Equality compares content (tag, attributes, stripped text, children), not identity or
    lines. The element belongs to the fragment: nothing may change it after reading.
    """

    element: Any
    _key: list = field(default_factory=list, repr=False)

    @property
    def tag(self) -> str:
        return self.element.tag

    @property
    def line(self) -> int | None:
        return self.element.sourceline

    def key(self) -> tuple:
        if not self._key:
            self._key.append(_canonical(self.element))
        return self._key[0]

    def __eq__(self, other) -> bool:
        return isinstance(other, Fragment) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return f"Fragment(<{self.tag}> line {self.line})"

    def to_xml(self) -> bytes:
        return etree.tostring(self.element)


class Node:
    """Base of the object-model classes (a mixin: the subclasses are slotted dataclasses)."""

    __slots__ = ()
    XML: ClassVar[Spec]

    def children(self) -> Iterator["Node"]:
        """The typed child nodes, in schema order."""
        for c in self.XML.children:
            value = getattr(self, c.py)
            if value is None:
                continue
            for v in (value if c.many else (value,)):
                if isinstance(v, Node):
                    yield v

    def walk(self) -> Iterator["Node"]:
        """This node and every typed node below it, depth first (iterative)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


def line_field():
    """The ``line`` field: the element's source line, not compared."""
    return field(default=None, compare=False, repr=False)
