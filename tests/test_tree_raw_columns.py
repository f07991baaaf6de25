"""The fused read-round-walk of a TreeModel over the user's float64 columns
(``tree_kernel.raw_float_columns`` + ``graph_rows_raw``): dataType="float" fields rounded to
float32 at each test, dataType="double" read as given, NaN missing. Oracle: the same document
scored through the column path (classified, rounded columns copied into the feature matrix),
with numba and with the numpy twins, and scikit-learn's own tree on float32 inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.pmml.models import tree_kernel as tk
from conftest import build_pmml


def tree_document(seed: int, kinds: list[str], strategy: str, depth: int = 7) -> str:
    """A random binary tree over fields f0.. of the given dataTypes; thresholds are float32
    numbers (as scikit-learn writes them) so inputs next to them fall on either side only
    after rounding; operators vary (<=, >, <, >=)."""
    rng = np.random.default_rng(seed)
    fields = "".join(f'<DataField name="f{i}" optype="continuous" dataType="{k}"/>'
                     for i, k in enumerate(kinds))
    fields += '<DataField name="y" optype="continuous" dataType="double"/>'
    ids = iter(range(1, 10_000))

    def node(pred: str, d: int) -> str:
        nid = next(ids)
        if d == depth or (d >= 2 and rng.random() < 0.1):
            return f'<Node id="{nid}" score="{nid}">{pred}</Node>'
        f = int(rng.integers(len(kinds)))
        t = float(np.float32(rng.normal()))
        op, other = [("lessOrEqual", "greaterThan"), ("lessThan", "greaterOrEqual"),
                     ("greaterThan", "lessOrEqual")][int(rng.integers(3))]
        a = f'<SimplePredicate field="f{f}" operator="{op}" value="{t!r}"/>'
        b = f'<SimplePredicate field="f{f}" operator="{other}" value="{t!r}"/>'
        return f'<Node id="{nid}" score="{nid}">{pred}{node(a, d + 1)}{node(b, d + 1)}</Node>'

    mining = "".join(f'<MiningField name="f{i}"/>' for i in range(len(kinds)))
    model = (f'<TreeModel functionName="regression" missingValueStrategy="{strategy}" '
             f'noTrueChildStrategy="returnLastPrediction"><MiningSchema>'
             f'<MiningField name="y" usageType="target"/>{mining}</MiningSchema>'
             f'{node("<True/>", 0)}</TreeModel>')
    return build_pmml(fields, model)


def inputs(doc: str, n: int, seed: int, kinds: list[str]) -> pd.DataFrame:
    """Values on, one float32 step below/above, and far from the thresholds; some NaN; one
    float64 block (the DataFrame's own), as a client's frame usually is."""
    import re
    rng = np.random.default_rng(seed)
    thr = np.array([float(v) for v in re.findall(r'value="([^"]+)"', doc)])
    cols = {}
    for i in range(len(kinds)):
        base = rng.choice(thr, n)
        step = rng.choice([-1, 0, 1], n) * np.spacing(np.abs(base).astype(np.float32)) * \
            rng.uniform(0.3, 0.7, n)
        x = base + step.astype(float)
        x = np.where(rng.random(n) < 0.2, rng.normal(size=n) * 3, x)
        x[rng.random(n) < 0.05] = np.nan
        cols[f"f{i}"] = x
    return pd.DataFrame(cols)


def spy_on(monkeypatch, name: str) -> list[bool]:
    """Wrap tree_kernel's ``name`` (a reader of the user's float columns): the list it returns
    records, call by call, whether the reader took the columns (a result, not None)."""
    taken: list[bool] = []
    real = getattr(tk, name)

    def spy(*args):
        got = real(*args)
        taken.append(got is not None)
        return got
    monkeypatch.setattr(tk, name, spy)
    return taken


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("strategy", ["none", "lastPrediction", "nullPrediction"])
def test_fused_read_equals_the_column_path(seed, strategy, backend, monkeypatch):
    kinds = ["float", "double", "float", "float", "double"]
    doc = tree_document(seed, kinds, strategy)
    data = inputs(doc, 3000, seed, kinds)
    model = portmodel.load(doc)
    taken = spy_on(monkeypatch, "raw_float_columns")
    fused = model.predict(data, errors="mark")
    assert taken == [True]
    monkeypatch.setattr(tk, "raw_float_columns", lambda fields, scope: None)
    column = model.predict(data, errors="mark")
    assert list(fused.columns) == list(column.columns)
    for c in fused.columns:
        a, b = fused[c].to_numpy(float), column[c].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(a[~np.isnan(a)], b[~np.isnan(b)])


def test_fused_read_declines_what_it_cannot_read_in_place(backend):
    """Text columns, an integer field, a MiningField that replaces missing values: the
    column path scores them (the answers still agree with a float frame's)."""
    doc = tree_document(3, ["float", "double"], "none")
    data = inputs(doc, 500, 3, ["float", "double"])
    model = portmodel.load(doc)
    as_text = data.astype(object).where(data.notna(), None).map(
        lambda v: None if v is None else repr(float(v)))
    a = model.predict(data, errors="mark")["y"].to_numpy(float)
    b = model.predict(as_text, errors="mark")["y"].to_numpy(float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(a[~np.isnan(a)], b[~np.isnan(b)])
    replaced = doc.replace('<MiningField name="f0"/>',
                           '<MiningField name="f0" missingValueReplacement="0.5"/>')
    m2 = portmodel.load(replaced)
    got = m2.predict(data, errors="mark")["y"].to_numpy(float)
    filled = data.fillna({"f0": 0.5})
    want = m2.predict(filled, errors="mark")["y"].to_numpy(float)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


def sklearn_nodes(t, i: int = 0, pred: str = "<True/>") -> str:
    """A scikit-learn regression tree (``tree_``) from node i as PMML Nodes over fields x0..,
    its thresholds rounded to float32 as sklearn2pmml writes them."""
    if t.children_left[i] < 0:
        return f'<Node score="{float(t.value[i][0][0])!r}">{pred}</Node>'
    f, thr = int(t.feature[i]), float(np.float32(t.threshold[i]))
    le = f'<SimplePredicate field="x{f}" operator="lessOrEqual" value="{thr!r}"/>'
    gt = f'<SimplePredicate field="x{f}" operator="greaterThan" value="{thr!r}"/>'
    return (f'<Node>{pred}{sklearn_nodes(t, t.children_left[i], le)}'
            f'{sklearn_nodes(t, t.children_right[i], gt)}</Node>')


def test_sklearn_tree_on_float_inputs(backend):
    """scikit-learn's own tree (float32 splits on float32 inputs) gives the fused path's
    answers for a sklearn2pmml-style document with dataType="float" fields."""
    from sklearn.tree import DecisionTreeRegressor, export_text  # noqa: F401
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 4))
    y = X[:, 0] * 2 + np.sin(X[:, 1] * 3) + X[:, 2] * X[:, 3]
    est = DecisionTreeRegressor(max_depth=8, random_state=0).fit(X, y)
    fields = "".join(f'<DataField name="x{i}" optype="continuous" dataType="float"/>'
                     for i in range(4)) + \
        '<DataField name="y" optype="continuous" dataType="double"/>'
    mining = "".join(f'<MiningField name="x{i}"/>' for i in range(4))
    doc = build_pmml(fields, f'<TreeModel functionName="regression"><MiningSchema>'
                             f'<MiningField name="y" usageType="target"/>{mining}</MiningSchema>'
                             f'{sklearn_nodes(est.tree_)}</TreeModel>')
    got = portmodel.load(doc).predict(pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]))
    want = est.predict(X.astype(np.float32))
    np.testing.assert_array_equal(got["y"].to_numpy(float), want)


@pytest.mark.parametrize("dtype", ["double", "float", "integer"])
@pytest.mark.parametrize("texts", [
    ["1.5", "-2", "+.5", "3.", "1e3", "-0", "0.1", "1e400"],
    ["1.5", " 2.5"], ["1.5", "1_0"], ["\u0661", "2"], ["1&#10;2", "1\n2"], ["INF", "1"],
    ["0x10", "1"], ["1e", "1"], ["nan", "2"], ["1\x1c", "2"]])
def test_bulk_comparison_values_are_parse_scalar_values(texts, dtype):
    """The comparison values a tree's nodes read at once are what ``parse_scalar`` reads one by
    one (same float, sign included); a group holding anything else is left to it (None)."""
    import math
    from types import SimpleNamespace

    from portmodel.pmml.models.tree import _comparison_values
    from portmodel.pmml.values import parse_scalar
    ctx = SimpleNamespace(lookup=lambda name: SimpleNamespace(data_type=dtype))
    ops = ["lessOrEqual"] * len(texts) + ["isMissing", "True"]
    got = _comparison_values(ops, ["x"] * len(ops), texts + [None, None], ctx, {})
    assert got[-2:] == [None, None]
    for text, g in zip(texts, got):
        if g is not None:
            want = parse_scalar(text, dtype)
            assert (repr(g), math.copysign(1, g)) == (repr(want), math.copysign(1, want))
    if len(texts) == 8:                              # plain numbers: all read at once
        assert None not in got[:len(texts)]


def _sklearn_forest_document(forest, kinds: list[str], method: str, mining: str = "") -> str:
    """A MiningModel of the forest's trees (float32 splits, as sklearn2pmml writes them),
    regression over fields x0.. of the given dataTypes; ``mining``: extra MiningField
    attributes of x0 in the MiningModel."""
    fields = "".join(f'<DataField name="x{i}" optype="continuous" dataType="{k}"/>'
                     for i, k in enumerate(kinds)) + \
        '<DataField name="y" optype="continuous" dataType="double"/>'
    fields_mf = "".join(f'<MiningField name="x{i}"/>' for i in range(len(kinds)))
    segments = "".join(
        f'<Segment id="{s}"><True/><TreeModel functionName="regression"><MiningSchema>'
        f'{fields_mf}</MiningSchema>{sklearn_nodes(est.tree_)}</TreeModel></Segment>'
        for s, est in enumerate(forest.estimators_))
    top_mf = fields_mf.replace('<MiningField name="x0"/>', f'<MiningField name="x0"{mining}/>')
    return build_pmml(fields, f'<MiningModel functionName="regression"><MiningSchema>'
                              f'<MiningField name="y" usageType="target"/>{top_mf}'
                              f'</MiningSchema><Segmentation multipleModelMethod="{method}">'
                              f'{segments}</Segmentation></MiningModel>')


def _forest(seed: int):
    from sklearn.ensemble import RandomForestRegressor
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3000, 4))
    y = X[:, 0] * 2 + np.sin(X[:, 1] * 3) + X[:, 2] * X[:, 3]
    return RandomForestRegressor(n_estimators=6, max_depth=7, random_state=seed).fit(X, y), X


def test_forest_reads_the_users_float_columns_as_sklearn_does(backend, monkeypatch):
    """A forest's feature matrix filled straight from the user's columns (rounded to float32
    for float fields) gives scikit-learn's own answers on float32 inputs."""
    forest, X = _forest(0)
    doc = _sklearn_forest_document(forest, ["float"] * 4, "average")
    taken = spy_on(monkeypatch, "passthrough_float_columns")
    got = portmodel.load(doc).predict(pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]))
    assert taken == [True]
    np.testing.assert_allclose(got["y"].to_numpy(float), forest.predict(X.astype(np.float32)),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kinds", [["float", "double", "float", "double"], ["double"] * 4])
def test_forest_raw_read_equals_the_column_path(kinds, backend, monkeypatch):
    """Mixed float and double fields, NaN rows, values next to the thresholds: the matrix
    read from the user's columns scores as the one built from the classified columns; a
    MiningField that replaces missing values in the MiningModel declines the raw read."""
    forest, X = _forest(1)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)])
    rng = np.random.default_rng(2)
    near = np.array([float(np.float32(forest.estimators_[0].tree_.threshold[0]))])
    frame.loc[::7, "x0"] = near[0] + np.spacing(np.float32(near[0])) * 0.4
    frame = frame.mask(rng.random(frame.shape) < 0.05)
    for mining, raw_expected in [("", True), (' missingValueReplacement="0.25"', False)]:
        model = portmodel.load(_sklearn_forest_document(forest, kinds, "sum", mining))
        taken = spy_on(monkeypatch, "passthrough_float_columns")
        fused = model.predict(frame, errors="mark")["y"].to_numpy(float)
        assert taken[0] == raw_expected
        monkeypatch.setattr(tk, "passthrough_float_columns", lambda names, scope: None)
        column = model.predict(frame, errors="mark")["y"].to_numpy(float)
        np.testing.assert_array_equal(np.isnan(fused), np.isnan(column))
        np.testing.assert_array_equal(fused[~np.isnan(fused)], column[~np.isnan(column)])
        if mining:      # the replacement is applied: as if the frame held it
            want = model.predict(frame.fillna({"x0": 0.25}), errors="mark")["y"]
            np.testing.assert_array_equal(fused, want.to_numpy(float))
