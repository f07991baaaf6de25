"""LightGBM (LGBMClassifier, LGBMRegressor): the sum of the trees (the initial score is in the
first tree, the learning rate in the leaves), then the objective's link. LightGBM compares
doubles (``x <= threshold``); a missing value goes the node's default way when its
missing_type is NaN, and is read as 0 when it is None. A categorical split (integer category
codes, ``categorical_feature``) sends the codes in its set left, everything else (other codes,
negative values, missing values) right; LightGBM truncates a non-integer value to its integer
part first, the document compares the value itself, so category inputs must be integer codes.
LightGBM is imported only when such a model is exported (the ``lightgbm`` extra)."""
from __future__ import annotations

from typing import Any

from . import ir
from .context import Context
from .registry import model
from .trees import py_classes


def _tree(node: dict, fields: list[str], est: Any, ctx: Context) -> ir.TreeNode:
    if "leaf_value" in node:
        return ir.TreeNode(value=float(node["leaf_value"]))
    if node["decision_type"] == "==":
        # LightGBM: NaN and negative values go right, a category in the set goes left
        cats = tuple(float(c) for c in str(node["threshold"]).split("||"))
        return ir.TreeNode(field=fields[node["split_feature"]], categories=cats,
                           left=_tree(node["left_child"], fields, est, ctx),
                           right=_tree(node["right_child"], fields, est, ctx),
                           missing_left=False)
    if node["decision_type"] != "<=":
        raise ctx.fail(est, f"decision type {node['decision_type']!r}")
    t = float(node["threshold"])
    mt = node["missing_type"]
    if mt == "NaN":
        missing_left = bool(node["default_left"])
    elif mt == "None":
        missing_left = 0.0 <= t          # LightGBM reads a missing value as 0
    else:                                # "Zero": zeros and missing values go the default way
        missing_left = bool(node["default_left"])
        if (0.0 <= t) != missing_left:
            raise ctx.fail(est, "a zero-as-missing split whose default way differs from "
                           "where zero falls is not supported")
    return ir.TreeNode(field=fields[node["split_feature"]], threshold=t,
                       left=_tree(node["left_child"], fields, est, ctx),
                       right=_tree(node["right_child"], fields, est, ctx),
                       missing_left=missing_left)


def _spec(est: Any, ctx: Context, features: list[str], classify: bool) -> ir.EnsembleSpec:
    dump = est.booster_.dump_model()
    if dump["max_feature_idx"] + 1 != len(features):
        raise ctx.fail(est, f"{dump['max_feature_idx'] + 1} features expected, "
                       f"{len(features)} given")
    objective = str(dump["objective"]).split()[0]
    K = int(dump["num_tree_per_iteration"])
    if objective == "binary":
        link = "logit"
        if "sigmoid:1" not in str(dump["objective"]):
            raise ctx.fail(est, f"objective {dump['objective']!r} (sigmoid 1 only)")
    elif objective in ("multiclass", "softmax"):
        link = "softmax"
    elif objective in ("regression", "regression_l1", "huber", "fair", "quantile"):
        link = "none"
    else:
        raise ctx.fail(est, f"objective {objective!r}")
    per_class: list[list] = [[] for _ in range(K)]
    for t in dump["tree_info"]:
        k = t["tree_index"] % K
        per_class[k].append(ir.TreeSpec("regression",
                                        _tree(t["tree_structure"], features, est, ctx)))
    if classify:
        return ir.EnsembleSpec("classification", "sum", per_class, py_classes(est), (0.0,) * K,
                               link)
    return ir.EnsembleSpec("regression", "sum", per_class[0])


@model("lightgbm.LGBMClassifier")
def lgbm_classifier(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    return _spec(est, ctx, features, True)


@model("lightgbm.LGBMRegressor")
def lgbm_regressor(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    return _spec(est, ctx, features, False)
