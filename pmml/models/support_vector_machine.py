"""SupportVectorMachineModel: every machine's decision value from one kernel matrix.

The VectorDictionary's instances become a matrix V (vectors x fields) and each input row a vector
x built from the VectorFields (FieldRef values; CategoricalPredictor indicators). The kernel
matrix K(x, V) is computed once for the batch (rows x vectors) and every SupportVectorMachine's
value f = K @ alpha + b falls out of one matrix product with a (vectors x machines) coefficient
matrix. svmRepresentation="Coefficients" (linear machines given as one weight per field) scores
f = x @ w + b directly.

Classification, as the PMML 4.4 specification describes it:
  - one machine with an alternateTargetCategory (binary), and OneAgainstOne: each machine votes
    for its targetCategory when f < threshold (f > threshold with maxWins="true"), else for its
    alternateTargetCategory; with alternateBinaryTargetCategory (older documents) f is rounded
    and 1 means targetCategory, 0 alternateBinaryTargetCategory. The category with most votes
    wins, ties going to the first category in the target's value order; probabilities are
    votes / machines;
  - OneAgainstAll: the machine with the smallest f (largest with maxWins="true") names the
    category; there are no probabilities.
When classificationMethod is absent (it defaults to OneAgainstAll) but every machine names an
alternateTargetCategory, the layout is one-against-one (legacy R producers omit the attribute);
JPMML-Evaluator inferred the same before 1.6.2 and now offers it as an opt-in transformer.
A row whose vector has a missing value cannot be scored (an evaluation error for that row), as in
the reference engine.

Batches go through the kernel matrix a block of rows at a time, so memory stays bounded. A
radial basis classifier (categories from thresholds or the best machine) scores large batches with
``svm_rbf``'s fast path and rescores exactly the rows its error bound cannot settle: the same
categories, votes and probabilities as the exact path.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from portmodel.errors import DocumentError, EvaluationError, UnsupportedError

from .. import attributes
from ..expressions import cast, compile_expression
from ..scope import Scope
from ..values import Col, codes, full, is_numeric_type, parse_scalar
from ..objects import svm
from ..objects.expressions import FieldRef
from ..objects.regression import CategoricalPredictor
from .base import CompiledModel, Result, register, regression_result
from ..location import where
from .node_access import model_attrs
from .svm_rbf import RbfPlan, unsure_best, unsure_votes

KERNELS = ("LinearKernelType", "PolynomialKernelType", "RadialBasisKernelType",
           "SigmoidKernelType")
#: doubles in one block of the exact path's (rows x vectors) kernel matrix (16 MB)
EXACT_BLOCK_DOUBLES = 1 << 21
#: rows x support vectors from which an RBF classifier takes the fast path
FAST_MIN_WORK = 1 << 15


@dataclass
class Kernel:
    kind: str
    gamma: float = 1.0
    coef0: float = 1.0
    degree: float = 1.0

    def matrix(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """K(x_i, v_j) for every row i and vector j."""
        # in place: the same elementwise operations, without (rows x vectors) temporaries
        with np.errstate(all="ignore"):
            if self.kind == "RadialBasisKernelType":
                d = squared_distances(x, v)
                np.negative(d, out=d)
                d *= self.gamma
                return np.exp(d, out=d)                  # exp(-d * gamma)
            dot = x @ v.T
            if self.kind == "LinearKernelType":
                return dot
            dot *= self.gamma
            dot += self.coef0
            if self.kind == "PolynomialKernelType":
                return np.power(dot, self.degree, out=dot)
            return np.tanh(dot, out=dot)


def squared_distances(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(rows x vectors) squared Euclidean distances: numba over both cores when available,
    scipy's cdist otherwise; the same sums in the same order, so the same doubles."""
    if not (len(x) and len(v)):
        return np.zeros((len(x), len(v)))
    from .compute_backend import kernels
    k = kernels()
    if k is not None and len(x) * len(v) >= 4096:
        return k.sq_euclidean(np.ascontiguousarray(x, dtype=float),
                              np.ascontiguousarray(v, dtype=float))
    from scipy.spatial.distance import cdist  # type: ignore[import-untyped]
    return cdist(x, v, "sqeuclidean")


def parse_kernel(model) -> Kernel:
    """The one kernel type of a SupportVectorMachineModel node (absent attributes: 1)."""
    found = [c for c in model.content if isinstance(c, svm.KERNELS)]
    if len(found) != 1:
        raise DocumentError("SupportVectorMachineModel needs exactly one kernel element",
                            line=model.line, element=model.tag)
    k = found[0]

    def num(attr: str) -> float:
        value = getattr(k, attr, None)
        return 1.0 if value is None else value

    return Kernel(k.XML.tag, num("gamma"), num("coef0"), num("degree"))


def _numbers(text: str | None, dtype) -> np.ndarray:
    return np.array((text or "").split(), dtype=dtype)


def parse_real_vector(vi: svm.VectorInstance, size: int) -> np.ndarray:
    """A VectorInstance's values: REAL-ARRAY (<Array>) or REAL-SparseArray (1-based Indices)."""
    arr, sparse = vi.array, vi.sparse
    if (arr is None) == (sparse is None):
        raise DocumentError("VectorInstance needs one Array or REAL-SparseArray",
                            line=vi.line, element="VectorInstance")
    try:
        if arr is not None:
            vals = np.array((arr.text or "").replace('"', " ").split(), dtype=float)
        else:
            n = size if sparse.n is None else sparse.n
            if n < 0:
                raise DocumentError(f"attribute n={n} is less than 0", line=sparse.line,
                                    element="REAL-SparseArray")
            if n != size:      # (before allocating n values: n may be anything)
                raise DocumentError(f"REAL-SparseArray n={n} for {size} VectorFields",
                                    line=sparse.line, element="REAL-SparseArray")
            vals = np.full(n, 0.0 if sparse.default_value is None else sparse.default_value)
            idx = _numbers(sparse.indices.text if sparse.indices else None, np.int64)
            ent = _numbers(sparse.entries.text if sparse.entries else None, float)
            if len(idx) != len(ent) or (len(idx) and (idx.min() < 1 or idx.max() > n)):
                raise DocumentError("REAL-SparseArray Indices and REAL-Entries disagree",
                                    line=sparse.line, element="REAL-SparseArray")
            vals[idx - 1] = ent
    except ValueError:
        raise DocumentError("VectorInstance has a value that is not a number",
                            line=vi.line, element="VectorInstance") from None
    if len(vals) != size:
        raise DocumentError(f"VectorInstance {vi.id!r} has {len(vals)} values for "
                            f"{size} VectorFields", line=vi.line, element="VectorInstance")
    return vals


@dataclass
class Machine:
    target: Any
    alternate: Any
    threshold: float
    vector_idx: np.ndarray    # indices into the used-vector matrix (SupportVectors form)
    alphas: np.ndarray        # coefficients (per support vector, or per field)
    b: float


@register("SupportVectorMachineModel")
class SupportVectorMachineModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        attrs = model_attrs(spec)
        if self.function not in ("classification", "regression"):
            raise UnsupportedError(f"SupportVectorMachineModel functionName={self.function!r}",
                                   line=self.line, element=self.tag)
        self.kernel = parse_kernel(spec)
        self.representation = spec.attribute("svmRepresentation") or \
            spec.attribute("representation") or "SupportVectors"
        if self.representation not in ("SupportVectors", "Coefficients"):
            raise UnsupportedError(f"svmRepresentation={self.representation!r}",
                                   line=self.line, element=self.tag)
        if self.representation == "Coefficients" and self.kernel.kind != "LinearKernelType":
            raise UnsupportedError("svmRepresentation=\"Coefficients\" needs a linear kernel",
                                   line=self.line, element=self.tag)
        self.method = spec.attribute("classificationMethod") or "OneAgainstAll"
        if self.method not in ("OneAgainstAll", "OneAgainstOne"):
            raise UnsupportedError(f"classificationMethod={self.method!r}", line=self.line,
                                   element=self.tag)
        self.max_wins = attributes.boolean(attrs, "maxWins", False)
        self.threshold = attributes.number(attrs, "threshold", "0")
        self.alt_binary = self._category(spec.attribute("alternateBinaryTargetCategory"), spec)
        vds = spec.body(svm.VectorDictionary)
        self._compile_dictionary(vds[0] if vds else None)
        self.machines = [self._compile_machine(m) for m in spec.body(svm.SupportVectorMachine)]
        if not self.machines:
            raise DocumentError("SupportVectorMachineModel has no SupportVectorMachine",
                                line=self.line, element=self.tag)
        if self.function == "regression":
            if len(self.machines) != 1:
                raise DocumentError("a regression SVM needs exactly one SupportVectorMachine",
                                    line=self.line, element=self.tag)
        else:
            self._compile_classes()
        self._compile_matrices()

    def _category(self, text: str | None, node) -> Any:
        if text is None:
            return None
        try:
            return parse_scalar(text, self.target_type)
        except ValueError:
            at = where(node)
            raise DocumentError(f"category {text!r} is not a {self.target_type}",
                                **at) from None

    def _compile_dictionary(self, vd: svm.VectorDictionary | None) -> None:
        if vd is None or vd.vector_fields is None:
            raise DocumentError("SupportVectorMachineModel has no VectorDictionary/VectorFields",
                                line=self.line, element=self.tag)
        self.fields: list[Callable[[Scope], Col]] = []
        self.field_names: list[str] = []
        #: every VectorField a field reference (no CategoricalPredictor): the record plan's case
        self.plain_fields = all(isinstance(f, FieldRef) for f in vd.vector_fields.fields)
        for f in vd.vector_fields.fields:
            if isinstance(f, FieldRef):
                self.fields.append(compile_expression(f, self.ctx))
                self.field_names.append(f.field)
            else:
                self.fields.append(self._indicator(f))
                self.field_names.append(f.name)
        size = len(self.fields)
        self.vectors: dict[str, np.ndarray] = {}
        for vi in vd.instances:
            self.vectors[vi.id] = parse_real_vector(vi, size)
        self.vector_pos = {v: i for i, v in enumerate(self.vectors)}

    def _indicator(self, p: CategoricalPredictor) -> Callable[[Scope], Col]:
        """CategoricalPredictor in VectorFields: coefficient where the field equals value, else 0."""
        name = p.name
        info = self.ctx.require(name, p)
        try:
            value = parse_scalar(p.value, info.data_type)
        except ValueError:
            raise DocumentError(f"value {p.value!r} is not a {info.data_type}",
                                line=p.line, element="CategoricalPredictor") from None
        coef = p.coefficient

        def fn(scope: Scope) -> Col:
            col = scope.get(name)
            hit = codes(col.values, [value]) == 0
            vals = np.where(col.missing, np.nan, np.where(hit, coef, 0.0))
            return Col(vals, col.missing, "double", "continuous")
        return fn

    def _compile_machine(self, m: svm.SupportVectorMachine) -> Machine:
        coefs = m.coefficients
        if coefs is None:
            raise DocumentError("SupportVectorMachine has no Coefficients", line=m.line,
                                element="SupportVectorMachine")
        alphas = np.array([0.0 if c.value is None else c.value for c in coefs.coefficients])
        b = 0.0 if coefs.absolute_value is None else coefs.absolute_value
        machine = Machine(self._category(m.target_category, m),
                          self._category(m.alternate_target_category, m),
                          self.threshold if m.threshold is None else m.threshold,
                          np.zeros(0, np.int64), alphas, b)
        if self.representation == "Coefficients":
            if len(alphas) != len(self.fields):
                raise DocumentError(f"{len(alphas)} Coefficients for {len(self.fields)} "
                                    "VectorFields", line=coefs.line, element="Coefficients")
            return machine
        svs = m.support_vectors
        ids = [sv.vector_id for sv in svs.vectors] if svs is not None else []
        if len(ids) != len(alphas):
            raise DocumentError(f"{len(ids)} SupportVectors for {len(alphas)} Coefficients",
                                line=m.line, element="SupportVectorMachine")
        for sv in (svs.vectors if svs is not None else ()):
            if sv.vector_id not in self.vectors:
                raise DocumentError(f"vectorId {sv.vector_id!r} names no VectorInstance",
                                    line=sv.line, element="SupportVector")
        machine.vector_idx = np.array([self.vector_pos[v] for v in ids], dtype=np.int64)
        return machine

    def _compile_classes(self) -> None:
        self.binary = len(self.machines) == 1 and (
            self.machines[0].alternate is not None or self.alt_binary is not None)
        if self.spec.attribute("classificationMethod") is None and all(
                m.alternate is not None for m in self.machines):
            # legacy producers omit the attribute on one-against-one layouts
            self.method = "OneAgainstOne"
        voting = self.binary or self.method == "OneAgainstOne"
        self.voting = voting
        cats = list(self.categories())
        for m in self.machines:
            if m.target is None:
                raise DocumentError("SupportVectorMachine has no targetCategory", line=self.line,
                                    element="SupportVectorMachine")
            if voting and m.alternate is None and self.alt_binary is None:
                raise DocumentError("SupportVectorMachine has no alternateTargetCategory",
                                    line=self.line, element="SupportVectorMachine")
            for c in (m.target, m.alternate if self.alt_binary is None else self.alt_binary):
                if c is not None and c not in cats:
                    cats.append(c)
        self.cats = cats
        self.cat_pos = {c: j for j, c in enumerate(cats)}

    def _compile_matrices(self) -> None:
        """Stack the used vectors and place each machine's coefficients in one matrix."""
        if self.representation == "Coefficients":
            self.sv = None
            self.coef = np.column_stack([m.alphas for m in self.machines])
        else:
            used = np.unique(np.concatenate([m.vector_idx for m in self.machines]))
            allv = np.array(list(self.vectors.values())) if self.vectors else \
                np.zeros((0, len(self.fields)))
            self.sv = allv[used] if len(used) else np.zeros((0, len(self.fields)))
            where = {int(u): i for i, u in enumerate(used)}
            self.coef = np.zeros((len(used), len(self.machines)))
            for j, m in enumerate(self.machines):
                for vi, a in zip(m.vector_idx, m.alphas):
                    self.coef[where[int(vi)], j] += a
        self.intercepts = np.array([m.b for m in self.machines])
        self.fast = None
        if (self.kernel.kind == "RadialBasisKernelType" and self.sv is not None and len(self.sv)
                and self.function == "classification" and self.alt_binary is None
                and math.isfinite(self.kernel.gamma)
                and np.isfinite(self.sv).all() and np.isfinite(self.coef).all()):
            self.fast = RbfPlan(self.sv, self.coef, self.kernel.gamma, self.intercepts)

    def record_scorer(self, need):
        """The one-record scorer of pmml/record.py (built in pmml/record_svm.py)."""
        from ..record_svm import svm_scorer
        return svm_scorer(self, need)

    # ------------------------------------------------------------------ scoring
    def decision_values(self, scope: Scope) -> tuple[np.ndarray, np.ndarray]:
        """(rows x machines) decision values and the rows that could not be scored."""
        n = scope.n
        x = np.empty((n, len(self.fields)))
        missing = np.zeros(n, bool)
        for j, fn in enumerate(self.fields):
            col = fn(scope)
            if not is_numeric_type(col.data_type):
                col = cast(col, "double")
            if col.missing.any():
                name = self.field_names[j]
                scope.fail(col.missing & ~missing, lambda i: EvaluationError(
                    "missing value in a support vector field", field=name, row=i))
                missing |= col.missing
            x[:, j] = col.values
        x[missing] = 0.0
        if self.fast is not None and n * len(self.sv) >= FAST_MIN_WORK:
            f, bound = self.fast.values(x)
            if self.voting:
                unsure = unsure_votes(f, bound, np.array([m.threshold for m in self.machines]))
            else:
                unsure = unsure_best(f, bound, self.max_wins)
            unsure &= ~missing
            if unsure.any():
                f[unsure] = self.exact_values(x[unsure])
        else:
            f = self.exact_values(x)
        f[missing] = np.nan
        return f, missing

    def exact_values(self, x: np.ndarray) -> np.ndarray:
        """(rows x machines) decision values, the kernel matrix a block of rows at a time."""
        if self.sv is None:
            return x @ self.coef + self.intercepts
        f = np.empty((len(x), len(self.machines)))
        step = max(1, EXACT_BLOCK_DOUBLES // max(1, len(self.sv)))
        for lo in range(0, len(x), step):
            hi = min(len(x), lo + step)
            f[lo:hi] = self.kernel.matrix(x[lo:hi], self.sv) @ self.coef + self.intercepts
        return f

    def score(self, scope: Scope) -> Result:
        f, missing = self.decision_values(scope)
        n = scope.n
        if self.function == "regression":
            return regression_result(f[:, 0], missing, self.target_type)
        k = len(self.cats)
        col = full(n, None, self.target_type, "categorical")
        cat_arr = np.array(self.cats, dtype=col.values.dtype)
        extra: dict[str, Any] = {}
        if self.voting:
            votes = np.zeros((n, k))
            rows = np.arange(n)
            for j, m in enumerate(self.machines):
                v = f[:, j]
                if self.alt_binary is not None:
                    r = np.floor(v + 0.5)
                    bad = ~missing & (r != 0.0) & (r != 1.0)
                    if bad.any():
                        scope.fail(bad, lambda i: EvaluationError(
                            "a binary SVM's value must round to 0 or 1", row=i))
                        missing = missing | bad
                    first = r == 1.0
                    alternate = self.alt_binary
                else:
                    first = v > m.threshold if self.max_wins else v < m.threshold
                    alternate = m.alternate
                pick = np.where(first, self.cat_pos[m.target], self.cat_pos[alternate])
                votes[rows, pick] += 1.0
            best = np.argmax(votes, axis=1)
            probs_m = votes / len(self.machines)
            probs = {c: np.where(missing, np.nan, probs_m[:, j]) for j, c in enumerate(self.cats)}
            extra["votes"] = {c: np.where(missing, np.nan, votes[:, j])
                              for j, c in enumerate(self.cats)}
        else:
            pos = np.array([self.cat_pos[m.target] for m in self.machines])
            score = np.where(np.isnan(f), -np.inf if self.max_wins else np.inf, f)
            best = pos[np.argmax(score, axis=1) if self.max_wins else np.argmin(score, axis=1)] \
                if n else np.zeros(0, np.int64)
            probs = None
        ok = ~missing
        col.values[ok] = cat_arr[best[ok]]
        col.missing[:] = missing
        return Result(n, "classification", col, list(self.cats), probs, extra)

