"""The single-record plan: one record on the happy path, in plain Python floats.

``predict(dict)`` through the column plan pays numpy's per-call overhead for every field and
every operation: about 100 us for a 22-field logistic regression, where a service wants a few
dozen. Most records a service sees are on the happy path: every input present, of the field's
type and valid. For those this plan computes the same numbers in Python floats, with the same
IEEE operations in the same order as the column plan (where numpy's functions could round
differently, e.g. ``exp``, it calls numpy on the handful of values), so the answers are the
column plan's, bit for bit.

Anything else declines: at compile time a document outside the plan's subset (no plan at all),
at scoring time a record with a missing, invalid or differently typed value, a division by zero
or a non-finite intermediate value. A declined record is scored by the column plan, with the full
PMML semantics and its errors; the plan never raises.

The subset: double and string input fields without missing/invalid value lists or intervals,
mining fields that change nothing for a valid value, derived fields built from Constant,
FieldRef, NormDiscrete, NormContinuous and the arithmetic Apply functions, the models that offer a
``record_scorer`` (RegressionModel here; TreeModel and tree ensembles in record_tree.py;
MiningModel ensembles and model chains in record_mining.py; NeuralNetwork in record_neural.py;
NaiveBayesModel with Gaussian inputs in record_bayes.py; ClusteringModel under a summed distance
in record_cluster.py; SupportVectorMachineModel regression and one-against-one in
record_svm.py), and predictedValue / probability outputs (a clustering model's affinity to a
named cluster).
"""
from __future__ import annotations

import bisect
from array import array
from operator import itemgetter
from typing import Any, Callable, Mapping

from . import attributes, objects
from .dictionary import FieldInfo
from .expressions import constant_type
from .functions import _SCALAR
from .record_row import RowScorer, packed_row
from .values import parse_scalar

#: a field's kind in a record: a finite double, text, or a float field's value (a double
#: rounded to float32 as the column plan rounds it; only the tree plans take those)
DOUBLE, TEXT, FLOAT = "double", "text", "float"
#: a scorer's answer: (predicted value, {category: probability} or None); None declines
Answer = tuple[Any, dict | None]


class Decline(Exception):
    """The document is outside the plan's subset (raised at compile time only)."""


def compile_record_plan(doc) -> Callable[[Mapping[str, Any]], dict | None] | None:
    """The record plan of a PMMLModel, or None when the document is outside the subset."""
    try:
        return _Compiler(doc).plan()
    except Decline:
        return None


_ABSENT = object()
_MAX_CHAIN = 32     # derived fields planned through one another


class _Compiler:
    def __init__(self, doc):
        self.doc = doc
        self.model = doc.model
        self.readers: list[tuple[str, str, frozenset | None]] = []
        self.steps: list[tuple[str, Callable[[dict], Any]]] = []
        self.kinds: dict[str, str] = {}
        self.mining = {s.name: s for s in self.model.mining}
        self.local = _by_name(self.model.spec.local_fields())
        self.globals = _by_name(doc.document.global_fields())
        self.depth = 0

    # ------------------------------------------------------------------ fields
    def need(self, name: str, local: bool = True) -> str:
        """Plan the field (reader or derived-field step) once; return its kind. ``local``: the
        name is read in the model's scope (where a field not derived there passes through its
        MiningField), not in the document's."""
        if name in self.local and name in self.globals:
            raise Decline(name)          # (shadowing: not worth planning)
        if local and name not in self.local and name in self.mining:
            self.check_mining(name)
        kind = self.kinds.get(name)
        if kind is not None:
            return kind
        el = self.local.get(name) if local else None
        if el is None:
            el = self.globals.get(name)
        if el is not None:
            if self.depth >= _MAX_CHAIN:     # planning recurses per link: leave long chains
                raise Decline(name)          # to the column plan, which evaluates them bottom-up
            self.depth += 1
            try:
                kind = self.derived(el, local=local and name in self.local)
            finally:
                self.depth -= 1
        elif name in self.doc.data_fields:
            kind = self.reader(name, self.doc.data_fields[name])
        else:
            raise Decline(name)
        self.kinds[name] = kind
        return kind

    def check_mining(self, name: str) -> None:
        """The field's MiningField must change nothing for a present, valid value."""
        spec = self.mining[name]
        info = self.doc.data_fields.get(name)
        if spec.usage != "active" or spec.outliers != "asIs" or \
                spec.op_type not in (None, info.op_type if info is not None else None):
            raise Decline(name)

    def reader(self, name: str, info: FieldInfo) -> str:
        if info.missing_values or info.invalid_values or info.intervals:
            raise Decline(name)
        if info.data_type in ("double", "float") and info.op_type == "continuous" and \
                not info.values:
            kind, valid = (DOUBLE if info.data_type == "double" else FLOAT), None
        elif info.data_type == "string" and info.op_type in ("categorical", "ordinal"):
            kind, valid = TEXT, frozenset(info.values) if info.values else None
        else:
            raise Decline(name)
        self.readers.append((name, kind, valid))
        return kind

    def derived(self, df: objects.DerivedField, local: bool) -> str:
        ex = df.expression
        if ex is None or df.data_type not in (None, "double"):
            raise Decline(df.name)
        fn, kind = self.expression(ex, local)
        if kind != DOUBLE:
            raise Decline(df.name)
        self.steps.append((df.name, fn))
        return kind

    # ------------------------------------------------------------------ expressions
    def expression(self, el: objects.Expression, local: bool
                   ) -> tuple[Callable[[dict], Any], str]:
        cls = type(el)
        if cls is objects.Constant:
            dt = el.data_type or constant_type(el.value or "")
            if dt not in ("double", "integer") or el.missing:
                raise Decline("Constant")
            try:
                value = float(parse_scalar((el.value or "").strip(), dt))
            except ValueError:
                raise Decline("Constant") from None
            return _Const(value), dt
        if cls is objects.FieldRef:
            name = el.field
            kind = self.need(name, local)
            return (lambda env: env[name]), kind
        if cls is objects.NormDiscrete:
            name = el.field
            kind = self.need(name, local)
            if (el.method or "indicator") != "indicator" or el.value is None:
                raise Decline("NormDiscrete")
            if kind not in (TEXT, DOUBLE):
                raise Decline("NormDiscrete")
            if kind == TEXT:
                value: Any = el.value
            else:
                try:
                    value = attributes.parse_number(el.value)
                except ValueError:
                    raise Decline("NormDiscrete") from None
            return (lambda env: 1.0 if env[name] == value else 0.0), DOUBLE
        if cls is objects.NormContinuous:
            return self.norm_continuous(el, local), DOUBLE
        if cls is objects.Apply:
            return self.apply(el, local), DOUBLE
        raise Decline(cls.__name__)

    def norm_continuous(self, el: objects.NormContinuous, local: bool) -> Callable[[dict], Any]:
        name = el.field
        if self.need(name, local) != DOUBLE:
            raise Decline("NormContinuous")
        orig = [n.orig for n in el.norms]
        norm = [n.norm for n in el.norms]
        outliers = el.outliers or "asIs"
        if len(orig) < 2 or outliers not in ("asIs", "asExtremeValues"):
            raise Decline("NormContinuous")
        last = len(orig) - 2

        def fn(env: dict) -> float:
            # as the column plan: segment k covers [orig[k], orig[k+1]]; the end segments
            # extrapolate (asIs) or the value clamps to the end norms (asExtremeValues)
            x = env[name]
            if outliers == "asExtremeValues":
                if x < orig[0]:
                    return norm[0]
                if x > orig[-1]:
                    return norm[-1]
            k = min(max(bisect.bisect_right(orig, x) - 1, 0), last)
            x0, x1, y0, y1 = orig[k], orig[k + 1], norm[k], norm[k + 1]
            return y0 + (x - x0) / (x1 - x0) * (y1 - y0)
        return fn

    def apply(self, el: objects.Apply, local: bool) -> Callable[[dict], Any]:
        op = _SCALAR.get(el.function)     # (+ - * /: Python floats round as numpy does)
        args = el.arguments
        if op is None or len(args) != 2:
            raise Decline("Apply")
        (f, fk), (g, gk) = (self.expression(a, local) for a in args)
        # double with double or integer gives double; integer with integer has PMML's
        # integer rules (the column plan's business)
        if DOUBLE not in (fk, gk) or {fk, gk} - {DOUBLE, "integer"}:
            raise Decline("Apply")
        if _is_const(f) and _is_const(g):
            return _Const(op(f.value, g.value))
        if _is_const(g):
            c = g.value
            return lambda env: op(f(env), c)
        if _is_const(f):
            c = f.value
            return lambda env: op(c, g(env))
        return lambda env: op(f(env), g(env))

    # ------------------------------------------------------------------ the plan
    def plan(self) -> Callable[[Mapping[str, Any]], dict | None]:
        model = self.model
        make = getattr(model, "record_scorer", None)
        if make is None:
            raise Decline(model.tag)
        scorer = make(self.need)
        if scorer is None:
            raise Decline(model.tag)
        scorer = with_targets(model, scorer)
        outputs = self.outputs()
        readers, steps = self.readers, self.steps
        # inputs the model requires but this plan does not read: a record without one
        # goes to the column plan, which reports it
        read = {r[0] for r in readers}
        unread = [n for n in self.doc._required if n not in read]
        numeric = [r[0] for r in readers if r[1] is not TEXT]
        texts = [(r[0], r[2]) for r in readers if r[1] is TEXT]
        f32 = [i for i, r in enumerate(r for r in readers if r[1] is not TEXT) if r[1] is FLOAT]
        all_f32 = len(f32) == len(numeric)
        only_float = {float}

        def numbers(vals: list) -> list | None:
            """The numeric fields' values as finite doubles (None: off the happy path)."""
            if set(map(type, vals)) != only_float:
                for i, v in enumerate(vals):
                    t = type(v)
                    if t is not float:
                        if t is bool or not isinstance(v, (float, int)):
                            return None
                        try:
                            vals[i] = float(v)
                        except OverflowError:
                            return None
            if f32:
                # float fields: rounded to float32 (as the column plan's astype), all at once
                if all_f32:
                    vals = array("f", vals).tolist()
                else:
                    for i, v in zip(f32, array("f", [vals[i] for i in f32]).tolist()):
                        vals[i] = v
            total = sum(vals)
            if total - total != 0.0:     # NaN (missing) or infinite (or an overflowing sum)
                return None
            return vals

        # the numeric fields' values in one C call where every one is present (a dict's
        # itemgetter); an absent one leaves its value _ABSENT, which numbers() declines
        pick = itemgetter(*numeric) if len(numeric) > 1 else (
            (lambda r: (r[numeric[0]],)) if numeric else (lambda r: ()))

        def plan(record: Mapping[str, Any]) -> dict | None:
            for name in unread:
                if name not in record:
                    return None
            get = record.get
            try:
                vals = numbers(list(pick(record)))
            except (KeyError, TypeError):
                vals = numbers([get(n, _ABSENT) for n in numeric])
            if vals is None:
                return None
            env: dict[str, Any] = dict(zip(numeric, vals))
            for name, valid in texts:
                v = get(name, _ABSENT)
                if type(v) is not str or not v or (valid is not None and v not in valid):
                    return None
                env[name] = v
            try:
                for name, fn in steps:
                    x = fn(env)
                    if x - x != 0.0:
                        return None
                    env[name] = x
            except ZeroDivisionError:
                return None
            answer = scorer(env)
            if answer is None:
                return None
            return {name: out(answer) for name, out in outputs}

        packed = None if steps or texts else packed_row(scorer, numeric)
        if packed is None:
            return plan
        # the packed row (record_row.py): every numeric field in one C call, one type check
        pad = array("d", bytes(8 * (packed.width - len(numeric))))
        row = packed.row

        def fused(record: Mapping[str, Any]) -> dict | None:
            for name in unread:
                if name not in record:
                    return None
            try:
                vals = pick(record)
            except (KeyError, TypeError):
                return plan(record)
            if set(map(type, vals)) != only_float:
                return plan(record)           # (ints, float subclasses, or off the path)
            buf = array("d", vals)
            buf += pad
            answer = row(buf)
            if answer is None:
                return None
            return {name: out(answer) for name, out in outputs}
        return fused

    def outputs(self) -> list[tuple[str, Callable[[Answer], Any]]]:
        model = self.model
        classification = model.function == "classification"
        clustering = model.function == "clustering"
        target_type = model.target_type
        if target_type not in (("string", "integer", "double") if classification else
                               ("string",) if clustering else ("double",)):
            raise Decline("target type")
        user = _USER[target_type]
        value_out = lambda a: user(a[0])  # noqa: E731
        outs = []
        if model.target is not None:
            outs.append((model.target.name, value_out))
        elif model.output is None:
            outs.append(("predictedValue", value_out))
        # a model chain's last segment's output fields (the MiningModel exposes them): its
        # scorer answers them as a third element
        for f in getattr(model.output, "nested", None) or []:
            outs.append((f.name, lambda a, name=f.name: a[2][name]))
        for s in (model.output.specs if model.output is not None else []):
            if s.segment_id is not None or s.expr is not None or s.rank != 1:
                raise Decline(s.name)
            if s.feature == "predictedValue" and s.data_type in (None, target_type):
                outs.append((s.name, value_out))
            elif s.feature == "probability" and classification and s.data_type in (None, "double"):
                if s.value is None:
                    outs.append((s.name, lambda a: a[1][a[0]]))
                else:
                    v = s.value
                    outs.append((s.name, lambda a, v=v: a[1].get(v, 0.0)))
            elif s.feature == "affinity" and clustering and s.data_type in (None, "double"):
                # (a clustering scorer answers every cluster's distance by id: record_cluster.py)
                from .models.comparison import id_text
                ids = {str(v) for v in getattr(model, "ids", ())}     # (a ClusteringModel's)
                key = id_text(s.value) if s.value is not None else None
                if key not in ids:
                    raise Decline(s.name)     # (the best one's, or a cluster named by none)
                outs.append((s.name, lambda a, key=key: a[1][key]))
            else:
                raise Decline(s.name)
        return outs


_USER = {"string": str, "integer": int, "double": float}


def with_targets(model, scorer: Callable[[dict], Any]) -> Callable[[dict], Any]:
    """The scorer with the model's Targets applied as the column plan applies them
    (``TargetSpec.apply``: clamp, factor, constant, in that order). Only rescaling of a
    regression's value is planned; other Targets (and Targets the model does not apply, e.g. a
    selecting MiningModel's) raise Decline."""
    if not model.targets_spec:
        return scorer
    spec = model.target_spec()
    if spec is None or model.function != "regression" or \
            spec.cast_integer or getattr(model, "method", None) in ("selectFirst", "selectAll",
                                                                    "modelChain") or \
            any(tv.default is not None or tv.prior is not None for tv in spec.values):
        raise Decline("Targets")
    lo, hi, factor, constant = spec.min, spec.max, spec.factor, spec.constant

    def rescale(a):
        v = a[0]
        if lo is not None:
            v = max(v, lo)
        if hi is not None:
            v = min(v, hi)
        if factor != 1.0:
            v = v * factor
        if constant != 0.0:
            v = v + constant
        return (v, None) if v - v == 0.0 else None
    if isinstance(scorer, RowScorer):
        return scorer.then(rescale)

    def rescaled(env: dict):
        a = scorer(env)
        return None if a is None else rescale(a)
    return rescaled


class _Const:
    """A constant folded at compile time."""

    __slots__ = ("value",)

    def __init__(self, value: float):
        self.value = value

    def __call__(self, env: dict) -> float:
        return self.value


def _is_const(fn: Any) -> bool:
    return isinstance(fn, _Const)


def _by_name(fields) -> dict[str, objects.DerivedField]:
    """Typed derived fields by name (a later definition of a name wins, as it did)."""
    return {df.name: df for df in fields}
