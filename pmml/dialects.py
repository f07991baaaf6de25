"""Older PMML dialects (3.0 - 4.3) rewritten to PMML 4.4, and vendor extensions set aside.

Runs once per document, right after ``xmlread.parse`` (namespaces are already folded away), so the
compilers only ever see PMML 4.4 names and never meet vendor content:

``upgrade``
    renames what later versions renamed and standardised (the list below, taken from the DMG
    "Changes" pages and from what the reference engine's import filter does), in place. Each
    rewrite is returned as a ``Note`` (line, element, message) for ``portmodel validate``.
``remove_extensions``
    drops every ``<Extension>`` element, ``X-`` element and ``x-`` attribute left after the
    upgrade, and returns what it dropped: portmodel scores the standard content only.
``normalize``
    both, plus one ``PortmodelWarning`` per document naming the extensions it ignored (those
    under ``<Header>`` are documentation and not named).

Rewrites (version = the document's PMML version):

- <= 3.1: ``TargetValue@rawDataValue`` -> ``displayValue``.
- <= 3.1: ``ClusteringModel/CenterFields`` (its DerivedFields give the center coordinates) ->
  the DerivedFields move to ``LocalTransformations`` and ``ClusteringField`` elements list the
  coordinates in the same order (PMML 3.2 folded CenterFields into ClusteringField).
- 3.0: ``DataField`` without ``dataType`` (optional before 3.1) gets the type portmodel infers
  anyway: string for categorical/ordinal fields, double otherwise.
- 4.0: ``Trend`` -> ``Trend_ExpoSmooth`` (time series).
- 4.1: ``Apply@mapMissingTo`` -> ``defaultValue``: PMML 4.1 had one attribute for the value of a
  missing result; 4.2 split it in two. (Same reading as the reference engine.)
- <= 4.3: ``x-`` prefixed forms of what PMML 4.4 standardised: built-in functions written as
  ``Apply@function="x-<name>"`` (modulo, expm1, sin, ...), ``MiningField@x-invalidValueReplacement``
  (with ``invalidValueTreatment="asIs"`` it meant the 4.4 ``asValue``), ``Segmentation@x-missing
  PredictionTreatment`` / ``@x-missingThreshold`` and ``multipleModelMethod="x-weightedMedian" |
  "x-weightedSum"``.
- any version: ``BayesInput`` elements parked in an ``Extension`` of ``BayesInputs`` (continuous
  inputs before PMML 4.2 had TargetValueStats) move up into ``BayesInputs``.

``MiningField@usageType="target"`` needs no rewrite (4.4 has both "target" and "predicted"; the
mining schema reads them alike), nor do the NeuralNetwork activation function names, DataField
Interval/Value, InlineTable/TableLocator or ParameterField, which kept their names from 3.0 on.
"""
from __future__ import annotations

import os
import sys
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

from lxml import etree

from portmodel.errors import PortmodelWarning, UnsupportedError

from .expressions import EXPRESSION_TAGS

#: PMML 4.4 built-in functions; producers targeting an older version wrote the newer ones as
#: "x-<name>".
BUILTIN_FUNCTIONS = frozenset("""
    + - * / min max sum avg median product log10 ln sqrt abs exp pow threshold floor ceil round
    modulo isMissing isNotMissing isValid isNotValid equal notEqual lessThan lessOrEqual
    greaterThan greaterOrEqual and or not isIn isNotIn if uppercase lowercase stringLength
    substring trimBlanks concat replace matches formatNumber formatDatetime dateDaysSinceYear
    dateSecondsSinceYear dateSecondsSinceMidnight normalCDF normalPDF stdNormalCDF stdNormalPDF
    erf normalIDF stdNormalIDF expm1 hypot ln1p rint sin asin sinh cos acos cosh tan atan tanh
""".split())

_SEGMENTATION_METHODS = {"x-weightedMedian": "weightedMedian", "x-weightedSum": "weightedSum"}
#: attributes the reference engine writes itself (bookkeeping, not model content): dropped quietly
_QUIET_ATTRIBUTES = {("PMML", "x-baseVersion")}


@dataclass(frozen=True)
class Note:
    """One rewrite made by ``upgrade``: where, on which element, what."""

    line: int | None
    element: str
    message: str


@dataclass
class ExtensionReport:
    """Vendor content removed from a document, grouped by name (first lines kept)."""

    elements: "OrderedDict[str, list[int | None]]" = field(default_factory=OrderedDict)
    attributes: "OrderedDict[str, list[int | None]]" = field(default_factory=OrderedDict)
    header: int = 0     # Extension elements under <Header> (documentation; not reported)

    def __bool__(self) -> bool:
        return bool(self.elements or self.attributes)

    def count(self) -> int:
        return sum(len(v) for v in self.elements.values()) + sum(
            len(v) for v in self.attributes.values())

    def summary(self, max_names: int = 8, max_lines: int = 3) -> str:
        """One line: each extension name with its count and first lines."""
        def part(label: str, groups: "OrderedDict[str, list[int | None]]") -> str:
            items = []
            for name, lines in list(groups.items())[:max_names]:
                shown = ", ".join(str(x) for x in lines[:max_lines] if x is not None)
                more = ", ..." if len(lines) > max_lines else ""
                times = f" x{len(lines)}" if len(lines) > 1 else ""
                where = f" (line{'s' if len(lines) > 1 else ''} {shown}{more})" if shown else ""
                items.append(f"{name}{times}{where}")
            if len(groups) > max_names:
                items.append(f"... {len(groups) - max_names} more")
            n = sum(len(v) for v in groups.values())
            return f"{n} {label}{'s' if n != 1 else ''}: " + "; ".join(items)

        parts = []
        if self.elements:
            parts.append(part("extension element", self.elements))
        if self.attributes:
            parts.append(part("extension attribute", self.attributes))
        return " | ".join(parts)


# ------------------------------------------------------------------ version helpers

def _v(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return (4, 4)


def _tag(el) -> str | None:
    return el.tag if isinstance(el.tag, str) else None


def _rename_attr(el, old: str, new: str, notes: list[Note], why: str) -> None:
    value = el.get(old)
    if value is None:
        return
    del el.attrib[old]
    if el.get(new) is None:
        el.set(new, value)
        notes.append(Note(el.sourceline, el.tag, f"{el.tag}@{old} -> @{new} ({why})"))
    else:
        notes.append(Note(el.sourceline, el.tag,
                          f"{el.tag}@{old} dropped: @{new} is also given ({why})"))


# ------------------------------------------------------------------ the rewrites

_UPGRADED_TAGS = ("TargetValue", "ClusteringModel", "DataField", "Trend", "Apply", "MiningField",
                  "Segmentation", "BayesInputs", "DefineFunction", "DecisionTree", "Regression")
#: PMML 3.x embedded model elements -> the model element they are a defeatured copy of
_EMBEDDED = {"DecisionTree": "TreeModel", "Regression": "RegressionModel"}
#: x- attributes portmodel interprets (kept on their elements, not reported as ignored)
INTERPRETED_ATTRIBUTES = frozenset({"x-mathContext"})


def _upgraded_tags(v: tuple[int, int]) -> tuple[str, ...]:
    """The elements ``upgrade`` rewrites in a document of PMML version v. (Only these are
    looked for: lxml finds no element of a tag the document does not use without walking it,
    so a PMML 4.4 document, which needs none of the older rewrites, costs no walk.)"""
    tags = ["BayesInputs", "DecisionTree", "Regression"]
    if v <= (3, 1):
        tags += ["TargetValue", "ClusteringModel"]
    if v == (3, 0):
        tags.append("DataField")
    if v == (4, 0):
        tags.append("Trend")
    if v <= (4, 3):                      # (_x_prefixed; Apply also for PMML 4.1)
        tags += ["Apply", "DefineFunction", "MiningField", "Segmentation"]
    assert set(tags) <= set(_UPGRADED_TAGS)
    return tuple(tags)


def upgrade(root, version: str, leniency=None, empty_replacements: bool = True) -> list[Note]:
    """Rewrite constructs of PMML ``version`` to their PMML 4.4 form, in place.

    leniency: a ``leniency.Leniency`` recording (or, strict, refusing) the producer traits
    rewritten here (embedded models in a Segment, ``mapMissingTo=""``). empty_replacements=False
    says the document has no ``mapMissingTo=""`` (spares a search of every element)."""
    v = _v(version)
    notes: list[Note] = []
    found: dict[str, list] = {tag: [] for tag in _UPGRADED_TAGS}
    for el in root.iter(*_upgraded_tags(v)):
        found[el.tag].append(el)
    if v <= (3, 1):
        for tv in found["TargetValue"]:
            _rename_attr(tv, "rawDataValue", "displayValue", notes, "renamed in PMML 3.2")
        for model in found["ClusteringModel"]:
            _center_fields(model, notes)
    if v == (3, 0):
        for df in found["DataField"]:
            if df.get("dataType") is None:
                dt = "string" if df.get("optype") in ("categorical", "ordinal") else "double"
                df.set("dataType", dt)
                notes.append(Note(df.sourceline, "DataField",
                                  f"DataField {df.get('name')!r}: dataType={dt!r} assumed "
                                  "(optional before PMML 3.1)"))
    if v == (4, 0):
        for el in found["Trend"]:
            el.tag = "Trend_ExpoSmooth"
            notes.append(Note(el.sourceline, "Trend", "Trend -> Trend_ExpoSmooth (PMML 4.1 name)"))
    if v == (4, 1):
        for el in found["Apply"]:
            _rename_attr(el, "mapMissingTo", "defaultValue", notes,
                         "PMML 4.1's value for a missing result")
    if v <= (4, 3):
        _x_prefixed(found, notes)
    _hoist_bayes_inputs(found["BayesInputs"], notes)
    for el in (root.xpath("//*[@mapMissingTo='']") if empty_replacements else ()):
        if leniency is not None:
            leniency.allow("empty-map-missing-to", el.sourceline, el.tag)
        del el.attrib["mapMissingTo"]
        notes.append(Note(el.sourceline, el.tag, f"{el.tag}@mapMissingTo=\"\" dropped (an empty "
                                                 "replacement: a missing value stays missing)"))
    for el in found["DecisionTree"] + found["Regression"]:
        parent = el.getparent()
        if parent is not None and parent.tag == "Segment":
            if leniency is not None:
                leniency.allow("embedded-model", el.sourceline, el.tag)
            _embedded_model(el, notes)
    return notes


def _embedded_model(el, notes: list[Note]) -> None:
    """A PMML 3.x embedded ``DecisionTree`` / ``Regression`` in a Segment -> the TreeModel /
    RegressionModel it is a defeatured copy of: an empty MiningSchema (the segment sees its
    MiningModel's fields and scores its target), ResultFields as OutputFields."""
    old = el.tag
    el.tag = _EMBEDDED[old]
    ms = etree.Element("MiningSchema")
    anchor = next((c for c in el if _tag(c) not in (None, "Extension")), None)
    (anchor.addprevious if anchor is not None else el.append)(ms)
    results = el.findall("ResultField")
    if results:
        output = el.find("Output")
        if output is None:
            output = etree.Element("Output")
            ms.addnext(output)
        for rf in results:
            rf.tag = "OutputField"
            output.append(rf)
    notes.append(Note(el.sourceline, old, f"embedded <{old}> in a Segment -> <{el.tag}> "
                                          "(PMML 3.x model composition)"))


def _x_prefixed(found: dict[str, list], notes: list[Note]) -> None:
    """``x-`` forms of names PMML 4.4 standardised."""
    user_functions = {df.get("name") for df in found["DefineFunction"]}
    for el in found["Apply"]:
        fn = el.get("function") or ""
        if fn.startswith("x-") and fn[2:] in BUILTIN_FUNCTIONS and fn not in user_functions:
            el.set("function", fn[2:])
            notes.append(Note(el.sourceline, "Apply",
                              f"function {fn!r} -> {fn[2:]!r} (built-in since PMML 4.4)"))
    for mf in found["MiningField"]:
        if mf.get("x-invalidValueReplacement") is None:
            continue
        _rename_attr(mf, "x-invalidValueReplacement", "invalidValueReplacement", notes,
                     "standard since PMML 4.4")
        if mf.get("invalidValueTreatment") == "asIs":
            mf.set("invalidValueTreatment", "asValue")
            notes.append(Note(mf.sourceline, "MiningField",
                              "invalidValueTreatment asIs with a replacement -> asValue "
                              "(PMML 4.4 name)"))
    for seg in found["Segmentation"]:
        _rename_attr(seg, "x-missingPredictionTreatment", "missingPredictionTreatment", notes,
                     "standard since PMML 4.4")
        _rename_attr(seg, "x-missingThreshold", "missingThreshold", notes,
                     "standard since PMML 4.4")
        method = seg.get("multipleModelMethod")
        if method in _SEGMENTATION_METHODS:
            seg.set("multipleModelMethod", _SEGMENTATION_METHODS[method])
            notes.append(Note(seg.sourceline, "Segmentation",
                              f"multipleModelMethod {method!r} -> "
                              f"{_SEGMENTATION_METHODS[method]!r} (standard since PMML 4.4)"))


def _hoist_bayes_inputs(found: list, notes: list[Note]) -> None:
    for bis in found:
        for ext in bis.findall("Extension"):
            moved = ext.findall("BayesInput")
            for bi in moved:
                bis.append(bi)
            if moved:
                notes.append(Note(ext.sourceline, "Extension",
                                  f"{len(moved)} BayesInput element(s) moved out of an "
                                  "Extension into BayesInputs"))
                if not any(isinstance(c.tag, str) for c in ext):   # nothing else in it
                    bis.remove(ext)


def _expression_child(el):
    """The EXPRESSION child of an lxml element el (a dialect step runs before the reader), or
    None."""
    for child in el:
        if isinstance(child.tag, str) and child.tag in EXPRESSION_TAGS:
            return child
    return None


def _center_fields(model, notes: list[Note]) -> None:
    """PMML 3.0/3.1 ``CenterFields`` -> LocalTransformations + ordered ``ClusteringField``s."""
    cf = model.find("CenterFields")
    if cf is None:
        return
    derived = cf.findall("DerivedField")
    local = model.find("LocalTransformations")
    if local is None:
        local = etree.Element("LocalTransformations")
        anchor = model.find("ComparisonMeasure")
        (anchor.addprevious if anchor is not None else cf.addprevious)(local)
    names = []
    for df in derived:
        expr = _expression_child(df)
        if (expr is not None and expr.tag == "FieldRef" and expr.get("mapMissingTo") is None
                and expr.get("field")):
            names.append(expr.get("field"))      # a plain reference: use the field itself
        else:
            local.append(df)
            names.append(df.get("name"))
    old = {c.get("field"): c for c in model.findall("ClusteringField")}
    anchor = cf
    ordered = []
    for name in names:
        c = old.pop(name, None)
        if c is None:
            c = etree.Element("ClusteringField")
            c.set("field", name)
        ordered.append(c)
    for c in old.values():   # fields not among the center coordinates
        c.set("isCenterField", "false")
        ordered.append(c)
    for c in ordered:
        if c.getparent() is not None:
            c.getparent().remove(c)
        anchor.addprevious(c)
    model.remove(cf)
    if not len(local):
        model.remove(local)
    notes.append(Note(cf.sourceline, "CenterFields",
                      f"CenterFields -> {len(names)} ClusteringField element(s) "
                      "(folded into ClusteringField in PMML 3.2)"))


# ------------------------------------------------------------------ vendor extensions

def _extension_name(el) -> str:
    for key in ("name", "extender"):
        if el.get(key):
            return repr(el.get(key))
    child = next((c for c in el if _tag(c)), None)
    return f"<{child.tag}>" if child is not None else "(unnamed)"


def find_extensions(root, vendor_names: bool = True) -> tuple[ExtensionReport, list, list]:
    """What ``remove_extensions`` would drop: (report, elements, (element, attribute) pairs).

    Extension and X- elements are taken outermost first (what they contain goes with them);
    those under <Header> are counted apart, as documentation. One pass over the tree.
    ``vendor_names=False`` says the document holds no X- element and no x- attribute (see
    ``vendor_names_possible``): then only <Extension> elements are visited, found in C
    instead of a Python walk over every element.
    """
    report = ExtensionReport()
    header = root.find("Header")
    in_header = set(header.iter()) if header is not None else set()
    doomed: list = []
    attrs: list = []
    inside: set = set()          # content of the vendor elements taken so far
    for el in (root.iter() if vendor_names else root.iter("Extension")):
        tag = el.tag
        if not isinstance(tag, str) or (inside and el in inside):
            continue
        if tag == "Extension" or tag[:2] == "X-":
            doomed.append(el)
            if len(el):
                inside.update(el.iterdescendants())
            if el in in_header:
                report.header += 1
            else:
                key = _extension_name(el) if tag == "Extension" else f"<{tag}>"
                report.elements.setdefault(key, []).append(el.sourceline)
            continue
        for name in el.keys():
            local = name.rsplit("}", 1)[-1]
            if local[:2] != "x-":
                continue
            attrs.append((el, name))
            if (tag, local) not in _QUIET_ATTRIBUTES:
                report.attributes.setdefault(f"{tag}@{local}", []).append(el.sourceline)
    return report, doomed, attrs


def _may_hold(source: bytes | None, word: bytes) -> bool:
    """False when the document's UTF-8 bytes do not contain word (True when unsure)."""
    if source is None:
        return True
    from .xmlread import _encoding
    return word in source or _encoding(source).lower() not in ("utf-8", "utf8")


def _x_hyphen(source: bytes) -> bool:
    """Whether b"x-" or b"X-" occurs in source: the hyphens found by numpy in one pass, then
    the byte before each looked at (several times faster than two substring searches)."""
    import numpy as np
    b = np.frombuffer(source, np.uint8)
    before = np.flatnonzero(b[1:] == ord("-"))      # (the positions of the bytes before one)
    return bool(((b[before] | 0x20) == ord("x")).any())


def vendor_names_possible(source: bytes | None) -> bool:
    """False when the document's text has no "X-" and no "x-" at all: then it holds no X-
    element and no x- attribute (a cheap test that spares a walk over every element)."""
    if source is None:
        return True
    from .xmlread import _as_text, _encoding
    if _encoding(source).lower() in ("utf-8", "utf8"):
        return _x_hyphen(source)         # (UTF-8: ASCII text is its own bytes)
    try:
        text = _as_text(source)
    except UnsupportedError:     # an encoding Python does not know: assume there may be some
        return True
    return "X-" in text or "x-" in text


def remove_extensions(root, vendor_names: bool = True) -> ExtensionReport:
    """Drop every Extension element, X- element and x- attribute; report what went."""
    report, doomed, attrs = find_extensions(root, vendor_names)
    for el, name in attrs:
        if name not in INTERPRETED_ATTRIBUTES:
            del el.attrib[name]
    for el in doomed:
        parent = el.getparent()
        if parent is not None:
            _remove_keep_tail(parent, el)
    return report


def _remove_keep_tail(parent, el) -> None:
    tail = el.tail
    prev = el.getprevious()
    parent.remove(el)
    if tail and tail.strip():   # mixed content (rare): keep the text that followed
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def normalize(root, version: str, source: bytes | None = None, leniency=None) -> list[Note]:
    """Upgrade an old dialect and remove vendor extensions; warn once about the ignored ones.

    source: the document's bytes, when known (lets a document without x-/X- names skip the
    walk over every element). leniency: see ``upgrade``.
    """
    notes = upgrade(root, version, leniency, _may_hold(source, b"mapMissingTo"))
    report = remove_extensions(root, vendor_names_possible(source))
    for key in [k for k in report.attributes if k.split("@")[-1] in INTERPRETED_ATTRIBUTES]:
        del report.attributes[key]          # interpreted, not ignored: no warning
    if report:
        warnings.warn("portmodel ignores vendor extensions it does not interpret (scores use the "
                      "standard content only): " + report.summary(max_names=32), PortmodelWarning,
                      stacklevel=_caller_level())
    return notes


def _caller_level() -> int:
    """stacklevel that points a warning at the first frame outside portmodel's own folders."""
    import portmodel
    own = tuple(os.path.dirname(os.path.abspath(p)) + os.sep
                for p in (__file__, portmodel.__file__))
    level = 1                    # 1 = the function calling warnings.warn
    frame = sys._getframe(1)
    while frame is not None:
        if not os.path.abspath(frame.f_code.co_filename).startswith(own):
            return level
        frame = frame.f_back
        level += 1
    return 1
