"""GaussianProcessModel (regression): the posterior of a zero-mean Gaussian process given the
document's TrainingInstances.

With K the kernel matrix of the n training inputs, s2 the kernel's noiseVariance, y the training
targets and k* the kernel between a new input and the training inputs:

    predicted mean   m(x) = k*^T (K + s2 I)^-1 y
    standardError    sqrt(k(x, x) + s2 - k*^T (K + s2 I)^-1 k*)   (predictive, noise included)

Kernels (gamma the scale; lambda the length scale(s); d the number of inputs, in
InstanceField order):

    RadialBasisKernel             gamma exp(-sum_i (x_i - z_i)^2 / (2 lambda^2))
    ARDSquaredExponentialKernel   gamma exp(-1/2 sum_i (x_i - z_i)^2 / lambda_i^2)
    AbsoluteExponentialKernel     gamma exp(-sum_i |x_i - z_i| / lambda_i)
    GeneralizedExponentialKernel  gamma exp(-sum_i (|x_i - z_i| / lambda_i)^degree)

The ARD form is scikit-learn's ``gamma * RBF(length_scale=lambda) + WhiteKernel(s2)``.
Training data come from an InlineTable (TableLocator is not supported).
"""
from __future__ import annotations

import numpy as np
from scipy import linalg as _linalg  # type: ignore[import-untyped]

from portmodel.errors import DocumentError, UnsupportedError

from ..objects import clustering as oc
from ..objects.nodes import Fragment
from ..scope import Scope
from .base import COMMON_CHILDREN, CompiledModel, Result, register, regression_result
from ..predicates import parse_array

KERNELS = ("RadialBasisKernel", "ARDSquaredExponentialKernel", "AbsoluteExponentialKernel",
           "GeneralizedExponentialKernel")
_CHILDREN = COMMON_CHILDREN | {"TrainingInstances"}


class Kernel:
    """One of the four PMML covariance functions, vectorized over pairs of rows."""

    def __init__(self, node, dims: int):
        self.kind = node.XML.tag

        def num(value: float | None) -> float:
            return 1.0 if value is None else value

        self.gamma = num(node.gamma)
        self.noise = num(node.noise_variance)
        self.degree = num(getattr(node, "degree", None))
        if isinstance(node, oc.RadialBasisKernel):
            self.lam = np.full(dims, num(node.lambda_))
        else:
            arr = node.lambdas[0].array if node.lambdas else None
            if arr is None:
                self.lam = np.ones(dims)
            else:
                self.lam = np.array(parse_array(arr, "double"), float)
                if len(self.lam) == 1 and dims > 1:
                    self.lam = np.full(dims, self.lam[0])
            if len(self.lam) != dims:
                raise DocumentError(f"{self.kind} Lambda has {len(self.lam)} values for {dims} "
                                    "inputs", line=node.line, element=self.kind)
        if not (self.lam > 0).all():
            raise DocumentError(f"{self.kind} length scales must be positive", line=node.line,
                                element=self.kind)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Kernel matrix between the rows of a (m, d) and b (n, d)."""
        sa, sb = a / self.lam, b / self.lam
        if self.kind in ("RadialBasisKernel", "ARDSquaredExponentialKernel"):
            d2 = (sa ** 2).sum(1)[:, None] + (sb ** 2).sum(1)[None, :] - 2.0 * sa @ sb.T
            return self.gamma * np.exp(-0.5 * np.maximum(d2, 0.0))
        diff = np.abs(sa[:, None, :] - sb[None, :, :])
        if self.kind == "GeneralizedExponentialKernel" and self.degree != 1.0:
            diff = diff ** self.degree
        return self.gamma * np.exp(-diff.sum(axis=2))


@register("GaussianProcessModel")
class GaussianProcessModel(CompiledModel):
    def compile(self) -> None:
        spec = self.spec
        if self.function != "regression":
            raise UnsupportedError(f"GaussianProcessModel functionName={self.function!r}",
                                   line=self.line, element=self.tag)
        kernel = None
        for child in spec.content:
            if isinstance(child, Fragment):
                if child.tag in COMMON_CHILDREN:
                    continue
                raise UnsupportedError(f"<{child.tag}> in GaussianProcessModel is not supported",
                                       line=child.line, element=child.tag)
            if isinstance(child, oc.GP_KERNELS) and kernel is None:
                kernel = child
                continue
            if child.XML.tag in _CHILDREN:
                continue
            raise UnsupportedError(f"<{child.XML.tag}> in GaussianProcessModel is not "
                                   "supported", line=child.line, element=child.XML.tag)
        if kernel is None:
            raise DocumentError("GaussianProcessModel has no kernel", line=self.line,
                                element=self.tag)
        if self.target is None:
            raise DocumentError("GaussianProcessModel has no target field", line=self.line,
                                element=self.tag)
        tis = spec.body(oc.TrainingInstances)
        if not tis:
            raise DocumentError("GaussianProcessModel has no TrainingInstances", line=self.line,
                                element=self.tag)
        node = tis[0]
        ti = node
        columns: dict[str, str] = {}
        named: dict[str, object] = {}
        instance_fields = node.instance_fields
        for f in (instance_fields.fields if instance_fields is not None else ()):
            if not f.field:
                raise DocumentError("attribute 'field' is empty", line=f.line,
                                    element="InstanceField")
            columns[f.field] = f.column or f.field
            named[f.field] = f
        target = self.target.name
        if target not in columns:
            raise DocumentError(f"TrainingInstances lack the target {target!r}",
                                line=ti.line, element="TrainingInstances")
        self.inputs = [f for f in columns if f != target]
        for name in self.inputs:
            self.ctx.require(name, named[name])
        if node.table is None and node.table_locator is not None:
            raise UnsupportedError("TableLocator (external tables) is not supported",
                                   line=node.line, element="TableLocator")
        rows = node.table.as_dicts() if node.table is not None else []
        if not rows or not self.inputs:
            raise DocumentError("TrainingInstances hold no training data", line=ti.line,
                                element="TrainingInstances")
        try:
            data = np.array([[float(r[columns[f]]) for f in self.inputs + [target]] for r in rows])
        except (KeyError, ValueError):
            raise DocumentError("TrainingInstances need a number in every cell",
                                line=ti.line, element="TrainingInstances") from None
        if not np.isfinite(data).all():
            raise DocumentError("TrainingInstances need a finite number in every cell",
                                line=ti.line, element="TrainingInstances")
        self.x_train, y = data[:, :-1], data[:, -1]
        self.kernel = Kernel(kernel, len(self.inputs))
        with np.errstate(all="ignore"):
            K = self.kernel(self.x_train, self.x_train) + self.kernel.noise * np.eye(len(y))
        if not np.isfinite(K).all():
            raise DocumentError("the training covariance matrix is not finite (training values "
                                "or kernel parameters too large)", line=kernel.line,
                                element=kernel.XML.tag)
        try:
            self.chol = _linalg.cho_factor(K, lower=True)
        except np.linalg.LinAlgError:
            raise DocumentError("the training covariance matrix is not positive definite",
                                line=kernel.line, element=kernel.XML.tag) from None
        self.alpha = _linalg.cho_solve(self.chol, y)

    def score(self, scope: Scope) -> Result:
        n = scope.n
        cols = [scope.get(f) for f in self.inputs]
        missing = np.zeros(n, bool)
        for c in cols:
            missing |= ~c.valid
        x = np.column_stack([np.where(c.valid, c.values.astype(float), 0.0) for c in cols])
        mean = np.full(n, np.nan)
        var = np.full(n, np.nan)
        ok = np.flatnonzero(~missing)
        for start in range(0, len(ok), 4096):     # bound the (rows x training) kernel matrix
            rows = ok[start:start + 4096]
            ks = self.kernel(x[rows], self.x_train)
            mean[rows] = ks @ self.alpha
            v = _linalg.cho_solve(self.chol, ks.T)
            prior = self.kernel.gamma + self.kernel.noise
            var[rows] = np.maximum(prior - np.einsum("ij,ji->i", ks, v), 0.0)
        extra = {"standardError": np.sqrt(var), "standardDeviation": np.sqrt(var)}
        return regression_result(mean, missing, self.target_type, extra)
