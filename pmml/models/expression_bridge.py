"""Compiling a typed expression (``objects.Expression``) inside a model body.

Expressions still compile from elements (``expressions.compile_expression``); until they compile
typed nodes, the body compilers of Scorecard, AnomalyDetectionModel, ... call this one function,
which writes the node back as an element carrying the document's source lines, so errors name
the right line. Switching to typed compilation changes only this function.
"""
from __future__ import annotations

from ..context import Ctx
from ..expressions import Expr, compile_expression
from ..objects.expressions import Expression
from .node_access import element_for


def compile_typed_expression(node: Expression, ctx: Ctx) -> Expr:
    """The compiled form of a typed expression node, in ctx."""
    return compile_expression(element_for(node), ctx)
