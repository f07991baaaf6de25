"""The single-record plan of ClusteringModel (pmml/record_cluster.py): every answer bit for bit the
column plan's (types and key order included) under each summed distance, with field weights,
ties and far-away records, and for records mutated off the happy path; scikit-learn's KMeans
(labels, squared distances within 1e-9); the conformance case it takes, against the reference
engine's expected outputs; no plan outside its subset.
"""
from __future__ import annotations

import numpy as np
import pytest

import portmodel
from record_util import (answered_rows, check_conformance_records,  # noqa: F401
                         conformance_cases, mutations, pair, same_answer)
from test_clustering import doc as clustering_doc
from test_clustering import kmeans, needs_java  # noqa: F401 - an sklearn2pmml KMeans

CLUSTERS = """
  <Cluster id="A"><Array n="3" type="real">0 0 1</Array></Cluster>
  <Cluster><Array n="3" type="real">2 2 -1</Array></Cluster>
  <Cluster id="C"><Array n="3" type="real">5 1 0.25</Array></Cluster>
  <Cluster id="D"><Array n="3" type="real">2 2 -1</Array></Cluster>"""


DD = """
  <DataField name="x" optype="continuous" dataType="double"/>
  <DataField name="y" optype="continuous" dataType="double"/>
  <DataField name="z" optype="continuous" dataType="double"/>"""


def doc(measure: str, outputs: str = None, fields: str = None, extra: str = "") -> str:
    """Three double fields, four clusters (the second and the last at the same center: ties),
    the winning id and the affinity to each cluster by value."""
    outputs = outputs if outputs is not None else """
   <OutputField name="cluster" feature="predictedValue" dataType="string"/>
   <OutputField name="toA" feature="affinity" value="A"/>
   <OutputField name="to2" feature="affinity" value="2"/>
   <OutputField name="toC" feature="affinity" value="C"/>
   <OutputField name="toD" feature="affinity" value="D"/>"""
    fields = fields if fields is not None else """
  <ClusteringField field="x"/><ClusteringField field="y" fieldWeight="0.3"/>
  <ClusteringField field="z" fieldWeight="2.5"/>"""
    return clustering_doc(measure, fields=fields, clusters=CLUSTERS, extra=extra,
                          outputs=f"\n  <Output>{outputs}\n  </Output>", dd=DD)


MEASURES = ["<cityBlock/>", "<squaredEuclidean/>", "<euclidean/>", "<chebychev/>"]


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize("measure", MEASURES)
def test_summed_distances(measure, numba, monkeypatch):
    """Each measure, weighted fields, records on a grid (exact ties between two clusters, a
    record at a center, far away and tiny coordinates): the column plan's bits, with the
    compiled distances and with the Python loop (numba off); mutations."""
    if not numba:
        monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    fast, slow = pair(doc(measure))
    assert fast._record_plan is not None
    rng = np.random.default_rng(len(measure))
    grid = [(2.0, 2.0, -1.0), (0.0, 0.0, 1.0), (1.0, 1.0, 0.0), (3.5, 0.5, 0.625),
            (1e150, -1e150, 3.0), (1e-300, -5e-324, 0.0)]
    grid += [tuple(rng.normal(1.5, 3.0, 3)) for _ in range(60)]
    answered = sum(same_answer(fast, slow, {"x": x, "y": y, "z": z}) for x, y, z in grid)
    assert answered >= len(grid) - 1       # (1e150 squared overflows: the column plan's)
    got = fast.predict({"x": 2.0, "y": 2.0, "z": -1.0})
    assert got["cluster"] == "2" and got["to2"] == got["toD"] == 0.0     # the first of equals
    for m in mutations(fast, {"x": 1.0, "y": -0.5, "z": 2.0}):
        same_answer(fast, slow, m)


@needs_java
@pytest.mark.oracle
def test_sklearn_kmeans_records(kmeans):  # noqa: F811
    """scikit-learn's KMeans through sklearn2pmml: every row answered, the column plan's bits,
    sklearn's labels and squared distances (1e-9)."""
    pipe, X, path = kmeans
    fast, slow = pair(path)
    assert fast._record_plan is not None
    X = X.head(60)
    labels = pipe.predict(X)
    sq = pipe.steps[-1][1].transform(X) ** 2
    for i, got in enumerate(answered_rows(fast, slow, X)):
        assert int(got["cluster"]) == labels[i]
        for j in range(sq.shape[1]):
            assert abs(got[f"affinity({j})"] - sq[i, j]) <= 1e-9 * max(1.0, sq[i, j])
    for m in mutations(fast, X.iloc[0].to_dict()):
        same_answer(fast, slow, m)


def test_conformance_records(conformance_cases):  # noqa: F811
    check_conformance_records(conformance_cases["rattle/HierarchicalClusteringIris"], mutate=2)


@pytest.mark.parametrize("variant", [
    {"measure": '<minkowski p-parameter="3"/>'},
    {"measure": "<euclidean/>", "extra": '<MissingValueWeights><Array n="3" type="real">1 2 1'
                                          '</Array></MissingValueWeights>'},
    {"measure": "<euclidean/>", "fields": '<ClusteringField field="x" compareFunction="gaussSim"'
                                          ' similarityScale="2"/><ClusteringField field="y"/>'
                                          '<ClusteringField field="z"/>'},
    {"measure": "<euclidean/>", "outputs": '<OutputField name="id" feature="entityId"/>'},
    {"measure": "<euclidean/>", "outputs": '<OutputField name="near" feature="affinity"/>'},
    {"measure": "<euclidean/>", "outputs": '<OutputField name="toZ" feature="affinity"'
                                           ' value="Z"/>'},
])
def test_outside_the_subset_no_plan(variant):
    """Minkowski, MissingValueWeights, another compare function, outputs other than the winning
    id and a named cluster's affinity: no record plan (the column plan scores every record)."""
    assert portmodel.load(doc(**variant)).record_plan() is None
