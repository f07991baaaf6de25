"""AnomalyDetectionModel: scikit-learn IsolationForest and OneClassSVM written out as
AnomalyDetectionModel documents (by a small converter here, from the fitted estimators' own
arrays) checked against score_samples / decision_function / predict; hand-computed scores for
iforest and clusterMeanDist documents; pypmml and the sklearn2pmml export as oracles."""
from __future__ import annotations

import copy
import math
import shutil

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError

NS = "http://www.dmg.org/PMML-4_4"
EULER = 0.5772156649015329


def c(n: float) -> float:
    """Average path length of an unsuccessful BST search (Liu et al., isolation forest)."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1) + EULER) - 2.0 * (n - 1) / n


def _fields(names, dtype="double"):
    return "".join(f'<DataField name="{f}" optype="continuous" dataType="{dtype}"/>' for f in names)


def _schema(names):
    return "<MiningSchema>" + "".join(f'<MiningField name="{f}"/>' for f in names) + "</MiningSchema>"


SCORE_OUTPUT = """<Output>
  <OutputField name="anomalyScore" optype="continuous" dataType="double" feature="predictedValue"/>
  <OutputField name="decision" optype="continuous" dataType="double" feature="transformedValue">
    <Apply function="-"><Constant dataType="double">0.5</Constant><FieldRef field="anomalyScore"/></Apply>
  </OutputField>
  <OutputField name="outlier" optype="categorical" dataType="boolean" feature="decision">
    <Apply function="lessThan"><FieldRef field="decision"/><Constant dataType="double">0</Constant></Apply>
  </OutputField>
</Output>"""


def iforest_document(model, names) -> str:
    segments = []
    for i, (tree, feats) in enumerate(zip(model.estimators_, model.estimators_features_)):
        nodes = _nodes(tree, feats, names)
        segments.append(f'<Segment id="{i + 1}"><True/><TreeModel functionName="regression">'
                        f'{_schema(names)}{nodes}</TreeModel></Segment>')
    return f"""<PMML xmlns="{NS}" version="4.4"><Header/>
<DataDictionary>{_fields(names)}</DataDictionary>
<AnomalyDetectionModel functionName="regression" algorithmType="iforest" sampleDataSize="{model.max_samples_}">
{_schema(names)}{SCORE_OUTPUT}
<MiningModel functionName="regression">{_schema(names)}
<Segmentation multipleModelMethod="average">{''.join(segments)}</Segmentation></MiningModel>
</AnomalyDetectionModel></PMML>"""


def _nodes(tree, feats, names) -> str:
    """Nodes of one tree: each node is <Node [score]> predicate children </Node>."""
    t = tree.tree_

    def node(i: int, depth: int, pred: str) -> str:
        left, right = t.children_left[i], t.children_right[i]
        if left == -1:
            return f'<Node score="{float(depth + c(t.n_node_samples[i]))!r}">{pred}</Node>'
        f = names[feats[t.feature[i]]]
        thr = repr(float(t.threshold[i]))
        return (f"<Node>{pred}"
                + node(left, depth + 1, f'<SimplePredicate field="{f}" operator="lessOrEqual" value="{thr}"/>')
                + node(right, depth + 1, f'<SimplePredicate field="{f}" operator="greaterThan" value="{thr}"/>')
                + "</Node>")
    return node(0, 0, "<True/>")


@pytest.fixture(scope="module")
def forest():
    from sklearn.ensemble import IsolationForest
    rng = np.random.RandomState(3)
    names = ["a", "b", "c"]
    # float32-exact inputs: sklearn compares float32 copies of X with its thresholds
    X = pd.DataFrame(rng.randn(300, 3).astype(np.float32).astype(float), columns=names)
    X.iloc[:10] += 4.0
    model = IsolationForest(n_estimators=12, max_samples=64, random_state=0).fit(X)
    T = pd.DataFrame(np.vstack([rng.randn(60, 3) * 2.0, X.values[:20]]).astype(np.float32)
                     .astype(float), columns=names)
    return model, names, T


def test_iforest_matches_sklearn(forest):
    model, names, T = forest
    out = portmodel.load(iforest_document(model, names)).predict(T)
    np.testing.assert_allclose(out["anomalyScore"], -model.score_samples(T), rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["decision"], model.decision_function(T), rtol=0, atol=1e-9)
    assert (np.where(out["outlier"].astype(bool), -1, 1) == model.predict(T)).all()


def test_iforest_missing_input_gives_no_score(forest):
    model, names, _ = forest
    out = portmodel.load(iforest_document(model, names)).predict(
        pd.DataFrame({"a": [None, 0.1], "b": [0.2, 0.3], "c": [0.0, 0.0]}))
    # a split on the missing value is unknown: that tree (missingValueStrategy "none",
    # noTrueChildStrategy "returnNullPrediction") predicts nothing, so there is no score
    assert pd.isna(out["anomalyScore"][0]) and not pd.isna(out["anomalyScore"][1])


HAND = f"""<PMML xmlns="{NS}" version="4.4"><Header/>
<DataDictionary>{_fields(["x1", "x2", "score"])}</DataDictionary>
<AnomalyDetectionModel functionName="regression" algorithmType="iforest" sampleDataSize="256">
<MiningSchema><MiningField name="x1"/><MiningField name="x2"/><MiningField name="score" usageType="predicted"/></MiningSchema>
<Output><OutputField name="anomalyScore" optype="continuous" dataType="double" feature="predictedValue"/>
<OutputField name="anomaly" optype="categorical" dataType="boolean" feature="decision">
<Apply function="greaterOrEqual"><FieldRef field="anomalyScore"/><Constant dataType="double">0.6</Constant></Apply>
</OutputField></Output>
<MiningModel functionName="regression">
<MiningSchema><MiningField name="x1"/><MiningField name="x2"/><MiningField name="score" usageType="predicted"/></MiningSchema>
<Segmentation multipleModelMethod="average">TREES</Segmentation></MiningModel>
</AnomalyDetectionModel></PMML>"""
HAND_TREES = [(2.0, 9.5), (4.25, 12.0), (7.0, 3.0)]


def _hand_doc() -> str:
    trees = "".join(f"""<Segment><True/><TreeModel functionName="regression" noTrueChildStrategy="returnLastPrediction">
<MiningSchema><MiningField name="x1"/><MiningField name="x2"/><MiningField name="score" usageType="predicted"/></MiningSchema>
<Node score="1"><True/><Node score="{a}"><SimplePredicate field="x1" operator="lessThan" value="0"/></Node>
<Node score="{b}"><SimplePredicate field="x2" operator="greaterOrEqual" value="0"/></Node></Node></TreeModel></Segment>"""
                    for a, b in HAND_TREES)
    return HAND.replace("TREES", trees)


HAND_ROWS = pd.DataFrame({"x1": [-1.0, 1.0, 1.0], "x2": [1.0, 1.0, -1.0]})


def test_iforest_hand_computed():
    out = portmodel.load(_hand_doc()).predict(HAND_ROWS)
    paths = [np.mean([a for a, _ in HAND_TREES]), np.mean([b for _, b in HAND_TREES]), 1.0]
    expected = [2.0 ** (-p / c(256)) for p in paths]
    np.testing.assert_allclose(out["anomalyScore"], expected, rtol=1e-12)
    assert list(out["anomaly"].astype(bool)) == [e >= 0.6 for e in expected]


@pytest.mark.oracle
def test_iforest_hand_document_against_pypmml(tmp_path):
    pypmml = pytest.importorskip("pypmml")
    path = tmp_path / "iforest.pmml"
    path.write_text(_hand_doc())
    ref = pypmml.Model.fromFile(str(path)).predict(HAND_ROWS)
    ours = portmodel.load(str(path)).predict(HAND_ROWS)
    # pypmml truncates Euler's constant to 0.57721566: agreement to ~1e-9
    np.testing.assert_allclose(ours["anomalyScore"], ref["anomalyScore"], rtol=1e-7)


def test_ocsvm_matches_sklearn():
    from sklearn.svm import OneClassSVM
    rng = np.random.RandomState(1)
    X = rng.randn(120, 2)
    svm = OneClassSVM(gamma=0.4, nu=0.15).fit(X)
    sv = svm.support_vectors_
    vectors = "".join(f'<VectorInstance id="{i}"><Array type="real">{float(v[0])!r} {float(v[1])!r}</Array></VectorInstance>'
                      for i, v in enumerate(sv))
    coefs = "".join(f'<Coefficient value="{float(a)!r}"/>' for a in svm.dual_coef_[0])
    svs = "".join(f'<SupportVector vectorId="{i}"/>' for i in range(len(sv)))
    doc = f"""<PMML xmlns="{NS}" version="4.4"><Header/><DataDictionary>{_fields(["u", "v"])}</DataDictionary>
<AnomalyDetectionModel functionName="regression" algorithmType="ocsvm">{_schema(["u", "v"])}
<Output><OutputField name="score" optype="continuous" dataType="double" feature="predictedValue"/></Output>
<SupportVectorMachineModel functionName="regression">{_schema(["u", "v"])}
<RadialBasisKernelType gamma="0.4"/>
<VectorDictionary><VectorFields><FieldRef field="u"/><FieldRef field="v"/></VectorFields>{vectors}</VectorDictionary>
<SupportVectorMachine><SupportVectors>{svs}</SupportVectors>
<Coefficients absoluteValue="{float(svm.intercept_[0])!r}">{coefs}</Coefficients></SupportVectorMachine>
</SupportVectorMachineModel></AnomalyDetectionModel></PMML>"""
    T = pd.DataFrame(rng.randn(40, 2) * 1.5, columns=["u", "v"])
    out = portmodel.load(doc).predict(T)
    np.testing.assert_allclose(out["score"], svm.decision_function(T.values), rtol=0, atol=1e-9)


CLUSTER = f"""<PMML xmlns="{NS}" version="4.4"><Header/><DataDictionary>{_fields(["x", "y"])}</DataDictionary>
<AnomalyDetectionModel functionName="regression" algorithmType="clusterMeanDist">{_schema(["x", "y"])}
<Output><OutputField name="score" optype="continuous" dataType="double" feature="predictedValue"/></Output>
<ClusteringModel functionName="clustering" modelClass="centerBased" numberOfClusters="2">{_schema(["x", "y"])}
<ComparisonMeasure kind="distance"><euclidean/></ComparisonMeasure>
<ClusteringField field="x"/><ClusteringField field="y"/>
<Cluster id="near"><Array n="2" type="real">0 0</Array></Cluster>
<Cluster id="far"><Array n="2" type="real">10 10</Array></Cluster>
</ClusteringModel>
<MeanClusterDistances><Array n="2" type="real">MEANS</Array></MeanClusterDistances>
</AnomalyDetectionModel></PMML>"""


def test_cluster_mean_distance_hand_computed():
    out = portmodel.load(CLUSTER.replace("MEANS", "2 0.5")).predict(
        pd.DataFrame({"x": [3.0, 9.0], "y": [4.0, 10.0]}))
    # (3, 4) is 5 from "near" (mean distance 2); (9, 10) is 1 from "far" (mean distance 0.5)
    np.testing.assert_allclose(out["score"], [5.0 / 2.0, 1.0 / 0.5], rtol=1e-12)


@pytest.mark.parametrize("change, error", [
    (('sampleDataSize="256"', ""), DocumentError),
    (('algorithmType="iforest"', 'algorithmType="lof"'), UnsupportedError),
    (("</MiningModel>", "</MiningModel><Surprise/>"), UnsupportedError),
])
def test_iforest_load_errors(change, error):
    with pytest.raises(error):
        portmodel.load(_hand_doc().replace(*change))


def test_mean_cluster_distances_must_match_clusters():
    with pytest.raises(DocumentError, match="MeanClusterDistances"):
        portmodel.load(CLUSTER.replace("MEANS", "2 0.5 1"))


@pytest.mark.oracle
@pytest.mark.slow
def test_sklearn2pmml_isolation_forest_export(tmp_path, forest):
    """sklearn2pmml writes an IsolationForest as a MiningModel of path-length trees (not an
    AnomalyDetectionModel): check that document as written, then wrapped in one."""
    if shutil.which("java") is None:
        pytest.skip("sklearn2pmml needs Java to export")
    from lxml import etree
    sk2 = pytest.importorskip("sklearn2pmml")
    from sklearn.ensemble import IsolationForest
    from sklearn2pmml.pipeline import PMMLPipeline
    model, names, T = forest
    X = pd.DataFrame(np.random.RandomState(5).randn(200, 3), columns=names)
    pipe = PMMLPipeline([("m", IsolationForest(n_estimators=8, max_samples=50, random_state=0))])
    pipe.fit(X)
    path = tmp_path / "iforest.pmml"
    sk2.sklearn2pmml(pipe, str(path))
    fitted = pipe.steps[-1][1]
    out = portmodel.load(str(path)).predict(T)
    np.testing.assert_allclose(out["decisionFunction"], fitted.decision_function(T), atol=1e-9)
    assert (out["predict(outlier)"].astype(int) == fitted.predict(T)).all()
    # the same trees inside an AnomalyDetectionModel
    tree = etree.parse(str(path))
    root = tree.getroot()
    mm = root.find(f"{{{NS}}}MiningModel")
    ad = etree.Element(f"{{{NS}}}AnomalyDetectionModel", functionName="regression",
                       algorithmType="iforest", sampleDataSize=str(fitted.max_samples_))
    ad.append(copy.deepcopy(mm.find(f"{{{NS}}}MiningSchema")))
    ad.append(etree.fromstring(SCORE_OUTPUT.replace("<Output>", f'<Output xmlns="{NS}">')))
    root.replace(mm, ad)
    ad.append(mm)
    wrapped = portmodel.load(etree.tostring(root)).predict(T)
    np.testing.assert_allclose(wrapped["anomalyScore"], -fitted.score_samples(T), atol=1e-9)


@pytest.mark.oracle
@pytest.mark.slow
def test_sklearn2pmml_one_class_svm_export(tmp_path):
    """sklearn2pmml writes a OneClassSVM as a SupportVectorMachineModel; as an ocsvm
    AnomalyDetectionModel's embedded model its decision value is the anomaly score."""
    if shutil.which("java") is None:
        pytest.skip("sklearn2pmml needs Java to export")
    from lxml import etree
    sk2 = pytest.importorskip("sklearn2pmml")
    from sklearn.svm import OneClassSVM
    from sklearn2pmml.pipeline import PMMLPipeline
    rng = np.random.RandomState(2)
    X = pd.DataFrame(rng.randn(150, 2), columns=["u", "v"])
    pipe = PMMLPipeline([("m", OneClassSVM(gamma=0.3, nu=0.1))]).fit(X)
    path = tmp_path / "ocsvm.pmml"
    sk2.sklearn2pmml(pipe, str(path))
    svm = pipe.steps[-1][1]
    T = pd.DataFrame(rng.randn(40, 2) * 2.0, columns=["u", "v"])
    root = etree.parse(str(path)).getroot()
    inner = root.find(f"{{{NS}}}SupportVectorMachineModel")
    ad = etree.Element(f"{{{NS}}}AnomalyDetectionModel", functionName="regression",
                       algorithmType="ocsvm")
    ad.append(copy.deepcopy(inner.find(f"{{{NS}}}MiningSchema")))
    ad.append(etree.fromstring(f'<Output xmlns="{NS}"><OutputField name="score" optype="continuous" '
                               'dataType="double" feature="predictedValue"/></Output>'))
    root.replace(inner, ad)
    ad.append(inner)
    out = portmodel.load(etree.tostring(root)).predict(T)
    np.testing.assert_allclose(out["score"], svm.decision_function(T), rtol=0, atol=1e-9)
