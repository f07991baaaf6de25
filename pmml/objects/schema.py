"""What a model takes and gives: MiningSchema/MiningField, Targets/Target/TargetValue,
Output/OutputField."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .dictionary import Value
from .expressions import EXPRESSIONS, Expression
from .nodes import (BOOLEAN, CHOICE, DATA_TYPE, INTEGER, NUMBER, OP_TYPE, Attr, Child, Fragment,
                    Node, Spec, line_field)

USAGE_TYPES = ("active", "predicted", "target", "supplementary", "group", "order",
               "frequencyWeight", "analysisWeight")
MISSING_TREATMENTS = ("asIs", "asMean", "asMode", "asMedian", "asValue", "returnInvalid")
INVALID_TREATMENTS = ("returnInvalid", "asIs", "asMissing", "asValue")
OUTLIERS = ("asIs", "asMissingValues", "asExtremeValues")
RESULT_FEATURES = ("predictedValue", "predictedDisplayValue", "transformedValue", "decision",
                   "probability", "affinity", "residual", "standardError", "standardDeviation",
                   "clusterId", "clusterAffinity", "entityId", "entityAffinity", "warning",
                   "ruleValue", "reasonCode", "antecedent", "consequent", "rule", "ruleId",
                   "confidence", "support", "lift", "leverage")
RULE_FEATURES = ("antecedent", "consequent", "rule", "ruleId", "confidence", "support", "lift",
                 "leverage", "affinity")


@dataclass(frozen=True, slots=True)
class MiningField(Node):
    name: str | None = None
    usage_type: str | None = None
    optype: str | None = None
    importance: float | None = None
    outliers: str | None = None
    low_value: float | None = None
    high_value: float | None = None
    missing_value_replacement: str | None = None
    missing_value_treatment: str | None = None
    invalid_value_treatment: str | None = None
    invalid_value_replacement: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("MiningField", (
        Attr("name", "name", required=True),
        Attr("usage_type", "usageType", CHOICE, options=USAGE_TYPES),
        Attr("optype", "optype", OP_TYPE), Attr("importance", "importance", NUMBER),
        Attr("outliers", "outliers", CHOICE, options=OUTLIERS),
        Attr("low_value", "lowValue", NUMBER), Attr("high_value", "highValue", NUMBER),
        Attr("missing_value_replacement", "missingValueReplacement"),
        Attr("missing_value_treatment", "missingValueTreatment", CHOICE,
             options=MISSING_TREATMENTS),
        Attr("invalid_value_treatment", "invalidValueTreatment", CHOICE,
             options=INVALID_TREATMENTS),
        Attr("invalid_value_replacement", "invalidValueReplacement")))


@dataclass(frozen=True, slots=True)
class MiningSchema(Node):
    fields: tuple[MiningField, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("MiningSchema", children=(Child("fields", (MiningField,), True),))

    def names(self, *usage: str) -> tuple[str, ...]:
        """Field names, of the given usage types (absent usageType: active) if any given."""
        return tuple(f.name for f in self.fields
                     if not usage or (f.usage_type or "active") in usage)


@dataclass(frozen=True, slots=True)
class TargetValue(Node):
    value: str | None = None
    display_value: str | None = None
    prior_probability: float | None = None
    default_value: float | None = None
    partition: Fragment | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TargetValue", (
        Attr("value", "value"), Attr("display_value", "displayValue"),
        Attr("prior_probability", "priorProbability", NUMBER),
        Attr("default_value", "defaultValue", NUMBER)),
        (Child("partition", ("Partition",)),))


@dataclass(frozen=True, slots=True)
class Target(Node):
    field: str | None = None
    optype: str | None = None
    cast_integer: str | None = None
    min: float | None = None
    max: float | None = None
    rescale_constant: float | None = None
    rescale_factor: float | None = None
    values: tuple[TargetValue, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("Target", (
        Attr("field", "field"), Attr("optype", "optype", OP_TYPE),
        Attr("cast_integer", "castInteger", CHOICE, options=("round", "ceiling", "floor")),
        Attr("min", "min", NUMBER), Attr("max", "max", NUMBER),
        Attr("rescale_constant", "rescaleConstant", NUMBER),
        Attr("rescale_factor", "rescaleFactor", NUMBER)),
        (Child("values", (TargetValue,), True),))


@dataclass(frozen=True, slots=True)
class Targets(Node):
    targets: tuple[Target, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Targets", children=(Child("targets", (Target,), True),))


@dataclass(frozen=True, slots=True)
class OutputField(Node):
    name: str | None = None
    display_name: str | None = None
    optype: str | None = None
    data_type: str | None = None
    target_field: str | None = None
    feature: str | None = None
    value: str | None = None
    rule_feature: str | None = None
    algorithm: str | None = None
    rank: int | None = None
    rank_basis: str | None = None
    rank_order: str | None = None
    is_multi_valued: str | None = None
    segment_id: str | None = None
    is_final_result: bool | None = None
    decisions: Fragment | None = None
    values: tuple[Value, ...] = ()
    expression: Expression | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("target_field",)
    XML: ClassVar[Spec] = Spec("OutputField", (
        Attr("name", "name", required=True), Attr("display_name", "displayName"),
        Attr("optype", "optype", OP_TYPE), Attr("data_type", "dataType", DATA_TYPE),
        Attr("target_field", "targetField"),
        Attr("feature", "feature", CHOICE, options=RESULT_FEATURES), Attr("value", "value"),
        Attr("rule_feature", "ruleFeature", CHOICE, options=RULE_FEATURES),
        Attr("algorithm", "algorithm", CHOICE, options=(
            "recommendation", "exclusiveRecommendation", "ruleAssociation")),
        Attr("rank", "rank", INTEGER),
        Attr("rank_basis", "rankBasis", CHOICE, options=(
            "confidence", "support", "lift", "leverage", "affinity")),
        Attr("rank_order", "rankOrder", CHOICE, options=("descending", "ascending")),
        Attr("is_multi_valued", "isMultiValued"), Attr("segment_id", "segmentId"),
        Attr("is_final_result", "isFinalResult", BOOLEAN)),
        (Child("decisions", ("Decisions",)), Child("values", (Value,), True),
         Child("expression", EXPRESSIONS)))

    def fields(self) -> tuple[str, ...]:
        """The fields this output field's expression names."""
        return self.expression.fields() if self.expression is not None else ()


@dataclass(frozen=True, slots=True)
class Output(Node):
    fields: tuple[OutputField, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Output", children=(Child("fields", (OutputField,), True),))
