"""The common compile path reads the PMML object model: expressions, derived fields, mining
schema, targets and output compile from typed nodes, errors still name the element and line,
element-based callers (model bodies not yet typed) get the same compiled expression through the
wrappers, and the compiled common parts hold no lxml element.

Oracles: the line of the offending element in the document text, the column plan of the same
expression compiled from its element, and the object graph of the loaded model.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

import portmodel
from expr_util import A, C, F, expr_doc
from portmodel.errors import DocumentError, UnsupportedError
from portmodel.pmml import objects
from portmodel.pmml.context import Ctx
from portmodel.pmml.dictionary import FieldInfo
from portmodel.pmml.expressions import compile_expression
from portmodel.pmml.objects.read import read_node
from portmodel.pmml.scope import Scope
from portmodel.pmml.values import Col

sys.path.insert(0, str(Path(__file__).parent))


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of needle in text."""
    return text[:text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("where", ["tdict", "local", "output"])
def test_unknown_field_names_the_typed_element_and_its_line(where):
    bad = '<FieldRef field="nowhere"/>'
    derived = f'\n<DerivedField name="d" optype="continuous" dataType="double">\n{bad}</DerivedField>'
    if where == "tdict":
        text = expr_doc(F("x"), tdict=derived)
    elif where == "local":
        text = expr_doc(F("x"), local=derived)
    else:
        text = expr_doc("\n" + A("+", F("x"), "\n" + bad))
    with pytest.raises(DocumentError) as info:
        portmodel.load(text)
    assert info.value.element == "FieldRef"
    assert info.value.line == _line_of(text, bad)
    assert "nowhere" in str(info.value)


def test_require_takes_an_element_a_node_or_a_model():
    ctx = Ctx({"x": FieldInfo("x", "double", "continuous")})
    el = etree.fromstring('<Apply function="+">\n\n<FieldRef field="y"/></Apply>')[0]
    for where, tag, line in ((el, "FieldRef", 3), (read_node(objects.FieldRef, el), "FieldRef", 3),
                             (objects.Model(tag="TreeModel", line=9), "TreeModel", 9)):
        with pytest.raises(DocumentError) as info:
            ctx.require("y", where)
        assert (info.value.element, info.value.line) == (tag, line)
    assert ctx.require("x", el).name == "x"


def test_a_typed_expression_compiles_and_an_untyped_part_is_refused():
    """Compilation reads typed nodes only: a part the reader kept as a Fragment (an unknown
    element) is an UnsupportedError naming it, not a second reading of its XML."""
    text = A("if", A("greaterThan", F("x"), C("1.5", "double")),
             A("*", F("x"), C("2", "double")), C("-1", "double"))
    ctx = Ctx({"x": FieldInfo("x", "double", "continuous")})
    typed = compile_expression(read_node(objects.Apply, etree.fromstring(text)), ctx)
    x = np.array([0.5, 1.5, 2.0, np.nan])
    defs = {"x": lambda s: Col(x, np.isnan(x), "double", "continuous")}
    got = typed(Scope(4, None, defs, {}))
    assert list(got.values[:3]) == [-1.0, -1.0, 4.0] and got.missing[3]
    fragment = objects.Fragment(etree.fromstring("<Mystery/>"))
    with pytest.raises(UnsupportedError) as info:
        compile_expression(fragment, ctx)
    assert info.value.element == "Mystery"


def test_the_loaded_document_keeps_no_xml_root():
    model = portmodel.load(expr_doc(F("x")))
    assert not hasattr(model, "root")
    assert model.ctx.document is None                # (the compile-time link is dropped)


def test_compiled_regression_and_network_parts_hold_no_element():
    """Nothing compiled for a RegressionModel reaches an lxml element: mining schema, targets,
    derived fields, output and the record plan are built from typed nodes."""
    from conformance_util import SHARED, cases
    from test_loaded_model_sharing import lxml_reachable
    docs = [c for c in cases() if c["model_type"] == "RegressionModel"][:4]
    assert docs
    for c in docs:
        model = portmodel.load((SHARED / c["document"]).read_bytes())
        model.record_plan()
        found = [p for p in lxml_reachable(model) if not p.startswith("model.document")]
        assert found == [], c["id"]


def test_an_apply_child_that_is_no_expression_is_refused_by_name():
    text = expr_doc(A("+", F("x"), '\n<Frobnicate field="x"/>'))
    with pytest.raises(portmodel.errors.UnsupportedError) as info:
        portmodel.load(text)
    assert info.value.element == "Frobnicate"
    assert info.value.line == _line_of(text, "<Frobnicate")
