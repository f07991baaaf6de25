"""SupportVectorMachineModel's body: the kernel type, VectorDictionary (VectorFields of
FieldRefs and CategoricalPredictors, VectorInstances as an Array or a REAL-SparseArray) and the
SupportVectorMachines (SupportVectors and Coefficients). The model element itself is a
``Model``; its svmRepresentation, classificationMethod, maxWins, threshold and
alternateBinaryTargetCategory are text in ``Model.attributes``.

Vector values stay the document's text (``Array``, ``Indices``, ``REAL-Entries``) until the
compiler parses them into one matrix: reading is one pass over the elements, and a written
document holds the values exactly as read."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .body import BodyPart
from .expressions import FieldRef
from .nodes import INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .regression import CategoricalPredictor
from .verification import Array


@dataclass(frozen=True, slots=True)
class LinearKernelType(BodyPart):
    description: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("LinearKernelType", (Attr("description", "description"),))


@dataclass(frozen=True, slots=True)
class PolynomialKernelType(BodyPart):
    description: str | None = None
    gamma: float | None = None
    coef0: float | None = None
    degree: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PolynomialKernelType", (
        Attr("description", "description"), Attr("gamma", "gamma", NUMBER),
        Attr("coef0", "coef0", NUMBER), Attr("degree", "degree", NUMBER)))


@dataclass(frozen=True, slots=True)
class RadialBasisKernelType(BodyPart):
    description: str | None = None
    gamma: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("RadialBasisKernelType", (
        Attr("description", "description"), Attr("gamma", "gamma", NUMBER)))


@dataclass(frozen=True, slots=True)
class SigmoidKernelType(BodyPart):
    description: str | None = None
    gamma: float | None = None
    coef0: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("SigmoidKernelType", (
        Attr("description", "description"), Attr("gamma", "gamma", NUMBER),
        Attr("coef0", "coef0", NUMBER)))


KERNELS = (LinearKernelType, PolynomialKernelType, RadialBasisKernelType, SigmoidKernelType)


@dataclass(frozen=True, slots=True)
class VectorFields(Node):
    number_of_fields: int | None = None
    fields: tuple[FieldRef | CategoricalPredictor, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("VectorFields", (
        Attr("number_of_fields", "numberOfFields", INTEGER),),
        (Child("fields", (FieldRef, CategoricalPredictor), True),))


@dataclass(frozen=True, slots=True)
class Indices(Node):
    text: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Indices", text="text")


@dataclass(frozen=True, slots=True)
class RealEntries(Node):
    text: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("REAL-Entries", text="text")


@dataclass(frozen=True, slots=True)
class RealSparseArray(Node):
    n: int | None = None
    default_value: float | None = None
    indices: Indices | None = None
    entries: RealEntries | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("REAL-SparseArray", (
        Attr("n", "n", INTEGER), Attr("default_value", "defaultValue", NUMBER)),
        (Child("indices", (Indices,)), Child("entries", (RealEntries,))))


@dataclass(frozen=True, slots=True)
class VectorInstance(Node):
    id: str | None = None
    sparse: RealSparseArray | None = None
    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("VectorInstance", (Attr("id", "id", required=True),),
                               (Child("sparse", (RealSparseArray,)), Child("array", (Array,))))


@dataclass(frozen=True, slots=True)
class VectorDictionary(BodyPart):
    number_of_vectors: int | None = None
    vector_fields: VectorFields | None = None
    instances: tuple[VectorInstance, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("VectorDictionary", (
        Attr("number_of_vectors", "numberOfVectors", INTEGER),),
        (Child("vector_fields", (VectorFields,)), Child("instances", (VectorInstance,), True)))


@dataclass(frozen=True, slots=True)
class SupportVector(Node):
    vector_id: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("SupportVector", (Attr("vector_id", "vectorId", required=True),))


@dataclass(frozen=True, slots=True)
class SupportVectors(Node):
    number_of_support_vectors: int | None = None
    number_of_attributes: int | None = None
    vectors: tuple[SupportVector, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("SupportVectors", (
        Attr("number_of_support_vectors", "numberOfSupportVectors", INTEGER),
        Attr("number_of_attributes", "numberOfAttributes", INTEGER)),
        (Child("vectors", (SupportVector,), True),))


@dataclass(frozen=True, slots=True)
class Coefficient(Node):
    value: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Coefficient", (Attr("value", "value", NUMBER),))


@dataclass(frozen=True, slots=True)
class Coefficients(Node):
    number_of_coefficients: int | None = None
    absolute_value: float | None = None
    coefficients: tuple[Coefficient, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Coefficients", (
        Attr("number_of_coefficients", "numberOfCoefficients", INTEGER),
        Attr("absolute_value", "absoluteValue", NUMBER)),
        (Child("coefficients", (Coefficient,), True),))


@dataclass(frozen=True, slots=True)
class SupportVectorMachine(BodyPart):
    target_category: str | None = None
    alternate_target_category: str | None = None
    threshold: float | None = None
    support_vectors: SupportVectors | None = None
    coefficients: Coefficients | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("SupportVectorMachine", (
        Attr("target_category", "targetCategory"),
        Attr("alternate_target_category", "alternateTargetCategory"),
        Attr("threshold", "threshold", NUMBER)),
        (Child("support_vectors", (SupportVectors,)), Child("coefficients", (Coefficients,))))


#: the typed body parts of a SupportVectorMachineModel
BODY = (*KERNELS, VectorDictionary, SupportVectorMachine)
