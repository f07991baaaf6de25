"""Header: who wrote the document and when (Application, Annotation, Timestamp)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .nodes import Attr, Child, Fragment, Node, Spec, line_field


@dataclass(frozen=True, slots=True)
class Application(Node):
    name: str | None = None
    version: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Application", (Attr("name", "name"),
                                               Attr("version", "version")))


@dataclass(frozen=True, slots=True)
class Annotation(Node):
    text: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Annotation", text="text")


@dataclass(frozen=True, slots=True)
class Timestamp(Node):
    text: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Timestamp", text="text")


@dataclass(frozen=True, slots=True)
class Header(Node):
    copyright: str | None = None
    description: str | None = None
    model_version: str | None = None
    application: Application | None = None
    annotations: tuple[Annotation, ...] = ()
    timestamp: Timestamp | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("Header", (
        Attr("copyright", "copyright"), Attr("description", "description"),
        Attr("model_version", "modelVersion")),
        (Child("application", (Application,)), Child("annotations", (Annotation,), True),
         Child("timestamp", (Timestamp,))))

    def as_dict(self) -> dict[str, str]:
        """The header as ``describe()`` shows it: its attributes, and "application" as
        "name version"."""
        out = {k: v for k, v in (("copyright", self.copyright),
                                 ("description", self.description),
                                 ("modelVersion", self.model_version)) if v is not None}
        out.update(self.vendor)
        app = self.application
        if app is not None:
            out["application"] = " ".join(filter(None, [app.name, app.version]))
        return out
