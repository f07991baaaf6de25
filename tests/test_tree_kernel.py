"""The lowered tree kernels (graph and general forms, numba and numpy) against the general tree
walk, and the one-pass forest plan against the segment-by-segment MiningModel path.

Oracles: ``tree.walk`` (itself checked by the conformance suite against JPMML-Evaluator),
the general MiningModel aggregation, and scikit-learn's own predictions for documents exported
with sklearn2pmml.
"""
from __future__ import annotations

import functools
import random
import re
import shutil
import warnings
import zlib

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.pmml.document import _classifier
from portmodel.pmml.models import tree_kernel as tk
from portmodel.pmml.models.forest import try_compile_forest
from portmodel.pmml.models.mining import MiningModel
from portmodel.pmml.models.tree import TreeModel, walk
from portmodel.pmml.scope import Scope

from conformance_util import SHARED, cases, load_input
from conftest import build_pmml


def model_scope(doc, data: pd.DataFrame, model=None) -> Scope:
    """The scope a document's top model (or model) scores in, as score_columns builds it."""
    root = Scope(len(data), errors={})
    for name, info in doc.data_fields.items():
        if name in data.columns:
            root.defs[name] = _classifier(info, data[name].to_numpy(dtype=object))
    root.defs.update(doc.global_defs)
    scope = root.child((model or doc.model).defs)
    scope.defs.update(doc.global_defs)
    return scope


def with_missing(df: pd.DataFrame, rate: float = 0.2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = df.copy().astype(object)
    for c in out.columns:
        out.loc[rng.random(len(out)) < rate, c] = None
    return out


def trees_of(model):
    """(tree model, its MiningModel chain) for every TreeModel in a document's model."""
    if isinstance(model, TreeModel):
        yield model
    elif isinstance(model, MiningModel):
        for s in model.segments:
            yield from trees_of(s.model)


def assert_kernels_match_walk(tree_model: TreeModel, scope: Scope) -> set[str]:
    """Every lowered form gives walk's leaves and penalties; returns the forms it built."""
    leaf, pen = walk(tree_model.tree, tree_model, scope)
    forms = set()
    for fast in (True, False):
        kern = tk.compile_kernel(tree_model.tree, tree_model, fast=fast)
        assert kern is not None
        forms.add(type(kern.plan).__name__)
        got, gpen = kern.run(scope)
        np.testing.assert_array_equal(got, leaf)
        if pen is None:
            assert gpen is None
        else:
            np.testing.assert_array_equal(gpen, pen)
    return forms


# ---------------------------------------------------------------------- conformance documents

TREE_CASES = [c for c in cases() if any(k in c["id"] for k in
                                        ("DecisionTree", "RandomForest", "GBM", "GBT"))]


def _skip_without_shared():
    if not TREE_CASES:
        pytest.skip("../shared/conformance is not available")


@functools.lru_cache(maxsize=None)
def _load_case(case_id: str):
    case = next(c for c in TREE_CASES if c["id"] == case_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = portmodel.load(str(SHARED / case["document"]))
    data = load_input(case)
    return doc, data, with_missing(data)


@pytest.mark.parametrize("case", TREE_CASES or [None], ids=lambda c: c["id"] if c else "none")
def test_conformance_trees_kernel_equals_walk(case, backend):
    _skip_without_shared()
    doc, data, holes = _load_case(case["id"])
    for df in (data, holes):
        for m in list(trees_of(doc.model))[:8]:
            scope = model_scope(doc, df, m) if m is doc.model else _segment_scope(doc, df, m)
            assert_kernels_match_walk(m, scope)


def _segment_scope(doc, df, tree_model):
    parent = model_scope(doc, df)
    return parent.child(tree_model.defs)


def _same_result(a, b) -> None:
    np.testing.assert_array_equal(a.value.missing, b.value.missing)
    ok = ~a.value.missing
    assert list(a.value.values[ok]) == list(b.value.values[ok])
    assert list(a.categories) == list(b.categories)
    assert (a.probs is None) == (b.probs is None)
    for c in (a.probs or {}):
        np.testing.assert_array_equal(a.probs[c], b.probs[c])


def general_path(doc, data: pd.DataFrame):
    """(result, scope) of the document's top mining model on the general path: its forest plan
    set aside for the call."""
    mm = doc.model
    plan, mm.fast = mm.fast, None
    try:
        scope = model_scope(doc, data)
        return mm.score(scope), scope
    finally:
        mm.fast = plan


def _mining_models(model):
    if isinstance(model, MiningModel):
        yield model
        for s in model.segments:
            yield from _mining_models(s.model)


@pytest.mark.parametrize("case", [c for c in TREE_CASES if c["model_type"] == "MiningModel"]
                         or [None], ids=lambda c: c["id"] if c else "none")
def test_conformance_forest_plan_equals_general_path(case, backend):
    _skip_without_shared()
    doc, data, holes = _load_case(case["id"])
    mm = doc.model
    assert mm.fast is not None, "a plain tree ensemble gets the one-pass plan"
    for df in (data, holes):
        s1 = model_scope(doc, df)
        fast = mm.fast.score(s1)
        general, s2 = general_path(doc, df)
        _same_result(fast, general)
        assert set(s1.errors) == set(s2.errors)


# ---------------------------------------------------------------------- random trees

FIELDS = """
<DataField name="x1" optype="continuous" dataType="double"/>
<DataField name="x2" optype="continuous" dataType="integer"/>
<DataField name="s1" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/><Value value="c"/><Value value="d"/>
</DataField>
<DataField name="y" optype="continuous" dataType="double"/>
"""
NUM_OPS = ["equal", "notEqual", "lessThan", "lessOrEqual", "greaterThan", "greaterOrEqual"]
NUM_VALUES = ["-1", "0", "0.5", "1", "2"]
STR_VALUES = ["a", "b", "c", "zz"]
COMPLEMENTS = [("lessOrEqual", "greaterThan"), ("lessThan", "greaterOrEqual"),
               ("equal", "notEqual")]


class TreeGen:
    """Random TreeModel documents exercising every predicate form and strategy."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.ids = 0

    def simple(self) -> str:
        r = self.r
        kind = r.random()
        if kind < 0.1:
            return f'<SimplePredicate field="{r.choice(["x1", "x2", "s1"])}" operator="' \
                   f'{r.choice(["isMissing", "isNotMissing"])}"/>'
        if kind < 0.3:
            op = r.choice(["equal", "notEqual"])
            return f'<SimplePredicate field="s1" operator="{op}" value="{r.choice(STR_VALUES)}"/>'
        if kind < 0.45:
            field, vals = r.choice([("s1", STR_VALUES), ("x2", ["-1", "0", "1", "2", "7"])])
            members = " ".join(r.sample(vals, r.randint(1, 3)))
            typ = "string" if field == "s1" else "int"
            op = r.choice(["isIn", "isNotIn"])
            return (f'<SimpleSetPredicate field="{field}" booleanOperator="{op}">'
                    f'<Array type="{typ}">{members}</Array></SimpleSetPredicate>')
        field = r.choice(["x1", "x2"])
        return f'<SimplePredicate field="{field}" operator="{r.choice(NUM_OPS)}" ' \
               f'value="{r.choice(NUM_VALUES)}"/>'

    def predicate(self, depth: int = 0) -> str:
        r = self.r
        kind = r.random()
        if kind < 0.06:
            return "<True/>"
        if kind < 0.1:
            return "<False/>"
        if kind < 0.25 and depth < 2:
            op = r.choice(["and", "or", "xor", "surrogate"])
            kids = "".join(self.predicate(depth + 1) for _ in range(r.randint(2, 3)))
            return f'<CompoundPredicate booleanOperator="{op}">{kids}</CompoundPredicate>'
        if kind < 0.32:   # KNIME: a test that also takes the missing values
            v = r.choice(NUM_VALUES)
            return ('<CompoundPredicate booleanOperator="or">'
                    f'<SimplePredicate field="x1" operator="lessOrEqual" value="{v}"/>'
                    '<SimplePredicate field="x1" operator="isMissing"/></CompoundPredicate>')
        return self.simple()

    def pair(self) -> tuple[str, str]:
        r = self.r
        if r.random() < 0.3:
            members = " ".join(r.sample(STR_VALUES, 2))
            return tuple(f'<SimpleSetPredicate field="s1" booleanOperator="{op}">'
                         f'<Array type="string">{members}</Array></SimpleSetPredicate>'
                         for op in ("isIn", "isNotIn"))
        a, b = r.choice(COMPLEMENTS)
        if r.random() < 0.5:
            a, b = b, a
        field = r.choice(["x1", "x2"])
        v = r.choice(NUM_VALUES)
        return tuple(f'<SimplePredicate field="{field}" operator="{op}" value="{v}"/>'
                     for op in (a, b))

    def node(self, pred: str, depth: int, strategy: str, labels: list[str] | None = None) -> str:
        r = self.r
        self.ids += 1
        nid = f"n{self.ids}"
        score = ""
        dist = ""
        if r.random() < 0.85:
            score = f' score="{r.choice(labels) if labels else r.randint(-50, 50)}"'
        if labels and r.random() < 0.7:
            counts = [r.randint(0, 9) for _ in labels]
            dist = "".join(f'<ScoreDistribution value="{v}" recordCount="{c}"/>'
                           for v, c in zip(labels, counts))
        kids: list[str] = []
        if depth < 4 and r.random() < 0.8:
            if r.random() < 0.5:
                preds = list(self.pair())
            else:
                preds = [self.predicate() for _ in range(r.randint(1, 3))]
                if r.random() < 0.3:
                    preds.append("<True/>")
            kids = [self.node(p, depth + 1, strategy, labels) for p in preds]
        default = ""
        if kids and strategy == "defaultChild" and r.random() < 0.8:
            ids = [re.search(r'id="(n\d+)"', k).group(1) for k in kids]
            default = f' defaultChild="{r.choice(ids)}"'
        return f'<Node id="{nid}"{score}{default}>{pred}{dist}{"".join(kids)}</Node>'

    def tree(self, function: str = "regression", target: str = "y", targets: str = "") -> str:
        r = self.r
        strategy = r.choice(["none", "lastPrediction", "nullPrediction", "defaultChild"])
        ntc = r.choice(["returnNullPrediction", "returnLastPrediction"])
        penalty = ' missingValuePenalty="0.75"' if r.random() < 0.4 else ""
        root_pred = "<True/>" if r.random() < 0.8 else self.simple()
        labels = LABELS if function == "classification" else None
        root = self.node(root_pred, 0, strategy, labels)
        return (f'<TreeModel functionName="{function}" missingValueStrategy="{strategy}" '
                f'noTrueChildStrategy="{ntc}"{penalty}>'
                '<MiningSchema><MiningField name="x1"/><MiningField name="x2"/>'
                f'<MiningField name="s1"/><MiningField name="{target}" usageType="target"/>'
                f'</MiningSchema>{targets}{root}</TreeModel>')

    def document(self) -> str:
        return build_pmml(FIELDS, self.tree())

    def ensemble(self, function: str, method: str, treatment: str, trees: int = 6) -> str:
        r = self.r
        target = "y" if function == "regression" else "label"
        segs = []
        for i in range(trees):
            targets = ""
            if function == "regression" and r.random() < 0.3:
                targets = ('<Targets><Target field="y" rescaleFactor="2" rescaleConstant="1" '
                           'min="-60"/></Targets>')
            weight = r.choice(["0.5", "1", "1.25", "2"])
            segs.append(f'<Segment id="s{i}" weight="{weight}"><True/>'
                        f'{self.tree(function, target, targets)}</Segment>')
        model = (f'<MiningModel functionName="{function}"><MiningSchema>'
                 '<MiningField name="x1"/><MiningField name="x2"/><MiningField name="s1"/>'
                 f'<MiningField name="{target}" usageType="target"/></MiningSchema>'
                 f'<Segmentation multipleModelMethod="{method}" missingPredictionTreatment='
                 f'"{treatment}" missingThreshold="0.3">{"".join(segs)}</Segmentation>'
                 '</MiningModel>')
        return build_pmml(FIELDS + LABEL_FIELD, model)


LABELS = ["p", "q", "r"]
LABEL_FIELD = """
<DataField name="label" optype="categorical" dataType="string">
  <Value value="p"/><Value value="q"/><Value value="r"/>
</DataField>
"""


def random_inputs(seed: int, n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0, -3.0, 0.7, 1.5], n)
    x1 = np.where(rng.random(n) < 0.3, rng.normal(0, 2, n), x1)
    df = pd.DataFrame({"x1": x1, "x2": rng.integers(-2, 8, n).astype(float),
                       "s1": rng.choice(["a", "b", "c", "d", "zz"], n)}).astype(object)
    for c in df.columns:
        df.loc[rng.random(n) < 0.2, c] = None
    return df


@pytest.mark.parametrize("seed", range(40))
def test_random_trees_kernels_equal_walk(seed, backend):
    doc = portmodel.load(TreeGen(seed).document())
    m = doc.model
    assert isinstance(m, TreeModel)
    scope = model_scope(doc, random_inputs(seed))
    forms = assert_kernels_match_walk(m, scope)
    assert "FrozenGeneral" in forms
    # the model's own kernel is the graph whenever the graph can express the tree
    if m.penalty == 1.0 or m.missing_strategy != "defaultChild":
        has_multi_field = any(len(p.fields()) > 1 for p in m.tree.pred)
        if not has_multi_field:
            assert m.kernel is not None and m.kernel.fast


ENSEMBLES = [("regression", m) for m in ("sum", "weightedSum", "average", "weightedAverage")] + \
    [("classification", m) for m in ("majorityVote", "weightedMajorityVote", "average",
                                     "weightedAverage")]


@pytest.mark.parametrize("function,method", ENSEMBLES)
@pytest.mark.parametrize("treatment", ["continue", "skipSegment", "returnMissing"])
def test_random_ensembles_forest_plan_equals_general_path(function, method, treatment, backend):
    seed = zlib.crc32(f"{function} {method} {treatment}".encode()) % 1000
    doc = portmodel.load(TreeGen(seed).ensemble(function, method, treatment))
    mm = doc.model
    assert mm.fast is not None
    data = random_inputs(seed)
    general_form = try_compile_forest(mm, fast=False)
    assert isinstance(general_form.plan, tk.FrozenGeneral)
    plans = [mm.fast, general_form]
    general, s2 = general_path(doc, data)
    for p in plans:
        s1 = model_scope(doc, data)
        _same_result(p.score(s1), general)
        assert set(s1.errors) == set(s2.errors)


def test_parallel_kernels_equal_walk(monkeypatch):
    """The threaded variants (chunks of rows) give what the walk and the general path give."""
    pytest.importorskip("numba")
    monkeypatch.delenv("PORTMODEL_NO_NUMBA", raising=False)
    monkeypatch.setattr(tk, "PARALLEL_MIN_WORK", 0)
    data = random_inputs(7, n=5000)
    for seed in (3, 11):
        doc = portmodel.load(TreeGen(seed).document())
        assert_kernels_match_walk(doc.model, model_scope(doc, data))
    doc = portmodel.load(TreeGen(5).ensemble("classification", "weightedAverage", "continue"))
    mm = doc.model
    plans = [mm.fast, try_compile_forest(mm, fast=False)]
    general, _ = general_path(doc, data)
    for p in plans:
        _same_result(p.score(model_scope(doc, data)), general)


def test_graph_handles_knime_missing_routing_and_complements():
    doc = portmodel.load(build_pmml(FIELDS, """
<TreeModel functionName="regression" missingValueStrategy="none"
           noTrueChildStrategy="returnNullPrediction">
  <MiningSchema><MiningField name="x1"/><MiningField name="y" usageType="target"/></MiningSchema>
  <Node score="0"><True/>
    <Node score="1"><CompoundPredicate booleanOperator="or">
      <SimplePredicate field="x1" operator="lessOrEqual" value="1"/>
      <SimplePredicate field="x1" operator="isMissing"/></CompoundPredicate></Node>
    <Node score="2"><SimplePredicate field="x1" operator="greaterThan" value="1"/></Node>
  </Node>
</TreeModel>"""))
    m = doc.model
    assert m.kernel.fast
    # one test: x1 <= 1 (missing values go left too); the complement costs nothing
    assert m.kernel.plan.n_tests == 1
    out = doc.predict(pd.DataFrame({"x1": [0.5, 1.0, 1.5, None]}))
    assert out["y"].tolist() == [1.0, 1.0, 2.0, 1.0]


def test_numeric_nan_value_that_is_not_missing_falls_back_to_walk(backend):
    """A literal NaN input is a value (comparisons are false), not a missing value."""
    doc = portmodel.load(build_pmml(FIELDS, """
<TreeModel functionName="regression" missingValueStrategy="nullPrediction">
  <MiningSchema><MiningField name="x1"/><MiningField name="y" usageType="target"/></MiningSchema>
  <Node score="0"><True/>
    <Node score="1"><SimplePredicate field="x1" operator="lessOrEqual" value="1"/></Node>
    <Node score="2"><True/></Node>
  </Node>
</TreeModel>"""))
    out = doc.predict(pd.DataFrame({"x1": np.array(["NaN", "0", None], dtype=object)}))
    assert out["y"].iloc[0] == 2.0 and out["y"].iloc[1] == 1.0 and np.isnan(out["y"].iloc[2])


# ---------------------------------------------------------------------- scikit-learn exports

@pytest.fixture(scope="module")
def sklearn_docs(request, tmp_path_factory):
    """Fitted pipelines and their sklearn2pmml documents. Fits are deterministic, so the
    exported documents are kept in pytest's cache folder and exported (a JVM start each) only
    when absent."""
    sklearn = pytest.importorskip("sklearn")
    sk2p = pytest.importorskip("sklearn2pmml")
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    name = f"tree_kernel_{sklearn.__version__}_{sk2p.__version__}"
    cache = getattr(request.config, "cache", None)   # absent under -p no:cacheprovider
    folder = cache.mkdir(name) if cache is not None else tmp_path_factory.mktemp(name)
    X, y = make_classification(600, 6, n_informative=4, n_classes=3, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    y = pd.Series(y, name="y")
    specs = {
        "dt_compact": (DecisionTreeClassifier(max_depth=7, random_state=0), True),
        "dt_binary": (DecisionTreeClassifier(max_depth=7, random_state=0), False),
        "forest": (RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0), True),
        "gbm": (GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0), True),
    }
    out = {}
    for name, (est, compact) in specs.items():
        pipe = PMMLPipeline([("m", est)])
        pipe.fit(X, y)
        path = folder / f"{name}_v1.pmml"
        if not path.exists():
            if shutil.which("java") is None:
                pytest.skip("sklearn2pmml needs Java to export")
            if not compact:
                pipe.configure(compact=False)
            sklearn2pmml(pipe, str(path))
        out[name] = (pipe, X, path)
    return out


@pytest.mark.parametrize("name", ["dt_compact", "dt_binary", "forest", "gbm"])
def test_sklearn_exports_match_sklearn(sklearn_docs, name, backend):
    pipe, X, path = sklearn_docs[name]
    doc = portmodel.load(path)
    uses_fast = [getattr(m, "fast", None) is not None for m in _mining_models(doc.model)]
    if isinstance(doc.model, TreeModel):
        assert doc.model.kernel is not None and doc.model.kernel.fast
    else:
        assert any(uses_fast)
    out = doc.predict(X)
    got = np.column_stack([out[f"probability({c})"].to_numpy(float) for c in pipe.classes_])
    np.testing.assert_allclose(got, pipe.predict_proba(X), rtol=1e-9, atol=1e-9)


def test_sklearn_binary_export_lowers_to_one_test_per_split(sklearn_docs):
    """sklearn2pmml's x <= t / x > t children become a single test per split."""
    pipe, _, path = sklearn_docs["dt_binary"]
    doc = portmodel.load(path)
    splits = int((pipe.steps[-1][1].tree_.children_left >= 0).sum())
    assert doc.model.kernel.plan.n_tests == splits


def test_a_tree_as_deep_as_the_graph_form_takes_lowers_without_recursion():
    """The graph lowering walks the nodes backwards (children after their parents in document
    order), not recursively: a tree MAX_GRAPH_DEPTH deep lowers under a recursion limit far
    below its depth, and scores as the document says (node k's leaf l{k}, score -k, takes x in
    (k-1, k]; past the last test, the deepest node's own score: returnLastPrediction)."""
    import inspect
    import sys

    from portmodel.pmml.document import PMMLModel
    from test_pmml_objects_tree import _deep_root
    depth = tk.MAX_GRAPH_DEPTH
    root = _deep_root(depth)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 150)
    try:
        doc = PMMLModel(root, "4.4")
        plan = doc.model.kernel.plan
    finally:
        sys.setrecursionlimit(limit)
    assert isinstance(plan, tk.FrozenGraph) and doc.model.tree.depth == depth
    x = np.array([-3.0, 0.5, 10.0, depth - 1.5, depth + 50.0, np.nan])
    # (a missing x: no child takes the row at the root (UNKNOWN counts as FALSE), its own score)
    want = np.array([0.0, -1.0, -10.0, -(depth - 1.0), depth - 1.0, 0.0])
    got = doc.predict(pd.DataFrame({"x": x})).iloc[:, 0].to_numpy(float)
    np.testing.assert_array_equal(got, want)
    leaf, _ = walk(doc.model.tree, doc.model, model_scope(doc, pd.DataFrame({"x": x})))
    np.testing.assert_array_equal(doc.model.kernel.run(
        model_scope(doc, pd.DataFrame({"x": x})))[0], leaf)
