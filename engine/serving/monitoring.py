"""Monitoring: Prometheus metrics, input-field quality, drift and the JSON access log.

``install(app)`` adds to a worker's application:

- an ASGI middleware that counts every request by model, version, endpoint and status, times it
  (``portmodel_request_duration_seconds``), tracks in-flight requests, and writes one JSON line
  per request with its request id (``X-Request-Id``, generated when the client sent none, and
  echoed on the response) to stderr, or to the file named by ``PORTMODEL_ACCESS_LOG``;
- the registry's observer (``observed.py``: every model the registry hands out reports what it
  scores, whichever path scores with it) that judges each scored record's input fields against
  the model's own DataDictionary/MiningSchema (missing, invalid, out of range) and counts the
  record and its prediction into the drift bins (``drift.py``), live answers and endpoint
  shadows under separate ``role`` labels;
- ``GET /metrics`` (Prometheus text format), ``GET /models/{name}/stats`` (drift and field
  quality as JSON) and ``PUT /models/{name}/versions/{v}/reference`` (a reference data file).

Every figure is a prometheus-client series. With several workers the serve command points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder (``prepare_multiprocess``) before the workers
start; each worker then writes its values to memory-mapped files there and every reader (the
/metrics page, the stats pages) sums the files of all workers. So the counts that the JSON
stats pages show are the same, exact and merged, whichever worker answers.
"""
from __future__ import annotations

import atexit
import logging
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict, deque
from typing import Any, Iterable, Mapping, Sequence

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               disable_created_metrics, generate_latest)

from .observed import ROLE
from .drift import (ReferenceStore, VersionDrift, category_key, is_categorical,
                    prediction_field, reference_from_records, to_number)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ACCESS_LOG_ENV = "PORTMODEL_ACCESS_LOG"

#: buckets of the request latency histogram on /metrics (seconds)
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
                   10.0)
#: finer buckets for the endpoint variants' latency quantiles: 0.1 ms * 1.2^k up to a minute, so
#: a quantile read from them is within one bucket, i.e. within 20% (interpolated inside it)
FINE_FACTOR = 1.2
FINE_BUCKETS = tuple(round(1e-4 * FINE_FACTOR ** k, 9) for k in range(74))
#: most distinct predicted values counted per variant (the rest: __other__), per worker
MAX_PREDICTION_VALUES = 50
#: seconds between pushes of a worker's field-quality and drift counts to the shared counters
#: (they are gathered in plain dicts on the request path: one Prometheus increment per field
#: and request would cost more than scoring a small model)
FLUSH_INTERVAL = 0.25
ISSUES = ("missing", "invalid", "out_of_range")


def prepare_multiprocess(config: Any = None, workers: int | None = None) -> str | None:
    """Point PROMETHEUS_MULTIPROC_DIR at a fresh, empty folder before the workers start (in the
    parent process). Only with more than one worker; keeps a folder the caller already set
    (emptied, as prometheus-client requires at start). A folder made here is removed when the
    parent process exits."""
    n = workers if workers is not None else getattr(config, "workers", 1)
    if n <= 1 and not os.environ.get(MULTIPROC_ENV):
        return None
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        os.makedirs(folder, exist_ok=True)
        for entry in os.listdir(folder):
            if entry.endswith(".db"):
                os.unlink(os.path.join(folder, entry))
    else:
        folder = tempfile.mkdtemp(prefix="portmodel-metrics-")
        os.environ[MULTIPROC_ENV] = folder
        parent = os.getpid()

        def remove() -> None:      # when the serve command exits (not in a worker)
            if os.getpid() == parent:
                shutil.rmtree(folder, ignore_errors=True)
        atexit.register(remove)
    return folder


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """The service's Prometheus series (one set per process)."""

    def __init__(self) -> None:
        disable_created_metrics()     # *_created series: noise for a service's counters
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("portmodel_requests", "HTTP requests by model, version, "
                                "endpoint and status", ["model", "version", "endpoint", "status"],
                                registry=r)
        self.errors = Counter("portmodel_request_errors", "HTTP requests answered with a status "
                              ">= 400", ["model", "version", "endpoint", "status"], registry=r)
        self.latency = Histogram("portmodel_request_duration_seconds", "request latency",
                                 ["model", "version", "endpoint"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.in_flight = Gauge("portmodel_requests_in_flight", "requests being served",
                               registry=r, multiprocess_mode="livesum")
        self.load_seconds = Gauge("portmodel_model_load_seconds", "seconds a worker took to "
                                  "load and compile a model version", ["model", "version"],
                                  registry=r, multiprocess_mode="max")
        self.records = Counter("portmodel_records", "records scored and judged, by model version "
                               "and role (live: answers; shadow: an endpoint's shadow copies)",
                               ["model", "version", "role"], registry=r)
        self.issues = Counter("portmodel_input_issues", "input values missing, invalid or out of "
                              "range per the model's DataDictionary and MiningSchema",
                              ["model", "version", "role", "field", "issue"], registry=r)
        self.drift = Counter("portmodel_drift_bin", "records per reference bin (drift)",
                             ["model", "version", "role", "reference", "field", "bin"],
                             registry=r)
        self.variant_requests = Counter("portmodel_endpoint_requests", "requests per endpoint "
                                        "variant (role answer or shadow) and outcome",
                                        ["endpoint", "variant", "role", "outcome"], registry=r)
        self.variant_latency = Histogram("portmodel_endpoint_latency_seconds", "scoring latency "
                                         "per endpoint variant", ["endpoint", "variant", "role"],
                                         buckets=FINE_BUCKETS, registry=r)
        self.predictions = Counter("portmodel_endpoint_predictions", "predicted values per "
                                   "endpoint variant", ["endpoint", "variant", "value"],
                                   registry=r)
        self.prediction_sum = Gauge("portmodel_endpoint_prediction_sum", "sum of numeric "
                                    "predictions per endpoint variant", ["endpoint", "variant"],
                                    registry=r, multiprocess_mode="sum")
        self.prediction_sumsq = Gauge("portmodel_endpoint_prediction_sumsq", "sum of squared "
                                      "numeric predictions", ["endpoint", "variant"], registry=r,
                                      multiprocess_mode="sum")
        self.numeric_predictions = Counter("portmodel_endpoint_numeric_predictions", "numeric "
                                           "predictions per endpoint variant",
                                           ["endpoint", "variant"], registry=r)
        self.shadow = Counter("portmodel_shadow_comparisons", "shadow answers compared with the "
                              "answering variant: agree, disagree or error",
                              ["endpoint", "shadow", "answered", "result"], registry=r)
        self.jobs = Gauge("portmodel_jobs", "batch jobs in the repository by state", ["state"],
                          registry=r, multiprocess_mode="max")
        self.job_rows = Counter("portmodel_job_rows", "rows of finished batch jobs: scored or "
                                "rejected", ["outcome"], registry=r)
        self.job_duration = Histogram("portmodel_job_duration_seconds", "batch job duration",
                                      buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600),
                                      registry=r)
        self._children: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, cached (the hot path skips prometheus' own lookup)."""
        key = (id(metric), labels)
        c = self._children.get(key)
        if c is None:
            with self._lock:
                c = self._children.setdefault(key, metric.labels(*labels))
        return c

    def exposition_registry(self) -> CollectorRegistry:
        if multiprocess():
            from prometheus_client import multiprocess as mp
            reg = CollectorRegistry()
            mp.MultiProcessCollector(reg)
            return reg
        return self.registry

    def exposition(self) -> bytes:
        return generate_latest(self.exposition_registry())


    def samples(self, *names: str) -> dict[str, list[tuple[dict, float]]]:
        """Sample name -> [(labels, value)] merged over every worker, for the named families."""
        out: dict[str, list[tuple[dict, float]]] = defaultdict(list)
        wanted = set(names)
        for family in self.exposition_registry().collect():
            if family.name not in wanted:
                continue
            for s in family.samples:
                out[s.name].append((s.labels, s.value))
        return out


_METRICS: Metrics | None = None
_METRICS_LOCK = threading.Lock()


def metrics() -> Metrics:
    """This process' metrics (created once: prometheus-client forbids registering twice)."""
    global _METRICS
    if _METRICS is None:
        with _METRICS_LOCK:
            if _METRICS is None:
                _METRICS = Metrics()
    return _METRICS


# ---------------------------------------------------------------------- quantiles

def bucket_quantile(bounds: Sequence[float], cumulative: Sequence[float], q: float) -> float | None:
    """The q-quantile from cumulative histogram counts, interpolated linearly inside the bucket
    that holds it (as Prometheus' histogram_quantile does). ``bounds`` are the buckets' upper
    bounds, the last may be +inf (then the previous bound is returned for it)."""
    if not cumulative or cumulative[-1] <= 0:
        return None
    rank = q * cumulative[-1]
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in zip(bounds, cumulative):
        if count >= rank and count > prev_count:
            if math.isinf(bound):
                return prev_bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def histogram_from_samples(rows: Iterable[tuple[dict, float]], match: Mapping[str, str]
                           ) -> tuple[list[float], list[float]]:
    """(upper bounds, cumulative counts) of one labelled histogram from its _bucket samples."""
    acc: dict[float, float] = defaultdict(float)
    for labels, value in rows:
        if all(labels.get(k) == v for k, v in match.items()):
            acc[float(labels["le"])] += value
    bounds = sorted(acc)
    return bounds, [acc[b] for b in bounds]


# ---------------------------------------------------------------------- field quality

def _inside(interval: Any, x: float) -> bool:
    left, right, closure = interval.left, interval.right, interval.closure
    if left is not None and (x < left or (x == left and not closure.startswith("closed"))):
        return False
    if right is not None and (x > right or (x == right and not closure.endswith("Closed"))):
        return False
    return True


class FieldCheck:
    """Judges one input value against its field's declaration: ``missing`` (absent, null, NaN,
    blank text or one of the field's missing values), ``invalid`` (not of the field's type, or
    not one of a categorical field's valid values) or ``out_of_range`` (a number outside every
    valid interval of a continuous field)."""

    __slots__ = ("name", "missing", "valid", "intervals", "categorical", "numeric", "plain")

    def __init__(self, field: Any):
        self.name = field.name
        self.missing = frozenset(category_key(v) for v in field.missing_values or ())
        self.valid = (frozenset(category_key(v) for v in field.values)
                      if field.values else None)
        self.intervals = tuple(field.intervals or ())
        self.categorical = is_categorical(field.data_type, field.op_type)
        self.numeric = (field.data_type or "").lower() in ("double", "float", "integer", "int",
                                                         "long", "real", "number")
        # a number with nothing else declared: any JSON number that is not NaN is fine
        self.plain = (self.numeric and not self.categorical and not self.missing
                      and self.valid is None and not self.intervals)

    def judge(self, value: Any) -> str | None:
        if self.plain and (type(value) is float or type(value) is int):
            return None if value == value else "missing"
        if value is None or (type(value) is float and value != value):
            return "missing"
        if isinstance(value, str) and not value.strip():
            return "missing"
        if isinstance(value, (list, dict)):
            return "invalid"
        key = category_key(value) if (self.missing or self.valid is not None) else None
        if key in self.missing:
            return "missing"
        if self.categorical:
            if self.valid is not None and key not in self.valid:
                return "invalid"
            if self.numeric and to_number(value) is None:
                return "invalid"
            return None
        if self.numeric:
            x = to_number(value)
            if x is None:
                return "invalid"
            if self.intervals:
                if not any(_inside(iv, x) for iv in self.intervals) and not (
                        self.valid is not None and key in self.valid):
                    return "out_of_range"
            elif self.valid is not None and key not in self.valid:
                return "invalid"
        return None


    def count(self, values: Sequence[Any]) -> dict[str, int]:
        """issue -> how many of ``values`` have it (the issues of ``judge``, in bulk)."""
        if self.plain:      # most values are plain numbers: only the others are judged one by one
            values = [v for v in values if not ((type(v) is float and v == v) or type(v) is int)]
        out: dict[str, int] = {}
        judge = self.judge
        for v in values:
            issue = judge(v)
            if issue is not None:
                out[issue] = out.get(issue, 0) + 1
        return out


def field_checks(model: Any) -> list[FieldCheck]:
    """One check per active input field of the model."""
    return [FieldCheck(f) for f in getattr(model, "inputs", []) if f.usage in ("active", "", None)]


def judge_record(checks: Sequence[FieldCheck], record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """[(field, issue)] for one record (fields without an issue left out)."""
    out = []
    for c in checks:
        issue = c.judge(record.get(c.name))
        if issue is not None:
            out.append((c.name, issue))
    return out


# ---------------------------------------------------------------------- per-version watch

class VersionWatch:
    """What a worker knows to monitor one model version: its field checks, prediction field and
    drift bookkeeping, with the live answers and the shadow copies counted apart (``role``)."""

    def __init__(self, loaded: Any, refstore: ReferenceStore, reference_size: int, m: Metrics):
        self.name, self.version = loaded.name, loaded.version
        self.label_version = str(loaded.version)
        self.model = getattr(loaded.model, "inner", loaded.model)
        self.digest = loaded.digest
        self.checks = field_checks(self.model)
        self.pred = prediction_field(self.model)
        self.metrics = m
        self.refstore = refstore
        self.reference_size = reference_size
        self._lock = threading.Lock()
        self._drifts: dict[str, VersionDrift] = {}
        self._records: dict[str, int] = {}
        self._issues: dict[tuple[str, str, str], int] = {}
        self._queued: list[tuple[str, Sequence[Any], Sequence[bool], Sequence[Any]]] = []
        self._queued_rows = 0
        self.drift = self.drift_of("live")

    def drift_of(self, role: str) -> VersionDrift:
        """The drift bookkeeping of one role (both share the version's reference)."""
        d = self._drifts.get(role)
        if d is None:
            m = self.metrics

            def count(model: str, version: str, ref: str, field: str, bin_: str,
                      n: float) -> None:
                m.child(m.drift, model, version, role, ref, field, bin_).inc(n)

            with self._lock:
                d = self._drifts.get(role)
                if d is None:
                    d = self._drifts[role] = VersionDrift(
                        self.model, self.name, self.version, self.digest, self.refstore,
                        self.reference_size, count)
        return d

    def set_reference(self, refs: dict) -> None:
        """A reference file for every role's drift."""
        self.drift.set_reference(refs)
        for d in list(self._drifts.values()):
            if d is not self.drift:
                d._refresh(force=True)

    #: records waiting for the next flush beyond this many are judged at once, on the request
    MAX_PENDING = 50_000

    def observe_rows(self, records: Sequence[Any], rejected: Sequence[bool],
                     predictions: Sequence[Any]) -> None:
        """Queue scored records (the role is ``observed.ROLE``) for the next ``flush``, which
        judges them field by field in bulk (cheaper than one record at a time, and off the
        request path); rejected rows count for field quality only, the others also into the
        drift bins with their prediction."""
        role = ROLE.get()
        with self._lock:
            self._queued.append((role, records, rejected, predictions))
            self._queued_rows += len(records)
            full = self._queued_rows >= self.MAX_PENDING
        if full:
            self._judge_queued()

    def _judge_queued(self) -> None:
        with self._lock:
            queued, self._queued, self._queued_rows = self._queued, [], 0
        if not queued:
            return
        by_role: dict[str, tuple[list, list, list]] = {}
        for role, records, rejected, predictions in queued:
            recs, bad, preds = by_role.setdefault(role, ([], [], []))
            for rec, r, p in zip(records, rejected, predictions):
                if type(rec) is dict or isinstance(rec, Mapping):
                    recs.append(rec)
                    bad.append(r)
                    preds.append(p)
        for role, (recs, bad, preds) in by_role.items():
            issues: dict[tuple[str, str, str], int] = {}
            for c in self.checks:
                for issue, n in c.count([rec.get(c.name) for rec in recs]).items():
                    issues[(role, c.name, issue)] = n
            with self._lock:
                self._records[role] = self._records.get(role, 0) + len(recs)
                for key, n in issues.items():
                    self._issues[key] = self._issues.get(key, 0) + n
            good = [i for i, b in enumerate(bad) if not b]
            if good:
                if len(good) == len(recs):
                    self.drift_of(role).observe(recs, preds)
                else:
                    self.drift_of(role).observe([recs[i] for i in good],
                                                [preds[i] for i in good])

    def observe(self, records: Sequence[Any], results: Sequence[Any]) -> None:
        """``observe_rows`` from results: results[i] is the output dict or an error."""
        pred = self.pred.name if self.pred else None
        rejected, preds = [], []
        for res in results:
            ok = (type(res) is dict or isinstance(res, Mapping)) and "error" not in res
            rejected.append(not ok)
            preds.append(res.get(pred) if ok and pred else None)
        self.observe_rows(records, rejected, preds)

    def flush(self) -> None:
        """Judge the queued records, then hand this worker's gathered counts to the shared
        Prometheus counters."""
        self._judge_queued()
        m = self.metrics
        with self._lock:
            records, self._records = self._records, {}
            issues, self._issues = self._issues, {}
        for role, n in records.items():
            if n:
                m.child(m.records, self.name, self.label_version, role).inc(n)
        for (role, fname, issue), n in issues.items():
            m.child(m.issues, self.name, self.label_version, role, fname, issue).inc(n)
        for d in list(self._drifts.values()):
            d.flush()


class Monitor:
    """One worker's monitoring state (``app.state.monitor``)."""

    def __init__(self, app: Any):
        self.app = app
        self.metrics = metrics()
        config = app.state.config
        self.reference_size = int(getattr(config, "drift_reference_size", 1000) or 1000)
        store = getattr(app.state, "store", None)
        self.refstore = ReferenceStore(store)
        self._watches: dict[tuple[str, int, str], VersionWatch] = {}
        self._lock = threading.Lock()
        self._pred_values: dict[tuple[str, str], set] = defaultdict(set)
        self._flusher: threading.Thread | None = None
        self.access_log = AccessLog()

    def flush(self) -> None:
        """Push every version's gathered field and drift counts to the shared counters."""
        for w in list(self._watches.values()):
            w.flush()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_INTERVAL)
            try:
                self.flush()
            except Exception:   # noqa: BLE001 - keep flushing whatever one version does
                logging.getLogger("portmodel.serving").exception("flushing metrics failed")

    def start_flusher(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_forever, daemon=True,
                                             name="portmodel-metrics-flush")
            self._flusher.start()

    def watch(self, loaded: Any) -> VersionWatch:
        key = (loaded.name, loaded.version, loaded.digest)
        w = self._watches.get(key)
        if w is None:
            with self._lock:
                w = self._watches.get(key)
                if w is None:
                    w = VersionWatch(loaded, self.refstore, self.reference_size, self.metrics)
                    self._watches[key] = w
        return w

    # -------------------------------------------------------------- observing
    def observer_for(self, name: str, version: int, digest: str, model: Any) -> Any:
        """The observer of one version (``Registry.observer_for``): every model the registry
        hands out reports what it scores here, whichever path scores with it."""
        from .registry import Loaded
        watch = self.watch(Loaded(name=name, version=version, digest=digest, model=model))

        def observe(records: Sequence[Any], rejected: Sequence[bool],
                    predictions: Sequence[Any]) -> None:
            if self._flusher is None:
                self.start_flusher()
            watch.observe_rows(records, rejected, predictions)
        return observe

    # -------------------------------------------------------------- endpoint variants
    def record_variant(self, endpoint: str, variant: str, role: str, ok: bool,
                       seconds: float) -> None:
        """One request scored by an endpoint variant (role "answer" or "shadow")."""
        m = self.metrics
        m.child(m.variant_requests, endpoint, variant, role, "ok" if ok else "error").inc()
        m.child(m.variant_latency, endpoint, variant, role).observe(seconds)

    def record_prediction(self, endpoint: str, variant: str, prediction: Any,
                          categorical: bool) -> None:
        """One prediction of an answering variant: counted by value (categorical; at most
        MAX_PREDICTION_VALUES values per worker, the rest as __other__) or summed (numeric)."""
        if prediction is None:
            return
        m = self.metrics
        if categorical:
            value = category_key(prediction)
            seen = self._pred_values[(endpoint, variant)]
            if value not in seen:
                if len(seen) >= MAX_PREDICTION_VALUES:
                    value = "__other__"
                else:
                    seen.add(value)
            m.child(m.predictions, endpoint, variant, str(value)).inc()
        else:
            x = to_number(prediction)
            if x is None or math.isinf(x):
                return
            m.child(m.numeric_predictions, endpoint, variant).inc()
            m.child(m.prediction_sum, endpoint, variant).inc(x)
            m.child(m.prediction_sumsq, endpoint, variant).inc(x * x)

    def record_shadow(self, endpoint: str, shadow: str, answered: str, result: str) -> None:
        m = self.metrics
        m.child(m.shadow, endpoint, shadow, answered, result).inc()

    def endpoint_stats(self, endpoint: str) -> dict:
        """Per variant (answering and shadow) requests, errors, latency quantiles, prediction
        distribution; per shadow its agreement with the variant that answered. Merged over every
        worker."""
        rows = self.metrics.samples("portmodel_endpoint_requests",
                                    "portmodel_endpoint_latency_seconds",
                                    "portmodel_endpoint_predictions",
                                    "portmodel_endpoint_numeric_predictions",
                                    "portmodel_endpoint_prediction_sum",
                                    "portmodel_endpoint_prediction_sumsq",
                                    "portmodel_shadow_comparisons")
        return endpoint_report(endpoint, rows)

    def model_stats(self, loaded: Any, role: str = "live") -> dict:
        """Drift (PSI per field and for the prediction) and field quality of one version, for
        its live answers or (``role="shadow"``) the copies it scored as an endpoint's shadow."""
        w = self.watch(loaded)
        drift = w.drift_of(role)
        self.flush()
        rows = self.metrics.samples("portmodel_drift_bin", "portmodel_input_issues",
                                    "portmodel_records")
        version = str(loaded.version)
        ref_id = drift.ref_id
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for labels, value in rows.get("portmodel_drift_bin_total", []):
            if (labels.get("model") == loaded.name and labels.get("version") == version
                    and labels.get("role") == role and labels.get("reference") == ref_id):
                counts[labels["field"]][labels["bin"]] += value
        report = drift.report(counts)
        issues: dict[str, dict[str, float]] = {c.name: dict.fromkeys(ISSUES, 0)
                                               for c in w.checks}
        for labels, value in rows.get("portmodel_input_issues_total", []):
            if (labels.get("model") == loaded.name and labels.get("version") == version
                    and labels.get("role") == role):
                issues.setdefault(labels["field"], dict.fromkeys(ISSUES, 0))[labels["issue"]] \
                    += int(value)
        records = sum(int(v) for labels, v in rows.get("portmodel_records_total", [])
                      if labels.get("model") == loaded.name and labels.get("version") == version
                      and labels.get("role") == role)
        for fname, entry in report["fields"].items():
            entry["quality"] = issues.get(fname, dict.fromkeys(ISSUES, 0))
        return {"model": loaded.name, "version": loaded.version, "digest": loaded.digest,
                "role": role, "records": records, **report}


def endpoint_report(endpoint: str, rows: Mapping[str, list[tuple[dict, float]]]) -> dict:
    """Build the endpoint stats JSON from merged samples (pure: tested on its own)."""
    variants: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(variant: str, role: str) -> dict:
        return variants.setdefault((variant, role), {
            "variant": variant, "role": role, "requests": 0, "errors": 0})

    for labels, value in rows.get("portmodel_endpoint_requests_total", []):
        if labels.get("endpoint") != endpoint:
            continue
        e = entry(labels["variant"], labels["role"])
        e["requests"] += int(value)
        if labels.get("outcome") == "error":
            e["errors"] += int(value)
    buckets = rows.get("portmodel_endpoint_latency_seconds_bucket", [])
    for (variant, role), e in variants.items():
        bounds, cum = histogram_from_samples(buckets, {"endpoint": endpoint, "variant": variant,
                                                       "role": role})
        e["latency_ms"] = {f"p{int(q * 100)}": _ms(bucket_quantile(bounds, cum, q))
                           for q in (0.5, 0.9, 0.99)}
        e["latency_ms"]["resolution"] = f"buckets grow by {round((FINE_FACTOR - 1) * 100)}%"
    for labels, value in rows.get("portmodel_endpoint_predictions_total", []):
        if labels.get("endpoint") != endpoint:
            continue
        e = entry(labels["variant"], "answer")
        dist = e.setdefault("predictions", {})
        dist[labels["value"]] = dist.get(labels["value"], 0) + int(value)
    numeric: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, key in (("portmodel_endpoint_numeric_predictions_total", "n"),
                      ("portmodel_endpoint_prediction_sum", "sum"),
                      ("portmodel_endpoint_prediction_sumsq", "sumsq")):
        for labels, value in rows.get(name, []):
            if labels.get("endpoint") == endpoint:
                numeric[labels["variant"]][key] += value
    for variant, acc in numeric.items():
        n = acc.get("n", 0.0)
        if n:
            mean = acc["sum"] / n
            var = max(acc["sumsq"] / n - mean * mean, 0.0)
            entry(variant, "answer")["prediction"] = {"count": int(n), "mean": mean,
                                                      "std": math.sqrt(var)}
    shadows: dict[str, dict[str, Any]] = {}
    for labels, value in rows.get("portmodel_shadow_comparisons_total", []):
        if labels.get("endpoint") != endpoint:
            continue
        s = shadows.setdefault(labels["shadow"], {"variant": labels["shadow"], "compared": 0,
                                                  "agreed": 0, "errors": 0, "skipped": 0,
                                                  "by_variant": {}})
        by = s["by_variant"].setdefault(labels["answered"], {"compared": 0, "agreed": 0,
                                                             "errors": 0})
        n = int(value)
        if labels["result"] == "skipped":
            s["skipped"] += n
        elif labels["result"] == "error":
            s["errors"] += n
            by["errors"] += n
        else:
            s["compared"] += n
            by["compared"] += n
            if labels["result"] == "agree":
                s["agreed"] += n
                by["agreed"] += n
    for s in shadows.values():
        s["agreement"] = s["agreed"] / s["compared"] if s["compared"] else None
        for by in s["by_variant"].values():
            by["agreement"] = by["agreed"] / by["compared"] if by["compared"] else None
    answer = [v for (k, role), v in sorted(variants.items()) if role == "answer"]
    shadow_rows = [v for (k, role), v in sorted(variants.items()) if role == "shadow"]
    for key in shadows:
        if not any(row["variant"] == key for row in shadow_rows):
            shadow_rows.append({"variant": key, "role": "shadow", "requests": 0, "errors": 0})
    for row in shadow_rows:
        row.update({k: v for k, v in shadows.get(row["variant"], {}).items() if k != "variant"})
    return {"endpoint": endpoint, "variants": answer, "shadow": shadow_rows}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def agree(a: Any, b: Any) -> bool:
    """Whether a shadow's prediction agrees with the answering variant's: equal categories, or
    numbers equal within a relative 1e-6 (two exports of one model may differ in the last bits)."""
    x, y = to_number(a), to_number(b)
    if x is not None and y is not None and not isinstance(a, str) and not isinstance(b, str):
        return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)
    return category_key(a) == category_key(b)


# ---------------------------------------------------------------------- access log

class AccessLog:
    """One JSON line per request, written off the request path: a request appends its line to
    a queue, and a writer thread drains it every ``INTERVAL`` seconds with as few ``os.write``
    calls as it can, each one whole lines of at most PIPE_BUF bytes (a longer line alone), so
    lines from several workers never interleave mid-line (such a write to a pipe or an
    O_APPEND file is atomic). A slow or blocked log never stalls the event loop: past
    ``MAX_QUEUED`` waiting lines the oldest are dropped (and counted in ``dropped``)."""

    INTERVAL = 0.02
    MAX_QUEUED = 100_000
    CHUNK = 4096          # PIPE_BUF on Linux

    def __init__(self, target: str | None = None):
        target = os.environ.get(ACCESS_LOG_ENV, "-") if target is None else target
        self.enabled = target.lower() not in ("off", "none", "0")
        self.fd = -1
        if self.enabled:
            self.fd = (sys.stderr.fileno() if target == "-" else
                       os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        self._second = -1
        self._stamp = ""
        self._queue: deque[bytes] = deque()
        self.dropped = 0
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()

    def now(self) -> str:
        """UTC time with milliseconds, ISO 8601 (the seconds part formatted once a second)."""
        t = time.time()
        second = int(t)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((t - second) * 1000):03d}Z"

    def write(self, line: dict) -> None:
        """Queue one line (written within INTERVAL seconds)."""
        q = self._queue
        if len(q) >= self.MAX_QUEUED:
            try:
                q.popleft()
                self.dropped += 1
            except IndexError:
                pass
        q.append(orjson.dumps(line) + b"\n")
        if self._writer is None:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, daemon=True,
                                                name="portmodel-access-log")
                self._writer.start()
                atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(self.INTERVAL)
            self.flush()

    def flush(self) -> None:
        """Write every queued line now."""
        q = self._queue
        chunk: list[bytes] = []
        size = 0
        while True:
            try:
                line = q.popleft()
            except IndexError:
                break
            if chunk and size + len(line) > self.CHUNK:
                self._emit(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            self._emit(b"".join(chunk))

    def _emit(self, data: bytes) -> None:
        try:
            while data:
                n = os.write(self.fd, data)
                data = data[n:]
        except OSError:
            pass            # a closed or full log never fails a request


class MonitorMiddleware:
    """ASGI middleware: request counters and latency, in-flight gauge, request id, access log."""

    def __init__(self, app: Any, monitor: Monitor):
        self.app = app
        self.monitor = monitor
        self.log = monitor.access_log

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = None
        for key, value in scope.get("headers", ()):
            if key == b"x-request-id":
                request_id = value.decode("latin-1")[:128]
                break
        if not request_id:
            request_id = os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        end = 0.0
        m = self.monitor.metrics
        m.in_flight.inc()

        async def send_wrapper(message: dict) -> None:
            nonlocal status, end
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await send(message)
                end = time.perf_counter()     # background work after this is not latency
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            m.in_flight.dec()
            seconds = (end or time.perf_counter()) - start
            state = scope.get("state") or {}
            model = str(state.get("model") or "")
            version = "" if state.get("version") is None else str(state["version"])
            endpoint = str(state.get("endpoint") or "")
            code = str(status)
            m.child(m.requests, model, version, endpoint, code).inc()
            if status >= 400:
                m.child(m.errors, model, version, endpoint, code).inc()
            m.child(m.latency, model, version, endpoint).observe(seconds)
            if self.log.enabled:
                self.log.write({"time": self.log.now(), "request_id": request_id,
                                "method": scope.get("method"), "path": scope.get("path"),
                                "status": status, "duration_ms": round(seconds * 1000.0, 3),
                                "model": model or None, "version": state.get("version"),
                                "endpoint": endpoint or None, "variant": state.get("variant"),
                                "client": (scope.get("client") or [None])[0]})


# ---------------------------------------------------------------------- routes

def _routes() -> APIRouter:
    from .auth import require_admin

    router = APIRouter()

    @router.get("/metrics", tags=["monitoring"], include_in_schema=True)
    def get_metrics(request: Request) -> Response:
        """Prometheus metrics (text format), merged over every worker. Field-quality and drift
        counts reach it within FLUSH_INTERVAL (0.25 s) of the request."""
        request.app.state.monitor.flush()
        return Response(request.app.state.monitor.metrics.exposition(),
                        media_type=CONTENT_TYPE_LATEST)

    @router.get("/models/{name}/stats", tags=["monitoring"], responses={404: {}})
    def model_stats(request: Request, name: str,
                    version: int | None = Query(None, ge=1),
                    role: str = Query("live", pattern="^(live|shadow)$")) -> Response:
        """Drift (population stability index per input field and for the prediction, against the
        reference) and input quality (missing / invalid / out of range) of a model version (the
        promoted one unless ``version`` is given): of its live answers, or with
        ``role=shadow`` of the copies it scored as an endpoint's shadow."""
        from .scoring import dumps
        from .store import NotFound
        try:
            loaded = request.app.state.registry.resolve(name, version)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        return Response(dumps(request.app.state.monitor.model_stats(loaded, role)),
                        media_type="application/json")

    @router.put("/models/{name}/versions/{version}/reference", tags=["monitoring"],
                responses={400: {}, 401: {}, 403: {}, 404: {}, 415: {}},
                openapi_extra={"requestBody": {"required": True, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "array",
                                                    "items": {"type": "object"}}}}}})
    async def put_reference(request: Request, name: str, version: int,
                            actor: str = Depends(require_admin)) -> Response:
        """Set the drift reference of a version from reference data: CSV with a header, or a
        JSON list of records. Its predictions become the prediction's reference. Fields with
        statistics in the document's ModelStats keep those."""
        from .scoring import BadRequest, dumps, parse_json, read_csv
        from .store import NotFound
        try:
            loaded = request.app.state.registry.resolve(name, version)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        body = await request.body()
        try:
            if kind == "application/json":
                records = parse_json(body)
                if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                    raise BadRequest("the reference must be a JSON list of records")
            elif kind == "text/csv":
                records = read_csv(body).to_pylist()
            else:
                raise HTTPException(415, "send the reference as text/csv or a JSON list "
                                         "(application/json)")
        except BadRequest as exc:
            raise HTTPException(400, str(exc)) from None
        if not records:
            raise HTTPException(400, "the reference has no records")
        records = records[:1_000_000]
        model = getattr(loaded.model, "inner", loaded.model)    # reference data: not traffic
        preds = reference_predictions(model, records)
        refs = reference_from_records(model, records, preds, "reference_file")
        watch = request.app.state.monitor.watch(loaded)
        refs = {k: v for k, v in refs.items() if k not in watch.drift.builtin}
        watch.set_reference(refs)
        return Response(dumps({"model": name, "version": loaded.version,
                               "records": len(records), "reference_id": watch.drift.ref_id}),
                        media_type="application/json")

    return router


def reference_predictions(model: Any, records: list[dict]) -> list[Any]:
    """The model's predictions for reference records (None where a record is rejected)."""
    pf = prediction_field(model)
    if pf is None:
        return [None] * len(records)
    from .scoring import score_records
    out = []
    for res in score_records(model, records):
        out.append(res.get(pf.name) if isinstance(res, dict) else None)
    return out


def install(app: Any) -> Monitor:
    """Add metrics, the access log, the score hook and the stats routes to an application."""
    monitor = Monitor(app)
    app.state.monitor = monitor
    registry = getattr(app.state, "registry", None)
    if registry is not None:
        registry.observer_for = monitor.observer_for
    if registry is not None and hasattr(registry, "on_load"):
        previous = registry.on_load

        def on_load(digest: str, seconds: float) -> None:
            if previous is not None:
                previous(digest, seconds)
            for name, entry in registry._table.items():
                for v, d in entry.get("versions", {}).items():
                    if d == digest:
                        m = monitor.metrics
                        m.child(m.load_seconds, name, str(v)).set(seconds)

        registry.on_load = on_load
    app.include_router(_routes())
    _hot_routes_first(app)
    app.add_middleware(MonitorMiddleware, monitor=monitor)
    return monitor


#: scoring routes matched before all others: the router tries routes in order, and a request
#: that only matches the last of some forty routes pays for every failed match before it
HOT_ROUTES = (("/endpoints/{name}", "POST"),)


def _hot_routes_first(app: Any) -> None:
    routes = app.router.routes
    hot = [r for r in routes if any(getattr(r, "path", None) == path and
                                    method in (getattr(r, "methods", None) or ())
                                    for path, method in HOT_ROUTES)]
    for r in hot:
        routes.remove(r)
    routes[0:0] = hot
