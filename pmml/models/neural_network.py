"""NeuralNetwork: feed-forward networks scored layer by layer over the whole batch.

The document's neurons become one activation matrix (rows x neurons): NeuralInputs fill the first
columns, then each NeuralLayer is a weight matrix over the columns it reads (any earlier neuron may
feed it), a bias vector, an activation function and a normalization. NeuralOutputs read the output
neurons: NormDiscrete maps a neuron to a category's probability (classification); FieldRef or
NormContinuous (inverted) maps one neuron to the predicted value (regression).

Semantics follow the PMML 4.4 specification and, where it is loose, JPMML-Evaluator: a missing
input value gives no prediction (Targets' defaults then apply), a layer's attributes override the
network's, and a radialBasis neuron computes exp(fanIn * ln(altitude) - sum((x - w)^2) / (2 width^2)).
Neuron@altitude (PMML 4.4) overrides the layer's and network's (the reference engine ignores it).

The product x @ W of a layer with few inputs is accumulated as rank-1 updates, one input at a time
in document order: the same additions, in the same order, as the reference engine's, so results
agree to the last bit (BLAS reorders and fuses them, which moves saturated logistic outputs by a
few ulps, outside the 1e-15 tolerance of the KNIME conformance case). Wide layers use BLAS.
With numba, rows go through the network in blocks of ROW_BLOCK rows on every core
(``run_blocks``), the activations neuron-major (a neuron's values over the block's rows
contiguous, so the rows fill the vector lanes): ``_kernels_numba.network_forward`` runs every
layer up to one that numpy finishes (a transcendental activation, a normalization, radialBasis)
in one call, tile by tile, a group of up to eight neurons with the same inputs at a time (their
sums held in registers over all the inputs, each input value loaded once for the group), eight
rows per vector instruction (512-bit where the CPU has them; the sums still in document order,
without fused multiply-adds). It reads the inputs in place (the
user's double columns when the inputs are those fields, a NaN marking the row missing), tile by
tile, copying a tile into the block only when one of its rows is missing (its inputs become 0);
a network whose numpy steps read the inputs has them copied first (``network_inputs``). A
network with a wide layer keeps the row-major path (``layer_forward`` for its small layers) in
one block, for BLAS's sake.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from .. import attributes
from ..expressions import cast, compile_field_container, convert_checked
from ..scope import Scope
from ..values import Col, is_numeric_type, parse_scalar
from ..objects.expressions import FieldRef, NormContinuous, NormDiscrete
from ..objects.transformations import DerivedField
from ..objects.neural import NeuralInputs, NeuralLayer, NeuralOutput, NeuralOutputs
from .base import CompiledModel, Result, classification_result, register, regression_result
from .compute_backend import kernels
from .first_max import first_max
from ..location import where
from .node_access import model_attrs
from .row_blocks import column_block, even_block, run_blocks, user_float_columns

ACTIVATIONS = ("threshold", "logistic", "tanh", "identity", "exponential", "reciprocal", "square",
               "Gauss", "sine", "cosine", "Elliott", "arctan", "rectifier", "radialBasis")
NORMALIZATIONS = ("none", "simplemax", "softmax")
# Above this many inputs per layer the weighted sums use BLAS; below it they accumulate one input
# at a time in document order, which reproduces the reference engine's rounding bit for bit.
ORDERED_SUM_MAX_INPUTS = 64
ROW_BLOCK = 4096      # rows scored through the whole network at a time
#: sizes of the groups of neurons with the same inputs that the kernel sums together
#: (``_kernels_numba.GROUP_SIZES``; this module does not import numba)
_GROUP_SIZES = (8, 4, 2, 1)


def activate(name: str, z: np.ndarray, threshold: float = 0.0, leakage: float | None = None) -> np.ndarray:
    """Apply a PMML activation function (not radialBasis) elementwise."""
    with np.errstate(all="ignore"):
        if name == "threshold":
            return np.where(np.isnan(z), np.nan, (z > threshold).astype(float))
        if name == "logistic":
            return 1.0 / (1.0 + np.exp(-z))
        if name == "tanh":
            return np.tanh(z)
        if name == "identity":
            return z
        if name == "exponential":
            return np.exp(z)
        if name == "reciprocal":
            return 1.0 / z
        if name == "square":
            return z * z
        if name == "Gauss":
            return np.exp(-(z * z))
        if name == "sine":
            return np.sin(z)
        if name == "cosine":
            return np.cos(z)
        if name == "Elliott":
            return z / (1.0 + np.abs(z))
        if name == "arctan":
            return (2.0 * np.arctan(z)) / math.pi
        if name == "rectifier":
            if leakage is not None:
                return np.where(z > 0, z, z * leakage)
            return np.where(np.isnan(z), np.nan, np.maximum(z, 0.0))
    raise ValueError(name)


def _logistic_in_place(z: np.ndarray) -> None:
    """z = 1 / (1 + exp(-z)) in place: ``activate``'s operations on the same values (the same
    numpy functions, so the same doubles), without a new array per step."""
    with np.errstate(all="ignore"):
        np.negative(z, out=z)
        np.exp(z, out=z)
        np.add(1.0, z, out=z)
        np.divide(1.0, z, out=z)


def normalize(method: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalize a layer's outputs (rows x neurons); also return rows where it is undefined."""
    bad = np.zeros(y.shape[0], bool)
    if method == "none" or y.shape[1] == 0:
        return y, bad
    with np.errstate(all="ignore"):
        if method == "softmax":
            e = np.exp(y - np.max(y, axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True), bad
        total = y.sum(axis=1, keepdims=True)
        bad = total[:, 0] == 0.0
        return np.where(total == 1.0, y, y / total), bad
    raise ValueError(method)


@dataclass
class Layer:
    """One NeuralLayer compiled to arrays over the global neuron index."""

    activation: str
    threshold: float
    leakage: float | None
    normalization: str
    start: int                       # global index of the layer's first neuron
    ids: list[str]
    src: np.ndarray                  # global indices the layer reads, in first-use order
    weights: np.ndarray              # (len(src), neurons); 0 where no connection
    bias: np.ndarray                 # (neurons,)
    connected: np.ndarray            # (len(src), neurons) bool
    width: np.ndarray | None = None  # radialBasis: per neuron
    altitude: np.ndarray | None = None
    fan_in: np.ndarray | None = None
    src_slice: slice | None = field(default=None)
    dense: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # input s feeds all
    # each neuron's connections (``layer_forward_t``): neuron j reads global neurons
    # conn_idx[conn_ptr[j]:conn_ptr[j + 1]] (in src order) with weights conn_w[...]
    conn_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    conn_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    conn_w: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def size(self) -> int:
        return len(self.ids)


def find_derived_field(model: CompiledModel, name: str):
    """The DerivedField node named name (model's LocalTransformations, then the document's
    TransformationDictionary)."""
    for df in model.spec.local_fields():
        if df.name == name:
            return df
    ctx = model.ctx
    while ctx.parent is not None:
        ctx = ctx.parent
    doc = getattr(ctx, "document", None)
    td = doc.transformation_dictionary if doc is not None else None
    for df in (td.derived_fields if td is not None else ()):
        if df.name == name:
            return df
    return None


def _or(value, default):
    return default if value is None else value


@register("NeuralNetwork")
class NeuralNetwork(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        attrs = model_attrs(spec)
        if self.function not in ("classification", "regression"):
            raise UnsupportedError(f"NeuralNetwork functionName={self.function!r}",
                                   line=self.line, element=self.tag)
        layers = spec.body(NeuralLayer)
        self.activation = spec.attribute("activationFunction")
        if self.activation is None:
            if not layers or any(layer.activation_function is None for layer in layers):
                raise DocumentError("NeuralNetwork has no activationFunction", line=self.line,
                                    element=self.tag)
            # every layer names its own (what some producers write): nothing falls back on it
            self.ctx.leniency.allow("layer-activation", self.line, self.tag)
        self._check_enum(self.activation, "activationFunction", ACTIVATIONS, spec)
        self.normalization = spec.attribute("normalizationMethod") or "none"
        self._check_enum(self.normalization, "normalizationMethod", NORMALIZATIONS, spec)
        self.threshold = attributes.number(attrs, "threshold", 0.0)
        self.width = attributes.number(attrs, "width")
        self.altitude = attributes.number(attrs, "altitude", 1.0)
        self.leakage = attributes.number(attrs, "leakage")
        self.index: dict[str, int] = {}
        self._compile_inputs()
        self.layers = [self._compile_layer(layer) for layer in layers]
        if not self.layers:
            raise DocumentError("NeuralNetwork has no NeuralLayer", line=self.line,
                                element=self.tag)
        self.total = len(self.index)
        self.wide = any(len(layer.src) > ORDERED_SUM_MAX_INPUTS for layer in self.layers)
        self._compile_outputs()
        self.plan = None if self.wide else BlockPlan.of(self.layers, self.total, self.out_index)

    @staticmethod
    def _check_enum(v: str | None, attr: str, allowed: tuple[str, ...], node) -> None:
        if v is not None and v not in allowed:
            at = where(node)
            raise UnsupportedError(f"{attr}={v!r}", **at)

    def _add_id(self, nid: str | None, node) -> int:
        at = where(node)
        if nid is None:
            raise DocumentError(f"{at['element']} has no id", **at)
        if nid in self.index:
            raise DocumentError(f"neuron id {nid!r} is used twice", **at)
        self.index[nid] = len(self.index)
        return self.index[nid]

    # ------------------------------------------------------------------ compiling
    def _compile_inputs(self) -> None:
        nis = self.spec.body(NeuralInputs)
        if not nis:
            raise DocumentError("NeuralNetwork has no NeuralInputs", line=self.line,
                                element="NeuralNetwork")
        self.inputs: list[Callable[[Scope], Col]] = []
        #: the data fields the inputs are, when every input is a double field as it is (a
        #: FieldRef with no mapMissingTo in a double DerivedField): scoring may then read the
        #: user's float64 columns in place (``_raw_inputs``)
        self.input_fields: list[str] | None = []
        for ni in nis[0].inputs:
            df = ni.derived_field
            if df is None:
                raise DocumentError("NeuralInput has no DerivedField", line=ni.line,
                                    element="NeuralInput")
            _, fn = compile_field_container(df, self.ctx)
            ex = df.expression
            if self.input_fields is not None and type(ex) is FieldRef and \
                    ex.map_missing_to is None and df.data_type in (None, "double"):
                self.input_fields.append(ex.field)
            else:
                self.input_fields = None
            self._add_id(ni.id, ni)
            self.inputs.append(fn)

    def _compile_layer(self, node: NeuralLayer) -> Layer:
        act = node.activation_function or self.activation
        norm = node.normalization_method or self.normalization
        threshold = _or(node.threshold, self.threshold)
        leakage = _or(node.leakage, self.leakage)
        layer_width = _or(node.width, self.width)
        layer_alt = _or(node.altitude, self.altitude)
        neurons = node.neurons
        known = dict(self.index)        # a layer reads neurons computed before it
        src_pos: dict[int, int] = {}
        conns: list[list[tuple[int, float]]] = []
        for neuron in neurons:
            row = []
            for con in neuron.connections:
                frm = con.source
                if frm not in known:
                    raise DocumentError(f"Con from={frm!r} names no earlier input or neuron",
                                        line=con.line, element="Con")
                g = known[frm]
                if g not in src_pos:
                    src_pos[g] = len(src_pos)
                row.append((src_pos[g], con.weight))
            conns.append(row)
        start = len(self.index)
        ids = []
        for neuron in neurons:
            self._add_id(neuron.id, neuron)
            ids.append(neuron.id)
        src = np.array(list(src_pos), dtype=np.int64)
        k = len(neurons)
        weights = np.zeros((len(src), k))
        connected = np.zeros((len(src), k), bool)
        for j, row in enumerate(conns):
            for s, w in row:
                if connected[s, j]:
                    raise UnsupportedError("two connections between the same neurons",
                                           line=neurons[j].line, element="Neuron")
                weights[s, j] = w
                connected[s, j] = True
        bias = np.array([_or(neuron.bias, 0.0) for neuron in neurons])
        layer = Layer(act, threshold, leakage, norm, start, ids, src, weights, bias, connected)
        layer.dense = connected.all(axis=1)
        j_of, s_of = np.nonzero(connected.T)          # neuron-major, src order within a neuron
        layer.conn_ptr = np.concatenate([[0], np.cumsum(connected.sum(axis=0))]).astype(np.int64)
        layer.conn_idx = src[s_of].astype(np.int64)
        layer.conn_w = weights[s_of, j_of]
        if len(src) and np.array_equal(src, np.arange(src[0], src[0] + len(src))):
            layer.src_slice = slice(int(src[0]), int(src[0]) + len(src))
        if act == "radialBasis":
            widths = []
            for neuron in neurons:
                w = _or(neuron.width, layer_width)
                if w is None:
                    raise DocumentError("radialBasis neuron has no width (Neuron, NeuralLayer or "
                                        "NeuralNetwork)", line=neuron.line, element="Neuron")
                widths.append(w)
            layer.width = np.array(widths)
            layer.altitude = np.array([_or(neuron.altitude, layer_alt) for neuron in neurons])
            if not (layer.altitude > 0).all():     # (its logarithm is taken)
                bad = next(n for n, a in zip(neurons, layer.altitude) if not a > 0)
                raise DocumentError("radialBasis altitude must be positive", line=bad.line,
                                    element="Neuron")
            layer.fan_in = connected.sum(axis=0).astype(float)
        return layer

    def _output_expression(self, no: NeuralOutput):
        df = no.derived_field
        if df is None:
            raise DocumentError("NeuralOutput has no DerivedField", line=no.line,
                                element="NeuralOutput")
        ex = df.expression
        if ex is None:
            raise DocumentError("NeuralOutput's DerivedField has no expression",
                                line=df.line, element="DerivedField")
        if isinstance(ex, FieldRef):
            name = ex.field
            if self.ctx.lookup(name) is None:
                raise DocumentError(f"reference to unknown field {name!r}", line=ex.line,
                                    element="FieldRef")
            target_df = find_derived_field(self, name)
            if target_df is not None and target_df.expression is not None:
                # a derived field standing for the target: its expression
                return target_df.expression
        return ex

    def _compile_outputs(self) -> None:
        nos = self.spec.body(NeuralOutputs)
        if not nos or not nos[0].outputs:
            raise DocumentError("NeuralNetwork has no NeuralOutputs", line=self.line,
                                element="NeuralNetwork")
        nos = nos[0]
        self.out_index: list[int] = []
        self.out_ids: list[str] = []
        self.out_cats: list[Any] = []
        self.denorm: tuple[np.ndarray, np.ndarray, str] | None = None
        fields = set()
        for no in nos.outputs:
            nid = no.output_neuron
            if nid not in self.index:
                raise DocumentError(f"outputNeuron={nid!r} names no neuron", line=no.line,
                                    element="NeuralOutput")
            ex = self._output_expression(no)
            tag = ex.XML.tag
            fields.add(getattr(ex, "field", None))
            self.out_index.append(self.index[nid])
            self.out_ids.append(nid)
            if self.function == "classification":
                if not isinstance(ex, NormDiscrete):
                    raise UnsupportedError(f"classification NeuralOutput with <{tag}>",
                                           line=ex.line, element=tag)
                try:
                    cat = parse_scalar(ex.value, self.target_type)
                except ValueError:
                    raise DocumentError(f"NormDiscrete value {ex.value!r} is not a "
                                        f"{self.target_type}", line=ex.line,
                                        element="NormDiscrete") from None
                if cat in self.out_cats:
                    raise DocumentError(f"two NeuralOutputs for category {cat!r}",
                                        line=no.line, element="NeuralOutput")
                self.out_cats.append(cat)
            else:
                if isinstance(ex, NormContinuous):
                    self.denorm = _denorm_plan(ex)
                elif not isinstance(ex, FieldRef):
                    raise UnsupportedError(f"regression NeuralOutput with <{tag}>",
                                           line=ex.line, element=tag)
        if len(fields) > 1:
            raise UnsupportedError("NeuralOutputs for more than one target field",
                                   line=nos.line, element="NeuralOutputs")
        if self.function == "regression" and len(self.out_index) != 1:
            raise DocumentError("a regression network needs exactly one NeuralOutput",
                                line=nos.line, element="NeuralOutputs")

    def record_scorer(self, need):
        """The one-record scorer of pmml/record.py (built in pmml/record_neural.py)."""
        from ..record_neural import network_scorer
        return network_scorer(self, need)

    # ------------------------------------------------------------------ scoring
    def output_values(self, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """The output neurons' values (NeuralOutputs x rows) and the rows with no result.

        With numba, rows go through the network ROW_BLOCK at a time (``_forward_block``): one
        block's activations (every neuron x rows) stay in cache from layer to layer, and the
        blocks run on every core. A network with a layer summed by BLAS goes in one block
        (``_forward_rows``): BLAS's rounding can depend on how many rows one call gets."""
        n = scope.n
        kern = kernels()
        out = np.empty((len(self.out_index), n))
        undefined = np.zeros(n, bool)
        if kern is not None and self.plan is not None:
            raw = self._raw_inputs(scope)
            if raw is not None:          # the user's double columns: NaN is missing
                cols, nan_missing, missing = raw, True, np.zeros(n, bool)
            else:
                cols, missing = self._input_columns(scope)
                nan_missing = False
            flat, off = column_block(cols)
            run_blocks(n, even_block(n, ROW_BLOCK), lambda lo, hi: self._forward_block(
                kern, flat, off, nan_missing, missing, lo, hi, out, undefined))
        else:
            cols, missing = self._input_columns(scope)
            self._forward_rows(kern, cols, missing, out, undefined)
        if undefined.any():
            rows = undefined & ~missing
            scope.fail(rows, lambda i: EvaluationError(
                "simplemax normalization of a layer whose outputs sum to zero", row=i))
            missing |= undefined
        return out, missing

    def _input_columns(self, scope: Scope) -> tuple[list[np.ndarray], np.ndarray]:
        """The inputs' values (as doubles) and the rows where one is missing."""
        cols = []
        missing = np.zeros(scope.n, bool)
        for fn in self.inputs:
            col = fn(scope)
            if not is_numeric_type(col.data_type):
                col = cast(col, "double")
            missing |= col.missing
            cols.append(col.values)
        return cols, missing

    def _raw_inputs(self, scope: Scope) -> list[np.ndarray] | None:
        """The user's float64 columns of the input fields, read in place, when every input is
        a double field of the batch that the MiningSchema passes through unchanged: the values
        the input columns would hold (a double field's only missing value is NaN, and it has
        no invalid ones), without building a column and a mask per field. Else None."""
        got = user_float_columns(self.input_fields, scope)
        if got is None or any(kind != "double" for kind in got[1]):
            return None
        return got[0]

    def _forward_rows(self, kern: Any, cols: list[np.ndarray], missing: np.ndarray,
                      out: np.ndarray, undefined: np.ndarray) -> None:
        """Row-major activations (rows x every neuron): the numpy twin, and networks with a
        wide (BLAS) layer, whose blocks hold every row."""
        n = len(missing)
        n_in = len(self.inputs)
        any_missing = bool(missing.any())
        block = max(n, 1) if self.wide else ROW_BLOCK
        acts = np.empty((min(n, block), self.total))
        for lo in range(0, n, block):
            hi = min(n, lo + block)
            a = acts[:hi - lo]
            for i, v in enumerate(cols):
                a[:, i] = v[lo:hi]
            if any_missing:
                a[missing[lo:hi], :n_in] = 0.0   # keep NaN out of the arithmetic
            for layer in self.layers:
                sl = slice(layer.start, layer.start + layer.size)
                if layer.activation == "radialBasis":
                    a[:, sl] = _radial_basis(layer, _layer_input(layer, a))
                elif kern is not None and len(layer.src) <= ORDERED_SUM_MAX_INPUTS:
                    code, param = _kernel_activation(layer)
                    kern.layer_forward(a, layer.src, layer.dense, layer.connected, layer.weights,
                                       layer.bias, code, param, layer.start)
                    if code == 0:                        # transcendental: numpy's functions
                        a[:, sl] = activate(layer.activation, a[:, sl], layer.threshold,
                                            layer.leakage)
                else:
                    a[:, sl] = activate(layer.activation, weighted_sums(layer, a),
                                        layer.threshold, layer.leakage)
                if layer.normalization != "none":      # row reductions: on a C-order copy
                    a[:, sl], bad = normalize(layer.normalization, np.ascontiguousarray(a[:, sl]))
                    undefined[lo:hi] |= bad
            out[:, lo:hi] = a[:, self.out_index].T

    def _forward_block(self, kern: Any, flat: np.ndarray, off: np.ndarray, nan_missing: bool,
                       missing: np.ndarray, lo: int, hi: int, out: np.ndarray,
                       undefined: np.ndarray) -> None:
        """Rows lo..hi through the network with neuron-major activations (numba; no wide
        layer): the same operations on every value as ``_forward_rows``. flat, off: the input
        columns (``column_block``); nan_missing: a NaN input makes its row missing (the
        user's double columns), else missing holds the missing rows already."""
        plan = self.plan
        a = _scratch(self.total, hi - lo)
        miss = missing[lo:hi]
        if plan.fused_inputs:
            inputs = kern.INPUTS_FIRST
        else:
            kern.network_inputs(flat, off, lo, a, miss, nan_missing)
            inputs = kern.INPUTS_IN_BLOCK
        for l0, l1, post in plan.steps:
            if l1 > l0:
                kern.network_forward(a, flat, off, lo, miss, nan_missing, inputs, l0, l1,
                                     plan.bounds, plan.act, plan.param, plan.ptr, plan.idx,
                                     plan.w, plan.bias, plan.group)
                if inputs == kern.INPUTS_FIRST:
                    inputs = kern.INPUTS_LATER
            if post is None:
                continue
            layer = self.layers[post]
            sl = slice(layer.start, layer.start + layer.size)
            if layer.activation == "radialBasis":
                a[sl] = _radial_basis(layer, a[layer.src].T).T
            elif layer.activation == "logistic":
                _logistic_in_place(a[sl])
            elif plan.act[post] == 0:               # transcendental: numpy's functions
                a[sl] = activate(layer.activation, a[sl], layer.threshold, layer.leakage)
            if layer.normalization != "none":      # row reductions: on a row-major copy
                y, bad = normalize(layer.normalization, np.ascontiguousarray(a[sl].T))
                a[sl] = y.T
                undefined[lo:hi] |= bad
        for k, j in enumerate(self.out_index):
            out[k, lo:hi] = a[j]

    def score(self, scope: Scope) -> Result:
        out, missing = self.output_values(scope)
        if self.function == "regression":
            y = out[0]
            if self.denorm is not None:
                y = _denormalize(self.denorm, y)
                missing = missing | np.isnan(y)
            return regression_result(y, missing, self.target_type)
        some_missing = bool(missing.any())
        if some_missing:
            out[:, missing] = np.nan           # (out is this call's own: rows are the probabilities)
        probs = {c: out[j] for j, c in enumerate(self.out_cats)}
        best = first_max(list(out))
        res = classification_result(scope.n, self.out_cats, probs, missing, self.target_type,
                                    best=best)
        if self.asks("entityId", "clusterId"):
            # the winning neuron's id, None (the table's last entry) where the row is missing
            table = np.array(self.out_ids + [None], dtype=object)
            res.extra["entityId"] = table[np.where(missing, len(self.out_ids), best)
                                          if some_missing else best]
        return res


@dataclass
class BlockPlan:
    """The layers as the arrays ``_kernels_numba.network_forward`` reads (every neuron by its
    global index; inputs have no connections), and the steps of a block: (l0, l1, post) runs
    layers l0..l1 - 1 in one compiled call, then numpy finishes layer post (a transcendental
    activation, a normalization, or the whole of a radialBasis layer; None: nothing)."""

    bounds: np.ndarray      # layer l: neurons bounds[l]..bounds[l + 1] - 1
    act: np.ndarray         # activation codes (0: the kernel leaves z + bias to numpy)
    param: np.ndarray
    ptr: np.ndarray         # neuron j reads idx[ptr[j]:ptr[j + 1]]
    idx: np.ndarray
    w: np.ndarray           # a group's weights input-major (``network_forward``)
    bias: np.ndarray
    group: np.ndarray       # at a group's first neuron: its size (neurons with the same inputs)
    steps: list[tuple[int, int, int | None]]
    #: whether network_forward may read the inputs in place, tile by tile (only compiled calls
    #: read them: the first step runs the kernel, no step numpy finishes reads an input, no
    #: output is an input); else network_inputs copies them into the block first
    fused_inputs: bool = False

    @classmethod
    def of(cls, layers: list[Layer], total: int, out_index: list[int]) -> "BlockPlan":
        n_in = layers[0].start if layers else total
        bounds = np.array([layer.start for layer in layers] + [total], np.int64)
        codes, params = zip(*(_kernel_activation(layer) for layer in layers))
        counts = np.zeros(total, np.int64)
        bias = np.zeros(total)
        idx, w = [], []
        for layer in layers:
            counts[layer.start:layer.start + layer.size] = np.diff(layer.conn_ptr)
            bias[layer.start:layer.start + layer.size] = layer.bias
            idx.append(layer.conn_idx)
            w.append(layer.conn_w)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        idx_all = np.concatenate(idx).astype(np.int64) if idx else np.zeros(0, np.int64)
        w_all = np.concatenate(w) if w else np.zeros(0)
        group = np.zeros(total, np.int64)
        for layer in layers:
            j, end = layer.start, layer.start + layer.size
            while j < end:
                run = 1         # neurons j.. that read the same inputs as j
                while j + run < end and np.array_equal(idx_all[ptr[j + run]:ptr[j + run + 1]],
                                                       idx_all[ptr[j]:ptr[j + 1]]):
                    run += 1
                for size in _GROUP_SIZES:
                    while run >= size:
                        group[j] = size
                        # the group's weights input-major: input q's for neuron j + t at q * size + t
                        if ptr[j + 1] > ptr[j]:     # (an empty group: nothing to lay out)
                            span = slice(ptr[j], ptr[j + size])
                            w_all[span] = w_all[span].reshape(size, -1).T.ravel()
                        j += size
                        run -= size
        steps: list[tuple[int, int, int | None]] = []
        lo = 0
        for i, layer in enumerate(layers):
            if layer.activation == "radialBasis":
                steps.append((lo, i, i))
                lo = i + 1
            elif codes[i] == 0 or layer.normalization != "none":
                steps.append((lo, i + 1, i))
                lo = i + 1
        if lo < len(layers):
            steps.append((lo, len(layers), None))
        fused = (steps[0][1] > steps[0][0]
                 and all(layers[post].activation != "radialBasis"
                         or not (layers[post].src < n_in).any()
                         for _, _, post in steps if post is not None)
                 and all(j >= n_in for j in out_index))
        return cls(bounds, np.array(codes, np.int64), np.array(params, float), ptr, idx_all,
                   w_all, bias, group, steps, fused)


_SCRATCH = threading.local()
_SCRATCH_MAX = 1 << 22     # doubles (32 MB): a larger block is not kept


def _scratch(rows: int, cols: int) -> np.ndarray:
    """An uninitialized (rows, cols) block, reusing this thread's buffer: a block's activations
    live only while the block is scored, and fresh memory of this size costs a page fault per
    4 KB on every block. It starts on a 64-byte line (a block of a multiple of 8 rows then has
    every 512-bit load and store of the kernel within one line: 1.03-1.04x the benchmark
    network's predict with one thread, against the allocator's 16 bytes past a line)."""
    size = rows * cols
    if size > _SCRATCH_MAX:
        return np.empty((rows, cols))
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < size:
        buf = _SCRATCH.buf = _on_a_line(size)
    return buf[:size].reshape(rows, cols)


def _on_a_line(size: int) -> np.ndarray:
    """size uninitialized doubles starting on a 64-byte boundary."""
    raw = np.empty(size + 8)
    skip = (-raw.__array_interface__["data"][0] % 64) // 8
    return raw[skip:skip + size]


def _layer_input(layer: Layer, acts: np.ndarray) -> np.ndarray:
    return acts[:, layer.src_slice] if layer.src_slice is not None else acts[:, layer.src]


#: activations the numba kernel applies itself (exact arithmetic, no transcendental function)
_KERNEL_ACTIVATIONS = {"identity": 1, "rectifier": 2, "threshold": 4, "square": 5,
                       "reciprocal": 6, "Elliott": 7}


def _kernel_activation(layer: Layer) -> tuple[int, float]:
    """(activation code, parameter) for ``layer_forward``; code 0: numpy applies it."""
    if layer.activation == "rectifier" and layer.leakage is not None:
        return 3, layer.leakage
    code = _KERNEL_ACTIVATIONS.get(layer.activation, 0)
    return code, (layer.threshold if code == 4 else 0.0)


def weighted_sums(layer: Layer, acts: np.ndarray) -> np.ndarray:
    """Z = x @ W + bias for x = the layer's inputs among ``acts`` (rows x every neuron), summed
    input by input in document order for small layers (numpy twin of ``layer_forward``)."""
    x = _layer_input(layer, acts)
    if x.shape[1] > ORDERED_SUM_MAX_INPUTS:
        return x @ layer.weights + layer.bias
    z = np.zeros((x.shape[0], layer.size))
    for s in range(x.shape[1]):
        w = layer.weights[s]
        if layer.dense[s]:
            z += x[:, s:s + 1] * w
        else:
            conn = layer.connected[s]
            z[:, conn] += x[:, s:s + 1] * w[conn]
    return z + layer.bias


def _radial_basis(layer: Layer, x: np.ndarray) -> np.ndarray:
    """exp(fanIn * ln(altitude) - sum over connections of (x - w)^2 / (2 width^2))."""
    n = x.shape[0]
    out = np.empty((n, layer.size))
    with np.errstate(all="ignore"):
        for j in range(layer.size):
            conn = np.flatnonzero(layer.connected[:, j])
            z = np.zeros(n)
            for s in conn:
                d = x[:, s] - layer.weights[s, j]
                z += d * d
            z = z / (layer.width[j] * layer.width[j] * -2.0)
            if layer.altitude[j] != 1.0:
                z = z + math.log(layer.altitude[j]) * layer.fan_in[j]
            out[:, j] = np.exp(z)
    return out


def _denorm_plan(node: NormContinuous) -> tuple[np.ndarray, np.ndarray, str]:
    pts = [(ln.orig, ln.norm) for ln in node.norms]
    if len(pts) < 2:
        raise DocumentError("NormContinuous needs at least two LinearNorm elements",
                            line=node.line, element="NormContinuous")
    orig = np.array([p[0] for p in pts])
    norm = np.array([p[1] for p in pts])
    if np.all(np.diff(norm) < 0):
        orig, norm = orig[::-1], norm[::-1]
    elif not np.all(np.diff(norm) > 0):
        raise UnsupportedError("NormContinuous whose norm values are not monotonic cannot be "
                               "inverted", line=node.line, element="NormContinuous")
    return orig, norm, node.outliers or "asIs"


def _denormalize(plan: tuple[np.ndarray, np.ndarray, str], y: np.ndarray) -> np.ndarray:
    """Invert a NormContinuous: norm value -> original value, piecewise linearly.

    Values beyond the first/last LinearNorm extrapolate the end segment (outliers="asIs"), map to
    the end's orig value (asExtremeValues) or to missing (asMissingValues).
    """
    orig, norm, outliers = plan
    idx = np.clip(np.searchsorted(norm, y, side="left") - 1, 0, len(norm) - 2)
    x0, x1, y0, y1 = orig[idx], orig[idx + 1], norm[idx], norm[idx + 1]
    with np.errstate(all="ignore"):
        out = ((y - y0) / (y1 - y0)) * (x1 - x0) + x0
    low, high = y < norm[0], y > norm[-1]
    if outliers == "asExtremeValues":
        out = np.where(low, orig[0], np.where(high, orig[-1], out))
    elif outliers == "asMissingValues":
        out = np.where(low | high, np.nan, out)
    return out
