"""Decision trees. scikit-learn compares float32 features with double thresholds; the
document declares float-typed derived fields for the split features (``float(x)``) and writes
each threshold as the largest float32 not above it, so ``x <= threshold`` has the same answer
in float32 and double arithmetic, in every engine that honours the field's data type."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.tree import (DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier,
                          ExtraTreeRegressor)

from . import ir
from .context import Context
from .registry import model


def float_threshold(t: float) -> np.float32:
    """The largest float32 <= t: for a float32 x, ``x <= t`` iff ``x <= float_threshold(t)``."""
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return f


def tree_nodes(tree: Any, fields: list[str], classes: tuple | None, scale: float = 1.0,
               offset: float | None = None) -> ir.TreeNode:
    """The sklearn ``tree_`` as TreeNodes: split fields by index into ``fields`` (float-typed),
    leaves with ``scale * value`` (regression) or class probabilities (classification)."""
    # plain lists: indexing numpy arrays node by node is several times slower
    left, right = tree.children_left.tolist(), tree.children_right.tolist()
    feature = tree.feature.tolist()
    thr = np.asarray(tree.threshold, np.float64)
    f32 = thr.astype(np.float32)          # float_threshold, for every node at once
    over = f32.astype(np.float64) > thr
    f32[over] = np.nextafter(f32[over], np.float32(-np.inf))
    thresholds = list(f32)
    mgl = getattr(tree, "missing_go_to_left", np.ones(len(left), np.uint8)).tolist()
    if classes is None:
        values = (scale * tree.value[:, 0, 0]).tolist()
        if offset is not None:
            values = (offset + scale * tree.value[:, 0, 0]).tolist()
    else:
        v = tree.value[:, 0, :len(classes)]
        probs = v / v.sum(axis=1, keepdims=True)
        counts = probs * tree.weighted_n_node_samples[:, None]
        whole = np.round(counts)            # near-whole counts are whole
        counts = np.where(np.abs(counts - whole) <= 1e-12 * np.maximum(1.0, np.abs(counts)),
                          whole, counts)
        best = np.argmax(probs, axis=1).tolist()
        probs_l, counts_l = probs.tolist(), counts.tolist()

    # each node built after its children (no recursion): scikit-learn numbers a node before
    # its children, so from the last node back
    # (TreeNode's fields by position: field, threshold, left, right, missing_left, value,
    # probabilities, counts)
    nodes: list[ir.TreeNode | None] = [None] * len(left)
    node = ir.TreeNode
    for i in _children_first(tree.children_left, tree.children_right):
        l = left[i]
        if l == -1:
            if classes is None:
                nodes[i] = node(None, None, None, None, True, values[i])
            else:
                nodes[i] = node(None, None, None, None, True, classes[best[i]],
                                tuple(probs_l[i]), tuple(counts_l[i]))
        else:
            nodes[i] = node(fields[feature[i]], thresholds[i], nodes[l], nodes[right[i]],
                            mgl[i] != 0)
    return nodes[0]


def _children_first(left: np.ndarray, right: np.ndarray) -> Any:
    """Node indices, every node after its children."""
    n = len(left)
    index = np.arange(n)
    inner = left != -1
    if not np.any(inner & ((left <= index) | (right <= index))):
        return range(n - 1, -1, -1)
    order, k = [0], 0                       # (another numbering: parents before children)
    while k < len(order):
        i = order[k]
        k += 1
        if left[i] != -1:
            order += (int(left[i]), int(right[i]))
    return reversed(order)


def split_fields(est: Any, ctx: Context, features: list[str], used: set) -> list[str]:
    """Float-typed fields for the features the tree splits on (used: their indices; others
    stay as they are)."""
    if est.n_features_in_ != len(features):
        raise ctx.fail(est, f"{est.n_features_in_} features expected, {len(features)} given")
    return [ctx.as_float(f) if i in used else f for i, f in enumerate(features)]


def tree_spec(est: Any, ctx: Context, features: list[str], classes: tuple | None,
              scale: float = 1.0, missing_routing: bool = True, offset: float | None = None
              ) -> ir.TreeSpec:
    """offset: added to every leaf (a booster's initial score, folded into its first tree:
    ``init + rate * value`` is the double the library computes first)."""
    tree = est.tree_
    if tree.n_outputs != 1:
        raise ctx.fail(est, "multi-output trees are not supported")
    used = set(np.unique(tree.feature[tree.feature >= 0]).tolist())
    fields = split_fields(est, ctx, features, used)
    root = tree_nodes(tree, fields, classes, scale, offset)
    return ir.TreeSpec("classification" if classes is not None else "regression", root,
                       tuple(classes or ()), missing_routing, frozenset(fields[i] for i in used))


def py_classes(est: Any) -> tuple:
    return tuple(c.item() if isinstance(c, np.generic) else c for c in est.classes_)


@model(DecisionTreeClassifier, ExtraTreeClassifier)
def decision_tree_classifier(est: Any, ctx: Context, features: list[str]) -> ir.TreeSpec:
    return tree_spec(est, ctx, features, py_classes(est))


@model(DecisionTreeRegressor, ExtraTreeRegressor)
def decision_tree_regressor(est: Any, ctx: Context, features: list[str]) -> ir.TreeSpec:
    return tree_spec(est, ctx, features, None)
