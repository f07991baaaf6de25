"""TreeModel's typed body (``objects.TreeNodes``): the Node hierarchy of every conformance tree
and forest is typed (no fragment left in the model content), reads -> writes -> reads equal
(also a 5,000-deep degenerate tree: no recursion), keeps extensions and vendor attributes in
schema order (the written document validates against the PMML 4.4 XSD), a bad attribute is a
DocumentError naming element, attribute and line, and a compiled tree or forest reaches no lxml
element. Oracles: the document text itself (counts of its elements, its attribute values), the
XSD, and the scores of the document as read before this body was typed (the conformance suite's
expected outputs)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError
from portmodel.pmml import objects
from portmodel.pmml.objects import Fragment, TreeNodes

from conformance_util import SHARED, cases
from export_util import assert_schema_valid
from test_loaded_model_sharing import DOCS, lxml_reachable

TREE_CASES = [c for c in cases() if c["model_type"] in ("TreeModel", "MiningModel")
              and b"<Node" in (SHARED / c["document"]).read_bytes()]


def _tree_models(doc: objects.Document):
    for top in doc.models:
        for m in top.models():
            if m.tag == "TreeModel":
                yield m


@pytest.mark.skipif(not TREE_CASES, reason="../shared/conformance is absent (fresh clone)")
@pytest.mark.parametrize("case", TREE_CASES, ids=[c["id"] for c in TREE_CASES])
def test_conformance_tree_bodies_are_typed_and_round_trip(case):
    data = (SHARED / case["document"]).read_bytes()
    doc = objects.read(data)
    trees = list(_tree_models(doc))
    assert trees
    nodes = 0
    for m in trees:
        assert not [c for c in m.content if isinstance(c, Fragment) and c.tag != "Extension"]
        body, = m.body(TreeNodes)
        nodes += len(body)
        assert len(body.id) == len(body.pred_op) == len(body.score) == len(body)
        assert body.parent[0] == -1 and all(0 <= p < i for i, p in enumerate(body.parent)
                                            if i)
    text = data.decode("utf-8")
    # every <Node> of the document (outside embedded DecisionTrees, which the corpus lacks)
    assert nodes == len(re.findall(r"<(?:\w+:)?Node[\s>/]", text))
    assert sum(len(b.sd_node) for m in trees for b in m.body(TreeNodes)) == \
        len(re.findall(r"<(?:\w+:)?ScoreDistribution[\s>/]", text))
    again = objects.read(objects.write(doc))
    assert again == doc
    assert [m.body(TreeNodes) for m in _tree_models(again)] == \
        [m.body(TreeNodes) for m in trees]


TREE = """<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<Header/>
<DataDictionary>
 <DataField name="x" optype="continuous" dataType="double"/>
 <DataField name="c" optype="categorical" dataType="string"/>
 <DataField name="y" optype="categorical" dataType="string">
  <Value value="a"/><Value value="b"/>
 </DataField>
</DataDictionary>
<TreeModel functionName="classification" missingValueStrategy="defaultChild" missingValuePenalty="0.5" noTrueChildStrategy="returnLastPrediction" splitCharacteristic="binarySplit" x-vendor="kept">
 <MiningSchema>
  <MiningField name="x"/><MiningField name="c"/><MiningField name="y" usageType="target"/>
 </MiningSchema>
 <Node id="r" score="a" recordCount="10" defaultChild="n2">
  <Extension name="e" value="1"/>
  <True/>
  <ScoreDistribution value="a" recordCount="6" confidence="0.6"/>
  <ScoreDistribution value="b" recordCount="4" probability="0.4" x-note="sd"/>
  <Node id="n1" score="a" recordCount="6" x-weight="3">
   <SimplePredicate field="x" operator="lessThan" value="1.5"/>
  </Node>
  <Node id="n2" score="b" recordCount="4">
   <CompoundPredicate booleanOperator="surrogate">
    <SimplePredicate field="x" operator="greaterOrEqual" value="1.5"/>
    <SimpleSetPredicate field="c" booleanOperator="isIn">
     <Array type="string">"u v" w</Array>
    </SimpleSetPredicate>
   </CompoundPredicate>
   <Node id="n3" score="b">
    <SimplePredicate field="c" operator="isMissing"/>
   </Node>
   <Node id="n4">
    <False/>
    <ScoreDistribution value="a" recordCount="1"/>
    <ScoreDistribution value="b" recordCount="3"/>
   </Node>
  </Node>
 </Node>
</TreeModel>
</PMML>"""


def test_tree_body_holds_the_document_values_typed():
    model, = objects.read(TREE).models
    body, = model.body(TreeNodes)
    assert (body.missing_value_strategy, body.missing_value_penalty,
            body.no_true_child_strategy, body.split_characteristic) == (
        "defaultChild", 0.5, "returnLastPrediction", "binarySplit")
    assert body.parent == (-1, 0, 0, 2, 2)
    assert body.id == ("r", "n1", "n2", "n3", "n4")
    assert body.score == ("a", "a", "b", "b", None)
    assert body.record_count == (10.0, 6.0, 4.0, None, None)
    assert body.default_child == ("n2", None, None, None, None)
    assert body.pred_op == ("True", "lessThan", None, "isMissing", "False")
    assert body.pred_field == (None, "x", None, "c", None)
    assert body.pred_value == (None, "1.5", None, None, None)
    compound = body.predicate(2)
    assert isinstance(compound, objects.CompoundPredicate)
    assert compound.boolean_operator == "surrogate" and set(compound.fields()) == {"x", "c"}
    assert body.predicate(1) == objects.SimplePredicate("x", "lessThan", "1.5")
    assert set(body.fields()) == {"x", "c"}
    assert body.sd_node == (0, 0, 4, 4)
    assert body.sd_value == ("a", "b", "a", "b")
    assert body.sd_record_count == (6.0, 4.0, 1.0, 3.0)
    assert body.sd_confidence == (0.6, None, None, None)
    assert body.sd_probability == (None, 0.4, None, None)
    assert body.vendor_attrs == ((1, (("x-weight", "3"),)),)
    assert body.sd_vendor == ((1, (("x-note", "sd"),)),)
    assert [(i, [f.tag for f in fs]) for i, fs in body.extras] == [(0, ["Extension"])]
    assert body.lines[1] == TREE.splitlines().index(
        '  <Node id="n1" score="a" recordCount="6" x-weight="3">') + 1



@pytest.mark.parametrize("node,sd", [
    ('score="b" recordCount="4"', 'value="b" recordCount="3"'),        # (sklearn2pmml's order)
    ('recordCount="4" score="b"', 'recordCount="3" value="b"'),
    ('score="b" id="k"', 'value="b" probability="0.75"'),
    ('x-w="1" recordCount="4" score="b"', 'value="b" x-n="2" recordCount="3"'),
    ('', 'value="b"'),
])
def test_node_and_distribution_attributes_read_by_name_in_any_order(node, sd):
    """Whatever order (and company) the attributes come in, each column holds the value the
    document gives that name (the fast path for the common layout included)."""
    text = re.sub(r'<Node id="n4">', f"<Node {node}>", TREE).replace(
        '<ScoreDistribution value="b" recordCount="3"/>', f"<ScoreDistribution {sd}/>")
    body, = objects.read(text).models[0].body(TreeNodes)
    given = dict(re.findall(r'([\w-]+)="([^"]*)"', node))
    got = dict(zip(("id", "score", "recordCount", "defaultChild"),
                   (body.id[4], body.score[4], body.record_count[4], body.default_child[4])))
    want = {k: given.get(k) for k in got}
    if want["recordCount"] is not None:
        want["recordCount"] = float(want["recordCount"])
    assert got == want
    vendor = {k: v for k, v in given.items() if k.startswith("x-")}
    assert dict(body.vendor_attrs).get(4, ()) == tuple(vendor.items())
    sd_given = dict(re.findall(r'([\w-]+)="([^"]*)"', sd))
    j = len(body.sd_node) - 1
    assert (body.sd_value[j], body.sd_record_count[j], body.sd_probability[j]) == (
        sd_given["value"], float(sd_given["recordCount"]) if "recordCount" in sd_given else None,
        float(sd_given["probability"]) if "probability" in sd_given else None)
    sd_vendor = tuple((k, v) for k, v in sd_given.items() if k.startswith("x-"))
    assert dict(body.sd_vendor).get(j, ()) == sd_vendor


def test_tree_body_writes_back_valid_pmml_and_scores_alike(tmp_path):
    doc = objects.read(TREE)
    path = tmp_path / "tree.pmml"
    path.write_bytes(objects.write(doc))
    assert_schema_valid(path)
    assert objects.read(path.read_bytes()) == doc
    assert b'x-vendor="kept"' in path.read_bytes()
    data = pd.DataFrame({"x": [1.0, 2.0, None, None, 2.0],
                         "c": ["w", "u v", "w", None, None]})
    want = portmodel.load(TREE).predict(data)
    got = portmodel.load(path).predict(data)
    pd.testing.assert_frame_equal(want, got)


def _deep_tree(depth: int, ns: bool = True) -> str:
    """A degenerate regression tree: node k tests x > k - 1, its first child is a leaf."""
    parts = []
    for k in range(depth):
        parts.append(f'<Node id="n{k}" score="{k}">'
                     + ('<True/>' if k == 0 else
                        f'<SimplePredicate field="x" operator="greaterThan" value="{k - 1}"/>')
                     + f'<Node id="l{k}" score="{-k}" recordCount="1"><SimplePredicate field="x" '
                     f'operator="lessOrEqual" value="{k}"/></Node>')
    body = "".join(parts) + "</Node>" * depth
    xmlns = ' xmlns="http://www.dmg.org/PMML-4_4"' if ns else ""
    return f"""<PMML{xmlns} version="4.4"><Header/>
<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>
<TreeModel functionName="regression" noTrueChildStrategy="returnLastPrediction"><MiningSchema>
<MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
{body}</TreeModel></PMML>"""


def _deep_root(depth: int):
    """``_deep_tree`` as a namespace-free element tree built in place (libxml2 parses no
    document deeper than 2,048 levels, and portmodel's parser stops at 256: a tree this deep
    only comes from a caller's element tree)."""
    from lxml import etree
    shallow = _deep_tree(1, ns=False).replace('<Node id="n0"', '<Node id="n-"')
    root = etree.fromstring(shallow.encode())
    tree_el = root.find("TreeModel")
    tree_el.remove(tree_el.find("Node"))
    parent = tree_el
    for k in range(depth):
        node = etree.SubElement(parent, "Node", id=f"n{k}", score=str(k))
        if k == 0:
            etree.SubElement(node, "True")
        else:
            etree.SubElement(node, "SimplePredicate", field="x", operator="greaterThan",
                             value=str(k - 1))
        leaf = etree.SubElement(node, "Node", id=f"l{k}", score=str(-k), recordCount="1")
        etree.SubElement(leaf, "SimplePredicate", field="x", operator="lessOrEqual",
                         value=str(k))
        parent = node
    return root


def _local(root):
    from lxml import etree
    for el in root.iter():
        el.tag = etree.QName(el).localname
    etree.cleanup_namespaces(root)
    return root


def test_a_5000_deep_tree_reads_and_writes_without_recursion():
    depth = 5000
    doc = objects.read_document(_deep_root(depth), "4.4")
    body, = doc.models[0].body(TreeNodes)
    assert len(body) == 2 * depth
    assert body.parent[-2:] == (2 * depth - 4, 2 * depth - 2)
    assert body.pred_value[-1] == str(depth - 1) and body.score[-2] == str(depth - 1)
    assert body.id[:3] == ("n0", "l0", "n1")
    again = objects.read_document(_local(objects.to_element(doc)), "4.4")
    assert again == doc


def test_a_deep_tree_scores_alike_after_a_round_trip():
    """As deep as portmodel's parser takes: node k's leaf l{k} (score -k) takes x in
    (k-1, k]; past the last test, the deepest node's own score (returnLastPrediction)."""
    depth = 120
    text = _deep_tree(depth)
    written = objects.write(objects.read(text))
    x = np.array([-3.0, 0.5, 10.0, 118.5, 600.0])
    want = np.array([0.0, -1.0, -10.0, -119.0, 119.0])
    for source in (text.encode(), written):
        got = portmodel.load(source).predict(pd.DataFrame({"x": x}))
        np.testing.assert_array_equal(got.iloc[:, 0].to_numpy(float), want)


@pytest.mark.parametrize("element,attribute,value", [
    ("TreeModel", "missingValuePenalty", "abc"),
    ("TreeModel", "missingValueStrategy", "sometimes"),
    ("TreeModel", "noTrueChildStrategy", "never"),
    ("TreeModel", "splitCharacteristic", "ternary"),
    ("Node", "recordCount", "ten"),
    ("ScoreDistribution", "recordCount", "1,5"),
    ("ScoreDistribution", "confidence", "high"),
    ("ScoreDistribution", "probability", "0.4x"),
    ("ScoreDistribution", "probability", "1_000"),      # (Python's float takes it)
    ("Node", "recordCount", "nan(1)"),
    ("SimplePredicate", "operator", "below"),
    ("SimpleSetPredicate", "booleanOperator", "within"),
])
def test_bad_tree_attribute_is_a_document_error_naming_it(element, attribute, value):
    doc = re.sub(rf'(<{element}\b[^>]*?\b{attribute}=")[^"]*"', rf'\g<1>{value}"', TREE,
                 count=1)
    assert doc != TREE
    line = next(i for i, s in enumerate(doc.splitlines(), 1) if f'{attribute}="{value}"' in s)
    for read in (objects.read, portmodel.load):
        with pytest.raises(DocumentError) as info:
            read(doc)
        assert info.value.element == element and info.value.line == line
        assert attribute in str(info.value) and value in str(info.value)


def test_tree_numbers_read_as_xml_schema_doubles():
    # the numbers of a large body are read in bulk: the special values, blanks and other
    # digits as the one-by-one reading takes them (xs:double, INF and NaN in any case)
    doc = (TREE.replace('"r" score="a" recordCount="10"',
                        '"r" score="a" recordCount="\u0661\u0660"')
           .replace('"n1" score="a" recordCount="6"', '"n1" score="a" recordCount="inf"')
           .replace('"n2" score="b" recordCount="4"', '"n2" score="b" recordCount=" 4e0 "'))
    body, = objects.read(doc).models[0].body(TreeNodes)
    assert body.record_count[:3] == (10.0, float("inf"), 4.0)
    nan = TREE.replace('probability="0.4"', 'probability="NaN"', 1)
    body, = objects.read(nan).models[0].body(TreeNodes)
    assert np.isnan(body.sd_probability[1])



@pytest.mark.parametrize("texts", [
    ["1", "0.5", "+.5", "1.", "-0", "1e400", "2.5E-3", " 7 ", "\t3\n"],
    ["1", "1_000"], ["1", "Infinity"], ["INF", "-inf", "NaN"], ["1", "."], ["1e"], ["0x10"],
    ["\u0661\u0662", "3"], ["1", "nan(1)"], ["5", "1 2"]])
def test_bulk_number_reading_is_the_one_by_one_reading(texts):
    """The distinct texts of a body's number attributes, read at once, give what
    ``parse_number`` gives each (value and sign; or a ValueError when one is no number)."""
    import math
    from portmodel.pmml.attributes import parse_number
    from portmodel.pmml.objects.tree import _parse_numbers
    try:
        want = [parse_number(t) for t in texts]
    except ValueError:
        with pytest.raises(ValueError):
            _parse_numbers([tuple(texts) + (None,)])
        return
    value_of = _parse_numbers([tuple(texts) + (None,)])
    got = [value_of(t) for t in texts]
    assert value_of(None) is None
    assert [(repr(g), math.copysign(1, g)) for g in got] == [
        (repr(w), math.copysign(1, w)) for w in want]


def test_missing_predicate_field_is_a_document_error():
    doc = TREE.replace('<SimplePredicate field="c" operator="isMissing"/>',
                       '<SimplePredicate operator="isMissing"/>')
    with pytest.raises(DocumentError) as info:
        portmodel.load(doc)
    assert info.value.element == "SimplePredicate" and "field" in str(info.value)


@pytest.mark.parametrize("name", [n for n in sorted(DOCS) if "ensemble" in n
                                  or n.startswith("random-tree")
                                  or n.startswith(("tree", "forest", "rf", "gbm"))])
def test_compiled_tree_and_forest_parts_hold_no_xml(name):
    document, _ = DOCS[name]()
    model = portmodel.load(document).model
    parts: list = []
    # (a kernel refers back to its CompiledModel, which keeps its element until the model
    # template builds from the typed model: its lowered plan is checked)
    for m in [model] + [seg.model for seg in getattr(model, "segments", ())]:
        if hasattr(m, "tree"):
            parts += [m.tree, m._tables, m.kernel.plan if m.kernel is not None else None]
    for seg in getattr(model, "segments", ()):
        parts += [seg.pred, seg.test]
    fast = getattr(model, "fast", None)
    if fast is not None:
        parts += [fast.plan, fast.leaf_val, fast.defs]
    assert parts
    assert lxml_reachable(parts) == []
