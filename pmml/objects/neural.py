"""NeuralNetwork's body: NeuralInputs (each a DerivedField), NeuralLayers of Neurons with their
connections, NeuralOutputs (the model element itself is a ``Model``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .nodes import CHOICE, INTEGER, NUMBER, Attr, Child, Fragment, Node, Spec, line_field
from .transformations import DerivedField

ACTIVATIONS = ("threshold", "logistic", "tanh", "identity", "exponential", "reciprocal",
               "square", "Gauss", "sine", "cosine", "Elliott", "arctan", "rectifier",
               "radialBasis")
NORMALIZATIONS = ("none", "simplemax", "softmax")


@dataclass(frozen=True, slots=True)
class NeuralInput(Node):
    id: str | None = None
    derived_field: DerivedField | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("NeuralInput", (Attr("id", "id", required=True),),
                               (Child("derived_field", (DerivedField,)),))


@dataclass(frozen=True, slots=True)
class NeuralInputs(Node):
    number_of_inputs: int | None = None
    inputs: tuple[NeuralInput, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("NeuralInputs", (
        Attr("number_of_inputs", "numberOfInputs", INTEGER),),
        (Child("inputs", (NeuralInput,), True),))


@dataclass(frozen=True, slots=True)
class Con(Node):
    source: str | None = None
    weight: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Con", (Attr("source", "from", required=True),
                                       Attr("weight", "weight", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class Neuron(Node):
    id: str | None = None
    bias: float | None = None
    width: float | None = None
    altitude: float | None = None
    connections: tuple[Con, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Neuron", (
        Attr("id", "id", required=True), Attr("bias", "bias", NUMBER),
        Attr("width", "width", NUMBER), Attr("altitude", "altitude", NUMBER)),
        (Child("connections", (Con,), True),))


@dataclass(frozen=True, slots=True)
class NeuralLayer(Node):
    number_of_neurons: int | None = None
    activation_function: str | None = None
    threshold: float | None = None
    width: float | None = None
    altitude: float | None = None
    normalization_method: str | None = None
    leakage: float | None = None        # (PMML 4.4.1's rectifier slope: not in the 4.4 XSD)
    neurons: tuple[Neuron, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("NeuralLayer", (
        Attr("number_of_neurons", "numberOfNeurons", INTEGER),
        Attr("activation_function", "activationFunction", CHOICE, options=ACTIVATIONS),
        Attr("threshold", "threshold", NUMBER), Attr("width", "width", NUMBER),
        Attr("altitude", "altitude", NUMBER),
        Attr("normalization_method", "normalizationMethod", CHOICE, options=NORMALIZATIONS),
        Attr("leakage", "leakage", NUMBER)),
        (Child("neurons", (Neuron,), True),))


@dataclass(frozen=True, slots=True)
class NeuralOutput(Node):
    output_neuron: str | None = None
    derived_field: DerivedField | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("NeuralOutput", (
        Attr("output_neuron", "outputNeuron", required=True),),
        (Child("derived_field", (DerivedField,)),))


@dataclass(frozen=True, slots=True)
class NeuralOutputs(Node):
    number_of_outputs: int | None = None
    outputs: tuple[NeuralOutput, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("NeuralOutputs", (
        Attr("number_of_outputs", "numberOfOutputs", INTEGER),),
        (Child("outputs", (NeuralOutput,), True),))
