"""The model API of ``portmodel serve`` over real HTTP: deploy, versions, promotion, scoring of
records, lists and CSV, and every error status. Expected predictions come from the documents'
ModelVerification records (scikit-learn's own answers)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from serve_util import ADMIN, SAMPLES, agrees, start_server, verification_rows

pytest.importorskip("httpx")

TREE = SAMPLES / "iris_tree.pmml"
FOREST = SAMPLES / "iris_forest.pmml"
LINEAR = SAMPLES / "diabetes_linear.pmml"
PFA = {"input": {"type": "record", "name": "In", "fields": [
    {"name": "x", "type": "double"}, {"name": "y", "type": "double"}]},
    "output": "double", "action": [{"+": ["input.x", "input.y"]}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    repo = tmp_path_factory.mktemp("api") / "repo"
    srv = start_server(str(repo), "--model", f"iris={TREE}", "--max-body", "200KB")
    yield srv
    srv.stop()


def json_post(server, path, body, **kw):
    return server.client.post(path, content=json.dumps(body),
                              headers={"content-type": "application/json", **kw.pop("headers", {})},
                              **kw)


def test_one_record_answers_like_scikit_learn(server):
    for record, expected in verification_rows(TREE):
        r = json_post(server, "/models/iris", record)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model"] == "iris" and body["version"] == 1
        assert r.headers["x-model-version"] == "1"
        assert agrees(body["outputs"], expected), (record, body, expected)


def test_list_keeps_scoring_after_a_rejected_record(server):
    rows = verification_rows(TREE)
    records = [rows[0][0], {**rows[1][0], "petal_width": "wide"}, rows[2][0], "not a record"]
    r = json_post(server, "/models/iris", records)
    assert r.status_code == 200
    body = r.json()
    assert len(body) == 4
    assert agrees(body[0]["outputs"], rows[0][1]) and agrees(body[2]["outputs"], rows[2][1])
    assert body[1]["error"]["field"] == "petal_width" and "wide" in body[1]["error"]["reason"]
    assert "outputs" not in body[1] and "error" in body[3]
    assert all(item["version"] == 1 for item in body)


def test_csv_carries_the_id_column(server):
    rows = verification_rows(TREE)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["id", "sepal_length", "petal_length", "petal_width"])
    for i, (record, _) in enumerate(rows):
        writer.writerow([f"r{i}", record["sepal_length"], record["petal_length"],
                         record["petal_width"]])
    r = server.client.post("/models/iris", content=text.getvalue(),
                           headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["x-model-version"] == "1"
    out = list(csv.DictReader(io.StringIO(r.text)))
    assert [o["id"] for o in out] == [f"r{i}" for i in range(len(rows))]
    for o, (_, expected) in zip(out, rows):
        assert agrees({k: float(v) for k, v in o.items() if k.startswith("probability")},
                      expected)


def test_csv_rejected_row_is_marked_and_malformed_csv_is_400(server):
    body = "id,sepal_length,petal_length,petal_width\na,5.1,1.4,0.2\nb,5.1,oops,0.2\n"
    r = server.client.post("/models/iris", content=body, headers={"content-type": "text/csv"})
    out = list(csv.DictReader(io.StringIO(r.text)))
    assert out[0]["error"] == "" and out[0]["species"] == "setosa"
    assert "petal_length" in out[1]["error"] and out[1]["species"] == ""
    bad = server.client.post("/models/iris", content='a,b\n1,2,3\n"x',
                             headers={"content-type": "text/csv"})
    assert bad.status_code == 400 and "CSV" in bad.json()["error"]


def test_versions_promotion_and_rollback(server):
    r = server.deploy("flowers", FOREST)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["version"] == 1 and first["promoted"] is True
    assert [f["name"] for f in first["schema"]["inputs"]] == [
        "sepal_length", "sepal_width", "petal_length", "petal_width"]
    r = server.deploy("flowers", TREE)
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["promoted"] is False
    again = server.deploy("flowers", TREE)
    assert again.status_code == 200 and again.json()["version"] == 2

    forest_record = verification_rows(FOREST)[3][0]
    assert json_post(server, "/models/flowers", forest_record).headers["x-model-version"] == "1"
    r = json_post(server, "/models/flowers/versions/2", forest_record)
    assert r.status_code == 200 and r.json()["version"] == 2

    r = json_post(server, "/models/flowers/promote", {"version": 2}, headers=server.admin)
    assert r.status_code == 200
    assert json_post(server, "/models/flowers", forest_record).json()["version"] == 2
    json_post(server, "/models/flowers/promote", {"version": 1}, headers=server.admin)
    assert json_post(server, "/models/flowers", forest_record).json()["version"] == 1

    info = server.client.get("/models/flowers").json()
    assert info["promoted"] == 1 and [v["version"] for v in info["versions"]] == [1, 2]
    assert info["schema"]["function"] == "classification"
    actions = [(h["action"], h["version"], h["actor"])
               for h in server.client.get("/models/flowers/history").json()["history"]]
    assert actions == [("deploy", 1, "admin"), ("promote", 1, "admin"), ("deploy", 2, "admin"),
                       ("promote", 2, "admin"), ("promote", 1, "admin")]
    listed = {m["name"]: m for m in server.client.get("/models").json()["models"]}
    assert listed["flowers"] == {"name": "flowers", "promoted": 1, "versions": [1, 2]}


def test_promote_on_put(server):
    server.deploy("diab", FOREST)
    r = server.deploy("diab", LINEAR, promote=True)
    assert r.status_code == 201 and r.json()["promoted"] is True
    record, expected = verification_rows(LINEAR)[0]
    r = json_post(server, "/models/diab", record)
    assert r.json()["version"] == 2 and agrees(r.json()["outputs"], expected)


def test_document_is_returned_to_the_admin_only(server):
    r = server.client.get("/models/iris/versions/1/document", headers=server.admin)
    assert r.status_code == 200 and r.content == TREE.read_bytes()
    assert server.client.get("/models/iris/versions/1/document").status_code == 401
    assert server.client.get("/models/iris/versions/1/document",
                             headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert server.client.get("/models/iris/versions/9/document",
                             headers=server.admin).status_code == 404


def test_delete_version(server):
    server.deploy("gone", TREE)
    server.deploy("gone", FOREST)
    r = server.client.delete("/models/gone/versions/1", headers=server.admin)
    assert r.status_code == 409 and "promoted" in r.json()["error"]
    assert server.client.delete("/models/gone/versions/2").status_code == 401
    assert server.client.delete("/models/gone/versions/2", headers=server.admin).status_code == 200
    record = verification_rows(FOREST)[0][0]
    assert json_post(server, "/models/gone/versions/2", record).status_code == 404
    assert server.client.delete("/models/gone/versions/2", headers=server.admin).status_code == 404
    # the same bytes again make a new version number, never a reused one
    assert server.deploy("gone", FOREST).json()["version"] == 3


def test_pfa_documents_in_json_and_yaml(server):
    yaml = pytest.importorskip("yaml")
    r = server.client.put("/models/adder", content=json.dumps(PFA),
                          headers={**server.admin, "content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["schema"]["format"] == "pfa"
    assert json_post(server, "/models/adder", {"x": 1.5, "y": 2.0}).json()["outputs"] == {
        "output": 3.5}
    r = server.client.put("/models/adder", content=yaml.safe_dump({**PFA, "name": "y"}),
                          headers={**server.admin, "content-type": "application/yaml"})
    assert r.status_code == 201 and r.json()["version"] == 2
    r = server.client.get("/models/adder/versions/2/document", headers=server.admin)
    assert r.headers["content-type"].startswith("application/yaml")


def test_a_document_that_does_not_load_is_400_with_element_and_line(server):
    bad = ('<?xml version="1.0"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">\n'
           '<Header/>\n<DataDictionary>\n<DataField name="x" optype="continuous" '
           'dataType="double"/>\n</DataDictionary>\n<RegressionModel functionName="regression">'
           '\n<MiningSchema><MiningField name="x"/></MiningSchema>\n'
           '<RegressionTable intercept="1">\n<NumericPredictor name="nope" coefficient="2"/>\n'
           '</RegressionTable>\n</RegressionModel>\n</PMML>\n')
    r = server.client.put("/models/broken", content=bad,
                          headers={**server.admin, "content-type": "application/xml"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["line"] is not None and body["element"] and "nope" in body["error"]
    assert server.client.get("/models/broken").status_code == 404
    r = server.client.put("/models/broken", content="<PMML", headers={
        **server.admin, "content-type": "application/xml"})
    assert r.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(server, content_type):
    r = server.client.post("/models/iris", content="sepal_length=1",
                           headers={"content-type": content_type})
    assert r.status_code == 415
    r = server.client.put("/models/x", content="<PMML/>",
                          headers={**server.admin, "content-type": content_type})
    assert r.status_code == 415


def test_malformed_and_rejected_and_unknown(server):
    r = server.client.post("/models/iris", content=b'{"sepal_length": 1,',
                           headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    assert json_post(server, "/models/iris", 42).status_code == 400
    r = json_post(server, "/models/iris",
                  {"sepal_length": 5.1, "petal_length": "long", "petal_width": 0.2})
    assert r.status_code == 422
    assert r.json()["field"] == "petal_length" and "long" in r.json()["reason"]
    r = json_post(server, "/models/iris", {"sepal_length": 5.1})
    assert r.status_code == 422 and r.json()["field"] in ("petal_length", "petal_width")
    assert json_post(server, "/models/nosuch", {"a": 1}).status_code == 404
    assert json_post(server, "/models/iris/versions/7", {"a": 1}).status_code == 404
    assert server.client.get("/models/nosuch").status_code == 404
    r = json_post(server, "/models/iris/promote", {"version": 5}, headers=server.admin)
    assert r.status_code == 404
    r = json_post(server, "/models/iris/promote", {"version": "one"}, headers=server.admin)
    assert r.status_code == 400


def test_body_over_the_limit_is_413_before_it_is_read(server):
    big = b'{"sepal_length": "' + b"9" * 300_000 + b'"}'
    r = server.client.post("/models/iris", content=big,
                           headers={"content-type": "application/json"})
    assert r.status_code == 413

    def chunks():   # no Content-Length: refused once the chunks pass the limit
        for _ in range(100):
            yield b" " * 10_000

    r = server.client.post("/models/iris", content=chunks(),
                           headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert json_post(server, "/models/iris", verification_rows(TREE)[0][0]).status_code == 200


def test_mutations_need_the_admin_token(server):
    body = TREE.read_bytes()
    r = server.client.put("/models/sneaky", content=body,
                          headers={"content-type": "application/xml"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = server.client.put("/models/sneaky", content=body, headers={
        "content-type": "application/xml", "Authorization": "Bearer " + ADMIN + "x"})
    assert r.status_code == 403
    assert json_post(server, "/models/iris/promote", {"version": 1}).status_code == 401
    assert server.client.delete("/models/iris").status_code == 401
    assert server.client.get("/models/sneaky").status_code == 404


def test_openapi_document_and_docs_page(server):
    spec = server.client.get("/openapi.json").json()
    assert "/models/{name}" in spec["paths"] and "/v2/models/{name}/infer" in spec["paths"]
    assert "/model/{id}" in spec["paths"]
    assert server.client.get("/docs").status_code == 200


def test_scoring_token(tmp_path):
    srv = start_server(str(tmp_path / "repo"), "--model", f"iris={TREE}",
                       env={"PORTMODEL_TOKEN": "score-token"})
    try:
        record = verification_rows(TREE)[0][0]
        assert json_post(srv, "/models/iris", record).status_code == 401
        assert json_post(srv, "/models/iris", record,
                         headers={"Authorization": "Bearer nope"}).status_code == 403
        assert json_post(srv, "/models/iris", record,
                         headers={"Authorization": "Bearer score-token"}).status_code == 200
        assert json_post(srv, "/models/iris", record, headers=srv.admin).status_code == 200
        # the scoring token is not an admin token
        r = srv.client.put("/models/x", content=TREE.read_bytes(), headers={
            "content-type": "application/xml", "Authorization": "Bearer score-token"})
        assert r.status_code == 403
    finally:
        srv.stop()


def test_csv_dialect_and_named_id_columns(server):
    body = "key;petal_width;sepal_length;petal_length\nk1;0.2;5.1;1.4\nk2;2.0;6.0;5.0\n"
    r = server.client.post("/models/iris", content=body, params={"id": "key", "delimiter": ";"},
                           headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    lines = r.text.splitlines()
    assert lines[0].split(";")[:2] == ['"key"', '"species"']
    assert lines[1].startswith('"k1";"setosa"') and lines[2].startswith('"k2";"virginica"')
    r = server.client.post("/models/iris", content=body, params={"id": "nope", "delimiter": ";"},
                           headers={"content-type": "text/csv"})
    assert r.status_code == 400 and "nope" in r.json()["error"]


def test_history_names_the_actor(server):
    r = server.client.put("/models/audited", content=TREE.read_bytes(), headers={
        **server.admin, "content-type": "application/xml", "X-Actor": "ci-pipeline"})
    assert r.status_code == 201
    history = server.client.get("/models/audited/history").json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [("deploy", "ci-pipeline"),
                                                             ("promote", "ci-pipeline")]
    assert all(h["at"].endswith("+00:00") for h in history)
