"""What every compiled PMML model shares: the Result of scoring a batch, the model template
(mining schema -> local transformations -> model-specific scoring -> targets), and the registry
that maps a model element's tag to the module that compiles it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from .. import attributes
from ..context import Ctx
from ..dictionary import FieldInfo
from ..expressions import compile_derived_fields
from ..location import tag_of, where
from ..objects import Fragment, Model, Node
from ..mining_schema import MiningFieldSpec, parse_mining_schema, prepare
from ..scope import Scope
from ..values import Col, full, is_numeric_type
from .first_max import first_max
from .targets import TargetSpec, parse_targets

MODEL_TAGS = ("AnomalyDetectionModel", "AssociationModel", "BayesianNetworkModel", "BaselineModel",
              "ClusteringModel", "GaussianProcessModel", "GeneralRegressionModel", "MiningModel",
              "NaiveBayesModel", "NearestNeighborModel", "NeuralNetwork", "RegressionModel",
              "RuleSetModel", "SequenceModel", "Scorecard", "SupportVectorMachineModel",
              "TextModel", "TimeSeriesModel", "TreeModel")
#: children that any model element may have besides its model-specific content
COMMON_CHILDREN = frozenset({"Extension", "MiningSchema", "Output", "LocalTransformations",
                             "ModelVerification", "ModelStats", "ModelExplanation", "Targets"})


@dataclass
class Result:
    """A model's answer for a batch of n rows.

    value: the predicted value (typed like the target; missing where there is no prediction).
    probs: category -> probability array (classification), in ``categories`` order.
    extra: model-specific result features (e.g. "entityId", "affinity", "confidence", ...),
    each an array or a dict category -> array.
    """

    n: int
    function: str
    value: Col
    categories: list[Any] = field(default_factory=list)
    probs: dict[Any, np.ndarray] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    segments: dict[str, "SegmentView"] = field(default_factory=dict)

    def probability(self, category: Any) -> np.ndarray:
        """Probability of one category; 0 where the model does not know it, NaN where no result."""
        if self.probs is None:
            return np.full(self.n, np.nan)
        p = self.probs.get(category)
        if p is None:
            return np.where(self.value.missing, np.nan, 0.0)
        return p


@dataclass
class SegmentView:
    """What a segment produced, for Output fields that name it by segmentId."""

    result: Result
    outputs: dict[str, Col]
    mask: np.ndarray


class CompiledModel:
    """A model element compiled once; ``evaluate`` runs it over a scope (a batch of rows)."""

    function: str = "regression"
    target: FieldInfo | None = None
    #: the OutputField features anything may read from this model's Results: None (any) for
    #: a model that another model holds (a segment's results are read by its MiningModel and
    #: by the outer Output through segmentId), the features of its own Output for the model at
    #: the top of a document (``narrow_features``). A model leaves out a costly result feature
    #: (an entityId column of strings, confidences) that nothing reads.
    asked_features: frozenset[str] | None = None

    def __init__(self, spec: Model, ctx: Ctx):
        """spec: the typed model node (``objects.Model``). Everything, common parts and body,
        is read from it: a compiled model keeps no element."""
        #: the typed model node (portmodel.pmml.objects.Model) this model compiles: what
        #: ``compile()`` reads
        self.spec: Model = spec
        self.tag = spec.tag
        self.line = spec.line
        self.name = spec.model_name
        self.function = spec.function_name or "regression"
        #: JPMML's x-mathContext="float" (its XGBoost and LightGBM converters write it): the
        #: model computes in float32, as those libraries do
        self.float32 = dict(spec.vendor).get("x-mathContext") == "float"
        if spec.is_scorable is False:
            raise UnsupportedError("model has isScorable=\"false\"", **where(spec))
        self.ctx = ctx.child()
        ms = spec.mining_schema
        if ms is None:
            raise DocumentError("model has no MiningSchema", **where(spec))
        self.mining: list[MiningFieldSpec] = parse_mining_schema(ms, ctx, spec)
        self.defs: dict[str, Callable[[Scope], Col]] = {}
        targets = [m for m in self.mining if m.usage == "predicted"]
        for spec in self.mining:
            info = ctx.lookup(spec.name)
            if spec.usage == "predicted":
                continue
            local = info if spec.op_type is None else FieldInfo(
                info.name, info.data_type, spec.op_type, info.values, info.invalid_values,
                info.missing_values, info.display, info.intervals, info.line)
            self.ctx.add(local)
            self.defs[spec.name] = self._prepare_fn(spec, local)
        self.targets_spec: dict[str | None, TargetSpec] = parse_targets(self.spec.targets, ctx)
        for spec in self.targets_spec.values():
            spec.float32 = self.float32
        self.target_names = [t.name for t in targets]
        self.target = ctx.lookup(targets[0].name) if targets else None
        if self.target is None and None in self.targets_spec and self.targets_spec[None].field:
            self.target = ctx.lookup(self.targets_spec[None].field)
        if self.target is None:
            self.target = _enclosing_target(self.spec, ctx, self.function)
        self.defs.update(compile_derived_fields(self.spec.local_transformations, self.ctx))
        self.compile()
        from ..output import compile_output
        self.output = compile_output(self.spec.output, self)

    @staticmethod
    def _prepare_fn(spec: MiningFieldSpec, info: FieldInfo) -> Callable[[Scope], Col]:
        name = spec.name
        op = spec.op_type or info.op_type
        # a MiningField that changes nothing in a column without invalid values (planned once:
        # the common case skips prepare's checks, which dominate one-record scoring)
        plain = (spec.outliers == "asIs" and spec.missing_replacement is None
                 and spec.missing_treatment != "returnInvalid")

        def fn(scope: Scope) -> Col:
            col = scope.parent.get(name)
            if plain:
                inv = col.invalid
                if inv is None or (not inv[0] if len(inv) == 1 else not inv.any()):
                    return col if op == col.op_type else Col(col.values, col.missing,
                                                             col.data_type, op)
            return prepare(spec, info, col, scope)
        #: the field's column passes through unchanged when it has no invalid values
        fn.passthrough = plain
        return fn

    def narrow_features(self) -> None:
        """Called once at load on the document's top model: only its own Output reads its
        Results."""
        self.asked_features = frozenset(s.feature for s in self.output.specs) \
            if self.output is not None else frozenset()

    def asks(self, *features: str) -> bool:
        """Whether a reader of this model's Results may ask for one of these features."""
        asked = self.asked_features
        return asked is None or not asked.isdisjoint(features)

    # -- hooks for model modules
    def compile(self) -> None:
        """Parse the model-specific content (called once at load)."""
        raise NotImplementedError

    def score(self, scope: Scope) -> Result:
        """Vectorized scoring over the rows of scope."""
        raise NotImplementedError

    # -- template
    def evaluate(self, parent: Scope, extra_defs: dict | None = None) -> tuple[Result, Scope]:
        scope = parent.child(self.defs)
        if extra_defs:
            scope.defs.update(extra_defs)
        result = self.score(scope)
        result = self.apply_targets(result)
        return result, scope

    def target_spec(self) -> TargetSpec | None:
        if self.target is not None and self.target.name in self.targets_spec:
            return self.targets_spec[self.target.name]
        return self.targets_spec.get(None)

    def apply_targets(self, result: Result) -> Result:
        spec = self.target_spec()
        if spec is None:
            return result
        return spec.apply(result)

    @property
    def target_type(self) -> str:
        """The data type of the predicted value. A continuous prediction (regression) for an
        integer target is a real number unless the Target asks for castInteger: truncating
        183.649 to 183 would lose the value silently (PyPMML returns the real number; JPMML
        rejects each row whose value is not whole)."""
        if self.target is not None:
            dt = self.target.data_type
            if dt == "integer" and self.real_integer_target():
                return "double"
            return dt
        return "string" if self.function == "classification" else "double"

    #: set by a model whose every prediction is a whole number of the document (a tree whose
    #: scores are all whole, a scorecard of whole points): its integer target stays integer
    whole_predictions: bool = False

    def real_integer_target(self) -> bool:
        """Whether this model's integer target gets real-valued predictions (see target_type)."""
        if self.function != "regression" or self.target is None or \
                self.target.data_type != "integer":
            return False
        spec = self.target_spec()
        if spec is not None and spec.cast_integer:
            return False
        whole = self.whole_predictions and (spec is None or all(
            v is None or float(v).is_integer()
            for v in (spec.factor, spec.constant, spec.min, spec.max)))
        return not whole

    def input_names(self) -> list[str]:
        """The fields a caller must supply: the active MiningFields, and those of any other
        usage (supplementary, group, order, frequencyWeight, analysisWeight) that the model's
        content reads. The others are not needed to apply the model (an absent one is missing,
        as the reference engines have it)."""
        others = {m.name for m in self.mining if m.usage not in ("active", "predicted")}
        read = referenced_names(self.spec, others) if others else set()
        return [m.name for m in self.mining if m.usage == "active" or m.name in read]

    def categories(self) -> list[Any]:
        """Target categories in document order (DataField Values, else Targets' TargetValues)."""
        cats = list(self.target.values) if self.target is not None and self.target.values else []
        spec = self.target_spec()
        if not cats and spec is not None:
            cats = [tv.value for tv in spec.values if tv.value is not None]
        return cats


#: parts of a model element that do not take part in scoring
_NOT_SCORED = frozenset({"MiningSchema", "ModelVerification", "ModelStats", "ModelExplanation",
                         "Extension"})


def referenced_names(model: Model, names: set[str]) -> set[str]:
    """Which of names a typed model refers to by a field-naming attribute: its own
    (``Model.fields``) and its content's (nested models included; its mining schemas and
    metadata not). Model bodies the object
    model keeps as fragments are searched in their XML (until they are typed)."""
    from ..validate import REF_ATTRS
    found: set[str] = {f for f in model.fields() if f in names}     # (offsetVariable, ...)
    stack: list = [c for c in model.content if tag_of(c) not in _NOT_SCORED]
    while stack:
        item = stack.pop()
        if isinstance(item, Fragment):
            _fragment_references(item.element, names, REF_ATTRS, found)
            continue
        if isinstance(item, Model):
            found.update(f for f in item.fields() if f in names)
            stack.extend(c for c in item.content if tag_of(c) not in _NOT_SCORED)
            continue
        spec = type(item).XML
        refs = REF_ATTRS.get(spec.tag, ("field",))
        for a in spec.attrs:
            if a.xml in refs or a.xml == "field":
                v = getattr(item, a.py)
                if v in names:
                    found.add(v)
        for c in spec.children:
            value = getattr(item, c.py)
            if value is None:
                continue
            for v in (value if c.many else (value,)):
                if isinstance(v, (Node, Fragment)) and tag_of(v) not in _NOT_SCORED:
                    stack.append(v)
        # children the class does not name (kept with its Extensions) are content too
        stack.extend(f for f in getattr(item, "extensions", ()) if f.tag not in _NOT_SCORED)
    return found


def _fragment_references(el, names: set[str], ref_attrs: dict, found: set[str]) -> None:
    """``referenced_names`` over an element kept as a fragment (and the elements below it)."""
    stack = [el]
    while stack:
        node = stack.pop()
        tag = node.tag
        for attr in ref_attrs.get(tag, ("field",)):
            v = node.get(attr)
            if v in names:
                found.add(v)
        if node.get("field") in names:
            found.add(node.get("field"))
        stack.extend(c for c in node if isinstance(c.tag, str) and c.tag not in _NOT_SCORED)


def _enclosing_target(spec: Model, ctx: Ctx, function: str) -> FieldInfo | None:
    """The target of the MiningModel (same functionName) whose Segment holds the model spec,
    for a segment model whose MiningSchema names none (sklearn2pmml's ensemble members): its
    predictions are values of that target (e.g. integer class labels, not their strings)."""
    parents = _model_parents(ctx)
    mm = parents.get(id(spec))
    while mm is not None:
        if mm.tag != "MiningModel" or (mm.function_name or "regression") != function:
            return None
        ms = mm.mining_schema
        for mf in (ms.fields if ms is not None else ()):
            if mf.usage_type in ("predicted", "target"):
                return ctx.lookup(mf.name)
        mm = parents.get(id(mm))
    return None


def _model_parents(ctx: Ctx) -> dict[int, Model]:
    """id(model) -> the model whose Segmentation holds it, over the document the root context
    compiles (``Ctx.document``; built once per document, while it compiles)."""
    root = ctx
    while root.parent is not None:
        root = root.parent
    parents = getattr(root, "model_parents", None)
    if parents is None:
        parents = {}
        document = root.document
        for top in (document.models if document is not None else ()):
            for m in top.models():
                seg = m.segmentation
                for s in (seg.segments if seg is not None else ()):
                    if s.model is not None:
                        parents[id(s.model)] = m
        root.model_parents = parents
    return parents


def num_attr(el, name: str, default: str | None = None, required: bool = False) -> float | None:
    """Attribute name of el (else default) as a float; None when absent and not required.
    Text that is no number (or a required attribute that is absent) is a load-time error."""
    return attributes.number(el, name, default, required=required)


def classification_result(n: int, categories: list[Any], probs: dict[Any, np.ndarray],
                          missing: np.ndarray, target_type: str, extra: dict | None = None,
                          best: np.ndarray | None = None) -> Result:
    """Result whose predicted value is the most probable category (first one wins ties).
    best: the index of that category per row where the caller has it already (rows that are
    missing are not read)."""
    if categories:
        if best is None:
            best = first_max([probs[c] for c in categories])
        if missing.any():
            col = full(n, None, target_type, "categorical")
            vals = col.values
            cat_arr = np.array(categories, dtype=vals.dtype)
            ok = ~missing
            vals[ok] = cat_arr[best[ok]]
        else:        # (every row has a category: one take, no masks)
            vals = category_values(categories, best, target_type)
        col = Col(vals, missing.copy(), target_type, "categorical")
    else:
        col = full(n, None, target_type, "categorical")
    return Result(n, "classification", col, list(categories), probs, extra or {})


def category_values(categories: list[Any], best: np.ndarray, target_type: str) -> np.ndarray:
    """categories[best[i]] for every row, as a column of the target's type (float64 for
    numeric types, object for strings)."""
    if is_numeric_type(target_type):
        if _are_positions(categories):
            return best.astype(float)     # (categories 0, 1, ..., k - 1: each row's index)
        return np.array(categories, dtype=float)[best]
    table = np.empty(len(categories), object)
    table[:] = categories
    return table[best]


def _are_positions(categories: list[Any]) -> bool:
    """Whether the categories are the numbers 0.0, 1.0, ..., k - 1 (not -0.0) in that order."""
    return all(type(c) is float and c == i and (i or math.copysign(1.0, c) > 0)
               for i, c in enumerate(categories))


def regression_result(values: np.ndarray, missing: np.ndarray, target_type: str = "double",
                      extra: dict | None = None) -> Result:
    vals = np.where(missing, np.nan, values)
    return Result(len(values), "regression", Col(vals, missing, target_type if is_numeric_type(target_type) else "double",
                                                 "continuous"), extra=extra or {})


_REGISTRY: dict[str, Callable[..., CompiledModel]] = {}


def register(tag: str):
    def deco(cls):
        _REGISTRY[tag] = cls
        return cls
    return deco


def compile_model(spec: Model, ctx: Ctx) -> CompiledModel:
    """Compile a typed model (``objects.Model``) with the module registered for its tag."""
    from . import load_for
    tag = spec.tag
    load_for(tag)
    cls = _REGISTRY.get(tag)
    if cls is None:
        raise UnsupportedError(f"model type <{tag}> is not supported", **where(spec))
    return cls(spec, ctx)
