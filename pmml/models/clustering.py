"""ClusteringModel (center-based): each row goes to the nearest (distance) or most similar
(similarity) cluster center under the document's ComparisonMeasure.

The predicted value is the winning cluster's id: its ``id`` attribute, else its 1-based position
(as the reference engine does); predictedDisplayValue is its ``name``. Affinity outputs give the
distance/similarity to a named cluster (``value``) or to the cluster at a rank.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from ..objects import clustering as oc
from ..objects.nodes import Fragment
from ..scope import Scope
from ..values import Col, is_numeric_type
from .base import CompiledModel, Result, register
from .compute_backend import kernels
from ..predicates import parse_array
from .row_blocks import user_float_columns
from .comparison import (FieldComparison, Measure, binary_reference, distances, id_text,
                         parse_field_comparison, parse_measure, ranked_ids, reference_column,
                         raw_distances, similarities)


def ranked_values(order: np.ndarray, values: np.ndarray, rank: int) -> np.ndarray:
    n = order.shape[0]
    if not 1 <= rank <= order.shape[1]:
        return np.full(n, np.nan)
    return values[np.arange(n), order[:, rank - 1]]


def best_references(scores: np.ndarray, lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the best reference (lowest score when lower, else highest; NaN never wins
    over a number; the first one on ties) and whether its score is finite (numpy twin of the
    numba kernel ``best_reference``)."""
    filled = np.where(np.isnan(scores), np.inf if lower else -np.inf, scores)
    best = np.argmin(filled, axis=1) if lower else np.argmax(filled, axis=1)
    return best, np.isfinite(filled[np.arange(len(best)), best])


def affinity_result(n: int, scores: np.ndarray, undefined: np.ndarray, ids: np.ndarray,
                    names: np.ndarray | None, is_distance: bool, function: str,
                    value_type: str = "string",
                    found: tuple[np.ndarray, np.ndarray] | None = None) -> Result:
    """A Result whose prediction is the best reference (lowest distance / highest similarity),
    with entityId, ranked ids, affinities and display names in ``extra``. found: the best
    reference of every row and whether its score is finite, when known already."""
    m = scores.shape[1]
    if m:
        kern = kernels()
        if found is not None:
            best, finite = found
        elif kern is not None:
            best, finite = np.empty(n, np.int64), np.empty(n, bool)
            if scores.T.flags.c_contiguous:        # (the few-references distance kernels')
                kern.best_reference_columns(scores.T, is_distance, best, finite)
            else:
                kern.best_reference(scores, is_distance, best, finite)
        else:
            best, finite = best_references(scores, is_distance)
        undefined = undefined | ~finite
    else:
        best, undefined = np.zeros(n, np.int64), np.ones(n, bool)
    any_undefined = bool(undefined.any())

    def pick(values: np.ndarray) -> np.ndarray:
        """values[best] per row, None where undefined."""
        if not m:
            return np.full(n, None, dtype=object)
        out = values[best]
        if any_undefined:
            out[undefined] = None
        return out

    win = pick(ids)
    cache: dict[str, np.ndarray] = {}

    def order() -> np.ndarray:
        if "order" not in cache:
            filled = np.where(np.isnan(scores), np.inf if is_distance else -np.inf, scores)
            key = filled if is_distance else -filled
            cache["order"] = np.argsort(key, axis=1, kind="stable")
        return cache["order"]

    def by_reference() -> np.ndarray:
        """scores with one contiguous row per reference."""
        if "t" not in cache:
            cache["t"] = np.ascontiguousarray(scores.T)
        return cache["t"]

    id_index = {str(v): j for j, v in enumerate(ids)}

    def affinity(value: Any, rank: int) -> np.ndarray:
        if value is not None:
            j = id_index.get(id_text(value))
            if j is None:
                return np.full(n, np.nan)
            out = by_reference()[j]   # a view: copied below only if it must change
            if any_undefined:
                out = out.copy()
        elif rank <= 1:
            out = scores[np.arange(n), best] if m else np.full(n, np.nan)
        else:
            out = ranked_values(order(), scores, rank)
        if any_undefined:
            out[undefined] = np.nan
        return out

    extra: dict[str, Any] = {
        "entityId": win,
        "entityRanks": lambda rank: ranked_ids(order(), ids, undefined, rank),
        "affinity": affinity,
        # affinity's arrays: rows of this call's scores or new arrays, changed by nothing
        # once given (two outputs of one reference get a copy: document._user_array)
        "affinity_own": True,
    }
    if names is not None:
        extra["displayValue"] = lambda: pick(names)   # (only predictedDisplayValue asks)
    if is_numeric_type(value_type):
        as_float = np.full(m, np.nan)
        bad_id = np.zeros(m, bool)
        for j, v in enumerate(ids):
            try:
                as_float[j] = float(v)
            except (TypeError, ValueError):
                bad_id[j] = True
        if m:
            undefined = undefined | bad_id[best]
            vals = as_float[best]
            vals[undefined] = np.nan
        else:
            vals = np.full(n, np.nan)
        any_undefined = bool(undefined.any())   # the closures above see the final mask
        col = Col(vals, undefined.copy(), value_type, "categorical", own=True)
    else:
        # (win is also extra's entityId: an output of that is not own, so it gets a copy)
        col = Col(win, undefined.copy(), "string", "categorical", own=True)
    return Result(n, function, col, [str(v) for v in ids], None, extra)


@register("ClusteringModel")
class ClusteringModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        model_class = spec.attribute("modelClass") or "centerBased"
        if model_class != "centerBased":
            raise UnsupportedError(f"ClusteringModel modelClass={model_class!r} (only centerBased "
                                   "is supported)", line=self.line, element=self.tag)
        center_fields = [c for c in spec.content
                         if isinstance(c, Fragment) and c.tag == "CenterFields"]
        if center_fields:
            raise UnsupportedError("CenterFields (PMML 3 clustering) is not supported",
                                   line=center_fields[0].line, element="CenterFields")
        cms = spec.body(oc.ComparisonMeasure)
        if not cms:
            raise DocumentError("ClusteringModel has no ComparisonMeasure", line=self.line,
                                element=self.tag)
        self.measure: Measure = parse_measure(cms[0])
        self.fields: list[FieldComparison] = []
        cfs = spec.body(oc.ClusteringField)
        for cf in cfs:
            center = cf.is_center_field if cf.is_center_field is not None else cf.center_field
            if center is False:
                continue
            info = self.ctx.require(cf.field, cf)
            self.fields.append(parse_field_comparison(cf, info, self.measure))
        if not cfs:   # no ClusteringField: every active mining field, in schema order
            for m in self.mining:
                if m.usage == "active":
                    self.fields.append(parse_field_comparison(
                        oc.ClusteringField(field=m.name, line=self.line),
                        self.ctx.lookup(m.name), self.measure))
        if not self.fields:
            raise DocumentError("ClusteringModel compares no fields", line=self.line,
                                element=self.tag)
        self.missing_weights = None
        mvws = spec.body(oc.MissingValueWeights)
        if mvws and mvws[0].array is not None:
            mvw = mvws[0]
            self.missing_weights = np.array(parse_array(mvw.array, "double"), float)
            if len(self.missing_weights) != len(self.fields):
                raise DocumentError(f"MissingValueWeights has {len(self.missing_weights)} values "
                                    f"for {len(self.fields)} fields", line=mvw.line,
                                    element="MissingValueWeights")
        clusters = spec.body(oc.Cluster)
        if not clusters:
            raise DocumentError("ClusteringModel has no Cluster", line=self.line,
                                element=self.tag)
        ids, names, rows = [], [], []
        for i, c in enumerate(clusters):
            cid = c.id if c.id is not None else str(i + 1)
            if cid in ids:
                raise DocumentError(f"duplicate Cluster id {cid!r}", line=c.line,
                                    element="Cluster")
            ids.append(cid)
            names.append(c.name if c.name is not None else cid)
            arr = c.array
            if arr is None:
                raise UnsupportedError("Cluster without a center Array", line=c.line,
                                       element="Cluster")
            tokens = parse_array(arr, "string")
            if len(tokens) != len(self.fields):
                raise DocumentError(f"Cluster center has {len(tokens)} values for "
                                    f"{len(self.fields)} clustering fields", line=arr.line,
                                    element="Array")
            rows.append((tokens, arr.line))
        self.ids = np.array(ids, dtype=object)
        self.names = np.array(names, dtype=object)
        if self.measure.is_distance:
            self.refs = [reference_column([r[0][j] for r in rows], fc, rows[0][1])
                         for j, fc in enumerate(self.fields)]
        else:
            self.binary_refs = np.vstack([binary_reference(t, line) for t, line in rows])

    @property
    def target_type(self) -> str:
        if self.target is not None:
            return self.target.data_type
        return "string"

    def _raw_distances(self, scope: Scope) -> tuple[np.ndarray, ...] | None:
        """The distances from the user's own double columns read in place (NaN: missing),
        when every field is one and the measure has no missing-value weights
        (``comparison.raw_distances``), else None."""
        if not self.measure.is_distance or self.missing_weights is not None:
            return None
        got = user_float_columns([fc.name for fc in self.fields], scope)
        if got is None or any(kind != "double" for kind in got[1]):
            return None
        return raw_distances(self.measure, self.fields, got[0], self.refs)

    def record_scorer(self, need):
        """The one-record scorer of pmml/record.py (built in pmml/record_cluster.py)."""
        from ..record_cluster import cluster_scorer
        return cluster_scorer(self, need)

    def score(self, scope: Scope) -> Result:
        n = scope.n
        got = self._raw_distances(scope)
        if got is not None:
            scores, undefined, best, finite = got
            return affinity_result(n, scores, undefined, self.ids, self.names,
                                   self.measure.lower_is_better, self.function,
                                   self.target_type, found=(best, finite))
        cols = [scope.get(fc.name) for fc in self.fields]
        if self.measure.is_distance:
            scores, undefined = distances(self.measure, self.fields, cols, self.refs,
                                          self.missing_weights)
        else:
            scores, undefined, bad = similarities(self.measure, cols, self.binary_refs)
            if bad.any():
                names = [fc.name for fc in self.fields]
                scope.fail(bad, lambda i: EvaluationError(
                    f"{self.measure.name} needs binary (0/1) values in {', '.join(names)}", row=i))
        return affinity_result(n, scores, undefined, self.ids, self.names,
                               self.measure.lower_is_better, self.function, self.target_type)
