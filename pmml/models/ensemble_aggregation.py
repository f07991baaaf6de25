"""How an ensemble's segment results combine into one Result (MiningModel's
multipleModelMethod for sums, averages, medians, votes and probability blends).

Both the segment-by-segment path (``mining``) and the one-pass tree-ensemble kernel
(``forest``) use these aggregators: the kernel fills their running sums itself (attribute names
``VoteAggregator.cats/votes/first/miss_votes``, ``ProbabilityAggregator.cats/acc/den``,
``ValueAggregator.acc/den``, ``MissingPredictions.*``) and calls ``finish``, so both paths give
the same Result. Where the specification is loose this follows JPMML-Evaluator (vote fractions
as majorityVote probabilities, first-voted category wins a tie, missingThreshold per segment
result).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from portmodel.errors import EvaluationError
from portmodel.lazy_import import lazy_module

from ..scope import Scope
from ..values import Col, codes, full, is_numeric_type
from .base import Result, category_values
from .first_max import first_max

pd = lazy_module("pandas")     # (imported on first use: see portmodel.lazy_import)

if TYPE_CHECKING:
    from .mining import Segment

VOTE_METHODS = ("majorityVote", "weightedMajorityVote")


def make_aggregator(model, n: int):
    if model.method in VOTE_METHODS:
        return VoteAggregator(model, n)
    if model.function == "classification":
        return ProbabilityAggregator(model, n)
    return ValueAggregator(model, n)



class MissingPredictions:
    """Per-row bookkeeping of missing segment predictions (missingPredictionTreatment)."""

    def __init__(self, model, n: int):
        self.treatment = model.treatment
        self.threshold = model.threshold
        self.total_w = np.zeros(n)
        self.miss_w = np.zeros(n)
        self.any_miss = np.zeros(n, bool)

    def add(self, rows, w: float, miss: np.ndarray) -> None:
        sl = slice(None) if rows is None else rows
        self.total_w[sl] += w
        if miss.any():
            self.miss_w[sl] += np.where(miss, w, 0.0)
            self.any_miss[sl] |= miss

    def null_rows(self, continue_nulls: bool) -> np.ndarray:
        """Rows whose result is missing because of missing segment predictions."""
        if self.treatment == "returnMissing" or (self.treatment == "continue" and continue_nulls):
            return self.any_miss.copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = self.miss_w / self.total_w
        return self.any_miss & (frac > self.threshold)


class ValueAggregator:
    """Regression: (weighted) sum, average, median."""

    def __init__(self, model, n: int):
        self.model = model
        self.method = model.method
        self.n = n
        self.miss = MissingPredictions(model, n)
        # x-mathContext="float": a float32 running sum, each addition rounded as JPMML's is
        self.acc = np.zeros(n, np.float32 if model.float32 else float)
        self.den = np.zeros(n)
        self.stack: list[tuple[np.ndarray | None, np.ndarray, np.ndarray, float]] = []

    def add(self, seg: Segment, rows, res: Result) -> None:
        m = res.value.missing
        w = seg.weight
        self.miss.add(rows, w, m)
        v = res.value.values
        v = v.astype(float) if v.dtype != float else v
        if self.method in ("median", "weightedMedian"):
            self.stack.append((rows, v, m, w))
            return
        weighted = self.method in ("weightedAverage", "weightedSum")
        ok = ~m
        if m.any():
            v = np.where(ok, v, 0.0)
        term = v * w if (weighted and (np.ndim(w) or w != 1.0)) else v
        sl = slice(None) if rows is None else rows
        self.acc[sl] += term
        self.den[sl] += (ok * w) if weighted else ok

    def finish(self, scope: Scope, ran: np.ndarray) -> Result:
        n = self.n
        null = self.miss.null_rows(True) | ~ran
        if self.method in ("median", "weightedMedian"):
            vals, undefined = self._median()
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                if self.method in ("average", "weightedAverage"):
                    den = self.den.astype(self.acc.dtype)
                    vals = (self.acc / den).astype(float)
                    undefined = self.den == 0
                else:
                    vals = self.acc.astype(float)
                    undefined = np.zeros(n, bool)
        _fail_undefined(scope, undefined & ~null, self.method)
        missing = null | undefined
        vals = np.where(missing, np.nan, vals)
        return Result(n, "regression", Col(vals, missing, _num_type(self.model), "continuous"))

    def _median(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.n
        S = len(self.stack)
        V = np.full((max(S, 1), n), np.nan)
        W = np.zeros((max(S, 1), n))
        for j, (rows, v, m, w) in enumerate(self.stack):
            sl = slice(None) if rows is None else rows
            V[j, sl] = np.where(m, np.nan, v)
            W[j, sl] = np.where(m, 0.0, w)
        if self.method == "median":
            out, cnt = legacy_median(V)
            return out, cnt == 0
        # weighted median: sort by value (stable), first value whose cumulated weight reaches
        # half the total weight
        order = np.argsort(V, axis=0, kind="stable")
        Vs = np.take_along_axis(V, order, axis=0)
        Ws = np.take_along_axis(W, order, axis=0)
        total = np.zeros(n)
        for j in range(V.shape[0]):
            total += W[j]
        cum = np.cumsum(Ws, axis=0)
        valid = ~np.isnan(Vs)
        hit = (cum >= 0.5 * total) & valid
        first = np.argmax(hit, axis=0)
        out = Vs[first, np.arange(n)]
        undefined = ~hit.any(axis=0)
        return np.where(undefined, np.nan, out), undefined


def legacy_median(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise median ignoring NaN, as the reference's 50th percentile (legacy estimate)."""
    s = np.sort(V, axis=0)                       # NaN last
    cnt = (~np.isnan(V)).sum(axis=0)
    n = V.shape[1]
    pos = (cnt + 1) / 2.0
    fl = np.floor(pos).astype(np.int64)
    d = pos - fl
    cols = np.arange(n)
    lo_i = np.clip(fl - 1, 0, V.shape[0] - 1)
    hi_i = np.clip(np.minimum(fl, cnt - 1), 0, V.shape[0] - 1)
    lo = s[lo_i, cols]
    hi = s[hi_i, cols]
    with np.errstate(invalid="ignore"):
        out = np.where(d == 0, lo, lo + d * (hi - lo))
    return np.where(cnt == 0, np.nan, out), cnt


class VoteAggregator:
    """majorityVote / weightedMajorityVote: vote sums; probabilities are vote fractions."""

    def __init__(self, model, n: int):
        self.model = model
        self.n = n
        self.weighted = model.method == "weightedMajorityVote"
        self.miss = MissingPredictions(model, n)
        self.cats: list[Any] = list(model.cats)
        k = len(self.cats)
        self.votes = np.zeros((k, n))
        self.first = np.full((k, n), np.iinfo(np.int64).max, dtype=np.int64)
        self.arange = np.arange(n)
        self.miss_votes = np.zeros(n)

    def _codes(self, vals: np.ndarray) -> np.ndarray:
        c = codes(vals, self.cats) if self.cats else np.full(len(vals), -1, dtype=np.int64)
        if (c < 0).any():
            new = [v for v in pd.unique(vals[c < 0]) if v is not None]
            self.cats.extend(new)
            grow = len(new)
            self.votes = np.vstack([self.votes, np.zeros((grow, self.n))])
            self.first = np.vstack([self.first, np.full((grow, self.n), np.iinfo(np.int64).max,
                                                        dtype=np.int64)])
            c = codes(vals, self.cats)
        return c

    def add(self, seg: Segment, rows, res: Result) -> None:
        w = seg.weight if self.weighted else 1.0
        m = res.value.missing
        self.miss.add(rows, seg.weight, m)
        if m.any():
            self.miss_votes[slice(None) if rows is None else rows] += np.where(m, w, 0.0)
        ok = np.flatnonzero(~m)
        if not len(ok):
            return
        r = (self.arange if rows is None else rows)[ok]
        c = self._codes(res.value.values[ok])
        self.votes[c, r] += w[ok] if np.ndim(w) else w
        f = self.first[c, r]
        self.first[c, r] = np.minimum(f, seg.index)

    def finish(self, scope: Scope, ran: np.ndarray) -> Result:
        n = self.n
        k = len(self.cats)
        total = np.zeros(n)
        for j in range(k):
            total += self.votes[j]
        best_votes = self.votes.max(axis=0) if k else np.zeros(n)
        null = self.miss.null_rows(False) | ~ran
        if self.miss.treatment == "continue":
            # the missing pseudo-category wins when it gets strictly the most votes
            null |= (total > 0) & (self.miss_votes > best_votes)
        undefined = (total == 0) & ~null
        _fail_undefined(scope, undefined, self.model.method)
        missing = null | undefined
        if k:
            tie = self.votes == best_votes[None, :]
            first = np.where(tie, self.first, np.iinfo(np.int64).max)
            win = np.argmin(first, axis=0)
        else:
            win = np.zeros(n, np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            probs = {c: np.where(missing, np.nan, self.votes[j] / total)
                     for j, c in enumerate(self.cats)}
        col = _category_col(self.model, self.cats, win, missing, n)
        fn = "clustering" if self.model.function == "clustering" else "classification"
        return Result(n, fn, col, list(self.cats), probs if fn == "classification" else None)


class ProbabilityAggregator:
    """Classification average / weightedAverage / median / max of segment probabilities."""

    def __init__(self, model, n: int):
        self.model = model
        self.method = model.method
        self.n = n
        self.miss = MissingPredictions(model, n)
        self.cats: list[Any] = list(model.cats)
        self.acc: dict[Any, np.ndarray] = {c: np.zeros(n) for c in self.cats}
        self.den = np.zeros(n)
        self.stack: list[tuple[np.ndarray | None, dict, np.ndarray]] = []

    def _probs(self, res: Result) -> dict[Any, np.ndarray]:
        m = res.value.missing
        if res.probs is None:
            # a segment without probabilities: certainty for its predicted category
            vals = res.value.values
            cats = list(res.categories) or [v for v in pd.unique(vals[~m])]
            idx = codes(vals, cats)
            return {c: np.where(m, 0.0, (idx == j).astype(float)) for j, c in enumerate(cats)}
        return {c: np.where(m | np.isnan(p), 0.0, p) for c, p in res.probs.items()}

    def add(self, seg: Segment, rows, res: Result) -> None:
        m = res.value.missing
        w = seg.weight if self.method == "weightedAverage" else 1.0
        self.miss.add(rows, seg.weight, m)
        probs = self._probs(res)
        for c in probs:
            if c not in self.acc:
                self.cats.append(c)
                self.acc[c] = np.zeros(self.n)
        sl = slice(None) if rows is None else rows
        ok = ~m
        if self.method in ("median", "max"):
            self.stack.append((rows, probs, m))
            self.den[sl] += ok
            return
        for c, p in probs.items():
            self.acc[c][sl] += p * w if (np.ndim(w) or w != 1.0) else p
        self.den[sl] += ok * w

    def finish(self, scope: Scope, ran: np.ndarray) -> Result:
        n = self.n
        null = self.miss.null_rows(True) | ~ran
        undefined = (self.den == 0) & ~null
        _fail_undefined(scope, undefined, self.method)
        missing = null | undefined
        if self.method in ("median", "max"):
            probs = self._pick()
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                probs = {c: self.acc[c] / self.den for c in self.cats}
        if missing.any():
            probs = {c: np.where(missing, np.nan, p) for c, p in probs.items()}
        else:       # (np.where's values: the arrays are this call's own)
            probs = dict(probs)
        columns = [probs[c] for c in self.cats]
        if self.cats and all(p.dtype == np.float64 and not np.isinf(p).any()
                             for p in columns):
            # argmax of the NaN-as-lowest columns: first_max's answer, column by column
            win = first_max(columns)
        elif self.cats:
            mat = _nan_to_num_low(np.array(columns))   # (as np.vstack)
            win = np.argmax(mat, axis=0)
        else:
            win = np.zeros(n, np.int64)
        col = _category_col(self.model, self.cats, win, missing, n)
        return Result(n, "classification", col, list(self.cats), probs)

    def _pick(self) -> dict[Any, np.ndarray]:
        """median / max: the winning category's statistic picks the contributing segments,
        whose distributions are averaged."""
        n, cats = self.n, self.cats
        S, K = max(len(self.stack), 1), len(cats)
        P = np.full((S, K, n), np.nan)
        for j, (rows, probs, m) in enumerate(self.stack):
            sl = slice(None) if rows is None else rows
            for ci, c in enumerate(cats):
                p = probs.get(c)
                if p is None:
                    p = np.zeros(len(m))
                P[j, ci, sl] = np.where(m, np.nan, p)
        if self.method == "median":
            stat = np.vstack([legacy_median(P[:, ci, :])[0] for ci in range(K)]) if K else \
                np.zeros((0, n))
        else:
            stat = np.vstack([np.fmax.reduce(P[:, ci, :], axis=0) for ci in range(K)]) if K \
                else np.zeros((0, n))
        cols = np.arange(n)
        win = np.argmax(np.nan_to_num(stat, nan=-np.inf), axis=0) if K else np.zeros(n, int)
        target = stat[win, cols] if K else np.full(n, np.nan)
        pw = P[:, win, cols] if K else np.full((S, n), np.nan)     # (S, n): each segment's p(win)
        diff = np.abs(pw - target[None, :])
        best = np.nanmin(np.where(np.isnan(diff), np.inf, diff), axis=0)
        contrib = diff == best[None, :]
        cnt = contrib.sum(axis=0)
        out = {}
        for ci, c in enumerate(cats):
            acc = np.zeros(n)
            for j in range(S):
                acc += np.where(contrib[j], np.nan_to_num(P[j, ci]), 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[c] = acc / cnt
        return out



# ---------------------------------------------------------------------- helpers


def _num_type(model) -> str:
    t = model.target_type
    return t if is_numeric_type(t) else "double"


def _nan_to_num_low(mat: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(mat, nan=-np.inf)``, in three ufunc calls when no value is infinite
    (probabilities): the Python-level nan_to_num costs more than the rest of a one-record
    finish. Infinities (to the extreme finite values) take nan_to_num itself."""
    if mat.dtype != np.float64 or np.isinf(mat).any():
        return np.nan_to_num(mat, nan=-np.inf)
    return np.where(np.isnan(mat), -np.inf, mat)


def _category_col(model, cats: list[Any], win: np.ndarray, missing: np.ndarray,
                  n: int) -> Col:
    if cats and not missing.any():       # (every row has a category: one take, no masks)
        return Col(category_values(cats, win, model.target_type), missing.copy(),
                   model.target_type, "categorical")
    col = full(n, None, model.target_type, "categorical")
    if cats:
        cat_arr = np.empty(len(cats), dtype=col.values.dtype)
        cat_arr[:] = cats
        ok = ~missing
        col.values[ok] = cat_arr[win[ok]]
    col.missing[:] = missing
    return col


def _fail_undefined(scope: Scope, mask: np.ndarray, method: str) -> None:
    if mask.any():
        scope.fail(mask, lambda i: EvaluationError(
            f"{method} of the segment predictions is undefined (no usable prediction)", row=i))



def blank_rows(result: Result, mask: np.ndarray) -> Result:
    """The result with no prediction on the rows of mask."""
    v = result.value
    vals = v.values.copy()
    vals[mask] = np.nan if vals.dtype.kind == "f" else None
    col = Col(vals, v.missing | mask, v.data_type, v.op_type)
    probs = None if result.probs is None else {
        c: np.where(mask, np.nan, p) for c, p in result.probs.items()}
    return Result(result.n, result.function, col, result.categories, probs, result.extra,
                  result.segments)
