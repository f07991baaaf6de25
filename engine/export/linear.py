"""Linear models: one regression table (regressors) or one per class (classifiers), with the
link scikit-learn applies (logistic for binary, softmax for multinomial)."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import (ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge,
                                  RidgeClassifier, SGDClassifier, SGDRegressor)
from sklearn.svm import LinearSVC, LinearSVR

from . import ir
from .context import Context
from .registry import model


def terms(features: list[str], coefs: np.ndarray) -> tuple:
    """(field, coefficient) pairs; zero coefficients are left out."""
    return tuple((f, float(c)) for f, c in zip(features, coefs) if c != 0)


def _check_width(est: Any, ctx: Context, features: list[str], coef: np.ndarray) -> None:
    if coef.shape[-1] != len(features):
        raise ctx.fail(est, f"{coef.shape[-1]} coefficients for {len(features)} features")


@model(LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR)
def linear_regressor(est: Any, ctx: Context, features: list[str]) -> ir.LinearSpec:
    coef = np.asarray(est.coef_, dtype=float)
    if coef.ndim == 2 and coef.shape[0] != 1:
        raise ctx.fail(est, "multi-output regression is not supported")
    coef = coef.reshape(-1)
    _check_width(est, ctx, features, coef)
    intercept = float(np.asarray(est.intercept_, dtype=float).reshape(-1)[0]) \
        if np.size(est.intercept_) else 0.0
    return ir.LinearSpec("regression", "none", [(None, intercept, terms(features, coef))])


def class_tables(est: Any, ctx: Context, features: list[str]) -> list:
    """Tables of decision values: for two classes, the second class's decision and a zero
    table for the first; else one table per class."""
    coef = np.atleast_2d(np.asarray(est.coef_, dtype=float))
    _check_width(est, ctx, features, coef)
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=float))
    if np.size(intercept) == 1 and coef.shape[0] > 1:
        intercept = np.repeat(intercept, coef.shape[0])
    classes = list(est.classes_)
    if coef.shape[0] == 1:
        return [(classes[1], float(intercept[0]), terms(features, coef[0])),
                (classes[0], 0.0, ())]
    return [(c, float(intercept[k]), terms(features, coef[k])) for k, c in enumerate(classes)]


@model(LogisticRegression)
def logistic_regression(est: LogisticRegression, ctx: Context, features: list[str]
                        ) -> ir.LinearSpec:
    tables = class_tables(est, ctx, features)
    return ir.LinearSpec("classification", "logit" if len(tables) == 2 and
                         len(est.classes_) == 2 else "softmax", tables)


@model(SGDClassifier, LinearSVC, RidgeClassifier)
def linear_classifier(est: Any, ctx: Context, features: list[str]) -> ir.LinearSpec:
    """The class with the largest decision value. Written with a logit (two classes) or a
    softmax link, both monotonic, because a classification RegressionModel without one gives
    the last class 1 minus the others (JPMML-Evaluator, portmodel); probabilities are published
    only where they are scikit-learn's (the logistic of a binary log-loss decision)."""
    tables = class_tables(est, ctx, features)
    loss = getattr(est, "loss", None)
    if loss == "modified_huber" or (loss == "log_loss" and len(est.classes_) > 2):
        raise ctx.fail(est, f"loss={loss!r} probabilities (one-vs-rest for more than two "
                       "classes, modified Huber) are not supported")
    return ir.LinearSpec("classification", "logit" if len(tables) == 2 and
                         len(est.classes_) == 2 else "softmax", tables)
