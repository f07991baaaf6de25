"""Model elements. ``Model`` keeps any model element faithfully: its common attributes typed,
the others as text, and its children in document order, typed where the object model has a
class for them (MiningSchema, Output, ModelStats, Targets, LocalTransformations,
ModelVerification, Segmentation) and kept as ``Fragment`` otherwise (the model body: nodes,
regression tables, neurons, ...). ``Segmentation``/``Segment`` nest models recursively.

Typed bodies so far: RegressionModel (``regression``), NeuralNetwork (``neural``), TreeModel
(``tree``: its Node hierarchy as flat tuples), GeneralRegressionModel (``general_regression``),
NaiveBayesModel (``naive_bayes``), SupportVectorMachineModel (``svm``), ClusteringModel,
NearestNeighborModel and GaussianProcessModel (``clustering``), RuleSetModel (``rule_set``),
AssociationModel (``association``), Scorecard (``scorecard``), AnomalyDetectionModel
(``anomaly_detection``: the model it embeds is a ``Model`` in its content), TimeSeriesModel
(``time_series``), BaselineModel (``baseline``) and TextModel (``text``). Other bodies are
fragments, written back as read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

from .nodes import CHOICE, NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .predicates import PREDICATES, Predicate
from .schema import MiningSchema, Output, Targets
from .transformations import DerivedField, LocalTransformations
from .verification import ModelStats, ModelVerification

#: model elements of PMML 4.4
MODEL_TAGS = ("AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel",
              "BaselineModel", "ClusteringModel", "GaussianProcessModel",
              "GeneralRegressionModel", "MiningModel", "NaiveBayesModel", "NearestNeighborModel",
              "NeuralNetwork", "RegressionModel", "RuleSetModel", "SequenceModel",
              "Scorecard", "SupportVectorMachineModel", "TextModel", "TimeSeriesModel",
              "TreeModel")
MINING_FUNCTIONS = ("associationRules", "sequences", "classification", "regression",
                    "clustering", "timeSeries", "mixed")
#: model-specific attributes that name a field, by model tag (``Model.fields``). They are
#: kept as text with the model's other attributes; this table is what makes them references.
FIELD_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "RegressionModel": ("targetFieldName",),
    "GeneralRegressionModel": ("targetVariableName", "offsetVariable", "trialsVariable",
                               "startTimeVariable", "endTimeVariable", "statusVariable",
                               "subjectIDVariable", "baselineStrataVariable"),
    "NearestNeighborModel": ("instanceIdVariable",),
}
#: of those, the ones that name a column of the model's TrainingInstances (an InstanceField),
#: which need not be a field of the document: not inputs, and not checked as references
INSTANCE_COLUMN_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "NearestNeighborModel": ("instanceIdVariable",),
}
#: the typed attributes every model element has
MODEL_ATTRS = (Attr("model_name", "modelName"),
               Attr("function_name", "functionName", CHOICE, options=MINING_FUNCTIONS),
               Attr("algorithm_name", "algorithmName"),
               Attr("is_scorable", "isScorable", "boolean"))


@dataclass(frozen=True, slots=True)
class Model(Node):
    """Any model element (see the module docstring)."""

    tag: str | None = None
    model_name: str | None = None
    function_name: str | None = None
    algorithm_name: str | None = None
    is_scorable: bool | None = None
    attributes: tuple[tuple[str, str], ...] = ()     # the other attributes, as text
    content: tuple[Any, ...] = ()                    # children in document order
    extensions: tuple[Fragment, ...] = ()            # (kept in content, in place)
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()

    def children(self) -> Iterator[Node]:
        return (c for c in self.content if isinstance(c, Node))

    def _first(self, cls):
        return next((c for c in self.content if isinstance(c, cls)), None)

    @property
    def mining_schema(self) -> MiningSchema | None:
        return self._first(MiningSchema)

    @property
    def output(self) -> Output | None:
        return self._first(Output)

    @property
    def targets(self) -> Targets | None:
        return self._first(Targets)

    @property
    def local_transformations(self) -> LocalTransformations | None:
        return self._first(LocalTransformations)

    @property
    def model_stats(self) -> ModelStats | None:
        return self._first(ModelStats)

    @property
    def verification(self) -> ModelVerification | None:
        return self._first(ModelVerification)

    @property
    def segmentation(self) -> "Segmentation | None":
        return self._first(Segmentation)

    def attribute(self, name: str) -> str | None:
        """A model-specific attribute (not one of the common four), as text."""
        return dict(self.attributes).get(name)

    def named_fields(self) -> dict[str, str]:
        """attribute -> field name, for each of this model's own attributes that names a
        field (``FIELD_ATTRIBUTES``; offsetVariable, trialsVariable, ...) and is present."""
        attrs = dict(self.attributes)
        return {a: attrs[a] for a in FIELD_ATTRIBUTES.get(self.tag, ()) if attrs.get(a)}

    def fields(self) -> tuple[str, ...]:
        """The fields this model's own attributes name as inputs or targets (not its
        content's): ``named_fields`` without the TrainingInstances columns."""
        skip = INSTANCE_COLUMN_ATTRIBUTES.get(self.tag, ())
        return tuple(dict.fromkeys(v for a, v in self.named_fields().items() if a not in skip))

    def local_fields(self) -> tuple[DerivedField, ...]:
        lt = self.local_transformations
        return lt.derived_fields if lt is not None else ()

    def body(self, cls) -> tuple:
        """The typed body parts of class cls (e.g. every RegressionTable), in order."""
        return tuple(c for c in self.content if isinstance(c, cls))

    def models(self) -> Iterator["Model"]:
        """This model and every model nested in its segmentation or embedded in it (an
        AnomalyDetectionModel's), depth first (iterative)."""
        stack: list[Model] = [self]
        while stack:
            m = stack.pop()
            yield m
            seg = m.segmentation
            inner = [c for c in m.content if isinstance(c, Model)]
            if seg is not None:
                inner += [s.model for s in seg.segments if s.model is not None]
            stack.extend(reversed(inner))


#: the typed child classes of a model element (by tag); anything else is a Fragment
def model_child_classes() -> dict[str, type]:
    from .neural import NeuralInputs, NeuralLayer, NeuralOutputs
    from .regression import RegressionTable
    from . import (anomaly_detection, association, baseline, clustering, general_regression,
                   naive_bayes, rule_set, scorecard, svm, text, time_series)
    from .tree import TreeNodes
    bodies = (*general_regression.BODY, *naive_bayes.BODY, *svm.BODY, *clustering.BODY,
              *rule_set.BODY, *association.BODY, *scorecard.BODY, *anomaly_detection.BODY,
              *time_series.BODY, *baseline.BODY, *text.BODY, TreeNodes)
    return {**{cls.XML.tag: cls for cls in (MiningSchema, Output, ModelStats, Targets,
                                            LocalTransformations, ModelVerification,
                                            Segmentation, RegressionTable, NeuralInputs,
                                            NeuralLayer, NeuralOutputs, *bodies)},
            # a model embedded in a model (AnomalyDetectionModel's) is a Model too
            **dict.fromkeys(MODEL_TAGS, Model)}


#: the parts every model element begins with, in schema order
HEAD_ORDER = ("MiningSchema", "Output", "ModelStats", "ModelExplanation", "Targets",
              "LocalTransformations")


def _tag(item) -> str:
    return item.tag if isinstance(item, (Fragment, Model)) else item.XML.tag


def schema_order(content) -> tuple:
    """A model's children in the order the PMML 4.4 schema gives them: leading Extensions, the
    common head (HEAD_ORDER), the body in document order, ModelVerification, trailing
    Extensions. (Some producers put the head parts elsewhere, e.g. Output after the items of an
    AssociationModel.)"""
    tags = [_tag(c) for c in content]
    body = [i for i, t in enumerate(tags)
            if t not in HEAD_ORDER and t not in ("Extension", "ModelVerification")]
    first, last = (body[0], body[-1]) if body else (len(tags), len(tags))
    lead = [c for i, (c, t) in enumerate(zip(content, tags)) if t == "Extension" and i < first]
    trail = [c for i, (c, t) in enumerate(zip(content, tags)) if t == "Extension" and i > last]
    head = sorted((c for c, t in zip(content, tags) if t in HEAD_ORDER),
                  key=lambda c: HEAD_ORDER.index(_tag(c)))
    middle = [content[i] for i in range(first, last + 1) if i < len(content)
              and tags[i] not in HEAD_ORDER and tags[i] != "ModelVerification"] if body else []
    tail = [c for c, t in zip(content, tags) if t == "ModelVerification"]
    return tuple(lead + head + middle + tail + trail)


@dataclass(frozen=True, slots=True)
class VariableWeight(Node):
    """A Segment's per-row weight: the value of a field."""

    field: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("VariableWeight", (Attr("field", "field", required=True),))


@dataclass(frozen=True, slots=True)
class Segment(Node):
    id: str | None = None
    weight: float | None = None
    variable_weight: VariableWeight | None = None
    predicate: Predicate | None = None
    model: Model | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Segment", (Attr("id", "id"), Attr("weight", "weight", NUMBER)),
                               (Child("variable_weight", (VariableWeight,)),
                                Child("predicate", PREDICATES),
                                Child("model", (Model,))))


@dataclass(frozen=True, slots=True)
class Segmentation(Node):
    multiple_model_method: str | None = None
    missing_prediction_treatment: str | None = None
    missing_threshold: float | None = None
    local_transformations: LocalTransformations | None = None
    segments: tuple[Segment, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Segmentation", (
        Attr("multiple_model_method", "multipleModelMethod", CHOICE, True, (
            "majorityVote", "weightedMajorityVote", "average", "weightedAverage", "median",
            "weightedMedian", "max", "sum", "weightedSum", "selectFirst", "selectAll",
            "modelChain")),
        Attr("missing_prediction_treatment", "missingPredictionTreatment", CHOICE,
             options=("returnMissing", "skipSegment", "continue")),
        Attr("missing_threshold", "missingThreshold", NUMBER)),
        (Child("local_transformations", (LocalTransformations,)),
         Child("segments", (Segment,), True)))
