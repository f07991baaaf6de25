"""PFA documents and inputs as an attacker or a new user would write them: wall-clock limits,
YAML aliases, total allocation per call, CSV text for typed fields, recursive types, deep nesting."""
from __future__ import annotations

import math
import time

import pandas as pd
import pytest

import portmodel
from portmodel.batch import score_file
from portmodel.pfa import PFALimitError, PFASyntaxError, PFATimeoutError, load_pfa
from portmodel.pfa.runtime import DEFAULT_TIMEOUT_MS

ARR = {"type": "array", "items": "double"}

# a loop far within the step budget whose every step is costly (sorting 200k numbers)
SLOW_LOOP = {
    "input": "int", "output": "double",
    "cells": {"big": {"type": ARR, "init": [float(i % 977) for i in range(200_000)]}},
    "action": [
        {"let": {"acc": 0.0}},
        {"for": {"i": 0}, "while": {"<": ["i", "input"]}, "step": {"i": {"+": ["i", 1]}},
         "do": [{"set": {"acc": {"+": ["acc", {"a.len": {"a.sort": [{"cell": "big"}]}}]}}}]},
        "acc"]}


# ------------------------------------------------------------------ 7: wall-clock limit

def test_a_document_without_timeout_gets_the_default_limit():
    model = portmodel.load(SLOW_LOOP)
    assert model.engine._timeout("action") == DEFAULT_TIMEOUT_MS
    assert model.engine._timeout("begin") == DEFAULT_TIMEOUT_MS


def test_load_timeout_stops_a_loop_of_costly_steps():
    model = portmodel.load(SLOW_LOOP, timeout=0.3)
    start = time.perf_counter()
    with pytest.raises(PFATimeoutError):
        model.action(1_000_000)
    # the deadline is checked after every costly step, not after a thousand of them
    assert time.perf_counter() - start < 5
    marked = model.predict([{"input": 1_000_000}], errors="mark")
    assert "timeout" in marked[0]["error"]


def test_the_document_may_lower_the_limit_but_not_raise_it():
    lower = portmodel.load(dict(SLOW_LOOP, options={"timeout": 100}), timeout=20)
    assert lower.engine._timeout("action") == 100
    higher = portmodel.load(dict(SLOW_LOOP, options={"timeout": 10_000_000}), timeout=2)
    assert higher.engine._timeout("action") == 2000
    unlimited = portmodel.load(SLOW_LOOP, timeout=math.inf)
    assert unlimited.engine._timeout("action") is None
    for bad in (0, -1, "5", True):
        with pytest.raises(ValueError):
            portmodel.load(SLOW_LOOP, timeout=bad)


# ------------------------------------------------------------------ 8: memory

def _alias_bomb(levels: int = 30) -> bytes:
    lines = ["  a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return ("input: double\noutput: double\naction: [input]\nmetadata:\n"
            + "\n".join(lines) + "\n").encode()


def test_yaml_alias_bomb_is_refused_quickly():
    text = _alias_bomb()
    assert len(text) < 2000
    start = time.perf_counter()
    with pytest.raises(PFASyntaxError, match="alias") as info:
        portmodel.load(text)
    assert time.perf_counter() - start < 5
    assert "line 6" in str(info.value)
    # a YAML document without aliases still loads
    assert portmodel.load(b"input: double\noutput: double\naction: [{+: [input, 1]}]\n"
                          ).action(1.0) == 2.0


def test_many_large_strings_exceed_the_budget_per_call():
    """Each string is under the per-value limit (10M), the total is not (400 x 10M)."""
    doc = {"input": "int", "output": "int", "action": [
        {"let": {"keep": {"value": [], "type": {"type": "array", "items": "string"}}}},
        {"for": {"i": 0}, "while": {"<": ["i", "input"]}, "step": {"i": {"+": ["i", 1]}},
         "do": [{"set": {"keep": {"a.append": ["keep", {"s.repeat": [{"string": "x"},
                                                                     9_000_000]}]}}}]},
        {"a.len": "keep"}]}
    model = load_pfa(doc)
    assert model.action(3) == 3
    with pytest.raises(PFALimitError, match="budget"):
        model.action(400)
    assert model.action(3) == 3      # the budget is per call


# ------------------------------------------------------------------ 12: CSV text

TYPED = {"input": {"type": "record", "name": "In", "fields": [
    {"name": "a", "type": "int"}, {"name": "b", "type": "long"}, {"name": "c", "type": "boolean"},
    {"name": "d", "type": ["null", "int"]}, {"name": "e", "type": "double"},
    {"name": "s", "type": "string"}]},
    "output": "string",
    "action": {"s.join": [{"new": [
        {"s.int": {"+": ["input.a", "input.b"]}},
        {"if": "input.c", "then": {"string": "yes"}, "else": {"string": "no"}},
        {"ifnotnull": {"d": "input.d"}, "then": {"s.int": "d"}, "else": {"string": "none"}},
        "input.s"], "type": {"type": "array", "items": "string"}}, {"string": "/"}]}}


def test_csv_text_of_int_long_and_boolean_fields_is_converted(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a,b,c,d,e,s\n1,2,true,,1.5,007\n3, 4 ,False,7,2,x\n-5,9000000000,1,2,3,y\n"
                   "5,x,0,2,3,z\n2.0,1,TRUE,1,1,w\n")
    out = tmp_path / "out.csv"
    summary = score_file(portmodel.load(TYPED), str(src), str(out), on_error="record")
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame["output"]) == ["3/yes/none/007", "7/no/7/x", "8999999995/yes/2/y", "",
                                     "3/yes/1/w"]
    assert "expected an long, got 'x'" in frame["error"][3]
    assert summary.rows_rejected == 1


def test_text_that_is_no_number_keeps_the_record_paths_error():
    model = portmodel.load(TYPED)
    rows = pd.DataFrame({"a": ["1", "1_000", "\u0661"], "b": ["1", "1", "1"],
                         "c": ["true", "yes", "true"], "d": [None, None, None],
                         "e": [1.0, 1.0, 1.0], "s": ["a", "b", "c"]})
    marked = model.predict(rows, errors="mark")
    assert marked["output"][0] == "2/yes/none/a"
    assert "expected an int, got '1_000'" in marked["error"][1]
    assert "expected an int" in marked["error"][2]


# ------------------------------------------------------------------ 15: recursion

LINKED = {"type": "record", "name": "Node", "fields": [
    {"name": "v", "type": "double"}, {"name": "next", "type": ["null", "Node"]}]}
TREE = {"type": "record", "name": "Tree", "fields": [
    {"name": "v", "type": "double"}, {"name": "kids", "type": {"type": "array", "items": "Tree"}}]}


def test_recursive_input_types_load_and_score():
    linked = portmodel.load({"input": LINKED, "output": "Node", "action": "input"})
    value = {"v": 1.0, "next": {"v": 2.0, "next": None}}
    assert linked.action(value) == value
    assert linked.predict([value])[0] == value
    tree = portmodel.load({"input": TREE, "output": "double", "action": [
        {"+": ["input.v", {"a.len": "input.kids"}]}]})
    assert tree.action({"v": 1.0, "kids": [{"v": 2.0, "kids": []}]}) == 2.0


def test_deeply_nested_input_values_are_rejected_not_crashed():
    linked = portmodel.load({"input": LINKED, "output": "double", "action": "input.v"})
    deep = None
    for _ in range(20_000):
        deep = {"v": 1.0, "next": deep}
    marked = linked.predict([deep, {"v": 3.0, "next": None}], errors="mark")
    assert "nested too deeply" in marked[0]["error"]
    assert marked[1]["output"] == 3.0


@pytest.mark.parametrize("depth", [150, 400, 2000, 50_000])
def test_deeply_nested_expressions_never_raise_recursion_error(depth: int):
    expr: object = "input"
    for _ in range(depth):
        expr = {"+": [expr, 1]}
    text = '{"input": "double", "output": "double", "action": [' + '{"+": [' * depth + \
        '"input"' + ', 1]}' * depth + "]}"
    for source in ({"input": "double", "output": "double", "action": [expr]}, text.encode()):
        try:
            model = portmodel.load(source)
        except portmodel.DocumentError:
            continue
        assert model.action(1.0) == 1.0 + depth
        assert model.predict([{"input": 1.0}])[0]["output"] == 1.0 + depth


def test_cli_timeout_reaches_the_model_and_its_worker_processes(tmp_path):
    """`portmodel score --timeout` bounds each action, in-process and in --jobs workers (which
    load the document again with the same options)."""
    import json
    import subprocess
    import sys
    doc = tmp_path / "slow.pfa"
    doc.write_text(json.dumps(SLOW_LOOP))
    data = tmp_path / "in.csv"
    data.write_text("input\n" + "1\n" * 3 + "1000000\n")
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.csv"
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "portmodel", "score", str(doc), str(data),
                              "-o", str(out), "--timeout", "0.5", "--jobs", jobs,
                              "--chunk-rows", "2", "--on-error", "record", "--quiet"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert time.perf_counter() - start < 25   # the default limit (30 s) would be slower
        rows = pd.read_csv(out)
        assert len(rows) == 4
        assert rows["error"].isna().sum() == 3 and "timeout" in str(rows["error"].iloc[3])
    bad = subprocess.run([sys.executable, "-m", "portmodel", "score", str(doc), str(data),
                          "-o", str(tmp_path / "x.csv"), "--timeout", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
