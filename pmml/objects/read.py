"""The reader: an upgraded PMML element tree (see ``dialects.upgrade``) -> the object model.

Every attribute goes through ``portmodel.pmml.attributes``: a value that is not of its type, or
a required attribute that is absent, is a ``DocumentError`` naming the element, the attribute
and the line. The cost is one visit of each element the object model types; model bodies
without a typed spec are kept as fragments (a reference, no copy). A class may read its
element itself (``read_element``: a TreeModel's nodes, read flat in one iterative pass).
"""
from __future__ import annotations

from typing import Any

from portmodel.errors import DocumentError, UnsupportedError

from .. import attributes
from .document import Document
from .models import MODEL_ATTRS, MODEL_TAGS, Model, model_child_classes, schema_order
from .nodes import (BOOLEAN, CHOICE, DATA_TYPE, INTEGER, NUMBER, OP_TYPE, TEXT, Attr, Fragment,
                    Node)

#: tag -> (field, class, many) of a model element's typed children
_MODEL_CHILDREN: dict[str, tuple[str, Any, bool]] = {}
#: element -> node of the model parts the compilers still reach by element (see ``Ctx.node``),
#: class -> {tag: (field, class or None for a fragment, many)}
_DISPATCH: dict[type, dict[str, tuple[str, Any, bool]]] = {}


def _dispatch(cls) -> dict[str, tuple[str, Any, bool]]:
    table = _DISPATCH.get(cls)
    if table is None:
        table = {}
        for c in cls.XML.children:
            for t in c.types:
                if isinstance(t, str):
                    table[t] = (c.py, None, c.many)
                elif t is Model:
                    for tag in MODEL_TAGS:
                        table[tag] = (c.py, Model, c.many)
                else:
                    table[t.XML.tag] = (c.py, t, c.many)
        _DISPATCH[cls] = table
    return table


def attribute(el, a: Attr) -> Any:
    """The value of one attribute, read by its kind."""
    kind = a.kind
    if kind == TEXT:
        if a.required and el.get(a.xml) is None:
            return attributes.text(el, a.xml, required=True)
        return el.get(a.xml)
    if kind == NUMBER:
        return attributes.number(el, a.xml, required=a.required)
    if kind == INTEGER:
        return attributes.integer(el, a.xml, required=a.required)
    if kind == BOOLEAN:
        return attributes.boolean(el, a.xml, required=a.required)
    if kind == CHOICE:
        value = el.get(a.xml)
        if value is not None and value[:2] == "x-" and value not in a.options:
            # a vendor's value of a standard enumeration: a document portmodel cannot score,
            # not a broken one
            raise UnsupportedError(f"attribute {a.xml}={value!r} (a vendor extension value)",
                                   line=el.sourceline, element=el.tag)
        return attributes.choice(el, a.xml, a.options, required=a.required)
    if kind == DATA_TYPE:
        return attributes.data_type(el, a.xml, required=a.required)
    if kind == OP_TYPE:
        return attributes.choice(el, a.xml, attributes.OP_TYPES, required=a.required)
    raise AssertionError(kind)


#: class -> (XML name -> Attr, the required Attrs, {field: None} for every attribute field)
_ATTRS: dict[type, tuple[dict[str, Attr], tuple[Attr, ...], dict[str, None]]] = {}


def _attr_table(cls):
    table = _ATTRS.get(cls)
    if table is None:
        attrs = cls.XML.attrs if cls is not Model else MODEL_ATTRS
        table = _ATTRS[cls] = ({a.xml: a for a in attrs}, tuple(a for a in attrs if a.required),
                               dict.fromkeys(a.py for a in attrs))
    return table


def read_attributes(cls, el) -> dict[str, Any]:
    """The typed attributes of el as cls declares them (absent ones None); only attributes
    present are read, so a large document pays for what it holds."""
    by_xml, required, kw = _attr_table(cls)
    kw = dict(kw)
    attrib = el.attrib
    for a in required:
        if a.xml not in attrib:
            attribute(el, a)                 # raises: missing attribute
    for name, value in attrib.items():
        a = by_xml.get(name)
        if a is not None:
            kw[a.py] = value if a.kind == TEXT and (value or not a.required) else \
                attribute(el, a)
    return kw


def _vendor(el) -> tuple[tuple[str, str], ...]:
    attrib = el.attrib
    if not attrib:
        return ()
    return tuple((k, v) for k, v in attrib.items() if k[:2] == "x-")


def _read_children(el, table: dict) -> list[tuple[Any, Any]]:
    """(field, value) for each element child of el in document order: the field and typed
    node (or Fragment) that table (tag -> (field, class or None, many)) gives its tag, else
    (None, Fragment)."""
    out: list[tuple[Any, Any]] = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        slot = table.get(tag)
        if slot is None:
            out.append((None, Fragment(child)))
            continue
        sub = slot[1]
        if sub is None:
            out.append((slot, Fragment(child)))
            continue
        out.append((slot, read_node(sub, child)))
    return out


def read_node(cls, el) -> Node:
    """One element as an instance of cls (children read the same way)."""
    if cls is Model:
        return read_model(el)
    custom = getattr(cls, "read_element", None)
    if custom is not None:           # a class with its own (flat) reader: TreeNodes
        return custom(el)
    spec = cls.XML
    kw = read_attributes(cls, el)
    attrib = el.attrib
    if attrib and any(k[:2] == "x-" for k in attrib.keys()):
        kw["vendor"] = _vendor(el)
    kw["line"] = el.sourceline
    if spec.text is not None:
        kw[spec.text] = el.text
    if spec.cells is not None:
        kw[spec.cells] = tuple((_local(c.tag), c.text or "") for c in el
                               if isinstance(c.tag, str))
        return cls(**kw)
    if not len(el):                  # a leaf: every child field keeps its default
        return cls(**kw)
    found: dict[str, list] = {}
    ext: list[Fragment] = []
    for slot, value in _read_children(el, _dispatch(cls)):
        if slot is None:
            ext.append(value)
            continue
        name, _, many = slot
        items = found.get(name)
        if items is None:
            items = found[name] = []
        elif not many:
            raise DocumentError(f"<{spec.tag}> has more than one <{_tag(value)}>",
                                line=value.line, element=_tag(value))
        items.append(value)
    for name, items in found.items():
        kw[name] = tuple(items) if table_many(cls, name) else items[0]
    if ext:
        kw["extensions"] = tuple(ext)
    return cls(**kw)


def _tag(value) -> str:
    return value.tag if isinstance(value, (Fragment, Model)) else value.XML.tag


_MANY: dict[tuple[type, str], bool] = {}


def table_many(cls, name: str) -> bool:
    key = (cls, name)
    many = _MANY.get(key)
    if many is None:
        many = _MANY[key] = next(c.many for c in cls.XML.children if c.py == name)
    return many


def _local(tag: str) -> str:
    """A cell's column without a namespace prefix ("data:color" -> "color")."""
    return tag.rsplit("}", 1)[-1].split(":")[-1]


def _model_dispatch() -> dict[str, tuple[str, Any, bool]]:
    """tag -> ("content", class, True) for the typed children of a model element."""
    if not _MODEL_CHILDREN:
        _MODEL_CHILDREN.update({tag: ("content", cls, True)
                                for tag, cls in model_child_classes().items()})
    return _MODEL_CHILDREN


def read_model(el) -> Model:
    """Any model element: common attributes typed, children in order (see ``models``)."""
    kw = read_attributes(Model, el)
    common = {a.xml for a in MODEL_ATTRS}
    content = [value for _, value in _read_children(el, _model_dispatch())]
    model = Model(tag=el.tag, attributes=tuple((k, v) for k, v in el.attrib.items()
                                               if k not in common and k[:2] != "x-"),
                  content=schema_order(content),
                  extensions=tuple(c for c in content
                                   if isinstance(c, Fragment) and c.tag == "Extension"),
                  vendor=_vendor(el), line=el.sourceline, **kw)
    return model


def read_document(root, version: str | None = None) -> Document:
    """An upgraded, namespace-free <PMML> root (``xmlread.parse`` + ``dialects.upgrade``) as a
    Document. version: the PMML version the document was written in."""
    try:
        doc = read_node(Document, root)
    except RecursionError:
        raise DocumentError("document nests too deeply", line=root.sourceline,
                            element="PMML") from None
    if doc.data_dictionary is None:
        raise DocumentError("document has no DataDictionary", line=root.sourceline,
                            element="PMML")
    return _with(doc, source_version=version)


def _with(doc: Document, **changes) -> Document:
    from dataclasses import replace
    return replace(doc, **changes)


def read(source: Any) -> Document:
    """Read a PMML document (path, file object, bytes or XML text) of any supported version
    into the object model, extensions kept."""
    from .. import dialects, xmlread
    data = xmlread.read_bytes(source)
    root, version = xmlread.parse(data)
    dialects.upgrade(root, version)
    return read_document(root, version)
