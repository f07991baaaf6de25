"""The bodies of ClusteringModel, NearestNeighborModel and GaussianProcessModel: the
ComparisonMeasure the first two share (its measure element: euclidean, ..., minkowski,
binarySimilarity), ClusteringField with its Comparisons matrix, MissingValueWeights and Cluster
(clustering); KNNInputs (nearest neighbour); TrainingInstances (nearest neighbour, Gaussian
process); the Gaussian process kernels. The model elements themselves are ``Model``s
(modelClass, numberOfNeighbors, ... are text in ``Model.attributes``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import BodyPart
from .matrix import Matrix
from .nodes import (BOOLEAN, CHOICE, INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec,
                    line_field)
from .table import InlineTable
from .verification import Array


def _plain_measure(tag: str):
    """A measure element without attributes (euclidean, jaccard, ...)."""
    @dataclass(frozen=True, slots=True)
    class _Measure(Node):
        extensions: tuple[Fragment, ...] = ()
        vendor: tuple[tuple[str, str], ...] = ()
        line: int | None = line_field()
        XML: ClassVar[Spec] = Spec(tag)
    _Measure.__name__ = _Measure.__qualname__ = tag[0].upper() + tag[1:]
    return _Measure


Euclidean = _plain_measure("euclidean")
SquaredEuclidean = _plain_measure("squaredEuclidean")
Chebychev = _plain_measure("chebychev")
CityBlock = _plain_measure("cityBlock")
SimpleMatching = _plain_measure("simpleMatching")
Jaccard = _plain_measure("jaccard")
Tanimoto = _plain_measure("tanimoto")


@dataclass(frozen=True, slots=True)
class Minkowski(Node):
    p: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("minkowski", (Attr("p", "p-parameter", NUMBER, True),))


@dataclass(frozen=True, slots=True)
class BinarySimilarity(Node):
    c00: float | None = None
    c01: float | None = None
    c10: float | None = None
    c11: float | None = None
    d00: float | None = None
    d01: float | None = None
    d10: float | None = None
    d11: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("binarySimilarity", tuple(
        Attr(f"{k}{s}", f"{k}{s}-parameter", NUMBER, True)
        for k in "cd" for s in ("00", "01", "10", "11")))


MEASURES = (Euclidean, SquaredEuclidean, Chebychev, CityBlock, Minkowski, SimpleMatching,
            Jaccard, Tanimoto, BinarySimilarity)


@dataclass(frozen=True, slots=True)
class ComparisonMeasure(BodyPart):
    kind: str | None = None
    compare_function: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    measure: Node | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("ComparisonMeasure", (
        Attr("kind", "kind", CHOICE, options=("distance", "similarity")),
        Attr("compare_function", "compareFunction"),
        Attr("minimum", "minimum", NUMBER), Attr("maximum", "maximum", NUMBER)),
        (Child("measure", MEASURES),))


@dataclass(frozen=True, slots=True)
class Comparisons(Node):
    matrix: Matrix | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Comparisons", children=(Child("matrix", (Matrix,)),))


@dataclass(frozen=True, slots=True)
class ClusteringField(BodyPart):
    field: str | None = None
    is_center_field: bool | None = None
    center_field: bool | None = None            # (older documents)
    field_weight: float | None = None
    similarity_scale: float | None = None
    compare_function: str | None = None
    comparisons: Comparisons | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("ClusteringField", (
        Attr("field", "field", required=True),
        Attr("is_center_field", "isCenterField", BOOLEAN),
        Attr("center_field", "centerField", BOOLEAN),
        Attr("field_weight", "fieldWeight", NUMBER),
        Attr("similarity_scale", "similarityScale", NUMBER),
        Attr("compare_function", "compareFunction")),
        (Child("comparisons", (Comparisons,)),))


@dataclass(frozen=True, slots=True)
class MissingValueWeights(BodyPart):
    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("MissingValueWeights", children=(Child("array", (Array,)),))


@dataclass(frozen=True, slots=True)
class Cluster(BodyPart):
    id: str | None = None
    name: str | None = None
    size: int | None = None
    kohonen_map: Fragment | None = None
    array: Array | None = None
    partition: Fragment | None = None
    covariances: Fragment | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Cluster", (
        Attr("id", "id"), Attr("name", "name"), Attr("size", "size", INTEGER)),
        (Child("kohonen_map", ("KohonenMap",)), Child("array", (Array,)),
         Child("partition", ("Partition",)), Child("covariances", ("Covariances",))))


@dataclass(frozen=True, slots=True)
class KNNInput(Node):
    field: str | None = None
    field_weight: float | None = None
    compare_function: str | None = None
    similarity_scale: float | None = None
    comparisons: Comparisons | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    REFS: ClassVar[tuple[str, ...]] = ("field",)
    XML: ClassVar[Spec] = Spec("KNNInput", (
        Attr("field", "field", required=True), Attr("field_weight", "fieldWeight", NUMBER),
        Attr("compare_function", "compareFunction"),
        Attr("similarity_scale", "similarityScale", NUMBER)),
        (Child("comparisons", (Comparisons,)),))


@dataclass(frozen=True, slots=True)
class KNNInputs(BodyPart):
    number_of_inputs: int | None = None
    inputs: tuple[KNNInput, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("KNNInputs", (Attr("number_of_inputs", "numberOfInputs",
                                                  INTEGER),),
                               (Child("inputs", (KNNInput,), True),))


@dataclass(frozen=True, slots=True)
class InstanceField(Node):
    """A column of the training table and the field it holds (no ``REFS``: the
    instanceIdVariable's column may name no field of the document, and training values are
    not inputs)."""

    field: str | None = None
    column: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("InstanceField", (
        Attr("field", "field", required=True), Attr("column", "column")))


@dataclass(frozen=True, slots=True)
class InstanceFields(Node):
    fields: tuple[InstanceField, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("InstanceFields", children=(
        Child("fields", (InstanceField,), True),))


@dataclass(frozen=True, slots=True)
class TrainingInstances(BodyPart):
    is_transformed: bool | None = None
    record_count: int | None = None
    field_count: int | None = None
    instance_fields: InstanceFields | None = None
    table_locator: Fragment | None = None
    table: InlineTable | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TrainingInstances", (
        Attr("is_transformed", "isTransformed", BOOLEAN),
        Attr("record_count", "recordCount", INTEGER), Attr("field_count", "fieldCount", INTEGER)),
        (Child("instance_fields", (InstanceFields,)), Child("table_locator", ("TableLocator",)),
         Child("table", (InlineTable,))))


#: the typed body parts of a ClusteringModel and of a NearestNeighborModel
BODY = (ComparisonMeasure, ClusteringField, MissingValueWeights, Cluster, KNNInputs,
        TrainingInstances)


# ------------------------------------------------------------------ GaussianProcessModel

@dataclass(frozen=True, slots=True)
class Lambda(Node):
    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Lambda", children=(Child("array", (Array,)),))


#: the attributes every Gaussian process kernel has
_GP_ATTRS = (Attr("description", "description"), Attr("gamma", "gamma", NUMBER),
             Attr("noise_variance", "noiseVariance", NUMBER))
_LAMBDAS = (Child("lambdas", (Lambda,), True),)


@dataclass(frozen=True, slots=True)
class GaussianProcessKernel(BodyPart):
    """The fields every Gaussian process kernel has (``_GP_ATTRS``); the four kernels add
    their own: a RadialBasisKernel its one ``lambda``, the others their Lambda arrays (and the
    GeneralizedExponentialKernel its ``degree``)."""

    description: str | None = None
    gamma: float | None = None
    noise_variance: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()


@dataclass(frozen=True, slots=True)
class RadialBasisKernel(GaussianProcessKernel):
    lambda_: float | None = None
    XML: ClassVar[Spec] = Spec("RadialBasisKernel",
                               _GP_ATTRS + (Attr("lambda_", "lambda", NUMBER),))


@dataclass(frozen=True, slots=True)
class LambdaKernel(GaussianProcessKernel):
    """A kernel with one length scale per input (its Lambda arrays)."""

    lambdas: tuple[Lambda, ...] = ()


@dataclass(frozen=True, slots=True)
class ARDSquaredExponentialKernel(LambdaKernel):
    XML: ClassVar[Spec] = Spec("ARDSquaredExponentialKernel", _GP_ATTRS, _LAMBDAS)


@dataclass(frozen=True, slots=True)
class AbsoluteExponentialKernel(LambdaKernel):
    XML: ClassVar[Spec] = Spec("AbsoluteExponentialKernel", _GP_ATTRS, _LAMBDAS)


@dataclass(frozen=True, slots=True)
class GeneralizedExponentialKernel(LambdaKernel):
    degree: float | None = None
    XML: ClassVar[Spec] = Spec("GeneralizedExponentialKernel",
                               _GP_ATTRS + (Attr("degree", "degree", NUMBER),), _LAMBDAS)


GP_KERNELS = (RadialBasisKernel, ARDSquaredExponentialKernel, AbsoluteExponentialKernel,
              GeneralizedExponentialKernel)
BODY = BODY + GP_KERNELS
