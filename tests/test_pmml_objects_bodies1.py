"""Typed model bodies (portmodel.pmml.objects): GeneralRegressionModel, NaiveBayesModel,
SupportVectorMachineModel, ClusteringModel and NearestNeighborModel documents of the
conformance corpus read into typed body parts (no fragment left), the parts know the fields
they name, and a bad attribute of a body part is a DocumentError naming the element, the
attribute and the line, at read and at load."""
from __future__ import annotations

import re

import pytest

import portmodel
from portmodel.errors import DocumentError
from portmodel.pmml import objects
from portmodel.pmml.objects import Fragment

from conformance_util import SHARED
from objects_util import NS, assert_bad_attribute, assert_typed, documents, mutate


# ------------------------------------------------------------------ GeneralRegressionModel

@pytest.mark.parametrize("path", documents("GeneralRegressionModel"), ids=lambda p: p.name)
def test_general_regression_body_is_typed(path):
    for m in assert_typed(path, "GeneralRegressionModel"):
        pl, = m.body(objects.general_regression.ParameterList)
        pm, = m.body(objects.general_regression.ParamMatrix)
        pp, = m.body(objects.general_regression.PPMatrix)
        names = {p.name for p in pl.parameters}
        assert {c.parameter_name for c in pm.cells} <= names
        assert {c.parameter_name for c in pp.cells} <= names
        assert all(isinstance(c.beta, float) for c in pm.cells)
        listed = {p.name for part in m.body(objects.general_regression.FactorList)
                  + m.body(objects.general_regression.CovariateList) for p in part.predictors}
        assert set(pp.fields()) <= listed


def test_general_regression_contrast_matrix_and_cox_tables_are_typed():
    cox = objects.read(SHARED / "pmml" / "rattle" / "pmml" / "CoxRegressionLung.pmml").model
    tables, = cox.body(objects.general_regression.BaseCumHazardTables)
    cells = tables.cells or tables.strata[0].cells
    assert cells and all(isinstance(c.time, float) and isinstance(c.cum_hazard, float)
                         for c in cells)
    doc = f'''<PMML xmlns="{NS}" version="4.4"><Header/><DataDictionary>
<DataField name="g" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/>
</DataField><DataField name="y" optype="continuous" dataType="double"/></DataDictionary>
<GeneralRegressionModel modelType="generalLinear" functionName="regression">
<MiningSchema><MiningField name="g"/><MiningField name="y" usageType="predicted"/>
</MiningSchema><ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
<FactorList><Predictor name="g"><Categories><Category value="a"/><Category value="b"/>
</Categories><Matrix><Array n="1" type="real">-1</Array><Array n="1" type="real">1</Array>
</Matrix></Predictor></FactorList>
<PPMatrix><PPCell value="a" predictorName="g" parameterName="p1"/></PPMatrix>
<ParamMatrix><PCell parameterName="p0" beta="10"/><PCell parameterName="p1" beta="2"/>
</ParamMatrix></GeneralRegressionModel></PMML>'''
    model = objects.read(doc).model
    fl, = model.body(objects.general_regression.FactorList)
    p, = fl.predictors
    assert [c.value for c in p.categories.categories] == ["a", "b"]
    assert p.matrix.to_array().tolist() == [[-1.0], [1.0]]
    assert fl.fields() == ("g",)
    import pandas as pd
    got = portmodel.load(doc.encode()).predict(pd.DataFrame({"g": ["a", "b"]}))
    assert got["y"].tolist() == [8.0, 12.0]          # 10 + 2 * M[row of g, column of "a"]


def test_general_regression_model_attribute_and_unknown_predictor_name_element_and_line():
    path = SHARED / "pmml" / "rattle" / "pmml" / "GeneralRegressionAuto.pmml"
    text = path.read_text().replace("<GeneralRegressionModel ",
                                    '<GeneralRegressionModel offsetValue="abc" ', 1)
    with pytest.raises(DocumentError) as info:
        portmodel.load(text.encode())
    assert info.value.element == "GeneralRegressionModel" and info.value.line
    assert "offsetValue" in str(info.value) and "abc" in str(info.value)
    m = re.search(r'<PPCell [^>]*predictorName="([^"]+)"', text)
    bad = text[:m.start()] + m.group(0).replace(m.group(1), "nosuchfield") + text[m.end():]
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "PPCell"
    assert info.value.line == text[:m.start()].count("\n") + 1


# ------------------------------------------------------------------ NaiveBayesModel

@pytest.mark.parametrize("path", documents("NaiveBayesModel"), ids=lambda p: p.name)
def test_naive_bayes_body_is_typed(path):
    nb = objects.naive_bayes
    for m in assert_typed(path, "NaiveBayesModel"):
        inputs, = m.body(nb.BayesInputs)
        out, = m.body(nb.BayesOutput)
        assert out.counts.counts and all(isinstance(c.count, float) for c in out.counts.counts)
        assert out.fields() == (out.field_name,)
        assert set(inputs.fields()) == {i.field_name for i in inputs.inputs}
        for i in inputs.inputs:
            assert i.pair_counts or i.target_value_stats.stats
            for s in (i.target_value_stats.stats if i.target_value_stats else ()):
                assert isinstance(s.distribution, nb.GaussianDistribution)


def test_naive_bayes_parked_inputs_and_derived_field_are_typed():
    from test_naive_bayes import DOC
    DOC = DOC.replace("{threshold}", "0.001")
    nb = objects.naive_bayes
    inputs, = objects.read(DOC).model.body(nb.BayesInputs)
    by_name = {i.name: i for i in inputs.inputs}
    assert set(by_name) == {"color", "size", "count", "age", "w"}    # w was in an Extension
    assert isinstance(by_name["w"].target_value_stats.stats[0].distribution,
                      nb.UniformDistribution)
    df = by_name["age"].derived_field
    assert isinstance(df.expression, objects.Discretize) and df.fields() == ("age",)
    assert inputs.fields() == ("color", "size", "count", "age", "w")


def test_naive_bayes_derived_field_error_names_its_line():
    """The DerivedField inside a BayesInput compiles with the document's lines."""
    from test_naive_bayes import DOC
    DOC = DOC.replace("{threshold}", "0.001")
    bad = DOC.replace('<Discretize field="age">', '<Discretize field="nosuch">')
    line = bad[:bad.index('<Discretize field="nosuch">')].count("\n") + 1
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "Discretize" and info.value.line == line


def test_naive_bayes_unknown_input_field_names_the_bayes_input():
    path = SHARED / "pmml" / "rattle" / "pmml" / "NaiveBayesIris.pmml"
    text = path.read_text()
    m = re.search(r'<BayesInput fieldName="([^"]+)"', text)
    bad = text[:m.start()] + '<BayesInput fieldName="nosuch"' + text[m.end():]
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "BayesInput"
    assert info.value.line == text[:m.start()].count("\n") + 1


# ------------------------------------------------------------------ SupportVectorMachineModel

@pytest.mark.parametrize("path", documents("SupportVectorMachineModel"), ids=lambda p: p.name)
def test_svm_body_is_typed(path):
    svm = objects.svm
    for m in assert_typed(path, "SupportVectorMachineModel"):
        kernel, = [c for c in m.content if isinstance(c, svm.KERNELS)]
        vd, = m.body(svm.VectorDictionary)
        machines = m.body(svm.SupportVectorMachine)
        assert machines and vd.vector_fields.fields
        assert set(vd.fields()) == {f.field if isinstance(f, objects.FieldRef) else f.name
                                    for f in vd.vector_fields.fields}
        ids = {v.id for v in vd.instances}
        for sm in machines:
            assert all(isinstance(c.value, float) for c in sm.coefficients.coefficients)
            if sm.support_vectors is not None:
                assert {v.vector_id for v in sm.support_vectors.vectors} <= ids
                assert len(sm.support_vectors.vectors) == len(sm.coefficients.coefficients)
        assert all((v.array is None) != (v.sparse is None) for v in vd.instances)


def test_svm_sparse_vectors_are_written_back_as_read():
    from test_svm import doc as svm_doc, machine
    doc = objects.read(svm_doc(machine({"v1": 1.0, "v2": -0.5, "v3": 2.0}, 0.25)))
    vd, = doc.model.body(objects.svm.VectorDictionary)
    sparse = [v.sparse for v in vd.instances if v.sparse is not None]
    assert sparse and sparse[0].indices.text.split() == ["1", "2"]
    assert sparse[1].entries.text == "3" and sparse[1].n == 2
    assert objects.read(objects.write(doc)) == doc


def test_svm_kernel_attribute_and_unknown_vector_id_name_element_and_line():
    path = SHARED / "pmml" / "knime" / "pmml" / "SupportVectorMachineIris.pmml"
    assert_bad_attribute(path, "PolynomialKernelType", "gamma", "wide")
    text = path.read_text()
    m = re.search(r'<SupportVector vectorId="([^"]+)"', text)
    bad = text[:m.start()] + '<SupportVector vectorId="nosuch"' + text[m.end():]
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "SupportVector"
    assert info.value.line == text[:m.start()].count("\n") + 1


# ------------------------------------------------------------------ ClusteringModel

@pytest.mark.parametrize("path", documents("ClusteringModel"), ids=lambda p: p.name)
def test_clustering_body_is_typed(path):
    oc = objects.clustering
    for m in assert_typed(path, "ClusteringModel"):
        cm, = m.body(oc.ComparisonMeasure)
        assert isinstance(cm.measure, oc.MEASURES)
        fields = m.body(oc.ClusteringField)
        clusters = m.body(oc.Cluster)
        assert clusters and all(len(c.array.values()) == len(fields) for c in clusters)
        assert [f.fields() for f in fields] == [(f.field,) for f in fields]


def test_clustering_measure_comparisons_and_weights_are_typed():
    from test_clustering import doc as clustering_doc
    oc = objects.clustering
    text = clustering_doc(measure='<minkowski p-parameter="3"/>')
    model = objects.read(text).model
    cm, = model.body(oc.ComparisonMeasure)
    assert isinstance(cm.measure, oc.Minkowski) and cm.measure.p == 3.0
    assert objects.read(objects.write(objects.read(text))) == objects.read(text)
    bs = ('<binarySimilarity c00-parameter="0" c01-parameter="1" c10-parameter="1" '
          'c11-parameter="0" d00-parameter="1" d01-parameter="1" d10-parameter="1" '
          'd11-parameter="1"/>')
    cm, = objects.read(clustering_doc(measure=bs)).model.body(oc.ComparisonMeasure)
    assert (cm.measure.c01, cm.measure.d11) == (1.0, 1.0)
    with pytest.raises(DocumentError) as info:
        objects.read(clustering_doc(measure=bs.replace(' d11-parameter="1"', "")))
    assert info.value.element == "binarySimilarity" and "d11-parameter" in str(info.value)


def test_clustering_unknown_field_and_bad_center_name_element_and_line():
    path = SHARED / "pmml" / "rattle" / "pmml" / "KMeansIris.pmml"
    text = path.read_text()
    m = re.search(r'<ClusteringField field="([^"]+)"', text)
    bad = text[:m.start()] + '<ClusteringField field="nosuch"' + text[m.end():]
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "ClusteringField"
    assert info.value.line == text[:m.start()].count("\n") + 1
    m = re.search(r'<Array [^>]*>([^<]*)</Array>', text[text.index("<Cluster"):])
    start = text.index("<Cluster") + m.start(1)
    bad = text[:start] + "1 2" + text[start + len(m.group(1)):]
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "Array"
    assert info.value.line == text[:start].count("\n") + 1


# ------------------------------------------------------------------ NearestNeighborModel

def test_nearest_neighbor_body_is_typed():
    from test_nearest_neighbor import doc as knn_doc
    oc = objects.clustering
    text = knn_doc()
    model = objects.read(text).model
    assert not [c for c in model.content if isinstance(c, Fragment)]
    ti, = model.body(oc.TrainingInstances)
    knn, = model.body(oc.KNNInputs)
    cm, = model.body(oc.ComparisonMeasure)
    assert [f.field for f in ti.instance_fields.fields] == ["id", "x", "y", "colour"]
    assert len(ti.table.rows) > 3 and isinstance(cm.measure, oc.Euclidean)
    assert knn.fields() == ("x",) and ti.fields() == ()
    assert objects.read(objects.write(objects.read(text))).model == model


def test_nearest_neighbor_unknown_input_names_the_knn_input():
    from test_nearest_neighbor import doc as knn_doc
    text = knn_doc()
    bad = text.replace('<KNNInput field="x"/>', '<KNNInput field="nosuch"/>')
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "KNNInput"
    assert info.value.line == text[:text.index("<KNNInput ")].count("\n") + 1


# ------------------------------------------------------------------ GaussianProcessModel

ARD = ('<ARDSquaredExponentialKernel gamma="1.5" noiseVariance="0.01">'
       '<Lambda><Array n="2" type="real">0.8 1.2</Array></Lambda>'
       '</ARDSquaredExponentialKernel>')


def test_gaussian_process_body_is_typed():
    from test_gaussian_process import doc as gp_doc
    oc = objects.clustering
    text = gp_doc(ARD)
    model = objects.read(text).model
    assert not [c for c in model.content if isinstance(c, Fragment)]
    kernel, = model.body(oc.ARDSquaredExponentialKernel)
    assert (kernel.gamma, kernel.noise_variance) == (1.5, 0.01)
    assert kernel.lambdas[0].array.values() == ["0.8", "1.2"]
    ti, = model.body(oc.TrainingInstances)
    assert len(ti.table.rows) == 25
    assert objects.read(objects.write(objects.read(text))).model == model
    rbf = objects.read(gp_doc('<RadialBasisKernel gamma="2" noiseVariance="0.1" lambda="0.5"/>'))
    kernel, = rbf.model.body(oc.RadialBasisKernel)
    assert (kernel.gamma, kernel.lambda_) == (2.0, 0.5)


def test_gaussian_process_bad_lambda_names_the_kernel_and_its_line():
    from test_gaussian_process import doc as gp_doc
    text = gp_doc(ARD.replace('n="2" type="real">0.8 1.2', 'n="3" type="real">0.8 1.2 3'))
    with pytest.raises(DocumentError) as info:
        portmodel.load(text.encode())
    assert info.value.element == "ARDSquaredExponentialKernel"
    assert info.value.line == text[:text.index("<ARDSquared")].count("\n") + 1


# ------------------------------------------------------------------ RegressionModel

def test_regression_unknown_predictor_field_names_the_predictor_and_its_line():
    """RegressionModel compiles its typed tables: an error names the predictor's tag and line."""
    text = (SHARED / "pmml" / "rattle" / "pmml" / "RegressionAuto.pmml").read_text()
    for tag in ("NumericPredictor", "CategoricalPredictor"):
        m = re.search(rf'<{tag} name="([^"]+)"', text)
        assert m, tag
        bad = text[:m.start()] + f'<{tag} name="nosuch"' + text[m.end():]
        with pytest.raises(DocumentError) as info:
            portmodel.load(bad.encode())
        assert info.value.element == tag
        assert info.value.line == text[:m.start()].count("\n") + 1


# ------------------------------------------------------------------ NeuralNetwork

def test_neural_network_compile_errors_name_the_part_and_its_line():
    text = (SHARED / "pmml" / "rattle" / "pmml" / "NeuralNetworkIris.pmml").read_text()
    m = re.search(r'<Con from="([^"]+)"', text)
    bad = text[:m.start()] + '<Con from="nosuch"' + text[m.end():]
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "Con"
    assert info.value.line == text[:m.start()].count("\n") + 1
    m = re.search(r'<NeuralOutput outputNeuron="([^"]+)"', text)
    bad = text[:m.start()] + '<NeuralOutput outputNeuron="nosuch"' + text[m.end():]
    with pytest.raises(DocumentError) as info:
        portmodel.load(bad.encode())
    assert info.value.element == "NeuralOutput"
    assert info.value.line == text[:m.start()].count("\n") + 1


def test_neural_layer_leakage_is_kept():
    text = (SHARED / "pmml" / "rattle" / "pmml" / "NeuralNetworkIris.pmml").read_text()
    text = mutate(text, "NeuralLayer", "leakage", "0.25")
    doc = objects.read(text)
    layer = doc.model.body(objects.NeuralLayer)[0]
    assert layer.leakage == 0.25
    assert objects.read(objects.write(doc)).model.body(objects.NeuralLayer)[0].leakage == 0.25
    assert_bad_attribute(SHARED / "pmml" / "rattle" / "pmml" / "NeuralNetworkIris.pmml",
                          "NeuralLayer", "leakage", "leaky")


# ------------------------------------------------------------------ bad attributes, every family

def _family_document(family: str) -> str:
    """The document a family's bad-attribute cases change: a conformance document, or the
    family's own test document where the corpus has none."""
    corpus = {"general_regression": "GeneralRegressionAuto.pmml",
              "naive_bayes": "NaiveBayesIris.pmml", "svm": "LibSVMIris.pmml",
              "clustering": "KMeansIris.pmml"}
    if family in corpus:
        return (SHARED / "pmml" / "rattle" / "pmml" / corpus[family]).read_text()
    if family == "nearest_neighbor":
        from test_nearest_neighbor import doc as knn_doc
        return knn_doc()
    from test_gaussian_process import doc as gp_doc
    return gp_doc(ARD)


#: (family, element, attribute, value): value None removes a required attribute
BAD_ATTRIBUTES = [
    ("general_regression", "PCell", "beta", "abc"),
    ("general_regression", "Parameter", "referencePoint", "x1"),
    ("general_regression", "PPCell", "predictorName", None),
    ("naive_bayes", "TargetValueCount", "count", "many"),
    ("naive_bayes", "GaussianDistribution", "variance", "wide"),
    ("naive_bayes", "GaussianDistribution", "mean", "1,5"),
    ("naive_bayes", "NaiveBayesModel", "threshold", "tiny"),
    ("svm", "Coefficient", "value", "big"),
    ("svm", "Coefficients", "absoluteValue", "1..2"),
    ("svm", "REAL-SparseArray", "n", "four"),
    ("svm", "SupportVectorMachineModel", "threshold", "half"),
    ("svm", "SupportVectorMachineModel", "maxWins", "perhaps"),
    ("clustering", "ClusteringField", "fieldWeight", "heavy"),
    ("clustering", "ClusteringField", "isCenterField", "maybe"),
    ("clustering", "ComparisonMeasure", "kind", "closeness"),
    ("clustering", "Array", "n", "three"),
    ("nearest_neighbor", "KNNInput", "fieldWeight", "w"),
    ("nearest_neighbor", "NearestNeighborModel", "numberOfNeighbors", "three"),
    ("nearest_neighbor", "NearestNeighborModel", "threshold", "small"),
    ("gaussian_process", "ARDSquaredExponentialKernel", "gamma", "big"),
    ("gaussian_process", "ARDSquaredExponentialKernel", "noiseVariance", "1e"),
]


@pytest.mark.parametrize("family,element,attribute,value", BAD_ATTRIBUTES,
                         ids=["-".join(map(str, case)) for case in BAD_ATTRIBUTES])
def test_bad_attribute_names_it(family, element, attribute, value):
    text = _family_document(family)
    if value is None:
        text = re.sub(rf'\s{attribute}="[^"]*"', "", text, count=1)
        with pytest.raises(DocumentError) as info:
            objects.read(text)
        assert info.value.element == element and info.value.line and \
            attribute in str(info.value)
        return
    assert_bad_attribute(text, element, attribute, value)
