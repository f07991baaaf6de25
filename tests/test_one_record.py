"""One record (predict(dict)) takes shortcuts of its own: derived-field arithmetic and regression
sums in Python floats, one-value input checks, a planned mining-field pass-through, a
small-batch tree feature matrix. They must answer exactly what the batch path answers, bit for
bit, errors included; and the numbers must be the hand-computed IEEE ones.

The document: d1 = (x1 - 1.5) / 2.25 and d3 = abs(x1) * 3 (scaler-style derived fields),
y = 0.5 * d1 + 0.001 * d3 + (10 if c == "a", 20 if c == "b") + 1, and an output field
x2 / 0 (division by zero: +-inf, or no valid result when x2 is 0).
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

import portmodel
from exact_util import canon

FIELDS = """
<DataField name="x1" optype="continuous" dataType="double"/>
<DataField name="x2" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/>
</DataField>
<DataField name="y" optype="continuous" dataType="double"/>
"""
MODEL = """
<RegressionModel functionName="regression">
  <MiningSchema>
    <MiningField name="x1"/>
    <MiningField name="x2"/>
    <MiningField name="c"/>
    <MiningField name="y" usageType="target"/>
  </MiningSchema>
  <Output>
    <OutputField name="ratio" optype="continuous" dataType="double" feature="transformedValue">
      <Apply function="/"><FieldRef field="x2"/><Constant dataType="double">0</Constant></Apply>
    </OutputField>
  </Output>
  <LocalTransformations>
    <DerivedField name="d1" optype="continuous" dataType="double">
      <Apply function="/">
        <Apply function="-"><FieldRef field="x1"/><Constant dataType="double">1.5</Constant></Apply>
        <Constant dataType="double">2.25</Constant>
      </Apply>
    </DerivedField>
    <DerivedField name="d3" optype="continuous" dataType="double">
      <Apply function="*">
        <Apply function="abs"><FieldRef field="x1"/></Apply>
        <Constant dataType="double">3</Constant>
      </Apply>
    </DerivedField>
  </LocalTransformations>
  <RegressionTable intercept="1">
    <NumericPredictor name="d1" coefficient="0.5"/>
    <NumericPredictor name="d3" coefficient="0.001"/>
    <CategoricalPredictor name="c" value="a" coefficient="10"/>
    <CategoricalPredictor name="c" value="b" coefficient="20"/>
  </RegressionTable>
</RegressionModel>
"""
RECORDS = [
    {"x1": 4.0, "x2": 2.0, "c": "a"},
    {"x1": -0.3, "x2": -3.0, "c": "b"},
    {"x1": 1e300, "x2": 1.0, "c": "a"},          # overflows to inf in d3
    {"x1": 7, "x2": 5, "c": "b"},                # Python ints
    {"x1": None, "x2": 1.0, "c": "a"},           # missing: no prediction
    {"x1": 2.0, "x2": 0.0, "c": "a"},            # 0 / 0: no valid result (row error)
    {"x1": 2.0, "x2": 1.0, "c": "z"},            # not a valid value (row error)
    {"x1": "abc", "x2": 1.0, "c": "a"},          # not a number (row error)
    {"x1": 2.0, "x2": 1.0, "c": None},           # missing category adds nothing
]


@pytest.fixture(scope="module")
def model(pmml_doc) -> portmodel.Model:
    return portmodel.load(pmml_doc(FIELDS, MODEL))


def test_hand_computed_values(model):
    out = model.predict({"x1": 4.0, "x2": 2.0, "c": "a"})
    assert out["y"] == 0.5 * ((4.0 - 1.5) / 2.25) + 0.001 * (abs(4.0) * 3.0) + 10.0 + 1.0
    assert out["ratio"] == math.inf
    assert model.predict({"x1": -0.3, "x2": -3.0, "c": "b"})["ratio"] == -math.inf
    assert model.predict({"x1": 2.0, "x2": 1.0, "c": None})["y"] == \
        0.5 * ((2.0 - 1.5) / 2.25) + 0.001 * 6.0 + 0.0 + 1.0


def test_one_record_equals_the_batch_bit_for_bit(model):
    batch = model.predict(pd.DataFrame(RECORDS, dtype=object), errors="mark")
    for i, rec in enumerate(RECORDS):
        one = model.predict(rec, errors="mark")
        assert list(one) == list(batch.columns)
        for k in ("y", "ratio"):
            assert canon(one[k]) == canon(batch[k].iloc[i]), (i, k, one[k], batch[k].iloc[i])


def test_row_errors_are_the_batch_errors(model):
    batch = model.predict(pd.DataFrame(RECORDS, dtype=object), errors="mark")
    errors = [model.predict(rec, errors="mark")["error"] for rec in RECORDS]
    want = [None if canon(e) is None else e.replace(f"row {i}", "row 0")
            for i, e in enumerate(batch["error"])]
    assert errors == want
    assert [e is not None for e in errors] == [False, False, False, False, False, True, True,
                                                True, False]
