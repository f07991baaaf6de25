"""Forests (the average of their trees) and gradient boosting (an initial raw score plus the
sum of learning-rate-scaled trees, then the loss's link)."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                              GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)

from . import ir
from .context import Context
from .registry import model
from .trees import py_classes, tree_spec


@model(RandomForestClassifier, ExtraTreesClassifier)
def forest_classifier(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    classes = py_classes(est)
    if isinstance(est.n_classes_, (list, np.ndarray)):
        raise ctx.fail(est, "multi-output forests are not supported")
    members = [tree_spec(t, ctx, features, classes) for t in est.estimators_]
    return ir.EnsembleSpec("classification", "average", members, classes)


@model(RandomForestRegressor, ExtraTreesRegressor)
def forest_regressor(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    if getattr(est, "n_outputs_", 1) != 1:
        raise ctx.fail(est, "multi-output forests are not supported")
    members = [tree_spec(t, ctx, features, None) for t in est.estimators_]
    return ir.EnsembleSpec("regression", "average", members)


def _init_raw(est: Any, ctx: Context) -> np.ndarray:
    init = est.init_
    if not (init == "zero" or isinstance(init, (DummyClassifier, DummyRegressor))):
        raise ctx.fail(est, f"init={type(init).__name__} (only the default or 'zero')")
    return np.asarray(est._raw_predict_init(np.zeros((1, est.n_features_in_))), float)[0]


@model(GradientBoostingRegressor)
def gradient_boosting_regressor(est: Any, ctx: Context, features: list[str]
                                ) -> ir.EnsembleSpec:
    lr = est.learning_rate
    init = float(_init_raw(est, ctx)[0])
    members = [tree_spec(t, ctx, features, None, lr, False, init if j == 0 else None)
               for j, t in enumerate(est.estimators_[:, 0])]
    return ir.EnsembleSpec("regression", "sum", members, intercept=0.0)


@model(GradientBoostingClassifier)
def gradient_boosting_classifier(est: Any, ctx: Context, features: list[str]
                                 ) -> ir.EnsembleSpec:
    if est.loss != "log_loss":
        raise ctx.fail(est, f"loss={est.loss!r} (only 'log_loss')")
    lr = est.learning_rate
    classes = py_classes(est)
    raw = _init_raw(est, ctx)
    K = est.estimators_.shape[1]
    per_class = [[tree_spec(t, ctx, features, None, lr, False, float(raw[k]) if j == 0 else None)
                  for j, t in enumerate(est.estimators_[:, k])] for k in range(K)]
    return ir.EnsembleSpec("classification", "sum", per_class, classes, (0.0,) * K,
                           "logit" if K == 1 else "softmax")
