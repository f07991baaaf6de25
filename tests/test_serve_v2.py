"""The Open Inference Protocol v2 through a real V2 client: tritonclient's HTTP client."""
from __future__ import annotations

import numpy as np
import pytest

from serve_util import SAMPLES, start_server, verification_rows

http = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

TREE = SAMPLES / "iris_tree.pmml"
LINEAR = SAMPLES / "diabetes_linear.pmml"
IRIS_INPUTS = ["sepal_length", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(str(tmp_path_factory.mktemp("v2") / "repo"), "--model", f"iris={TREE}",
                       "--model", f"diabetes={LINEAR}")
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    c = http.InferenceServerClient(server.url.removeprefix("http://"))
    yield c
    c.close()


def _columns(rows, names, binary=True, dtype="FP64"):
    inputs = []
    for name in names:
        tensor = http.InferInput(name, [len(rows)], dtype)
        tensor.set_data_from_numpy(np.array([r[name] for r, _ in rows],
                                            dtype=np.float64 if dtype == "FP64" else np.float32),
                                   binary_data=binary)
        inputs.append(tensor)
    return inputs


def test_health_and_metadata(client):
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("iris") and client.is_model_ready("iris", "1")
    assert not client.is_model_ready("nosuch") and not client.is_model_ready("iris", "9")
    meta = client.get_server_metadata()
    assert meta["name"] == "portmodel" and "binary_tensor_data" in meta["extensions"]
    model = client.get_model_metadata("iris")
    assert model["versions"] == ["1"]
    assert [(i["name"], i["datatype"]) for i in model["inputs"]] == [
        (n, "FP64") for n in IRIS_INPUTS]
    assert ("species", "BYTES") in [(o["name"], o["datatype"]) for o in model["outputs"]]
    assert client.get_model_metadata("iris", "1")["name"] == "iris"
    with pytest.raises(InferenceServerException) as info:
        client.get_model_metadata("nosuch")
    assert info.value.status() == "404"


@pytest.mark.parametrize("binary", [True, False])
def test_infer_one_tensor_per_column(client, binary):
    rows = verification_rows(TREE)
    result = client.infer("iris", _columns(rows, IRIS_INPUTS, binary))
    for label in ("setosa", "versicolor", "virginica"):
        got = result.as_numpy(f"probability({label})")
        want = np.array([e[f"probability({label})"] for _, e in rows])
        np.testing.assert_allclose(got, want, atol=1e-12)
    species = result.as_numpy("species")
    assert species.shape == (len(rows),)
    assert result.get_response()["model_version"] == "1"


def test_infer_one_matrix_with_content_type(client):
    rows = verification_rows(LINEAR)
    names = [f["name"] for f in client.get_model_metadata("diabetes")["inputs"]]
    matrix = np.array([[r[n] for n in names] for r, _ in rows], dtype=np.float64)
    tensor = http.InferInput("input-0", list(matrix.shape), "FP64")
    tensor.set_data_from_numpy(matrix)
    result = client.infer("diabetes", [tensor], parameters={"content_type": "np"},
                          outputs=[http.InferRequestedOutput("progression", binary_data=False)])
    np.testing.assert_allclose(result.as_numpy("progression"),
                               [e["progression"] for _, e in rows], rtol=1e-12)
    assert [o["name"] for o in result.get_response()["outputs"]] == ["progression"]
    # the same matrix without the parameter: one 2-D input not named like a field
    result = client.infer("diabetes", [tensor], model_version="1")
    np.testing.assert_allclose(result.as_numpy("progression"),
                               [e["progression"] for _, e in rows], rtol=1e-12)


def test_fp32_columns(client):
    rows = verification_rows(TREE)
    result = client.infer("iris", _columns(rows, IRIS_INPUTS, dtype="FP32"))
    assert len(result.as_numpy("species")) == len(rows)


def test_errors(client, server):
    rows = verification_rows(TREE)
    with pytest.raises(InferenceServerException) as info:
        client.infer("nosuch", _columns(rows, IRIS_INPUTS))
    assert info.value.status() == "404"
    with pytest.raises(InferenceServerException) as info:
        client.infer("iris", _columns(rows, IRIS_INPUTS[:2]))
    assert info.value.status() == "422" and "petal_width" in info.value.message()
    bad = _columns(rows, IRIS_INPUTS, binary=False)
    wide = http.InferInput("petal_width", [len(rows), 2], "FP64")
    wide.set_data_from_numpy(np.zeros((len(rows), 2)), binary_data=False)
    with pytest.raises(InferenceServerException) as info:
        client.infer("iris", bad[:2] + [wide])
    assert info.value.status() == "400"
    text = http.InferInput("petal_width", [1], "BYTES")
    text.set_data_from_numpy(np.array(["wide"], dtype=object))
    one = _columns(rows[:1], IRIS_INPUTS[:2])
    with pytest.raises(InferenceServerException) as info:
        client.infer("iris", one + [text])
    assert info.value.status() == "422" and "wide" in info.value.message()
    r = server.client.post("/v2/models/iris/infer", content=b"{nope",
                           headers={"content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
