"""The repository contract both backends keep (SQLite folder and a real PostgreSQL server):
versions, promotion, the change counter, endpoints and their delete guard, shared blobs."""
from __future__ import annotations

import pytest

from serve_util import SAMPLES, postgres_server, postgres_url  # noqa: F401 (fixtures)

pytest.importorskip("fastapi")
from portmodel.serving.store import Conflict, NotFound, Store, digest_of  # noqa: E402

TREE = (SAMPLES / "iris_tree.pmml").read_bytes()
FOREST = (SAMPLES / "iris_forest.pmml").read_bytes()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        repo = str(tmp_path / "repo")
    else:
        repo = request.getfixturevalue("postgres_url")
    s = Store.open(repo)
    yield s
    s.close()


def test_versions_promotion_and_the_change_counter(store):
    g0 = store.generation()
    v1, created = store.add_version("m", TREE, "pmml", {"k": 1}, "alice")
    assert (v1.version, created, v1.digest) == (1, True, digest_of(TREE))
    assert store.promoted("m") == 1 and store.generation() > g0
    g1 = store.generation()
    same, created = store.add_version("m", TREE, "pmml", {}, "bob")
    assert (same.version, created) == (1, False) and store.generation() == g1
    v2, _ = store.add_version("m", FOREST, "pmml", {}, "bob")
    assert v2.version == 2 and store.promoted("m") == 1 and store.generation() > g1
    store.promote("m", 2, "carol")
    assert store.promoted("m") == 2
    assert store.document(v2.digest) == FOREST
    assert store.snapshot()["m"] == {"promoted": 2, "versions": {1: v1.digest, 2: v2.digest}}
    assert [(h["action"], h["version"], h["actor"]) for h in store.history("m")] == [
        ("deploy", 1, "alice"), ("promote", 1, "alice"), ("deploy", 2, "bob"),
        ("promote", 2, "carol")]
    with pytest.raises(NotFound):
        store.promote("m", 3, "x")
    with pytest.raises(NotFound):
        store.promoted("nope")


def test_endpoints_guard_deletes_and_bump_the_counter(store):
    store.add_version("m", TREE, "pmml", {}, "a")
    store.add_version("m", FOREST, "pmml", {}, "a")
    g = store.generation()
    spec = {"variants": [{"model": "m", "version": 1, "weight": 50},
                         {"model": "m", "version": 2, "weight": 50}]}
    store.put_endpoint("ep", spec, "a")
    assert store.generation() > g and store.get_endpoint("ep") == spec
    assert [e["name"] for e in store.list_endpoints()] == ["ep"]
    assert store.routes_to("m", 2) and store.routes_to("m") and not store.routes_to("m", 3)
    with pytest.raises(Conflict):
        store.delete_version("m", 2, "a")
    with pytest.raises(Conflict):
        store.delete_model("m", "a")
    store.put_endpoint("ep", {"variants": [{"model": "m", "version": 1, "weight": 1}],
                              "shadow": {"model": "m", "version": 2}}, "a")
    with pytest.raises(Conflict):       # a shadow counts as routing
        store.delete_version("m", 2, "a")
    store.delete_endpoint("ep", "a")
    assert store.get_endpoint("ep") is None
    with pytest.raises(NotFound):
        store.delete_endpoint("ep", "a")
    store.delete_version("m", 2, "a")
    assert store.version("m", 2) is None
    store.delete_model("m", "a")
    assert store.model_names() == []


def test_blobs(store):
    assert store.get_blob("k") is None
    assert store.put_blob("k", b"one", "a", only_if_absent=True) is True
    assert store.put_blob("k", b"two", "b", only_if_absent=True) is False
    assert store.get_blob("k") == b"one"
    assert store.put_blob("k", b"three", "c") is True
    assert store.get_blob("k") == b"three"
