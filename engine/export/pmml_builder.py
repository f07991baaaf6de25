"""Helpers the PMML writer shares with the per-model converters: number text, the object-model
``Model`` of an exported model, Arrays, inline tables and set predicates.

Export goes fitted model -> object model -> writer: every part of an exported document (header,
dictionary, transformations, expressions, predicates, mining schema, output, targets,
segmentation and each model body: regression tables, tree nodes, neural layers, SVM, naive
Bayes, clustering and k-NN bodies, ModelVerification) is built as an object-model value and
written by the object model's writer (``portmodel.pmml.objects.write``). Number text comes from
one place, the object writer's ``format_value``.
"""
from __future__ import annotations

from typing import Any, Sequence

from portmodel.pmml import objects as O
from portmodel.pmml.objects.write import format_value


def num(v: Any) -> str:
    """A number as PMML text (the object writer's ``format_value``: shortest exact form)."""
    return format_value(v)


def text(v: Any) -> str:
    """A category, value or number as PMML text."""
    return v if type(v) is str else format_value(v)


def opt(v: Any) -> str | None:
    """``text(v)``, or None for None (an attribute left out)."""
    return None if v is None else text(v)


# ---------------------------------------------------------------- the model element
def model(tag: str, function: str | None, attrs: dict[str, Any] | None, *content: Any,
          vendor: Sequence[tuple[str, str]] = ()) -> O.Model:
    """A model element of the object model: its tag, functionName, its other attributes
    (None values left out) and its typed children in schema order (None entries left out)."""
    attributes = tuple((k, text(v)) for k, v in (attrs or {}).items() if v is not None)
    return O.Model(
        tag=tag, function_name=function, attributes=attributes,
        content=tuple(c for c in content if c is not None), vendor=tuple(vendor))


# ---------------------------------------------------------------- body values
def array(values: Sequence[Any], type_: str = "real") -> O.Array:
    return O.Array(type=type_, n=len(values), text=" ".join(text(v) for v in values))


def inline_table(rows: Sequence[dict[str, Any]]) -> O.InlineTable:
    """An InlineTable; cells whose value is None are left out."""
    return O.InlineTable(rows=tuple(
        O.Row(cells=tuple((k, text(v)) for k, v in r.items() if v is not None)) for r in rows))


# ---------------------------------------------------------------- predicates
def simple_set_predicate(field: str, operator: str, values: Sequence[Any]) -> O.SimpleSetPredicate:
    strings = any(isinstance(v, str) for v in values)
    return O.SimpleSetPredicate(field=field, boolean_operator=operator, array=O.Array(
        type="string" if strings else "real", n=len(values),
        text=" ".join('"' + str(v).replace('"', '\\"') + '"' if isinstance(v, str) else text(v)
                      for v in values)))
