"""The whole document: Header, DataDictionary, TransformationDictionary and the models."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Iterator

from .dictionary import DataDictionary
from .header import Header
from .models import Model
from .nodes import Child, Fragment, Node, Spec, line_field
from .transformations import DerivedField, TransformationDictionary


@dataclass(frozen=True, slots=True)
class Document(Node):
    """A PMML document as PMML 4.4 (older dialects are upgraded before reading).

    ``source_version``: the PMML version the document was written in (not compared).
    """

    header: Header | None = None
    mining_build_task: Fragment | None = None
    data_dictionary: DataDictionary | None = None
    transformation_dictionary: TransformationDictionary | None = None
    models: tuple[Model, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    source_version: str | None = field(default=None, compare=False)
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("PMML", children=(
        Child("header", (Header,)), Child("mining_build_task", ("MiningBuildTask",)),
        Child("data_dictionary", (DataDictionary,)),
        Child("transformation_dictionary", (TransformationDictionary,)),
        Child("models", (Model,), True)), extensions_last=True)

    @property
    def model(self) -> Model | None:
        """The model portmodel scores: the first model element."""
        return self.models[0] if self.models else None

    def global_fields(self) -> tuple[DerivedField, ...]:
        td = self.transformation_dictionary
        return td.derived_fields if td is not None else ()

    def all_models(self) -> Iterator[Model]:
        for m in self.models:
            yield from m.models()
