"""TextModel's body: TextDictionary (its terms as an Array, a Taxonomy kept as a fragment),
TextCorpus of TextDocuments, DocumentTermMatrix, TextModelNormalization and
TextModelSimiliarity (sic, the schema's spelling). portmodel refuses TextModels at load; the
body is typed so that a document holding one is read, checked and written like any other."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .matrix import Matrix
from .nodes import CHOICE, INTEGER, Attr, Child, Fragment, Node, Spec, line_field
from .verification import Array


class _Body(Node):
    __slots__ = ()

    def fields(self) -> tuple[str, ...]:
        """A text model's parts name no fields."""
        return ()


@dataclass(frozen=True, slots=True)
class TextDictionary(_Body):
    taxonomy: Fragment | None = None
    terms: Array | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TextDictionary", children=(Child("taxonomy", ("Taxonomy",)),
                                                           Child("terms", (Array,))))


@dataclass(frozen=True, slots=True)
class TextDocument(Node):
    id: str | None = None
    name: str | None = None
    length: int | None = None
    file: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TextDocument", (
        Attr("id", "id", required=True), Attr("name", "name"),
        Attr("length", "length", INTEGER), Attr("file", "file")))


@dataclass(frozen=True, slots=True)
class TextCorpus(_Body):
    documents: tuple[TextDocument, ...] = ()
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TextCorpus", children=(Child("documents", (TextDocument,),
                                                             True),))


@dataclass(frozen=True, slots=True)
class DocumentTermMatrix(_Body):
    matrix: Matrix | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("DocumentTermMatrix", children=(Child("matrix", (Matrix,)),))


@dataclass(frozen=True, slots=True)
class TextModelNormalization(_Body):
    local_term_weights: str | None = None
    global_term_weights: str | None = None
    document_normalization: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TextModelNormalization", (
        Attr("local_term_weights", "localTermWeights", CHOICE, options=(
            "termFrequency", "binary", "logarithmic", "augmentedNormalizedTermFrequency")),
        Attr("global_term_weights", "globalTermWeights", CHOICE, options=(
            "inverseDocumentFrequency", "none", "GFIDF", "normal", "probabilisticInverse")),
        Attr("document_normalization", "documentNormalization", CHOICE,
             options=("none", "cosine"))))


@dataclass(frozen=True, slots=True)
class TextModelSimiliarity(_Body):
    similarity_type: str | None = None
    extensions: tuple[Fragment, ...] = ()
    vendor: tuple[tuple[str, str], ...] = ()
    line: int | None = line_field()
    XML: ClassVar[Spec] = Spec("TextModelSimiliarity", (
        Attr("similarity_type", "similarityType", CHOICE, True, ("euclidean", "cosine")),))


#: the typed body parts of a TextModel
BODY = (TextDictionary, TextCorpus, DocumentTermMatrix, TextModelNormalization,
        TextModelSimiliarity)
