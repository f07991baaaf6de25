"""The Python API: portmodel.load from every kind of source, the field descriptors, and
Model.predict on each data shape (DataFrame, list of dicts, one dict, dict of arrays).

The inline document is y = 1 + 2*x + (10 if c == "a", 20 if c == "b"), so expected values are
worked out by hand; the iris sample checks that the shapes agree on a real classifier.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel import UnsupportedError, VerificationError

FIELDS = """
<DataField name="x" optype="continuous" dataType="double">
  <Interval closure="closedOpen" leftMargin="0" rightMargin="100"/>
</DataField>
<DataField name="c" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/>
</DataField>
<DataField name="unused" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/>
"""
MODEL = """
<RegressionModel functionName="regression" modelName="api">
  <MiningSchema>
    <MiningField name="x" missingValueReplacement="0"/>
    <MiningField name="c"/>
    <MiningField name="y" usageType="target"/>
  </MiningSchema>
  <Output>
    <OutputField name="pred" optype="continuous" dataType="double" feature="predictedValue"/>
    <OutputField name="twice" optype="continuous" dataType="double" feature="transformedValue">
      <Apply function="*"><FieldRef field="pred"/><Constant dataType="double">2</Constant></Apply>
    </OutputField>
  </Output>
  <RegressionTable intercept="1">
    <NumericPredictor name="x" coefficient="2"/>
    <CategoricalPredictor name="c" value="a" coefficient="10"/>
    <CategoricalPredictor name="c" value="b" coefficient="20"/>
  </RegressionTable>
VERIFICATION
</RegressionModel>
"""
XS = [1.0, 2.5, 0.0, 40.0]
CS = ["a", "b", "b", "a"]
YS = [13.0, 26.0, 21.0, 91.0]       # 1 + 2x + 10 | 20


@pytest.fixture(scope="module")
def doc(pmml_doc) -> str:
    return pmml_doc(FIELDS, MODEL.replace("VERIFICATION", ""))


@pytest.fixture(scope="module")
def model(doc) -> portmodel.Model:
    return portmodel.load(doc)


# ------------------------------------------------------------------ data shapes

def test_dataframe_keeps_index_and_row_count(model):
    frame = pd.DataFrame({"x": XS, "c": CS}, index=[10, 20, 30, 40])
    out = model.predict(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == [10, 20, 30, 40]
    assert list(out.columns) == model.output_names == ["y", "pred", "twice"]
    assert out["y"].tolist() == YS
    assert out["twice"].tolist() == [2 * y for y in YS]


def test_every_shape_gives_the_same_numbers(model):
    records = [{"x": x, "c": c} for x, c in zip(XS, CS)]
    as_records = model.predict(records)
    assert [r["y"] for r in as_records] == YS
    assert [model.predict(r)["y"] for r in records] == YS
    arrays = model.predict({"x": np.array(XS), "c": np.array(CS, dtype=object)})
    assert isinstance(arrays["y"], np.ndarray) and arrays["y"].tolist() == YS
    lists = model.predict({"x": XS, "c": CS})
    assert lists["twice"].tolist() == [2 * y for y in YS]


def test_one_record_gives_plain_python_values(model):
    out = model.predict({"x": 2.5, "c": "b"})
    assert out == {"y": 26.0, "pred": 26.0, "twice": 52.0}
    assert type(out["y"]) is float


def test_missing_values_in_each_shape(model):
    # x missing -> replaced by 0: 1 + 0 + 10
    assert model.predict({"x": None, "c": "a"})["y"] == 11.0
    assert [r["y"] for r in model.predict([{"x": None, "c": "a"}, {"x": 1.0, "c": "a"}])] == \
        [11.0, 13.0]
    assert model.predict(pd.DataFrame({"x": [np.nan], "c": ["a"]}))["y"][0] == 11.0
    assert model.predict({"x": np.array([np.nan]), "c": ["a"]})["y"][0] == 11.0


def test_extra_input_columns_are_ignored(model):
    frame = pd.DataFrame({"extra": ["q"] * 4, "x": XS, "c": CS, "y": [0.0] * 4,
                          "unused": [1.0] * 4})
    assert model.predict(frame)["y"].tolist() == YS
    assert model.predict({"x": 1.0, "c": "a", "other": object()})["y"] == 13.0


def test_empty_batch(model):
    out = model.predict(pd.DataFrame({"x": pd.Series([], dtype=float),
                                      "c": pd.Series([], dtype=object)}))
    assert len(out) == 0 and list(out.columns) == ["y", "pred", "twice"]


def test_output_reference_to_the_target_field_is_missing_unless_given(pmml_doc):
    """An output expression naming the target DataField reads the input's value of it, which
    is missing when the input has no such column (JPMML-Evaluator does the same)."""
    doc = pmml_doc(FIELDS, MODEL.replace("VERIFICATION", "").replace(
        '<FieldRef field="pred"/>', '<FieldRef field="y"/>'))
    model = portmodel.load(doc)
    assert model.predict({"x": 1.0, "c": "a"})["twice"] is None
    assert model.predict({"x": 1.0, "c": "a", "y": 3.0})["twice"] == 6.0


def test_predict_rejects_unknown_shapes_and_error_modes(model):
    with pytest.raises(TypeError):
        model.predict(42)
    with pytest.raises(ValueError):
        model.predict({"x": 1.0, "c": "a"}, errors="ignore")


def test_iris_shapes_agree(samples_dir):
    model = portmodel.load(samples_dir / "iris_tree.pmml")
    frame = pd.read_csv(samples_dir / "iris.csv").iloc[[0, 60, 120, 149]]
    out = model.predict(frame)
    assert list(out.index) == [0, 60, 120, 149]
    records = model.predict(frame.to_dict("records"))
    arrays = model.predict({k: frame[k].to_numpy() for k in frame.columns})
    for name in model.output_names:
        assert [r[name] for r in records] == out[name].tolist() == arrays[name].tolist()
    for i, (_, row) in enumerate(frame.iterrows()):
        assert model.predict(row.to_dict()) == records[i]


# ------------------------------------------------------------------ descriptors

def test_field_descriptors(model):
    assert [f.name for f in model.inputs] == ["x", "c"]       # only what the model uses
    x, c = model.inputs
    assert (x.data_type, x.op_type, x.values) == ("double", "continuous", None)
    assert [i.contains_text() for i in x.intervals] == ["[0.0, 100.0)"]
    assert x.extra["missing_value_replacement"] == 0.0
    assert (c.data_type, c.op_type, c.values) == ("string", "categorical", ("a", "b"))
    assert [(f.name, f.data_type, f.usage) for f in model.targets] == [("y", "double", "target")]
    assert [(f.name, f.data_type) for f in model.outputs] == [
        ("y", "double"), ("pred", "double"), ("twice", "double")]


def test_describe_is_json(model):
    info = json.loads(json.dumps(model.describe()))
    assert info["format"] == "pmml" and info["version"] == "4.4"
    assert info["model_type"] == "RegressionModel" and info["function"] == "regression"
    assert [f["name"] for f in info["inputs"]] == ["x", "c"]
    assert info["inputs"][1]["values"] == ["a", "b"]


def test_iris_descriptors(samples_dir):
    model = portmodel.load(samples_dir / "iris_tree.pmml")
    assert {f.name for f in model.inputs} <= {"sepal_length", "sepal_width", "petal_length",
                                               "petal_width"}
    assert all(f.data_type == "float" for f in model.inputs)
    assert model.targets[0].name == "species"
    assert model.targets[0].values == ("setosa", "versicolor", "virginica")
    assert model.output_names == ["species", "probability(setosa)", "probability(versicolor)",
                                  "probability(virginica)"]


# ------------------------------------------------------------------ loading

def test_load_from_every_source(doc, tmp_path):
    path = tmp_path / "model.pmml"
    path.write_text(doc, encoding="utf-8")
    sources = [str(path), path, doc, doc.encode("utf-8"), io.BytesIO(doc.encode("utf-8")),
               io.StringIO(doc)]
    for source in sources:
        assert portmodel.load(source).predict({"x": 1.0, "c": "a"})["y"] == 13.0
    with open(path, "rb") as fh:
        assert portmodel.load(fh).predict({"x": 1.0, "c": "b"})["y"] == 23.0


def test_load_missing_file_raises_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        portmodel.load(tmp_path / "absent.pmml")


@pytest.mark.parametrize("version", ["3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "4.3", "4.4"])
def test_every_pmml_namespace_loads(pmml_doc, version):
    model = portmodel.load(pmml_doc(FIELDS, MODEL.replace("VERIFICATION", "").replace(
        "<Output>", "<!--").replace("</Output>", "-->"), version=version))
    assert model.version == version
    assert model.predict({"x": 2.0, "c": "b"})["y"] == 25.0


def test_document_without_namespace_uses_version_attribute(doc):
    plain = doc.replace(' xmlns="http://www.dmg.org/PMML-4_4"', "").replace(
        'version="4.4"', 'version="4.2"')
    model = portmodel.load(plain)
    assert model.version == "4.2" and model.predict({"x": 0.0, "c": "a"})["y"] == 11.0


def test_unscorable_model_is_refused(doc):
    with pytest.raises(UnsupportedError, match="isScorable"):
        portmodel.load(doc.replace('modelName="api"', 'modelName="api" isScorable="false"'))


# ------------------------------------------------------------------ verification

VERIFICATION = """
<ModelVerification recordCount="3">
  <VerificationFields>
    <VerificationField field="x" column="in_x"/>
    <VerificationField field="c" column="in_c"/>
    <VerificationField field="y" column="out_y" precision="1E-9"/>
  </VerificationFields>
  <InlineTable>
    <row><in_x>1</in_x><in_c>a</in_c><out_y>13</out_y></row>
    <row><in_x>2.5</in_x><in_c>b</in_c><out_y>26</out_y></row>
    <row><in_c>a</in_c><out_y>11</out_y></row>
  </InlineTable>
</ModelVerification>
"""


def test_verify_counts_agreeing_records(pmml_doc):
    model = portmodel.load(pmml_doc(FIELDS, MODEL.replace("VERIFICATION", VERIFICATION)))
    assert model.verify() == 3


def test_verify_reports_disagreeing_records(pmml_doc):
    wrong = VERIFICATION.replace("<out_y>26</out_y>", "<out_y>26.5</out_y>")
    model = portmodel.load(pmml_doc(FIELDS, MODEL.replace("VERIFICATION", wrong)))
    with pytest.raises(VerificationError, match="record 1"):
        model.verify()


def test_verify_without_records_checks_nothing(model):
    assert model.verify() == 0


@pytest.mark.parametrize("name", ["iris_tree", "diabetes_linear", "iris_forest"])
def test_samples_pass_their_own_verification(samples_dir, name):
    """The samples carry scikit-learn's predictions for 10 rows (see samples/make_samples.py)."""
    try:
        model = portmodel.load(samples_dir / f"{name}.pmml")
    except UnsupportedError as exc:
        pytest.skip(f"{name}: {exc}")
    assert model.verify() == 10
