"""The PMML object model (portmodel.pmml.objects): read -> write -> read gives an equal object
model for every conformance document, sample and exported document; the written document
(with the OutputField data types PMML 4.4 requires filled in) validates against the PMML 4.4
XSD and scores like the original, and like the corpus's expected outputs; and bad attribute
values are DocumentErrors naming element, attribute and line."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError
from portmodel.pmml import objects
from portmodel.pmml.objects import (Apply, Constant, DerivedField, FieldRef, Fragment,
                                    MapValues, NormContinuous)

from conformance_util import SHARED, cases, compare, load_input
from conftest import SAMPLES
from export_util import assert_schema_valid

CASES = cases()
SAMPLE_DOCS = sorted(SAMPLES.glob("*.pmml"))


def _round_trip(source) -> tuple[objects.Document, objects.Document]:
    first = objects.read(source)
    second = objects.read(objects.write(first))
    return first, second


def _valid_copy(source, model, tmp_path) -> "pathlib.Path":  # noqa: F821
    """The document written back as PMML 4.4 (output types completed), checked by the XSD."""
    doc = objects.with_output_types(objects.read(source), model)
    path = tmp_path / "written.pmml"
    path.write_bytes(objects.write(doc))
    assert_schema_valid(path)
    return path


def _same_scores(a, b) -> None:
    """Equal results (a DataFrame, or a list of records for a list input), NaN equal to NaN."""
    if isinstance(a, list):
        a, b = pd.DataFrame(a), pd.DataFrame(b)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        for x, y in zip(a[col].tolist(), b[col].tolist()):
            if isinstance(x, float) and isinstance(y, float) and math.isnan(x):
                assert math.isnan(y), col
            else:
                assert x == y and type(x) is type(y), (col, x, y)


@pytest.mark.skipif(not CASES, reason="../shared/conformance is absent (fresh clone)")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_conformance_document_round_trips(case, tmp_path):
    source = SHARED / case["document"]
    first, second = _round_trip(source)
    assert first == second
    original = portmodel.load(str(source))
    written = portmodel.load(str(_valid_copy(source, original, tmp_path)))
    data = load_input(case)
    want, got = original.predict(data), written.predict(data)
    _same_scores(want, got)
    assert not compare(case, got)            # and the reference engine's outputs


@pytest.mark.parametrize("path", SAMPLE_DOCS, ids=[p.name for p in SAMPLE_DOCS])
def test_sample_round_trips(path, tmp_path):
    first, second = _round_trip(path)
    assert first == second
    original = portmodel.load(str(path))
    written = portmodel.load(str(_valid_copy(path, original, tmp_path)))
    data = pd.read_csv(SAMPLES / ("iris.csv" if "iris" in path.name else "diabetes.csv"))
    _same_scores(original.predict(data), written.predict(data))


try:
    from test_export_pmml import CASES as EXPORT_CASES, fitted as export_fitted
except ImportError:          # scikit-learn absent: the export extra is not installed
    EXPORT_CASES, export_fitted = [], None
#: one exported document per estimator family (the export suite covers the rest)
EXPORT_SAMPLE = [c for c in EXPORT_CASES if c[3] in ("iris", "diabetes", "mixed")][::3]


@pytest.mark.parametrize("case,kind,name,data", EXPORT_SAMPLE, ids=[c[0] for c in EXPORT_SAMPLE])
def test_exported_document_round_trips(case, kind, name, data, tmp_path):
    est, X, y = export_fitted(kind, name, data)
    path = tmp_path / "exported.pmml"
    portmodel.export(est, path, X, target_name=y.name)
    first, second = _round_trip(path)
    assert first == second
    original = portmodel.load(path)
    written = portmodel.load(_valid_copy(path, original, tmp_path))
    _same_scores(original.predict(X), written.predict(X))
    assert written.verify() == original.verify() > 0     # its ModelVerification records


# ------------------------------------------------------------------ the model itself

DOC = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header copyright="c"><Extension name="who" value="me"><X-Thing a="1"/></Extension>
    <Application name="app" version="2"/></Header>
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double">
      <Interval closure="closedOpen" leftMargin="0" rightMargin="10"/>
      <Value value="-1" property="missing"/></DataField>
    <DataField name="c" optype="categorical" dataType="string" x-note="kept">
      <Value value="a"/><Value value="b"/></DataField>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <TransformationDictionary>
    <DerivedField name="d1" optype="continuous" dataType="double">
      <Apply function="+"><FieldRef field="x"/><NormContinuous field="x">
        <LinearNorm orig="0" norm="0"/><LinearNorm orig="1" norm="2"/></NormContinuous>
      </Apply></DerivedField>
    <DerivedField name="d2" optype="continuous" dataType="double">
      <MapValues outputColumn="out" dataType="double">
        <FieldColumnPair field="c" column="in"/><FieldColumnPair field="d1" column="in2"/>
        <InlineTable><row><in>a</in><in2>1</in2><out>2</out></row></InlineTable>
      </MapValues></DerivedField>
  </TransformationDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="x"/><MiningField name="c"/>
      <MiningField name="y" usageType="target"/></MiningSchema>
    <RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
  </RegressionModel>
</PMML>"""


def test_expressions_know_their_fields_and_lines():
    doc = objects.read(DOC)
    d1, d2 = doc.transformation_dictionary.derived_fields
    assert isinstance(d1.expression, Apply)
    assert d1.fields() == ("x",)
    assert d2.fields() == ("c", "d1")
    assert isinstance(d2.expression, MapValues)
    assert d2.expression.table.as_dicts() == [{"in": "a", "in2": "1", "out": "2"}]
    assert d1.line == 13 and d1.expression.arguments[0].line == 14
    norm = d1.expression.arguments[1]
    assert isinstance(norm, NormContinuous) and [n.norm for n in norm.norms] == [0.0, 2.0]


def test_header_dictionary_and_extensions_are_kept():
    doc = objects.read(DOC)
    assert doc.header.as_dict() == {"copyright": "c", "application": "app 2"}
    assert [f.tag for f in doc.header.extensions] == ["Extension"]
    x, c, _ = doc.data_dictionary.fields
    assert x.intervals[0].right_margin == 10.0 and x.values[0].property == "missing"
    assert c.vendor == (("x-note", "kept"),)
    written = objects.write(doc)
    assert b'<X-Thing a="1"/>' in written and b'x-note="kept"' in written
    again = objects.read(written)
    assert again == doc
    assert again.header.extensions[0] == doc.header.extensions[0]
    assert doc.model.tag == "RegressionModel"
    assert doc.model.mining_schema.names("active") == ("x", "c")
    table, = doc.model.body(objects.RegressionTable)
    assert table.intercept == 1.0 and table.numeric[0].coefficient == 2.0
    assert table.fields() == ("x",)


@pytest.mark.skipif(not CASES, reason="../shared/conformance is absent (fresh clone)")
def test_neural_network_body_is_typed():
    doc = objects.read(SHARED / "pmml" / "rattle" / "pmml" / "NeuralNetworkIris.pmml")
    model = doc.model
    inputs, = model.body(objects.NeuralInputs)
    layers = model.body(objects.NeuralLayer)
    assert len(inputs.inputs) == 4 and inputs.inputs[0].derived_field is not None
    assert layers and all(n.connections for layer in layers for n in layer.neurons)
    ids = {i.id for i in inputs.inputs} | {n.id for layer in layers for n in layer.neurons}
    assert all(c.source in ids for layer in layers for n in layer.neurons
               for c in n.connections)
    assert not [c for c in model.content if isinstance(c, Fragment)]


def test_objects_are_frozen_and_compare_by_value():
    a = FieldRef(field="x", line=3)
    assert a == FieldRef(field="x", line=9)           # lines are not compared
    with pytest.raises(Exception):
        a.field = "y"                                  # frozen
    assert Apply(function="+", arguments=(a, Constant(value="1"))).fields() == ("x",)
    assert DerivedField(name="d").fields() == ()


@pytest.mark.parametrize("element,attribute,value", [
    ("LinearNorm", "norm", "abc"),
    ("DataField", "optype", "sometimes"),
    ("MiningField", "usageType", "maybe"),
    ("Interval", "leftMargin", "1,5"),
])
def test_bad_attribute_is_a_document_error_naming_it(element, attribute, value):
    import re
    doc = re.sub(rf'(<{element}\b[^>]*?\b{attribute}=")[^"]*"', rf'\g<1>{value}"', DOC, count=1)
    assert doc != DOC
    with pytest.raises(DocumentError) as info:
        objects.read(doc)
    assert info.value.element == element and info.value.line
    assert attribute in str(info.value) and value in str(info.value)


def test_missing_required_attribute_is_a_document_error():
    with pytest.raises(DocumentError) as info:
        objects.read(DOC.replace('<FieldRef field="x"/>', "<FieldRef/>"))
    assert info.value.element == "FieldRef" and info.value.line == 14
    assert "field" in str(info.value)


def test_written_document_is_pmml_44_of_an_older_one(tmp_path):
    old = DOC.replace("PMML-4_4", "PMML-4_2").replace('version="4.4"', 'version="4.2"')
    doc = objects.read(old)
    assert doc.source_version == "4.2"
    path = tmp_path / "w.pmml"
    path.write_bytes(objects.write(doc))
    assert_schema_valid(path)
    model = portmodel.load(str(path))
    got = model.predict(pd.DataFrame({"x": [1.0, 3.0], "c": ["a", "b"]}))
    np.testing.assert_allclose(got["y"].to_numpy(float), [3.0, 7.0])


# ------------------------------------------------------------------ mutated real documents

def test_mutated_documents_read_and_write_back_or_fail_cleanly():
    """Attribute values, attributes and elements of real documents mutated (test_fuzz_pmml's
    mutations): reading raises only portmodel's errors, and what reads writes back to an equal
    object model. (test_fuzz_pmml runs load, which reads the object model, on the same.)"""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from portmodel.errors import PortmodelError
    from test_fuzz_pmml import STEP, documents, mutate, parsed

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(index=st.integers(0, 200), steps=st.lists(STEP, min_size=1, max_size=3))
    def check(index, steps):
        index %= len(documents())
        data = mutate(parsed(index), steps)
        try:
            doc = objects.read(data)
        except PortmodelError:
            return
        assert objects.read(objects.write(doc)) == doc

    del hypothesis
    check()


# ------------------------------------------------------------------ Matrix: one reading

MATRICES = [
    # MatCells, one cell absent, no defaults: 0 (as JPMML-Evaluator's whole-matrix reading)
    ('<Matrix nbRows="2" nbCols="2"><MatCell row="1" col="1">1</MatCell>'
     '<MatCell row="2" col="2">4</MatCell><MatCell row="1" col="2">2</MatCell></Matrix>',
     [[1, 2], [0, 4]]),
    # absent cells take diagDefault on the diagonal, offDiagDefault elsewhere
    ('<Matrix nbRows="3" nbCols="3" diagDefault="1" offDiagDefault="0.5">'
     '<MatCell row="1" col="2">7</MatCell></Matrix>',
     [[1, 7, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]]),
    # a diagonal matrix's other cells are offDiagDefault (0 without one)
    ('<Matrix kind="diagonal" offDiagDefault="0.25"><Array type="real">1 2</Array></Matrix>',
     [[1, 0.25], [0.25, 2]]),
    ('<Matrix kind="diagonal"><Array type="real">1 2</Array></Matrix>', [[1, 0], [0, 2]]),
    ('<Matrix kind="symmetric"><Array type="real">1</Array><Array type="real">2 3</Array>'
     '</Matrix>', [[1, 2], [2, 3]]),
    ('<Matrix><Array type="real">1 2</Array><Array type="real">3 4</Array></Matrix>',
     [[1, 2], [3, 4]]),
]


@pytest.mark.parametrize("xml,expected", MATRICES)
def test_general_regression_and_comparison_read_a_matrix_alike(xml, expected):
    """Both used to have their own reader: general regression left an absent MatCell NaN and
    ignored offDiagDefault of a diagonal matrix; the comparison tables did neither."""
    from lxml import etree

    from portmodel.pmml.models.comparison import table_matrix
    from portmodel.pmml.objects.matrix import Matrix
    from portmodel.pmml.objects.read import read_node
    matrix = read_node(Matrix, etree.fromstring(xml))
    np.testing.assert_array_equal(matrix.to_array(), expected)     # (general regression's)
    np.testing.assert_array_equal(table_matrix(matrix, len(expected)), expected)


def test_matrix_reads_and_writes_back():
    from lxml import etree

    from portmodel.pmml.objects.matrix import Matrix
    from portmodel.pmml.objects.read import read_node
    m = read_node(Matrix, etree.fromstring(MATRICES[1][0]))
    assert m.diag_default == 1.0 and m.cells[0].row == 1 and m.cells[0].text == "7"
    with pytest.raises(DocumentError) as info:
        read_node(Matrix, etree.fromstring('<Matrix nbRows="x"/>'))
    assert info.value.element == "Matrix" and "nbRows" in str(info.value)


SEGMENTED = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header/>
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double"/>
    <DataField name="c" optype="categorical" dataType="string"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <MiningModel functionName="regression">
    <MiningSchema><MiningField name="x"/><MiningField name="c"/>
      <MiningField name="y" usageType="target"/></MiningSchema>
    <Segmentation multipleModelMethod="selectFirst">
      <Segment id="1">
        <CompoundPredicate booleanOperator="surrogate">
          <SimplePredicate field="x" operator="lessThan" value="1.5"/>
          <SimpleSetPredicate field="c" booleanOperator="isIn">
            <Array type="string" n="2">"a b" c</Array></SimpleSetPredicate>
          <False/>
        </CompoundPredicate>
        <RegressionModel functionName="regression">
          <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/>
          </MiningSchema>
          <RegressionTable intercept="1"/>
        </RegressionModel>
      </Segment>
      <Segment id="2"><True/>
        <RegressionModel functionName="regression">
          <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/>
          </MiningSchema>
          <RegressionTable intercept="2"/>
        </RegressionModel>
      </Segment>
    </Segmentation>
  </MiningModel>
</PMML>"""


def test_predicates_are_typed_and_know_their_fields():
    doc = objects.read(SEGMENTED)
    first, second = doc.model.segmentation.segments
    pred = first.predicate
    assert isinstance(pred, objects.CompoundPredicate) and pred.boolean_operator == "surrogate"
    simple, in_set, false = pred.predicates
    assert (simple.field, simple.operator, simple.value) == ("x", "lessThan", "1.5")
    assert in_set.array.values() == ["a b", "c"] and in_set.boolean_operator == "isIn"
    assert isinstance(false, objects.FalsePredicate)
    assert isinstance(second.predicate, objects.TruePredicate)
    assert pred.fields() == ("x", "c") and simple.line == 14
    again = objects.read(objects.write(doc))
    assert again == doc
    assert portmodel.load(objects.write(doc)).predict({"x": 1.0, "c": "z"})["y"] == 1.0


def test_bad_predicate_operator_is_a_document_error_naming_it():
    with pytest.raises(DocumentError) as info:
        objects.read(SEGMENTED.replace('operator="lessThan"', 'operator="smallerThan"'))
    assert "operator" in str(info.value) and "14" in str(info.value)
