"""A loaded model is immutable and safe to share between threads: its compile work (tree and
forest lowering, blend tables, score arrays, the root scope's field functions) happens at
load, so threads that score one freshly loaded model at once get exactly the answers a single
thread gets, and scoring changes nothing reachable from the model.

Oracles: the same model scored by one thread (itself checked against JPMML-Evaluator by the
conformance suite), and the object graph of the model before and after scoring.
"""
from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from lxml import etree

import portmodel
from conformance_util import SHARED, cases, load_input
from test_tree_kernel import ENSEMBLES, TreeGen, random_inputs

THREADS = 6

CASES = [c for c in cases() if c["model_type"] in ("TreeModel", "MiningModel", "NeuralNetwork",
                                                   "RegressionModel", "GeneralRegressionModel",
                                                   "SupportVectorMachineModel", "NaiveBayesModel",
                                                   "ClusteringModel")
         and not c.get("group_by")]


def documents():
    for c in CASES:
        yield c["id"], lambda c=c: ((SHARED / c["document"]).read_bytes(), load_input(c))
    for seed in range(4):
        yield f"random-tree-{seed}", lambda s=seed: (TreeGen(s).document(),
                                                     random_inputs(s, n=3000))
    for k, (fn, method) in enumerate(ENSEMBLES):
        yield f"random-ensemble-{fn}-{method}", lambda k=k, fn=fn, method=method: (
            TreeGen(100 + k).ensemble(fn, method, "continue"), random_inputs(k, n=3000))


DOCS = dict(documents())


def same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if x.dtype.kind == "f" and y.dtype.kind == "f":
            np.testing.assert_array_equal(x.view(np.uint64), y.view(np.uint64), err_msg=c)
        else:
            assert [None if v is None or v != v else v for v in x] == \
                   [None if v is None or v != v else v for v in y], c


def score_at_once(model, data: pd.DataFrame) -> list:
    """THREADS threads released together, each scoring data (and a one-record call)."""
    barrier = threading.Barrier(THREADS)
    out: list = [None] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        try:
            frame = model.predict(data, errors="mark")
            out[i] = frame
        except Exception as exc:  # noqa: BLE001 - compared with the single thread's below
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.parametrize("name", sorted(DOCS))
def test_threads_scoring_a_fresh_model_get_the_single_thread_answers(name):
    document, data = DOCS[name]()
    shared = portmodel.load(document)            # nothing scored yet: no warm-up
    answers = score_at_once(shared, data)
    alone = portmodel.load(document).predict(data, errors="mark")
    for got in answers:
        assert not isinstance(got, Exception), got
        same_frames(got, alone)


def _reachable(obj, seen: set, path: str, found: list, skip_types: tuple) -> None:
    """Walk attributes, containers and closures of obj; record lxml elements met."""
    stack = [(obj, path)]
    while stack:
        o, p = stack.pop()
        if id(o) in seen or isinstance(o, skip_types):
            continue
        seen.add(id(o))
        if isinstance(o, (etree._Element, etree._ElementTree)):
            found.append(p)
            continue
        if isinstance(o, np.ndarray):
            if o.dtype == object:
                stack.extend((v, f"{p}[]") for v in o.ravel()[:10000])
            continue
        if isinstance(o, dict):
            stack.extend((v, f"{p}[{k!r}]") for k, v in o.items())
            continue
        if isinstance(o, (list, tuple, set, frozenset)):
            stack.extend((v, f"{p}[]") for v in o)
            continue
        if callable(o) and getattr(o, "__closure__", None):
            stack.extend((c.cell_contents, f"{p}.<closure>") for c in o.__closure__
                         if c.cell_contents is not None)
        d = getattr(o, "__dict__", None)
        if isinstance(d, dict) and not isinstance(o, type):
            stack.extend((v, f"{p}.{k}") for k, v in d.items())
        for k in getattr(type(o), "__slots__", ()):
            if hasattr(o, k):
                stack.append((getattr(o, k), f"{p}.{k}"))


def lxml_reachable(obj) -> list[str]:
    import types
    found: list[str] = []
    _reachable(obj, set(), "model", found, (type, types.ModuleType, str, bytes, int, float))
    return found


@pytest.mark.parametrize("name", [n for n in sorted(DOCS) if "ensemble" in n
                                  or n.startswith("random-tree")])
def test_tree_and_forest_plans_hold_no_xml(name):
    """The lowered arrays a tree or an ensemble is scored from reach no lxml element."""
    document, _ = DOCS[name]()
    model = portmodel.load(document).model
    plans = [model.kernel.plan] if getattr(model, "kernel", None) is not None else []
    fast = getattr(model, "fast", None)
    if fast is not None:
        plans += [fast.plan, fast.leaf_val, fast.leaf_cls, fast.leaf_ok, fast.defs]
    assert plans
    assert lxml_reachable(plans) == []


def test_no_lxml_element_is_reachable_from_a_loaded_model():
    document, _ = DOCS["random-ensemble-classification-majorityVote"]()
    assert lxml_reachable(portmodel.load(document)) == []


@pytest.mark.parametrize("name", [n for n in sorted(DOCS) if n.startswith("random")][:6])
def test_scoring_changes_nothing_reachable_from_the_model(name):
    """The object graph (attribute paths and array contents) is the same after scoring."""
    document, data = DOCS[name]()
    model = portmodel.load(document)
    before = _snapshot(model)
    model.predict(data, errors="mark")
    assert _snapshot(model) == before


def _snapshot(obj) -> dict:
    import types
    out: dict = {}
    seen: set = set()
    stack = [(obj, "m")]
    while stack:
        o, p = stack.pop()
        if id(o) in seen or isinstance(o, (type, types.ModuleType, etree._Element,
                                           etree._ElementTree, threading.local)):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            out[p] = (o.dtype.str, o.shape, o.tobytes() if o.dtype != object else repr(o))
            continue
        if isinstance(o, (str, bytes, int, float, bool, type(None))):
            out[p] = repr(o)
            continue
        if isinstance(o, dict):
            out[p] = ("dict", len(o))
            stack.extend((v, f"{p}[{k!r}]") for k, v in o.items())
            continue
        if isinstance(o, (list, tuple)):
            out[p] = (type(o).__name__, len(o))
            stack.extend((v, f"{p}[{i}]") for i, v in enumerate(o))
            continue
        d = getattr(o, "__dict__", None)
        if isinstance(d, dict):
            out[p] = ("obj", type(o).__name__, sorted(d))
            stack.extend((v, f"{p}.{k}") for k, v in d.items())
    return out
