"""The continuous distributions PMML shares between models (CONTINUOUS-DISTRIBUTION-TYPES:
Gaussian, Poisson, Uniform, Any): a BaselineModel's Baseline and Alternate, a NaiveBayes
TargetValueStat."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .nodes import NUMBER, Attr, Fragment, Node, Spec, line_field


@dataclass(frozen=True, slots=True)
class GaussianDistribution(Node):
    mean: float | None = None
    variance: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("GaussianDistribution", (
        Attr("mean", "mean", NUMBER, True), Attr("variance", "variance", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class PoissonDistribution(Node):
    mean: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PoissonDistribution", (Attr("mean", "mean", NUMBER, True),))


@dataclass(frozen=True, slots=True)
class UniformDistribution(Node):
    lower: float | None = None
    upper: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("UniformDistribution", (
        Attr("lower", "lower", NUMBER, True), Attr("upper", "upper", NUMBER, True)))


@dataclass(frozen=True, slots=True)
class AnyDistribution(Node):
    mean: float | None = None
    variance: float | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("AnyDistribution", (
        Attr("mean", "mean", NUMBER, True), Attr("variance", "variance", NUMBER, True)))


DISTRIBUTIONS = (GaussianDistribution, PoissonDistribution, UniformDistribution,
                 AnyDistribution)
