"""Radial basis support vector machines scored fast, with a bound on how far the fast values may
be from the exact path's.

The exact path (``support_vector_machine.Kernel.matrix``) sums (x_k - v_k)^2 field by field for
every row and support vector: three operations per field. Here the squared distance is expanded
as |x|^2 + |v|^2 - 2 x.v, one fused multiply-add per field, and the dual sums go in any order;
rows are scored in blocks small enough to stay in cache, on every core (``kernels.run_blocks``).

The expansion can cancel: its error is of order u (|x|^2 + |v|^2) rather than u |x - v|^2
(u = 2^-53). Standard floating-point error bounds give, for each row and machine, a bound B on
|fast value - exact-path value| (both paths' rounding: the distances, the exponent's product,
exp's last bits, the dual sum over the vectors and the intercept):

    B = 2u (S (|gamma| (5F + 20) (|x|^2 + max|v|^2) + 2m + 16) + |f| + |b|) + 4m max|alpha| 2^-1074

with S = sum_j |alpha_j| K(x, v_j) (computed alongside f), F fields and m support vectors: about
twice the sum of the two paths' first-order bounds (the last term covers exp's absolute error
among subnormal results). The model scores again, on the exact path, every row whose decision
is within B of changing (a value within B of its machine's threshold, two machines within
their bounds of each other), and every row where the bound is not small (huge inputs) or not
finite. Categories, votes and probabilities are therefore the exact path's; only decision values
of rows far from any decision may differ, by at most B.
"""
from __future__ import annotations

import numpy as np

from .compute_backend import kernels
from .row_blocks import run_blocks

U = 2.0 ** -53
#: (rows x vectors) kernel values per step, in doubles: a block this size stays in L2
CACHE_DOUBLES = 1 << 17
#: the same for the numpy twin, whose every step is a library call (16 MB)
NUMPY_DOUBLES = 1 << 21
TASK_ROWS = 2048          # rows a thread takes at a time
#: |gamma| u (5F + 20) (|x|^2 + max|v|^2) above this: the first-order bound is not trusted
MAX_RELATIVE = 1e-3


class RbfPlan:
    """The support vectors and coefficients of an RBF machine set, laid out for fast scoring."""

    def __init__(self, sv: np.ndarray, coef: np.ndarray, gamma: float,
                 intercepts: np.ndarray) -> None:
        self.vt = np.ascontiguousarray(sv.T, dtype=float)           # fields x vectors
        self.vt_m2 = -2.0 * self.vt
        self.vv = np.einsum("ij,ij->i", sv, sv)
        self.vmax = float(self.vv.max()) if len(self.vv) else 0.0
        self.coef = np.ascontiguousarray(coef, dtype=float)          # vectors x machines
        self.abs_coef = np.abs(self.coef)
        self.coef_t = np.ascontiguousarray(self.coef.T)
        self.abs_coef_t = np.ascontiguousarray(self.abs_coef.T)
        self.neg_gamma = -gamma
        self.gamma = abs(gamma)
        self.intercepts = intercepts
        fields, m = sv.shape[1], sv.shape[0]
        self.scale = self.gamma * (5 * fields + 20)
        self.const = 2.0 * m + 16.0
        # exp's error is absolute (not relative) among subnormal results: up to 2^-1074 each
        self.tiny = 4.0 * m * (self.abs_coef.max(axis=0) if m else 0.0) * 2.0 ** -1074
        self.step = max(4, min(1024, CACHE_DOUBLES // max(1, m)))
        self.numpy_step = max(4, NUMPY_DOUBLES // max(1, m))

    def values(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows x machines) decision values and their error bounds B (inf: not trusted)."""
        n = len(x)
        x = np.ascontiguousarray(x, dtype=float)
        xx = np.einsum("ij,ij->i", x, x)
        machines = self.coef.shape[1]
        f = np.empty((n, machines))
        s = np.empty((n, machines))
        k = kernels()
        if k is None:
            for lo in range(0, n, self.numpy_step):
                hi = min(n, lo + self.numpy_step)
                self._block_numpy(x[lo:hi], xx[lo:hi], f[lo:hi], s[lo:hi])
        else:
            def task(lo: int, hi: int) -> None:
                buf = np.empty((min(self.step, hi - lo), self.vt.shape[1]))
                for a in range(lo, hi, self.step):
                    b = min(hi, a + self.step)
                    kmat = buf[:b - a]
                    k.rbf_exponents(x[a:b], self.vt, xx[a:b], self.vv, self.neg_gamma, kmat)
                    np.exp(kmat, out=kmat)
                    k.rbf_sums(kmat, self.coef_t, self.abs_coef_t, f[a:b], s[a:b])
            run_blocks(n, TASK_ROWS, task)
        f += self.intercepts
        with np.errstate(all="ignore"):
            rel = self.scale * (xx + self.vmax)
            bound = 2.0 * U * (s * (rel + self.const)[:, None] + np.abs(f)
                               + np.abs(self.intercepts)) + self.tiny
            bound[~(rel * U <= MAX_RELATIVE)] = np.inf
        return f, bound

    def _block_numpy(self, x: np.ndarray, xx: np.ndarray, f: np.ndarray, s: np.ndarray) -> None:
        """The numba kernels' computation with numpy (BLAS for the products)."""
        with np.errstate(all="ignore"):
            kmat = x @ self.vt_m2                  # -2 x.v
            kmat += xx[:, None]
            kmat += self.vv
            np.maximum(kmat, 0.0, out=kmat)
            kmat *= self.neg_gamma
            np.exp(kmat, out=kmat)
            np.matmul(kmat, self.coef, out=f)
            np.matmul(kmat, self.abs_coef, out=s)


def unsure_votes(f: np.ndarray, bound: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Rows where some machine's value may lie on the other side of its threshold."""
    with np.errstate(invalid="ignore"):
        return (~(np.abs(f - thresholds) > bound)).any(axis=1)


def unsure_best(f: np.ndarray, bound: np.ndarray, max_wins: bool) -> np.ndarray:
    """Rows where another machine may have the best (lowest, or highest) value."""
    n, machines = f.shape
    if machines < 2 or n == 0:           # one machine always wins
        return np.zeros(n, bool)
    rows = np.arange(n)
    with np.errstate(invalid="ignore"):
        best = np.argmax(np.where(np.isnan(f), -np.inf, f), axis=1) if max_wins else \
            np.argmin(np.where(np.isnan(f), np.inf, f), axis=1)
        fb = f[rows, best][:, None]
        bb = bound[rows, best][:, None]
        close = ~(np.abs(f - fb) > bound + bb)
    close[rows, best] = ~np.isfinite(f[rows, best]) | ~np.isfinite(bound[rows, best])
    return close.any(axis=1)
