"""The PFA function library: a registry of implementations, one module per namespace.

An implementation is registered under its PFA name in one of three ways:

- ``@fn(name)``: a plain Python function of the evaluated arguments (the common case);
- ``@typed(name)``: a builder ``f(call) -> function`` that sees the resolved types first (e.g.
  integer overflow checks depend on whether ``+`` resolved to int, long or double);
- ``@lazy(name)``: a builder ``f(call, argfns) -> closure(frame)`` that controls evaluation of
  its arguments (short-circuit logic).

Signatures come from ``library_sigs.LIBRARY`` (the specification); ``call`` is a ``Call``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import PFARuntimeError
from ..types import AvroType

MODULES = ["core", "m", "impute", "a", "map", "s", "re", "cast", "la", "model_reg", "model_tree",
           "model_cluster", "model_neural", "model_misc", "stat", "prob", "bytes_", "time_",
           "interp", "metric", "rand", "enum_fixed"]


@dataclass
class Call:
    """What a builder knows about one call site."""

    name: str
    args: list[AvroType]          # argument types as written
    params: list[AvroType]        # parameter types after resolution
    ret: AvroType
    bindings: dict
    rt: Any                       # the engine's Runtime (rng, limits)
    sig_index: int = 0


REGISTRY: dict[str, tuple[str, Callable]] = {}
_loaded = False


def fn(name: str) -> Callable:
    def deco(f: Callable) -> Callable:
        REGISTRY[name] = ("fn", f)
        return f
    return deco


def typed(name: str) -> Callable:
    def deco(f: Callable) -> Callable:
        REGISTRY[name] = ("typed", f)
        return f
    return deco


def lazy(name: str) -> Callable:
    def deco(f: Callable) -> Callable:
        REGISTRY[name] = ("lazy", f)
        return f
    return deco


def registry() -> dict[str, tuple[str, Callable]]:
    """All implementations, importing the namespace modules on first use."""
    global _loaded
    if not _loaded:
        for m in MODULES:
            try:
                importlib.import_module(f"{__name__}.{m}")
            except ModuleNotFoundError as exc:  # a namespace not written yet
                if exc.name != f"{__name__}.{m}":
                    raise
        _loaded = True
    return REGISTRY


def E(code: int, msg: str, name: str) -> PFARuntimeError:
    """The runtime error a library function raises: the specification's message and code."""
    return PFARuntimeError(msg, code, name)
