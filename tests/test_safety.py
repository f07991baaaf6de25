"""Documents we must refuse, and how: no DTD, no entities, no network, every load error located.

XXE and entity-expansion documents are refused before any parsing with UnsafeDocumentError, in
any encoding; malformed or unsupported documents fail at load with the element and line.
"""
from __future__ import annotations

import socket
import time

import numpy as np
import pytest

import portmodel
from portmodel import DocumentError, UnsafeDocumentError, UnsupportedError
from portmodel.pmml import load_pmml

FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/>
"""
REGRESSION = """
<RegressionModel functionName="regression">
<MiningSchema>
<MiningField name="x"/>
<MiningField name="y" usageType="target"/>
</MiningSchema>
<RegressionTable intercept="1">
<NumericPredictor name="PREDICTOR" coefficient="2"/>
</RegressionTable>
</RegressionModel>
"""


def line_of(doc: str, needle: str) -> int:
    """1-based line of the first occurrence of needle in doc."""
    return doc[: doc.index(needle)].count("\n") + 1


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything opens a socket connection while it runs."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def with_dtd(pmml_doc, dtd: str, header_attr: str = "") -> str:
    """A valid regression document preceded by a DOCTYPE, its Header using header_attr."""
    doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "x"))
    doc = doc.replace('<Header copyright="portmodel tests"/>', f"<Header {header_attr}/>")
    return doc.replace("<PMML ", dtd + "\n<PMML ", 1)


BILLION_LAUGHS = ("<!DOCTYPE PMML [\n<!ENTITY a \"lollollollollollollollollollol\">\n" +
                  "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n'
                          for i in range(9)) + "]>")
XXE = '<!DOCTYPE PMML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
def test_xxe_external_file_entity_is_refused(pmml_doc, no_network, encoding):
    doc = with_dtd(pmml_doc, XXE, 'description="&xxe;"')
    doc = doc.replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
    with pytest.raises(UnsafeDocumentError) as info:
        portmodel.load(doc.encode(encoding))
    assert "root:" not in str(info.value)
    assert info.value.line == 2  # the DOCTYPE, after the XML declaration


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_billion_laughs_is_refused_quickly(pmml_doc, encoding):
    doc = with_dtd(pmml_doc, BILLION_LAUGHS, 'description="&j;"')
    doc = doc.replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
    start = time.perf_counter()
    with pytest.raises(UnsafeDocumentError):
        load_pmml(doc.encode(encoding))
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("dtd", [
    '<!DOCTYPE PMML SYSTEM "http://192.0.2.1/pmml.dtd">',
    '<!DOCTYPE PMML [<!ENTITY % remote SYSTEM "http://192.0.2.1/evil.dtd"> %remote;]>',
    '<!doctype PMML [<!entity local "text">]>',
])
def test_external_dtd_and_parameter_entities_are_refused_without_network(pmml_doc, no_network,
                                                                         dtd):
    with pytest.raises(UnsafeDocumentError):
        portmodel.load(with_dtd(pmml_doc, dtd))


def test_schema_location_is_never_fetched(pmml_doc, no_network):
    doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "x")).replace(
        'version="4.4">',
        'version="4.4" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.dmg.org/PMML-4_4 http://192.0.2.1/pmml-4-4.xsd">')
    assert portmodel.load(doc).predict({"x": 3.0})["y"] == 7.0


def test_byte_order_marked_utf8_document_loads(pmml_doc):
    doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "x"))
    assert portmodel.load(b"\xef\xbb\xbf" + doc.encode()).predict({"x": 1.0})["y"] == 3.0


def test_malformed_xml_names_the_line(pmml_doc):
    doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "x")).replace("</MiningSchema>\n", "")
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc)
    assert not isinstance(info.value, UnsupportedError)
    # libxml2 reports the mismatch where the enclosing element closes
    expected = line_of(doc, "</RegressionModel>")
    assert info.value.line == expected
    assert f"line {expected}" in str(info.value)


def test_excessive_nesting_is_refused(pmml_doc):
    depth = 2000
    tree = ('<TreeModel functionName="regression"><MiningSchema><MiningField name="x"/>'
            '</MiningSchema>' + '<Node score="1"><True/>' * depth + "</Node>" * depth +
            "</TreeModel>")
    with pytest.raises(DocumentError, match="depth"):
        portmodel.load(pmml_doc(FIELDS, tree))


def test_root_must_be_pmml():
    with pytest.raises(DocumentError, match="not <PMML>") as info:
        portmodel.load("<?xml version='1.0'?>\n<Model/>")
    assert info.value.line == 2


@pytest.mark.parametrize("change, message", [
    (('version="4.4"', 'version="5.0"', "PMML-4_4", "PMML-5_0"), "version"),
    (("http://www.dmg.org/PMML-4_4", "http://example.com/not-pmml"), "namespace"),
])
def test_unknown_version_or_namespace_is_unsupported(pmml_doc, change, message):
    doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "x"))
    for old, new in zip(change[::2], change[1::2]):
        doc = doc.replace(old, new)
    with pytest.raises(UnsupportedError, match=message) as info:
        portmodel.load(doc)
    assert info.value.line == line_of(doc, "<PMML")


def test_unsupported_model_element_names_element_and_line(pmml_doc):
    model = """
<SequenceModel ATTRS>
<MiningSchema><MiningField name="x"/></MiningSchema>
</SequenceModel>""".replace("ATTRS", 'functionName="sequences" numberOfTransactions="1" '
                            'numberOfItems="1" numberOfSets="1" numberOfSequences="1" '
                            'minimumSupport="0.1" minimumConfidence="0.1"')
    doc = pmml_doc(FIELDS, model)
    with pytest.raises(UnsupportedError) as info:
        portmodel.load(doc)
    assert info.value.element == "SequenceModel"
    assert info.value.line == line_of(doc, "<SequenceModel")
    assert "SequenceModel" in str(info.value) and f"line {info.value.line}" in str(info.value)


@pytest.mark.parametrize("expression, element", [
    ('<Aggregate field="x" function="sum"/>', "Aggregate"),
    ('<Apply function="no-such-function"><FieldRef field="x"/></Apply>', "Apply"),
])
def test_unsupported_expression_names_element_and_line(pmml_doc, expression, element):
    derived = ('<DerivedField name="d" optype="continuous" dataType="double">\n'
               f"{expression}\n</DerivedField>")
    doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "d"), transformations=derived)
    with pytest.raises(UnsupportedError) as info:
        portmodel.load(doc)
    assert info.value.element == element
    assert info.value.line == line_of(doc, expression)
    assert f"line {info.value.line}" in str(info.value)


@pytest.mark.parametrize("where", ["predictor", "field_ref", "predicate", "mining_field"])
def test_unknown_field_reference_fails_at_load_with_line(pmml_doc, where):
    transformations = ""
    if where == "predictor":
        doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "nope"))
        needle, element = '<NumericPredictor name="nope"', "NumericPredictor"
    elif where == "field_ref":
        transformations = ('<DerivedField name="d" optype="continuous" dataType="double">\n'
                           '<FieldRef field="nope"/>\n</DerivedField>')
        doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "d"),
                       transformations=transformations)
        needle, element = '<FieldRef field="nope"/>', "FieldRef"
    elif where == "predicate":
        tree = """
<TreeModel functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<Node score="0"><True/>
<Node score="1">
<SimplePredicate field="nope" operator="lessThan" value="1"/>
</Node>
</Node>
</TreeModel>"""
        doc = pmml_doc(FIELDS, tree)
        needle, element = '<SimplePredicate field="nope"', "SimplePredicate"
    else:
        doc = pmml_doc(FIELDS, REGRESSION.replace("PREDICTOR", "x").replace(
            '<MiningField name="x"/>', '<MiningField name="x"/>\n<MiningField name="nope"/>'))
        needle, element = '<MiningField name="nope"/>', "MiningField"
        # nothing uses it: loaded with a warning by default (producers write such), refused
        # with strict=True (tests/test_exchange.py covers the default)
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc, strict=where == "mining_field")
    assert "nope" in str(info.value)
    assert info.value.element == element
    assert info.value.line == line_of(doc, needle)
    assert f"line {info.value.line}" in str(info.value)


def test_errors_are_one_family():
    """Load-time and score-time failures are told apart by class, under one base."""
    assert issubclass(UnsafeDocumentError, DocumentError)
    assert issubclass(UnsupportedError, DocumentError)
    assert not issubclass(DocumentError, portmodel.ScoringError)
    assert issubclass(portmodel.MissingFieldError, portmodel.ScoringError)
    assert issubclass(portmodel.ValueParseError, portmodel.InvalidValueError)


# ------------------------------------------------------------------ attribute values and sizes

TREE = """
<TreeModel functionName="regression" missingValuePenalty="PENALTY">
<MiningSchema><MiningField name="x" lowValue="LOW" outliers="asExtremeValues" highValue="9"/>
<MiningField name="y" usageType="target"/></MiningSchema>
<Node score="0" recordCount="COUNT"><True/>
<Node score="1"><SimplePredicate field="x" operator="lessThan" value="0"/></Node>
<Node score="2"><True/></Node>
</Node>
</TreeModel>
"""
SVM = """
<SupportVectorMachineModel functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<LinearKernelType/>
<VectorDictionary numberOfVectors="1">
<VectorFields numberOfFields="1"><FieldRef field="x"/></VectorFields>
<VectorInstance id="v1">SPARSE</VectorInstance>
</VectorDictionary>
<SupportVectorMachine>
<SupportVectors numberOfAttributes="1" numberOfSupportVectors="1"><SupportVector vectorId="v1"/>
</SupportVectors>
<Coefficients absoluteValue="0"><Coefficient value="COEF"/></Coefficients>
</SupportVectorMachine>
</SupportVectorMachineModel>
"""
STRING_FIELD = '<DataField name="s" optype="categorical" dataType="string"/>'
DENSE = '<Array type="real" n="1">2</Array>'
GENERAL = """
<GeneralRegressionModel modelType="generalLinear" functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="s"/>
<MiningField name="y" usageType="target"/></MiningSchema>
<ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
<FactorList><Predictor name="s"><Categories><Category value="a"/><Category value="b"/>
</Categories>MATRIX</Predictor></FactorList>
<CovariateList><Predictor name="x"/></CovariateList>
<PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/></PPMatrix>
<ParamMatrix><PCell parameterName="p0" beta="1"/><PCell parameterName="p1" beta="2"/></ParamMatrix>
</GeneralRegressionModel>
"""


def _tree(penalty="1", low="-9", count="5"):
    return TREE.replace("PENALTY", penalty).replace("LOW", low).replace("COUNT", count)


@pytest.mark.parametrize("model, needle, element, attribute", [
    (REGRESSION.replace('coefficient="2"', 'coefficient="abc"').replace("PREDICTOR", "x"),
     'coefficient="abc"', "NumericPredictor", "coefficient"),
    (REGRESSION.replace('intercept="1"', 'intercept="1,5"').replace("PREDICTOR", "x"),
     'intercept="1,5"', "RegressionTable", "intercept"),
    (_tree(count="many"), 'recordCount="many"', "Node", "recordCount"),
    (_tree(low="low"), 'lowValue="low"', "MiningField", "lowValue"),
    (_tree(penalty="abc"), 'missingValuePenalty="abc"', "TreeModel", "missingValuePenalty"),
    (SVM.replace("SPARSE", DENSE).replace("COEF", "1_000"), 'value="1_000"', "Coefficient",
     "value"),
    (REGRESSION.replace("PREDICTOR", "x").replace("<RegressionModel ",
                                                  '<RegressionModel modelName="m" ').replace(
        "<RegressionTable", '<Output><OutputField name="o" rank="first"/></Output>'
        "<RegressionTable"), 'rank="first"', "OutputField", "rank"),
])
def test_bad_attribute_value_names_element_attribute_and_line(pmml_doc, model, needle, element,
                                                              attribute):
    doc = pmml_doc(FIELDS, model)
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc)
    assert info.value.element == element
    assert info.value.line == line_of(doc, needle)
    assert attribute in str(info.value)


def test_bad_interval_margin_is_a_document_error(pmml_doc):
    fields = FIELDS.replace('dataType="double"/>', 'dataType="double">'
                            '<Interval closure="closedClosed" leftMargin="zero"/></DataField>', 1)
    doc = pmml_doc(fields, REGRESSION.replace("PREDICTOR", "x"))
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc)
    assert info.value.element == "Interval" and "leftMargin" in str(info.value)
    assert info.value.line == line_of(doc, 'leftMargin="zero"')


def test_bogus_data_types_are_refused_at_load(pmml_doc):
    model = REGRESSION.replace("PREDICTOR", "x").replace(
        "<RegressionTable", '<Output><OutputField name="o" feature="predictedValue" '
        'dataType="bogus"/></Output><RegressionTable')
    doc = pmml_doc(FIELDS, model)
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc)
    assert info.value.element == "OutputField" and "dataType" in str(info.value)
    assert info.value.line == line_of(doc, 'dataType="bogus"')


def test_sparse_array_size_is_checked_before_allocating(pmml_doc):
    sparse = ('<REAL-SparseArray n="3000000000"><Indices>1</Indices>'
              '<REAL-Entries>2</REAL-Entries></REAL-SparseArray>')
    doc = pmml_doc(FIELDS, SVM.replace("SPARSE", sparse).replace("COEF", "1"))
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc)
    assert info.value.element == "REAL-SparseArray" and "n=3000000000" in str(info.value)
    assert info.value.line == line_of(doc, "<REAL-SparseArray")
    # the same vector with its true size scores: y = 1 * (2 * x) + 0
    fine = pmml_doc(FIELDS, SVM.replace("SPARSE", sparse.replace("3000000000", "1"))
                    .replace("COEF", "1"))
    assert portmodel.load(fine).predict({"x": 3.0})["y"] == 6.0


@pytest.mark.parametrize("matrix, attribute", [
    ('<Matrix nbRows="200000" nbCols="200000"><MatCell row="1" col="1">1</MatCell></Matrix>',
     "nbRows x nbCols"),
    ('<Matrix kind="diagonal"><Array type="real">' + " ".join(["1"] * 60000) +
     '</Array></Matrix>', "diagonal"),
    ('<Matrix nbRows="-2" nbCols="2"><MatCell row="1" col="1">1</MatCell></Matrix>', "nbRows"),
    ('<Matrix nbRows="2" nbCols="2"><MatCell row="3" col="1">1</MatCell></Matrix>', "row=3"),
    ('<Matrix nbRows="2" nbCols="2"><MatCell row="0" col="1">1</MatCell></Matrix>', "row"),
    ('<Matrix nbRows="2" nbCols="2"><MatCell row="1" col="1">one</MatCell></Matrix>', "one"),
])
def test_matrix_sizes_are_checked_against_content_and_cap(pmml_doc, matrix, attribute):
    doc = pmml_doc(FIELDS + STRING_FIELD, GENERAL.replace("MATRIX", matrix))
    start = time.perf_counter()
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc)
    assert attribute in str(info.value)
    assert info.value.line is not None and info.value.element in ("Matrix", "MatCell")
    assert time.perf_counter() - start < 5


def test_allocation_cap_is_configurable(pmml_doc, monkeypatch):
    from portmodel.pmml import limits
    matrix = '<Matrix nbRows="20" nbCols="20"><MatCell row="1" col="1">1</MatCell></Matrix>'
    doc = pmml_doc(FIELDS + STRING_FIELD, GENERAL.replace("MATRIX", matrix))
    portmodel.load(doc)
    monkeypatch.setattr(limits, "MAX_ALLOCATION", 100)
    with pytest.raises(DocumentError, match="MAX_ALLOCATION"):
        portmodel.load(doc)


def test_numeric_predictor_on_a_text_field_is_a_row_error(pmml_doc):
    fields = FIELDS + '<DataField name="s" optype="categorical" dataType="string"/>'
    doc = pmml_doc(fields, REGRESSION.replace("PREDICTOR", "s").replace(
        '<MiningField name="x"/>', '<MiningField name="s"/>'))
    model = portmodel.load(doc)
    with pytest.raises(portmodel.EvaluationError) as info:
        model.predict({"s": "a"})
    assert info.value.field == "s" and info.value.row == 0
    # text that is a number is the number (as the field's values would convert)
    out = model.predict([{"s": "2.5"}, {"s": "b"}], errors="mark")
    assert out[0] == {"y": 6.0, "error": None}
    assert out[1]["y"] is None and "'b' is not a number" in out[1]["error"]


def test_model_without_output_columns_marks_errors(pmml_doc):
    model = REGRESSION.replace("PREDICTOR", "x").replace(
        '<MiningField name="y" usageType="target"/>', "").replace(
        "<RegressionTable", "<Output/><RegressionTable")
    m = portmodel.load(pmml_doc(FIELDS, model))
    assert m.predict([{"x": 1.0}, {"x": "abc"}], errors="mark") == [
        {"error": None}, {"error": "row 1, field 'x': cannot parse 'abc' as double"}]
    assert m.predict({"x": 1.0}, errors="mark") == {"error": None}


def test_two_regression_tables_score_alike_on_every_path(pmml_doc):
    """A regression model scores its first RegressionTable (the column plan's choice), for
    one record as for many."""
    model = REGRESSION.replace("PREDICTOR", "x").replace(
        "</RegressionModel>", '<RegressionTable intercept="100"/></RegressionModel>')
    m = portmodel.load(pmml_doc(FIELDS, model))
    assert m.predict({"x": 2.0}) == {"y": 5.0}
    assert m.predict([{"x": 2.0}]) == [{"y": 5.0}]
    assert m.predict({"x": np.array([2.0])})["y"].tolist() == [5.0]
