"""A model's own text attributes read through ``portmodel.pmml.attributes``.

``Model.attributes`` (the attributes a model type adds to the common ones) are kept as text;
``model_attrs(model)`` gives the ``attributes`` readers what they use of an element (``tag``,
``sourceline``, ``get``), so ``attributes.number(model_attrs(spec), "offsetValue")`` is a
``DocumentError`` naming the model element, the attribute and the line when the text is not a
number. (Errors about any other part name it through ``portmodel.pmml.location.where``.)
"""
from __future__ import annotations

from typing import Any

from ..objects.models import Model


class ModelAttributes:
    """A model's tag, source line and model-specific (text) attributes."""

    __slots__ = ("tag", "sourceline", "_attrs")

    def __init__(self, tag: str, line: int | None, attrs: dict[str, str]):
        self.tag = tag
        self.sourceline = line
        self._attrs = attrs

    def get(self, name: str, default: Any = None) -> Any:
        return self._attrs.get(name, default)


def model_attrs(model: Model) -> ModelAttributes:
    """A model node's model-specific attributes, readable by ``portmodel.pmml.attributes``."""
    return ModelAttributes(model.tag, model.line, dict(model.attributes))
