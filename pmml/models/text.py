"""TextModel: not supported.

The model's parts (TextDictionary, TextCorpus, DocumentTermMatrix, TextModelNormalization,
TextModelSimiliarity) are parsed by no reference engine we can check against and written by no
producer we know, so a document with a TextModel is refused at load rather than scored by
guesswork.
"""
from __future__ import annotations

from portmodel.errors import UnsupportedError

from ..context import Ctx
from ..objects.models import Model
from ..objects.text import BODY
from .base import register


@register("TextModel")
def _refuse(spec: Model, ctx: Ctx):
    """Refused at load, naming the first typed part of the model (else the model itself)."""
    part = next((c for c in spec.content if isinstance(c, BODY)), None)
    tag, line = (part.XML.tag, part.line) if part is not None else (spec.tag, spec.line)
    raise UnsupportedError(f"TextModel is not supported (model part <{tag}>)", line=line,
                           element=tag)
