"""Loops over columns (``while``, ``do``-``until``, ``for``, ``foreach`` over arrays of
numbers, ``set`` of let-bound variables, ``min`` and ``max``) in shapes no exporter writes:
rows leave a loop at different iterations, loops nest inside branches and expression blocks, a
set assigns several variables at once, an error form fires inside a loop, and some rows never
stop. The column path is taken and gives the record path's outputs and errors bit for bit,
with NaN, infinities and huge values, numba on and off; a row that would loop forever gets the
record path's own limit error. ``forkey`` and foreach over other arrays keep the record path,
and inspect names them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pfa_paths_util import (INPUT3 as INPUT, assert_paths_equal, random_frame,
                            rows_sent_to_record_path)

from portmodel.pfa.runtime import Limits



def _doc(action, output="double") -> dict:
    return {"input": INPUT, "output": output, "action": action}


DOCS = {
    # Newton's square root: rows stop when the step is small or after 60 iterations
    "newton sqrt": _doc([
        {"let": {"x": {"m.abs": "input.a"}, "g": {"+": [{"m.abs": "input.a"}, 1.0]},
                 "i": 0, "done": False}},
        {"while": {"&&": [{"!": "done"}, {"<": ["i", 60]}]}, "do": [
            {"let": {"next": {"/": [{"+": ["g", {"/": ["x", "g"]}]}, 2.0]}}},
            {"if": {"<": [{"m.abs": {"-": ["next", "g"]}}, 1e-12]},
             "then": [{"set": {"done": True}}]},
            {"set": {"g": "next", "i": {"+": ["i", 1]}}}]},
        {"+": ["g", {"*": ["i", 1e-3]}]}]),
    # halving until below b (rows with b <= 0 or a infinite stop at the counter)
    "do-until halving": _doc([
        {"let": {"v": "input.a", "k": 0}},
        {"do": [{"set": {"v": {"/": ["v", 2.0]}}}, {"set": {"k": {"+": ["k", 1]}}}],
         "until": {"||": [{"<=": [{"m.abs": "v"}, {"m.abs": "input.b"}]}, {">=": ["k", 40]}]}},
        {"+": ["v", "k"]}]),
    # a swap by one set (both values read before either is stored), min and max of ints
    # and doubles, a loop nested in a branch, a cond of sets
    "swap, nested loop, cond": _doc([
        {"let": {"lo": "input.a", "hi": "input.b", "n": 0, "m": 0}},
        {"if": {">": ["lo", "hi"]}, "then": [{"set": {"lo": "hi", "hi": "lo"}}]},
        {"if": {">": ["input.c", 0.0]},
         "then": [{"while": {"&&": [{"<": ["lo", "hi"]}, {"<": ["n", 25]}]}, "do": [
             {"set": {"lo": {"+": ["lo", {"max": [0.5, {"/": [{"-": ["hi", "lo"]}, 4.0]}]}]},
                      "n": {"+": ["n", 1]}}},
             {"cond": [{"if": {">": ["lo", 1.0]}, "then": [{"set": {"m": {"max": ["m", "n"]}}}]},
                       {"if": {"<": ["lo", -1.0]}, "then": [{"set": {"m": {"min": ["m", -3]}}}]}],
              "else": [{"set": {"m": {"+": ["m", 2]}}}]}]}],
         "else": [{"set": {"hi": {"min": ["hi", "input.c"]}}}]},
        {"+": [{"+": [{"min": ["lo", "hi"]}, {"max": ["hi", "input.c"]}]},
               {"*": [{"-": ["m", "n"]}, 0.125]}]}]),
    # a loop inside a let's expression block, and an error form that fires in a loop
    "loop in an expression block, error in a loop": _doc([
        {"let": {"total": {"do": [
            {"let": {"s": 0.0, "j": 0}},
            {"while": {"<": ["j", 5]}, "do": [
                {"if": {">": ["s", 1e300]}, "then": [{"error": "overflowing sum"}]},
                {"set": {"s": {"+": [{"*": ["s", "input.c"]}, "input.a"]},
                         "j": {"+": ["j", 1]}}}]},
            "s"]}}},
        {"-": ["total", "input.b"]}]),
    # a record output whose fields come from variables a loop changed
    "record output": _doc([
        {"let": {"best": "input.a", "arg": 0, "t": 1}},
        {"while": {"<=": ["t", 3]}, "do": [
            {"let": {"cand": {"*": ["input.b", "t"]}}},
            {"if": {">": ["cand", "best"]}, "then": [{"set": {"best": "cand", "arg": "t"}}]},
            {"set": {"t": {"+": ["t", 1]}}}]},
        {"new": {"best": "best", "arg": "arg"}, "type": "Out"}],
        output={"type": "record", "name": "Out", "fields": [
            {"name": "best", "type": "double"}, {"name": "arg", "type": "int"}]}),
    # a loop in a function that a.map runs over each element of a computed array
    "loop in a mapped function": _doc([
        {"let": {"xs": {"new": ["input.a", "input.b", "input.c"],
                        "type": {"type": "array", "items": "double"}}}},
        {"let": {"halvings": {"a.map": ["xs", {
            "params": [{"x": "double"}], "ret": "double", "do": [
                {"let": {"v": {"m.abs": "x"}, "k": 0.0}},
                {"while": {"&&": [{">=": ["v", 1.0]}, {"<": ["k", 30.0]}]}, "do": [
                    {"set": {"v": {"/": ["v", 2.0]}, "k": {"+": ["k", 1.0]}}}]},
                {"+": ["k", "v"]}]}]}}},
        {"+": [{"a.sum": ["halvings"]}, {"a.max": ["halvings"]}]}]),
    # a for loop (its step assigns together) that also changes a variable of the block,
    # with a statement-level if whose branches have values
    "for loop": _doc([
        {"let": {"acc": 0.0}},
        {"for": {"i": 0, "p": 1.0}, "while": {"&&": [{"<": ["i", 12]}, {"<": ["p", 1e6]}]},
         "step": {"i": {"+": ["i", 1]}, "p": {"*": ["p", {"m.abs": "input.a"}]}},
         "do": [{"if": {">": ["p", "input.b"]},
                 "then": [{"set": {"acc": {"+": ["acc", "p"]}}}, "acc"],
                 "else": [{"set": {"acc": {"-": ["acc", 1.0]}}}, 0.0]}]},
        "acc"]),
}

#: rows with input.a >= 0 stop at once; the others never do
ENDLESS = _doc([
    {"let": {"x": "input.a", "k": 0}},
    {"while": {"<": ["x", 0.0]}, "do": [{"set": {"k": {"+": ["k", 1]}}}]},
    {"+": ["x", "k"]}])


@pytest.mark.parametrize("numba", ["on", "off"])
@pytest.mark.parametrize("shape", list(DOCS))
def test_loops_over_columns_equal_the_record_path(shape: str, numba: str, monkeypatch) -> None:
    assert_paths_equal(DOCS[shape], random_frame(), numba=numba, monkeypatch=monkeypatch)


@pytest.mark.parametrize("shape", ["newton sqrt", "swap, nested loop, cond", "record output"])
def test_finite_rows_leave_the_loop_on_the_column_path(shape: str, monkeypatch) -> None:
    """Rows of finite values are not handed to the record path (the bad mask is not all)."""
    frame = pd.DataFrame(np.random.default_rng(1).normal(0, 2, size=(300, 3)),
                         columns=["a", "b", "c"])
    assert rows_sent_to_record_path(DOCS[shape], frame, monkeypatch) == 0


def test_endless_rows_get_the_record_path_limit_error() -> None:
    """A row that never leaves its loop gets the record path's step-limit error (row number
    included); the rows that stop are scored as the record path scores them."""
    frame = pd.DataFrame({"a": [1.0, -2.0, 3.0, np.nan, -np.inf, 0.0],
                          "b": 0.0, "c": 0.0})
    _, want = assert_paths_equal(ENDLESS, frame, limits=Limits(max_steps=500))
    errors = [c for c in want.columns if "error" in c.lower()]
    assert errors and want[errors[0]].notna().sum() == 2      # rows 1 and 4 loop forever
    assert "limit" in str(want[errors[0]].iloc[1]).lower()


def test_a_set_inside_a_branch_expression_changes_its_own_block_only() -> None:
    """A branch of an if expression runs for every row on the column path: a set in it of a
    variable that branch declares is taken, and only the rows taking the branch see it."""
    doc = _doc([
        {"let": {"x": "input.a"}},
        {"let": {"y": {"if": {">": ["input.b", 0.0]},
                       "then": {"do": [{"let": {"z": 1.0}}, {"set": {"z": 2.0}}, "z"]},
                       "else": 3.0}}},
        {"+": ["x", "y"]}])
    assert_paths_equal(doc, random_frame(3))


def test_endless_rows_get_the_record_path_timeout_error() -> None:
    """Under the document's own time limit (and a step budget too large to matter), a row that
    never leaves its loop gets the record path's timeout error, and predict returns."""
    doc = dict(ENDLESS, options={"timeout": 50})
    frame = pd.DataFrame({"a": [1.0, -2.0, 3.0], "b": 0.0, "c": 0.0})
    _, want = assert_paths_equal(doc, frame, limits=Limits(max_steps=10 ** 12))
    errors = [c for c in want.columns if "error" in c.lower()]
    assert "time" in str(want[errors[0]].iloc[1]).lower()


ARR = {"type": "array", "items": "double"}
VEC_INPUT = {"type": "record", "name": "VecIn", "fields": [
    {"name": "a", "type": "double"}, {"name": "b", "type": "double"},
    {"name": "v", "type": ARR}]}

#: foreach over arrays of numbers accumulating into variables of the enclosing block
FOREACH_DOCS = {
    # a Horner polynomial over a constant array of coefficients
    "constant array": _doc([
        {"let": {"acc": 0.0}},
        {"foreach": "w", "in": {"value": [0.5, -2.0, 3.0, 1e300], "type": ARR},
         "do": [{"set": {"acc": {"+": [{"*": ["acc", "input.a"]}, "w"]}}}]},
        "acc"]),
    # a computed array, a branch and an error form in the body, an empty constant array
    "computed array, branch, error": _doc([
        {"let": {"top": {"double": -1e308}, "n": 0}},
        {"foreach": "x", "in": {"new": ["input.a", "input.b", "input.c"], "type": ARR},
         "do": [{"if": {">": ["x", "top"]}, "then": [{"set": {"top": "x", "n": {"+": ["n", 1]}}}]},
                {"if": {">": ["x", 1e307]}, "then": [{"error": "too large"}]}]},
        {"foreach": "y", "in": {"value": [], "type": ARR},
         "do": [{"set": {"n": {"+": ["n", 100]}}}]},
        {"+": ["top", "n"]}]),
    # foreach nested in a while: the steps of both loops count together
    "nested in a while": _doc([
        {"let": {"s": 0.0, "i": 0}},
        {"while": {"<": ["i", 3]}, "do": [
            {"foreach": "x", "in": {"new": ["input.b", "input.c"], "type": ARR},
             "do": [{"set": {"s": {"+": ["s", {"*": ["x", "i"]}]}}}]},
            {"set": {"i": {"+": ["i", 1]}}}]},
        "s"]),
}


def _vec_doc(action) -> dict:
    return {"input": VEC_INPUT, "output": "double", "action": action}


#: foreach over an input array field (rows of another length than the batch's first, or
#: holding a non-number, go to the record path)
FIELD_DOC = _vec_doc([
    {"let": {"s": 0.0, "m": "input.b"}},
    {"foreach": "x", "in": "input.v", "do": [
        {"set": {"s": {"+": ["s", {"*": ["x", "input.a"]}]}}},
        {"if": {"<": ["x", "m"]}, "then": [{"set": {"m": "x"}}]}]},
    {"+": ["s", "m"]}])


def _vec_frame(seed: int, n: int = 300) -> pd.DataFrame:
    frame = random_frame(seed, n)
    rng = np.random.default_rng(seed)
    data = random_frame(seed + 1, n)[["a", "b", "c"]].to_numpy()
    vecs = [list(row) for row in data.tolist()]
    for i in rng.choice(n, size=n // 20, replace=False):
        vecs[i] = vecs[i][:2]                 # another length
    vecs[int(rng.integers(n))] = [1.0, "x", 2.0]
    frame["v"] = pd.Series(vecs, dtype=object)
    return frame.drop(columns=["c"])


@pytest.mark.parametrize("numba", ["on", "off"])
@pytest.mark.parametrize("shape", list(FOREACH_DOCS))
def test_foreach_over_numbers_equals_the_record_path(shape: str, numba: str,
                                                     monkeypatch) -> None:
    assert_paths_equal(FOREACH_DOCS[shape], random_frame(5), numba=numba,
                       monkeypatch=monkeypatch)


def test_foreach_over_an_array_field_equals_the_record_path() -> None:
    _, want = assert_paths_equal(FIELD_DOC, _vec_frame(6))
    assert want["error"].notna().sum() == 1       # the row holding "x"; shorter rows score


def test_foreach_over_finite_rows_stays_on_the_column_path(monkeypatch) -> None:
    frame = pd.DataFrame(np.random.default_rng(2).normal(0, 2, size=(200, 3)),
                         columns=["a", "b", "c"])
    for doc in FOREACH_DOCS.values():
        assert rows_sent_to_record_path(doc, frame, monkeypatch) == 0


def test_inspect_names_the_loops_that_keep_the_record_path() -> None:
    from portmodel.pfa import load_pfa
    forkey = _doc([
        {"let": {"s": 0.0}},
        {"forkey": "k", "forval": "v", "in": {"value": {"p": 1.0, "q": 2.0},
                                              "type": {"type": "map", "values": "double"}},
         "do": [{"set": {"s": {"+": ["s", "v"]}}}]},
        "s"])
    strings = _doc([
        {"let": {"s": 0}},
        {"foreach": "w", "in": {"value": ["a", "bb"], "type": {"type": "array",
                                                              "items": "string"}},
         "do": [{"set": {"s": {"+": ["s", {"s.len": "w"}]}}}]},
        "s"], output="int")
    for doc, reason in ((forkey, "the loop 'forkey' (over a map)"),
                        (strings, "foreach over an array of other than double or float")):
        described = load_pfa(doc).describe()
        assert described["scoring_path"] == "records"
        assert described["record_path_reason"] == reason
    assert load_pfa(FIELD_DOC).describe()["scoring_path"] == "columns"
