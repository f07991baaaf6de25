"""Text that arrives as Arrow strings (pandas 3 string columns, CSV chunks) is scored through its
Arrow array; it must score exactly as the same text in a plain object column, missing and
invalid values included."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import portmodel
from exact_util import canon
from portmodel.columns import decode_text, frame_columns

FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="c" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/><Value value="c"/><Value value="NA" property="missing"/>
</DataField>
<DataField name="d" optype="categorical" dataType="string">
  <Value value="p"/><Value value="q"/>
</DataField>
<DataField name="y" optype="continuous" dataType="double"/>
"""
MODEL = """
<RegressionModel functionName="regression">
  <MiningSchema>
    <MiningField name="x"/>
    <MiningField name="c" invalidValueTreatment="{invalid}"/>
    <MiningField name="d" missingValueReplacement="q"/>
    <MiningField name="y" usageType="target"/>
  </MiningSchema>
  <Output>
    <OutputField name="y" feature="predictedValue"/>
    <OutputField name="is_b" feature="transformedValue">
      <NormDiscrete field="c" value="b"/>
    </OutputField>
  </Output>
  <RegressionTable intercept="1">
    <NumericPredictor name="x" coefficient="2"/>
    <CategoricalPredictor name="c" value="a" coefficient="10"/>
    <CategoricalPredictor name="c" value="b" coefficient="20"/>
    <CategoricalPredictor name="d" value="q" coefficient="300"/>
  </RegressionTable>
</RegressionModel>
"""


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.choice(np.array(["a", "b", "c", "NA", "zz", "", None], dtype=object), n)
    d = rng.choice(np.array(["p", "q", None], dtype=object), n)
    return pd.DataFrame({"x": rng.normal(size=n), "c": c, "d": d})


def _as_object(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in ("c", "d"):
        out[c] = pd.Series(frame[c].to_numpy(dtype=object), dtype=object, index=frame.index)
        out[c] = out[c].where(out[c].notna(), None)
    return out


@pytest.mark.parametrize("invalid", ["asMissing", "asIs", "returnInvalid"])
@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", pd.ArrowDtype(pa.string())])
def test_arrow_text_scores_like_object_text(pmml_doc, invalid, dtype):
    model = portmodel.load(pmml_doc(FIELDS, MODEL.format(invalid=invalid)))
    plain = _as_object(_frame(3000))
    arrow = plain.astype({"c": dtype, "d": dtype})
    assert "c" in frame_columns(arrow).text           # the Arrow path is taken
    assert not frame_columns(plain).text
    got = model.predict(arrow, errors="mark")
    want = model.predict(plain, errors="mark")
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        assert [canon(v) for v in got[col]] == [canon(v) for v in want[col]], col
    # and the object path itself against the document's arithmetic, for a few valid rows
    for i in np.flatnonzero(plain["c"].isin(["a", "b", "c"]).to_numpy())[:20]:
        r = plain.iloc[i]
        d = "q" if r["d"] is None else r["d"]
        exp = 1 + 2 * r["x"] + {"a": 10, "b": 20, "c": 0}[r["c"]] + (300 if d == "q" else 0)
        assert want["y"].iloc[i] == pytest.approx(exp, rel=1e-12)


@pytest.mark.parametrize("chunks", [[["a", None, "b"]], [["a"], [None, "bb"], []]])
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_decode_text(chunks, kind):
    arrow = pa.chunked_array([pa.array(c, kind) for c in chunks], kind)
    out = decode_text(arrow)
    assert out.dtype == object
    assert out.tolist() == arrow.to_pylist()
    assert decode_text(arrow.combine_chunks()).tolist() == arrow.to_pylist()
