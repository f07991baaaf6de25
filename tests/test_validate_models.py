"""``validate``'s model checks on the object model: MiningSchema (a field named twice, more
targets than the model type scores), Output (a name used twice or taken by a field) and
Segmentation (segment predicates, weights and transformations naming unknown fields), each on
a real document of the conformance corpus changed in one place, found at the changed line.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from portmodel.pmml.validate import ERROR, WARNING, format_problem, validate

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "pmml"
pytestmark = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="../shared/conformance is absent")


def corpus(name: str) -> str:
    return (CONFORMANCE / name).read_text()


def changed(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def line_of(text: str, marker: str, nth: int = 0) -> int:
    hits = [i for i, t in enumerate(text.splitlines(), 1) if marker in t]
    return hits[nth]


def found(text: str, severity: str, message: str) -> list:
    problems = validate(text)
    hits = [p for p in problems if p.severity == severity and message in p.message]
    assert hits, "\n".join(map(format_problem, problems))
    return hits


def new_findings(original: str, text: str) -> list:
    """Problems of text that the unchanged document does not have (by message)."""
    before = {p.message for p in validate(original)}
    return [p for p in validate(text) if p.message not in before]


# ------------------------------------------------------------------ MiningSchema

def test_duplicate_mining_field_in_a_real_tree():
    original = corpus("knime/pmml/DecisionTreeIris.pmml")
    text = changed(original, '<MiningField name="Sepal_Width" invalidValueTreatment="asIs"/>',
                   '<MiningField name="Sepal_Length" invalidValueTreatment="asIs"/>')
    hit, = found(text, ERROR, "duplicate MiningField 'Sepal_Length'")
    assert hit.line == line_of(text, '<MiningField name="Sepal_Length"', 1)
    assert hit.element == "MiningField"
    first = line_of(text, '<MiningField name="Sepal_Length"')
    assert f"(first at line {first})" in hit.message


def test_duplicate_mining_field_in_a_segment_model():
    original = corpus("knime/pmml/ModelEnsembleIris.pmml")
    text = changed(original, '<MiningField invalidValueTreatment="asIs" name="Sepal_Width"/>\n'
                   '            <MiningField invalidValueTreatment="asIs" name="Petal_Length"/>',
                   '<MiningField invalidValueTreatment="asIs" name="Sepal_Width"/>\n'
                   '            <MiningField invalidValueTreatment="asIs" name="Sepal_Width"/>')
    hit, = found(text, ERROR, "duplicate MiningField 'Sepal_Width'")
    assert hit.line == 40


def test_duplicate_found_where_another_attribute_does_not_read():
    """A bad number elsewhere in the model (the schema pass reports it) hides no other finding:
    the model is then read part by part."""
    original = corpus("knime/pmml/DecisionTreeIris.pmml")
    text = changed(original, '<MiningField name="Sepal_Width" invalidValueTreatment="asIs"/>',
                   '<MiningField name="Sepal_Length" invalidValueTreatment="asIs"/>')
    text = changed(text, 'recordCount="', 'recordCount="many')
    problems = validate(text)
    assert any(p.severity == ERROR and "recordCount" in p.message for p in problems)
    assert [p.line for p in problems if "duplicate MiningField" in p.message] == \
        [line_of(text, '<MiningField name="Sepal_Length"', 1)]


def test_two_targets_where_the_model_scores_one():
    original = corpus("knime/pmml/DecisionTreeIris.pmml")
    species = '<MiningField name="Species" invalidValueTreatment="asIs" usageType="target"/>'
    text = changed(original, '<MiningField name="Petal_Width" invalidValueTreatment="asIs"/>\n'
                   f'      {species}', f'{species}\n      <MiningField name="Petal_Width" '
                   'invalidValueTreatment="asIs" usageType="predicted"/>')
    hit, = found(text, WARNING, "<TreeModel> has 2 target fields ('Species', 'Petal_Width')")
    assert (hit.line, hit.element) == (line_of(text, '<MiningField name="Petal_Width"'),
                                       "MiningField")
    assert "predicts the first, 'Species'" in hit.message
    assert [p.message for p in new_findings(original, text)] == [hit.message]


def test_several_targets_where_the_model_type_takes_them():
    """A NeuralNetwork (like a MiningModel or a NearestNeighborModel) may score several
    targets: no warning."""
    original = corpus("rattle/pmml/NeuralNetworkAuto.pmml")
    assert 'name="mpg" usageType="predicted"' in original
    text = changed(original, '<MiningField name="weight" usageType="active"',
                   '<MiningField name="weight" usageType="predicted"')
    assert not [p for p in new_findings(original, text) if "target fields" in p.message]


# ------------------------------------------------------------------ Output

@pytest.mark.parametrize("document,old,name,kind", [
    ("knime/pmml/DecisionTreeIris.pmml", 'name="P (Species=versicolor)"', "Sepal_Width",
     "DataField"),
    ("rattle/pmml/DecisionTreeXformIris.pmml", 'name="Probability_setosa"',
     "derived_Sepal_Length", "DerivedField")])
def test_output_field_with_the_name_of_another_field(document, old, name, kind):
    """An OutputField named like a DataField or a DerivedField: a warning at the OutputField
    naming the other field's line."""
    text = changed(corpus(document), old, f'name="{name}"')
    field = line_of(text, f'<{kind} name="{name}"')
    hit, = found(text, WARNING, f"OutputField {name!r} has the name of the {kind} at line "
                                f"{field}")
    assert (hit.line, hit.element) == (line_of(text, f'<OutputField name="{name}"'),
                                      "OutputField")


def test_duplicate_output_field_in_a_real_document():
    original = corpus("rattle/pmml/DecisionTreeXformIris.pmml")
    text = changed(original, 'name="Probability_versicolor"', 'name="Probability_setosa"')
    first = line_of(original, 'name="Probability_setosa"')
    hit, = found(text, ERROR, f"duplicate OutputField 'Probability_setosa' (first at line "
                              f"{first})")
    assert hit.line == line_of(original, 'name="Probability_versicolor"')


# ------------------------------------------------------------------ Segmentation

def test_segment_predicate_naming_an_unknown_field():
    original = corpus("rattle/pmml/RandomForestIris.pmml")
    text = changed(original, '<Segment id="2">\n    <True/>',
                   '<Segment id="2">\n    <SimplePredicate field="Petal_Area" '
                   'operator="greaterThan" value="1"/>')
    hit, = found(text, ERROR, "<SimplePredicate> refers to unknown field 'Petal_Area'")
    assert (hit.line, hit.element) == (line_of(text, 'field="Petal_Area"'), "SimplePredicate")


def test_segment_weight_and_segmentation_transformations_naming_unknown_fields():
    original = corpus("knime/pmml/ModelEnsembleIris.pmml")
    seg_line = next(t for t in original.splitlines() if "<Segmentation " in t)
    text = changed(original, seg_line, seg_line + "\n<LocalTransformations><DerivedField "
                   'name="w" optype="continuous" dataType="double"><FieldRef field="Leaf_Area"/>'
                   "</DerivedField></LocalTransformations>")
    text = changed(text, "<Segment>\n        <True/>",
                   "<Segment>\n        <True/>\n<VariableWeight field=\"Stem_Width\"/>")
    weight, = found(text, ERROR, "<VariableWeight> refers to unknown field 'Stem_Width'")
    assert (weight.line, weight.element) == (line_of(text, 'field="Stem_Width"'),
                                             "VariableWeight")
    ref, = found(text, ERROR, "<FieldRef> refers to unknown field 'Leaf_Area'")
    assert ref.line == line_of(text, 'field="Leaf_Area"')


def test_segment_models_see_their_siblings_outputs_and_the_documents_fields():
    """No false finding on the corpus's ensembles (segment outputs feed the next segment in a
    model chain; every segment model reads the document's fields)."""
    for name in ("knime/pmml/ModelEnsembleIris.pmml", "knime/pmml/KMeansEnsembleIris.pmml",
                 "rattle/pmml/RandomForestXformIris.pmml", "knime/pmml/GBTAuto.pmml"):
        problems = validate(corpus(name))
        assert not [p for p in problems if "unknown field" in p.message
                    or "names no" in p.message or "duplicate" in p.message], name


def test_segment_model_findings_survive_a_bad_attribute_in_another_segment():
    """A bad number in the SVM segment (the schema pass reports it) leaves the ensemble
    unreadable as a whole: it is then read segment by segment, and the tree segment's duplicate
    MiningField is still found."""
    original = corpus("knime/pmml/ModelEnsembleIris.pmml")
    text = changed(original, '<MiningField invalidValueTreatment="asIs" name="Sepal_Width"/>\n'
                   '            <MiningField invalidValueTreatment="asIs" name="Petal_Length"/>',
                   '<MiningField invalidValueTreatment="asIs" name="Sepal_Width"/>\n'
                   '            <MiningField invalidValueTreatment="asIs" name="Sepal_Width"/>')
    text = changed(text, '<Coefficients absoluteValue="-1.4496005148787394"',
                   '<Coefficients absoluteValue="minus one"')
    problems = validate(text)
    assert any(p.severity == ERROR and p.line == line_of(text, 'absoluteValue="minus one"')
               for p in problems)
    assert [p.line for p in problems if "duplicate MiningField 'Sepal_Width'" in p.message] \
        == [40]
