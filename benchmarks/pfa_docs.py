"""PFA documents used by the PFA benchmark and tests: logistic regression and a full binary tree."""
from __future__ import annotations

import numpy as np


def logistic_regression_doc(n_features: int = 10, seed: int = 1) -> dict:
    """model.reg.linear + m.link.logit over a record of doubles."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(n_features)]
    return {
        "name": "logreg",
        "input": {"type": "record", "name": "Input",
                  "fields": [{"name": n, "type": "double"} for n in names]},
        "output": "double",
        "cells": {"model": {
            "type": {"type": "record", "name": "Model", "fields": [
                {"name": "coeff", "type": {"type": "array", "items": "double"}},
                {"name": "const", "type": "double"}]},
            "init": {"coeff": [float(c) for c in rng.normal(size=n_features)],
                     "const": float(rng.normal())}}},
        "action": {"m.link.logit": {"model.reg.linear": [
            {"new": [f"input.{n}" for n in names], "type": {"type": "array", "items": "double"}},
            {"cell": "model"}]}},
    }


def tree_doc(depth: int = 10, n_features: int = 10, seed: int = 2) -> dict:
    """A full binary decision tree walked with model.tree.simpleWalk + simpleTest."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(n_features)]

    def node(d: int) -> dict:
        def branch():
            if d + 1 == depth:
                return {"double": float(np.round(rng.normal(), 6))}
            return {"TreeNode": node(d + 1)}
        return {"field": names[int(rng.integers(n_features))],
                "operator": ["<", "<=", ">", ">="][int(rng.integers(4))],
                "value": float(np.round(rng.normal(), 6)),
                "pass": branch(), "fail": branch()}

    return {
        "name": "tree",
        "input": {"type": "record", "name": "Input",
                  "fields": [{"name": n, "type": "double"} for n in names]},
        "output": "double",
        "cells": {"tree": {
            "type": {"type": "record", "name": "TreeNode", "fields": [
                {"name": "field", "type": {"type": "enum", "name": "Fields", "symbols": names}},
                {"name": "operator", "type": "string"},
                {"name": "value", "type": "double"},
                {"name": "pass", "type": ["TreeNode", "double"]},
                {"name": "fail", "type": ["TreeNode", "double"]}]},
            "init": node(0)}},
        "action": {"model.tree.simpleWalk": [
            "input", {"cell": "tree"},
            {"params": [{"d": "Input"}, {"t": "TreeNode"}], "ret": "boolean",
             "do": {"model.tree.simpleTest": ["d", "t"]}}]},
    }


def records(n: int, n_features: int = 10, seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    names = [f"x{i}" for i in range(n_features)]
    return [dict(zip(names, map(float, row))) for row in x]
