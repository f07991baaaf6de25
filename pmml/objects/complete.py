"""Fill what PMML 4.4 requires and older documents could leave out, so that the writer's output
validates: ``OutputField@dataType`` (optional before PMML 4.3).

The type filled in is the one portmodel scores the field as: taken from a compiled model's
output fields when one is given (the top-level model), else from the field's feature (string
features), the target's DataField (predictedValue) or double.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from .document import Document
from .models import Model, Segmentation
from .schema import Output, OutputField

_STRING_FEATURES = ("entityId", "clusterId", "predictedDisplayValue", "warning", "reasonCode",
                    "antecedent", "consequent", "rule", "ruleId")


def _target_type(doc: Document, model: Model, of: OutputField) -> str | None:
    name = of.target_field
    if name is None and model.mining_schema is not None:
        names = model.mining_schema.names("predicted", "target")
        name = names[0] if names else None
    field = doc.data_dictionary.field(name) if name and doc.data_dictionary else None
    return field.data_type if field is not None else None


def _static_type(doc: Document, model: Model, of: OutputField) -> str:
    feature = of.feature or "predictedValue"
    if feature == "predictedValue":
        return _target_type(doc, model, of) or "double"
    if feature in _STRING_FEATURES:
        return "string"
    if feature == "ruleValue" and (of.rule_feature or "consequent") in (
            "antecedent", "consequent", "rule", "ruleId"):
        return "string"
    return "double"


def _complete_model(doc: Document, model: Model, known: dict[str, str]) -> Model:
    content = []
    for c in model.content:
        if isinstance(c, Output) and any(f.data_type is None for f in c.fields):
            c = replace(c, fields=tuple(
                f if f.data_type is not None else
                replace(f, data_type=known.get(f.name) or _static_type(doc, model, f))
                for f in c.fields))
        elif isinstance(c, Segmentation):
            c = replace(c, segments=tuple(
                s if s.model is None else replace(s, model=_complete_model(doc, s.model, {}))
                for s in c.segments))
        elif isinstance(c, Model):        # a model embedded in it (AnomalyDetectionModel's)
            c = _complete_model(doc, c, {})
        content.append(c)
    return replace(model, content=tuple(content))


def with_output_types(doc: Document, compiled: Any = None) -> Document:
    """doc with every OutputField's dataType set. compiled: the ``PMMLModel`` loaded from the
    same document, whose output fields give the types of the top-level model's outputs."""
    known: dict[str, str] = {}
    if compiled is not None:
        known = {f.name: f.data_type for f in compiled.outputs if f.data_type}
    top = doc.model
    return replace(doc, models=tuple(
        _complete_model(doc, m, known if m is top else {}) for m in doc.models))


__all__ = ["with_output_types"]
