"""PMML's three-valued predicate logic (pmml/predicate_logic.py) in its three forms: the scalar
evaluator, the column form of ``predicates.compile_pred`` (typed comparisons on the raw
columns) and the lowered entries the tree kernels walk (numpy twin and numba), over every
predicate of random trees (simple, set, compound and/or/xor/surrogate, isMissing) on random
rows with missing values. Independent truth: the truth tables of PMML 4.4 "Predicates"."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import portmodel
from portmodel.pmml import predicate_logic as pl
from portmodel.pmml.models import tree_kernel as tk
from portmodel.pmml.models import tree_numpy
from portmodel.pmml.predicates import compile_pred
from test_tree_kernel import TreeGen, model_scope, random_inputs

F, T, U = pl.FALSE, pl.TRUE, pl.UNKNOWN


def test_truth_tables_of_the_specification():
    for a, b in itertools.product((F, T, U), repeat=2):
        assert pl.combine(pl.OP_AND, [a, b]) == (F if F in (a, b) else U if U in (a, b) else T)
        assert pl.combine(pl.OP_OR, [a, b]) == (T if T in (a, b) else U if U in (a, b) else F)
        assert pl.combine(pl.OP_XOR, [a, b]) == (U if U in (a, b) else int(a != b))
        assert pl.combine(pl.OP_SURROGATE, [a, b]) == (a if a != U else b)
    nan = float("nan")
    assert pl.simple_value(pl.OP_LE, nan, 1.0) == U
    assert pl.simple_value(pl.OP_MISSING, nan) == T
    assert pl.simple_value(pl.OP_NOTMISSING, nan) == F
    assert pl.simple_value(pl.OP_NOTIN, 2.0, 0.0, (1.0, 3.0)) == T
    assert pl.simple_value(pl.OP_IN, nan, 0.0, (1.0,)) == U


def _scalar(p, fields, x: np.ndarray) -> int:
    def leaf(q) -> int:
        j, op, thr, members = tk._value_test(fields, q)
        return pl.simple_value(op, float(x[j]), thr, members)
    return pl.evaluate(p, leaf)


@pytest.mark.parametrize("seed", range(12))
def test_scalar_column_and_lowered_forms_agree(seed):
    doc = portmodel.load(TreeGen(seed).document())
    model = doc.model
    scope = model_scope(doc, random_inputs(seed, n=300))
    gen = tk.General()
    entries = [gen.lower_pred(p) for p in model.tree.pred]
    fz = gen.freeze()
    X = fz.fields.matrix(scope)
    assert X is not None
    rows = np.arange(X.shape[1])
    for p, e in zip(model.tree.pred, entries):
        truth, known = compile_pred(p)(scope)
        column = np.where(known, truth.astype(int), U)
        lowered = tree_numpy._np_eval(fz, X, rows, np.full(len(rows), e, np.int64))
        scalar = np.array([_scalar(p, fz.fields, X[:, i]) for i in rows])
        np.testing.assert_array_equal(scalar, column, err_msg=repr(p))
        np.testing.assert_array_equal(scalar, lowered, err_msg=repr(p))


@pytest.mark.parametrize("seed", range(6))
def test_numba_entries_agree_with_the_scalar_evaluator(seed):
    pytest.importorskip("numba")
    from portmodel.pmml.models import _tree_numba as K
    doc = portmodel.load(TreeGen(seed).document())
    model = doc.model
    scope = model_scope(doc, random_inputs(seed, n=200))
    gen = tk.General()
    entries = [gen.lower_pred(p) for p in model.tree.pred]
    fz = gen.freeze()
    X = fz.fields.matrix(scope).copy()
    scratch = np.empty(fz.scratch, np.int8)
    for p, e in zip(model.tree.pred, entries):
        for i in range(X.shape[1]):
            got = K._eval(X, i, e, fz.e_op, fz.e_feat, fz.e_thr, fz.e_lo, fz.e_hi, fz.e_start,
                          fz.args, fz.sets, scratch)
            assert got == _scalar(p, fz.fields, X[:, i]), (p, i)
