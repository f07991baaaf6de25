"""TreeNodes written in bulk (``objects.tree_text``: the Node hierarchy as text, parsed by lxml
in one call) and numbers formatted in bulk (``objects.write.format_values``).

Oracle: the element-by-element writer (``TreeNodes.write_element``) and the one-value formatter
(``format_value``), which the bulk paths must match byte for byte: on every tree of the
conformance corpus, on bodies with every attribute and character that needs escaping, and on
whole exported documents (a forest, a gradient-boosted model, a booster with native categorical
splits). Bodies the bulk path does not take (kept fragments, a tree deeper than libxml2 parses)
and text XML cannot hold still go through the element writer, with its own error."""
from __future__ import annotations

import importlib
import math
from dataclasses import replace

import numpy as np
import pytest
from lxml import etree

from portmodel.pmml import objects
from portmodel.pmml.objects import TreeNodes
from portmodel.pmml.objects.tree_text import append_nodes
from portmodel.pmml.objects.write import format_value, format_values

from conformance_util import SHARED

# (the module: the package's ``write`` is its function)
writer = importlib.import_module("portmodel.pmml.objects.write")
from test_pmml_objects_tree import TREE, TREE_CASES, _tree_models


def _no_bulk(monkeypatch) -> None:
    """Every tree body written by ``TreeNodes.write_element``, one element at a time."""
    monkeypatch.setattr(writer, "append_nodes", lambda *a: False)
    monkeypatch.setattr(writer, "nodes_text", lambda *a, **k: None)


def _indented(doc: objects.Document) -> bytes:
    root = writer.to_element(doc)
    etree.indent(root, space="")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _element_text(body: TreeNodes) -> bytes:
    holder = etree.Element("_")
    body.write_element(holder)
    return etree.tostring(holder)


def _bulk_text(body: TreeNodes) -> bytes | None:
    holder = etree.Element("_")
    if not append_nodes(body, holder, None):
        return None
    return etree.tostring(holder)


@pytest.mark.skipif(not TREE_CASES, reason="../shared/conformance is absent (fresh clone)")
def test_bulk_tree_text_matches_the_element_writer_on_the_corpus():
    bulk = 0
    for case in TREE_CASES:
        doc = objects.read((SHARED / case["document"]).read_bytes())
        for m in _tree_models(doc):
            for body in m.body(TreeNodes):
                got = _bulk_text(body)
                if got is None:
                    assert body.extras or body.vendor_attrs or body.sd_extras or body.sd_vendor
                    continue
                bulk += 1
                assert got == _element_text(body), case["id"]
    assert bulk > 10


@pytest.mark.skipif(not TREE_CASES, reason="../shared/conformance is absent (fresh clone)")
def test_documents_with_spliced_tree_text_are_lxmls_bytes(monkeypatch):
    """``to_lines`` (tree bodies spliced into the bytes as text) against lxml indenting and
    writing the whole element tree, tree bodies built one element at a time."""
    docs = [objects.read((SHARED / c["document"]).read_bytes()) for c in TREE_CASES]
    docs.append(objects.read(TREE))
    fast = [writer.to_lines(d) for d in docs]
    assert fast[0].startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<PMML")
    _no_bulk(monkeypatch)
    assert fast == [_indented(d) for d in docs]


def _body(**kw) -> TreeNodes:
    n = len(kw["parent"])
    cols = dict(id=(None,) * n, score=(None,) * n, record_count=(None,) * n,
                default_child=(None,) * n, pred_op=("True",) + ("lessOrEqual",) * (n - 1),
                pred_field=(None,) + ("x",) * (n - 1), pred_value=(None,) + ("1",) * (n - 1))
    cols.update(kw)
    m = len(cols.get("sd_node", ()))
    for k in ("sd_value", "sd_record_count", "sd_confidence", "sd_probability"):
        cols.setdefault(k, (None,) * m)
    return TreeNodes(**cols)


def _same_document_bytes(body: TreeNodes) -> None:
    """A document holding ``body`` (twice, around other content): ``to_lines`` writes lxml's
    bytes, with the body spliced in as text."""
    assert writer.nodes_text(body, lines=True) is not None
    doc = objects.read(TREE)
    model = doc.models[0]
    content = tuple(body if isinstance(c, TreeNodes) else c for c in model.content)
    doc = replace(doc, models=(replace(model, content=content), replace(model, content=content)))
    fast = writer.to_lines(doc)
    with pytest.MonkeyPatch.context() as mp:
        _no_bulk(mp)
        assert fast == _indented(doc)


AWKWARD = ['a&b', '<x>', 'say "hi"', "it's", "line\nbreak", "tab\there", "cr\rhere",
           "  spaced  ", "ünïcödé ✓", "]]>", ""]


@pytest.mark.parametrize("label", AWKWARD)
def test_bulk_tree_text_escapes_what_attributes_need(label):
    body = _body(parent=(-1, 0, 0, 2), score=(label, label, None, "k"),
                 pred_op=("True", "lessOrEqual", "equal", "isMissing"),
                 pred_field=(None, label, "c", "c"), pred_value=(None, "1.5", label, None),
                 sd_node=(0, 0, 3), sd_value=(label, "z", label),
                 sd_record_count=(1.0, 2.5, 0.0))
    got = _bulk_text(body)
    assert got is not None and got == _element_text(body)
    _same_document_bytes(body)
    again = TreeNodes.read_element(etree.fromstring(got)[0])
    assert again.score == body.score and again.sd_value == body.sd_value
    if label:          # (an empty field name makes no simple predicate for the reader)
        assert again.pred_field == body.pred_field and again.pred_value == body.pred_value


def test_bulk_tree_text_writes_every_node_and_distribution_attribute():
    body = _body(parent=(-1, 0, 1, 1, 0), id=("r", "a", None, "c", "d"),
                 score=("1", None, "2", "3", "4"), record_count=(10.0, -0.0, None, 2.5, 1e300),
                 default_child=("a", None, None, None, None),
                 pred_op=("True", "greaterThan", "False", "isNotMissing", "lessThan"),
                 pred_field=(None, "x", None, "y", "x"), pred_value=(None, "0", None, None, "-2"),
                 sd_node=(0, 0, 3, 1, 4), sd_value=("p", "q", None, "p", "q"),
                 sd_record_count=(6.0, 4.0, None, float("inf"), 0.1),
                 sd_confidence=(0.6, None, 0.25, None, -0.0),
                 sd_probability=(None, 0.4, None, 1.0, None))
    got = _bulk_text(body)
    assert got is not None and got == _element_text(body)
    _same_document_bytes(body)


def test_bulk_tree_text_writes_typed_predicates_by_the_object_writer():
    compound = objects.CompoundPredicate("or", (
        objects.SimplePredicate("x", "lessThan", "1"),
        objects.SimpleSetPredicate("c", "isIn", objects.Array(type="string", n=2,
                                                              text='"a b" "c&d"'))))
    body = _body(parent=(-1, 0, 0), pred_op=("True", None, "lessOrEqual"),
                 pred_field=(None, None, "x"), pred_value=(None, None, "3"),
                 predicates=((1, compound),), score=("0", "1", "2"))
    got = _bulk_text(body)
    assert got is not None and got == _element_text(body)
    assert b"SimpleSetPredicate" in got
    _same_document_bytes(body)


def test_bodies_with_fragments_and_deep_trees_go_through_the_element_writer():
    doc = objects.read(TREE)                  # an Extension, vendor attributes
    body, = next(_tree_models(doc)).body(TreeNodes)
    assert append_nodes(body, etree.Element("_"), None) is False
    # a tree deeper than libxml2 parses: the bulk text is refused, the element writer writes it
    n = 3000
    parent = tuple(range(-1, n - 1))
    deep = _body(parent=parent, score=tuple(str(k) for k in range(n)))
    holder = etree.Element("_")
    assert append_nodes(deep, holder, None) is False and len(holder) == 0
    holder = etree.Element(writer._ROOT_TAG, nsmap={None: writer.PMML44_NS})
    writer._build(deep, holder)
    assert sum(1 for _ in holder.iter("Node")) == n


def test_text_xml_cannot_hold_raises_the_element_writers_error():
    for where in ("score", "pred_value", "sd_value"):
        body = _body(parent=(-1, 0), score=("ok", "bell\x07" if where == "score" else "s"),
                     pred_value=(None, "bell\x07" if where == "pred_value" else "1"),
                     sd_node=(1,), sd_value=("bell\x07" if where == "sd_value" else "v",),
                     sd_record_count=(1.0,))
        assert writer.nodes_text(body) is None and writer.nodes_text(body, lines=True) is None
        with pytest.raises(ValueError, match="XML compatible"):
            writer._build(body, etree.Element("_"))
        doc = objects.read(TREE)
        model = doc.models[0]
        doc = replace(doc, models=(replace(model, content=tuple(
            body if isinstance(c, TreeNodes) else c for c in model.content)),))
        with pytest.raises(ValueError, match="XML compatible"):
            writer.to_lines(doc)


def test_bulk_numbers_match_format_value():
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.standard_normal(3000) * 10, rng.standard_normal(1000).round(),
        rng.standard_normal(2000) * 10.0 ** rng.integers(-40, 40, 2000),
        [0.0, -0.0, math.inf, -math.inf, math.nan, 1e16, -1e16, 1e17, 9.999999999999998e15,
         5e-324, 1.7976931348623157e308, 0.1, 1e-7, 1e22, 2.0 ** 53, 0.5]])
    with np.errstate(over="ignore"):
        for dtype in (np.float64, np.float32):
            arr = values.astype(dtype)
            for form in (arr, list(arr), arr.tolist(), arr[:0], list(arr[:1])):
                got = format_values(form)
                assert got == [format_value(v) for v in form]
                assert all(type(t) is str for t in got)
    mixed = [1, 2.5, np.float32(0.1), True, "x", np.int64(7), -0.0]
    assert format_values(mixed) == [format_value(v) for v in mixed]


@pytest.mark.parametrize("name", ["forest", "boosting", "native_categorical"])
def test_exported_documents_are_the_element_writers_bytes(name, monkeypatch):
    """The exporter's tree bodies, written in bulk and one element at a time: the same
    document."""
    import pandas as pd
    from sklearn.datasets import load_wine
    from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingClassifier,
                                  RandomForestClassifier)

    import portmodel
    X, y = load_wine(return_X_y=True, as_frame=True)
    if name == "native_categorical":
        X = X.iloc[:, :5].copy()
        X["colour"] = pd.Categorical(np.where(X["alcohol"] > 13, "red & dark",
                                              np.where(X["alcohol"] > 12.5, '"rose"', "white")))
        est = HistGradientBoostingClassifier(max_iter=10, categorical_features=["colour"],
                                             random_state=0).fit(X, y)
    elif name == "boosting":
        est = GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)
    else:
        est = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0).fit(X, y)
    bulk = portmodel.export(est, None, X, target_name="cultivar")
    _no_bulk(monkeypatch)
    one_by_one = portmodel.export(est, None, X, target_name="cultivar")
    assert bulk == one_by_one
    assert bulk.count("<Node") > 50
