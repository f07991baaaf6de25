"""AnomalyDetectionModel's body: the one model it embeds (an ``objects.Model`` in the content,
read like any model element) and MeanClusterDistances (the model element itself is a ``Model``;
algorithmType and sampleDataSize are text in ``Model.attributes``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .nodes import Child, Fragment, Node, Spec, line_field
from .verification import Array


@dataclass(frozen=True, slots=True)
class MeanClusterDistances(Node):
    """The mean distance of each cluster's training records from it, in cluster order."""

    array: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("MeanClusterDistances", children=(Child("array", (Array,)),))

    def fields(self) -> tuple[str, ...]:
        return ()


#: the typed body parts of an AnomalyDetectionModel (besides the model it embeds)
BODY = (MeanClusterDistances,)
