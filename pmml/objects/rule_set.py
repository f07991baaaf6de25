"""RuleSetModel's body: a RuleSet of RuleSelectionMethods, ScoreDistributions and rules
(SimpleRule, CompoundRule nesting rules), each rule with its predicate (the model element itself
is a ``Model``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import body_fields
from .nodes import CHOICE, NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .predicates import PREDICATES, Predicate

CRITERIA = ("weightedSum", "weightedMax", "firstHit")


@dataclass(frozen=True, slots=True)
class ScoreDistribution(Node):
    """One value's count (and confidence/probability) among the records a rule or node saw.
    recordCount is required by the XSD; portmodel has always read it as 0 when absent."""

    value: str | None = None
    record_count: float | None = None
    confidence: float | None = None
    probability: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ScoreDistribution", (
        Attr("value", "value", required=True), Attr("record_count", "recordCount", NUMBER),
        Attr("confidence", "confidence", NUMBER), Attr("probability", "probability", NUMBER)))


@dataclass(frozen=True, slots=True)
class RuleSelectionMethod(Node):
    criterion: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("RuleSelectionMethod", (
        Attr("criterion", "criterion", CHOICE, True, CRITERIA),))


@dataclass(frozen=True, slots=True)
class SimpleRule(Node):
    id: str | None = None
    score: str | None = None
    record_count: float | None = None
    nb_correct: float | None = None
    confidence: float | None = None
    weight: float | None = None
    predicate: Predicate | None = None
    distributions: tuple[ScoreDistribution, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("SimpleRule", (
        Attr("id", "id"), Attr("score", "score", required=True),
        Attr("record_count", "recordCount", NUMBER), Attr("nb_correct", "nbCorrect", NUMBER),
        Attr("confidence", "confidence", NUMBER), Attr("weight", "weight", NUMBER)),
        (Child("predicate", PREDICATES), Child("distributions", (ScoreDistribution,), True)))


@dataclass(frozen=True, slots=True)
class CompoundRule(Node):
    predicate: Predicate | None = None
    rules: tuple[Node, ...] = ()                 # SimpleRule and CompoundRule, in order
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("CompoundRule", children=(Child("predicate", PREDICATES),
                                                         Child("rules", (), True)))


CompoundRule.XML = Spec("CompoundRule", children=(Child("predicate", PREDICATES),
                                                  Child("rules", (SimpleRule, CompoundRule),
                                                        True)))


@dataclass(frozen=True, slots=True)
class RuleSet(Node):
    record_count: float | None = None
    nb_correct: float | None = None
    default_score: str | None = None
    default_confidence: float | None = None
    methods: tuple[RuleSelectionMethod, ...] = ()
    distributions: tuple[ScoreDistribution, ...] = ()
    rules: tuple[Node, ...] = ()                 # SimpleRule and CompoundRule, in order
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("RuleSet", (
        Attr("record_count", "recordCount", NUMBER), Attr("nb_correct", "nbCorrect", NUMBER),
        Attr("default_score", "defaultScore"),
        Attr("default_confidence", "defaultConfidence", NUMBER)),
        (Child("methods", (RuleSelectionMethod,), True),
         Child("distributions", (ScoreDistribution,), True),
         Child("rules", (SimpleRule, CompoundRule), True)))

    def fields(self) -> tuple[str, ...]:
        """The fields the rules' predicates name, each once, in document order."""
        return body_fields(self)


#: the typed body parts of a RuleSetModel
BODY = (RuleSet,)
