"""TreeNodes written in bulk: the whole Node hierarchy as XML text in one pass, turned into
elements by one lxml parse.

A forest's trees hold tens of thousands of Nodes, each with a predicate and ScoreDistributions:
creating them one lxml element and one attribute at a time (``TreeNodes.write_element``) is most
of the time it takes to write such a document, while lxml's parser builds the same elements
several times faster from their text. The text is parsed in the PMML namespace, so the elements
it gives are the ones the element-by-element writer gives (the document's bytes are the same).

Only the common layout is written this way: Nodes without kept fragments (extensions,
Partition, embedded models) or vendor attributes, on themselves or their ScoreDistributions;
other bodies go to ``write_element``, as does a body with a character XML cannot hold
(``write_element`` then raises lxml's own error).

``nodes_text(..., lines=True)`` gives the text as lxml writes it one element per line, for
``write.to_lines`` to put in the document's bytes as it is, unparsed.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
from lxml import etree

from .tree import TreeNodes

#: the attribute value escapes (a literal line break or tab would be read back as a space)
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                         "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
_SPECIAL = re.compile('[&<>"\n\r\t]')
#: characters XML 1.0 cannot hold (lxml refuses them in an attribute)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _NotXML(ValueError):
    """A string no XML text can hold: the body goes to the element writer (lxml's error)."""


def _strings(column: tuple, format_value: Callable[[Any], str]) -> list[str | None]:
    """The attribute texts of a column of strings (None stays None), each distinct value
    escaped once."""
    if set(map(type, column)) <= {str, type(None)}:
        distinct = set(column)
        distinct.discard(None)
        joined = "".join(distinct)
        if _NOT_XML.search(joined):
            raise _NotXML
        if _SPECIAL.search(joined):
            texts = {v: v.translate(_ESCAPE) for v in distinct}
        else:                                           # (nothing to escape: as they are)
            texts = dict(zip(distinct, distinct))
        texts[None] = None
        return list(map(texts.__getitem__, column))
    texts = [None if v is None else (v if type(v) is str else format_value(v)).translate(_ESCAPE)
             for v in column]
    if any(t is not None and _NOT_XML.search(t) for t in texts):
        raise _NotXML
    return texts


def _numbers(column: tuple, format_value: Callable[[Any], str]) -> list[str | None]:
    """The attribute texts of a column of numbers (None stays None), each distinct float
    formatted once (floats only: equal values of other types may be written differently; and
    a column with a negative zero, which a dictionary does not tell from zero, one by one)."""
    if set(map(type, column)) <= {float, type(None)}:
        distinct = set(column)
        distinct.discard(None)
        if 0.0 not in distinct or not _negative_zero(column):
            texts = {v: format_value(v) for v in distinct}
            texts[None] = None
            return list(map(texts.__getitem__, column))
    return [None if v is None else format_value(v) for v in column]


def _negative_zero(column: tuple) -> bool:
    values = np.array(column, dtype=float)          # (None: NaN)
    return bool(np.any((values == 0.0) & np.signbit(values)))


def append_nodes(nodes: TreeNodes, parent_el: Any, namespace: str | None) -> bool:
    """Append the root <Node> of ``nodes`` (and every Node below it) to parent_el, as elements
    in ``namespace`` parsed from their text; False (nothing appended) when the body is not one
    this writer takes (see the module docstring)."""
    body = nodes_text(nodes)
    if body is None:
        return False
    text = f'<_ xmlns="{namespace}">{body}</_>' if namespace else f"<_>{body}</_>"
    try:
        # (a parser per call: lxml's parsers are not to be shared between threads; huge_tree:
        # libxml2 refuses text nested deeper than 256 elements unless told otherwise)
        holder = etree.fromstring(text.encode("utf-8"), etree.XMLParser(
            huge_tree=True, resolve_entities=False))
    except etree.XMLSyntaxError:
        return False
    if len(holder) != 1:
        return False
    parent_el.append(holder[0])
    return True


def nodes_text(nodes: TreeNodes, lines: bool = False) -> str | None:
    """The root <Node> of ``nodes`` and every Node below it as XML text (elements in no
    namespace), or None when the body is not one this writer takes (see the module docstring).

    lines: one element per line without indentation, as ``etree.indent(..., space="")`` and
    ``etree.tostring`` write them (the text a document's bytes can hold as it is); None also
    when such text could differ from lxml's: a Node without a predicate (lxml writes an empty
    element as ``<Node/>``), a typed predicate whose text declares a namespace."""
    n = len(nodes.parent)
    if not n or nodes.extras or nodes.vendor_attrs or nodes.sd_extras or nodes.sd_vendor:
        return None
    from .write import _build, format_value
    parent = nodes.parent
    if parent[0] != -1 or any(p < 0 or p >= i for i, p in enumerate(parent) if i):
        return None                        # (not one tree in document order)
    sep = "\n" if lines else ""
    try:
        return _text(nodes, lines, sep, format_value, _build)
    except _NotXML:
        return None


def _text(nodes: TreeNodes, lines: bool, sep: str, format_value: Callable[[Any], str],
          build: Callable[[Any, Any], None]) -> str | None:
    parent = nodes.parent
    n = len(parent)
    preds = _predicates(nodes, format_value, build, lines)
    if lines and ("" in preds or any("xmlns" in preds[i] for i, _ in nodes.predicates)):
        return None
    # each Node's text: the end tags of the Nodes it follows (the previous Node and its
    # ancestors up to this Node's parent), its start tag, predicate, ScoreDistributions
    depth = [0] * n
    for i in range(1, n):
        depth[i] = depth[parent[i]] + 1
    end = "</Node>" + sep
    ends = [""] + [end * (a - b + 1) for a, b in zip(depth, depth[1:])]
    heads = _heads(nodes, format_value, sep)
    sds = _distributions(nodes, format_value, sep)
    return "".join(map("".join, zip(ends, heads, preds, sds))) + \
        sep.join(["</Node>"] * (depth[-1] + 1))


def _heads(nodes: TreeNodes, format_value: Callable[[Any], str], sep: str) -> list[str]:
    """Each Node's start tag (and sep)."""
    scores = _strings(nodes.score, format_value)
    if nodes.id.count(None) == len(nodes.id) and \
            nodes.record_count.count(None) == len(nodes.record_count) and \
            nodes.default_child.count(None) == len(nodes.default_child):
        return ["<Node>" + sep if s is None else f'<Node score="{s}">{sep}' for s in scores]
    columns = (("id", _strings(nodes.id, format_value)), ("score", scores),
               ("recordCount", _numbers(nodes.record_count, format_value)),
               ("defaultChild", _strings(nodes.default_child, format_value)))
    return ["<Node" + "".join(f' {name}="{texts[i]}"' for name, texts in columns
                              if texts[i] is not None) + ">" + sep
            for i in range(len(scores))]


def _predicates(nodes: TreeNodes, format_value: Callable[[Any], str],
                build: Callable[[Any, Any], None], lines: bool) -> list[str]:
    """Each Node's predicate element and, with ``lines``, a line break ("" for none)."""
    sep = "\n" if lines else ""
    fields = _strings(nodes.pred_field, format_value)
    values = _strings(nodes.pred_value, format_value)
    out = ["" if op is None else f"<{op}/>{sep}" if op == "True" or op == "False" else
           f'<SimplePredicate field="{f}" operator="{op}"/>{sep}' if v is None else
           f'<SimplePredicate field="{f}" operator="{op}" value="{v}"/>{sep}'
           for op, f, v in zip(nodes.pred_op, fields, values)]
    for i, p in nodes.predicates:
        if nodes.pred_op[i] is None and not out[i]:
            holder = etree.Element("_")
            build(p, holder)
            if lines:
                etree.indent(holder[0], space="")
            out[i] = etree.tostring(holder[0], encoding="unicode") + sep
    return out


def _distributions(nodes: TreeNodes, format_value: Callable[[Any], str], sep: str
                   ) -> list[str]:
    """Each Node's ScoreDistribution elements, each followed by sep ("" for none)."""
    out = [""] * len(nodes.parent)
    if not nodes.sd_node:
        return out
    values = _strings(nodes.sd_value, format_value)
    counts = _numbers(nodes.sd_record_count, format_value)
    if nodes.sd_confidence.count(None) == len(nodes.sd_confidence) and \
            nodes.sd_probability.count(None) == len(nodes.sd_probability) and \
            None not in values and None not in counts:
        texts = [f'<ScoreDistribution value="{v}" recordCount="{c}"/>{sep}'
                 for v, c in zip(values, counts)]
    else:
        columns = (("value", values), ("recordCount", counts),
                   ("confidence", _numbers(nodes.sd_confidence, format_value)),
                   ("probability", _numbers(nodes.sd_probability, format_value)))
        texts = ["<ScoreDistribution" + "".join(f' {name}="{col[j]}"' for name, col in columns
                                                if col[j] is not None) + "/>" + sep
                 for j in range(len(values))]
    for i, t in zip(nodes.sd_node, texts):
        out[i] += t
    return out
