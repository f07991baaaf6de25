"""One converter per estimator class, keyed by the class itself.

``@transformer(StandardScaler)`` registers ``fn(est, ctx, features) -> features`` (field names
in, field names out); ``@model(LinearRegression)`` registers ``fn(est, ctx, features) -> spec``.
Look-up is by exact class: a subclass may change behaviour, so it must be registered on purpose.
Modules of optional libraries (XGBoost, LightGBM) register by class name so that importing this
package never imports them.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any, Callable

from .errors import UnsupportedEstimatorError

TRANSFORMERS: dict[str, Callable] = {}
MODELS: dict[str, Callable] = {}

#: modules holding converters, imported on first use
_MODULES = ("preprocessing", "linear", "trees", "ensembles", "boosting_hist", "neural", "svm",
            "naive_bayes", "clustering", "neighbors", "anomaly", "boosting_xgb", "boosting_lgbm")
_loaded = False


def _key(cls: type) -> str:
    return f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"


def _register(table: dict, classes: tuple) -> Callable:
    def deco(fn: Callable) -> Callable:
        for c in classes:
            table[c if isinstance(c, str) else _key(c)] = fn
        return fn
    return deco


def transformer(*classes: type | str) -> Callable:
    """Register a transformer converter for these classes (or "library.ClassName" keys)."""
    return _register(TRANSFORMERS, classes)


def model(*classes: type | str) -> Callable:
    """Register a final-estimator converter for these classes (or "library.ClassName" keys)."""
    return _register(MODELS, classes)


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for m in _MODULES:
            if importlib.util.find_spec(f"{__package__}.{m}") is not None:
                importlib.import_module(f"{__package__}.{m}")
        _loaded = True


def supported() -> tuple[list[str], list[str]]:
    """(transformer class names, model class names) the writer covers."""
    _load_all()
    short = lambda keys: sorted({k.split(".")[-1] for k in keys})  # noqa: E731
    return short(TRANSFORMERS), short(MODELS)


def lookup(table_name: str, est: Any, place: str) -> Callable:
    """The converter for ``est``, or UnsupportedEstimatorError naming its class, its place in the
    pipeline and the supported list."""
    _load_all()
    table = TRANSFORMERS if table_name == "transformer" else MODELS
    fn = table.get(_key(type(est)))
    if fn is None:
        t, m = supported()
        names = t if table_name == "transformer" else m
        raise UnsupportedEstimatorError(
            f"{type(est).__name__} at {place} is not supported as a {table_name}; supported: "
            + ", ".join(names))
    return fn
