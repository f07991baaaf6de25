"""``portmodel validate``: is a PMML document valid, and can portmodel score it?

``validate(source)`` returns a list of ``Problem`` (line, element, message, severity), in
document order (problems without a line last), from three passes:

1. XML Schema: the PMML 4.4 XSD shipped in ``schema/``. A document of PMML 3.0 - 4.3 is checked
   after its namespace is rewritten to 4.4 and its renamed constructs are upgraded (as loading
   does; see ``dialects``); an info line says so. An attribute the 4.4 schema requires but the
   document's own version did not (OutputField@dataType before 4.3, any dataType before 3.1) is a
   warning, not an error. Vendor ``x-`` attributes and ``X-`` elements are warnings (portmodel
   ignores them), standard ``<Extension>`` elements an info line.
2. What the schema cannot say: references to unknown fields (FieldRef, predicates, MiningField
   names, OutputField targets, ...), duplicate field names, cycles among derived fields and among
   user-defined functions, classification/regression models without a target field, more
   targets than a model type scores (a warning: portmodel predicts the first), Node/rule
   ScoreDistribution probabilities that do not sum to 1, categorical values in predicates that
   are not among the field's valid values.
3. Compilation: whether portmodel can load the document (UnsupportedError and the like become
   errors; warnings raised while compiling become warnings).
4. Producer traits (``leniency``): what ``load`` accepts with a warning and ``strict=True``
   refuses (a loose or absent namespace, a Node without a predicate, ``mapMissingTo=""``, ...)
   are errors here, one per trait with its first line; an integer target of a continuous
   prediction without castInteger (a reading, not a fault) is a warning.

The semantic checks of a model read its object-model nodes (``objects.Model`` and its
MiningSchema, Output, Segmentation and body parts); a model that does not read as a whole is
read part by part, so that one bad attribute (the schema pass reports it) hides no other
finding. The document is read with the same safe parser as ``load`` (no DTD, entities or
network).
"""
from __future__ import annotations

import copy
import re
from collections import OrderedDict
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from lxml import etree

from portmodel.errors import DocumentError, UnsupportedError

from . import dialects, xmlread
from .dictionary import FieldInfo, data_field_info
from .leniency import CHOICES, Leniency
from .models.base import MODEL_TAGS
from .objects import DataField, DefineFunction, DerivedField, dependencies
from .objects.dictionary import DataDictionary
from .objects.expressions import EXPRESSION_CLASSES, Apply, own_references, reference_attributes
from .location import line_of, tag_of
from .objects.models import (FIELD_ATTRIBUTES, HEAD_ORDER, INSTANCE_COLUMN_ATTRIBUTES,
                             MODEL_ATTRS, Model, Segment, Segmentation, VariableWeight,
                             model_child_classes, schema_order)
from .objects.nodes import Fragment, Node
from .objects.predicates import PREDICATE_CLASSES, SimplePredicate, SimpleSetPredicate
from .objects.schema import Output
from .objects.transformations import LocalTransformations, TransformationDictionary
from .objects.tree import TreeNodes
from .objects.read import attribute, read_node
from .objects.rule_set import SimpleRule
from .values import parse_scalar

ERROR, WARNING, INFO = "error", "warning", "info"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "pmml-4-4.xsd"
PMML44_NS = "http://www.dmg.org/PMML-4_4"
PROBABILITY_TOLERANCE = 1e-6

def _classes_with_refs() -> tuple[type, ...]:
    """Every object-model class that names fields (``REFS``) and can sit in a model: the
    typed model children, predicates, and the classes below them."""
    seen: set[type] = set()
    out: list[type] = []
    stack: list = [*model_child_classes().values(), *PREDICATE_CLASSES.values()]
    while stack:
        cls = stack.pop()
        if not isinstance(cls, type) or cls in seen or cls is Model:
            continue
        seen.add(cls)
        if getattr(cls, "REFS", ()):
            out.append(cls)
        spec = getattr(cls, "XML", None)
        for child in (spec.children if spec is not None else ()):
            stack.extend(t for t in child.types if isinstance(t, type))
    return tuple(sorted(out, key=lambda c: c.XML.tag))


#: attributes that name a field, per element, for the parts still walked as elements (and the
#: fragments ``referenced_names`` searches): one source, the classes' ``REFS`` and the model
#: attributes of ``objects.models.FIELD_ATTRIBUTES`` (without the TrainingInstances columns)
REF_ATTRS: dict[str, tuple[str, ...]] = {
    **reference_attributes(_classes_with_refs()),
    **{tag: tuple(a for a in attrs if a not in INSTANCE_COLUMN_ATTRIBUTES.get(tag, ()))
       for tag, attrs in FIELD_ATTRIBUTES.items()},
}
#: model parts that describe the model and are not scored: not checked for references
_METADATA = {"ModelStats", "ModelExplanation", "ModelVerification", "Extension"}
_BODIES: dict[str, type] = {}


def typed_bodies() -> dict[str, type]:
    """tag -> object-model class of the model body parts the reader types (RegressionTable,
    RuleSet, Characteristics, Item, a TreeModel's Node tree, ...): ``check_model`` checks them
    on their typed nodes (``check_node``); a body the reader keeps as a fragment (a model type
    without classes, or a part that does not read) is checked on its elements. A body becomes
    typed here as soon as ``objects.models.model_child_classes`` registers its class."""
    if not _BODIES:
        _BODIES.update({tag: cls for tag, cls in model_child_classes().items()
                        if tag not in HEAD_ORDER and tag not in _METADATA
                        and tag not in MODEL_TAGS and tag != "Segmentation"})
    return _BODIES
#: (element, attribute) -> the PMML version from which the schema requires it; "*" = any element
_REQUIRED_SINCE = {("OutputField", "dataType"): (4, 3), ("*", "dataType"): (3, 1)}
_NEEDS_TARGET = ("classification", "regression")
#: model types that score several targets (JPMML-Evaluator too); the others take one
_MULTI_TARGET = ("MiningModel", "NearestNeighborModel", "NeuralNetwork")


@dataclass(frozen=True)
class Problem:
    """One finding: where (line, element), what, and how bad (error, warning or info)."""

    line: int | None
    element: str | None
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return format_problem(self)


def format_problem(p: Problem) -> str:
    """``LINE: SEVERITY: message`` (``-`` when the line is unknown)."""
    return f"{p.line if p.line is not None else '-'}: {p.severity}: {p.message}"


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == ERROR for p in problems)


# ------------------------------------------------------------------ entry point

def validate(source: Any) -> list[Problem]:
    """Check a PMML document (path, file object, bytes or XML text); problems in line order."""
    data = xmlread.read_bytes(source)
    leniency = Leniency()
    try:
        root, version = xmlread.parse(data, leniency)
    except DocumentError as exc:
        return [Problem(exc.line, exc.element, _bare(exc), ERROR)]
    problems: list[Problem] = []
    notes = dialects.upgrade(root, version, leniency)
    if version != "4.4":
        problems.append(Problem(
            root.sourceline, "PMML",
            f"PMML {version} document: checked against the PMML 4.4 schema after rewriting its "
            f"namespace{f' and upgrading {len(notes)} renamed construct(s)' if notes else ''}",
            INFO))
    problems += [Problem(n.line, n.element, f"upgraded: {n.message}", INFO) for n in notes]
    problems += schema_problems(root, version)
    report = dialects.remove_extensions(root)
    problems += _extension_problems(report)
    problems += semantic_problems(root)
    problems += compile_problems(root, version, problems, leniency)
    # what load accepts with a warning and strict=True refuses: errors of the document
    problems += [Problem(line, element, message, WARNING if trait in CHOICES else ERROR)
                 for trait, line, element, message in leniency.messages()]
    order = {INFO: 0, ERROR: 1, WARNING: 2}
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, order[p.severity]))


def _bare(exc: DocumentError) -> str:
    """The message of a DocumentError without its " (<El> at line N)" suffix."""
    text = str(exc)
    where = []
    if exc.element:
        where.append(f"<{exc.element}>")
    if exc.line:
        where.append(f"line {exc.line}")
    suffix = f" ({' at '.join(where)})"
    return text[: -len(suffix)] if where and text.endswith(suffix) else text


# ------------------------------------------------------------------ 1. XML Schema

_schema: etree.XMLSchema | None = None


def pmml_schema() -> etree.XMLSchema:
    """The PMML 4.4 XML Schema (parsed once, safely)."""
    global _schema
    if _schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        _schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))
    return _schema


_ELEMENT_RE = re.compile(r"^Element '([^']+)'")
_REQUIRED_RE = re.compile(r"The attribute '([^']+)' is required but missing")


def schema_problems(root, version: str) -> list[Problem]:
    """Validate a (namespace-free, upgraded) document tree against the PMML 4.4 schema.

    Works on a copy: vendor x- attributes and X- elements (reported separately) are removed and
    every element is put in the PMML 4.4 namespace.
    """
    doc = copy.deepcopy(root)
    _, doomed, attrs = dialects.find_extensions(doc)
    for el, name in attrs:
        del el.attrib[name]
    for el in doomed:
        if el.tag != "Extension" and el.getparent() is not None:
            el.getparent().remove(el)
    for el in doc.iter():
        if isinstance(el.tag, str):
            el.tag = f"{{{PMML44_NS}}}{el.tag}"
    schema = pmml_schema()
    if schema.validate(doc):
        return []
    out = []
    v = dialects._v(version)
    for err in schema.error_log:
        msg = err.message.replace(f"{{{PMML44_NS}}}", "")
        m = _ELEMENT_RE.match(msg)
        element = m.group(1) if m else None
        severity = ERROR
        req = _REQUIRED_RE.search(msg)
        if req and element:
            attr = req.group(1)
            since = _REQUIRED_SINCE.get((element, attr), _REQUIRED_SINCE.get(("*", attr)))
            if since is not None and v < since:
                severity = WARNING
                msg += (f" (required since PMML {since[0]}.{since[1]}; the document is PMML "
                        f"{version})")
        out.append(Problem(err.line or None, element, f"schema: {msg}", severity))
    return out


def _extension_problems(report: dialects.ExtensionReport) -> list[Problem]:
    out = []
    xel = {k: v for k, v in report.elements.items() if k.startswith("<X-")}
    ext = {k: v for k, v in report.elements.items() if not k.startswith("<X-")}
    if ext:
        r = dialects.ExtensionReport(elements=OrderedDict(ext))
        first = min((x for v in ext.values() for x in v if x is not None), default=None)
        out.append(Problem(first, "Extension", "portmodel ignores " + r.summary(), INFO))
    if xel or report.attributes:
        r = dialects.ExtensionReport(elements=OrderedDict(xel), attributes=report.attributes)
        first = min((x for v in (*xel.values(), *report.attributes.values()) for x in v
                     if x is not None), default=None)
        out.append(Problem(first, None, "not PMML 4.4 (vendor extensions, ignored by "
                           "portmodel): " + r.summary(), WARNING))
    return out


# ------------------------------------------------------------------ 2. semantic checks

def semantic_problems(root) -> list[Problem]:
    """Field references, duplicates, cycles, targets, probabilities, categorical values."""
    checker = _Checker(root)
    checker.run()
    return checker.out


class _Checker:
    def __init__(self, root):
        self.root = root
        self.out: list[Problem] = []

    def add_at(self, node, message: str, severity: str = ERROR) -> None:
        """A problem at an object-model node or a Model (or at the element of a part that
        does not read): its element name and line (``location``)."""
        self.out.append(Problem(line_of(node), tag_of(node), message, severity))

    # -- document level
    def run(self) -> None:
        root = self.root
        # name -> (its typed DataField or DerivedField, or the element of one that does not
        # read, and what the compiler knows of it)
        scope: dict[str, tuple[Any, FieldInfo | None]] = {}
        # each dictionary read typed as a whole; one that does not read (a bad attribute
        # somewhere: the schema pass reports it) part by part, so that one bad part does not
        # hide the others' findings: typed parts, and the elements of those that do not read
        dd = root.find("DataDictionary")
        whole = _read(DataDictionary, dd) if dd is not None else None
        fields = list(whole.fields) if whole is not None else \
            [_read(DataField, df) or df for df in (dd.findall("DataField") if dd is not None
                                                   else [])]
        for definer in fields:
            name = _name(definer)
            if not name:
                continue
            if name in scope:
                self.add_at(definer, f"duplicate DataField name {name!r} (first at line "
                                     f"{line_of(scope[name][0])})")
                continue
            try:
                info = data_field_info(definer if isinstance(definer, Node)
                                       else read_node(DataField, definer))
            except DocumentError as exc:
                self.add_at(definer, _bare(exc))
                info = None
            scope[name] = (definer, info)
        td = root.find("TransformationDictionary")
        tdict = _read(TransformationDictionary, td) if td is not None else None
        if tdict is not None:
            functions: list = list(tdict.functions)
            glob: list = list(tdict.derived_fields)
        else:
            functions = td.findall("DefineFunction") if td is not None else []
            glob = [_read(DerivedField, d) or d
                    for d in (td.findall("DerivedField") if td is not None else [])]
        self.check_functions(functions, scope)
        self.declare(glob, scope, "TransformationDictionary")
        for d in glob:
            if isinstance(d, Node):
                self.check_node(d, scope)
            else:
                self.check_refs(d, scope)
        self.check_cycles(glob)
        for model in _models(root):
            self.check_model(_typed_model(model), scope)

    def declare(self, derived: list, scope: dict, where: str) -> None:
        """Add DerivedFields (typed, or elements that do not read) to scope, reporting names
        already taken."""
        from .expressions import derived_field_info
        for d in derived:
            name = _name(d)
            if not name:
                continue
            if name in scope:
                first = scope[name][0]
                self.add_at(d, f"DerivedField {name!r} in {where} reuses the name of the "
                               f"{tag_of(first)} at line {line_of(first)} (field names must "
                               "be unique)")
                continue
            try:
                info = derived_field_info(d) if isinstance(d, Node) else None
            except DocumentError:
                info = None
            scope[name] = (d, info)

    # -- functions
    def check_functions(self, functions: list, scope: dict) -> None:
        """DefineFunctions (typed, or elements read here; the element of one that does not
        read): names and parameter names once each, bodies naming only parameters, no call
        cycles."""
        seen: dict[str, Any] = {}
        calls: dict[str, set[str]] = {}
        for fn in functions:
            node = fn if isinstance(fn, DefineFunction) else _read(DefineFunction, fn)
            name = _name(node if node is not None else fn)
            if name in seen:
                self.add_at(node if node is not None else fn, f"duplicate DefineFunction "
                            f"{name!r} (first at line {line_of(seen[name])})")
                continue
            seen[name] = node if node is not None else fn
            params: dict[str, tuple[Any, None]] = {}
            for p in (node.parameters if node is not None else fn.findall("ParameterField")):
                if _name(p) in params:
                    self.add_at(p, f"duplicate ParameterField {_name(p)!r} in function {name!r}")
                params[_name(p)] = (p, None)
            body = node.expression if node is not None else None
            for sub, _attr, ref in (body.references() if body is not None else ()):
                if ref in params:
                    continue
                tag = sub.XML.tag
                if ref in scope:
                    self.add_at(sub, f"<{tag}> in function {name!r} refers to field {ref!r}, "
                                     "which is not one of its parameters", WARNING)
                else:
                    self.add_at(sub, f"<{tag}> refers to unknown field {ref!r} (function "
                                     f"{name!r} has parameters: {', '.join(params) or 'none'})")
            calls[name] = ({n.function for n in body.walk() if isinstance(n, Apply)}
                           if body is not None else {a.get("function") for a in fn.iter("Apply")})
        for cyc in _cycles({k: v & set(calls) for k, v in calls.items()}):
            self.add_at(seen[cyc[0]], "user-defined functions call each other in a cycle: "
                                      + " -> ".join(cyc))

    # -- references
    def check_refs(self, el, scope: dict, skip_models: bool = False) -> None:
        """Every field-naming attribute under el must name a field in scope."""
        stack = [el]
        while stack:
            node = stack.pop()
            tag = node.tag if isinstance(node.tag, str) else None
            if tag is None:
                continue
            if node is not el and (tag in _METADATA or (skip_models and tag in MODEL_TAGS)):
                continue
            cls = EXPRESSION_CLASSES.get(tag)
            if cls is not None:          # an expression: its references from the object model
                expr = _read(cls, node)
                for sub, attr, ref in (expr.references() if expr is not None else ()):
                    if ref not in scope:
                        self.add_at(sub, _unknown(sub.XML.tag, attr, ref))
                continue
            if tag in PREDICATE_CLASSES:  # a predicate: checked on its object-model node
                pred = _read(PREDICATE_CLASSES[tag], node)
                if pred is not None:
                    self.check_node(pred, scope)
                    continue
            for attr in REF_ATTRS.get(tag, ()):
                ref = node.get(attr)
                if ref is not None and ref not in scope:
                    self.add_at(node, _unknown(tag, attr, ref))
            stack.extend(reversed([c for c in node if isinstance(c.tag, str)]))

    def check_node(self, node, scope: dict) -> None:
        """A typed body part (or predicate): every field it names (``REFS`` of its nodes,
        expressions and predicates included) must be in scope; predicate values; rule
        ScoreDistribution probabilities."""
        if isinstance(node, TreeNodes):      # (flat: its simple predicates live in arrays)
            for i in range(len(node)):
                pred = node.predicate(i)
                if pred is not None:
                    self.check_node(pred, scope)
            self.check_tree_distributions(node)
            return
        for n in node.walk():
            if getattr(n, "REFS", ()):
                for attr, ref in own_references(n):
                    if ref not in scope:
                        self.add_at(n, _unknown(n.XML.tag, attr, ref))
            if isinstance(n, (SimplePredicate, SimpleSetPredicate)):
                self.check_predicate_values(n, scope)
            elif isinstance(n, SimpleRule):
                ident = next((f" {k}={v!r}" for k, v in (("id", n.id), ("score", n.score))
                              if v is not None), "")
                self.check_probabilities(n.line, "SimpleRule", f"<SimpleRule{ident}>",
                                         [sd.probability for sd in n.distributions])

    def check_predicate_values(self, node, scope: dict) -> None:
        """Values a typed Simple(Set)Predicate compares with a categorical field should be
        among its valid values."""
        entry = scope.get(node.field)
        info = entry[1] if entry else None
        if info is None or info.op_type not in ("categorical", "ordinal") or not info.values:
            return
        tag = node.XML.tag
        if isinstance(node, SimplePredicate):
            if node.operator in ("isMissing", "isNotMissing") or node.value is None:
                return
            texts = [node.value]
        else:
            if node.array is None:
                return
            from .predicates import parse_array
            try:
                texts = parse_array(node.array, "string")
            except DocumentError:
                return
        known = set(info.values)
        bad = []
        for t in texts:
            try:
                v = parse_scalar(t, info.data_type)
            except ValueError:
                self.add_at(node, f"<{tag}> value {t!r} is not a {info.data_type} (field "
                                  f"{info.name!r})")
                continue
            if v not in known:
                bad.append(t)
        if bad:
            shown = ", ".join(repr(v) for v in info.values[:8])
            more = ", ..." if len(info.values) > 8 else ""
            self.add_at(node, f"<{tag}> compares {info.op_type} field {info.name!r} with "
                              f"{', '.join(repr(b) for b in bad)}, not among its valid values "
                              f"({shown}{more})", WARNING)

    # -- models
    def check_model(self, model: Model, parent_scope: dict,
                    inherited_target: bool = False) -> None:
        """A typed model (``_typed_model``): its MiningSchema against the parent's fields (a
        name used twice, a name nothing defines, more targets than the model type takes), its
        Output (names used twice or taken by a field), then each part of its content in the
        scope of its fields, then its sub-models.

        Segment models may leave the target to their MiningModel (inherited_target)."""
        tag = model.tag
        scope = dict(parent_scope)
        targets = self.check_mining_schema(model, parent_scope, scope)
        function = model.function_name
        declared = [t.field for t in (model.targets.targets if model.targets is not None
                                      else ()) if t.field]
        has_target = bool(targets or declared) or inherited_target
        if function in _NEEDS_TARGET and not has_target:
            self.add_at(model, f"<{tag}> with functionName={function!r} has no target field (no "
                               "MiningField with usageType 'predicted' or 'target', no "
                               "Target@field)", WARNING)
        self.declare(list(model.local_fields()), scope, f"the LocalTransformations of <{tag}>")
        self.check_cycles(list(model.local_fields()))
        # fields sub-models expose to each other and to their parent (segment outputs)
        segmentation = model.segmentation
        sub_models = [s.model for s in (segmentation.segments if segmentation is not None
                                        else ()) if s.model is not None]
        sub_models += [c for c in model.content if isinstance(c, Model)]   # an embedded model
        exposed: dict[str, tuple[Any, None]] = {}
        for sub in sub_models:
            for of in (sub.output.fields if sub.output is not None else ()):
                exposed.setdefault(of.name, (of, None))
        outputs = self.check_output_names(model.output, scope)
        inner = {**scope, **{k: v for k, v in exposed.items() if k not in scope}}
        for part in model.content:
            part_tag = tag_of(part)
            if part_tag == "MiningSchema" or part_tag in _METADATA or isinstance(part, Model):
                continue                 # (an embedded model: checked as a sub-model below)
            if isinstance(part, Fragment):
                # a body kept as a fragment, or a part that does not read (the schema pass
                # reports why): its elements
                self.check_refs(part.element, {**inner, **outputs} if part_tag == "Output"
                                else inner, skip_models=True)
            elif isinstance(part, Output):
                self.check_node(part, {**inner, **outputs})
                self.check_segment_ids(part, segmentation)
            elif isinstance(part, Segmentation):
                self.check_segmentation(part, inner)
            else:
                self.check_node(part, inner)
        for attr, ref in model.named_fields().items():
            if attr not in INSTANCE_COLUMN_ATTRIBUTES.get(tag, ()) and ref not in inner:
                self.add_at(model, _unknown(tag, attr, ref))
        for sub in sub_models:   # a segment's model may score its MiningModel's target
            self.check_model(sub, inner, inherited_target=True)

    def check_mining_schema(self, model: Model, parent_scope: dict, scope: dict) -> list[str]:
        """The MiningFields of a typed model: each name once and visible in parent_scope; an
        optype given there overrides the field's in scope. Returns the target names (a model
        type that scores one target and has more gets a warning: portmodel scores the first,
        JPMML-Evaluator refuses the model)."""
        ms = model.mining_schema
        targets: list[str] = []
        seen: dict[str, Any] = {}
        for mf in (ms.fields if ms is not None else ()):
            name = mf.name
            if name in seen:
                self.add_at(mf, f"duplicate MiningField {name!r} (first at line "
                                f"{seen[name].line})")
                continue
            seen[name] = mf
            if name not in parent_scope:
                self.add_at(mf, f"MiningField {name!r} names no DataField or DerivedField "
                                f"visible to this <{model.tag}>")
                continue
            if mf.usage_type in ("predicted", "target"):
                targets.append(name)
            if mf.optype and scope[name][1] is not None:
                info = copy.copy(scope[name][1])
                info.op_type = mf.optype
                scope[name] = (scope[name][0], info)
        if len(targets) > 1 and model.tag not in _MULTI_TARGET:
            second = seen[targets[1]]
            self.add_at(second, f"<{model.tag}> has {len(targets)} target fields "
                                f"({', '.join(map(repr, targets))}); it scores one: portmodel "
                                f"predicts the first, {targets[0]!r} (only "
                                f"{', '.join(_MULTI_TARGET)} take several)", WARNING)
        return targets

    def check_output_names(self, output: Output | None, scope: dict) -> dict:
        """The OutputFields of a typed Output: each name once; a name that a data or derived
        field in scope already has is a warning. Returns name -> (OutputField, None)."""
        outputs: dict[str, tuple[Any, None]] = {}
        for of in (output.fields if output is not None else ()):
            name = of.name
            if name in outputs:
                self.add_at(of, f"duplicate OutputField {name!r} (first at line "
                                f"{outputs[name][0].line})")
                continue
            outputs[name] = (of, None)
            if name in scope and tag_of(scope[name][0]) != "OutputField":
                first = scope[name][0]
                self.add_at(of, f"OutputField {name!r} has the name of the {tag_of(first)} at "
                                f"line {line_of(first)}", WARNING)
        return outputs

    def check_segmentation(self, segmentation: Segmentation, scope: dict) -> None:
        """A typed Segmentation without its models (each is checked as a sub-model): its
        LocalTransformations, and each Segment's predicate and VariableWeight name fields in
        scope."""
        if segmentation.local_transformations is not None:
            self.check_node(segmentation.local_transformations, scope)
        for seg in segmentation.segments:
            for part in (seg.predicate, seg.variable_weight):
                if isinstance(part, Fragment):
                    self.check_refs(part.element, scope)
                elif part is not None:
                    self.check_node(part, scope)

    def check_segment_ids(self, output: Output, segmentation: Segmentation | None) -> None:
        ids = set()
        for i, seg in enumerate(segmentation.segments if segmentation is not None else ()):
            ids.add(seg.id if seg.id is not None else str(i + 1))
        for of in output.fields:
            sid = of.segment_id
            if sid is not None and sid not in ids:
                self.add_at(of, f"OutputField {of.name!r} names segmentId={sid!r}, which is "
                                "no Segment of this model")

    # -- derived field cycles
    def check_cycles(self, derived: list) -> None:
        """Cycles among DerivedFields (typed; an element that does not read has no known
        dependencies)."""
        names = {_name(d): d for d in derived if _name(d)}
        deps = {name: set(refs) for name, refs in dependencies(
            {name: d if isinstance(d, Node) else DerivedField()
             for name, d in names.items()}).items()}
        for cyc in _cycles(deps):
            self.add_at(names[cyc[0]], "derived fields form a cycle: " + " -> ".join(cyc))

    # -- probabilities
    def check_tree_distributions(self, nodes: TreeNodes) -> None:
        """The ScoreDistribution probabilities of each Node of a typed tree (its flat
        columns), as ``check_probabilities`` checks a rule's."""
        by_node: dict[int, list[float | None]] = {}
        for i, p in zip(nodes.sd_node, nodes.sd_probability):
            by_node.setdefault(i, []).append(p)
        for i, probs in by_node.items():
            ident = next((f" {k}={v!r}" for k, v in (("id", nodes.id[i]),
                                                      ("score", nodes.score[i]))
                          if v is not None), "")
            line = nodes.lines[i] if i < len(nodes.lines) else None
            self.check_probabilities(line, "Node", f"<Node{ident}>", probs)

    def check_probabilities(self, line: int | None, tag: str, what: str,
                            probs: list[float | None]) -> None:
        """The ScoreDistribution probabilities of one node or rule: all or none given, and
        summing to 1."""
        if not probs or all(p is None for p in probs):
            return
        if any(p is None for p in probs):
            self.out.append(Problem(line, tag, f"{what}: some ScoreDistribution elements give a "
                                               "probability, others do not", WARNING))
            return
        total = sum(probs)
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            self.out.append(Problem(line, tag, f"{what}: ScoreDistribution probabilities sum to "
                                               f"{total:.10g}, not 1 (tolerance "
                                               f"{PROBABILITY_TOLERANCE:g})", ERROR))


def _read(cls, el):
    """el as an object-model node, or None when it does not read (a bad attribute: the schema
    pass reports it)."""
    try:
        return read_node(cls, el)
    except DocumentError:
        return None


def _unknown(tag: str, attr: str, ref: str) -> str:
    if attr == "field":
        return f"<{tag}> refers to unknown field {ref!r}"
    return f"<{tag}> {attr}={ref!r} names no known field"


def _name(d) -> str | None:
    """The name of a typed node (DataField, DerivedField, DefineFunction, ParameterField) or
    of the element of one that does not read."""
    return d.name if isinstance(d, Node) else d.get("name")


def _models(parent) -> list:
    return [c for c in parent if isinstance(c.tag, str) and c.tag in MODEL_TAGS]


def _typed_model(el) -> Model:
    """A model element as a typed ``Model``. When it does not read as a whole (a bad attribute
    somewhere: the schema pass reports it), each child is read on its own: a part that does
    not read is kept as a ``Fragment`` (checked on its elements), a nested model or a
    Segmentation that does not read is rebuilt part by part the same way, so one bad attribute
    hides no other finding."""
    node = _read(Model, el)
    if node is not None:
        return node
    classes = model_child_classes()
    content = []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag in MODEL_TAGS:
            content.append(_typed_model(child))
        elif tag == "Segmentation":
            content.append(_read(Segmentation, child) or _lenient_segmentation(child))
        else:
            cls = classes.get(tag)
            content.append((_read(cls, child) if cls is not None else None) or Fragment(child))
    common = {}
    for a in MODEL_ATTRS:
        try:
            common[a.py] = attribute(el, a)
        except DocumentError:
            common[a.py] = None
    return Model(tag=el.tag, attributes=tuple((k, v) for k, v in el.attrib.items()
                                              if k not in {a.xml for a in MODEL_ATTRS}
                                              and k[:2] != "x-"),
                 content=schema_order(content), line=el.sourceline, **common)


def _lenient_segmentation(el) -> Segmentation:
    """A Segmentation that does not read as a whole, segment by segment (see
    ``_typed_model``); its attributes are not needed by the checks."""
    lt = el.find("LocalTransformations")
    segments = []
    for seg in el.findall("Segment"):
        kw: dict[str, Any] = {"id": seg.get("id"), "line": seg.sourceline}
        for child in seg:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag in MODEL_TAGS:
                kw["model"] = _typed_model(child)
            elif tag == "VariableWeight":
                kw["variable_weight"] = _read(VariableWeight, child) or Fragment(child)
            elif tag in PREDICATE_CLASSES:
                kw["predicate"] = _read(PREDICATE_CLASSES[tag], child) or Fragment(child)
        segments.append(Segment(**kw))
    return Segmentation(local_transformations=_read(LocalTransformations, lt)
                        if lt is not None else None,
                        segments=tuple(segments), line=el.sourceline)


def _cycles(deps: dict[str, set[str]]) -> list[list[str]]:
    """Each dependency cycle once, as [a, b, ..., a], starting at its first name in deps.
    Depth-first with an explicit stack: chains may be thousands of fields long."""
    state: dict[str, int] = {}
    found: list[list[str]] = []
    seen_sets: set[frozenset] = set()
    order = {n: i for i, n in enumerate(deps)}

    def successors(n: str):
        return iter(sorted(deps.get(n, ()), key=lambda d: order.get(d, len(order))))

    for start in deps:
        if state.get(start) is not None:
            continue
        state[start] = 1
        path = [start]
        stack = [successors(start)]
        while stack:
            d = next(stack[-1], None)
            if d is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(d) == 1:
                cyc = path[path.index(d):] + [d]
                key = frozenset(cyc)
                if key not in seen_sets:
                    seen_sets.add(key)
                    found.append(cyc)
            elif state.get(d) is None:
                state[d] = 1
                path.append(d)
                stack.append(successors(d))
    return found


# ------------------------------------------------------------------ 3. compilation

def compile_problems(root, version: str, known: list[Problem],
                     leniency: Leniency | None = None) -> list[Problem]:
    """Load the document with portmodel; what stops it (or what it warns about) as problems."""
    from .document import PMMLModel
    out: list[Problem] = []
    error_lines = {p.line for p in known if p.severity == ERROR}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            PMMLModel(root, version, leniency)
        except UnsupportedError as exc:
            out.append(Problem(exc.line, exc.element,
                               f"portmodel cannot score this document: {_bare(exc)}", ERROR))
        except DocumentError as exc:
            if exc.line is None or exc.line not in error_lines:
                out.append(Problem(exc.line, exc.element,
                                   f"portmodel rejects the document: {_bare(exc)}", ERROR))
        except Exception as exc:   # a bug in portmodel: still a finding, not a crash
            out.append(Problem(None, None, f"portmodel failed to compile the document "
                                           f"({type(exc).__name__}: {exc})", ERROR))
    for w in caught:
        out.append(Problem(None, None, f"while compiling: {w.message}", WARNING))
    return out
