"""PMML expressions as an immutable tree (Constant, FieldRef, NormContinuous, NormDiscrete,
Discretize, MapValues, TextIndex, Apply, Aggregate, Lag).

Every node knows its source ``line`` and the fields it names: ``fields()`` is the one answer to
"which fields does this expression reference" (derived-field cycles, required inputs,
``validate``'s reference checks all ask it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterator

from .nodes import (BOOLEAN, CHOICE, DATA_TYPE, INTEGER, NUMBER, Attr, Child, Fragment, Node,
                    Spec, line_field)
from .table import InlineTable

_OUTLIERS = ("asIs", "asMissingValues", "asExtremeValues")
_INVALID = ("returnInvalid", "asIs", "asMissing", "asValue")


class Expression(Node):
    """An expression node. ``REFS``: the Python fields of this node that name a field."""

    __slots__ = ()
    REFS: ClassVar[tuple[str, ...]] = ()

    def own_fields(self) -> Iterator[str]:
        """The fields this node itself names (not its sub-expressions)."""
        for name in self.REFS:
            value = getattr(self, name)
            if value:
                yield value

    def own_references(self) -> Iterator[tuple[str, str]]:
        """(XML attribute, field name) of each field this node itself names."""
        xml = {a.py: a.xml for a in self.XML.attrs}
        for name in self.REFS:
            value = getattr(self, name)
            if value:
                yield xml[name], value

    def references(self) -> Iterator[tuple[Node, str, str]]:
        """(node, XML attribute, field name) of every field this expression names, in
        document order."""
        for node in self.walk():
            if getattr(node, "REFS", ()):
                for attr, value in own_references(node):
                    yield node, attr, value

    def fields(self) -> tuple[str, ...]:
        """Every field this expression and its sub-expressions name, in document order,
        each once: the one answer to "which fields does this use" (required inputs,
        derived-field cycles, ``validate``'s reference checks)."""
        seen: dict[str, None] = {}
        for _, _, name in self.references():
            seen.setdefault(name, None)
        return tuple(seen)


def own_references(node: Node) -> Iterator[tuple[str, str]]:
    """(XML attribute, field name) of each field node itself names (expressions and the
    field-naming parts inside them: FieldColumnPair, BlockIndicator)."""
    return Expression.own_references(node)


@dataclass(frozen=True, slots=True)
class Constant(Expression):
    value: str | None = None
    data_type: str | None = None
    missing: bool | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Constant", (Attr("data_type", "dataType", DATA_TYPE),
                                            Attr("missing", "missing", BOOLEAN)), text="value")


@dataclass(frozen=True, slots=True)
class FieldRef(Expression):
    field: str | None = None
    map_missing_to: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("FieldRef", (Attr("field", "field", required=True),
                                            Attr("map_missing_to", "mapMissingTo")))


@dataclass(frozen=True, slots=True)
class LinearNorm(Node):
    orig: float | None = None
    norm: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("LinearNorm", (Attr("orig", "orig", NUMBER, True),
                                              Attr("norm", "norm", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class NormContinuous(Expression):
    field: str | None = None
    map_missing_to: float | None = None
    outliers: str | None = None
    norms: tuple[LinearNorm, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("NormContinuous", (
        Attr("field", "field", required=True), Attr("map_missing_to", "mapMissingTo", NUMBER),
        Attr("outliers", "outliers", CHOICE, options=_OUTLIERS)),
        (Child("norms", (LinearNorm,), True),))


@dataclass(frozen=True, slots=True)
class NormDiscrete(Expression):
    field: str | None = None
    value: str | None = None
    map_missing_to: float | None = None
    method: str | None = None          # (PMML 3.x: "indicator", the only one 4.x keeps)
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("NormDiscrete", (
        Attr("field", "field", required=True), Attr("value", "value", required=True),
        Attr("map_missing_to", "mapMissingTo", NUMBER), Attr("method", "method")))


@dataclass(frozen=True, slots=True)
class Interval(Node):
    """An interval of numbers (DataField, DiscretizeBin, ContStats)."""

    closure: str | None = None
    left_margin: float | None = None
    right_margin: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Interval", (
        Attr("closure", "closure", CHOICE,
             options=("openClosed", "openOpen", "closedOpen", "closedClosed")),
        Attr("left_margin", "leftMargin", NUMBER), Attr("right_margin", "rightMargin", NUMBER)))


@dataclass(frozen=True, slots=True)
class DiscretizeBin(Node):
    bin_value: str | None = None
    interval: Interval | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("DiscretizeBin", (Attr("bin_value", "binValue", required=True),),
                               (Child("interval", (Interval,)),))


@dataclass(frozen=True, slots=True)
class Discretize(Expression):
    field: str | None = None
    map_missing_to: str | None = None
    default_value: str | None = None
    data_type: str | None = None
    bins: tuple[DiscretizeBin, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("Discretize", (
        Attr("field", "field", required=True), Attr("map_missing_to", "mapMissingTo"),
        Attr("default_value", "defaultValue"), Attr("data_type", "dataType", DATA_TYPE)),
        (Child("bins", (DiscretizeBin,), True),))


@dataclass(frozen=True, slots=True)
class FieldColumnPair(Node):
    field: str | None = None
    column: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("FieldColumnPair", (Attr("field", "field", required=True),
                                                   Attr("column", "column", required=True)))


@dataclass(frozen=True, slots=True)
class MapValues(Expression):
    map_missing_to: str | None = None
    default_value: str | None = None
    output_column: str | None = None
    data_type: str | None = None
    pairs: tuple[FieldColumnPair, ...] = ()
    table_locator: Fragment | None = None
    table: InlineTable | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("MapValues", (
        Attr("map_missing_to", "mapMissingTo"), Attr("default_value", "defaultValue"),
        Attr("output_column", "outputColumn", required=True),
        Attr("data_type", "dataType", DATA_TYPE)),
        (Child("pairs", (FieldColumnPair,), True), Child("table_locator", ("TableLocator",)),
         Child("table", (InlineTable,))))


@dataclass(frozen=True, slots=True)
class TextIndexNormalization(Node):
    in_field: str | None = None
    out_field: str | None = None
    regex_field: str | None = None
    recursive: bool | None = None
    is_case_sensitive: bool | None = None
    max_levenshtein_distance: int | None = None
    word_separator_character_re: str | None = None
    tokenize: bool | None = None
    word_re: str | None = None
    table_locator: Fragment | None = None
    table: InlineTable | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TextIndexNormalization", (
        Attr("in_field", "inField"), Attr("out_field", "outField"),
        Attr("regex_field", "regexField"), Attr("recursive", "recursive", BOOLEAN),
        Attr("is_case_sensitive", "isCaseSensitive", BOOLEAN),
        Attr("max_levenshtein_distance", "maxLevenshteinDistance", INTEGER),
        Attr("word_separator_character_re", "wordSeparatorCharacterRE"),
        Attr("tokenize", "tokenize", BOOLEAN), Attr("word_re", "wordRE")),
        (Child("table_locator", ("TableLocator",)), Child("table", (InlineTable,))))


@dataclass(frozen=True, slots=True)
class BlockIndicator(Node):
    field: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("BlockIndicator", (Attr("field", "field", required=True),))


@dataclass(frozen=True, slots=True)
class Aggregate(Expression):
    field: str | None = None
    function: str | None = None
    group_field: str | None = None
    sql_where: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field", "group_field")
    XML: ClassVar[Spec] = Spec("Aggregate", (
        Attr("field", "field", required=True),
        Attr("function", "function", CHOICE, True,
             ("count", "sum", "average", "min", "max", "multiset")),
        Attr("group_field", "groupField"), Attr("sql_where", "sqlWhere")))


@dataclass(frozen=True, slots=True)
class Lag(Expression):
    field: str | None = None
    n: int | None = None
    aggregate: str | None = None
    block_indicators: tuple[BlockIndicator, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("Lag", (
        Attr("field", "field", required=True), Attr("n", "n", INTEGER),
        Attr("aggregate", "aggregate", CHOICE,
             options=("none", "avg", "max", "median", "min", "product", "sum", "stddev"))),
        (Child("block_indicators", (BlockIndicator,), True),))


@dataclass(frozen=True, slots=True)
class Apply(Expression):
    function: str | None = None
    map_missing_to: str | None = None
    default_value: str | None = None
    invalid_value_treatment: str | None = None
    arguments: tuple[Expression, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Apply", (
        Attr("function", "function", required=True), Attr("map_missing_to", "mapMissingTo"),
        Attr("default_value", "defaultValue"),
        Attr("invalid_value_treatment", "invalidValueTreatment", CHOICE, options=_INVALID)),
        (Child("arguments", (), True),))


@dataclass(frozen=True, slots=True)
class TextIndex(Expression):
    text_field: str | None = None
    local_term_weights: str | None = None
    is_case_sensitive: bool | None = None
    max_levenshtein_distance: int | None = None
    count_hits: str | None = None
    word_separator_character_re: str | None = None
    tokenize: bool | None = None
    word_re: str | None = None
    normalizations: tuple[TextIndexNormalization, ...] = ()
    expression: Expression | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("text_field",)
    XML: ClassVar[Spec] = Spec("TextIndex", (
        Attr("text_field", "textField", required=True),
        Attr("local_term_weights", "localTermWeights", CHOICE, options=(
            "termFrequency", "binary", "logarithmic", "augmentedNormalizedTermFrequency")),
        Attr("is_case_sensitive", "isCaseSensitive", BOOLEAN),
        Attr("max_levenshtein_distance", "maxLevenshteinDistance", INTEGER),
        Attr("count_hits", "countHits", CHOICE, options=("allHits", "bestHits")),
        Attr("word_separator_character_re", "wordSeparatorCharacterRE"),
        Attr("tokenize", "tokenize", BOOLEAN), Attr("word_re", "wordRE")),
        (Child("normalizations", (TextIndexNormalization,), True),
         Child("expression", ())))


#: every expression class (the EXPRESSION group of the schema)
EXPRESSIONS: tuple[type, ...] = (Constant, FieldRef, NormContinuous, NormDiscrete, Discretize,
                                 MapValues, TextIndex, Apply, Aggregate, Lag)
# children typed "any expression": filled in here, where the classes exist
for _cls, _child in ((Apply, "arguments"), (TextIndex, "expression")):
    _cls.XML = Spec(_cls.XML.tag, _cls.XML.attrs, tuple(
        Child(c.py, EXPRESSIONS, c.many) if c.py == _child else c for c in _cls.XML.children))


def reference_attributes(classes: tuple[type, ...] = ()) -> dict[str, tuple[str, ...]]:
    """tag -> the XML attributes that name a field, for the expression elements, the
    field-naming parts inside them and any further classes given (derived from the classes'
    ``REFS``: one source)."""
    out = {}
    for cls in EXPRESSIONS + (FieldColumnPair, BlockIndicator) + tuple(classes):
        xml = {a.py: a.xml for a in cls.XML.attrs}
        if cls.REFS:
            out[cls.XML.tag] = tuple(xml[r] for r in cls.REFS)
    return out


#: tag -> class, for the expression elements
EXPRESSION_CLASSES: dict[str, type] = {cls.XML.tag: cls for cls in EXPRESSIONS}
