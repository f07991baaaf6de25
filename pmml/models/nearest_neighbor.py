"""NearestNeighborModel (k-NN): the k training instances closest to a row (under the
ComparisonMeasure over the KNNInputs) vote for its class or average its value.

- continuousScoringMethod: average, median, weightedAverage (weights 1 / (distance + threshold));
- categoricalScoringMethod: majorityVote, weightedMajorityVote. Ties go to the category with the
  most training instances, then to the smallest value (the spec's rule);
- neighbours are ordered by distance (highest similarity), ties in training-table order;
- entityId outputs name the neighbours by rank: the instanceIdVariable's value, else the 1-based
  row of the training table.

Rows are scored in chunks, each a (rows x instances) distance matrix; with numba, absDiff
distances and the choice of neighbours are one fused kernel (no matrix), parallel over rows for
large batches.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from .. import attributes
from ..objects import clustering as oc
from ..scope import Scope
from ..values import Col, full, parse_scalar
from .base import CompiledModel, Result, register
from .comparison import (FieldComparison, Measure, binary_reference, distances, id_text,
                         kernel_plan, parse_field_comparison, parse_measure, ranked_ids,
                         reference_column, similarities)
from .compute_backend import kernels
from .node_access import model_attrs

_CHUNK_CELLS = 2_000_000
PARALLEL_MIN_CELLS = 4_000_000     # rows x instances from which the kernel uses every core


def _sub(col: Col, lo: int, hi: int) -> Col:
    return Col(col.values[lo:hi], col.missing[lo:hi], col.data_type, col.op_type)


def nearest(s: np.ndarray, lower: bool, R: int) -> tuple[np.ndarray, np.ndarray]:
    """The R best references per row of the score matrix s (lowest when lower, else highest;
    NaN last; ties in reference order) and their scores (numpy twin of ``select_nearest``)."""
    key = np.where(np.isnan(s), np.inf, s if lower else -s)
    order = np.argsort(key, axis=1, kind="stable")[:, :R]
    return order, np.take_along_axis(s, order, axis=1)


@register("NearestNeighborModel")
class NearestNeighborModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        attrs = model_attrs(spec)
        if self.function not in ("classification", "regression", "clustering", "mixed"):
            raise UnsupportedError(f"NearestNeighborModel functionName={self.function!r}",
                                   line=self.line, element=self.tag)
        self.k = attributes.integer(attrs, "numberOfNeighbors", required=True)
        self.continuous_method = spec.attribute("continuousScoringMethod") or "average"
        self.categorical_method = spec.attribute("categoricalScoringMethod") or "majorityVote"
        if self.continuous_method not in ("average", "median", "weightedAverage"):
            raise UnsupportedError(f"continuousScoringMethod={self.continuous_method!r}",
                                   line=self.line, element=self.tag)
        if self.categorical_method not in ("majorityVote", "weightedMajorityVote"):
            raise UnsupportedError(f"categoricalScoringMethod={self.categorical_method!r}",
                                   line=self.line, element=self.tag)
        self.threshold = attributes.number(attrs, "threshold", "0.001")
        self.id_variable = spec.attribute("instanceIdVariable")
        cms = spec.body(oc.ComparisonMeasure)
        self.measure: Measure = parse_measure(cms[0] if cms else None, spec)
        knns = spec.body(oc.KNNInputs)
        if not knns or not knns[0].inputs:
            raise DocumentError("NearestNeighborModel has no KNNInputs", line=self.line,
                                element=self.tag)
        self.fields: list[FieldComparison] = []
        for ki in knns[0].inputs:
            info = self.ctx.require(ki.field, ki)
            self.fields.append(parse_field_comparison(ki, info, self.measure))
        self._training()
        weighted = (self.categorical_method == "weightedMajorityVote" and self.categorical) or \
                   (self.continuous_method == "weightedAverage" and not self.categorical)
        if weighted and not self.measure.lower_is_better and self.target is not None:
            raise UnsupportedError("weighted k-NN scoring needs a distance measure",
                                   line=self.line, element=self.tag)

    # ------------------------------------------------------------------ training table
    def _training(self) -> None:
        tis = self.spec.body(oc.TrainingInstances)
        if not tis:
            raise DocumentError("NearestNeighborModel has no TrainingInstances", line=self.line,
                                element=self.tag)
        ti = tis[0]
        node = tis[0]
        columns = {}
        for f in (node.instance_fields.fields if node.instance_fields is not None else ()):
            if not f.field:
                raise DocumentError("attribute 'field' is empty", line=f.line,
                                    element="InstanceField")
            columns[f.field] = (f.column or f.field).split(":")[-1]
        if node.table is None and node.table_locator is not None:
            raise UnsupportedError("TableLocator (external tables) is not supported",
                                   line=node.line, element="TableLocator")
        rows = node.table.as_dicts() if node.table is not None else []
        m = len(rows)
        if not 0 < self.k <= m:
            raise DocumentError(f"numberOfNeighbors={self.k} for {m} training instances",
                                line=self.line, element=self.tag)
        self.m = m

        def cells(name: str) -> list[Any]:
            if name not in columns:
                return self._derived_cells(name, columns, rows, ti)
            col = columns[name]
            return [r.get(col) if r.get(col) not in ("", None) else None for r in rows]

        if self.measure.is_distance:
            self.refs = [reference_column(cells(fc.name), fc, ti.line) for fc in self.fields]
        else:
            self.binary_refs = np.column_stack(
                [binary_reference(cells(fc.name), ti.line) for fc in self.fields])
        if self.id_variable is not None:
            ids = cells(self.id_variable)
        else:
            ids = [str(i + 1) for i in range(m)]
        self.ids = np.array([None if v is None else str(v) for v in ids], dtype=object)
        self.id_index = {str(v): j for j, v in enumerate(self.ids)}   # affinity to an id
        self.categorical = False
        self.cats: list[Any] = []
        #: every target after the first: (field, its own copy of this model's target state)
        self.extra_targets: list[tuple[Any, "NearestNeighborModel"]] = []
        if self.target is not None:
            self._target_state(self.target, cells(self.target.name), ti)
            for name in self.target_names[1:]:
                other = object.__new__(NearestNeighborModel)
                other.__dict__.update(self.__dict__)
                other.extra_targets = []
                info = self.ctx.lookup(name)
                other.target = info
                other._target_state(info, cells(name), ti)
                self.extra_targets.append((info, other))

    def _target_state(self, target, raw: list[Any], ti) -> None:
        """How one target is scored: categorical codes and tie-break key, or values."""
        self.target = target
        spec = next((s for s in self.mining if s.name == target.name), None)
        op = (spec.op_type if spec is not None and spec.op_type else target.op_type)
        self.categorical = op in ("categorical", "ordinal")
        dt = target.data_type
        try:
            vals = [parse_scalar(v, dt if self.categorical else "double")
                    if not isinstance(v, float) else v for v in raw]
        except ValueError as exc:
            raise DocumentError(f"training target value: {exc}", line=ti.line,
                                element="TrainingInstances") from None
        if any(v is None or v != v for v in vals):
            raise DocumentError("a training instance has no target value",
                                line=ti.line, element="TrainingInstances")
        if self.categorical:
            cats = self.categories()
            for v in vals:
                if v not in cats:
                    cats.append(v)
            self.cats = cats
            index = {c: j for j, c in enumerate(cats)}
            self.target_codes = np.array([index[v] for v in vals], dtype=np.int64)
            counts = np.bincount(self.target_codes, minlength=len(cats)).astype(float)
            # tie-break key: more training instances first, then the smallest value
            by_value = sorted(range(len(cats)), key=lambda j: cats[j])
            value_rank = np.empty(len(cats))
            value_rank[by_value] = np.arange(len(cats))
            self.tie_key = counts * len(cats) - value_rank
        else:
            self.cats = []
            self.target_values = np.array(vals, dtype=float)

    def _derived_cells(self, name: str, columns: dict[str, str], rows: list[dict],
                       ti) -> list[Any]:
        """A field the training instances do not list (a KNN input or target that is a derived
        field): computed for each instance from its instance fields, through the model's
        LocalTransformations and the document's TransformationDictionary, as for a record."""
        from ..dictionary import classify
        from ..scope import Scope

        def given(info, raw):
            return lambda scope: classify(info, raw)[0]

        defs = dict(self.ctx.root_defs())
        for field, column in columns.items():
            info = self.ctx.lookup(field)
            if info is None:
                continue
            raw = np.empty(len(rows), object)
            raw[:] = [r.get(column) if r.get(column) not in ("", None) else None for r in rows]
            defs[field] = given(info, raw)
        scope = Scope(len(rows), None, defs, {}).child(self.defs)
        try:
            col = scope.get(name)
        except KeyError as exc:
            raise DocumentError(f"training instances lack field {exc.args[0]!r}, needed for "
                                f"{name!r}", line=ti.line,
                                element="TrainingInstances") from None
        if scope.errors or col.invalid is not None and col.invalid.any():
            raise DocumentError(f"training instances: field {name!r} cannot be computed for "
                                "every instance", line=ti.line,
                                element="TrainingInstances")
        vals = col.values
        numeric = vals.dtype.kind == "f"
        return [None if m else (float(v) if numeric else v) for v, m in zip(vals, col.missing)]

    # ------------------------------------------------------------------ scoring
    def _max_rank(self) -> int:
        r = self.k
        if self.output is not None:
            for s in self.output.specs:
                if s.feature in ("entityId", "clusterId", "affinity", "entityAffinity",
                                 "clusterAffinity"):
                    r = max(r, s.rank)
        return min(r, self.m)

    def _scores(self, cols: list[Col]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.measure.is_distance:
            d, undef = distances(self.measure, self.fields, cols, self.refs)
            return d, undef, np.zeros(len(undef), bool)
        return similarities(self.measure, cols, self.binary_refs)

    def score(self, scope: Scope) -> Result:
        n = scope.n
        cols = [scope.get(fc.name) for fc in self.fields]
        R = self._max_rank()
        near = np.zeros((n, R), dtype=np.int64)
        near_score = np.full((n, R), np.nan)
        undefined = np.zeros(n, bool)
        bad = np.zeros(n, bool)
        dist = self.measure.lower_is_better
        plan = kernel_plan(self.measure, self.fields, cols, self.refs) \
            if self.measure.is_distance else None
        if plan is not None:             # numba: each row's distances, then its R nearest
            kern, args = plan[0], plan[1:]
            fn = kern.nearest_distances_par if n * self.m >= PARALLEL_MIN_CELLS else \
                kern.nearest_distances
            fn(*args, dist, near, near_score)
            undefined = args[-1]
        else:
            kern = kernels()
            step = max(1, _CHUNK_CELLS // self.m)
            for lo in range(0, n, step):
                hi = min(n, lo + step)
                s, u, b = self._scores([_sub(c, lo, hi) for c in cols])
                if kern is not None:
                    kern.select_nearest(s, dist, near[lo:hi], near_score[lo:hi])
                else:
                    near[lo:hi], near_score[lo:hi] = nearest(s, dist, R)
                undefined[lo:hi] = u
                bad[lo:hi] = b
        if bad.any():
            scope.fail(bad, lambda i: EvaluationError(
                f"{self.measure.name} needs binary (0/1) values in the KNN inputs", row=i))
        k_idx = near[:, :self.k]
        k_score = near_score[:, :self.k]
        extra = self._entity_extra(n, near, near_score, undefined, cols)
        if self.target is None:
            ids = extra["entityId"]
            col = Col(ids.copy(), undefined.copy(), "string", "categorical")
            return Result(n, self.function, col, extra=extra)
        result = self._predict(n, k_idx, k_score, undefined, extra)
        if self.extra_targets:
            result.extra["targets"] = {self.target.name: result}
            for info, other in self.extra_targets:
                result.extra["targets"][info.name] = other._predict(n, k_idx, k_score,
                                                                    undefined, dict(extra))
        return result

    def _predict(self, n, k_idx, k_score, undefined, extra) -> Result:
        if self.categorical:
            return self._vote(n, k_idx, k_score, undefined, extra)
        return self._average(n, k_idx, k_score, undefined, extra)

    def _weights(self, k_score: np.ndarray) -> np.ndarray:
        return 1.0 / (k_score + self.threshold)

    def _average(self, n, k_idx, k_score, undefined, extra) -> Result:
        y = self.target_values[k_idx]
        method = self.continuous_method
        if method == "average":
            v = y.mean(axis=1)
        elif method == "median":
            v = np.median(y, axis=1)
        else:
            w = self._weights(k_score)
            v = (w * y).sum(axis=1) / w.sum(axis=1)
        v = np.where(undefined, np.nan, v)
        dt = self.target_type
        return Result(n, "regression", Col(v, undefined.copy(), dt, "continuous"), extra=extra)

    def _vote(self, n, k_idx, k_score, undefined, extra) -> Result:
        K = len(self.cats)
        codes = self.target_codes[k_idx]
        w = self._weights(k_score) if self.categorical_method == "weightedMajorityVote" else \
            np.ones(k_idx.shape)
        votes = np.zeros((n, K))
        for j in range(self.k):
            np.add.at(votes, (np.arange(n), codes[:, j]), w[:, j])
        top = votes.max(axis=1, keepdims=True)
        tied = votes == top
        best = np.argmax(np.where(tied, self.tie_key[None, :], -np.inf), axis=1)
        col = full(n, None, self.target_type, "categorical")
        cat_arr = np.array(self.cats, dtype=col.values.dtype)
        vals = col.values
        vals[~undefined] = cat_arr[best[~undefined]]
        col = Col(vals, undefined.copy(), self.target_type, "categorical")
        total = votes.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = votes / total
        share[undefined] = np.nan
        probs = {c: share[:, j] for j, c in enumerate(self.cats)}
        return Result(n, "classification", col, list(self.cats), probs, extra)

    def _entity_extra(self, n, near, near_score, undefined, cols) -> dict[str, Any]:
        ids = self.ids

        def ranked(rank: int) -> np.ndarray:
            return ranked_ids(near, ids, undefined, rank)

        def affinity(value: Any, rank: int) -> np.ndarray:
            if value is not None:
                j = self.id_index.get(id_text(value))
                if j is None:
                    return np.full(n, np.nan)
                if self.measure.is_distance:
                    refs = [r[j:j + 1] for r in self.refs]
                    d, u = distances(self.measure, self.fields, cols, refs)
                else:
                    d, u, _ = similarities(self.measure, cols, self.binary_refs[j:j + 1])
                return np.where(undefined, np.nan, d[:, 0])
            r = max(rank, 1)
            if r > near.shape[1]:
                return np.full(n, np.nan)
            return np.where(undefined, np.nan, near_score[:, r - 1])

        return {"entityId": ranked(1), "entityRanks": ranked, "affinity": affinity}
