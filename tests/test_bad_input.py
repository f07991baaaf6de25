"""Bad records: absent fields, invalid and unparsable values, and the MiningField treatments.

One small regression document, y = 1 + 2*x + (10 if c == "a", 20 if c == "b"), with x valid on
[0, 10]; each test varies x's MiningField attributes. Expected values are worked out by hand
from the PMML 4.4 MiningSchema rules (invalid treatment, then outliers on valid values, then
missing value replacement).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel import InvalidValueError, MissingFieldError, ValueParseError

FIELDS = """
<DataField name="x" optype="continuous" dataType="double">
  <Interval closure="closedClosed" leftMargin="0" rightMargin="10"/>
  <Value value="-999" property="missing"/>
</DataField>
<DataField name="c" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/>
</DataField>
<DataField name="y" optype="continuous" dataType="double"/>
"""
MODEL = """
<RegressionModel functionName="regression">
  <MiningSchema>
    <MiningField name="x" X_ATTRS/>
    <MiningField name="c"/>
    <MiningField name="y" usageType="target"/>
  </MiningSchema>
  <RegressionTable intercept="1">
    <NumericPredictor name="x" coefficient="2"/>
    <CategoricalPredictor name="c" value="a" coefficient="10"/>
    <CategoricalPredictor name="c" value="b" coefficient="20"/>
  </RegressionTable>
</RegressionModel>
"""


@pytest.fixture
def model_with(pmml_doc):
    """model_with('invalidValueTreatment="asIs"') -> the model with those attributes on x."""
    def make(x_attrs: str = "") -> portmodel.Model:
        return portmodel.load(pmml_doc(FIELDS, MODEL.replace("X_ATTRS", x_attrs)))
    return make


def ys(model: portmodel.Model, xs: list, c: str = "a") -> list:
    """y for each x (None where the model gives no value), scoring with errors marked."""
    out = model.predict(pd.DataFrame({"x": pd.Series(xs, dtype=object), "c": [c] * len(xs)}),
                        errors="mark")
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else v
            for v in out["y"]]


# ------------------------------------------------------------------ absent fields

@pytest.mark.parametrize("errors", ["raise", "mark"])
def test_absent_column_raises_missing_field_error_naming_it(model_with, errors):
    model = model_with()
    with pytest.raises(MissingFieldError) as info:
        model.predict(pd.DataFrame({"x": [1.0, 2.0]}), errors=errors)
    assert info.value.field == "c"
    assert "'c'" in str(info.value)


def test_absent_key_in_one_record_is_rejected_as_one_record_would_be(model_with):
    """In a list of records, a record lacking a field the model needs is rejected as that
    record alone would be (MissingFieldError), or marked under errors="mark"; a key given as
    None is a missing value."""
    model = model_with('missingValueReplacement="4"')
    with pytest.raises(MissingFieldError):
        model.predict({"c": "b"})
    with pytest.raises(MissingFieldError) as info:
        model.predict([{"x": 1.0, "c": "a"}, {"c": "b"}])
    assert (info.value.field, info.value.row) == ("x", 1)
    out = model.predict([{"x": 1.0, "c": "a"}, {"c": "b"}], errors="mark")
    assert out[0] == {"y": 13.0, "error": None}
    assert out[1]["y"] is None and "'x'" in out[1]["error"] and "row 1" in out[1]["error"]
    assert model.predict([{"x": 1.0, "c": "a"}, {"x": None, "c": "b"}]) == [{"y": 13.0},
                                                                           {"y": 29.0}]
    assert model.predict([]) == []


# ------------------------------------------------------------------ invalid values

def test_invalid_category_raises_naming_field_row_and_value(model_with):
    model = model_with()
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "zz", "b"]})
    with pytest.raises(InvalidValueError) as info:
        model.predict(frame)
    assert (info.value.field, info.value.row) == ("c", 1)
    assert "'zz'" in str(info.value) and "row 1" in str(info.value)


def test_marked_errors_leave_other_rows_as_if_scored_alone(model_with):
    model = model_with()
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "zz", "b"]})
    out = model.predict(frame, errors="mark")
    assert list(out.index) == [0, 1, 2]
    assert out["y"][0] == 13.0 and out["y"][2] == 27.0       # 1 + 2*1 + 10, 1 + 2*3 + 20
    assert math.isnan(out["y"][1])
    for i in (0, 2):
        alone = model.predict(frame.iloc[[i]].reset_index(drop=True))
        assert alone["y"][0] == out["y"][i]
        assert pd.isna(out["error"][i])
    assert "field 'c'" in out["error"][1] and "zz" in out["error"][1]


def test_out_of_range_number_is_invalid(model_with):
    with pytest.raises(InvalidValueError) as info:
        model_with().predict({"x": [5.0, 10.5], "c": ["a", "a"]})
    assert (info.value.field, info.value.row) == ("x", 1)
    assert "10.5" in str(info.value) and "[0.0, 10.0]" in str(info.value)


@pytest.mark.parametrize("attrs", ["", 'invalidValueTreatment="asIs"'])
def test_unparsable_number_raises_value_parse_error(model_with, attrs):
    with pytest.raises(ValueParseError) as info:
        model_with(attrs).predict({"x": ["1", "abc"], "c": ["a", "b"]})
    assert (info.value.field, info.value.row) == ("x", 1)
    assert "'abc'" in str(info.value) and "double" in str(info.value)


# ------------------------------------------------------------------ wrong types

TYPED_FIELDS = """
<DataField name="n" optype="continuous" dataType="integer"/>
<DataField name="flag" optype="categorical" dataType="boolean"/>
<DataField name="y" optype="continuous" dataType="double"/>
"""
TYPED_MODEL = """
<RegressionModel functionName="regression">
  <MiningSchema>
    <MiningField name="n"/><MiningField name="flag"/><MiningField name="y" usageType="target"/>
  </MiningSchema>
  <RegressionTable intercept="1">
    <NumericPredictor name="n" coefficient="3"/>
    <CategoricalPredictor name="flag" value="true" coefficient="5"/>
    <CategoricalPredictor name="flag" value="false" coefficient="0"/>
  </RegressionTable>
</RegressionModel>
"""


@pytest.fixture
def typed_model(pmml_doc):
    return portmodel.load(pmml_doc(TYPED_FIELDS, TYPED_MODEL))


def test_values_convert_to_the_declared_types(typed_model):
    # 1 + 3*n + (5 if flag)
    out = typed_model.predict([{"n": "7", "flag": "true"}, {"n": 2, "flag": False},
                               {"n": 4.0, "flag": True}])
    assert [r["y"] for r in out] == [27.0, 7.0, 18.0]


@pytest.mark.parametrize("record, field, error", [
    ({"n": 2.5, "flag": True}, "n", InvalidValueError),      # not an integer
    ({"n": "2.5", "flag": True}, "n", InvalidValueError),
    ({"n": 1, "flag": "maybe"}, "flag", ValueParseError),    # not a boolean
    ({"n": "one", "flag": True}, "n", ValueParseError),
])
def test_wrong_type_is_rejected_naming_the_field(typed_model, record, field, error):
    with pytest.raises(error) as info:
        typed_model.predict([{"n": 1, "flag": True}, record])
    assert (info.value.field, info.value.row) == (field, 1)


# ------------------------------------------------------------------ treatments

def test_invalid_as_is_keeps_the_value(model_with):
    assert ys(model_with('invalidValueTreatment="asIs"'), [11.0, 3.0]) == [33.0, 17.0]


def test_invalid_as_missing_then_missing_replacement(model_with):
    model = model_with('invalidValueTreatment="asMissing"')
    assert ys(model, [11.0, 3.0]) == [None, 17.0]
    assert model.predict({"x": [11.0], "c": ["a"]}, errors="mark")["error"][0] is None
    model = model_with('invalidValueTreatment="asMissing" missingValueReplacement="4"')
    assert ys(model, [11.0, "abc", 3.0]) == [19.0, 19.0, 17.0]    # 1 + 2*4 + 10


def test_invalid_as_value_uses_the_replacement(model_with):
    model = model_with('invalidValueTreatment="asValue" invalidValueReplacement="5"')
    assert ys(model, [11.0, "abc", -1.0, 3.0]) == [21.0, 21.0, 21.0, 17.0]   # 1 + 2*5 + 10


def test_missing_value_replacement(model_with):
    model = model_with('missingValueReplacement="4"')
    # None, NaN and the declared missing code -999 are all missing
    assert ys(model, [None, np.nan, -999.0, "-999", 3.0]) == [19.0] * 4 + [17.0]
    assert ys(model_with(), [None, -999.0]) == [None, None]


def test_missing_value_treatment_return_invalid(model_with):
    model = model_with('missingValueTreatment="returnInvalid"')
    with pytest.raises(InvalidValueError) as info:
        model.predict({"x": [1.0, None], "c": ["a", "a"]})
    assert (info.value.field, info.value.row) == ("x", 1)


def test_outliers_as_missing_values(model_with):
    attrs = 'outliers="asMissingValues" lowValue="1" highValue="8"'
    assert ys(model_with(attrs), [0.5, 3.0, 9.0]) == [None, 17.0, None]
    assert ys(model_with(attrs + ' missingValueReplacement="4"'), [0.5, 3.0, 9.0]) == \
        [19.0, 17.0, 19.0]


def test_outliers_as_extreme_values(model_with):
    model = model_with('outliers="asExtremeValues" lowValue="1" highValue="8"')
    # 0.5 -> 1: 1 + 2 + 10; 9 -> 8: 1 + 16 + 10; the bounds themselves are kept
    assert ys(model, [0.5, 3.0, 9.0, 1.0, 8.0]) == [13.0, 17.0, 27.0, 13.0, 27.0]


def test_treatments_are_described(model_with):
    model = model_with('invalidValueTreatment="asValue" invalidValueReplacement="5" '
                       'missingValueReplacement="4" outliers="asExtremeValues" lowValue="1" '
                       'highValue="8"')
    x = {f.name: f for f in model.inputs}["x"].describe()
    assert x["invalid_value_treatment"] == "asValue" and x["invalid_value_replacement"] == 5.0
    assert x["missing_value_replacement"] == 4.0
    assert (x["outliers"], x["low_value"], x["high_value"]) == ("asExtremeValues", 1.0, 8.0)
    assert x["intervals"] == ["[0.0, 10.0]"] and x["missing_values"] == [-999.0]


# ------------------------------------------------------------------ against the reference engine

ORACLE_CASES = [
    ("", [1.0, 11.0, None, "abc"]),
    ('invalidValueTreatment="asIs"', [11.0, 3.0, -1.0]),
    ('invalidValueTreatment="asMissing"', [11.0, "abc", 3.0]),
    ('invalidValueTreatment="asMissing" missingValueReplacement="4"', [11.0, "abc", 3.0]),
    ('invalidValueTreatment="asValue" invalidValueReplacement="5"', [11.0, "abc", -1.0, 3.0]),
    ('missingValueReplacement="4"', [None, -999.0, "-999", 3.0]),
    ('missingValueTreatment="returnInvalid"', [None, 2.0]),
    ('outliers="asMissingValues" lowValue="1" highValue="8"', [0.5, 3.0, 9.0]),
    ('outliers="asExtremeValues" lowValue="1" highValue="8"', [0.5, 3.0, 9.0, 1.0, 8.0]),
]


@pytest.mark.oracle
def test_treatments_agree_with_reference_engine(pmml_doc, tmp_path):
    jpmml = pytest.importorskip("jpmml_evaluator")
    for k, (attrs, xs) in enumerate(ORACLE_CASES):
        doc = pmml_doc(FIELDS, MODEL.replace("X_ATTRS", attrs))
        path = tmp_path / f"case{k}.pmml"
        path.write_text(doc)
        reference = jpmml.make_evaluator(str(path))
        ours = portmodel.load(path)
        for x in xs:
            try:
                expected = reference.evaluate({"x": x, "c": "a"})["y"]
            except Exception:  # the reference engine rejects the record
                expected = "error"
            out = ours.predict({"x": [x], "c": ["a"]}, errors="mark")
            got = "error" if out["error"][0] is not None else (
                None if math.isnan(out["y"][0]) else out["y"][0])
            assert got == expected, f"{attrs or 'defaults'}, x={x!r}"
