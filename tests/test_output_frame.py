"""predict(DataFrame): the frame it returns, and the result features a model builds only when
an OutputField reads them.

Truth: small hand-written documents whose answers are worked out by hand next to each test
(a two-leaf tree, a pass-through PFA action); the frames are compared with frames built here
from those hand values, index, column order and dtypes included.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import portmodel

from conftest import build_pmml

FIELDS = """<DataField name="x1" optype="continuous" dataType="double"/>
<DataField name="y" optype="categorical" dataType="integer"><Value value="0"/><Value value="1"/></DataField>"""

# x1 < 0: leaf L (score 0; 3 and 1 records of 0 and 1; confidences 0.6 and 0.2)
# x1 >= 0: leaf R (score 1; 1 and 4 records; the confidence of 1 is 0.7, of 0 absent: 0)
# x1 missing: no child is true: no prediction
NODES = """<Node id="root"><True/>
  <Node id="L" score="0"><SimplePredicate field="x1" operator="lessThan" value="0"/>
    <ScoreDistribution value="0" recordCount="3" confidence="0.6"/>
    <ScoreDistribution value="1" recordCount="1" confidence="0.2"/></Node>
  <Node id="R" score="1"><SimplePredicate field="x1" operator="greaterOrEqual" value="0"/>
    <ScoreDistribution value="0" recordCount="1"/>
    <ScoreDistribution value="1" recordCount="4" confidence="0.7"/></Node>
</Node>"""
PROBS = ('<OutputField name="p0" feature="probability" value="0"/>'
         '<OutputField name="p1" feature="probability" value="1"/>')
ASKED = ('<OutputField name="node" feature="entityId"/>'
         '<OutputField name="conf" feature="confidence"/>'
         '<OutputField name="c0" feature="confidence" value="0"/>')


def tree(outputs: str) -> str:
    return build_pmml(FIELDS, f"""<TreeModel functionName="classification">
  <MiningSchema><MiningField name="x1"/><MiningField name="y" usageType="target"/></MiningSchema>
  <Output>{outputs}</Output>{NODES}</TreeModel>""")


def hand(x: float | None) -> dict:
    if x is None:
        return dict(y=None, p0=np.nan, p1=np.nan, node=None, conf=np.nan, c0=np.nan)
    if x < 0:
        return dict(y=0, p0=0.75, p1=0.25, node="L", conf=0.6, c0=0.6)
    return dict(y=1, p0=0.2, p1=0.8, node="R", conf=0.7, c0=0.0)


def rows(n: int, missing: bool, seed: int = 0) -> list:
    xs = [float(v) for v in np.random.default_rng(seed).normal(size=n)]
    return [None if missing and i % 9 == 4 else x for i, x in enumerate(xs)]


def expected(xs: list, names: list[str], index) -> pd.DataFrame:
    cols = {k: [hand(x)[k] for x in xs] for k in names}
    out = {}
    for k, v in cols.items():
        if k == "y":
            out[k] = np.array(v, np.int64) if None not in v else np.array(v, object)
        elif k == "node":
            out[k] = pd.Series(np.array(v, object), index=index, dtype=object)
        else:
            out[k] = np.array(v, float)
    return pd.DataFrame(out, index=index)


@pytest.mark.parametrize("missing", [False, True])
def test_tree_entity_id_and_confidence_when_asked(missing):
    xs = rows(200, missing)
    frame = pd.DataFrame({"x1": np.array(xs, float)})
    got = portmodel.load(tree(PROBS + ASKED)).predict(frame)
    want = expected(xs, ["y", "p0", "p1", "node", "conf", "c0"], frame.index)
    pd.testing.assert_frame_equal(got, want)


def _result_of(model, frame: pd.DataFrame):
    """The Result of the document's model over a frame (what its Output reads)."""
    from portmodel.columns import frame_columns
    from portmodel.pmml.document import _InputScope
    root = _InputScope(len(frame), frame_columns(frame), model._root_defs)
    result, _ = model.model.evaluate(root, model.global_defs)
    return result


@pytest.mark.parametrize("missing", [False, True])
def test_tree_builds_entity_ids_and_confidences_only_when_asked(missing):
    xs = rows(150, missing, seed=1)
    frame = pd.DataFrame({"x1": np.array(xs, float)})
    lean = portmodel.load(tree(PROBS))
    full = portmodel.load(tree(PROBS + ASKED))
    assert not {"entityId", "confidence"} & set(_result_of(lean, frame).extra)
    assert {"entityId", "confidence"} <= set(_result_of(full, frame).extra)
    pd.testing.assert_frame_equal(lean.predict(frame),
                                  expected(xs, ["y", "p0", "p1"], frame.index))


def test_tree_inside_a_mining_model_keeps_its_entity_ids():
    model = f"""<MiningModel functionName="classification">
  <MiningSchema><MiningField name="x1"/><MiningField name="y" usageType="target"/></MiningSchema>
  <Output><OutputField name="node" feature="entityId" segmentId="t"/>{PROBS}</Output>
  <Segmentation multipleModelMethod="selectFirst"><Segment id="t"><True/>
    <TreeModel functionName="classification"><MiningSchema><MiningField name="x1"/>
      <MiningField name="y" usageType="target"/></MiningSchema>{NODES}</TreeModel>
  </Segment></Segmentation></MiningModel>"""
    xs = rows(100, True, seed=2)
    frame = pd.DataFrame({"x1": np.array(xs, float)})
    got = portmodel.load(build_pmml(FIELDS, model)).predict(frame)
    assert got["node"].tolist() == [hand(x)["node"] for x in xs]


@pytest.mark.parametrize("index", [
    pd.RangeIndex(5, 205, 1),
    pd.Index([f"r{i % 37}" for i in range(200)]),          # text labels, repeated
    pd.MultiIndex.from_arrays([np.arange(200) // 2, np.arange(200) % 2]),
])
def test_frame_keeps_the_input_index_and_column_order(index):
    xs = rows(200, True, seed=3)
    frame = pd.DataFrame({"x1": np.array(xs, float)}, index=index)
    model = portmodel.load(tree(ASKED + PROBS))
    got = model.predict(frame)
    want = expected(xs, ["y", "node", "conf", "c0", "p0", "p1"], index)
    pd.testing.assert_frame_equal(got, want)
    assert list(got.columns) == model.output_names
    marked = model.predict(frame, errors="mark")
    assert list(marked.columns) == model.output_names + ["error"]
    assert marked.index.equals(index) and marked["error"].isna().all()
    assert marked["error"].dtype == object


def test_frame_columns_are_writable_and_share_nothing():
    # the same feature twice, and an output that passes an input through: each output
    # column is the frame's own (writing one changes neither the input nor another output)
    outputs = (PROBS + '<OutputField name="again" feature="probability" value="1"/>'
               '<OutputField name="x" feature="transformedValue" dataType="double">'
               '<FieldRef field="x1"/></OutputField>')
    xs = rows(100, False, seed=4)
    frame = pd.DataFrame({"x1": np.array(xs, float)})
    before = frame.copy()
    got = portmodel.load(tree(outputs)).predict(frame)
    assert got["x"].tolist() == xs and got["again"].tolist() == got["p1"].tolist()
    for name in got.columns:
        arr = got[name].to_numpy()
        assert not np.shares_memory(arr, frame["x1"].to_numpy())
        for other in got.columns:
            if other != name:
                assert not np.shares_memory(arr, got[other].to_numpy())
    got.loc[0, "x"] = 123.0
    got.loc[0, "p1"] = -1.0
    got.iloc[1, 0] = 7
    pd.testing.assert_frame_equal(frame, before)
    assert got.loc[0, "again"] == hand(xs[0])["p1"]
    assert got.loc[1, "y"] == 7


def test_pfa_frame_does_not_alias_its_input():
    # a PFA action that returns its input field: the frame's column is a copy
    doc = ('{"input": {"type": "record", "name": "In", "fields": [{"name": "x", '
           '"type": "double"}]}, "output": "double", "action": "input.x"}')
    frame = pd.DataFrame({"x": [1.0, 2.5, -3.0]}, index=["a", "b", "c"])
    got = portmodel.load(doc).predict(frame)
    pd.testing.assert_frame_equal(got, pd.DataFrame({"output": [1.0, 2.5, -3.0]},
                                                    index=["a", "b", "c"]))
    assert not np.shares_memory(got["output"].to_numpy(), frame["x"].to_numpy())
    got.loc["a", "output"] = 9.0
    assert frame.loc["a", "x"] == 1.0


def test_dict_of_arrays_and_records_are_unchanged():
    xs = rows(80, True, seed=5)
    model = portmodel.load(tree(PROBS + ASKED))
    out = model.predict({"x1": np.array(xs, float)})
    assert isinstance(out, dict) and list(out) == model.output_names
    assert all(type(v) is np.ndarray for v in out.values())
    assert out["y"].dtype == object and out["node"].dtype == object
    assert [None if v is None else int(v) for v in out["y"]] == [hand(x)["y"] for x in xs]
    records = model.predict([{"x1": x} for x in xs[:10]])
    assert records == [{k: (None if isinstance(v, float) and np.isnan(v) else v)
                        for k, v in hand(x).items()} for x in xs[:10]]


@pytest.mark.parametrize("ask", [False, True])
def test_mining_model_builds_its_segment_ids_only_when_asked(ask):
    # selectFirst: x1 < 0 goes to segment "neg", the others to "pos" (the same tree); the
    # MiningModel's entityId is the chosen segment's id
    segment = ('<Segment id="{id}">{pred}<TreeModel functionName="classification">'
               '<MiningSchema><MiningField name="x1"/><MiningField name="y" '
               f'usageType="target"/></MiningSchema>{NODES}</TreeModel></Segment>')
    outputs = PROBS + ('<OutputField name="seg" feature="entityId"/>' if ask else "")
    model = f"""<MiningModel functionName="classification">
  <MiningSchema><MiningField name="x1"/><MiningField name="y" usageType="target"/></MiningSchema>
  <Output>{outputs}</Output>
  <Segmentation multipleModelMethod="selectFirst">
    {segment.format(id="neg", pred='<SimplePredicate field="x1" operator="lessThan" value="0"/>')}
    {segment.format(id="pos", pred="<True/>")}
  </Segmentation></MiningModel>"""
    xs = rows(120, False, seed=6)
    frame = pd.DataFrame({"x1": np.array(xs, float)})
    doc = portmodel.load(build_pmml(FIELDS, model))
    # (unasked, the Result may keep what its segments computed, never a column of its own ids)
    ids = _result_of(doc, frame).extra.get("entityId")
    assert (ids is not None and {"neg", "pos"} <= set(ids)) == ask
    got = doc.predict(frame)
    names = ["y", "p0", "p1"]
    pd.testing.assert_frame_equal(got[names], expected(xs, names, frame.index))
    if ask:
        assert got["seg"].tolist() == ["neg" if x < 0 else "pos" for x in xs]


def test_tree_rows_ending_at_a_node_without_score():
    # returnLastPrediction: rows with x1 >= 1 match no child and end at the root, which has
    # no score: no prediction there (every row reached a node; not every node has a score)
    nodes = """<Node id="root"><True/>
  <Node id="L" score="0"><SimplePredicate field="x1" operator="lessThan" value="0"/>
    <ScoreDistribution value="0" recordCount="3"/><ScoreDistribution value="1" recordCount="1"/></Node>
  <Node id="M" score="1"><SimplePredicate field="x1" operator="lessThan" value="1"/>
    <ScoreDistribution value="0" recordCount="1"/><ScoreDistribution value="1" recordCount="4"/></Node>
</Node>"""
    doc = build_pmml(FIELDS, f"""<TreeModel functionName="classification"
        noTrueChildStrategy="returnLastPrediction">
  <MiningSchema><MiningField name="x1"/><MiningField name="y" usageType="target"/></MiningSchema>
  <Output>{PROBS}<OutputField name="node" feature="entityId"/></Output>{nodes}</TreeModel>""")
    xs = [float(v) for v in np.linspace(-2, 2, 101)]
    got = portmodel.load(doc).predict(pd.DataFrame({"x1": xs}))
    for i, x in enumerate(xs):
        row = got.iloc[i]
        if x < 0:
            assert (row["y"], row["p0"], row["node"]) == (0, 0.75, "L")
        elif x < 1:
            assert (row["y"], row["p0"], row["node"]) == (1, 0.2, "M")
        else:
            assert row["y"] is None and np.isnan(row["p0"]) and row["node"] == "root"
    assert got["y"].dtype == object
