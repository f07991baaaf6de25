"""Field quality and drift are counted on every scoring path, over real HTTP.

One server (two workers) serves one document under a model name per path: JSON record, JSON
list, CSV, Openscoring's record, batch and CSV paths, V2 ``infer``, and an endpoint whose
answering variant and shadow are separate models. The document declares a valid interval for
``sepal_length`` and a missing value ``-1`` for ``petal_width``. The expected counts are computed
here from the records sent and those two declarations (``judge`` below), never from the server.
"""
from __future__ import annotations

import csv
import io
import time

import pytest

from serve_util import ADMIN, SAMPLES, decile_counts, hand_psi, start_server

httpx = pytest.importorskip("httpx")
from test_serve_ops import iris_records, metric_values, sample  # noqa: E402

AUTH = {"Authorization": f"Bearer {ADMIN}"}
FIELDS = ("sepal_length", "petal_length", "petal_width")
LOW, HIGH = 4.0, 8.0          # sepal_length's valid interval, closed on both sides
MISSING_VALUE = -1.0          # petal_width's declared missing value

DOCUMENT = (SAMPLES / "iris_tree.pmml").read_bytes().replace(
    b'<DataField name="sepal_length" optype="continuous" dataType="float"/>',
    f'<DataField name="sepal_length" optype="continuous" dataType="float">'
    f'<Interval closure="closedClosed" leftMargin="{LOW}" rightMargin="{HIGH}"/>'
    f'</DataField>'.encode()).replace(
    b'<DataField name="petal_width" optype="continuous" dataType="float"/>',
    b'<DataField name="petal_width" optype="continuous" dataType="float">'
    b'<Value value="-1" property="missing"/></DataField>')

PATHS = ("record", "list", "csv", "os_record", "os_batch", "os_csv", "v2", "ep_answer",
         "ep_shadow")


def defective_records(n: int = 40) -> list[dict]:
    """Iris records with defects at known places: out of range, text, the declared missing
    value, absent fields and nulls."""
    out = []
    for i, (rec, _) in enumerate(iris_records()[:n]):
        rec = dict(rec)
        if i % 7 == 0:
            rec["sepal_length"] = 9.5
        if i % 5 == 1:
            rec["petal_length"] = "abc"
        if i % 6 == 2:
            rec["petal_width"] = MISSING_VALUE
        if i % 9 == 3:
            del rec["petal_width"]
        if i % 11 == 4:
            rec["sepal_length"] = None
        out.append(rec)
    return out


def judge(rec: dict) -> dict[tuple[str, str], int]:
    """(field, issue) -> 1 for one record, by the two declarations above."""
    found = {}
    for f in FIELDS:
        v = rec.get(f)
        if v is None or v == "" or (f == "petal_width" and v == MISSING_VALUE):
            found[(f, "missing")] = 1
            continue
        try:
            x = float(v)
        except ValueError:
            found[(f, "invalid")] = 1
            continue
        if f == "sepal_length" and not LOW <= x <= HIGH:
            found[(f, "out_of_range")] = 1
    return found


def expected(records: list[dict]) -> dict[tuple[str, str], int]:
    total: dict[tuple[str, str], int] = {}
    for rec in records:
        for key, n in judge(rec).items():
            total[key] = total.get(key, 0) + n
    return total


def to_csv(records: list[dict], with_id: bool = False) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow((["id"] if with_id else []) + list(FIELDS))
    for i, rec in enumerate(records):
        w.writerow(([f"r{i}"] if with_id else []) +
                   ["" if rec.get(f) is None else rec[f] for f in FIELDS])
    return buf.getvalue().encode()


def issues_of(values: dict, model: str, role: str) -> dict[tuple[str, str], int]:
    out = {}
    for (name, labels), v in values.items():
        lab = dict(labels)
        if (name == "portmodel_input_issues_total" and v and lab["model"] == model
                and lab["role"] == role):
            out[(lab["field"], lab["issue"])] = int(v)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    repo = tmp_path_factory.mktemp("observed") / "repo"
    srv = start_server(str(repo), workers=2, env={"PORTMODEL_ACCESS_LOG": "off"})
    for name in PATHS + ("drift",):
        r = srv.client.put(f"/models/{name}", content=DOCUMENT,
                           headers={**AUTH, "content-type": "application/xml"})
        assert r.status_code == 201, r.text
    yield srv
    srv.stop()


def test_every_scoring_path_counts_field_quality(server):
    c = server.client
    recs = defective_records()
    assert sum(1 for r in recs if judge(r)) >= 15            # the defects are really there
    sent: dict[str, list[dict]] = {p: [] for p in PATHS}

    for rec in recs[:12]:                  # one JSON record a request (rejected ones: 422)
        r = c.post("/models/record", json=rec)
        assert r.status_code in (200, 422)
        sent["record"].append(rec)
    assert c.post("/models/list", json=recs).status_code == 200
    sent["list"] += recs
    r = c.post("/models/csv", content=to_csv(recs, with_id=True),
               headers={"content-type": "text/csv"})
    assert r.status_code == 200
    assert [row[0] for row in csv.reader(io.StringIO(r.text))] == ["id"] + [
        f"r{i}" for i in range(len(recs))]
    sent["csv"] += recs

    for rec in recs[:10]:                  # Openscoring
        r = c.post("/model/os_record", json={"id": "x", "arguments": rec})
        assert r.status_code in (200, 422)
        sent["os_record"].append(rec)
    r = c.post("/model/os_batch/batch", json={"id": "b", "requests": [
        {"id": str(i), "arguments": rec} for i, rec in enumerate(recs)]})
    assert r.status_code == 200, r.text
    sent["os_batch"] += recs
    r = c.post("/model/os_csv/csv", content=to_csv(recs), headers={"content-type": "text/plain"})
    assert r.status_code == 200
    sent["os_csv"] += recs

    # V2: numeric tensors carry numbers only, so the defects are out of range and missing value
    v2recs = [{f: (rec.get(f) if isinstance(rec.get(f), float) else 1.0) for f in FIELDS}
              for rec in recs]
    r = c.post("/v2/models/v2/infer", json={"inputs": [
        {"name": f, "datatype": "FP64", "shape": [len(v2recs)],
         "data": [rec[f] for rec in v2recs]} for f in FIELDS]})
    assert r.status_code in (200, 422), r.text
    sent["v2"] += v2recs

    spec = {"variants": [{"model": "ep_answer", "weight": 1}], "shadow": {"model": "ep_shadow"}}
    assert c.put("/endpoints/q", json=spec, headers=AUTH).status_code in (200, 201)
    answered = []
    for rec in recs[:8]:
        r = c.post("/endpoints/q", json=rec)
        assert r.status_code in (200, 422)
        sent["ep_answer"].append(rec)
        if r.status_code == 200:
            answered.append(rec)
    assert c.post("/endpoints/q", json=recs).status_code == 200
    sent["ep_answer"] += recs
    r = c.post("/endpoints/q", content=to_csv(recs, with_id=True),
               headers={"content-type": "text/csv"})
    assert r.status_code == 200
    sent["ep_answer"] += recs
    # the shadow scores a copy of every answered (200) request
    sent["ep_shadow"] = answered + recs + recs

    time.sleep(1.5)            # the shadow thread, then the 0.25 s flush of each worker
    values = metric_values(c.get("/metrics").text)
    for path in PATHS:
        role = "shadow" if path == "ep_shadow" else "live"
        assert issues_of(values, path, role) == expected(sent[path]), path
        assert sample(values, "portmodel_records_total", model=path, version="1",
                      role=role) == len(sent[path]), path
    # the shadow's copies are not live traffic of its model, nor the answers shadow traffic
    assert issues_of(values, "ep_shadow", "live") == {}
    assert issues_of(values, "ep_answer", "shadow") == {}
    # the JSON stats page says the same
    stats = c.get("/models/csv/stats").json()
    for f in FIELDS:
        want = {issue: expected(sent["csv"]).get((f, issue), 0)
                for issue in ("missing", "invalid", "out_of_range")}
        assert stats["fields"][f]["quality"] == want
    shadow = c.get("/models/ep_shadow/stats", params={"role": "shadow"}).json()
    assert shadow["role"] == "shadow" and shadow["records"] == len(sent["ep_shadow"])
    assert c.get("/models/ep_shadow/stats").json()["records"] == 0


def test_drift_on_a_shifted_csv_input(server):
    c = server.client
    ref_csv = (SAMPLES / "iris.csv").read_bytes()
    r = c.put("/models/drift/versions/1/reference", content=ref_csv,
              headers={**AUTH, "content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["records"] == 150
    time.sleep(1.2)            # every worker picks the new reference up within a second
    records = [rec for rec, _ in iris_records()]
    shifted = [{**rec, "petal_width": rec["petal_width"] * 1.8} for rec in records]
    r = c.post("/models/drift", content=to_csv(shifted, with_id=True),
               headers={"content-type": "text/csv"})
    assert r.status_code == 200
    time.sleep(0.6)
    stats = c.get("/models/drift/stats").json()
    pw = stats["fields"]["petal_width"]
    assert pw["reference"] == "reference_file" and pw["observed"] == 150
    exp, act = decile_counts([rec["petal_width"] for rec in records],
                             [rec["petal_width"] for rec in shifted])
    assert pw["expected"] == exp and pw["actual"] == act
    assert pw["psi"] == pytest.approx(hand_psi(exp, act)) and pw["psi"] > 0.25
    assert stats["fields"]["sepal_length"]["psi"] == pytest.approx(0.0, abs=1e-12)
    assert stats["records"] == 150


def test_endpoint_takes_every_body_the_model_api_takes(server):
    """POST /endpoints/{name} answers a JSON record, a JSON list and CSV (id carried through)
    exactly as POST /models/{name} answers them, with the same status codes."""
    c = server.client
    spec = {"variants": [{"model": "record", "version": 1, "weight": 1}]}
    assert c.put("/endpoints/bodies", json=spec, headers=AUTH).status_code in (200, 201)
    recs = defective_records(12)
    good = iris_records()[0][0]
    cases = [
        ({"json": good}, 200),
        ({"json": {**good, "petal_length": "abc"}}, 422),
        ({"json": recs}, 200),
        ({"content": to_csv(recs, with_id=True), "headers": {"content-type": "text/csv"}}, 200),
        ({"content": to_csv(recs, with_id=True).replace(b"id,", b"key,", 1),
          "headers": {"content-type": "text/csv"}, "params": {"id": "key"}}, 200),
        ({"content": b"a;b\n1;2\n", "headers": {"content-type": "text/csv"},
          "params": {"delimiter": ";"}}, 200),            # no input column: all missing
        ({"content": b"id,sepal_length\n1,2,3,4\n", "headers": {"content-type": "text/csv"}},
         400),
        ({"content": b"{", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"[1, 2]", "headers": {"content-type": "application/json"}}, 200),
        ({"content": b"1", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"x", "headers": {"content-type": "text/plain"}}, 415),
    ]
    for kwargs, status in cases:
        by_model = c.post("/models/record", **kwargs)
        by_endpoint = c.post("/endpoints/bodies", **kwargs)
        assert by_model.status_code == status, (kwargs, by_model.text)
        assert by_endpoint.status_code == status, (kwargs, by_endpoint.text)
        assert by_endpoint.headers["content-type"] == by_model.headers["content-type"]
        assert by_endpoint.content == by_model.content, kwargs
        if status in (200, 422):
            assert by_endpoint.headers["X-Variant"] == "record:1"
    r = c.post("/endpoints/bodies", content=to_csv(recs, with_id=True),
               headers={"content-type": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == [f"r{i}" for i in range(len(recs))]
    assert c.post("/endpoints/none", json=good).status_code == 404
    big = b"id,sepal_length\n" + b"1,5.0\n" * 1_200_000     # over the 5 MB default limit
    assert c.post("/endpoints/bodies", content=big,
                  headers={"content-type": "text/csv"}).status_code == 413
