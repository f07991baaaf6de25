"""Safe reading of PMML XML: no DTD, no entities, no network; namespaces folded away.

Every PMML version (3.0 - 4.4) is read into the same namespace-free element tree, so the
compilers see one dialect. Elements keep ``sourceline`` for error messages.
"""
from __future__ import annotations

import io
import os
import re
from typing import Any

from lxml import etree

from portmodel.errors import DocumentError, UnsafeDocumentError, UnsupportedError

PMML_NAMESPACE = re.compile(r"^http://www\.dmg\.org/PMML-(\d)_(\d)$")
SUPPORTED_VERSIONS = {"3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "4.3", "4.4"}
_UNSAFE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def read_bytes(source: Any) -> bytes:
    """Bytes of a document given as a path, file object, bytes or XML text."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        if source.lstrip().startswith("<"):
            return source.encode("utf-8")
        with open(source, "rb") as fh:
            return fh.read()
    if isinstance(source, os.PathLike):
        with open(source, "rb") as fh:
            return fh.read()
    if hasattr(source, "read"):
        data = source.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    raise TypeError(f"cannot read a PMML document from {type(source).__name__}")


def parse(data: bytes) -> tuple[etree._Element, str]:
    """Parse PMML bytes safely; return the namespace-free root and the PMML version."""
    match = _UNSAFE.search(data)
    if match:
        line = data[: match.start()].count(b"\n") + 1
        raise UnsafeDocumentError(
            "document declares a DTD or entities; portmodel refuses them (XXE and entity "
            "expansion attacks)", line=line)
    try:
        tree = etree.parse(io.BytesIO(data), _parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"malformed XML: {exc.msg}", line=exc.lineno) from None
    root = tree.getroot()
    if tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise UnsafeDocumentError("document declares a DTD; portmodel refuses it")
    ns = etree.QName(root).namespace
    local = etree.QName(root).localname
    if local != "PMML":
        raise DocumentError(f"root element is <{local}>, not <PMML>", line=root.sourceline)
    version = root.get("version", "")
    if ns:
        m = PMML_NAMESPACE.match(ns)
        if not m:
            raise UnsupportedError(f"unknown PMML namespace {ns!r}", line=root.sourceline,
                                   element="PMML")
        version = f"{m.group(1)}.{m.group(2)}"
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedError(f"PMML version {version!r} is not supported (3.0 - 4.4 are)",
                               line=root.sourceline, element="PMML")
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    etree.cleanup_namespaces(root)
    return root, version


def looks_like_pmml(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return head.startswith(b"<") and b"PMML" in head
