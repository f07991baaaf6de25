"""AssociationModel: association rules matched against a basket of items per record.

Input comes in one of two shapes:

- transactional: one ``group`` mining field and one active field; a record's value of the active
  field is its basket (a list/tuple of items; a single value is a basket of one). Grouping rows
  into baskets is the caller's job (one record per transaction);
- categorical: no group field; each Item names a field (``field``/``category`` attributes, or a
  value ``"field=category"``, or a boolean field's name, true when the field is true or "T").

Scoring builds a (records x items) presence matrix, then (records x itemsets) containment and
(records x rules) antecedent / consequent flags. Output fields select rules per their
``algorithm`` (recommendation: antecedent in the basket; exclusiveRecommendation: antecedent in,
consequent not; ruleAssociation: both in), order them by ``rankBasis`` / ``rankOrder`` (ties in
document order) and report ``ruleFeature`` of the rule at ``rank`` (or the first ``rank`` rules,
all for 0, when ``isMultiValued`` is 1).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from ..objects.association import AssociationRule, Item, Itemset
from ..scope import Scope
from ..values import Col, codes, full, parse_scalar
from .base import CompiledModel, Result, register

ALGORITHMS = ("recommendation", "exclusiveRecommendation", "ruleAssociation")
RULE_FEATURES = ("antecedent", "consequent", "rule", "ruleId", "support", "confidence", "lift",
                 "leverage", "affinity")
RANK_BASES = ("confidence", "support", "lift", "leverage", "affinity")
_TEXT_FEATURES = ("antecedent", "consequent", "rule", "ruleId")



@register("AssociationModel")
class AssociationModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        groups = [m for m in self.mining if m.usage == "group"]
        actives = [m for m in self.mining if m.usage == "active"]
        if len(groups) > 1:
            raise UnsupportedError("AssociationModel with several group fields",
                                   line=spec.line, element=spec.tag)
        self.transactional = bool(groups)
        if self.transactional and len(actives) != 1:
            raise DocumentError("a transactional AssociationModel needs exactly one active field",
                                line=spec.line, element=spec.tag)
        self.group_names = {g.name for g in groups}
        self._items(spec.body(Item), actives)
        self._itemsets(spec.body(Itemset))
        self._rules(spec.body(AssociationRule))

    # ------------------------------------------------------------------ parsing
    def _items(self, items: tuple[Item, ...], actives) -> None:
        self.item_ids: list[str] = []
        self.item_values: list[str] = []
        self.item_field: list[str] = []
        self.item_category: list[Any] = []   # None: a boolean field's own truth
        seen: set[str] = set()
        for it in items:
            iid, value = it.id, it.value
            if iid in seen:
                raise DocumentError(f"duplicate Item id {iid!r}", line=it.line, element="Item")
            field, category = it.field, it.category
            if self.transactional:
                field = actives[0].name
                category = category if category is not None else value
            elif field is None:
                if self.ctx.lookup(value) is not None:
                    field, category = value, None
                elif "=" in value and self.ctx.lookup(value.split("=", 1)[0]) is not None:
                    field, category = value.split("=", 1)
                else:
                    raise DocumentError(f"Item value {value!r} names no field", line=it.line,
                                        element="Item")
            elif category is None:
                raise DocumentError("Item with a field needs a category", line=it.line,
                                    element="Item")
            info = self.ctx.require(field, it)
            if category is not None:
                try:
                    category = parse_scalar(category, info.data_type)
                except ValueError:
                    raise DocumentError(f"Item category {category!r} is not a {info.data_type}",
                                        line=it.line, element="Item") from None
            seen.add(iid)
            self.item_ids.append(iid)
            self.item_values.append(value)
            self.item_field.append(field)
            self.item_category.append(category)

    def _itemsets(self, sets: tuple[Itemset, ...]) -> None:
        index = {v: j for j, v in enumerate(self.item_ids)}
        self.itemset_index: dict[str, int] = {}
        self.itemset_items: list[list[int]] = []
        for s in sets:
            sid = s.id
            refs = []
            for r in s.items:
                j = index.get(r.item_ref)
                if j is None:
                    raise DocumentError(f"ItemRef {r.item_ref!r} names no Item",
                                        line=r.line, element="ItemRef")
                refs.append(j)
            self.itemset_index[sid] = len(self.itemset_items)
            self.itemset_items.append(refs)
        member = np.zeros((len(self.item_ids), len(sets)))
        for t, refs in enumerate(self.itemset_items):
            member[refs, t] = 1.0
        self.member = member
        self.set_size = member.sum(axis=0)

    def _rules(self, rules: tuple[AssociationRule, ...]) -> None:
        ante, cons, ids = [], [], []
        stats = {k: [] for k in ("support", "confidence", "lift", "leverage", "affinity")}
        for i, r in enumerate(rules):
            a = self.itemset_index.get(r.antecedent)
            c = self.itemset_index.get(r.consequent)
            if a is None or c is None:
                raise DocumentError("AssociationRule names an unknown Itemset", line=r.line,
                                    element="AssociationRule")
            ante.append(a)
            cons.append(c)
            ids.append(r.id if r.id is not None else str(i + 1))
            for k in stats:
                v = getattr(r, k)
                stats[k].append(float("nan") if v is None else v)
        self.ante = np.array(ante, dtype=np.int64)
        self.cons = np.array(cons, dtype=np.int64)
        self.rule_ids = np.array(ids + [None], dtype=object)
        self.stats = {k: np.array(v, float) for k, v in stats.items()}
        self.rule_text = np.array(
            [self._rule_text(a, c) for a, c in zip(ante, cons)] + [None], dtype=object)
        self.ante_values = self._itemset_values(ante)
        self.cons_values = self._itemset_values(cons)

    def _itemset_values(self, sets: list[int]) -> np.ndarray:
        out = np.empty(len(sets) + 1, dtype=object)
        out[:len(sets)] = [[self.item_values[j] for j in self.itemset_items[s]] for s in sets] \
            if sets else []
        out[-1] = None
        return out

    def _rule_text(self, a: int, c: int) -> str:
        left = ",".join(self.item_values[j] for j in self.itemset_items[a])
        right = ",".join(self.item_values[j] for j in self.itemset_items[c])
        return "{" + left + "}->{" + right + "}"

    def input_names(self) -> list[str]:
        """The group field is how callers build baskets, not a model input."""
        groups = {m.name for m in self.mining if m.usage == "group"}
        return [name for name in super().input_names() if name not in groups]

    # ------------------------------------------------------------------ scoring
    def presence(self, scope: Scope) -> np.ndarray:
        """(records x items) bool: which items each record contains."""
        n = scope.n
        out = np.zeros((n, len(self.item_ids)), bool)
        if self.transactional:
            col = scope.get(self.item_field[0]) if self.item_field else None
            if col is None:
                return out
            rows, flat = [], []
            for i, v in enumerate(col.values):
                if col.missing[i] or v is None:
                    continue
                if isinstance(v, tuple):
                    rows.extend([i] * len(v))
                    flat.extend(v)
                else:
                    rows.append(i)
                    flat.append(v)
            if not flat:
                return out
            flat_arr = np.empty(len(flat), dtype=col.values.dtype if col.values.dtype != object
                                else object)
            flat_arr[:] = flat
            if flat_arr.dtype == object and col.data_type != "string":
                flat_arr = np.array([parse_scalar(v, col.data_type) for v in flat], float)
            cats = self.item_category
            code = codes(flat_arr, cats)
            hit = code >= 0
            out[np.asarray(rows)[hit], code[hit]] = True
            # several Items may share one category (a code picks only the first): copy them
            first = {}
            for j, c in enumerate(cats):
                if c in first:
                    out[:, j] = out[:, first[c]]
                else:
                    first[c] = j
            return out
        for j, (field, cat) in enumerate(zip(self.item_field, self.item_category)):
            col = scope.get(field)
            ok = ~col.missing
            if cat is None:
                if col.values.dtype == object:
                    truth = np.array([str(v).strip() in ("T", "true", "1") for v in col.values],
                                     bool)
                else:
                    truth = col.values == 1
            elif col.values.dtype == object:
                truth = codes(col.values, [cat]) == 0
            else:
                truth = col.values == cat
            out[:, j] = ok & truth
        return out

    def score(self, scope: Scope) -> Result:
        n = scope.n
        present = self.presence(scope).astype(float)
        contained = (present @ self.member) >= self.set_size[None, :] - 0.5 \
            if self.member.shape[1] else np.zeros((n, 0), bool)
        ante = contained[:, self.ante] if len(self.ante) else np.zeros((n, 0), bool)
        cons = contained[:, self.cons] if len(self.cons) else np.zeros((n, 0), bool)
        flags = {"recommendation": ante, "exclusiveRecommendation": ante & ~cons,
                 "ruleAssociation": ante & cons}

        def rule_value(spec) -> Col:
            return self._rule_output(spec, flags, n)

        extra: dict[str, Any] = {"ruleValue": rule_value}
        for f in ("antecedent", "consequent", "rule", "ruleId", "support", "lift", "leverage"):
            extra[f] = rule_value
        default = _selected(flags["exclusiveRecommendation"], self._order("confidence",
                                                                          "descending"))
        extra["entityId"] = self.rule_ids[default(1)]
        extra["entityRanks"] = lambda rank: self.rule_ids[default(rank)]
        return Result(n, self.function, full(n, None, "string", "categorical"), extra=extra)

    def _order(self, basis: str, order: str) -> np.ndarray:
        vals = self.stats[basis]
        key = vals if order == "ascending" else -vals
        key = np.where(np.isnan(key), np.inf, key)
        return np.argsort(key, kind="stable")

    def _rule_output(self, spec, flags: dict, n: int) -> Col:
        of = spec.field          # the objects.OutputField
        feature = spec.feature
        if feature == "ruleValue":
            feature = of.rule_feature or "consequent"
        algorithm = of.algorithm or "exclusiveRecommendation"
        basis = of.rank_basis or "confidence"
        order = of.rank_order or "descending"
        multi = (of.is_multi_valued or "0") in ("1", "true")
        if feature not in RULE_FEATURES or algorithm not in ALGORITHMS or basis not in RANK_BASES \
                or order not in ("ascending", "descending"):
            raise UnsupportedError(f"OutputField {spec.name!r}: ruleFeature={feature!r}, "
                                   f"algorithm={algorithm!r}, rankBasis={basis!r}, "
                                   f"rankOrder={order!r}", line=spec.line, element="OutputField")
        pick = _selected(flags[algorithm], self._order(basis, order))
        if not multi:
            return self._feature_col(feature, pick(max(spec.rank, 1)), n)
        count = flags[algorithm].sum(axis=1)
        top = count if spec.rank == 0 else np.minimum(count, spec.rank)
        width = int(top.max()) if n else 0
        cols = [self._feature_col(feature, pick(r), n).values for r in range(1, width + 1)]
        out = np.empty(n, dtype=object)
        out[:] = [[c[i] for c in cols[:top[i]]] for i in range(n)]
        return Col(out, np.zeros(n, bool), "string", "categorical")

    def _feature_col(self, feature: str, rule: np.ndarray, n: int) -> Col:
        """Values of one rule feature for rule index per row (-1: no rule)."""
        missing = rule < 0
        if feature in _TEXT_FEATURES:
            table = {"antecedent": self.ante_values, "consequent": self.cons_values,
                     "rule": self.rule_text, "ruleId": self.rule_ids}[feature]
            vals = table[rule]          # index -1 is the trailing None
            return Col(vals, missing, "string", "categorical")
        vals = np.append(self.stats[feature], np.nan)[rule]
        return Col(vals, missing | np.isnan(vals), "double", "continuous")


def _selected(flags: np.ndarray, order: np.ndarray):
    """A function rank -> per row, the index of the rank-th selected rule in ``order`` (-1)."""
    n = flags.shape[0]
    ordered = flags[:, order] if flags.shape[1] else flags
    cum = np.cumsum(ordered, axis=1) if flags.shape[1] else np.zeros((n, 0), np.int64)

    def pick(rank: int) -> np.ndarray:
        out = np.full(n, -1, dtype=np.int64)
        if not flags.shape[1] or rank < 1:
            return out
        hit = ordered & (cum == rank)
        got = hit.any(axis=1)
        out[got] = order[np.argmax(hit[got], axis=1)]
        return out
    return pick
