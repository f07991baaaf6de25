"""Which implementation runs the compiled kernels: numba or numpy, decided here and only here.

numba runs when it is importable and not switched off with PORTMODEL_NO_NUMBA=1; otherwise
every kernel's numpy twin runs. Each numba kernel and its twin are registered as a named
``KernelPair``; both give the same numbers bit for bit (same additions in the same order), which
the twin tests check pair by pair by iterating ``PAIRS``. The numba modules are imported only
when a kernel of theirs is first asked for (loading numba costs about a second).

Pairs whose ``same_signature`` is set take the same arguments on both sides (the numpy twin
writes the same output arrays); the other twins are the numpy code the model modules run when
numba is off, named so the tests can find them.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

_HAVE_NUMBA: list[bool] = []
_PACKAGE = __name__.rsplit(".", 1)[0]          # portmodel.pmml.models
NUMBA_MODULES = ("_kernels_numba", "_tree_numba")


def numba_enabled() -> bool:
    """numba is importable and not switched off with PORTMODEL_NO_NUMBA=1."""
    if os.environ.get("PORTMODEL_NO_NUMBA", "") not in ("", "0"):
        return False
    if not _HAVE_NUMBA:
        # (found, not imported: importing numba is left to the first kernel that runs)
        from importlib.util import find_spec
        _HAVE_NUMBA.append(find_spec("numba") is not None)
    return _HAVE_NUMBA[0]


_LOADED: dict[str, ModuleType] = {}


def numba_module(name: str) -> ModuleType:
    """One of the numba kernel modules (compiled once per process, or loaded from numba's disk
    cache). Callers ask ``numba_enabled`` (or ``use_numba``) first."""
    mod = _LOADED.get(name)
    if mod is None:
        if name not in NUMBA_MODULES:
            raise KeyError(name)
        mod = _LOADED[name] = importlib.import_module(f"{_PACKAGE}.{name}")
    return mod


def numba_loaded(name: str) -> bool:
    """Whether this process has loaded the numba module already (then running it is free)."""
    return name in _LOADED


def use_numba(work: int, module: str = "_tree_numba") -> bool:
    """Whether to run a numba module's kernels for this much work (rows x trees).

    Always, once the module is loaded in this process. Before that, only for at least
    PORTMODEL_NUMBA_MIN_WORK rows x trees (default 0: always): loading numba and its cached
    kernels costs about a second, which a short-lived command scoring a small file would spend
    for nothing, so ``portmodel score`` sets it (the numpy twins give the same answers)."""
    if not numba_enabled():
        return False
    if numba_loaded(module):
        return True
    floor = os.environ.get("PORTMODEL_NUMBA_MIN_WORK")
    return not floor or work >= int(floor)


def kernels() -> ModuleType | None:
    """The dense models' numba kernel module, or None when numba is unavailable or off."""
    if not numba_enabled():
        return None
    return numba_module("_kernels_numba")


def _resolve(path: str) -> Any:
    module, attr = path.split(":")
    mod = importlib.import_module(module if "." in module else f"{_PACKAGE}.{module}")
    for part in attr.split("."):
        mod = getattr(mod, part)
    return mod


@dataclass(frozen=True)
class KernelPair:
    """A numba kernel and its numpy twin, each as ``module:attribute`` (a module of
    pmml.models, or a dotted module name)."""

    name: str
    numba: str
    numpy: str
    #: both sides take the same arguments and fill the same outputs
    same_signature: bool = False

    def numba_fn(self) -> Callable:
        module, attr = self.numba.split(":")
        return getattr(numba_module(module), attr)

    def numpy_fn(self) -> Callable:
        return _resolve(self.numpy)

    def active(self) -> Callable:
        """The implementation this process runs: the numba kernel, or the numpy twin."""
        return self.numba_fn() if numba_enabled() else self.numpy_fn()

    def pick(self, work: int) -> Callable:
        """The implementation for this much work (see ``use_numba``)."""
        module = self.numba.split(":")[0]
        return self.numba_fn() if use_numba(work, module) else self.numpy_fn()


PAIRS: dict[str, KernelPair] = {}


def register(name: str, numba: str, numpy: str, same_signature: bool = False) -> KernelPair:
    """Register a numba kernel and its numpy twin under one name."""
    if name in PAIRS:
        raise ValueError(f"kernel pair {name!r} is registered twice")
    pair = PAIRS[name] = KernelPair(name, numba, numpy, same_signature)
    return pair


def pair(name: str) -> KernelPair:
    return PAIRS[name]


# ---------------------------------------------------------------- the tree kernels (same arguments)
for _name in ("graph_rows", "graph_rows_par", "graph_rows_raw", "graph_rows_raw_par", "walk_rows",
              "walk_rows_par", "graph_forest", "graph_forest_par", "general_forest",
              "general_forest_par", "fill_numeric"):
    register(f"tree.{_name}", f"_tree_numba:{_name}",
             f"tree_numpy:{_name.removesuffix('_par')}", same_signature=True)

# ---------------------------------------------------------------- the dense models' kernels
register("neural.layer_forward", "_kernels_numba:layer_forward",
         "neural_network:weighted_sums")
register("neural.network_forward", "_kernels_numba:network_forward",
         "neural_network:weighted_sums")
register("neural.network_inputs", "_kernels_numba:network_inputs",
         "neural_network:NeuralNetwork._input_columns")
register("bayes.gauss_exponents", "_kernels_numba:gauss_exponents",
         "naive_bayes:_gauss_exponents")
register("bayes.add_terms", "_kernels_numba:add_terms", "naive_bayes:_add_terms")
register("clustering.best_reference", "_kernels_numba:best_reference",
         "clustering:best_references")
register("comparison.distance_columns_raw", "_kernels_numba:distance_columns_raw",
         "comparison:distances")
register("clustering.best_reference_columns", "_kernels_numba:best_reference_columns",
         "clustering:best_references")
register("knn.select_nearest", "_kernels_numba:select_nearest", "nearest_neighbor:nearest")
for _name in ("distance_columns_absolute", "distance_columns_squares",
              "distance_columns_maximum", "distance_rows", "nearest_distances",
              "nearest_distances_par"):
    register(f"comparison.{_name}", f"_kernels_numba:{_name}", "comparison:distances")
register("svm.sq_euclidean", "_kernels_numba:sq_euclidean",
         "scipy.spatial.distance:cdist")
register("svm.sq_euclidean_row", "_kernels_numba:sq_euclidean_row",
         "scipy.spatial.distance:cdist")
register("svm.rbf_exponents", "_kernels_numba:rbf_exponents",
         "svm_rbf:RbfPlan._block_numpy")
register("svm.rbf_sums", "_kernels_numba:rbf_sums", "svm_rbf:RbfPlan._block_numpy")
