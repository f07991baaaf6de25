"""HistGradientBoosting classifiers and regressors: the baseline plus the sum of every
iteration's tree (leaf values already scaled by the learning rate), then the link.

These trees compare float64 values with float64 thresholds (no float32 cast); a missing value
follows each node's ``missing_go_to_left``; a categorical split sends the categories in its
bitset to the left. Native categorical features go through the estimator's own ordinal
encoding (its ``_preprocessor``), converted like any OrdinalEncoder."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from . import ir
from .context import Context, transform
from .registry import model
from .trees import py_classes


def _features(est: Any, ctx: Context, features: list[str]) -> list[str]:
    pre = getattr(est, "_preprocessor", None)
    if pre is None:
        return features
    names = [str(n) for n in pre.feature_names_in_]
    out: list[str] = []
    place = ctx.place
    for name, trans, cols in pre.transformers_:
        idx = [i for i, b in enumerate(cols) if b] if np.asarray(cols).dtype == bool \
            else [names.index(c) if isinstance(c, str) else int(c) for c in cols]
        sel = [features[i] for i in idx]
        if trans == "drop" or not sel:
            continue
        if name == "encoder":
            out.extend(transform(trans, ctx, sel, f"{place} > categorical encoding"))
        else:
            out.extend(sel)          # the numerical columns, as they are
    ctx.place = place
    return out


def _in_bitset(bitset: np.ndarray, c: int) -> bool:
    return bool((int(bitset[c // 32]) >> (c % 32)) & 1)


def _tree(pred: Any, fields: list[str], offset: float | None) -> ir.TreeNode:
    nodes = pred.nodes
    bitsets = pred.raw_left_cat_bitsets

    def build(i: int) -> ir.TreeNode:
        n = nodes[i]
        if n["is_leaf"]:
            v = float(n["value"])
            return ir.TreeNode(value=v if offset is None else float(offset + n["value"]))
        left, right = build(int(n["left"])), build(int(n["right"]))
        if n["is_categorical"]:
            bs = bitsets[n["bitset_idx"]]
            cats = tuple(float(c) for c in range(32 * len(bs)) if _in_bitset(bs, c))
            return ir.TreeNode(field=fields[n["feature_idx"]], left=left, right=right,
                               missing_left=bool(n["missing_go_to_left"]), categories=cats)
        return ir.TreeNode(field=fields[n["feature_idx"]], threshold=float(n["num_threshold"]),
                           left=left, right=right, missing_left=bool(n["missing_go_to_left"]))
    return build(0)


def _members(est: Any, ctx: Context, features: list[str]) -> list[list[ir.TreeSpec]]:
    fields = _features(est, ctx, features)
    base = np.asarray(est._baseline_prediction, float).reshape(-1)
    K = len(est._predictors[0])
    return [[ir.TreeSpec("regression", _tree(it[k], fields, base[k] if j == 0 else None))
             for j, it in enumerate(est._predictors)] for k in range(K)]


@model(HistGradientBoostingRegressor)
def hgb_regressor(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    if est._loss.link.__class__.__name__ != "IdentityLink":
        raise ctx.fail(est, f"loss={est.loss!r} (only losses with the identity link)")
    return ir.EnsembleSpec("regression", "sum", _members(est, ctx, features)[0])


@model(HistGradientBoostingClassifier)
def hgb_classifier(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    per_class = _members(est, ctx, features)
    K = len(per_class)
    return ir.EnsembleSpec("classification", "sum", per_class, py_classes(est), (0.0,) * K,
                           "logit" if K == 1 else "softmax")
