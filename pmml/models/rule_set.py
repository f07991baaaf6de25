"""RuleSetModel: classification by rules that fire when their predicates are TRUE.

Nested CompoundRules are flattened at load into the document-order list of SimpleRules, each
with the predicates of its enclosing CompoundRules; scoring evaluates every predicate once over
all rows and builds a (rows x rules) "fired" matrix. The first RuleSelectionMethod decides:

- firstHit: the first firing rule wins; its confidence is the answer's confidence.
- weightedSum: per score, the sum of the weights of its firing rules divided by the number of
  firing rules; the highest wins (ties: the target's value order).
- weightedMax: the firing rule with the highest weight wins (ties: the first such rule).

When no rule fires, the RuleSet's defaultScore / defaultConfidence answer (no entity id).
Rule ids (entityId) are the ``id`` attributes, else 1-based positions among the SimpleRules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from ..objects.rule_set import CompoundRule, RuleSet
from ..predicates import Tri, compile_pred, predicate_of
from ..scope import Scope
from ..values import Col, full, parse_scalar
from .base import CompiledModel, Result, register



def _or(value: float | None, default: float) -> float:
    return default if value is None else value


@dataclass
class _Rule:
    id: str
    score: Any
    confidence: float
    weight: float
    preds: list[int]                     # indices into the model's predicate list (all must hold)
    dist: dict[Any, float] = field(default_factory=dict)   # ScoreDistribution probabilities


@register("RuleSetModel")
class RuleSetModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        if self.function != "classification":
            raise UnsupportedError(f"RuleSetModel functionName={self.function!r}",
                                   line=spec.line, element=spec.tag)
        sets = spec.body(RuleSet)
        if not sets:
            raise DocumentError("RuleSetModel has no RuleSet", line=spec.line, element=spec.tag)
        rs = sets[0]
        if not rs.methods:
            raise DocumentError("RuleSet has no RuleSelectionMethod", line=rs.line,
                                element="RuleSet")
        self.criterion = rs.methods[0].criterion
        dt = self.target_type
        self.default_score = self._parse(rs.default_score, rs)
        self.default_confidence = (rs.default_confidence if rs.default_confidence is not None
                                   else float("nan"))
        self.preds: list[Callable[[Scope], Tri]] = []
        self.rules: list[_Rule] = []
        self._flatten(rs)
        cats = self.categories()
        for r in self.rules:
            for v in [r.score, *r.dist]:
                if v not in cats:
                    cats.append(v)
        if self.default_score is not None and self.default_score not in cats:
            cats.append(self.default_score)
        self.cats = cats
        k, nr = len(cats), len(self.rules)
        index = {c: j for j, c in enumerate(cats)}
        self.rule_cat = np.array([index[r.score] for r in self.rules], dtype=np.int64)
        self.weight = np.array([r.weight for r in self.rules], float)
        self.conf = np.array([r.confidence for r in self.rules], float)
        self.ids = np.array([r.id for r in self.rules] + [None], dtype=object)   # [-1]: no rule
        self.dist = None
        if any(r.dist for r in self.rules):
            self.dist = np.full((nr + 1, k), np.nan)
            for i, r in enumerate(self.rules):
                if r.dist:
                    self.dist[i] = 0.0
                    for c, p in r.dist.items():
                        self.dist[i, index[c]] = p
        self.cat_values = np.empty(k + 1, dtype=object if dt == "string" else float)
        self.cat_values[:k] = cats
        self.cat_values[k] = None if dt == "string" else np.nan
        self.value_dtype = full(1, None, dt, "categorical").values.dtype
        self.onehot = np.zeros((nr, k))          # rule -> its score's category
        self.onehot[np.arange(nr), self.rule_cat] = 1.0

    def _parse(self, text: str | None, node) -> Any:
        if text is None:
            return None
        try:
            return parse_scalar(text, self.target_type)
        except ValueError:
            raise DocumentError(f"score {text!r} is not a {self.target_type}", line=node.line,
                                element=node.XML.tag) from None

    def _flatten(self, rule_set: RuleSet) -> None:
        """The SimpleRules in document order, each with the predicates of its enclosing
        CompoundRules (iterative: rules may nest deeply)."""
        stack: list[tuple[Any, list[int]]] = [(r, []) for r in reversed(rule_set.rules)]
        while stack:
            child, outer = stack.pop()
            tag = child.XML.tag
            if child.predicate is None:
                raise DocumentError(f"{tag} without a predicate", line=child.line, element=tag)
            self.preds.append(compile_pred(predicate_of(child.predicate, self.ctx)))
            path = outer + [len(self.preds) - 1]
            if isinstance(child, CompoundRule):
                stack.extend((r, path) for r in reversed(child.rules))
                continue
            score = self._parse(child.score, child)
            rid = child.id if child.id is not None else str(len(self.rules) + 1)
            rule = _Rule(rid, score, _or(child.confidence, 1.0), _or(child.weight, 1.0), path)
            if child.distributions:
                counts = {}
                probs = {}
                for sd in child.distributions:
                    v = self._parse(sd.value, sd)
                    counts[v] = _or(sd.record_count, 0.0)
                    if sd.probability is not None:
                        probs[v] = sd.probability
                total = sum(counts.values())
                rule.dist = {v: probs.get(v, counts[v] / total if total > 0 else np.nan)
                             for v in counts}
            self.rules.append(rule)

    # ------------------------------------------------------------------ scoring
    def fired(self, scope: Scope) -> np.ndarray:
        """(rows x rules) bool: which rules fire (all their predicates TRUE) for each row."""
        n = scope.n
        truth = []
        for p in self.preds:
            t, known = p(scope)
            truth.append(t & known)
        out = np.empty((n, len(self.rules)), bool)
        for j, r in enumerate(self.rules):
            f = truth[r.preds[0]].copy()
            for i in r.preds[1:]:
                f &= truth[i]
            out[:, j] = f
        return out

    def score(self, scope: Scope) -> Result:
        n = scope.n
        k = len(self.cats)
        F = self.fired(scope)
        any_fired = F.any(axis=1) if F.shape[1] else np.zeros(n, bool)
        onehot = self.onehot
        if self.criterion == "weightedSum":
            count = F.sum(axis=1)
            sums = (F * self.weight) @ onehot
            cat_fired = (F.astype(float) @ onehot) > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                conf = sums / np.where(count > 0, count, 1)[:, None]
            conf = np.where(any_fired[:, None], conf, 0.0)
            win_cat = np.argmax(np.where(cat_fired, conf, -np.inf), axis=1)
            in_win = F & (self.rule_cat[None, :] == win_cat[:, None])
            rule = np.argmax(np.where(in_win, self.weight, -np.inf), axis=1)
        else:
            # firstHit: the first firing rule (argmax of a bool row); weightedMax: the heaviest
            key = F if self.criterion == "firstHit" else np.where(F, self.weight[None, :], -np.inf)
            rule = np.argmax(key, axis=1)
            conf = np.zeros((n, k))
            for c in range(k):
                members = np.flatnonzero(self.rule_cat == c)
                if not len(members):
                    continue
                best = members[np.argmax(key[:, members], axis=1)]
                hit = F[:, members].any(axis=1)
                conf[hit, c] = self.conf[best[hit]]
        rule = np.where(any_fired, rule, -1)
        cat = np.where(any_fired, self.rule_cat[np.where(any_fired, rule, 0)] if len(self.rules)
                       else 0, -1)
        default = ~any_fired
        if self.default_score is not None and default.any():
            d = self.cats.index(self.default_score)
            cat[default] = d
            conf[default] = 0.0
            conf[default, d] = self.default_confidence
        missing = cat < 0
        conf[missing] = np.nan
        vals = self.cat_values[np.where(missing, k, cat)]
        col = Col(vals.astype(self.value_dtype), missing, self.target_type, "categorical")
        extra: dict[str, Any] = {
            "entityId": self.ids[rule],
            "confidence": {c: conf[:, j] for j, c in enumerate(self.cats)},
        }
        probs = None
        if self.dist is not None:
            p = self.dist[rule]                 # row -1 (no rule) is all NaN
            probs = {c: p[:, j] for j, c in enumerate(self.cats)}
        return Result(n, "classification", col, list(self.cats), probs, extra)
