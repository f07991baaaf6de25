"""TextModel: not supported.

The model's parts (TextDictionary, TextCorpus, DocumentTermMatrix, TextModelNormalization,
TextModelSimiliarity) are parsed by no reference engine we can check against and written by no
producer we know, so a document with a TextModel is refused at load rather than scored by
guesswork.
"""
from __future__ import annotations

from portmodel.errors import UnsupportedError

from ..context import Ctx
from .base import register


@register("TextModel")
def _refuse(el, ctx: Ctx):
    part = next((c for c in el if isinstance(c.tag, str) and c.tag in (
        "TextDictionary", "TextCorpus", "DocumentTermMatrix", "TextModelNormalization",
        "TextModelSimiliarity")), el)
    raise UnsupportedError(f"TextModel is not supported (model part <{part.tag}>)",
                           line=part.sourceline, element=part.tag)
