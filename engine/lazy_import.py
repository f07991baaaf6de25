"""A module imported on first use: ``pd = lazy_module("pandas")`` at the top of a module costs
nothing until code reads ``pd.<name>``.

Why: a fresh ``portmodel score`` of a small file answers in well under a second, and pandas alone
costs 0.2 s to import; the engine's column plan needs it only on some paths (date parsing,
object columns, DataFrames in and out). Each name read is kept on the stand-in, so the second
``pd.NA`` is a plain attribute read.
"""
from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands in for a module until one of its names is read; then imports it."""

    def __init__(self, name: str) -> None:
        self._lazy_name = name

    def __getattr__(self, attr: str) -> Any:
        # only called for a name not yet kept on the stand-in
        value = getattr(importlib.import_module(self._lazy_name), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._lazy_name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when a name is first read from it."""
    return LazyModule(name)
