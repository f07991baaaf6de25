"""Typed builders for PMML 4.4 elements: one function per element, spec names for elements and
attributes, lxml elements out.

Documents are never assembled from string templates: every element comes from a function here,
so the writer can move onto the PMML object model unchanged in its calls. Numbers are written
in their shortest round-trip form (``repr``), float32 values in float32's shortest form.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
from lxml import etree

NS = "http://www.dmg.org/PMML-4_4"
_NSMAP = {None: NS}


def num(v: Any) -> str:
    """A number as PMML text: integers without a fraction, floats in shortest round-trip form
    (float32 values in float32's shortest form)."""
    t = type(v)
    if t is np.float32:
        if v == v and abs(v) != _INF:
            f = float(v)
            if f == int(f) and abs(f) < 1e15:
                return str(int(f))
            return str(v)       # numpy's shortest round-trip form of the float32
        return num(float(v))
    if t is float:
        if v != v:
            return "NaN"
        if v in (_INF, -_INF):
            return "INF" if v > 0 else "-INF"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if t is int:
        return str(v)
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, np.integer):
        return str(int(v))
    if isinstance(v, np.float32) and np.isfinite(v):
        f = float(v)
        if f == int(f) and abs(f) < 1e15:
            return str(int(f))
        return str(v)           # numpy's shortest round-trip form of the float32
    return num(float(v))


_INF = float("inf")


def text(v: Any) -> str:
    """A category or value as PMML text."""
    if type(v) is str:
        return v
    if isinstance(v, np.str_):
        return str(v)
    return num(v)


_element = etree.Element


def el(tag: str, attrs: dict[str, Any] | None = None, *children: etree._Element | None
       ) -> etree._Element:
    """One PMML element; attributes that are None are left out. Elements are built without a
    namespace (much faster in lxml) and moved into the PMML namespace by ``finish``."""
    e = etree.Element(tag, {k: v if type(v) is str else text(v)
                            for k, v in attrs.items() if v is not None} if attrs else None)
    if children:
        e.extend([c for c in children if c is not None])
    return e


# ---------------------------------------------------------------- header and dictionary
def pmml(*children: etree._Element) -> etree._Element:
    return el("PMML", {"version": "4.4"}, *children)


def header(description: str, application: str, version: str) -> etree._Element:
    return el("Header", {"description": description},
              el("Application", {"name": application, "version": version}))


def value(v: Any, property: str | None = None) -> etree._Element:
    return el("Value", {"value": text(v), "property": property})


def data_field(name: str, optype: str, data_type: str, values: Sequence[Any] = (),
               missing: Sequence[Any] = ()) -> etree._Element:
    return el("DataField", {"name": name, "optype": optype, "dataType": data_type},
              *[value(v) for v in values], *[value(v, "missing") for v in missing])


def data_dictionary(fields: Sequence[etree._Element]) -> etree._Element:
    return el("DataDictionary", {"numberOfFields": len(fields)}, *fields)


def mining_field(name: str, usage: str | None = None, invalid: str | None = None,
                 missing_replacement: Any = None) -> etree._Element:
    return el("MiningField", {"name": name, "usageType": usage,
                              "invalidValueTreatment": invalid,
                              "missingValueReplacement": missing_replacement})


def mining_schema(fields: Iterable[etree._Element]) -> etree._Element:
    return el("MiningSchema", None, *fields)


def output_field(name: str, feature: str, data_type: str, optype: str,
                 value_: Any = None, segment_id: str | None = None) -> etree._Element:
    return el("OutputField", {"name": name, "optype": optype, "dataType": data_type,
                              "feature": feature, "value": value_, "x-segmentId": segment_id})


def output(fields: Sequence[etree._Element]) -> etree._Element | None:
    return el("Output", None, *fields) if fields else None


# ---------------------------------------------------------------- transformations
def derived_field(name: str, optype: str, data_type: str, expr: etree._Element) -> etree._Element:
    return el("DerivedField", {"name": name, "optype": optype, "dataType": data_type}, expr)


def transformations(tag: str, fields: Sequence[etree._Element]) -> etree._Element | None:
    """TransformationDictionary or LocalTransformations holding DerivedFields."""
    return el(tag, None, *fields) if fields else None


def field_ref(name: str, map_missing_to: Any = None) -> etree._Element:
    return el("FieldRef", {"field": name, "mapMissingTo": map_missing_to})


def constant(v: Any, data_type: str | None = None, missing: bool = False) -> etree._Element:
    if missing:
        return el("Constant", {"dataType": data_type, "missing": "true"})
    c = el("Constant", {"dataType": data_type})
    c.text = text(v)
    return c


def apply(function: str, *args: etree._Element, map_missing_to: Any = None,
          default_value: Any = None) -> etree._Element:
    return el("Apply", {"function": function, "mapMissingTo": map_missing_to,
                        "defaultValue": default_value}, *args)


def norm_discrete(field: str, value_: Any, map_missing_to: Any = None) -> etree._Element:
    return el("NormDiscrete", {"field": field, "value": text(value_),
                               "mapMissingTo": map_missing_to})


def inline_table(rows: Sequence[dict[str, Any]]) -> etree._Element:
    table = el("InlineTable")
    for r in rows:
        row = el("row")
        for k, v in r.items():
            if v is None:
                continue
            c = el(k)
            c.text = text(v)
            row.append(c)
        table.append(row)
    return table


def map_values(field: str, table: dict[Any, Any], output_type: str, default: Any = None,
               map_missing_to: Any = None) -> etree._Element:
    """MapValues over one column: the input value in ``data:input``, the result in ``data:output``."""
    rows = [{"input": k, "output": v} for k, v in table.items()]
    return el("MapValues", {"outputColumn": "output", "dataType": output_type,
                            "defaultValue": default, "mapMissingTo": map_missing_to},
              el("FieldColumnPair", {"field": field, "column": "input"}),
              inline_table(rows))


def interval(closure: str, left: float | None, right: float | None) -> etree._Element:
    return el("Interval", {"closure": closure, "leftMargin": left, "rightMargin": right})


def discretize(field: str, bins: Sequence[tuple[Any, etree._Element]], data_type: str,
               default: Any = None, map_missing_to: Any = None) -> etree._Element:
    return el("Discretize", {"field": field, "dataType": data_type, "defaultValue": default,
                             "mapMissingTo": map_missing_to},
              *[el("DiscretizeBin", {"binValue": v}, iv) for v, iv in bins])


# ---------------------------------------------------------------- predicates
def true() -> etree._Element:
    return _element("True")


def simple_predicate(field: str, operator: str, value_: Any = None) -> etree._Element:
    attrs = {"field": field, "operator": operator}
    if value_ is not None:
        attrs["value"] = value_ if type(value_) is str else text(value_)
    return _element("SimplePredicate", attrs)


def simple_set_predicate(field: str, operator: str, values: Sequence[Any]) -> etree._Element:
    arr = el("Array", {"type": "string" if any(isinstance(v, str) for v in values) else "real",
                       "n": len(values)})
    arr.text = " ".join('"' + str(v).replace('"', '\\"') + '"' if isinstance(v, str) else text(v)
                        for v in values)
    return el("SimpleSetPredicate", {"field": field, "booleanOperator": operator}, arr)


def compound_predicate(operator: str, *preds: etree._Element) -> etree._Element:
    return el("CompoundPredicate", {"booleanOperator": operator}, *preds)


# ---------------------------------------------------------------- models
def regression_model(function: str, normalization: str | None, schema: etree._Element,
                     out: etree._Element | None, local: etree._Element | None,
                     tables: Sequence[etree._Element], targets: etree._Element | None = None,
                     ) -> etree._Element:
    return el("RegressionModel", {"functionName": function,
                                  "normalizationMethod": normalization},
              schema, out, targets, local, *tables)


def regression_table(intercept: float, predictors: Sequence[tuple],
                     target_category: Any = None) -> etree._Element:
    """predictors: (field, coefficient) or (field, coefficient, exponent)."""
    return el("RegressionTable", {"intercept": intercept, "targetCategory": target_category},
              *[el("NumericPredictor", {"name": p[0], "exponent": p[2] if len(p) > 2 else None,
                                        "coefficient": p[1]}) for p in predictors])


def array(values: Sequence[Any], type_: str = "real") -> etree._Element:
    a = el("Array", {"type": type_, "n": len(values)})
    a.text = " ".join(text(v) for v in values)
    return a


def score_distribution(category: Any, count: float, probability: float | None = None
                       ) -> etree._Element:
    attrs = {"value": category if type(category) is str else text(category),
             "recordCount": num(count)}
    if probability is not None:
        attrs["probability"] = num(probability)
    return _element("ScoreDistribution", attrs)


def node(score: Any, predicate: etree._Element, children: Sequence[etree._Element] = (),
         id_: Any = None, default_child: Any = None, record_count: Any = None,
         distribution: Sequence[etree._Element] = ()) -> etree._Element:
    # built directly (no generic attribute pass): a forest has tens of thousands of nodes
    attrs = {}
    if id_ is not None:
        attrs["id"] = text(id_)
    if score is not None:
        attrs["score"] = score if type(score) is str else text(score)
    if record_count is not None:
        attrs["recordCount"] = num(record_count)
    if default_child is not None:
        attrs["defaultChild"] = text(default_child)
    e = _element("Node", attrs)
    e.append(predicate)
    if distribution:
        e.extend(distribution)
    if children:
        e.extend(children)
    return e


def tree_model(function: str, schema: etree._Element, root: etree._Element,
               out: etree._Element | None = None, local: etree._Element | None = None,
               missing_strategy: str | None = None, no_true_child: str | None = None,
               split: str | None = "binarySplit") -> etree._Element:
    return el("TreeModel", {"functionName": function, "missingValueStrategy": missing_strategy,
                            "noTrueChildStrategy": no_true_child, "splitCharacteristic": split},
              schema, out, local, root)


def segment(id_: Any, predicate: etree._Element, model: etree._Element,
            weight: float | None = None) -> etree._Element:
    return el("Segment", {"id": id_, "weight": weight}, predicate, model)


def mining_model(function: str, schema: etree._Element, method: str,
                 segments: Sequence[etree._Element], out: etree._Element | None = None,
                 local: etree._Element | None = None, targets: etree._Element | None = None,
                 missing_prediction: str | None = None) -> etree._Element:
    return el("MiningModel", {"functionName": function},
              schema, out, targets, local,
              el("Segmentation", {"multipleModelMethod": method,
                                  "missingPredictionTreatment": missing_prediction}, *segments))


def targets(field: str, rescale_factor: float | None = None,
            rescale_constant: float | None = None) -> etree._Element:
    return el("Targets", None, el("Target", {"field": field, "rescaleFactor": rescale_factor,
                                             "rescaleConstant": rescale_constant}))


def model_verification(fields: Sequence[tuple[str, str, float | None]],
                       rows: Sequence[dict[str, Any]]) -> etree._Element:
    """fields: (field name, column name, precision or None for inputs)."""
    vfs = [el("VerificationField", {"field": f, "column": c, "precision": p,
                                    "zeroThreshold": p}) for f, c, p in fields]
    return el("ModelVerification", {"recordCount": len(rows)},
              el("VerificationFields", None, *vfs), inline_table(rows))


def finish(root: etree._Element) -> etree._Element:
    """The document in the PMML 4.4 namespace (the default namespace of the root)."""
    top = etree.Element(f"{{{NS}}}{root.tag}", root.attrib, nsmap=_NSMAP)
    top[:] = root[:]
    for e in top.iterdescendants():
        e.tag = f"{{{NS}}}{e.tag}"
    return top


def to_bytes(root: etree._Element) -> bytes:
    """The document's bytes, one element per line without indentation: lines keep error
    messages' line numbers useful, while indentation would be a fifth of a deep tree's bytes
    (documents are meant to be no larger than sklearn2pmml's)."""
    etree.indent(root, space="")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
