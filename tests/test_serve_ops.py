"""Routing endpoints, metrics, drift and the access log of the real server over HTTP.

Each test starts ``portmodel serve`` (uvicorn, several workers where it matters) and drives it
with a real HTTP client. Expected figures come from the traffic the test sends and from
independent computations here (binomial bounds, the PSI formula, predictions asked of each
version directly), never from the server's own stats.
"""
from __future__ import annotations

import csv
import json
import threading
import time
import uuid

import pytest

from serve_util import ADMIN, SAMPLES, decile_counts, hand_psi, start_server

httpx = pytest.importorskip("httpx")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from scipy.stats import binom  # noqa: E402

TREE = SAMPLES / "iris_tree.pmml"
FOREST = SAMPLES / "iris_forest.pmml"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def iris_records() -> list[tuple[dict, str]]:
    with open(SAMPLES / "iris.csv") as fh:
        return [({k: float(v) for k, v in r.items() if k != "species"}, r["species"])
                for r in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Two workers on one repository: iris v1 (tree, promoted), v2 (forest), v3 (tree again
    under another version: same bytes are the same version, so a tree with a comment)."""
    repo = tmp_path_factory.mktemp("ops") / "repo"
    srv = start_server(str(repo), workers=2, env={"PORTMODEL_ACCESS_LOG": "-"})
    assert srv.deploy("iris", TREE).status_code == 201
    assert srv.deploy("iris", FOREST).status_code == 201
    tree3 = TREE.read_bytes().replace(b"<DataDictionary", b"<!-- v3 -->\n<DataDictionary", 1)
    r = srv.client.put("/models/iris", content=tree3,
                       headers={**AUTH, "content-type": "application/xml"})
    assert r.status_code == 201 and r.json()["version"] == 3
    yield srv
    srv.stop()


def put_endpoint(srv, name, spec, status=(200, 201)):
    r = srv.client.put(f"/endpoints/{name}", json=spec, headers=AUTH)
    assert r.status_code in status, r.text
    return r


def metric_values(text: str) -> dict[tuple, float]:
    """{(sample name, frozenset(labels)): value} from a Prometheus text page."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def sample(values, name, **labels):
    return values.get((name, frozenset(labels.items())), 0.0)


# ------------------------------------------------------------------ endpoint admin

def test_endpoint_admin_statuses(server):
    c = server.client
    spec = {"variants": [{"model": "iris", "version": 1, "weight": 1}]}
    assert c.put("/endpoints/adm", json=spec).status_code == 401
    assert c.put("/endpoints/adm", json=spec,
                 headers={"Authorization": "Bearer nope"}).status_code == 403
    assert c.put("/endpoints/adm", content=b"{", headers={**AUTH, "content-type":
                                                          "application/json"}).status_code == 400
    assert c.put("/endpoints/adm", content=b"x", headers={**AUTH, "content-type":
                                                          "text/plain"}).status_code == 415
    r = c.put("/endpoints/adm", json={"variants": [{"model": "iris", "weight": -1}]},
              headers=AUTH)
    assert r.status_code == 400 and "weight" in r.json()["error"]
    r = c.put("/endpoints/adm", json={"variants": [{"model": "iris", "version": 99}]},
              headers=AUTH)
    assert r.status_code == 404
    assert c.put("/endpoints/adm", json=spec, headers=AUTH).status_code == 201
    assert c.put("/endpoints/adm", json=spec, headers=AUTH).status_code == 200
    got = c.get("/endpoints/adm").json()
    assert got["variants"] == [{"model": "iris", "version": 1, "weight": 1.0}]
    assert "adm" in [e["name"] for e in c.get("/endpoints").json()["endpoints"]]
    # a routed version cannot be deleted
    assert c.delete("/models/iris/versions/1", headers=AUTH).status_code == 409
    assert c.delete("/endpoints/adm").status_code == 401
    assert c.delete("/endpoints/adm", headers=AUTH).status_code == 200
    assert c.get("/endpoints/adm").status_code == 404
    assert c.post("/endpoints/adm", json={}).status_code == 404
    assert c.get("/endpoints/adm/stats").status_code == 404
    assert c.delete("/endpoints/adm", headers=AUTH).status_code == 404


# ------------------------------------------------------------------ routing

def test_split_within_binomial_bounds_and_answer_headers(server):
    put_endpoint(server, "split", {"variants": [{"model": "iris", "version": 1, "weight": 75},
                                                {"model": "iris", "version": 2, "weight": 25}]})
    record = iris_records()[0][0]
    n = 600
    hits = {"iris:1": 0, "iris:2": 0}
    for _ in range(n):
        r = server.client.post("/endpoints/split", json=record)
        assert r.status_code == 200
        body = r.json()
        assert r.headers["X-Variant"] == f"iris:{body['version']}"
        assert r.headers["X-Model-Version"] == str(body["version"])
        hits[r.headers["X-Variant"]] += 1
    lo, hi = binom.interval(0.9999, n, 0.25)
    assert lo <= hits["iris:2"] <= hi, hits
    stats = server.client.get("/endpoints/split/stats").json()
    rows = {v["variant"]: v for v in stats["variants"]}
    assert rows["iris:1"]["requests"] == hits["iris:1"]          # merged over both workers
    assert rows["iris:2"]["requests"] == hits["iris:2"]
    assert rows["iris:1"]["errors"] == 0
    assert sum(rows["iris:2"]["predictions"].values()) == hits["iris:2"]
    assert 0 < rows["iris:1"]["latency_ms"]["p50"] <= rows["iris:1"]["latency_ms"]["p99"]


def test_sticky_across_workers_and_restart(tmp_path):
    repo = str(tmp_path / "repo")
    ids = [f"customer-{i}" for i in range(60)]
    spec = {"variants": [{"model": "iris", "version": 1, "weight": 50},
                         {"model": "iris", "version": 2, "weight": 50}]}
    record = iris_records()[60][0]
    srv = start_server(repo, workers=2)
    try:
        srv.deploy("iris", TREE)
        srv.deploy("iris", FOREST)
        put_endpoint(srv, "sticky", spec)
        first = {}
        for rid in ids:
            seen = {srv.client.post("/endpoints/sticky", json=record,
                                    headers={"X-Request-Id": rid}).headers["X-Variant"]
                    for _ in range(4)}       # new connections land on either worker
            assert len(seen) == 1, (rid, seen)
            first[rid] = seen.pop()
            assert srv.client.post("/endpoints/sticky", json=record,
                                   headers={"X-Request-Id": rid}).headers[
                "X-Request-Id"] == rid
    finally:
        srv.stop()
    assert 10 < sum(v == "iris:2" for v in first.values()) < 50
    srv = start_server(repo, workers=1)
    try:
        again = {rid: srv.client.post("/endpoints/sticky", json=record,
                                      headers={"X-Request-Id": rid}).headers["X-Variant"]
                 for rid in ids}
    finally:
        srv.stop()
    assert again == first


def test_shadow_agreement_matches_the_versions_own_answers(server):
    put_endpoint(server, "shadowed", {
        "variants": [{"model": "iris", "version": 1, "weight": 1},
                     {"model": "iris", "version": 3, "weight": 1}],
        "shadow": {"model": "iris", "version": 2}})
    records = [r for r, _ in iris_records()]
    answered = {}
    for i, rec in enumerate(records):
        r = server.client.post("/endpoints/shadowed", json=rec)
        assert r.status_code == 200
        answered[i] = (r.headers["X-Variant"], r.json()["outputs"]["species"])
    # truth: ask the shadow version directly for each record
    agree = {"iris:1": [0, 0], "iris:3": [0, 0]}
    for i, rec in enumerate(records):
        shadow_answer = server.client.post("/models/iris/versions/2",
                                           json=rec).json()["outputs"]["species"]
        variant, answer = answered[i]
        agree[variant][0] += 1
        agree[variant][1] += shadow_answer == answer
    deadline = time.monotonic() + 20
    while True:       # the shadow scores off the response path: wait until it has caught up
        stats = server.client.get("/endpoints/shadowed/stats").json()
        (shadow,) = stats["shadow"]
        if shadow["compared"] == len(records) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shadow["variant"] == "iris:2"
    assert shadow["compared"] == len(records) and shadow["errors"] == 0
    assert shadow["agreed"] == agree["iris:1"][1] + agree["iris:3"][1]
    assert shadow["agreement"] == pytest.approx(shadow["agreed"] / len(records))
    assert shadow["agreed"] < len(records)        # the forest and the tree do differ somewhere
    for variant, (compared, agreed) in agree.items():
        assert shadow["by_variant"][variant]["compared"] == compared
        assert shadow["by_variant"][variant]["agreed"] == agreed
    assert shadow["requests"] == len(records)


def test_weights_and_versions_change_mid_traffic_without_a_failed_request(server):
    put_endpoint(server, "live", {"variants": [{"model": "iris", "version": 1, "weight": 100},
                                               {"model": "iris", "version": 2, "weight": 0}]})
    record = iris_records()[100][0]
    stop = threading.Event()
    failures: list = []
    served: list[tuple[float, str]] = []

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            while not stop.is_set():
                try:
                    r = c.post("/endpoints/live", json=record)
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if r.status_code != 200:
                    failures.append((r.status_code, r.text))
                else:
                    served.append((time.monotonic(), r.headers["X-Variant"]))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        changes = []
        for weights in ([50, 50], [0, 100], [100, 0], [0, 100]):
            put_endpoint(server, "live", {"variants": [
                {"model": "iris", "version": 1, "weight": weights[0]},
                {"model": "iris", "version": 2, "weight": weights[1]}]})
            changes.append((time.monotonic(), weights))
            time.sleep(1.5)
        # a promotion in the middle of it all does not disturb pinned variants
        assert server.client.post("/models/iris/promote", json={"version": 2},
                                  headers=AUTH).status_code == 200
        assert server.client.post("/models/iris/promote", json={"version": 1},
                                  headers=AUTH).status_code == 200
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert len(served) > 100
    last_change = changes[-1][0]
    late = [v for t, v in served if t > last_change + 1.0]
    assert late and set(late) == {"iris:2"}        # every worker follows within 1 s


# ------------------------------------------------------------------ metrics

def test_metrics_after_known_traffic_are_exact(tmp_path):
    # deployed by the command line: the workers compile it on first use (its load time)
    srv = start_server(str(tmp_path / "repo"), "--model", f"iris={TREE}", workers=2)
    try:
        good = iris_records()[:7]
        for rec, _ in good:
            assert srv.client.post("/models/iris", json=rec).status_code == 200
        bad = [{"sepal_length": 5.0, "petal_length": "long", "petal_width": 0.2},
               {"sepal_length": 5.0, "petal_width": 0.2},
               {"sepal_length": "x", "petal_length": None, "petal_width": 1.0}]
        r = srv.client.post("/models/iris", json=bad)     # a list: 200, rejected ones marked
        assert r.status_code == 200
        for _ in range(2):
            assert srv.client.post("/models/nope", json={}).status_code == 404
        time.sleep(0.6)      # field and drift counts reach the shared counters every 0.25 s
        text = srv.client.get("/metrics").text
    finally:
        srv.stop()
    values = metric_values(text)
    assert sample(values, "portmodel_requests_total", model="iris", version="1", endpoint="",
                  status="200") == 8
    assert sample(values, "portmodel_requests_total", model="", version="", endpoint="",
                  status="404") == 2
    assert sample(values, "portmodel_request_errors_total", model="", version="", endpoint="",
                  status="404") == 2
    assert sample(values, "portmodel_request_duration_seconds_count", model="iris",
                  version="1", endpoint="") == 8
    assert sample(values, "portmodel_records_total", model="iris", version="1", role="live") == 10
    issues = {(labels, v) for (name, labels), v in values.items()
              if name == "portmodel_input_issues_total" and v}
    got = {(dict(lab)["field"], dict(lab)["issue"]): v for lab, v in issues}
    assert got == {("petal_length", "invalid"): 1, ("petal_length", "missing"): 2,
                   ("sepal_length", "invalid"): 1}
    assert sample(values, "portmodel_requests_in_flight") == 1     # the /metrics request itself
    loads = [v for (name, labels), v in values.items()
             if name == "portmodel_model_load_seconds" and dict(labels) ==
             {"model": "iris", "version": "1"}]
    assert loads and 0 < loads[0] < 30


def test_access_log_has_one_json_line_per_request_with_its_id(server):
    ids = [uuid.uuid4().hex for _ in range(5)]
    for rid in ids:
        r = server.client.post("/models/iris", json=iris_records()[0][0],
                               headers={"X-Request-Id": rid})
        assert r.headers["X-Request-Id"] == rid
    r = server.client.get("/models")
    generated = r.headers["X-Request-Id"]
    time.sleep(0.3)
    lines = [json.loads(line) for line in server.output().splitlines()
             if line.startswith("{") and '"request_id"' in line]
    for rid in ids:
        mine = [x for x in lines if x["request_id"] == rid]
        assert len(mine) == 1
        assert mine[0]["path"] == "/models/iris" and mine[0]["status"] == 200
        assert mine[0]["model"] == "iris" and mine[0]["version"] == 1
        assert mine[0]["duration_ms"] > 0
    assert [x["path"] for x in lines if x["request_id"] == generated] == ["/models"]


# ------------------------------------------------------------------ drift

def test_drift_on_a_shifted_input(server):
    c = server.client
    csv_bytes = (SAMPLES / "iris.csv").read_bytes()
    assert c.put("/models/iris/versions/3/reference", content=csv_bytes,
                 headers={"content-type": "text/csv"}).status_code == 401
    r = c.put("/models/iris/versions/3/reference", content=csv_bytes,
              headers={**AUTH, "content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["records"] == 150
    time.sleep(1.2)          # every worker picks the new reference up within a second
    records = [r for r, _ in iris_records()]
    shifted = [{**rec, "petal_width": rec["petal_width"] * 1.8} for rec in records]
    preds = []
    for rec in shifted:
        r = c.post("/models/iris/versions/3", json=rec)
        assert r.status_code == 200
        preds.append(r.json()["outputs"]["species"])
    time.sleep(0.6)      # field and drift counts reach the shared counters every 0.25 s
    stats = c.get("/models/iris/stats", params={"version": 3}).json()
    assert stats["records"] >= 150          # (earlier tests scored version 3 too)
    pw = stats["fields"]["petal_width"]
    assert pw["observed"] == 150            # counted against this reference only
    assert pw["reference"] == "reference_file"
    exp, act = decile_counts([rec["petal_width"] for rec in records],
                             [rec["petal_width"] for rec in shifted])
    assert pw["expected"] == exp and pw["actual"] == act
    assert pw["psi"] == pytest.approx(hand_psi(exp, act))
    assert pw["psi"] > 0.25
    assert stats["fields"]["sepal_length"]["psi"] == pytest.approx(0.0, abs=1e-12)
    classes = ["setosa", "versicolor", "virginica"]
    # the prediction's reference: the version's own answers for the reference records
    ref_preds = [c.post("/models/iris/versions/3", json=rec).json()["outputs"]["species"]
                 for rec in records]
    pred = stats["prediction"]
    got_actual = {b: a for b, a in zip(pred["bins"], pred["actual"])}
    got_expected = {b: e for b, e in zip(pred["bins"], pred["expected"])}
    assert {k: got_expected.get(k, 0) for k in classes} == {k: ref_preds.count(k)
                                                            for k in classes}
    assert {k: got_actual.get(k, 0) for k in classes} == {k: preds.count(k) for k in classes}
    assert pred["psi"] == pytest.approx(hand_psi([ref_preds.count(k) for k in classes],
                                                 [preds.count(k) for k in classes]))
    assert stats["fields"]["petal_width"]["quality"] == {"missing": 0, "invalid": 0,
                                                         "out_of_range": 0}
    assert c.get("/models/nope/stats").status_code == 404
    assert c.get("/models/iris/stats", params={"version": 99}).status_code == 404
