"""XGBoost (XGBClassifier, XGBRegressor): base margin plus the sum of the trees, then the
objective's link. XGBoost compares float32 features with float32 split values (``x < split``;
written as ``float(x) <= the float32 just below split``) and adds its leaves in float32: the
sums carry ``x-mathContext="float"`` (JPMML's extension) so that engines that honour it
(portmodel, JPMML-Evaluator) add as XGBoost does. XGBoost returns probabilities rounded to
float32, hence this family's tolerance.
XGBoost is imported only when such a model is exported (the ``xgboost`` extra)."""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from . import ir
from .context import Context
from .registry import model
from .trees import py_classes

#: XGBoost's probabilities are float32 values (about 1e-7 off the exact logistic)
TOLERANCE = 1e-6


def _below(t: float) -> np.float32:
    """The largest float32 < t (t itself a float32): ``x < t`` iff ``x <= _below(t)``."""
    return np.nextafter(np.float32(t), np.float32(-np.inf))


def _tree(node: dict, fields: list[str], index: dict, ctx: Context, offset: float | None
          ) -> ir.TreeNode:
    if "leaf" in node:
        v = float(np.float32(node["leaf"]))
        return ir.TreeNode(value=v if offset is None else float(np.float32(offset) +
                                                                 np.float32(v)))
    kids = {c["nodeid"]: c for c in node["children"]}
    f = node["split"]
    i = index[f] if f in index else int(f[1:])
    left = _tree(kids[node["yes"]], fields, index, ctx, offset)
    right = _tree(kids[node["no"]], fields, index, ctx, offset)
    return ir.TreeNode(field=ctx.as_float(fields[i]), threshold=_below(node["split_condition"]),
                       left=left, right=right, missing_left=node.get("missing") == node["yes"])


def _spec(est: Any, ctx: Context, features: list[str], classify: bool) -> ir.EnsembleSpec:
    booster = est.get_booster()
    config = json.loads(booster.save_config())
    learner = config["learner"]
    objective = learner["objective"]["name"]
    if learner.get("gradient_booster", {}).get("name", "gbtree") != "gbtree":
        raise ctx.fail(est, "only the gbtree booster is supported")
    names = booster.feature_names or []
    index = {n: k for k, n in enumerate(names)}
    if len(features) != booster.num_features():
        raise ctx.fail(est, f"{booster.num_features()} features expected, {len(features)} given")
    base = json.loads(learner["learner_model_param"]["base_score"].replace("E", "e")) \
        if learner["learner_model_param"]["base_score"].startswith("[") else \
        [float(learner["learner_model_param"]["base_score"])]
    n_class = int(learner["learner_model_param"].get("num_class", "0") or 0)
    K = n_class if n_class > 2 else 1
    if objective == "binary:logistic":
        base = [math.log(b / (1 - b)) for b in base]
        link = "logit"
    elif objective in ("multi:softprob", "multi:softmax"):
        link = "softmax"
    elif objective.startswith("reg:") and objective not in ("reg:logistic", "reg:gamma",
                                                            "reg:tweedie"):
        link = "none"
    else:
        raise ctx.fail(est, f"objective {objective!r}")
    base = list(base) * (K if len(base) == 1 else 1)
    dumps = [json.loads(d) for d in booster.get_dump(dump_format="json")]
    best = getattr(est, "best_iteration", None)
    per_class: list[list] = [[] for _ in range(K)]
    for t, d in enumerate(dumps):
        k = t % K
        first = not per_class[k]
        per_class[k].append(ir.TreeSpec("regression", _tree(d, features, index, ctx,
                                                           base[k] if first else None)))
    spec = ir.EnsembleSpec("classification" if classify else "regression", "sum",
                           per_class if classify else per_class[0],
                           py_classes(est) if classify else (), (0.0,) * K if classify else 0.0,
                           link if classify else "none", float_sum=True)
    spec.tolerance = TOLERANCE  # type: ignore[attr-defined]
    # ModelVerification precision is relative: engines that add in float32 (as XGBoost does,
    # but in their own order) and then take a logistic in float32 are ~1e-5 off on small
    # probabilities (JPMML-Evaluator: 3e-5 on a probability of 0.0015)
    spec.verification_precision = 1e-4  # type: ignore[attr-defined]
    del best
    return spec


@model("xgboost.XGBClassifier")
def xgb_classifier(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    return _spec(est, ctx, features, True)


@model("xgboost.XGBRegressor")
def xgb_regressor(est: Any, ctx: Context, features: list[str]) -> ir.EnsembleSpec:
    return _spec(est, ctx, features, False)
