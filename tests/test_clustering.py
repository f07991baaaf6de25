"""ClusteringModel: every comparison measure and compare function against values worked out by
hand from the spec's formulas, the outputs (ids, names, affinities by value and by rank),
missing-value adjustment, and scikit-learn's KMeans as a differential oracle."""
from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError
from reference_engines import jpmml_frame

OUTPUTS = """
  <Output>
   <OutputField name="cluster" feature="predictedValue" dataType="string"/>
   <OutputField name="name" feature="predictedDisplayValue"/>
   <OutputField name="id" feature="entityId"/>
   <OutputField name="second" feature="entityId" rank="2"/>
   <OutputField name="best" feature="affinity"/>
   <OutputField name="next" feature="affinity" rank="2"/>
   <OutputField name="toA" feature="clusterAffinity" value="A"/>
   <OutputField name="to2" feature="clusterAffinity" value="2"/>
   <OutputField name="toC" feature="clusterAffinity" value="C"/>
  </Output>"""


def doc(measure: str, fields: str = None, clusters: str = None, kind: str = "distance",
        extra: str = "", compare: str = "", dd: str = None, outputs: str = OUTPUTS) -> str:
    fields = fields if fields is not None else """
  <ClusteringField field="x"/>
  <ClusteringField field="y"/>"""
    clusters = clusters if clusters is not None else """
  <Cluster id="A" name="alpha"><Array n="2" type="real">0 0</Array></Cluster>
  <Cluster name="beta"><Array n="2" type="real">2 2</Array></Cluster>
  <Cluster id="C"><Array n="2" type="real">5 1</Array></Cluster>"""
    dd = dd if dd is not None else """
  <DataField name="x" optype="continuous" dataType="double"/>
  <DataField name="y" optype="continuous" dataType="double"/>"""
    names = re.findall(r'<DataField name="([^"]+)"', dd)
    mining = "".join(f'<MiningField name="{n}"/>' for n in names)
    count = clusters.count("<Cluster ") + clusters.count("<Cluster>")
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
 <DataDictionary>{dd}
 </DataDictionary>
 <ClusteringModel functionName="clustering" modelClass="centerBased" numberOfClusters="{count}">
  <MiningSchema>{mining}</MiningSchema>{outputs}
  <ComparisonMeasure kind="{kind}" {compare}>{measure}</ComparisonMeasure>{fields}{extra}{clusters}
 </ClusteringModel>
</PMML>"""


ROW = {"x": 1.0, "y": 2.0}   # distances to (0,0), (2,2), (5,1) per coordinate: (1,2), (1,0), (4,1)


@pytest.mark.parametrize("measure,expected", [
    ("<euclidean/>", [math.sqrt(5), 1.0, math.sqrt(17)]),
    ("<squaredEuclidean/>", [5.0, 1.0, 17.0]),
    ("<cityBlock/>", [3.0, 1.0, 5.0]),
    ("<chebychev/>", [2.0, 1.0, 4.0]),
    ('<minkowski p-parameter="3"/>', [9 ** (1 / 3), 1.0, 65 ** (1 / 3)]),
])
def test_distance_measures(measure, expected):
    out = portmodel.load(doc(measure)).predict(ROW)
    assert out["cluster"] == "2"            # the unnamed second cluster: its 1-based position
    assert out["name"] == "beta"
    assert out["id"] == "2" and out["second"] == "A"
    assert out["toA"] == pytest.approx(expected[0], rel=1e-12)
    assert out["to2"] == pytest.approx(expected[1], rel=1e-12)
    assert out["toC"] == pytest.approx(expected[2], rel=1e-12)
    assert out["best"] == pytest.approx(expected[1], rel=1e-12)
    assert out["next"] == pytest.approx(expected[0], rel=1e-12)


def test_field_weights():
    fields = """
  <ClusteringField field="x" fieldWeight="2"/>
  <ClusteringField field="y" fieldWeight="0.5"/>"""
    out = portmodel.load(doc("<squaredEuclidean/>", fields)).predict(ROW)
    # sum w_i * (x_i - c_i)^2
    assert [out["toA"], out["to2"], out["toC"]] == pytest.approx([2 + 2, 2 + 0, 32 + 0.5])
    out = portmodel.load(doc("<chebychev/>", fields)).predict(ROW)
    assert [out["toA"], out["to2"], out["toC"]] == pytest.approx([2, 2, 8])
    assert out["cluster"] == "A"             # tie 2 = 2: the first cluster wins


def test_missing_value_adjustment():
    m = portmodel.load(doc("<squaredEuclidean/>"))
    out = m.predict({"x": None, "y": 2.0})
    # only y compares; the sum is scaled by 2 fields / 1 present
    assert [out["toA"], out["to2"], out["toC"]] == pytest.approx([8.0, 0.0, 2.0])
    extra = """
  <MissingValueWeights><Array n="2" type="real">1 3</Array></MissingValueWeights>"""
    out = portmodel.load(doc("<squaredEuclidean/>", extra=extra)).predict({"x": None, "y": 2.0})
    assert [out["toA"], out["to2"], out["toC"]] == pytest.approx([4 * 4 / 3, 0.0, 4 / 3])
    out = portmodel.load(doc("<euclidean/>", extra=extra)).predict({"x": 1.0, "y": None})
    assert out["toC"] == pytest.approx(math.sqrt(16 * 4 / 1))


def test_all_missing_has_no_cluster():
    out = portmodel.load(doc("<euclidean/>")).predict({"x": None, "y": None})
    assert out["cluster"] is None and out["id"] is None and out["toA"] is None


def test_gauss_sim_is_a_similarity():
    fields = """
  <ClusteringField field="x" compareFunction="gaussSim" similarityScale="2"/>
  <ClusteringField field="y" compareFunction="gaussSim" similarityScale="1"/>"""
    out = portmodel.load(doc("<cityBlock/>", fields, kind="similarity")).predict(ROW)

    def g(z, s):
        return math.exp(-math.log(2) * z * z / (s * s))
    want = [g(1, 2) + g(2, 1), g(1, 2) + g(0, 1), g(4, 2) + g(1, 1)]
    assert [out["toA"], out["to2"], out["toC"]] == pytest.approx(want, rel=1e-12)
    assert out["cluster"] == "2"             # the largest similarity wins
    assert out["next"] == pytest.approx(max(want[0], want[2]))


def test_gauss_sim_needs_a_scale():
    fields = '<ClusteringField field="x" compareFunction="gaussSim"/><ClusteringField field="y"/>'
    with pytest.raises(DocumentError):
        portmodel.load(doc("<cityBlock/>", fields))


CATEGORICAL_DD = """
  <DataField name="x" optype="continuous" dataType="double"/>
  <DataField name="colour" optype="categorical" dataType="string">
   <Value value="red"/><Value value="green"/><Value value="blue"/>
  </DataField>"""


def test_delta_and_equal_on_categories():
    clusters = """
  <Cluster id="A"><Array n="2" type="string">0 red</Array></Cluster>
  <Cluster id="B"><Array n="2" type="string">3 "blue"</Array></Cluster>
  <Cluster id="C"><Array n="2" type="string">1 green</Array></Cluster>"""
    fields = """
  <ClusteringField field="x"/>
  <ClusteringField field="colour" compareFunction="delta" fieldWeight="10"/>"""
    m = portmodel.load(doc("<cityBlock/>", fields, clusters, dd=CATEGORICAL_DD))
    out = m.predict({"x": 1.0, "colour": "blue"})
    # |1-0| + 10*1, |1-3| + 10*0, |1-1| + 10*1
    assert [out["toA"], out["toC"]] == pytest.approx([11.0, 10.0])
    assert out["cluster"] == "B" and out["best"] == pytest.approx(2.0)
    fields = fields.replace("delta", "equal")
    m = portmodel.load(doc("<cityBlock/>", fields, clusters, kind="similarity", dd=CATEGORICAL_DD))
    out = m.predict({"x": 1.0, "colour": "green"})
    assert out["cluster"] == "C" and out["toC"] == pytest.approx(10.0)


def test_table_compare_function():
    fields = """
  <ClusteringField field="x" fieldWeight="0"/>
  <ClusteringField field="colour" compareFunction="table">
   <Comparisons><Matrix>
    <Array type="real">0 1 4</Array>
    <Array type="real">1 0 2</Array>
    <Array type="real">4 2 0</Array>
   </Matrix></Comparisons>
  </ClusteringField>"""
    clusters = """
  <Cluster id="R"><Array type="string">0 red</Array></Cluster>
  <Cluster id="G"><Array type="string">0 green</Array></Cluster>
  <Cluster id="B"><Array type="string">0 blue</Array></Cluster>"""
    m = portmodel.load(doc("<squaredEuclidean/>", fields, clusters, dd=CATEGORICAL_DD))
    out = m.predict({"x": 0.0, "colour": "blue"})
    # table(blue, .) = 4, 2, 0, squared
    assert [out["toA"], out["toC"]] == [None, None]
    assert out["cluster"] == "B" and out["next"] == pytest.approx(4.0)
    assert out["second"] == "G"


BINARY_DD = "".join(f'\n  <DataField name="b{i}" optype="continuous" dataType="double"/>'
                    for i in range(4))
BINARY_FIELDS = "".join(f'\n  <ClusteringField field="b{i}"/>' for i in range(4))
BINARY_CLUSTERS = """
  <Cluster id="A"><Array type="int">1 1 0 1</Array></Cluster>
  <Cluster id="C"><Array type="int">0 0 0 0</Array></Cluster>"""


@pytest.mark.parametrize("measure,to_a,to_c", [
    # x = 1 0 1 1 vs A = 1 1 0 1: a11=2 a10=1 a01=1 a00=0; vs C = 0 0 0 0: a10=3 a00=1
    ("<simpleMatching/>", 2 / 4, 1 / 4),
    ("<jaccard/>", 2 / 4, 0 / 3),
    ("<tanimoto/>", 2 / (2 + 2 * 2 + 0), 1 / (0 + 2 * 3 + 1)),
    ('<binarySimilarity c00-parameter="1" c01-parameter="0" c10-parameter="0" c11-parameter="2" '
     'd00-parameter="1" d01-parameter="1" d10-parameter="1" d11-parameter="1"/>',
     (2 * 2 + 0) / 4, (1 * 1) / 4),
])
def test_binary_similarities(measure, to_a, to_c):
    m = portmodel.load(doc(measure, BINARY_FIELDS, BINARY_CLUSTERS, kind="similarity",
                           dd=BINARY_DD))
    out = m.predict({"b0": 1, "b1": 0, "b2": 1, "b3": 1})
    assert out["toA"] == pytest.approx(to_a) and out["toC"] == pytest.approx(to_c)
    assert out["cluster"] == ("A" if to_a >= to_c else "C")


def test_binary_similarity_rejects_non_binary_values():
    m = portmodel.load(doc("<jaccard/>", BINARY_FIELDS, BINARY_CLUSTERS, kind="similarity",
                           dd=BINARY_DD))
    out = m.predict([{"b0": 1, "b1": 0, "b2": 2, "b3": 1}, {"b0": 1, "b1": 1, "b2": 0, "b3": 1}],
                    errors="mark")
    assert out[0]["cluster"] is None and "binary" in out[0]["error"]
    assert out[1]["cluster"] == "A" and out[1]["toA"] == pytest.approx(1.0)


def test_batch_equals_single_records():
    m = portmodel.load(doc("<euclidean/>"))
    rng = np.random.default_rng(3)
    X = {"x": rng.normal(2, 2, 50), "y": rng.normal(1, 2, 50)}
    batch = m.predict(X)
    for i in range(0, 50, 7):
        one = m.predict({"x": float(X["x"][i]), "y": float(X["y"][i])})
        assert one["cluster"] == batch["cluster"][i]
        assert one["toC"] == pytest.approx(batch["toC"][i], rel=1e-15)


def test_distribution_based_is_unsupported():
    text = doc("<euclidean/>").replace('modelClass="centerBased"', 'modelClass="distributionBased"')
    with pytest.raises(UnsupportedError):
        portmodel.load(text)


def test_center_size_must_match_fields():
    clusters = '<Cluster><Array type="real">1 2 3</Array></Cluster>'
    with pytest.raises(DocumentError):
        portmodel.load(doc("<euclidean/>", clusters=clusters))


# ---------------------------------------------------------------------- oracles

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")


@pytest.fixture(scope="module")
def kmeans(tmp_path_factory):
    pytest.importorskip("sklearn2pmml")
    from sklearn.cluster import KMeans
    from sklearn.datasets import load_wine
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    X, _ = load_wine(return_X_y=True, as_frame=True)
    X.columns = [c.replace("/", "_") for c in X.columns]
    pipe = PMMLPipeline([("kmeans", KMeans(n_clusters=4, n_init=3, random_state=1))]).fit(X)
    path = tmp_path_factory.mktemp("kmeans") / "kmeans.pmml"
    sklearn2pmml(pipe, str(path))
    return pipe, X, path


@needs_java
@pytest.mark.oracle
def test_kmeans_matches_sklearn(kmeans):
    pipe, X, path = kmeans
    out = portmodel.load(path).predict(X)
    labels = pipe.predict(X)
    assert (out["cluster"].astype(int).to_numpy() == labels).all()
    sq = pipe.steps[-1][1].transform(X) ** 2
    for j in range(sq.shape[1]):
        np.testing.assert_allclose(out[f"affinity({j})"].to_numpy(float), sq[:, j], rtol=1e-9)


@needs_java
@pytest.mark.oracle
@pytest.mark.parametrize("measure,kind,fields", [
    ("<euclidean/>", "distance", None),
    ('<minkowski p-parameter="1.5"/>', "distance",
     '<ClusteringField field="x" fieldWeight="0.3"/><ClusteringField field="y"/>'),
    ("<chebychev/>", "distance", None),
])
def test_distances_match_reference_engine(measure, kind, fields):
    text = doc(measure, fields, kind=kind)
    rng = np.random.default_rng(7)
    import pandas as pd
    X = pd.DataFrame({"x": rng.normal(2, 2, 40), "y": rng.normal(1, 2, 40)})
    X.loc[3, "x"] = np.nan
    ref = jpmml_frame(text, X)
    out = portmodel.load(text).predict(X)
    for c in ("toA", "to2", "toC", "best"):
        np.testing.assert_allclose(out[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-12)
    assert (out["cluster"].astype(str) == ref["cluster"].astype(str)).all()
    assert (out["second"].astype(str) == ref["second"].astype(str)).all()


@pytest.mark.parametrize("missing", [False, True])
def test_output_columns_share_nothing(missing):
    """Affinities are handed out as rows of the call's own distances: each output column is
    still the frame's own, also when two outputs ask for the same cluster's affinity."""
    import pandas as pd
    outputs = OUTPUTS.replace("</Output>", '<OutputField name="toA2" feature="affinity" '
                              'value="A"/><OutputField name="id2" feature="entityId"/>'
                              '</Output>')
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=50) * 3, "y": rng.normal(size=50) * 3})
    if missing:
        frame.loc[[3, 7], ["x", "y"]] = np.nan
    model = portmodel.load(doc("<squaredEuclidean/>", outputs=outputs))
    got = model.predict(frame)
    want = model.predict(frame)
    xy = frame.to_numpy()
    to_a = xy[:, 0] ** 2 + xy[:, 1] ** 2          # the squared distance to A (0, 0)
    np.testing.assert_array_equal(got["toA"].to_numpy(), to_a)
    np.testing.assert_array_equal(got["toA2"].to_numpy(), to_a)
    for name in got.columns:
        arr = got[name].to_numpy()
        for other in got.columns:
            if other != name:
                assert not np.shares_memory(arr, got[other].to_numpy()), (name, other)
    for name in got.columns:                # writing one column changes no other
        one = model.predict(frame)
        one.loc[0, name] = "w" if one[name].dtype == object else -1.0
        pd.testing.assert_frame_equal(one.drop(columns=name), want.drop(columns=name))
