"""The numba kernels of the dense models (neural networks, naive Bayes, distance measures for
clustering and k-NN) against their numpy twins, bit for bit.

The numpy twins are the reference: they run the arithmetic the model modules always ran (checked
by each model's tests and by the conformance corpus against JPMML-Evaluator to 1e-13..1e-15), and
PORTMODEL_NO_NUMBA=1 switches every model back to them. Each kernel must give exactly the same
doubles: same additions in the same order, no fused multiply-adds, NaN/inf/-0.0 handled the same.
Kernel-level checks feed both sides random values mixed with special ones; document-level checks
score random documents with numba on and off and compare every output column.
"""
from __future__ import annotations

import functools
import math
import os
import re

import numpy as np
import pandas as pd
import pytest

import portmodel

pytest.importorskip("numba")
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # overflow on purpose

from portmodel.pmml.models import _kernels_numba as K  # noqa: E402
from portmodel.pmml.models import clustering, comparison, naive_bayes  # noqa: E402
from portmodel.pmml.models import nearest_neighbor  # noqa: E402
from portmodel.pmml.models import neural_network as nn  # noqa: E402
from portmodel.pmml.models.row_blocks import column_block  # noqa: E402
from portmodel.pmml.values import Col  # noqa: E402

SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e308, -1e308, 1.0,
                    -1.0, 0.5, 1e-300])


def values(rng: np.random.Generator, shape, special: float = 0.05) -> np.ndarray:
    """Random doubles over many magnitudes, a share of them special values."""
    x = rng.standard_normal(shape) * np.exp(rng.uniform(-8, 8, shape))
    mask = rng.random(shape) < special
    x[mask] = rng.choice(SPECIAL, size=int(mask.sum()))
    return x


def assert_bits(a, b) -> None:
    """Same doubles bit for bit (NaN matches any NaN; -0.0 does not match 0.0)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    nan = np.isnan(a)
    np.testing.assert_array_equal(nan, np.isnan(b))
    ia, ib = a[~nan].view(np.uint64), b[~nan].view(np.uint64)
    bad = np.flatnonzero(ia != ib)
    assert not len(bad), f"{len(bad)} values differ, e.g. {a[~nan][bad[:3]]} vs {b[~nan][bad[:3]]}"


def assert_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f" and y.dtype.kind == "f":
            assert_bits(x, y)
        else:
            assert [None if v is None or v != v else v for v in x] == \
                   [None if v is None or v != v else v for v in y], c


def both_backends(monkeypatch, document: str, data: pd.DataFrame) -> None:
    """Score with the numba kernels and with the numpy twins; every output must agree."""
    monkeypatch.delenv("PORTMODEL_NO_NUMBA", raising=False)
    with_numba = portmodel.load(document).predict(data, errors="mark")
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    with_numpy = portmodel.load(document).predict(data, errors="mark")
    monkeypatch.delenv("PORTMODEL_NO_NUMBA")
    assert_frames(with_numba, with_numpy)


def test_switch_selects_the_backend(monkeypatch):
    from portmodel.pmml.models.compute_backend import kernels
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    assert kernels() is None
    monkeypatch.delenv("PORTMODEL_NO_NUMBA")
    assert kernels() is K


# ---------------------------------------------------------------- neural network

LAYER_ACTS = [("identity", None), ("rectifier", None), ("rectifier", 0.01), ("threshold", None),
              ("square", None), ("reciprocal", None), ("Elliott", None), ("logistic", None),
              ("tanh", None)]


def random_layer(seed: int, act: str, leak, rows: int, sparse: bool, bias_only: bool = False):
    """(activations rows x (13 inputs + 6 neurons), a random layer over them, the numpy twin's
    activations): 10 of the inputs read in first-use order, not sorted; bias_only leaves the
    first neuron without connections."""
    rng = np.random.default_rng(seed)
    n_in, k = 13, 6
    acts = values(rng, (rows, n_in + k))
    src = rng.permutation(n_in)[:10]
    weights = values(rng, (len(src), k), special=0.03)
    connected = rng.random((len(src), k)) < (0.6 if sparse else 1.1)
    if bias_only:
        connected[:, 0] = False
    weights[~connected] = 0.0
    bias = values(rng, k, special=0.1)
    layer = nn.Layer(act, 0.25, leak, "none", n_in, [str(j) for j in range(k)], src, weights,
                     bias, connected)
    layer.dense = connected.all(axis=1)
    expected = acts.copy()
    expected[:, n_in:] = nn.activate(act, nn.weighted_sums(layer, acts), 0.25, leak)
    return acts, layer, expected


@pytest.mark.parametrize("act,leak", LAYER_ACTS)
@pytest.mark.parametrize("rows", [1, 3, 4, 7, 1030])
@pytest.mark.parametrize("sparse", [False, True])
def test_layer_forward_matches_rank_one_updates(act, leak, rows, sparse):
    acts, layer, expected = random_layer(rows * 7 + sparse, act, leak, rows, sparse)
    n_in = layer.start
    got = acts.copy()
    code, param = nn._kernel_activation(layer)
    K.layer_forward(got, layer.src, layer.dense, layer.connected, layer.weights, layer.bias,
                    code, param, n_in)
    if code == 0:
        got[:, n_in:] = nn.activate(act, got[:, n_in:], 0.25, leak)
    assert_bits(got, expected)


#: layers covering every activation code of the kernel, and one numpy finishes (logistic)
KERNEL_NETWORK = [(9, "rectifier", "none"), (6, "rectifier", "none"), (5, "identity", "none"),
                  (8, "threshold", "none"), (4, "square", "none"), (3, "reciprocal", "none"),
                  (2, "Elliott", "none"), (3, "logistic", "none"), (2, "identity", "none")]


def test_network_plan_groups_are_the_kernels():
    """The plan groups neurons in the sizes network_forward sums together."""
    assert nn._GROUP_SIZES == K.GROUP_SIZES


#: row counts around network_forward's tile
TILE_ROWS = [K._NET_TILE - 1, K._NET_TILE, K._NET_TILE + 1, 4 * K._NET_TILE + 1, 1100]


@pytest.mark.parametrize("rows", [0, 1, 3] + TILE_ROWS)
@pytest.mark.parametrize("sparse,bias_only", [(0.0, False), (0.3, False), (0.0, True)])
def test_network_forward_matches_rank_one_updates(rows, sparse, bias_only):
    """network_forward (every layer of a run over tiles of rows, groups of 8, 4, 2 or 1 neurons
    with the same inputs summed together, bias and activation applied by the sums where the
    kernel can) gives the numpy twin's doubles layer by layer, on inputs with special values,
    for row counts around its tile (_NET_TILE rows) and every group size (sparse layers read
    different inputs per neuron: groups of one; bias_only: two neurons per layer without
    connections, a group of their own)."""
    rng = np.random.default_rng(rows * 3 + int(sparse * 10) + bias_only)
    model = portmodel.load(network(rng, KERNEL_NETWORK, 7, sparse, bias_only=bias_only)).model
    plan = model.plan
    if bias_only:
        assert (np.diff(plan.ptr)[plan.bounds[:-1]] == 0).all()
        assert (plan.group[plan.bounds[:-1]] == 2).all()
    elif sparse == 0.0:
        # dense layers of 9, 6, 5, 8, 4, 3, 2, 3, 2 neurons: groups of 8, 4, 2, 1, largest first
        assert list(plan.group[plan.group > 0]) == [8, 1, 4, 2, 4, 1, 8, 4, 2, 1, 2, 2, 1, 2]
    acts = values(rng, (rows, model.total))
    expected = acts.copy()
    for layer in model.layers:
        sl = slice(layer.start, layer.start + layer.size)
        expected[:, sl] = nn.activate(layer.activation, nn.weighted_sums(layer, expected),
                                      layer.threshold, layer.leakage)
    got = np.ascontiguousarray(acts.T)
    flat, off = column_block(list(got[:plan.bounds[0]]))
    miss = np.zeros(rows, bool)
    for l0, l1, post in plan.steps:
        K.network_forward(got, flat, off, 0, miss, False, K.INPUTS_IN_BLOCK, l0, l1,
                          plan.bounds, plan.act, plan.param, plan.ptr, plan.idx, plan.w,
                          plan.bias, plan.group)
        if post is not None:
            layer = model.layers[post]
            sl = slice(layer.start, layer.start + layer.size)
            got[sl] = nn.activate(layer.activation, got[sl], layer.threshold, layer.leakage)
    assert_bits(got.T, expected)


@pytest.mark.parametrize("rows", [1, 9] + TILE_ROWS)
@pytest.mark.parametrize("nan_missing", [True, False])
@pytest.mark.parametrize("sparse", [0.0, 0.3])
def test_network_forward_reads_inputs_in_place(rows, nan_missing, sparse):
    """With the inputs read in place (the block's first call marks the missing rows tile by
    tile, later calls read the same tiles in place or from the block), every neuron gets the
    numpy twin's doubles over the inputs with the missing rows' inputs set to 0; the rows with
    a NaN input (nan_missing) are marked missing on top of the rows known missing; the block's
    input rows are written only in tiles that hold a missing row. The columns come from a
    wider buffer, rows lo.. of it (as a block of a batch)."""
    rng = np.random.default_rng(rows * 5 + nan_missing + int(sparse * 10))
    model = portmodel.load(network(rng, KERNEL_NETWORK, 7, sparse)).model
    plan = model.plan
    assert plan.fused_inputs
    n_in, lo = int(plan.bounds[0]), 3
    buffer = values(rng, (n_in, lo + rows + 5))
    cols = buffer[:, lo:lo + rows]
    known = rng.random(rows) < 0.1
    if rows > 500:              # every other tile without a special value or a known-missing row
        for b0 in range(K._NET_TILE, rows, 2 * K._NET_TILE):
            cols[:, b0:b0 + K._NET_TILE] = values(rng, cols[:, b0:b0 + K._NET_TILE].shape, 0.0)
            known[b0:b0 + K._NET_TILE] = False
    want_missing = known | (np.isnan(cols).any(axis=0) if nan_missing else False)
    acts = np.zeros((rows, model.total))
    acts[:, :n_in] = np.where(want_missing[:, None], 0.0, cols.T)
    expected = acts.copy()
    for layer in model.layers:
        sl = slice(layer.start, layer.start + layer.size)
        expected[:, sl] = nn.activate(layer.activation, nn.weighted_sums(layer, expected),
                                      layer.threshold, layer.leakage)
    flat, off = column_block(list(buffer))
    got = np.full((model.total, rows), 7.0)
    miss = known.copy()
    inputs = K.INPUTS_FIRST
    for l0, l1, post in plan.steps:
        K.network_forward(got, flat, off, lo, miss, nan_missing, inputs, l0, l1, plan.bounds,
                          plan.act, plan.param, plan.ptr, plan.idx, plan.w, plan.bias,
                          plan.group)
        inputs = K.INPUTS_LATER
        if post is not None:
            layer = model.layers[post]
            sl = slice(layer.start, layer.start + layer.size)
            got[sl] = nn.activate(layer.activation, got[sl], layer.threshold, layer.leakage)
    np.testing.assert_array_equal(miss, want_missing)
    assert_bits(got[n_in:].T, expected[:, n_in:])
    tile = K._NET_TILE
    kinds = set()
    for b0 in range(0, rows, tile):
        block_rows = got[:n_in, b0:b0 + tile]
        kinds.add(bool(want_missing[b0:b0 + tile].any()))
        if want_missing[b0:b0 + tile].any():
            assert_bits(block_rows.T, acts[b0:b0 + tile, :n_in])
        else:
            assert (block_rows == 7.0).all()
    if rows > 500:
        assert kinds == {True, False}       # tiles read in place and tiles copied


@pytest.mark.parametrize("rows", [0, 1, 7, 300])
@pytest.mark.parametrize("nan_missing", [True, False])
def test_network_inputs_copy_and_mark_missing_rows(rows, nan_missing):
    """network_inputs copies rows lo.. of the columns (read in place from a wider buffer) into
    a block, marks the rows with a NaN input missing (nan_missing) on top of the rows known
    missing, and zeroes every input of a missing row; others keep their values bit for bit
    (infinities, -0.0 included)."""
    rng = np.random.default_rng(rows + nan_missing)
    lo, n_in, total = 5, 4, 9
    buffer = values(rng, (n_in + 1, lo + rows + 3), special=0.1)
    flat, off = column_block([buffer[2], buffer[0], buffer[4], buffer[1]])
    cols = np.stack([buffer[2], buffer[0], buffer[4], buffer[1]])[:, lo:lo + rows]
    known = rng.random(rows) < 0.1
    miss = known.copy()
    a = np.full((total, rows), 7.0)
    found = K.network_inputs(flat, off, lo, a, miss, nan_missing)
    want = known | (np.isnan(cols).any(axis=0) if nan_missing else False)
    np.testing.assert_array_equal(miss, want)
    assert found == bool(want.any())
    expected = np.where(want, 0.0, cols)
    assert_bits(a[:n_in], expected)
    assert (a[n_in:] == 7.0).all()


@pytest.mark.parametrize("shape", [(1, 4096), (3, 1000), (1, 1), (2, 7)])
def test_logistic_in_place_equals_activate(shape):
    """The block path's in-place logistic gives activate's doubles (special values included)."""
    rng = np.random.default_rng(shape[1])
    z = values(rng, shape, special=0.2) * 100
    want = nn.activate("logistic", z)
    got = z.copy()
    nn._logistic_in_place(got)
    assert_bits(got, want)


def network(rng: np.random.Generator, layers: list[tuple[int, str, str]], n_inputs: int,
            sparse: float, classes: int = 0, bias_only: bool = False) -> str:
    """A random feed-forward network document: layers of (neurons, activation, normalization);
    each neuron reads a random subset of all earlier neurons (sparse: share left out);
    bias_only: each layer's first two neurons read none (their value is act(bias))."""
    fields = "".join(f'<DataField name="x{i}" optype="continuous" dataType="double"/>'
                     for i in range(n_inputs))
    mining = "".join(f'<MiningField name="x{i}"/>' for i in range(n_inputs))
    inputs = "".join(f'<NeuralInput id="in{i}"><DerivedField optype="continuous" '
                     f'dataType="double"><FieldRef field="x{i}"/></DerivedField></NeuralInput>'
                     for i in range(n_inputs))
    earlier = [f"in{i}" for i in range(n_inputs)]
    body = []
    for li, (size, act, norm) in enumerate(layers):
        neurons = []
        for j in range(size):
            cons = "".join(f'<Con from="{e}" weight="{rng.normal() * 0.7!r}"/>'
                           for e in rng.permutation(earlier) if rng.random() >= sparse)
            if bias_only and j < 2:
                cons = ""
            neurons.append(f'<Neuron id="n{li}_{j}" bias="{rng.normal() * 0.3!r}">{cons}</Neuron>')
        attrs = f'activationFunction="{act}" normalizationMethod="{norm}"'
        if act == "rectifier" and li % 2:
            attrs += ' leakage="0.05"'
        if act == "radialBasis":
            attrs += ' width="1.7" altitude="1.2"'
        body.append(f'<NeuralLayer {attrs} threshold="0.1">{"".join(neurons)}</NeuralLayer>')
        earlier = [f"n{li}_{j}" for j in range(size)] + (earlier if sparse else [])
    last = len(layers) - 1
    if classes:
        target = ('<DataField name="y" optype="categorical" dataType="string">'
                  + "".join(f'<Value value="c{j}"/>' for j in range(classes)) + "</DataField>")
        outs = "".join(f'<NeuralOutput outputNeuron="n{last}_{j}"><DerivedField optype='
                       f'"categorical" dataType="string"><NormDiscrete field="y" value="c{j}"/>'
                       f'</DerivedField></NeuralOutput>' for j in range(classes))
        function = "classification"
        output = ("<Output>" + "".join(f'<OutputField name="p{j}" feature="probability" '
                                       f'value="c{j}"/>' for j in range(classes)) + "</Output>")
    else:
        target = '<DataField name="y" optype="continuous" dataType="double"/>'
        outs = (f'<NeuralOutput outputNeuron="n{last}_0"><DerivedField optype="continuous" '
                f'dataType="double"><FieldRef field="y"/></DerivedField></NeuralOutput>')
        function, output = "regression", ""
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>{fields}{target}</DataDictionary>
<NeuralNetwork functionName="{function}" activationFunction="identity">
<MiningSchema><MiningField name="y" usageType="target"/>{mining}</MiningSchema>{output}
<NeuralInputs>{inputs}</NeuralInputs>{"".join(body)}
<NeuralOutputs>{outs}</NeuralOutputs>
</NeuralNetwork></PMML>"""


def frame(rng: np.random.Generator, names: list[str], rows: int, missing: float = 0.02,
          scale: float = 2.0) -> pd.DataFrame:
    df = pd.DataFrame({c: rng.normal(size=rows) * scale for c in names})
    for c in names:
        df.loc[rng.random(rows) < missing, c] = np.nan
    return df


@pytest.mark.parametrize("layers,sparse,classes", [
    ([(9, "rectifier", "none"), (5, "logistic", "none"), (3, "identity", "softmax")], 0.0, 3),
    ([(7, "tanh", "none"), (4, "rectifier", "none"), (2, "Elliott", "simplemax")], 0.3, 2),
    ([(6, "threshold", "none"), (5, "square", "none"), (1, "identity", "none")], 0.2, 0),
    ([(8, "rectifier", "none"), (6, "reciprocal", "none"), (1, "arctan", "none")], 0.4, 0),
    ([(70, "identity", "none"), (5, "rectifier", "none"), (1, "identity", "none")], 0.0, 0),
    ([(6, "radialBasis", "none"), (5, "Gauss", "none"), (4, "sine", "none"),
      (3, "exponential", "simplemax")], 0.2, 3),
    ([(5, "cosine", "none"), (4, "rectifier", "softmax"), (2, "logistic", "none")], 0.5, 2),
])
def test_networks_score_the_same_with_and_without_numba(monkeypatch, layers, sparse, classes):
    rng = np.random.default_rng(len(layers) * 31 + int(sparse * 10) + classes)
    doc = network(rng, layers, 12, sparse, classes)
    data = frame(rng, [f"x{i}" for i in range(12)], 2 * nn.ROW_BLOCK + 37)
    both_backends(monkeypatch, doc, data)


def test_network_whose_output_is_an_input_scores_the_same_with_and_without_numba(monkeypatch):
    """An output neuron that is an input neuron: the block path copies the inputs into the block
    (they are not only read by the compiled layers) and gives the numpy twin's answers: the
    input's value, missing where any input is."""
    rng = np.random.default_rng(8)
    doc = network(rng, [(6, "rectifier", "none"), (1, "identity", "none")], 5, 0.0)
    last = re.search(r'outputNeuron="([^"]+)"', doc).group(1)
    doc = doc.replace(f'outputNeuron="{last}"', 'outputNeuron="in3"')
    plan = portmodel.load(doc).model.plan
    assert not plan.fused_inputs
    data = frame(rng, [f"x{i}" for i in range(5)], nn.ROW_BLOCK + 600)
    both_backends(monkeypatch, doc, data)
    got = portmodel.load(doc).predict(data)
    want = np.where(data.isna().any(axis=1), np.nan, data["x3"])   # (a missing input: no answer)
    np.testing.assert_array_equal(got["y"].to_numpy(), want)


# ---------------------------------------------------------------- naive Bayes


@pytest.mark.parametrize("cut", [-745.0, -1.0])
@pytest.mark.parametrize("rows", [1, 5, 333])
def test_gauss_exponents_match_numpy(rows, cut):
    rng = np.random.default_rng(rows)
    xs = values(rng, (4, rows + 10))
    feat = np.array([0, 0, 1, 3, 2, 3], np.int64)
    mean = values(rng, 6, special=0.0)
    sd = np.sqrt(np.abs(values(rng, 6, special=0.0)))
    c = np.log(sd) + 0.9189385332046727
    expected, got = np.empty((6, rows)), np.empty((6, rows))
    want = naive_bayes._gauss_exponents(xs[:, 7:7 + rows], feat, mean, sd, c, cut, expected)
    flat, off = column_block(list(xs))
    assert K.gauss_exponents(flat, off, 7, feat, mean, sd, c, cut, got) == want
    assert_bits(got, expected)
    assert want == np.count_nonzero(expected < cut)


def test_add_terms_match_numpy():
    rng = np.random.default_rng(4)
    terms = values(rng, (9, 101))
    rows = np.array([3, 0, 8, 1, 1, 5, 2], np.int64)
    cls = np.array([0, 2, 1, 0, 2, 1, 0], np.int64)
    start = values(rng, (3, 101), special=0.2)
    a, b = start.copy(), start.copy()
    naive_bayes._add_terms(terms, rows, cls, a)
    K.add_terms(terms, rows, cls, b)
    assert_bits(b, a)


@pytest.mark.parametrize("k", [1, 2, 3, 9])
def test_softmax_equals_numpy_row_reductions(k):
    """The class-major softmax gives what the row-major numpy formula gives (two classes take
    an elementwise shortcut)."""
    rng = np.random.default_rng(k)
    logp = values(rng, (k, 3000), special=0.02) * 50
    with np.errstate(all="ignore"):
        lp = np.ascontiguousarray(logp.T)
        shifted = np.exp(lp - np.max(lp, axis=1, keepdims=True))
        expected = shifted / shifted.sum(axis=1, keepdims=True)
    got = np.empty_like(logp)
    naive_bayes._softmax(logp.copy(), got)
    assert_bits(got.T, expected)


def bayes_document(rng: np.random.Generator, n_gauss: int, threshold: float) -> str:
    cats = ["a", "b", "c"]
    fields = "".join(f'<DataField name="g{i}" optype="continuous" dataType="double"/>'
                     for i in range(n_gauss))
    fields += ('<DataField name="p" optype="continuous" dataType="double"/>'
               '<DataField name="u" optype="continuous" dataType="double"/>'
               '<DataField name="d" optype="categorical" dataType="string"/>'
               '<DataField name="y" optype="categorical" dataType="string">'
               + "".join(f'<Value value="{c}"/>' for c in cats) + "</DataField>")
    names = [f"g{i}" for i in range(n_gauss)] + ["p", "u", "d"]
    mining = "".join(f'<MiningField name="{n}"/>' for n in names)

    def stats(dist) -> str:
        return "<TargetValueStats>" + "".join(
            f'<TargetValueStat value="{c}">{dist(c)}</TargetValueStat>' for c in cats) + \
            "</TargetValueStats>"

    inputs = []
    for i in range(n_gauss):
        gauss = stats(lambda c: f'<GaussianDistribution mean="{rng.normal()!r}" '
                                f'variance="{rng.uniform(0.05, 4)!r}"/>')
        inputs.append(f'<BayesInput fieldName="g{i}">{gauss}</BayesInput>')
        if i == 1:   # inputs of every kind interleaved with the Gaussian ones
            inputs.append('<BayesInput fieldName="p">' + stats(
                lambda c: f'<PoissonDistribution mean="{rng.uniform(1, 5)!r}"/>') + "</BayesInput>")
            pairs = "".join(
                f'<PairCounts value="{v}"><TargetValueCounts>' + "".join(
                    f'<TargetValueCount value="{c}" count="{int(rng.integers(0, 30))}"/>'
                    for c in cats) + "</TargetValueCounts></PairCounts>" for v in "rgb")
            inputs.append(f'<BayesInput fieldName="d">{pairs}</BayesInput>')
        if i == 3:
            inputs.append('<BayesInput fieldName="u">' + stats(
                lambda c: '<UniformDistribution lower="-1" upper="2"/>') + "</BayesInput>")
    counts = "".join(f'<TargetValueCount value="{c}" count="{int(rng.integers(5, 50))}"/>'
                     for c in cats)
    output = "".join(f'<OutputField name="p_{c}" feature="probability" value="{c}"/>'
                     for c in cats)
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>{fields}</DataDictionary>
<NaiveBayesModel functionName="classification" threshold="{threshold}">
<MiningSchema><MiningField name="y" usageType="target"/>{mining}</MiningSchema>
<Output>{output}</Output>
<BayesInputs>{"".join(inputs)}</BayesInputs>
<BayesOutput fieldName="y"><TargetValueCounts>{counts}</TargetValueCounts></BayesOutput>
</NaiveBayesModel></PMML>"""


@pytest.mark.parametrize("threshold", [0.0, 0.001])
def test_naive_bayes_scores_the_same_with_and_without_numba(monkeypatch, threshold):
    rng = np.random.default_rng(int(threshold * 1000) + 1)
    doc = bayes_document(rng, 6, threshold)
    rows = 2 * naive_bayes.ROW_BLOCK + 11
    data = frame(rng, [f"g{i}" for i in range(6)], rows, scale=3.0)
    data.loc[5, "g2"] = 40.0                           # densities that underflow to 0
    data["p"] = rng.integers(0, 8, rows).astype(float)
    data.loc[7, "p"] = 2.5                             # not a whole number: an error row
    data["u"] = rng.uniform(-2, 3, rows)
    data["d"] = rng.choice(["r", "g", "b", "x", None], rows)
    both_backends(monkeypatch, doc, data)


# ---------------------------------------------------------------- distances


def test_numpy_twin_squares_and_roots_like_power():
    """The numpy twin writes d * d and sqrt where it wrote np.power(d, 2.0) and
    np.power(acc, 0.5): the same doubles."""
    rng = np.random.default_rng(0)
    d = np.abs(values(rng, 200_000, special=0.01))
    with np.errstate(all="ignore"):
        assert_bits(d * d, np.power(d, 2.0))
        assert_bits(np.sqrt(d), np.power(d, 0.5))


def compare_cols(rng: np.random.Generator, n: int, f: int, missing: float) -> list[Col]:
    cols = []
    for _ in range(f):
        v = values(rng, n, special=0.0) if rng.random() < 0.5 else rng.normal(size=n)
        miss = rng.random(n) < missing
        v[miss] = np.nan
        cols.append(Col(v, miss, "double", "continuous"))
    if n > 3 and missing:
        for c in cols:                    # a row with every field missing: undefined
            c.values[2], c.missing[2] = np.nan, True
    return cols


@pytest.mark.parametrize("measure", ["euclidean", "squaredEuclidean", "cityBlock", "chebychev"])
@pytest.mark.parametrize("m", [1, 8, 13, 45])
@pytest.mark.parametrize("missing,weighted,adjust", [(0.0, False, False), (0.1, True, False),
                                                     (0.1, False, True), (0.0, True, True)])
def test_distance_kernels_match_numpy(monkeypatch, measure, m, missing, weighted, adjust):
    rng = np.random.default_rng(m * 13 + int(missing * 10) + weighted * 2 + adjust)
    n, f = 531, 7
    cols = compare_cols(rng, n, f, missing)
    refs = [rng.normal(size=m) for _ in range(f)]
    refs[1][0] = np.nan                    # a reference with no value for a field
    fields = []
    for i in range(f):
        info = portmodel.pmml.dictionary.FieldInfo(f"x{i}", "double", "continuous")
        w = float(rng.uniform(0.2, 3)) if weighted else 1.0
        fields.append(comparison.FieldComparison(f"x{i}", info, w))
    meas = comparison.Measure("distance", measure)
    q = rng.uniform(0.5, 2, f) if adjust else None
    assert comparison.kernel_plan(meas, fields, cols, refs, q) is not None
    got, got_undef = comparison.distances(meas, fields, cols, refs, q)
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    assert comparison.kernel_plan(meas, fields, cols, refs, q) is None
    expected, undef = comparison.distances(meas, fields, cols, refs, q)
    assert_bits(got, expected)
    np.testing.assert_array_equal(got_undef, undef)


def test_has_nan_finds_a_nan_anywhere():
    from numba import njit
    has_nan = njit(lambda flat, start, count: K._has_nan(flat, start, count))
    x = np.array([1.0, -np.inf, np.inf, 0.0, -0.0, 5e-324] * 8)
    for start in (0, 3):
        for count in range(0, 21):
            assert not has_nan(x, start, count)
            for at in range(count):
                y = x.copy()
                y[start + at] = np.nan
                assert has_nan(y, start, count)
                assert not has_nan(y, start + at + 1, count)


@pytest.mark.parametrize("measure", ["euclidean", "squaredEuclidean", "cityBlock", "chebychev"])
@pytest.mark.parametrize("m", [1, 8, 13])
@pytest.mark.parametrize("missing,weighted", [(0.0, False), (0.002, True), (0.002, False)])
def test_raw_distances_match_the_masked_columns(monkeypatch, measure, m, missing, weighted):
    """The user's own columns with NaN for missing, each block of rows looked over for a
    NaN by the kernel: the distances and undefined rows of the columns with their masks
    (numpy twin), blocks with and without a missing value side by side."""
    rng = np.random.default_rng(m * 7 + int(missing * 1000) + weighted)
    n, f = 2 * K._BLOCK * 3 + 37, 6
    cols = compare_cols(rng, n, f, missing)
    refs = [rng.normal(size=m) for _ in range(f)]
    for r in refs:                          # the last reference the first's twin: ties
        r[-1] = r[0]
    fields = [comparison.FieldComparison(f"x{i}", portmodel.pmml.dictionary.FieldInfo(
        f"x{i}", "double", "continuous"), float(rng.uniform(0.2, 3)) if weighted else 1.0)
        for i in range(f)]
    meas = comparison.Measure("distance", measure)
    got, got_undef, best, finite = comparison.raw_distances(meas, fields,
                                                            [c.values for c in cols], refs)
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    assert comparison.raw_distances(meas, fields, [c.values for c in cols], refs) is None
    expected, undef = comparison.distances(meas, fields, cols, refs)
    assert_bits(got, expected)
    np.testing.assert_array_equal(got_undef, undef)
    want_best, want_finite = clustering.best_references(expected, True)
    np.testing.assert_array_equal(best, want_best)
    np.testing.assert_array_equal(finite, want_finite)
    if missing:
        assert undef[2] and 0 < undef.sum() < n


@pytest.mark.parametrize("measure", ["euclidean", "squaredEuclidean", "cityBlock", "chebychev"])
@pytest.mark.parametrize("f,weighted", [(3, False), (4, True), (5, False), (9, True)])
@pytest.mark.parametrize("missing", [0.0, 0.05])
def test_fused_nearest_distances_match_matrix_and_sort(measure, f, weighted, missing):
    """Rows one at a time (missing values) or two at a time (none): the distances and the
    stable order of a full distance matrix sorted by numpy."""
    rng = np.random.default_rng(f * 3 + weighted + int(missing * 100))
    n, m, R = 401, 300, 7
    cols = compare_cols(rng, n, f, missing)
    for c in cols:                          # few distinct values: many tied distances
        c.values[:] = np.where(c.missing, np.nan, np.round(c.values))
    refs = [np.round(rng.normal(size=m)) for _ in range(f)]
    fields = [comparison.FieldComparison(f"x{i}", portmodel.pmml.dictionary.FieldInfo(
        f"x{i}", "double", "continuous"), float(rng.uniform(0.5, 2)) if weighted else 1.0)
        for i in range(f)]
    meas = comparison.Measure("distance", measure)
    kern, *args = comparison.kernel_plan(meas, fields, cols, refs)
    near, near_score = np.empty((n, R), np.int64), np.empty((n, R))
    kern.nearest_distances(*args, True, near, near_score)
    d, _ = comparison.distances(meas, fields, cols, refs)
    order, score = nearest_neighbor.nearest(d, True, R)
    np.testing.assert_array_equal(near, order)
    assert_bits(near_score, score)


@pytest.mark.parametrize("missing", [0.0, 0.05])
def test_parallel_nearest_distances_match_serial(missing):
    rng = np.random.default_rng(int(missing * 100))
    n, f, m, R = 3 * K.NEAREST_CHUNK + 5, 6, 200, 4
    cols = compare_cols(rng, n, f, missing)
    refs = [rng.normal(size=m) for _ in range(f)]
    fields = [comparison.FieldComparison(f"x{i}", portmodel.pmml.dictionary.FieldInfo(
        f"x{i}", "double", "continuous")) for i in range(f)]
    kern, *args = comparison.kernel_plan(comparison.Measure("distance", "euclidean"), fields,
                                         cols, refs)
    serial = np.empty((n, R), np.int64), np.empty((n, R))
    parallel = np.empty((n, R), np.int64), np.empty((n, R))
    kern.nearest_distances(*args, True, *serial)
    kern.nearest_distances_par(*args, True, *parallel)
    np.testing.assert_array_equal(parallel[0], serial[0])
    assert_bits(parallel[1], serial[1])


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("m,R", [(1, 1), (6, 6), (40, 3)])
def test_select_nearest_is_a_stable_partial_argsort(lower, m, R):
    rng = np.random.default_rng(m + R + lower)
    s = np.round(rng.normal(size=(500, m)) * 2)        # ties everywhere
    mask = rng.random(s.shape) < 0.1
    s[mask] = rng.choice([np.nan, np.inf, -np.inf, -0.0], size=int(mask.sum()))
    s[3] = np.nan                                      # a row with no score at all
    near, near_score = np.empty((500, R), np.int64), np.empty((500, R))
    K.select_nearest(s, lower, near, near_score)
    order, score = nearest_neighbor.nearest(s, lower, R)
    np.testing.assert_array_equal(near, order)
    assert_bits(near_score, score)


@pytest.mark.parametrize("scale", [1.0, 1e-160, 1e150])
@pytest.mark.parametrize("m,R", [(1, 1), (7, 7), (300, 1), (300, 5)])
def test_select_roots_is_the_selection_of_the_roots(m, R, scale):
    """The nearest by euclidean distance, roots taken only where they can matter: the same
    references and distances as selecting among every root, also where neighbouring sums
    share a root (the earlier reference wins that tie), at scales whose squares lose digits
    or overflow, and with NaN, inf and zero sums."""
    rng = np.random.default_rng(m + R)
    s = (np.round(rng.normal(size=(300, m)) * 3) * scale) ** 2
    nxt = np.nextafter(s, np.inf)          # the next double above: mostly the same root
    swap = rng.random(s.shape) < 0.3
    s[:, 1:][swap[:, 1:]] = nxt[:, :-1][swap[:, 1:]]
    mask = rng.random(s.shape) < 0.05
    s[mask] = rng.choice([np.nan, np.inf, 0.0], size=int(mask.sum()))
    s[3] = np.nan
    key, idx = np.empty(R), np.empty(R, np.int64)
    want_key, want_idx = np.empty(R), np.empty(R, np.int64)
    for row in s:
        got = K._select_roots(row, R, key, idx)
        want = K._select_row(np.sqrt(row), True, R, want_key, want_idx)
        assert got == want
        np.testing.assert_array_equal(idx[:got], want_idx[:want])
        assert_bits(key[:got], want_key[:want])


@pytest.mark.parametrize("lower", [True, False])
def test_best_reference_matches_argmin(lower):
    rng = np.random.default_rng(lower)
    s = np.round(rng.normal(size=(700, 9)) * 2)
    mask = rng.random(s.shape) < 0.15
    s[mask] = rng.choice([np.nan, np.inf, -np.inf, -0.0], size=int(mask.sum()))
    s[4] = np.nan
    s[5] = np.inf
    best, finite = np.empty(700, np.int64), np.empty(700, bool)
    K.best_reference(s, lower, best, finite)
    b, fin = clustering.best_references(s, lower)
    np.testing.assert_array_equal(best, b)
    np.testing.assert_array_equal(finite, fin)
    best[:], finite[:] = -1, False            # the same from the references-major copy
    K.best_reference_columns(np.ascontiguousarray(s.T), lower, best, finite)
    np.testing.assert_array_equal(best, b)
    np.testing.assert_array_equal(finite, fin)


def test_column_block_reads_a_frame_block_in_place():
    df = pd.DataFrame(np.random.default_rng(1).normal(size=(50, 4)), columns=list("abcd"))
    arrays = [df[c].to_numpy() for c in "bdac"]
    flat, off = column_block(arrays)
    assert not flat.flags.owndata and not flat.flags.writeable   # a view, not a copy
    for a, o in zip(arrays, off):
        np.testing.assert_array_equal(flat[o:o + 50], a)
    loose = [np.arange(5.0), np.arange(5.0) * 2]                  # unrelated arrays: copied
    flat, off = column_block(loose)
    assert flat.flags.owndata
    for a, o in zip(loose, off):
        np.testing.assert_array_equal(flat[o:o + 5], a)


def clustering_document(measure: str, n_clusters: int, f: int, rng, weights: bool,
                        missing_weights: bool) -> str:
    fields = "".join(f'<DataField name="x{i}" optype="continuous" dataType="double"/>'
                     for i in range(f))
    mining = "".join(f'<MiningField name="x{i}"/>' for i in range(f))
    cfields = "".join(f'<ClusteringField field="x{i}"'
                      + (f' fieldWeight="{rng.uniform(0.3, 2)!r}"' if weights else "") + "/>"
                      for i in range(f))
    mvw = (f'<MissingValueWeights><Array n="{f}" type="real">'
           + " ".join(repr(float(v)) for v in rng.uniform(0.5, 2, f)) + "</Array>"
           "</MissingValueWeights>") if missing_weights else ""
    clusters = "".join(f'<Cluster id="k{j}"><Array n="{f}" type="real">'
                       + " ".join(repr(float(v)) for v in np.round(rng.normal(size=f), 1))
                       + "</Array></Cluster>" for j in range(n_clusters))
    outputs = ('<OutputField name="id" feature="entityId"/>'
               '<OutputField name="second" feature="entityId" rank="2"/>'
               '<OutputField name="best" feature="affinity"/>'
               '<OutputField name="third" feature="affinity" rank="3"/>'
               '<OutputField name="to1" feature="clusterAffinity" value="k1"/>'
               '<OutputField name="name" feature="predictedDisplayValue"/>')
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>{fields}</DataDictionary>
<ClusteringModel functionName="clustering" modelClass="centerBased" numberOfClusters="{n_clusters}">
<MiningSchema>{mining}</MiningSchema><Output>{outputs}</Output>
<ComparisonMeasure kind="distance"><{measure}/></ComparisonMeasure>{cfields}{mvw}{clusters}
</ClusteringModel></PMML>"""


@pytest.mark.parametrize("measure", ["euclidean", "squaredEuclidean", "cityBlock", "chebychev"])
@pytest.mark.parametrize("n_clusters,weights,missing_weights", [(8, False, False),
                                                                (5, True, True), (40, True, False)])
def test_clustering_scores_the_same_with_and_without_numba(monkeypatch, measure, n_clusters,
                                                           weights, missing_weights):
    rng = np.random.default_rng(n_clusters + weights + 2 * missing_weights)
    doc = clustering_document(measure, n_clusters, 6, rng, weights, missing_weights)
    data = frame(rng, [f"x{i}" for i in range(6)], 700, missing=0.1, scale=1.0)
    data.iloc[:, :] = np.round(data.to_numpy(), 1)     # ties between clusters
    data.iloc[9, :] = np.nan                           # no field at all
    both_backends(monkeypatch, doc, data)


def knn_document(rng, m: int, f: int, k: int, target: str, measure: str) -> str:
    fields = "".join(f'<DataField name="x{i}" optype="continuous" dataType="double"/>'
                     for i in range(f))
    if target == "categorical":
        fields += ('<DataField name="y" optype="categorical" dataType="string">'
                   '<Value value="p"/><Value value="q"/><Value value="r"/></DataField>')
        ys = rng.choice(["p", "q", "r"], m)
        function, method = "classification", 'categoricalScoringMethod="weightedMajorityVote"'
    else:
        fields += '<DataField name="y" optype="continuous" dataType="double"/>'
        ys = [repr(float(v)) for v in rng.normal(size=m)]
        function, method = "regression", 'continuousScoringMethod="weightedAverage"'
    mining = "".join(f'<MiningField name="x{i}"/>' for i in range(f))
    inst = "".join(f'<InstanceField field="x{i}" column="x{i}"/>' for i in range(f))
    X = np.round(rng.normal(size=(m, f)))             # duplicates: tied neighbours
    rows = "".join("<row>" + "".join(f"<x{i}>{float(X[r, i])!r}</x{i}>" for i in range(f))
                   + f"<y>{ys[r]}</y></row>" for r in range(m))
    knn_inputs = "".join(f'<KNNInput field="x{i}"/>' for i in range(f))
    outputs = "".join(f'<OutputField name="n{r}" feature="entityId" rank="{r}"/>'
                      f'<OutputField name="d{r}" feature="affinity" rank="{r}"/>'
                      for r in range(1, k + 2))
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>{fields}</DataDictionary>
<NearestNeighborModel functionName="{function}" numberOfNeighbors="{k}" {method}>
<MiningSchema><MiningField name="y" usageType="target"/>{mining}</MiningSchema>
<Output>{outputs}<OutputField name="to7" feature="affinity" value="7"/></Output>
<TrainingInstances><InstanceFields><InstanceField field="y" column="y"/>{inst}</InstanceFields>
<InlineTable>{rows}</InlineTable></TrainingInstances>
<ComparisonMeasure kind="distance"><{measure}/></ComparisonMeasure>
<KNNInputs>{knn_inputs}</KNNInputs>
</NearestNeighborModel></PMML>"""


@pytest.mark.parametrize("target", ["categorical", "continuous"])
@pytest.mark.parametrize("measure", ["euclidean", "cityBlock", "chebychev"])
@pytest.mark.parametrize("missing", [0.0, 0.1])
def test_nearest_neighbors_score_the_same_with_and_without_numba(monkeypatch, target, measure,
                                                                 missing):
    rng = np.random.default_rng(len(target) + len(measure))
    doc = knn_document(rng, 150, 5, 3, target, measure)
    data = frame(rng, [f"x{i}" for i in range(5)], 401, missing=missing, scale=1.0)
    data.iloc[:, :] = np.round(data.to_numpy())
    if missing:
        data.iloc[11, :] = np.nan
    both_backends(monkeypatch, doc, data)


def test_kernel_activation_codes_cover_the_exact_functions():
    """Functions the kernel applies itself are arithmetic only; transcendental ones are left
    to numpy (whose exp/log/tanh may differ from libm's in the last bit)."""
    exact = set(nn._KERNEL_ACTIVATIONS)
    assert exact == {"identity", "rectifier", "threshold", "square", "reciprocal", "Elliott"}
    assert not exact & {"logistic", "tanh", "exponential", "Gauss", "sine", "cosine", "arctan"}
    assert math.isclose(nn._kernel_activation(nn.Layer("rectifier", 0.0, 0.2, "none", 0, [],
                                                       np.zeros(0, np.int64), np.zeros((0, 0)),
                                                       np.zeros(0), np.zeros((0, 0), bool)))[1],
                        0.2)


def test_squared_distances_equal_scipy_bit_for_bit():
    """The numba distance kernels of the SVM's RBF kernel (a batch, one row) give exactly scipy's
    cdist doubles."""
    pytest.importorskip("numba")
    from scipy.spatial.distance import cdist
    from portmodel.pmml.models import _kernels_numba as nk
    rng = np.random.default_rng(7)
    x = rng.normal(size=(257, 13)) * 10.0 ** rng.integers(-5, 6, size=(257, 1))
    v = rng.normal(size=(131, 13))
    x[3, 4], x[5, 0], v[2, 2] = np.inf, -0.0, 1e-310
    got = nk.sq_euclidean(x, v)
    want = cdist(x, v, "sqeuclidean")
    assert np.array_equal(got, want, equal_nan=True)
    vt = np.ascontiguousarray(v.T)       # one row at a time (the SVM's record plan)
    for i in (0, 3, 5, 256):
        row = np.empty(len(v))
        nk.sq_euclidean_row(x[i], vt, row)
        assert np.array_equal(row, want[i], equal_nan=True), i


# ---------------------------------------------------------------- the registry of kernel pairs
# Every numba kernel is registered with its numpy twin (compute_backend.PAIRS); the tests below
# iterate that registry: a kernel added without a twin, or a pair without a check, fails here.

from portmodel.pmml.models import compute_backend as cb  # noqa: E402
from portmodel.pmml.models import tree_kernel as tk  # noqa: E402


def test_every_numba_kernel_is_registered_with_a_twin():
    import importlib

    from numba.core.registry import CPUDispatcher
    registered = {p.numba for p in cb.PAIRS.values()}
    for module in cb.NUMBA_MODULES:
        mod = importlib.import_module(f"portmodel.pmml.models.{module}")
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and not name.startswith("_") and \
                    obj.__module__ == mod.__name__:
                assert f"{module}:{name}" in registered, f"{module}.{name} has no numpy twin"


def test_the_switch_picks_one_side_of_every_pair(monkeypatch):
    monkeypatch.delenv("PORTMODEL_NO_NUMBA", raising=False)
    for p in cb.PAIRS.values():
        assert p.active() is p.numba_fn()
    monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    for p in cb.PAIRS.values():
        assert p.active() is p.numpy_fn()
        assert p.pick(10 ** 9) is p.numpy_fn()


@functools.lru_cache(maxsize=1)
def _random_trees():
    """Random TreeModels (every predicate form and strategy) and a scope of random inputs
    with missing values that they all read."""
    from test_tree_kernel import TreeGen, model_scope, random_inputs
    data = random_inputs(5, n=2600)
    docs = [portmodel.load(TreeGen(seed).document()) for seed in range(12)]
    return [d.model for d in docs], model_scope(docs[0], data)


def _tree_calls(name: str):
    """(arguments, indices of the outputs) for a tree kernel pair: single random trees and
    ensembles of them in both lowered forms, with random leaf tables, over random inputs."""
    base = name.split(".", 1)[1].removesuffix("_par")
    rng = np.random.default_rng(3)
    if base == "fill_numeric":
        for n in (1, 999, 5000):
            src = values(rng, n, special=0.2)
            miss = rng.random(n) < 0.3
            yield (np.empty(n), src, miss), (0,)
            yield (np.empty(n), np.where(np.isnan(src), 1.0, src), miss), (0,)
        return
    models, scope = _random_trees()
    graph = base.startswith("graph")
    lowered = []
    for m in models:
        plan = tk.lower_tree(m.tree, m, fast=graph)
        if plan is not None and isinstance(plan, tk.FrozenGraph) == graph:
            lowered.append((m, plan))
    if base == "graph_rows_raw":
        for m, plan in lowered:
            X = plan.fields.matrix(scope.child(m.defs)).copy()
            f, n = X.shape
            X[:, ::7] *= 1.0 + 2.0 ** -30         # values that float32 rounding moves
            X[:, 1::7] = 1e300                     # beyond float32: rounded to inf
            for r32 in (np.zeros(f, np.bool_), rng.random(f) < 0.5, np.ones(f, np.bool_)):
                yield (X.ravel().copy(), np.arange(f, dtype=np.int64) * n, r32, n,
                       int(plan.starts[0]), *plan.args(), plan.all_le,
                       np.empty(n, np.int64)), (-1,)
        return
    if base in ("graph_rows", "walk_rows"):
        for m, plan in lowered:
            X = plan.fields.matrix(scope.child(m.defs)).copy()
            n = X.shape[1]
            if graph:
                yield (X, int(plan.starts[0]), *plan.args(), plan.all_le,
                       np.empty(n, np.int64)), (10,)
            else:
                yield (X, int(plan.roots[0]), int(plan.strategy[0]), int(plan.last[0]),
                       float(plan.factor[0]), True, *plan.tree_args(), plan.scratch,
                       np.empty(n, np.int64), np.ones(n)), (-2, -1)
        return
    for vote, k in ((False, 1), (False, 3), (True, 3)):
        form = tk.Graph() if graph else tk.General()
        for m, _ in lowered:
            form.add_tree(m.tree, m.missing_strategy, m.no_true_child,
                          1.0 if graph else m.penalty)
        p = form.freeze()
        X = p.fields.matrix(scope).copy()
        n, total = X.shape[1], sum(len(m.tree.pred) for m, _ in lowered)
        trees = len(lowered)
        leaf_val = values(rng, (total, k), special=0.02)
        leaf_cls = rng.integers(0, k, total).astype(np.int64)
        leaf_ok = rng.random(total) < 0.9
        weight, segw = rng.uniform(0.1, 3, trees), rng.uniform(0.1, 3, trees)
        out = (np.zeros((n, k)), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, np.int32),
               np.full((n, k) if vote else (1, 1), np.iinfo(np.int64).max, np.int64))
        common = (weight, segw, vote, leaf_val, leaf_cls, leaf_ok)
        if graph:
            args = (X, p.starts, *common, *p.args(), p.all_le, *out)
        else:
            args = (X, p.roots, p.strategy, p.last, p.factor, *common, *p.tree_args(),
                    p.scratch, *out)
        yield args, tuple(range(len(args) - 6, len(args)))


def _same_signature_check(p: cb.KernelPair) -> None:
    import copy
    calls = 0
    for args, outs in _tree_calls(p.name):
        a, b = copy.deepcopy(args), copy.deepcopy(args)
        ra = p.numba_fn()(*a)
        rb = p.numpy_fn()(*b)
        assert ra == rb
        for i in outs:
            assert a[i].dtype == b[i].dtype
            assert_bits(a[i], b[i]) if a[i].dtype.kind == "f" else \
                np.testing.assert_array_equal(a[i], b[i])
        calls += 1
    assert calls >= 2, f"{p.name}: too few cases"


def _rbf_check(p: cb.KernelPair) -> None:
    """The RBF pair is not bit for bit (BLAS products in the twin): both sides' decision values
    lie within their error bounds of each other, so they give the same categories."""
    from sklearn.datasets import make_classification
    from sklearn.svm import SVC
    from test_svm_fast import svc_document
    X, y = make_classification(n_samples=900, n_features=8, random_state=2)
    est = SVC(kernel="rbf", gamma="scale").fit(X[:300], y[:300])
    model = portmodel.load(svc_document(est, [f"x{i}" for i in range(8)])).model
    import os
    f1, b1 = model.fast.values(X)
    os.environ["PORTMODEL_NO_NUMBA"] = "1"
    try:
        f2, b2 = model.fast.values(X)
    finally:
        del os.environ["PORTMODEL_NO_NUMBA"]
    assert (np.abs(f1 - f2) <= b1 + b2).all()


def _call(test, *param_sets):
    def check(p: cb.KernelPair) -> None:
        for params in param_sets:
            test(*params)
    return check


class _Env:
    """A minimal monkeypatch for the checks that switch numba off."""

    def __init__(self):
        self.saved = os.environ.get("PORTMODEL_NO_NUMBA")

    def setenv(self, k, v):
        os.environ[k] = v

    def restore(self):
        os.environ.pop("PORTMODEL_NO_NUMBA", None)
        if self.saved is not None:
            os.environ["PORTMODEL_NO_NUMBA"] = self.saved


def _with_env(test, *param_sets):
    def check(p: cb.KernelPair) -> None:
        for params in param_sets:
            env = _Env()
            try:
                test(env, *params)
            finally:
                env.restore()
    return check


#: how each registered pair with its own signature is compared with its twin
TWIN_CHECKS = {
    "neural.layer_forward": _call(test_layer_forward_matches_rank_one_updates,
                                  *[(a, lk, r, s) for a, lk in LAYER_ACTS for r in (1, 7)
                                    for s in (False, True)]),
    "neural.network_forward": _call(test_network_forward_matches_rank_one_updates,
                                    *[(r, s, b) for r in (1, 4 * K._NET_TILE + 1)
                                      for s, b in ((0.0, False), (0.3, False), (0.0, True))]),
    "neural.network_inputs": _call(test_network_inputs_copy_and_mark_missing_rows,
                                   (7, True), (7, False)),
    "bayes.gauss_exponents": _call(test_gauss_exponents_match_numpy, (1, -745.0), (333, -1.0)),
    "bayes.add_terms": _call(test_add_terms_match_numpy, ()),
    "clustering.best_reference": _call(test_best_reference_matches_argmin, (True,), (False,)),
    "clustering.best_reference_columns": _call(test_best_reference_matches_argmin, (True,),
                                               (False,)),
    "knn.select_nearest": _call(test_select_nearest_is_a_stable_partial_argsort,
                                (True, 6, 6), (False, 40, 3)),
    "svm.sq_euclidean": _call(test_squared_distances_equal_scipy_bit_for_bit, ()),
    "svm.sq_euclidean_row": _call(test_squared_distances_equal_scipy_bit_for_bit, ()),
    "svm.rbf_exponents": _rbf_check,
    "svm.rbf_sums": _rbf_check,
    "comparison.distance_columns_raw": _with_env(
        test_raw_distances_match_the_masked_columns, ("euclidean", 8, 0.002, True),
        ("cityBlock", 13, 0.0, False)),
    "comparison.nearest_distances": _call(test_fused_nearest_distances_match_matrix_and_sort,
                                          ("euclidean", 3, False, 0.0),
                                          ("cityBlock", 4, True, 0.05)),
    "comparison.nearest_distances_par": _call(test_parallel_nearest_distances_match_serial,
                                              (0.0,), (0.05,)),
}
TWIN_CHECKS.update({
    # (few references: one kernel per measure family; many: rows of the distance matrix)
    f"comparison.{k}": _with_env(test_distance_kernels_match_numpy,
                                 *[(meas, m, 0.1, True, False) for meas in measures
                                   for m in sizes])
    for k, measures, sizes in (
        ("distance_columns_squares", ("euclidean", "squaredEuclidean"), (1, 8)),
        ("distance_columns_absolute", ("cityBlock",), (1, 8)),
        ("distance_columns_maximum", ("chebychev",), (1, 8)),
        ("distance_rows", ("euclidean", "cityBlock", "chebychev"), (45,)))})


@pytest.mark.parametrize("name", sorted(cb.PAIRS))
def test_registered_pair_matches_its_twin(name):
    p = cb.PAIRS[name]
    if p.same_signature:
        _same_signature_check(p)
        return
    check = TWIN_CHECKS.get(name)
    assert check is not None, f"kernel pair {name} has no twin check"
    check(p)
