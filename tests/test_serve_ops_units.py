"""Routing, stats aggregation, PSI and field-quality logic of the scoring service, checked
against independent truth: binomial bounds, sha256 by hand, numpy quantiles, the PSI formula
computed here by hand, the document's declarations."""
from __future__ import annotations

import csv
import hashlib
import math
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("prometheus_client")
from scipy.stats import binom  # noqa: E402

import portmodel  # noqa: E402
from portmodel.fields import Field, Interval  # noqa: E402
from portmodel.serving import drift, monitoring  # noqa: E402
from portmodel.serving.routing import EndpointSpec, SpecError, sticky_point  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IRIS_TREE = ROOT / "samples" / "iris_tree.pmml"
IRIS_CSV = ROOT / "samples" / "iris.csv"


def spec(weights, shadow=None, name="ep"):
    raw = {"variants": [{"model": "m", "version": i + 1, "weight": w}
                        for i, w in enumerate(weights)]}
    if shadow:
        raw["shadow"] = {"model": "m", "version": shadow}
    return EndpointSpec.parse(name, raw)


# ------------------------------------------------------------------ routing

def test_random_split_within_binomial_bounds():
    s = spec([90, 10])
    rng = random.Random(7)
    n = 20000
    hits = sum(s.choose(None, rng).version == 2 for _ in range(n))
    lo, hi = binom.interval(0.9999, n, 0.1)
    assert lo <= hits <= hi


def test_sticky_split_within_binomial_bounds_for_three_variants():
    s = spec([50, 30, 20])
    n = 12000
    counts = {1: 0, 2: 0, 3: 0}
    for _ in range(n):
        counts[s.choose(uuid.uuid4().hex).version] += 1
    for version, p in ((1, 0.5), (2, 0.3), (3, 0.2)):
        lo, hi = binom.interval(0.9999, n, p)
        assert lo <= counts[version] <= hi, (version, counts)


def test_sticky_choice_is_sha256_of_endpoint_and_id():
    s = spec([1, 1, 2])
    for rid in ["a", "req-42", "ünïcode", str(uuid.UUID(int=5))]:
        digest = hashlib.sha256(("ep\x00" + rid).encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2 ** 64
        expected = 1 if u < 0.25 else 2 if u < 0.5 else 3
        assert sticky_point("ep", rid) == u
        assert s.choose(rid).version == expected
        assert all(s.choose(rid).version == expected for _ in range(5))


def test_sticky_choice_is_the_same_in_another_process_with_another_hash_seed():
    ids = [f"user-{i}" for i in range(200)]
    here = [spec([70, 30]).choose(i).version for i in ids]
    code = ("import sys, json; from portmodel.serving.routing import EndpointSpec;"
            "s = EndpointSpec.parse('ep', {'variants': [{'model': 'm', 'version': 1, 'weight': 70},"
            "{'model': 'm', 'version': 2, 'weight': 30}]});"
            "print(json.dumps([s.choose(f'user-{i}').version for i in range(200)]))")
    import json
    for seed in ("1", "12345"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        assert json.loads(out.stdout) == here
    assert 0 < sum(v == 2 for v in here) < len(here)


def test_zero_weight_variant_is_never_chosen():
    s = spec([0, 5, 0, 5, 0])
    rng = random.Random(1)
    chosen = {s.choose(None, rng).version for _ in range(2000)}
    chosen |= {s.choose(str(i)).version for i in range(2000)}
    assert chosen == {2, 4}


@pytest.mark.parametrize("raw, words", [
    ({}, "variants"),
    ({"variants": []}, "non-empty"),
    ({"variants": [{"model": "m", "weight": -1}]}, "weight"),
    ({"variants": [{"model": "m", "weight": 0}]}, "more than 0"),
    ({"variants": [{"model": "m", "version": 1, "weight": 1e308},
                   {"model": "m", "version": 2, "weight": 1e308}]}, "float"),
    ({"variants": [{"model": "m", "weight": float("nan")}]}, "weight"),
    ({"variants": [{"model": "", "weight": 1}]}, "model"),
    ({"variants": [{"model": "m", "version": 0}]}, "version"),
    ({"variants": [{"model": "m", "version": "3"}]}, "version"),
    ({"variants": [{"model": "m", "version": 1}, {"model": "m", "version": 1}]}, "twice"),
    ({"variants": [{"model": "m"}], "shadow": {"model": "m", "weight": 3}}, "shadow"),
    ({"variants": [{"model": "m"}], "extra": 1}, "unknown"),
    ({"variants": [{"model": "m", "version": i} for i in range(1, 40)]}, "at most"),
])
def test_bad_specs_are_refused_naming_the_part(raw, words):
    with pytest.raises(SpecError, match=words):
        EndpointSpec.parse("ep", raw)


# ------------------------------------------------------------------ quantiles and stats

def test_bucket_quantile_is_within_one_fine_bucket_of_numpy():
    rng = np.random.default_rng(3)
    lat = rng.lognormal(mean=math.log(0.002), sigma=0.8, size=5000)
    bounds = list(monitoring.FINE_BUCKETS) + [math.inf]
    idx = np.searchsorted(np.array(monitoring.FINE_BUCKETS), lat, side="left")
    cum = np.cumsum(np.bincount(idx, minlength=len(bounds))).tolist()
    for q in (0.5, 0.9, 0.99):
        got = monitoring.bucket_quantile(bounds, cum, q)
        true = float(np.quantile(lat, q))
        assert abs(got - true) <= (monitoring.FINE_FACTOR - 1) * true, (q, got, true)


def fake_monitor():
    """A Monitor over a fresh registry (no application needed for the aggregation logic)."""
    app = SimpleNamespace(state=SimpleNamespace(config=SimpleNamespace(drift_reference_size=10),
                                                store=None))
    mon = monitoring.Monitor(app)
    mon.metrics = monitoring.Metrics()
    return mon


def test_endpoint_stats_counts_quantiles_and_shadow_agreement():
    mon = fake_monitor()
    rng = np.random.default_rng(11)
    lat_a = rng.uniform(0.001, 0.004, size=300)
    lat_b = rng.uniform(0.010, 0.020, size=100)
    preds_a = rng.choice(["yes", "no"], size=300, p=[0.7, 0.3])
    for x, p in zip(lat_a, preds_a):
        mon.record_variant("ep", "m:1", "answer", True, float(x))
        mon.record_prediction("ep", "m:1", str(p), True)
    for i, x in enumerate(lat_b):
        ok = i % 10 != 0
        mon.record_variant("ep", "m:2", "answer", ok, float(x))
        if ok:
            mon.record_prediction("ep", "m:2", 2.0 * i, False)
    # shadow: agrees with m:1 on 240 of 300, with m:2 on 45 of 90, 10 errors
    for i in range(300):
        mon.record_shadow("ep", "m:3", "m:1", "agree" if i < 240 else "disagree")
    for i in range(90):
        mon.record_shadow("ep", "m:3", "m:2", "agree" if i % 2 else "disagree")
    for _ in range(10):
        mon.record_shadow("ep", "m:3", "m:2", "error")
    mon.record_shadow("ep", "m:3", "m:2", "skipped")
    mon.record_variant("other", "m:1", "answer", True, 0.5)
    report = mon.endpoint_stats("ep")
    rows = {r["variant"]: r for r in report["variants"]}
    assert set(rows) == {"m:1", "m:2"}
    assert rows["m:1"]["requests"] == 300 and rows["m:1"]["errors"] == 0
    assert rows["m:2"]["requests"] == 100 and rows["m:2"]["errors"] == 10
    assert rows["m:1"]["predictions"] == {"yes": int((preds_a == "yes").sum()),
                                          "no": int((preds_a == "no").sum())}
    numeric = [2.0 * i for i in range(100) if i % 10 != 0]
    assert rows["m:2"]["prediction"]["count"] == 90
    assert rows["m:2"]["prediction"]["mean"] == pytest.approx(np.mean(numeric))
    assert rows["m:2"]["prediction"]["std"] == pytest.approx(np.std(numeric))
    for name, lat in (("m:1", lat_a), ("m:2", lat_b)):
        for q in (50, 90, 99):
            true = float(np.quantile(lat, q / 100)) * 1000
            assert rows[name]["latency_ms"][f"p{q}"] == pytest.approx(true, rel=0.2)
    (shadow,) = report["shadow"]
    assert shadow["compared"] == 390 and shadow["agreed"] == 285 and shadow["errors"] == 10
    assert shadow["skipped"] == 1
    assert shadow["agreement"] == pytest.approx(285 / 390)
    assert shadow["by_variant"]["m:1"]["agreement"] == pytest.approx(0.8)
    assert shadow["by_variant"]["m:2"]["agreement"] == pytest.approx(0.5)


def test_agreement_rule():
    assert monitoring.agree("setosa", "setosa") and not monitoring.agree("setosa", "virginica")
    assert monitoring.agree(1.0, 1.0 + 1e-9) and not monitoring.agree(1.0, 1.01)
    assert monitoring.agree(1, "1") and monitoring.agree(True, "true")


# ------------------------------------------------------------------ PSI

def hand_psi(expected, actual, eps=1e-4):
    te, ta = sum(expected), sum(actual)
    total = 0.0
    for e, a in zip(expected, actual):
        pe, pa = max(e / te, eps), max(a / ta, eps)
        total += (pa - pe) * math.log(pa / pe)
    return total


def test_psi_formula():
    assert drift.psi([10, 20, 30, 40], [40, 30, 20, 10]) == pytest.approx(
        (0.4 - 0.1) * math.log(4) + (0.3 - 0.2) * math.log(1.5)
        + (0.2 - 0.3) * math.log(2 / 3) + (0.1 - 0.4) * math.log(0.25))
    assert drift.psi([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-12)
    assert drift.psi([5, 5], [10, 0]) == pytest.approx(hand_psi([5, 5], [10, 0]))
    assert drift.psi([1, 1], [0, 0]) is None


def test_bins_merge_across_workers():
    """Counts of two workers added bin by bin give the PSI of all records together."""
    ref = drift.quantile_bins(np.random.default_rng(1).normal(size=1000))
    rng = np.random.default_rng(2)
    worker_a, worker_b = rng.normal(0.5, 1, 300), rng.normal(0.5, 1, 700)

    def counts(xs):
        c = [0] * len(ref.expected)
        for x in xs:
            c[ref.index(x)] += 1
        return c
    merged = [a + b for a, b in zip(counts(worker_a), counts(worker_b))]
    assert merged == counts(np.concatenate([worker_a, worker_b]))
    assert drift.psi(ref.expected, merged) > 0.1


def iris_rows():
    with open(IRIS_CSV) as fh:
        return [{k: (v if k == "species" else float(v)) for k, v in r.items()}
                for r in csv.DictReader(fh)]


def test_drift_of_a_shifted_input_matches_hand_computed_psi(tmp_path):
    model = portmodel.load(IRIS_TREE)
    rows = iris_rows()
    reference = [{k: v for k, v in r.items() if k != "species"} for r in rows]
    counted = {}

    def count(m, v, ref, field, bin_, n):
        counted[(field, bin_)] = counted.get((field, bin_), 0) + n
    vd = drift.VersionDrift(model, "iris", 1, "d", drift.ReferenceStore(folder=str(tmp_path)),
                            reference_size=10, count=count)
    preds = [model.predict(r)["species"] for r in reference]
    vd.set_reference(drift.reference_from_records(model, reference, preds, "reference_file"))
    shifted = [{**r, "petal_length": r["petal_length"] + 1.5} for r in reference]
    shifted_preds = [model.predict(r)["species"] for r in shifted]
    vd.observe(shifted, shifted_preds)
    vd.flush()
    report = vd.report({f: {b: n for (ff, b), n in counted.items() if ff == f}
                        for f, _ in counted})
    # by hand: decile edges of the reference (values of the data), right-closed bins
    ref_pl = np.array([r["petal_length"] for r in reference])
    edges = np.unique(np.quantile(ref_pl, [k / 10 for k in range(1, 10)], method="inverted_cdf"))
    edges = [e for e in edges if e < ref_pl.max()]

    def bin_counts(xs):
        out = [0] * (len(edges) + 1)
        for x in xs:
            i = 0
            while i < len(edges) and x > edges[i]:
                i += 1
            out[i] += 1
        return out
    exp, act = bin_counts(ref_pl), bin_counts([r["petal_length"] for r in shifted])
    entry = report["fields"]["petal_length"]
    assert entry["expected"] == exp and entry["actual"] == act
    assert entry["psi"] == pytest.approx(hand_psi(exp, act))
    assert entry["psi"] > 0.25          # a major shift by the usual rule of thumb
    assert report["fields"]["petal_width"]["psi"] == pytest.approx(0.0, abs=1e-12)
    classes = ["setosa", "versicolor", "virginica"]
    ref_classes = [sum(p == c for p in preds) for c in classes]
    new_classes = [sum(p == c for p in shifted_preds) for c in classes]
    pred = report["prediction"]
    order = [pred["bins"].index(c) for c in classes]
    assert [pred["expected"][i] for i in order] == ref_classes
    assert [pred["actual"][i] for i in order] == new_classes
    assert pred["psi"] == pytest.approx(hand_psi(ref_classes + [0], new_classes + [0]))


def test_first_records_reference_is_shared_by_workers(tmp_path):
    model = portmodel.load(IRIS_TREE)
    rows = [{k: v for k, v in r.items() if k != "species"} for r in iris_rows()]
    store = drift.ReferenceStore(folder=str(tmp_path))
    counts_a, counts_b = {}, {}

    def counter(target):
        def count(m, v, ref, field, bin_, n):
            target[(ref, field, bin_)] = target.get((ref, field, bin_), 0) + n
        return count
    a = drift.VersionDrift(model, "iris", 1, "d", store, 20, counter(counts_a))
    b = drift.VersionDrift(model, "iris", 1, "d", store, 20, counter(counts_b))
    assert a.collecting and b.collecting
    a.observe(rows[:25], ["x"] * 25)        # a fills its 20 first: its reference is stored
    b.observe(rows[100:125], ["y"] * 25)    # b's own 20 lose: it adopts a's
    a.flush()
    b.flush()
    assert not a.collecting and not b.collecting
    assert a.ref_id == b.ref_id and a.refs == b.refs
    assert a.refs["petal_length"].source == "first_records"
    assert counts_a == {} and counts_b == {}   # the reference records are not counted
    a.observe(rows[:5], ["x"] * 5)
    a.flush()
    assert sum(n for (ref, f, _), n in counts_a.items() if f == "petal_length") == 5
    assert {ref for ref, _, _ in counts_a} == {a.ref_id}


MODEL_STATS = """
    <ModelStats>
      <UnivariateStats field="petal_length">
        <ContStats>
          <Interval closure="closedOpen" leftMargin="0" rightMargin="2"/>
          <Interval closure="closedOpen" leftMargin="2" rightMargin="5"/>
          <Interval closure="closedOpen" leftMargin="5" rightMargin="8"/>
          <Array type="int" n="3">50 54 46</Array>
        </ContStats>
      </UnivariateStats>
      <UnivariateStats field="species">
        <DiscrStats>
          <Array type="string" n="3">"setosa" "versicolor" "virginica"</Array>
          <Array type="int" n="3">10 20 70</Array>
        </DiscrStats>
      </UnivariateStats>
    </ModelStats>
"""


def test_model_stats_are_the_reference_when_present(tmp_path):
    text = IRIS_TREE.read_text()
    text = text.replace("</Output>", "</Output>" + MODEL_STATS, 1)
    model = portmodel.load(text.encode())
    refs = drift.stats_references(model.source)
    assert refs["petal_length"].edges == (2.0, 5.0)
    assert refs["petal_length"].right_closed is False
    assert refs["petal_length"].expected == (50.0, 54.0, 46.0)
    assert refs["species"].categories == ("setosa", "versicolor", "virginica")
    counted = {}

    def count(m, v, ref, field, bin_, n):
        counted[(field, bin_)] = counted.get((field, bin_), 0) + n
    vd = drift.VersionDrift(model, "iris", 1, "d", drift.ReferenceStore(folder=str(tmp_path)),
                            reference_size=1000, count=count)
    # petal_length counts at once (closedOpen: 2.0 falls into [2, 5)), others wait for N records
    vd.observe([{"petal_length": 1.0}, {"petal_length": 2.0}, {"petal_length": 9.0}],
               ["setosa", "virginica", "virginica"])
    vd.flush()
    assert counted == {("petal_length", "0"): 1, ("petal_length", "1"): 1,
                       ("petal_length", "2"): 1, ("__prediction__", "0"): 1,
                       ("__prediction__", "2"): 2}
    report = vd.report({"petal_length": {"0": 1, "1": 1, "2": 1},
                        "__prediction__": {"0": 1, "2": 2}})
    assert report["fields"]["petal_length"]["reference"] == "ModelStats"
    assert report["fields"]["petal_length"]["psi"] == pytest.approx(
        hand_psi([50, 54, 46], [1, 1, 1]))
    assert report["prediction"]["psi"] == pytest.approx(hand_psi([10, 20, 70, 0], [1, 0, 2, 0]))
    assert report["fields"]["petal_width"]["reference"] is None
    assert report["collecting_reference"]["needed"] == 1000


# ------------------------------------------------------------------ field quality

def test_field_checks_follow_the_declarations():
    cont = Field("x", "double", "continuous",
                 intervals=(Interval("closedOpen", 0.0, 10.0), Interval("closedClosed", 20.0, 30.0)),
                 missing_values=(-999,))
    cat = Field("c", "string", "categorical", values=("a", "b"), missing_values=("NA",))
    icat = Field("k", "integer", "categorical", values=(1, 2, 3))
    free = Field("f", "double", "continuous")
    checks = {f.name: monitoring.FieldCheck(f) for f in (cont, cat, icat, free)}
    cases = [
        ("x", 0.0, None), ("x", 9.99, None), ("x", 10.0, "out_of_range"), ("x", 25, None),
        ("x", 30.0, None), ("x", 30.5, "out_of_range"), ("x", -1, "out_of_range"),
        ("x", None, "missing"), ("x", float("nan"), "missing"), ("x", -999, "missing"),
        ("x", "-999", "missing"), ("x", "abc", "invalid"), ("x", "5", None), ("x", "", "missing"),
        ("x", [1], "invalid"),
        ("c", "a", None), ("c", "z", "invalid"), ("c", "NA", "missing"), ("c", None, "missing"),
        ("k", 2, None), ("k", 2.0, None), ("k", "3", None), ("k", 4, "invalid"),
        ("k", "x", "invalid"),
        ("f", 1e300, None), ("f", "1e3", None), ("f", "one", "invalid"), ("f", True, "invalid"),
    ]
    for name, value, issue in cases:
        assert checks[name].judge(value) == issue, (name, value)


def test_judge_record_counts_absent_fields_as_missing():
    model = portmodel.load(IRIS_TREE)
    checks = monitoring.field_checks(model)
    assert {c.name for c in checks} == {f.name for f in model.inputs}
    got = monitoring.judge_record(checks, {"sepal_length": "x", "petal_length": 1.0})
    assert sorted(got) == [("petal_width", "missing"), ("sepal_length", "invalid")]
