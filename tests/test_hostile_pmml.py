"""Documents built to cost unbounded time, memory or stack: each is refused at load with a
DocumentError naming element and line, or scores correctly within bounded work.

A service loads strangers' documents: a small document must not cause exponential work per row,
huge allocations, or a RecursionError anywhere in load, validate or predict.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

import portmodel
from portmodel import DocumentError, ResourceLimitError
from portmodel.pmml import limits
from portmodel.pmml.validate import validate

FIELDS = """
<DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/>
"""


def regression(predictor: str) -> str:
    """y = 1 + 2 * predictor."""
    return f"""
<RegressionModel functionName="regression">
<MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
<RegressionTable intercept="1"><NumericPredictor name="{predictor}" coefficient="2"/>
</RegressionTable>
</RegressionModel>"""


def function_chain(k: int, same_args: bool) -> str:
    """f0(a) = a; f_i(a) = f_{i-1}(A1) + f_{i-1}(A2); d = f_k(x). With same_args A1 = A2 = a
    (so f_k(x) = 2^k x), else A1 = a + 1, A2 = a - 1 (2^k distinct calls)."""
    parts = ['<DefineFunction name="f0" optype="continuous" dataType="double">'
             '<ParameterField name="a"/><FieldRef field="a"/></DefineFunction>']
    for i in range(1, k + 1):
        if same_args:
            a1 = a2 = '<FieldRef field="a"/>'
        else:
            a1 = '<Apply function="+"><FieldRef field="a"/><Constant>1</Constant></Apply>'
            a2 = '<Apply function="-"><FieldRef field="a"/><Constant>1</Constant></Apply>'
        parts.append(f'<DefineFunction name="f{i}" optype="continuous" dataType="double">'
                     f'<ParameterField name="a"/><Apply function="+">'
                     f'<Apply function="f{i - 1}">{a1}</Apply>'
                     f'<Apply function="f{i - 1}">{a2}</Apply></Apply></DefineFunction>')
    parts.append(f'<DerivedField name="d" optype="continuous" dataType="double">'
                 f'<Apply function="f{k}"><FieldRef field="x"/></Apply></DerivedField>')
    return "\n".join(parts)


# ------------------------------------------------------------------ 6. exponential functions

@pytest.mark.parametrize("k", [20, 40])
def test_function_chain_with_shared_calls_scores_fast(pmml_doc, k):
    doc = pmml_doc(FIELDS, regression("d"), transformations=function_chain(k, True))
    start = time.perf_counter()
    model = portmodel.load(doc)
    assert model.predict({"x": 3.0})["y"] == 1 + 2 * 3.0 * 2 ** k
    out = model.predict({"x": np.array([0.0, 1.0, np.nan])})["y"]
    assert out[:2].tolist() == [1.0, 1 + 2.0 * 2 ** k] and np.isnan(out[2])
    assert time.perf_counter() - start < 5      # (2^k evaluations would take minutes)


@pytest.mark.parametrize("k", [20, 40])
def test_function_chain_with_distinct_calls_is_refused_at_load(pmml_doc, k):
    doc = pmml_doc(FIELDS, regression("d"), transformations=function_chain(k, False))
    start = time.perf_counter()
    with pytest.raises(DocumentError, match="nodes per row") as info:
        portmodel.load(doc)
    assert info.value.element == "Apply" and info.value.line is not None
    assert time.perf_counter() - start < 10


def test_short_function_chain_with_distinct_calls_scores_right(pmml_doc):
    doc = pmml_doc(FIELDS, regression("d"), transformations=function_chain(4, False))
    # f_k(a) = 2^k a (the +1 and -1 cancel)
    assert portmodel.load(doc).predict({"x": 3.0})["y"] == 1 + 2 * 3.0 * 16


def test_expression_cost_cap_is_configurable(pmml_doc, monkeypatch):
    doc = pmml_doc(FIELDS, regression("d"), transformations=function_chain(6, False))
    portmodel.load(doc)
    monkeypatch.setattr(limits, "MAX_EXPRESSION_COST", 50)
    with pytest.raises(DocumentError, match="MAX_EXPRESSION_COST"):
        portmodel.load(doc)


def test_shared_calls_inside_if_branches_still_count(pmml_doc, monkeypatch):
    """if(c, f(a), f(a)): the branches run apart, so both calls count (and run)."""
    parts = ['<DefineFunction name="g0" optype="continuous" dataType="double">'
             '<ParameterField name="a"/><FieldRef field="a"/></DefineFunction>']
    for i in range(1, 13):
        call = f'<Apply function="g{i - 1}"><FieldRef field="a"/></Apply>'
        parts.append(f'<DefineFunction name="g{i}" optype="continuous" dataType="double">'
                     f'<ParameterField name="a"/><Apply function="if"><Apply function='
                     f'"greaterThan"><FieldRef field="a"/><Constant>0</Constant></Apply>'
                     f'{call}{call}</Apply></DefineFunction>')
    parts.append('<DerivedField name="d" optype="continuous" dataType="double">'
                 '<Apply function="g12"><FieldRef field="x"/></Apply></DerivedField>')
    doc = pmml_doc(FIELDS, regression("d"), transformations="\n".join(parts))
    assert portmodel.load(doc).predict({"x": np.array([2.0, -1.0])})["y"].tolist() == [5, -1]
    monkeypatch.setattr(limits, "MAX_EXPRESSION_COST", 2 ** 12)
    with pytest.raises(DocumentError, match="nodes per row"):
        portmodel.load(doc)


def test_scoring_past_its_timeout_raises_resource_limit_error(pmml_doc):
    doc = pmml_doc(FIELDS, regression("d"), transformations=function_chain(10, False))
    model = portmodel.load(doc, timeout=1e-9)
    with pytest.raises(ResourceLimitError, match="time limit"):
        model.predict({"x": np.arange(3.0)})
    with pytest.raises(ResourceLimitError):
        model.predict([{"x": 1.0}], errors="mark")
    assert portmodel.load(doc, timeout=60).predict({"x": 1.0})["y"] == 1 + 2 * 1024


def test_module_default_timeout(pmml_doc, monkeypatch):
    doc = pmml_doc(FIELDS, regression("d"), transformations=function_chain(10, False))
    model = portmodel.load(doc)
    monkeypatch.setattr(limits, "SCORE_TIMEOUT", 1e-9)
    with pytest.raises(ResourceLimitError):
        model.predict({"x": np.arange(3.0)})


# ------------------------------------------------------------------ 10. recursion depth

def derived_chain(k: int, reverse: bool = False) -> str:
    """d0 = x; d_i = d_{i-1} + 1 (so d_k = x + k); in reverse document order if asked."""
    parts = ['<DerivedField name="d0" optype="continuous" dataType="double">'
             '<FieldRef field="x"/></DerivedField>']
    for i in range(1, k + 1):
        parts.append(f'<DerivedField name="d{i}" optype="continuous" dataType="double">'
                     f'<Apply function="+"><FieldRef field="d{i - 1}"/><Constant>1</Constant>'
                     f'</Apply></DerivedField>')
    return "\n".join(reversed(parts) if reverse else parts)


@pytest.mark.parametrize("k, reverse", [(166, False), (5000, False), (5000, True)])
def test_long_derived_field_chain_scores(pmml_doc, k, reverse):
    doc = pmml_doc(FIELDS, regression(f"d{k}"), transformations=derived_chain(k, reverse))
    model = portmodel.load(doc)
    assert model.predict({"x": 1.0})["y"] == 1 + 2 * (1 + k)
    assert model.predict({"x": np.array([1.0, np.nan])})["y"][0] == 1 + 2 * (1 + k)
    assert model.predict([{"x": 2.0}])[0]["y"] == 1 + 2 * (2 + k)
    assert not [p for p in validate(doc) if p.severity == "error"]


def test_long_derived_field_chain_in_local_transformations(pmml_doc):
    model_el = regression("d3000").replace(
        "</MiningSchema>", "</MiningSchema><LocalTransformations>" + derived_chain(3000, True) +
        "</LocalTransformations>")
    model = portmodel.load(pmml_doc(FIELDS, model_el))
    assert model.predict({"x": np.array([1.0, 2.0])})["y"].tolist() == [6003.0, 6005.0]


def test_derived_field_cycle_through_a_long_chain_is_refused(pmml_doc):
    chain = derived_chain(3000).replace('<FieldRef field="x"/>', '<FieldRef field="d3000"/>')
    with pytest.raises(DocumentError, match="cycle"):
        portmodel.load(pmml_doc(FIELDS, regression("d3000"), transformations=chain))


def nested(kind: str, k: int) -> str:
    e = '<FieldRef field="x"/>'
    for _ in range(k):
        if kind == "if":
            e = (f'<Apply function="if"><Apply function="greaterThan"><FieldRef field="x"/>'
                 f'<Constant>0</Constant></Apply>{e}<Constant>1</Constant></Apply>')
        elif kind == "sum":
            e = f'<Apply function="sum" mapMissingTo="1">{e}<Constant>1</Constant></Apply>'
        else:
            e = f'<Apply function="+">{e}<Constant>1</Constant></Apply>'
    return f'<DerivedField name="d" optype="continuous" dataType="double">{e}</DerivedField>'


@pytest.mark.parametrize("kind", ["if", "sum", "+"])
def test_deeply_nested_expressions_never_raise_recursion_error(pmml_doc, kind):
    ok = pmml_doc(FIELDS, regression("d"), transformations=nested(kind, 90))
    model = portmodel.load(ok)
    assert model.predict({"x": np.array([1.0, 2.0])})["y"][0] == {"if": 3, "sum": 183,
                                                                  "+": 183}[kind]
    assert not [p for p in validate(ok) if p.severity == "error"]
    # the XML parser stops at 256 levels: the deepest document that parses
    deep = pmml_doc(FIELDS, regression("d"), transformations=nested(kind, 120 if kind == "if"
                                                                     else 250))
    with pytest.raises(DocumentError, match="nest deeper|depth") as info:
        portmodel.load(deep)
    assert info.value.line is not None
    assert [p for p in validate(deep) if p.severity == "error"]


# ------------------------------------------------------------------ 11. many fields

def many_fields(n: int) -> str:
    fields = "\n".join(f'<DataField name="x{i}" optype="continuous" dataType="double"/>'
                       for i in range(n))
    derived = "\n".join(f'<DerivedField name="d{i}" optype="continuous" dataType="double">'
                        f'<FieldRef field="x{i}"/></DerivedField>' for i in range(n))
    mining = "".join(f'<MiningField name="x{i}"/>' for i in range(n))
    terms = "".join(f'<NumericPredictor name="d{i}" coefficient="1"/>' for i in range(n))
    from conftest import build_pmml
    return build_pmml(fields + '<DataField name="y" optype="continuous" dataType="double"/>',
                      f'<RegressionModel functionName="regression"><MiningSchema>{mining}'
                      f'<MiningField name="y" usageType="target"/></MiningSchema>'
                      f'<RegressionTable intercept="0">{terms}</RegressionTable>'
                      f'</RegressionModel>', transformations=derived)


def test_load_time_is_linear_in_the_number_of_fields():
    """40k fields load in about 4x the time of 10k (quadratic: 16x). Best of two runs each,
    and a generous bound, for a busy machine."""
    def best(n: int) -> float:
        doc = many_fields(n).encode()
        times = []
        for _ in range(2):
            start = time.perf_counter()
            model = portmodel.load(doc)
            times.append(time.perf_counter() - start)
        assert len(model.inputs) == n
        return min(times)
    small, large = best(10_000), best(40_000)
    assert large / small < 9, (small, large)


# ------------------------------------------------------------------ found by the property test

def test_regression_ensemble_of_classifiers_is_refused_at_load(pmml_doc):
    """functionName="regression" (or none: its default) averaging trees that predict labels."""
    fields = FIELDS + ('<DataField name="c" optype="categorical" dataType="string">'
                       '<Value value="A"/><Value value="B"/></DataField>')
    tree = ('<TreeModel functionName="classification"><MiningSchema><MiningField name="x"/>'
            '<MiningField name="c" usageType="target"/></MiningSchema><Node score="A"><True/>'
            '</Node></TreeModel>')
    doc = pmml_doc(fields, '<MiningModel><MiningSchema><MiningField name="x"/>'
                   '<MiningField name="y" usageType="target"/></MiningSchema>'
                   '<Segmentation multipleModelMethod="average"><Segment><True/>' + tree +
                   '</Segment></Segmentation></MiningModel>')
    with pytest.raises(DocumentError, match="combines numbers") as info:
        portmodel.load(doc)
    assert info.value.element == "TreeModel" and info.value.line is not None


@pytest.mark.parametrize("cell", ["NaN", "1e300"])
def test_gaussian_process_training_values_must_be_usable(cell):
    from test_gaussian_process import doc
    kernel = '<RadialBasisKernel gamma="1" noiseVariance="0.01" lambda="1"/>'
    bad = doc(kernel, X=np.array([[0.0, 1.0], [float(cell), 2.0]]), y=np.array([1.0, 2.0]))
    with pytest.raises(DocumentError, match="finite") as info:
        portmodel.load(bad)
    assert info.value.line is not None


def test_transition_matrix_without_matrix_is_a_document_error():
    from test_time_series import STATE_SPACE, doc
    bad = doc(STATE_SPACE.replace(STATE_SPACE[STATE_SPACE.index("<TransitionMatrix>"):
                                              STATE_SPACE.index("</TransitionMatrix>")],
                                  "<TransitionMatrix>"), best="StateSpaceModel")
    with pytest.raises(DocumentError, match="TransitionMatrix has no Matrix"):
        portmodel.load(bad)


def test_instance_field_without_field_and_value_without_value(pmml_doc):
    from test_nearest_neighbor import doc
    with pytest.raises(DocumentError, match="'field'") as info:
        portmodel.load(doc().replace('<InstanceField field="x"', '<InstanceField', 1))
    assert info.value.element == "InstanceField"
    fields = FIELDS.replace('dataType="double"/>', 'dataType="double"><Value/></DataField>', 1)
    with pytest.raises(DocumentError, match="'value'") as info:
        portmodel.load(pmml_doc(fields, regression("x")))
    assert info.value.element == "Value"


def test_reciprocal_activation_of_zero_is_infinite_as_in_numpy():
    """z = 0.5 x1 - 0.25 x2 + 0.1 = 0 at (0, 0.4): 1/z is inf (IEEE), never ZeroDivisionError,
    in the compiled kernel as in its numpy twin."""
    from test_neural_network import doc, one_neuron, score
    out = score(doc(one_neuron('activationFunction="reciprocal"')), rows=[(0.0, 0.4), (1.0, 2.0)])
    assert out["y"].tolist() == [np.inf, 1.0 / 0.1]


def test_integer_constants_of_a_document_are_finite(pmml_doc):
    expr = ('<Discretize field="x" dataType="integer"><DiscretizeBin binValue="NaN">'
            '<Interval closure="closedOpen" leftMargin="0"/></DiscretizeBin></Discretize>')
    doc = pmml_doc(FIELDS, regression("d"), transformations=(
        f'<DerivedField name="d" optype="continuous" dataType="integer">{expr}</DerivedField>'))
    with pytest.raises(DocumentError, match="binValue='NaN'") as info:
        portmodel.load(doc)
    assert info.value.element == "DiscretizeBin"


def test_huge_uniform_distribution_never_overflows():
    """upper=1e308: the variance overflows to inf (IEEE), never an OverflowError; infinite or
    NaN parameters are refused at load."""
    from test_baseline import doc, score
    got = score(doc('testStatistic="CUSUM"', '<UniformDistribution lower="0" upper="10"/>',
                    '<UniformDistribution lower="0" upper="1e308"/>'), x=[5.0])
    assert got.tolist() == [0.0]        # (max(0, 0 + log(10/1e308)) with reset 0)
    with pytest.raises(DocumentError, match="finite") as info:
        portmodel.load(doc('testStatistic="CUSUM"', '<UniformDistribution lower="0" upper="10"/>',
                           '<UniformDistribution lower="0" upper="INF"/>'))
    assert info.value.element == "UniformDistribution"


@pytest.mark.parametrize("altitude", ["0", "-2", "NaN"])
def test_radial_basis_altitude_must_be_positive(altitude):
    """Its logarithm is taken when scoring: refused at load, not a math domain error later."""
    from test_neural_network import doc, one_neuron
    with pytest.raises(DocumentError, match="altitude") as info:
        portmodel.load(doc(one_neuron(f'activationFunction="radialBasis" width="1" '
                                      f'altitude="{altitude}"')))
    assert info.value.element == "Neuron" and info.value.line is not None
