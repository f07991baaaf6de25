"""Drift: the population stability index (PSI) of every input field and of the prediction.

Each field of a model version is cut into bins fixed by a *reference* distribution, and the
records the service scores are counted into those bins. Because the bins never move, the counts
of several workers (and replicas scraped by Prometheus) simply add up. The reference is, in this
order of preference, per field:

1. the document's own ``ModelStats/UnivariateStats`` (``ContStats`` intervals with their
   frequencies, ``DiscrStats`` values with their counts);
2. a reference data file given after deployment (``PUT /models/{name}/versions/{v}/reference``,
   CSV or a JSON list of records; its predictions are the prediction's reference);
3. the first N records scored by the version (N = ``ServeConfig.drift_reference_size``): the first
   worker to collect N records stores the reference in the repository; the others adopt it.

PSI = sum over bins of (a - e) * ln(a / e), with a and e the actual and reference shares. A bin
with a zero share would make the sum infinite; as is common practice, shares are floored at
``EPSILON`` (1e-4) before the sum. Continuous fields get quantile bins (deciles of the reference,
right-closed: a value equal to an edge belongs to the bin below it); categorical fields get one bin
per reference category (the most frequent ``MAX_CATEGORIES``) and one ``__other__`` bin. Missing
and unparseable values are not binned (monitoring counts them as missing / invalid).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
import threading
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

EPSILON = 1e-4
DEFAULT_BINS = 10
MAX_CATEGORIES = 20
OTHER = "__other__"
#: the key of the prediction among a version's fields (no document field can be named so)
PREDICTION = "\x00prediction"

_NUMERIC = {"double", "float", "integer", "int", "long", "real", "number"}


def is_categorical(data_type: str | None, op_type: str | None) -> bool:
    """Whether a field is binned by category (op type categorical/ordinal, or a text or boolean
    type) rather than by numeric range."""
    if op_type in ("categorical", "ordinal"):
        return True
    return (data_type or "double") not in _NUMERIC and op_type != "continuous"


def category_key(value: Any) -> str | None:
    """A value as a category label: numbers that are whole print as integers (1, 1.0 and "1"
    are one category), booleans as true/false; None and NaN are missing (None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if value != value:
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value)
    try:
        num = float(text)
    except ValueError:
        return text
    if num != num or math.isinf(num):
        return text
    return str(int(num)) if num.is_integer() else repr(num)


def to_number(value: Any) -> float | None:
    """A value as a float, or None when it is missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        return None if f != f else f
    try:
        f = float(str(value).strip())
    except ValueError:
        return None
    return None if f != f else f


@dataclass(frozen=True)
class Bins:
    """Fixed bins of one field and the reference's count in each.

    continuous: ``edges`` are the inner cut points, bins are (-inf, e1], (e1, e2], ..., (ek, inf)
    (``right_closed``; else [e_i, e_i+1)). categorical: one bin per category, then ``__other__``.
    """

    kind: str
    expected: tuple[float, ...]
    edges: tuple[float, ...] = ()
    right_closed: bool = True
    categories: tuple[str, ...] = ()
    source: str = ""
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "categorical":
            self._index.update({c: i for i, c in enumerate(self.categories)})
        n = len(self.categories) + 1 if self.kind == "categorical" else len(self.edges) + 1
        if len(self.expected) != n:
            raise ValueError(f"{n} bins but {len(self.expected)} reference counts")

    @property
    def labels(self) -> list[str]:
        if self.kind == "categorical":
            return list(self.categories) + [OTHER]
        lb, rb = ("(", "]") if self.right_closed else ("[", ")")
        cuts = ["-inf"] + [_num(e) for e in self.edges] + ["inf"]
        return [f"{lb if i else '('}{cuts[i]}, {cuts[i + 1]}{rb if i < len(self.edges) else ')'}"
                for i in range(len(self.edges) + 1)]

    def index(self, value: Any) -> int | None:
        """The bin of one value, or None when it is missing or (continuous) not a number."""
        if self.kind == "categorical":
            if type(value) is str:
                i = self._index.get(value)
                if i is not None:
                    return i
            key = category_key(value)
            if key is None:
                return None
            return self._index.get(key, len(self.categories))
        if type(value) is float:        # the common case first: a JSON number
            if value != value:
                return None
            x = value
        else:
            x = to_number(value)
            if x is None:
                return None
        return (bisect_left if self.right_closed else bisect_right)(self.edges, x)

    def to_json(self) -> dict:
        return {"kind": self.kind, "expected": list(self.expected), "edges": list(self.edges),
                "right_closed": self.right_closed, "categories": list(self.categories),
                "source": self.source}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "Bins":
        return cls(kind=raw["kind"], expected=tuple(float(x) for x in raw["expected"]),
                   edges=tuple(float(x) for x in raw.get("edges", ())),
                   right_closed=bool(raw.get("right_closed", True)),
                   categories=tuple(raw.get("categories", ())), source=raw.get("source", ""))


def _num(x: float) -> str:
    return f"{x:.6g}"


def psi(expected: Sequence[float], actual: Sequence[float], eps: float = EPSILON) -> float | None:
    """Population stability index of two count vectors over the same bins (None when either is
    empty). Shares are floored at ``eps`` so that an empty bin gives a large, finite term."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.sum() <= 0 or a.sum() <= 0:
        return None
    e = np.maximum(e / e.sum(), eps)
    a = np.maximum(a / a.sum(), eps)
    return float(np.sum((a - e) * np.log(a / e)))


def quantile_bins(values: Iterable[Any], n_bins: int = DEFAULT_BINS, source: str = "") -> Bins | None:
    """Bins at the reference's quantiles (deciles by default; ties merge bins, so a field with
    few distinct values gets fewer bins). None when the reference has no number."""
    nums = np.array([x for x in (to_number(v) for v in values) if x is not None], dtype=float)
    nums = nums[np.isfinite(nums)]
    if nums.size == 0:
        return None
    # edges are reference values themselves (inverted CDF), so no bin is empty of reference
    # records; the maximum is not an edge (the bin above it would be empty)
    cuts = np.unique(np.quantile(nums, np.arange(1, n_bins) / n_bins,
                                 method="inverted_cdf"))
    edges = tuple(float(c) for c in cuts if c < nums.max())
    idx = np.searchsorted(np.asarray(edges), nums, side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return Bins("continuous", tuple(float(c) for c in counts), edges=edges, source=source)


def category_bins(values: Iterable[Any], max_categories: int = MAX_CATEGORIES,
                  source: str = "") -> Bins | None:
    """One bin per frequent reference category (ties by first appearance) plus ``__other__``."""
    keys = [k for k in (category_key(v) for v in values) if k is not None]
    if not keys:
        return None
    counts = Counter(keys)
    top = [k for k, _ in counts.most_common(max_categories)]
    rest = sum(counts.values()) - sum(counts[k] for k in top)
    return Bins("categorical", tuple(float(counts[k]) for k in top) + (float(rest),),
                categories=tuple(top), source=source)


def bins_for(kind: str, values: Sequence[Any], source: str) -> Bins | None:
    return (category_bins(values, source=source) if kind == "categorical"
            else quantile_bins(values, source=source))


# ------------------------------------------------------------------ PMML ModelStats
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _array(el: Any) -> list[str]:
    return [m.group(1).replace('\\"', '"') if m.group(1) is not None else m.group(2)
            for m in _TOKEN.finditer(el.text or "")]


def stats_references(source: bytes | None) -> dict[str, Bins]:
    """Reference bins from a PMML document's ``ModelStats/UnivariateStats`` (field -> Bins).

    ContStats: its Intervals are the bins, the first Array their frequencies. DiscrStats: the
    first Array the values, the second their counts. Statistics that do not fit (no
    frequencies, counts of another length) are skipped: the field falls back to another
    reference rather than failing a deployed model.
    """
    if not source or b"UnivariateStats" not in source:
        return {}
    from portmodel.pmml.xmlread import parse
    try:
        root, _ = parse(source)
    except Exception:   # the model loaded, so this does not happen; never fail monitoring
        return {}
    out: dict[str, Bins] = {}
    for stats in root.iter("ModelStats"):
        for uni in stats.iter("UnivariateStats"):
            name = uni.get("field")
            if not name:
                continue
            bins = _cont_stats(uni.find("ContStats")) or _discr_stats(uni.find("DiscrStats"))
            if bins is not None and name not in out:
                out[name] = bins
    return out


def _cont_stats(el: Any) -> Bins | None:
    if el is None:
        return None
    intervals = el.findall("Interval")
    arrays = el.findall("Array")
    if not intervals or not arrays:
        return None
    try:
        freqs = [float(x) for x in _array(arrays[0])]
        lefts = [float(i.get("leftMargin")) if i.get("leftMargin") is not None else -math.inf
                 for i in intervals]
    except ValueError:
        return None
    if len(freqs) != len(intervals) or sorted(lefts) != lefts:
        return None
    closure = intervals[0].get("closure", "closedOpen")
    right_closed = closure.endswith("Closed")
    edges = tuple(lefts[1:])
    if len(set(edges)) != len(edges):
        return None
    return Bins("continuous", tuple(freqs), edges=edges, right_closed=right_closed,
                source="ModelStats")


def _discr_stats(el: Any) -> Bins | None:
    if el is None:
        return None
    arrays = el.findall("Array")
    if len(arrays) < 2:
        return None
    values = [category_key(v) for v in _array(arrays[0])]
    try:
        counts = [float(x) for x in _array(arrays[1])]
    except ValueError:
        return None
    if len(values) != len(counts) or None in values or len(set(values)) != len(values):
        return None
    return Bins("categorical", tuple(counts) + (0.0,), categories=tuple(values),  # type: ignore[arg-type]
                source="ModelStats")


# ------------------------------------------------------------------ shared references
class ReferenceStore:
    """Where a version's reference lives, shared by every worker: the repository's blob table
    when the store has one, else files beside a folder repository, else this worker's memory."""

    def __init__(self, store: Any = None, folder: str | None = None):
        self.store = store
        self.folder = folder
        if folder is None and store is not None and getattr(store, "folder", None):
            self.folder = os.path.join(store.folder, "drift")
        self._memory: dict[str, dict] = {}
        self._lock = threading.Lock()

    def _blob(self) -> bool:
        return self.store is not None and hasattr(self.store, "get_blob") \
            and hasattr(self.store, "put_blob")

    def _path(self, key: str) -> str:
        return os.path.join(self.folder or "", hashlib.sha256(key.encode()).hexdigest() + ".json")

    def get(self, key: str) -> dict | None:
        if self._blob():
            raw = self.store.get_blob(key)
            return None if raw is None else json.loads(raw)
        if self.folder:
            try:
                with open(self._path(key), "rb") as fh:
                    return json.loads(fh.read())
            except (FileNotFoundError, ValueError):
                return None
        with self._lock:
            return self._memory.get(key)

    def put(self, key: str, value: dict, only_if_absent: bool = False,
            actor: str = "service") -> dict:
        """Store a reference; with ``only_if_absent`` the first writer wins and every caller
        gets the winner's reference back."""
        data = json.dumps(value, sort_keys=True).encode()
        if self._blob():
            wrote = self.store.put_blob(key, data, actor, only_if_absent=only_if_absent)
            return value if wrote or not only_if_absent else (self.get(key) or value)
        if self.folder:
            os.makedirs(self.folder, exist_ok=True)
            path = self._path(key)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                if only_if_absent:
                    try:
                        os.link(tmp, path)       # atomic: fails if another worker won
                    except FileExistsError:
                        return self.get(key) or value
                else:
                    os.replace(tmp, path)
                    tmp = ""
            finally:
                if tmp and os.path.exists(tmp):
                    os.unlink(tmp)
            return value
        with self._lock:
            if only_if_absent and key in self._memory:
                return self._memory[key]
            self._memory[key] = value
            return value


def reference_id(refs: Mapping[str, Bins]) -> str:
    """A short id of a reference (a label on the bin counters, so that counts made against an
    older reference never mix with the current one)."""
    blob = json.dumps({k: v.to_json() for k, v in sorted(refs.items())}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def refs_to_json(refs: Mapping[str, Bins]) -> dict:
    return {"fields": {k: v.to_json() for k, v in refs.items()}}


def refs_from_json(raw: Mapping[str, Any]) -> dict[str, Bins]:
    return {k: Bins.from_json(v) for k, v in raw.get("fields", {}).items()}


@dataclass(frozen=True)
class FieldSpec:
    """A field a version is watched on: its name, bin kind and where to read it."""

    name: str
    kind: str                 # "continuous" | "categorical"


@lru_cache(maxsize=256)
def prediction_field(model: Any) -> FieldSpec | None:
    """The model's prediction: its output with usage 'predicted' (else the first target, else the
    first output) -> (name, kind). Cached per loaded model (a loaded model never changes)."""
    outputs = list(getattr(model, "outputs", []) or [])
    targets = list(getattr(model, "targets", []) or [])
    chosen = next((f for f in outputs if f.usage == "predicted"), None)
    if chosen is None and targets:
        chosen = next((f for f in outputs if f.name == targets[0].name), targets[0])
    if chosen is None and outputs:
        chosen = outputs[0]
    if chosen is None:
        return None
    return FieldSpec(chosen.name, "categorical" if is_categorical(chosen.data_type, chosen.op_type)
                     else "continuous")


def input_fields(model: Any) -> list[FieldSpec]:
    return [FieldSpec(f.name, "categorical" if is_categorical(f.data_type, f.op_type)
                      else "continuous")
            for f in getattr(model, "inputs", []) if f.usage in ("active", None, "")]


def reference_from_records(model: Any, records: Sequence[Mapping[str, Any]],
                           predictions: Sequence[Any] | None, source: str) -> dict[str, Bins]:
    """Bins for every input field and the prediction from reference records (and their
    predictions, when given)."""
    out: dict[str, Bins] = {}
    for f in input_fields(model):
        bins = bins_for(f.kind, [r.get(f.name) for r in records], source)
        if bins is not None:
            out[f.name] = bins
    pf = prediction_field(model)
    if pf is not None and predictions is not None:
        bins = bins_for(pf.kind, predictions, source)
        if bins is not None:
            out[PREDICTION] = bins
    return out


CountFn = Callable[[str, str, str, str, str, float], None]   # model, version, ref, field, bin, n


class VersionDrift:
    """Drift bookkeeping of one model version in one worker: its reference and how records are
    counted. Counts go to ``count`` (the shared Prometheus counters), so they merge."""

    RECHECK = 1.0   # seconds between looks for a reference set by another worker

    def __init__(self, model: Any, name: str, version: int, digest: str,
                 refstore: ReferenceStore, reference_size: int, count: CountFn):
        self.model, self.name, self.version, self.digest = model, name, version, digest
        self.label_version = str(version)
        self.fields = input_fields(model)
        self.pred = prediction_field(model)
        self.refstore = refstore
        self.reference_size = max(1, int(reference_size))
        self.count = count
        self.key = f"drift-reference/{name}/{version}/{digest}"
        self.builtin = {k: v for k, v in stats_references(getattr(model, "source", None)).items()
                        if k in {f.name for f in self.fields} or
                        (self.pred is not None and k == self.pred.name)}
        if self.pred is not None and self.pred.name in self.builtin:
            self.builtin[PREDICTION] = self.builtin.pop(self.pred.name)
        self._lock = threading.Lock()
        self._buffer: list[tuple[Mapping[str, Any], Any]] = []
        self._stored: dict[str, Bins] | None = None
        self._checked = 0.0
        self.refs: dict[str, Bins] = {}
        self.ref_id = ""
        self._pending: dict[str, dict[str, list[int]]] = {}    # ref id -> label -> bin counts
        self._plans: dict[int, tuple[dict, list]] = {}
        self._builtin_refs: dict[str, Bins] = {}
        self._refresh(force=True)

    def needed(self) -> tuple[str, ...]:
        """The fields (and the prediction) the document's statistics do not cover."""
        needed = self.__dict__.get("_needed")
        if needed is None:
            keys = [f.name for f in self.fields] + ([PREDICTION] if self.pred else [])
            needed = self._needed = tuple(k for k in keys if k not in self.builtin)
        return needed

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.RECHECK:
            return
        self._checked = now
        if not self.needed():
            stored = None
        else:
            raw = self.refstore.get(self.key)
            stored = None if raw is None else refs_from_json(raw)
        self._install(stored)

    def _install(self, stored: dict[str, Bins] | None) -> None:
        refs = dict(stored or {})
        refs.update(self.builtin)
        if refs != self.refs:
            self.refs = refs
            self.ref_id = reference_id(refs)
        self._stored = stored

    @property
    def collecting(self) -> bool:
        """Whether the version still waits for its first N records to fix a reference."""
        return bool(self.needed()) and self._stored is None

    def set_reference(self, refs: dict[str, Bins]) -> None:
        """Replace the stored reference (a reference file given by an administrator)."""
        self.refstore.put(self.key, refs_to_json(refs), only_if_absent=False, actor="admin")
        with self._lock:
            self._install(refs)

    def observe(self, records: Sequence[Mapping[str, Any]], predictions: Sequence[Any]) -> None:
        """Count scored records (and their predictions) into the reference's bins."""
        with self._lock:
            self._refresh()
            if self.collecting:
                room = self.reference_size - len(self._buffer)
                self._buffer.extend(zip(records[:room], predictions[:room]))
                if len(self._buffer) >= self.reference_size:
                    recs = [r for r, _ in self._buffer]
                    preds = [p for _, p in self._buffer]
                    refs = reference_from_records(self.model, recs, preds, "first_records")
                    refs = {k: v for k, v in refs.items() if k in self.needed()}
                    winner = self.refstore.put(self.key, refs_to_json(refs), only_if_absent=True)
                    self._install(refs_from_json(winner))
                    self._buffer = []
                # records that built (or arrived while building) the reference are not counted,
                # except against fields whose reference is the document's own statistics
                if self._builtin_refs.keys() != self.builtin.keys():
                    self._builtin_refs = {k: v for k, v in self.refs.items() if k in self.builtin}
                refs = self._builtin_refs
            else:
                refs = self.refs
            ref_id = self.ref_id
        if not refs:
            return
        plan = self._plan_for(refs)
        # field by field over the whole batch: plain numbers binned together (numpy for a
        # large batch), anything else value by value
        counted: list[tuple[str, list[int]]] = []
        for key, label, edges, bins in plan:
            values = predictions if key is PREDICTION else [rec.get(key) for rec in records]
            counts = [0] * len(bins.expected)
            if edges is not None:
                plain = [v for v in values if type(v) is float and v == v]
                if plain:
                    if len(plain) >= 32:
                        idx = np.searchsorted(np.asarray(edges, dtype=float),
                                              np.asarray(plain, dtype=float), side="left")
                        for i, n in enumerate(np.bincount(idx, minlength=len(counts)).tolist()):
                            counts[i] += n
                    else:
                        for v in plain:
                            counts[bisect_left(edges, v)] += 1
                    if len(plain) < len(values):
                        values = [v for v in values if not (type(v) is float and v == v)]
                    else:
                        values = []
            for v in values:
                i = bins.index(v)
                if i is not None:
                    counts[i] += 1
            counted.append((label, counts))
        with self._lock:
            pending = self._pending.get(ref_id)
            if pending is None:
                pending = self._pending[ref_id] = {label: [0] * len(b.expected)
                                                   for _, label, _, b in plan}
            for label, counts in counted:
                acc = pending[label]
                for i, n in enumerate(counts):
                    if n:
                        acc[i] += n

    def _plan_for(self, refs: Mapping[str, Bins]) -> list[tuple[str, str, Any, Bins]]:
        """(field key, label, right-closed edges for the number fast path or None, bins)."""
        cached = self._plans.get(id(refs))
        if cached is None or cached[0] is not refs:
            plan = [(k, _label_name(k), b.edges if b.kind == "continuous" and b.right_closed
                     else None, b) for k, b in refs.items()]
            self._plans = {id(refs): (refs, plan)}
            return plan
        return cached[1]

    def flush(self) -> None:
        """Hand the counts gathered since the last flush to the shared counters."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for ref_id, fields in pending.items():
            for label, counts in fields.items():
                for i, n in enumerate(counts):
                    if n:
                        self.count(self.name, self.label_version, ref_id, label, str(i), n)

    def report(self, counts: Mapping[str, Mapping[str, float]]) -> dict:
        """The JSON stats: per field its bins, reference and actual counts and PSI.
        ``counts``: field label -> bin index (as text) -> count, for this version's ref id."""
        with self._lock:
            self._refresh(force=True)
            refs, collecting = dict(self.refs), self.collecting
            buffered = len(self._buffer)
        fields_out: dict[str, Any] = {}
        prediction_out = None
        for key in [f.name for f in self.fields] + ([PREDICTION] if self.pred else []):
            bins = refs.get(key)
            if bins is None:
                entry: dict[str, Any] = {"reference": None, "psi": None}
            else:
                got = counts.get(_label_name(key), {})
                actual = [float(got.get(str(i), 0.0)) for i in range(len(bins.expected))]
                entry = {"reference": bins.source, "kind": bins.kind, "bins": bins.labels,
                         "expected": list(bins.expected), "actual": actual,
                         "observed": sum(actual), "psi": psi(bins.expected, actual)}
            if key == PREDICTION:
                entry["field"] = self.pred.name if self.pred else None
                prediction_out = entry
            else:
                fields_out[key] = entry
        out: dict[str, Any] = {"reference_id": self.ref_id, "fields": fields_out,
                               "prediction": prediction_out}
        if collecting:
            out["collecting_reference"] = {"records": buffered, "needed": self.reference_size,
                                           "note": "counted in this worker"}
        return out


def _label_name(key: str) -> str:
    return "__prediction__" if key == PREDICTION else key
