"""Safe reading of PMML XML: no DTD, no entities, no network; namespaces folded away.

Every PMML version (3.0 - 4.4) is read into the same namespace-free element tree, so the
compilers see one dialect. Elements keep ``sourceline`` for error messages.
"""
from __future__ import annotations

import codecs
import io
import os
import re
from typing import Any

from lxml import etree

from portmodel.errors import DocumentError, UnsafeDocumentError, UnsupportedError

PMML_NAMESPACE = re.compile(r"^http://www\.dmg\.org/PMML-(\d)_(\d)$")
#: namespaces real producers write for PMML besides the standard one: https, no version, no www
LOOSE_NAMESPACE = re.compile(r"^https?://(www\.)?dmg\.org/PMML(-(\d)_(\d))?/?$", re.IGNORECASE)
SUPPORTED_VERSIONS = {"3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "4.3", "4.4"}
_UNSAFE = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_NO_BOM = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
           (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"), (b"\x4c\x6f\xa7\x94", "cp500"))


def _encoding(data: bytes) -> str:
    """The codec of the document's bytes: from its byte order mark, its first characters or
    its XML declaration (UTF-8 when none says otherwise)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    for head, enc in _NO_BOM:
        if data.startswith(head):
            return enc
    m = _DECLARED.match(data)
    return m.group(1).decode("ascii") if m else "utf-8"


def _as_text(data: bytes) -> str:
    """The document's characters, decoded as the XML parser will decode them.

    The DTD check runs on text, not bytes, so that UTF-16, UTF-32 or any other declared encoding
    cannot hide a '<!DOCTYPE'. An encoding Python does not know is refused.
    """
    enc = _encoding(data)
    try:
        return data.decode(enc, errors="replace")
    except LookupError:
        raise UnsupportedError(f"document encoding {enc!r} is not supported", line=1) from None


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


def parse(data: bytes, leniency=None) -> tuple[etree._Element, str]:
    """Parse PMML bytes safely; return the namespace-free root and the PMML version.

    leniency: a ``leniency.Leniency`` that accepts (and records) a loose PMML namespace or none
    at all; without one both are accepted silently as before.
    """
    text = _as_text(data)
    match = _UNSAFE.search(text) if "!" in text else None   # (one fast scan rules most out)
    if match:
        line = text[: match.start()].count("\n") + 1
        raise UnsafeDocumentError(
            "document declares a DTD or entities; portmodel refuses them (XXE and entity "
            "expansion attacks)", line=line)
    data, default_ns = _drop_default_namespace(data)
    try:
        tree = etree.parse(io.BytesIO(data), _parser())
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"malformed XML: {exc.msg}", line=exc.lineno) from None
    root = tree.getroot()
    if tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise UnsafeDocumentError("document declares a DTD; portmodel refuses it")
    ns = etree.QName(root).namespace or default_ns
    local = etree.QName(root).localname
    if local != "PMML":
        raise DocumentError(f"root element is <{local}>, not <PMML>", line=root.sourceline)
    version = root.get("version", "")
    if ns:
        m = PMML_NAMESPACE.match(ns)
        loose = None if m else LOOSE_NAMESPACE.match(ns)
        if m:
            version = f"{m.group(1)}.{m.group(2)}"
        elif loose and (version in SUPPORTED_VERSIONS or loose.group(3)):
            if version not in SUPPORTED_VERSIONS:
                version = f"{loose.group(3)}.{loose.group(4)}"
            if leniency is not None:
                leniency.allow("namespace", root.sourceline, "PMML", repr(ns))
        else:
            raise UnsupportedError(f"unknown PMML namespace {ns!r}", line=root.sourceline,
                                   element="PMML")
    elif leniency is not None:
        leniency.allow("no-namespace", root.sourceline, "PMML")
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedError(f"PMML version {version!r} is not supported (3.0 - 4.4 are)",
                               line=root.sourceline, element="PMML")
    if _namespaced(root, text, default_ns is not None):
        fold_namespaces(root)
    return root, version


_NS_DECLARATION = re.compile(r"xmlns(?::([^\s=]+))?\s*=")


def _namespaced(root: etree._Element, text: str, root_default_dropped: bool) -> bool:
    """Whether some element may still be in a namespace (then ``fold_namespaces`` must run).

    Conservative, and much cheaper than the fold's walk over every element of a large
    document: a namespaced root, a default namespace declared anywhere but on the root (whose
    declaration ``_drop_default_namespace`` blanked), or a declared prefix used on a tag.
    """
    if isinstance(root.tag, str) and root.tag.startswith("{"):
        return True
    defaults = 0
    for m in _NS_DECLARATION.finditer(text):
        prefix = m.group(1)
        if prefix is None:
            defaults += 1
            if defaults > int(root_default_dropped):
                return True
        elif "<" + prefix + ":" in text:
            return True
    return False


_ROOT_TAG = re.compile(rb"<PMML\b[^>]*>")
_DEFAULT_NS = re.compile(rb"""\sxmlns\s*=\s*(["'])([^"']*)\1""")


def _drop_default_namespace(data: bytes) -> tuple[bytes, str | None]:
    """Blank out the root's default namespace declaration (same length: lines and columns stay).

    Parsing without it gives namespace-free tags at once, instead of renaming every element
    afterwards (a large share of the load time of a big forest). Only for ASCII-compatible
    encodings; anything else takes the renaming path.
    """
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00", )) or head[1:2] == b"\x00":
        return data, None
    m = _ROOT_TAG.search(data)
    if m is None:
        return data, None
    d = _DEFAULT_NS.search(m.group(0))
    if d is None:
        return data, None
    start, end = m.start() + d.start(), m.start() + d.end()
    return data[:start] + b" " * (end - start) + data[end:], d.group(2).decode("ascii", "replace")


def fold_namespaces(root: etree._Element) -> None:
    """Drop namespaces from every element tag, in place (sourceline is kept).

    Renaming each element costs a Python call, so only namespaced elements are visited:
    nearly all of them in a PMML document, but found by one C-level XPath query.
    """
    for el in root.xpath("descendant-or-self::*[namespace-uri() != '']"):
        el.tag = etree.QName(el).localname
    etree.cleanup_namespaces(root)
