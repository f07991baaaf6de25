"""Openscoring's own Python client (the ``openscoring`` package) against portmodel's
Openscoring-compatible paths: deploy, evaluate, evaluateBatch, evaluateCsv, undeploy."""
from __future__ import annotations

import pytest

from serve_util import SAMPLES, agrees, start_server, verification_rows

openscoring = pytest.importorskip("openscoring")
pd = pytest.importorskip("pandas")

FOREST = SAMPLES / "iris_forest.pmml"
TREE = SAMPLES / "iris_tree.pmml"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(str(tmp_path_factory.mktemp("os") / "repo"))
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    return openscoring.Openscoring(server.url, token=server.admin_token)


def test_deploy_evaluate_batch_csv_undeploy(server, client):
    deployed = client.deployFile("forest", str(FOREST))
    assert deployed.id == "forest" and deployed.miningFunction == "classification"
    assert [f["id"] for f in deployed.schema["inputFields"]] == [
        "sepal_length", "sepal_width", "petal_length", "petal_width"]
    rows = verification_rows(FOREST)

    for record, expected in rows:
        assert agrees(client.evaluate("forest", record), expected)

    results = client.evaluateBatch("forest", [r for r, _ in rows])
    assert len(results) == len(rows)
    assert all(agrees(got, want) for got, (_, want) in zip(results, rows))

    frame = pd.DataFrame([r for r, _ in rows])
    frame.insert(0, "Id", [f"row-{i}" for i in range(len(rows))])
    scored = client.evaluateCsv("forest", frame)
    assert list(scored["Id"]) == list(frame["Id"])
    for (_, out), (_, want) in zip(scored.iterrows(), rows):
        assert agrees(out.to_dict(), want)

    client.undeploy("forest")
    with pytest.raises(ValueError, match="does not exist"):
        client.evaluate("forest", rows[0][0])
    assert server.client.get("/models/forest").status_code == 404


def test_redeploy_promotes_the_new_document(server, client):
    client.deployFile("flip", str(TREE))
    client.deployFile("flip", str(FOREST))
    r = server.client.get("/models/flip").json()
    assert r["promoted"] == 2
    record, expected = verification_rows(FOREST)[0]
    assert agrees(client.evaluate("flip", record), expected)
    listed = server.client.get("/model").json()["models"]
    assert "flip" in [m["id"] for m in listed]


def test_errors_reach_the_client_as_messages(server, client):
    client.deployFile("strict", str(TREE))
    with pytest.raises(ValueError, match="petal_width"):
        client.evaluate("strict", {"sepal_length": 5.0, "petal_length": 1.0,
                                   "petal_width": "thin"})
    results = openscoring.Openscoring(server.url).evaluateBatch(
        "strict", [{"sepal_length": 5.0, "petal_length": 1.0, "petal_width": 0.1}],
    )
    assert results[0]["species"] == "setosa"
    anonymous = openscoring.Openscoring(server.url)
    with pytest.raises(ValueError, match="bearer token"):
        anonymous.deployFile("nope", str(TREE))
    with pytest.raises(ValueError, match="not valid"):
        openscoring.Openscoring(server.url, token="wrong").undeploy("strict")
    r = server.client.get("/model/strict")
    assert r.headers["x-application"].startswith("Openscoring/2.")
    assert server.client.get("/model/none").json()["message"]
