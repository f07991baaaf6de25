"""The PFA engine: reading, type checking (with JSON paths), special forms, state, methods, limits.

Expected values are computed by hand from the PFA 0.8.1 specification's definitions.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.pfa import (PFALimitError, PFARuntimeError, PFASemanticError, PFASyntaxError,
                           PFATimeoutError, PFAUserError, load_pfa)
from portmodel.pfa.errors import PFAUnsupportedError
from portmodel.pfa.runtime import Limits

REC = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"},
                                                 {"name": "b", "type": "double"},
                                                 {"name": "s", "type": "string"}]}


def run(action, input="double", output="double", value=None, **extra):
    doc = {"input": input, "output": output, "action": action, **extra}
    return load_pfa(doc).action(value)


# ---------------------------------------------------------------- reading

def test_reads_json_text_bytes_dict_yaml_and_path(tmp_path):
    doc = {"input": "double", "output": "double", "action": {"+": ["input", 1]}}
    text = json.dumps(doc)
    assert load_pfa(text).action(1.0) == 2.0
    assert load_pfa(text.encode()).action(1.0) == 2.0
    assert load_pfa(doc).action(1.0) == 2.0
    yaml_text = "input: double\noutput: double\naction:\n  - {'+': [input, 1]}\n"
    assert load_pfa(yaml_text).action(2.5) == 3.5
    p = tmp_path / "doc.pfa"
    p.write_text(text)
    assert load_pfa(str(p)).action(0.0) == 1.0
    assert portmodel.load(str(p)).action(0.0) == 1.0
    assert portmodel.load(doc).action(0.0) == 1.0


def test_malformed_json_names_line():
    with pytest.raises(PFASyntaxError, match="line 2"):
        load_pfa('{"input": "double",\n "output": }')


def test_missing_and_unknown_top_level_fields():
    with pytest.raises(PFASyntaxError, match="action"):
        load_pfa({"input": "double", "output": "double"})
    with pytest.raises(PFASyntaxError, match="bogus"):
        load_pfa({"input": "double", "output": "double", "action": 1, "bogus": 1})


# ---------------------------------------------------------------- type checking with paths

def test_type_error_reports_json_path():
    doc = {"input": "string", "output": "double",
           "action": [{"let": {"x": 1}}, {"+": ["x", "input"]}]}
    with pytest.raises(PFASemanticError) as exc:
        load_pfa(doc)
    assert exc.value.path == "$.action[1].+"
    assert "does not accept" in str(exc.value)


def test_output_type_mismatch_is_rejected_at_load():
    with pytest.raises(PFASemanticError, match="output type"):
        load_pfa({"input": "double", "output": "int", "action": "input"})


def test_unknown_symbol_and_function_paths():
    with pytest.raises(PFASemanticError) as exc:
        load_pfa({"input": "double", "output": "double", "action": {"m.sqrt": "y"}})
    assert exc.value.path == "$.action.m.sqrt" and "unknown symbol" in str(exc.value)
    with pytest.raises(PFASemanticError, match="unknown function"):
        load_pfa({"input": "double", "output": "double", "action": {"m.nosuch": "input"}})


def test_record_field_is_checked():
    with pytest.raises(PFASemanticError, match="no field 'zz'"):
        load_pfa({"input": REC, "output": "double", "action": "input.zz"})


def test_let_in_function_argument_needs_do():
    bad = {"+": [{"let": {"x": 1}}, 2]}
    with pytest.raises(PFASemanticError, match="do"):
        load_pfa({"input": "int", "output": "int", "action": bad})
    good = {"+": [{"do": [{"let": {"x": 1}}, "x"]}, 2]}
    assert run(good, "int", "int", 0) == 3


def test_no_shadowing_and_no_outside_set_in_sealed_scope():
    with pytest.raises(PFASemanticError, match="already defined"):
        load_pfa({"input": "int", "output": "int",
                  "action": [{"let": {"x": 1}}, {"do": [{"let": {"x": 2}}, "x"]}]})
    with pytest.raises(PFASemanticError, match="sealed"):
        load_pfa({"input": "int", "output": "int",
                  "action": [{"let": {"x": 1}},
                             {"+": [{"do": [{"set": {"x": 2}}, "x"]}, 1]}]})
    with pytest.raises(PFASemanticError, match="read-only"):
        load_pfa({"input": "int", "output": "int", "action": [{"set": {"input": 2}}, 1]})


def test_generic_signature_resolution():
    # int + double -> double; int + int -> int (with overflow error)
    assert run({"+": [1, 0.5]}, "int", "double", 0) == 1.5
    with pytest.raises(PFARuntimeError) as exc:
        run({"+": ["input", 1]}, "int", "int", 2147483647)
    assert exc.value.code == 18000
    assert run({"+": ["input", 1]}, "long", "long", 2147483647) == 2147483648
    # a.append(array<int>, double) widens A to double
    assert run({"a.append": [{"type": {"type": "array", "items": "int"}, "value": [1, 2]}, 0.5]},
               "null", {"type": "array", "items": "double"}) == [1.0, 2.0, 0.5]


# ---------------------------------------------------------------- literals and basic forms

def test_literals():
    assert run({"int": 5}, "null", "int") == 5
    assert run({"long": 5}, "null", "long") == 5
    assert run({"string": "hi"}, "null", "string") == "hi"
    assert run([["hi"]], "null", "string") == "hi"  # a bare ["hi"] action is a symbol list
    assert run({"base64": "aGk="}, "null", "bytes") == b"hi"
    assert run({"type": {"type": "map", "values": "int"}, "value": {"a": 1}}, "null",
               {"type": "map", "values": "int"}) == {"a": 1}
    assert run(2147483648, "null", "long") == 2147483648
    with pytest.raises(PFASyntaxError, match="too large"):
        run(2 ** 70, "null", "long")


def test_let_set_semantics_use_old_values():
    action = [{"let": {"x": 1, "y": 1}}, {"set": {"x": {"+": ["x", "y"]}, "y": {"+": ["x", "y"]}}},
              {"new": ["x", "y"], "type": {"type": "array", "items": "int"}}]
    assert run(action, "null", {"type": "array", "items": "int"}) == [2, 2]


def test_if_cond_and_branch_types():
    action = {"if": {">": ["input", 0]}, "then": 1, "else": 2.5}
    assert run(action, "double", "double", 3.0) == 1.0
    assert isinstance(run(action, "double", "double", 3.0), float)
    cond = {"cond": [{"if": {"<": ["input", 0]}, "then": {"string": "neg"}},
                     {"if": {"==": ["input", 0]}, "then": {"string": "zero"}}],
            "else": {"string": "pos"}}
    assert [run(cond, "int", "string", v) for v in (-3, 0, 9)] == ["neg", "zero", "pos"]
    assert run({"if": True, "then": 1}, "null", "null") is None


def test_loops():
    while_ = [{"let": {"i": 0, "s": 0}},
              {"while": {"<": ["i", "input"]},
               "do": [{"set": {"i": {"+": ["i", 1]}}}, {"set": {"s": {"+": ["s", "i"]}}}]}, "s"]
    assert run(while_, "int", "int", 10) == 55
    do_until = [{"let": {"i": 0}}, {"do": {"set": {"i": {"+": ["i", 1]}}}, "until": True}, "i"]
    assert run(do_until, "null", "int") == 1
    for_ = [{"let": {"s": 0}},
            {"for": {"i": 0}, "while": {"<": ["i", 5]}, "step": {"i": {"+": ["i", 1]}},
             "do": {"set": {"s": {"+": ["s", "i"]}}}}, "s"]
    assert run(for_, "null", "int") == 10
    foreach = [{"let": {"s": 0.0}},
               {"foreach": "x", "in": "input", "do": {"set": {"s": {"+": ["s", "x"]}}}}, "s"]
    assert run(foreach, {"type": "array", "items": "double"}, "double", [1.5, 2.5]) == 4.0
    forkey = [{"let": {"s": {"string": ""}}},
              {"forkey": "k", "forval": "v", "in": "input",
               "do": {"if": {">": ["v", 1]}, "then": {"set": {"s": "k"}}}}, "s"]
    assert run(forkey, {"type": "map", "values": "int"}, "string", {"a": 1, "b": 2}) == "b"


def test_foreach_seq_false_is_sealed_from_above():
    with pytest.raises(PFASemanticError):
        load_pfa({"input": {"type": "array", "items": "int"}, "output": "int",
                  "action": [{"let": {"s": 0}},
                             {"foreach": "x", "in": "input", "seq": False,
                              "do": {"set": {"s": "x"}}}, "s"]})


def test_cast_cases_upcast_ifnotnull():
    u = ["null", "double", "string"]
    cast = {"cast": "input", "cases": [{"as": "null", "named": "x", "do": -1.0},
                                       {"as": "double", "named": "x", "do": "x"},
                                       {"as": "string", "named": "x", "do": {"s.len": "x"}}]}
    assert [run(cast, u, "double", v) for v in (None, 2.5, "abcd")] == [-1.0, 2.5, 4.0]
    with pytest.raises(PFASemanticError, match="exhaustive"):
        load_pfa({"input": u, "output": "double", "action": {
            "cast": "input", "cases": [{"as": "double", "named": "x", "do": "x"}]}})
    partial = [{"let": {"y": 0.0}},
               {"cast": "input", "partial": True,
                "cases": [{"as": "double", "named": "x", "do": {"set": {"y": "x"}}}]}, "y"]
    assert run(partial, u, "double", 7.0) == 7.0 and run(partial, u, "double", None) == 0.0
    assert run({"upcast": "input", "as": "double"}, "int", "double", 3) == 3.0
    inn = {"ifnotnull": {"a": "input.a", "b": "input.b"}, "then": {"+": ["a", "b"]}, "else": -1.0}
    rec = {"type": "record", "name": "N", "fields": [{"name": "a", "type": ["double", "null"]},
                                                    {"name": "b", "type": ["null", "double"]}]}
    assert run(inn, rec, "double", {"a": 1.0, "b": 2.0}) == 3.0
    assert run(inn, rec, "double", {"a": 1.0, "b": None}) == -1.0


def test_new_attr_and_attr_to():
    rec = {"type": "record", "name": "P", "fields": [{"name": "xs", "type": {
        "type": "array", "items": "double"}}, {"name": "m", "type": {"type": "map", "values": "int"}}]}
    doc = {"input": rec, "output": "double", "action": {"attr": "input", "path": [["xs"], 1]}}
    m = load_pfa(doc)
    assert m.action({"xs": [1.0, 2.0], "m": {}}) == 2.0
    with pytest.raises(PFARuntimeError) as exc:
        m.action({"xs": [1.0], "m": {}})
    assert exc.value.code == 2000
    assert run("input.m.k", rec, "int", {"xs": [], "m": {"k": 4}}) == 4
    with pytest.raises(PFARuntimeError) as exc:
        run("input.m.zz", rec, "int", {"xs": [], "m": {"k": 4}})
    assert exc.value.code == 2001
    to = {"attr": "input", "path": [["m"], ["k"]], "to": {"+": ["input.m.k", 10]}}
    value = {"xs": [1.0], "m": {"k": 1}}
    out = run(to, rec, rec, value)
    assert out == {"xs": [1.0], "m": {"k": 11}} and value["m"]["k"] == 1
    fn_to = {"attr": "input", "path": [["xs"], 0],
             "to": {"params": [{"v": "double"}], "ret": "double", "do": {"*": ["v", 2]}}}
    assert run(fn_to, rec, rec, {"xs": [3.0], "m": {}})["xs"] == [6.0]
    with pytest.raises(PFARuntimeError) as exc:
        run({"attr": "input", "path": [["m"], ["q"]], "to": 1}, rec, rec, value)
    assert exc.value.code == 2003
    new_rec = {"new": {"xs": {"new": ["input.b", 1], "type": {"type": "array", "items": "double"}},
                       "m": {"new": {"k": "input.a"}, "type": {"type": "map", "values": "int"}}},
               "type": "P"}
    doc = {"input": REC, "output": rec, "action": new_rec}
    # P is defined in the output schema and referenced by name from the action
    assert load_pfa(doc).action({"a": 3, "b": 0.5, "s": ""}) == {"xs": [0.5, 1.0], "m": {"k": 3}}


def test_user_functions_recursion_and_fcnref_fill():
    fcns = {"fib": {"params": [{"n": "int"}], "ret": "int", "do": {
        "cond": [{"if": {"<": ["n", 2]}, "then": "n"}],
        "else": {"+": [{"u.fib": [{"-": ["n", 1]}]}, {"u.fib": [{"-": ["n", 2]}]}]}}},
        "add": {"params": [{"x": "double"}, {"y": "double"}], "ret": "double",
                "do": {"+": ["x", "y"]}}}
    assert run({"u.fib": "input"}, "int", "int", 15, fcns=fcns) == 610
    mapped = {"a.map": ["input", {"fcn": "u.add", "fill": {"y": 10}}]}
    arr = {"type": "array", "items": "double"}
    assert run(mapped, arr, arr, [1.0, 2.0], fcns=fcns) == [11.0, 12.0]
    closure = [{"let": {"k": 3.0}},
               {"a.map": ["input", {"params": [{"v": "double"}], "ret": "double",
                                    "do": {"*": ["v", "k"]}}]}]
    assert run(closure, arr, arr, [1.0, 2.0]) == [3.0, 6.0]
    lib_ref = {"a.map": ["input", {"fcn": "m.sqrt"}]}
    assert run(lib_ref, arr, arr, [4.0, 9.0]) == [2.0, 3.0]


def test_library_fcnref_with_generic_fill():
    # metric.euclidean(similarity, x, y) filled with metric.absDiff
    doc_action = {"a.map": ["input", {"params": [{"v": {"type": "array", "items": "double"}}],
                                      "ret": "double",
                                      "do": {"metric.euclidean": [{"fcn": "metric.absDiff"}, "v",
                                                                  {"new": [0, 0],
                                                                   "type": {"type": "array",
                                                                            "items": "double"}}]}}]}
    aa = {"type": "array", "items": {"type": "array", "items": "double"}}
    out = run(doc_action, aa, {"type": "array", "items": "double"}, [[3.0, 4.0]])
    assert out == [5.0]


def test_doc_error_try_log():
    assert run([{"doc": "hello"}, 1], "null", "int") == 1
    with pytest.raises(PFAUserError) as exc:
        run({"error": "bad thing", "code": -7}, "null", "int")
    assert exc.value.code == -7 and "bad thing" in str(exc.value)
    t = {"try": {"//": [1, "input"]}}
    assert run(t, "int", ["int", "null"], 0) is None
    assert run(t, "int", ["int", "null"], 1) == 1
    filtered = {"try": {"//": [1, "input"]}, "filter": [99999]}
    with pytest.raises(PFARuntimeError) as exc:
        run(filtered, "int", ["int", "null"], 0)
    assert exc.value.code == 18040
    logs = []
    m = load_pfa({"input": "int", "output": "null",
                  "action": {"log": ["input", {"string": "x"}], "namespace": "ns"}})
    m.engine.rt.log_sink = lambda values, ns: logs.append((values, ns))
    m.action(5)
    assert logs == [([5, "x"], "ns")]


# ---------------------------------------------------------------- cells, pools, methods

def test_cells_and_pools():
    doc = {"input": "string", "output": "int",
           "cells": {"count": {"type": "int", "init": 0},
                     "arr": {"type": {"type": "array", "items": "int"}, "init": [1, 2, 3]}},
           "pools": {"seen": {"type": "int", "init": {"x": 100}}},
           "action": [
               {"cell": "count", "to": {"params": [{"c": "int"}], "ret": "int",
                                        "do": {"+": ["c", 1]}}},
               {"cell": "arr", "path": [1], "to": {"cell": "count"}},
               {"pool": "seen", "path": ["input"], "to": {"params": [{"v": "int"}], "ret": "int",
                                                          "do": {"+": ["v", 1]}}, "init": 0},
               {"+": [{"pool": "seen", "path": ["input"]}, {"cell": "arr", "path": [1]}]}]}
    m = load_pfa(doc)
    assert m.action("a") == 1 + 1
    assert m.action("a") == 2 + 2
    assert m.action("x") == 101 + 3
    assert m.cell("count") == 3 and m.cell("arr") == [1, 3, 3]
    assert m.pool("seen") == {"x": 101, "a": 2}
    m2 = load_pfa({"input": "string", "output": "int", "pools": {"p": {"type": "int"}},
                   "action": [{"pool": "p", "del": "input"}, {"pool": "p", "path": ["input"]}]})
    with pytest.raises(PFARuntimeError) as exc:
        m2.action("nope")
    assert exc.value.code == 2009


def test_rollback_cells():
    doc = {"input": "int", "output": "int",
           "cells": {"c": {"type": "int", "init": 0, "rollback": True},
                     "d": {"type": "int", "init": 0}},
           "action": [{"cell": "c", "to": {"+": [{"cell": "c"}, 1]}},
                      {"cell": "d", "to": {"+": [{"cell": "d"}, 1]}},
                      {"//": [1, "input"]}]}
    m = load_pfa(doc)
    with pytest.raises(PFARuntimeError):
        m.action(0)
    assert m.cell("c") == 0 and m.cell("d") == 1
    m.action(1)
    assert m.cell("c") == 1


def test_begin_end_and_predefined_symbols():
    doc = {"input": "int", "output": "string", "name": "myEngine", "version": 3,
           "cells": {"c": {"type": "int", "init": 0}},
           "begin": {"cell": "c", "to": 100},
           "end": {"cell": "c", "to": -1},
           "action": {"s.join": [{"new": ["name", {"s.int": "version"},
                                          {"s.int": "actionsStarted"},
                                          {"s.int": {"cell": "c"}}],
                                  "type": {"type": "array", "items": "string"}}, ["/"]]}}
    m = load_pfa(doc)
    assert m.action(0) == "myEngine/3/1/100"
    assert m.action(0) == "myEngine/3/2/100"
    m.end()
    assert m.cell("c") == -1


def test_emit_and_fold_methods():
    emit = load_pfa({"input": "int", "output": "int", "method": "emit",
                     "action": {"for": {"i": 0}, "while": {"<": ["i", "input"]},
                                "step": {"i": {"+": ["i", 1]}}, "do": {"emit": "i"}}})
    assert emit.action(3) == [0, 1, 2]
    assert emit.action(0) == []
    fold = load_pfa({"input": "double", "output": "double", "method": "fold", "zero": 0,
                     "action": {"+": ["tally", "input"]},
                     "merge": {"+": ["tallyOne", "tallyTwo"]}})
    assert [fold.action(x) for x in (1.0, 2.0, 3.5)] == [1.0, 3.0, 6.5]
    assert fold.merge(1.0, 2.0) == 3.0
    with pytest.raises(PFASyntaxError, match="zero"):
        load_pfa({"input": "double", "output": "double", "method": "fold", "action": 1.0})


def test_unions_are_tagged_in_embedded_data_and_bare_in_outputs():
    doc = {"input": "null", "output": ["null", "string", "double"],
           "cells": {"u": {"type": ["null", "string", "double"], "init": {"double": 2.5}}},
           "action": {"cell": "u"}}
    assert load_pfa(doc).action(None) == 2.5


# ---------------------------------------------------------------- the Model interface

def test_predict_with_records_dataframe_and_errors():
    doc = {"input": REC, "output": {"type": "record", "name": "Out", "fields": [
        {"name": "y", "type": "double"}, {"name": "n", "type": "int"}]},
        "action": {"new": {"y": {"/": ["input.b", "input.a"]}, "n": {"s.len": "input.s"}},
                   "type": "Out"}}
    m = portmodel.load(doc)
    assert [f.name for f in m.inputs] == ["a", "b", "s"]
    assert [f.name for f in m.outputs] == ["y", "n"]
    df = pd.DataFrame({"a": [1, 2], "b": [1.0, 3.0], "s": ["x", "yy"]})
    out = m.predict(df)
    assert list(out["y"]) == [1.0, 1.5] and list(out["n"]) == [1, 2]
    assert m.predict({"a": 4, "b": 2.0, "s": "abc"}) == {"y": 0.5, "n": 3}
    err = portmodel.load({"input": "int", "output": "int", "action": {"//": [10, "input"]}})
    marked = err.predict({"input": np.array([2, 0, 5])}, errors="mark")
    assert list(marked["output"][[0, 2]]) == [5, 2] and marked["output"][1] is None
    assert "integer division by zero" in marked["error"][1]
    with pytest.raises(PFARuntimeError) as exc:
        err.predict({"input": np.array([2, 0])})
    assert exc.value.code == 18040 and exc.value.row == 1


def test_input_validation_errors_are_clear():
    m = load_pfa({"input": REC, "output": "int", "action": "input.a"})
    with pytest.raises(portmodel.InvalidValueError, match="missing field 's'"):
        m.action({"a": 1, "b": 2.0})
    with pytest.raises(portmodel.InvalidValueError, match="field 'a'"):
        m.action({"a": "x", "b": 2.0, "s": ""})


# ---------------------------------------------------------------- safety

def test_infinite_loop_hits_the_step_limit():
    m = load_pfa({"input": "null", "output": "null", "action": {"while": True, "do": None}},
                 limits=Limits(max_steps=10_000))
    with pytest.raises(PFALimitError, match="loop iterations"):
        m.action(None)


def test_timeout_option():
    m = load_pfa({"input": "null", "output": "null", "options": {"timeout": 50},
                  "action": {"while": True, "do": None}}, limits=Limits(max_steps=10 ** 12))
    with pytest.raises(PFATimeoutError, match="exceeded timeout of 50 milliseconds"):
        m.action(None)
    with pytest.raises(PFASemanticError, match="timeout"):
        load_pfa({"input": "null", "output": "null", "options": {"timeout": "x"}, "action": None})


def test_try_does_not_swallow_limits():
    m = load_pfa({"input": "null", "output": ["null", "int"],
                  "action": {"try": [{"while": True, "do": None}, 1]}},
                 limits=Limits(max_steps=1000))
    with pytest.raises(PFALimitError):
        m.action(None)


def test_recursion_depth_limit():
    fcns = {"down": {"params": [{"n": "int"}], "ret": "int",
                     "do": {"u.down": [{"+": ["n", 1]}]}}}
    m = load_pfa({"input": "int", "output": "int", "action": {"u.down": "input"}, "fcns": fcns},
                 limits=Limits(max_depth=50))
    with pytest.raises(PFALimitError, match="deeper than 50"):
        m.action(0)


def test_size_limits_on_created_values():
    lim = Limits(max_size=1000)
    m = load_pfa({"input": "int", "output": "string", "action": {"s.repeat": [["ab"], "input"]}},
                 limits=lim)
    assert m.action(3) == "ababab"
    with pytest.raises(PFALimitError, match="exceeds"):
        m.action(10 ** 9)
    doubling = load_pfa({"input": "null", "output": "int", "action": [
        {"let": {"a": {"type": {"type": "array", "items": "int"}, "value": [1]}}},
        {"while": True, "do": {"set": {"a": {"a.concat": ["a", "a"]}}}}, 0]}, limits=lim)
    with pytest.raises(PFALimitError):
        doubling.action(None)
    perms = load_pfa({"input": {"type": "array", "items": "int"},
                      "output": {"type": "array", "items": {"type": "array", "items": "int"}},
                      "action": {"a.permutations": "input"}}, limits=lim)
    with pytest.raises(PFALimitError):
        perms.action(list(range(12)))


def test_integer_power_does_not_explode():
    m = load_pfa({"input": "long", "output": "long", "action": {"**": [3, "input"]}})
    with pytest.raises(PFARuntimeError) as exc:
        m.action(10 ** 12)
    assert exc.value.code == 18081


def test_external_cell_sources_are_refused():
    with pytest.raises(PFAUnsupportedError, match="embedded"):
        load_pfa({"input": "null", "output": "int", "action": {"cell": "c"},
                  "cells": {"c": {"type": "int", "init": "/etc/passwd", "source": "json"}}})


def test_deeply_nested_document_is_a_clear_error():
    expr: object = 1
    for _ in range(3000):
        expr = {"u-": expr}
    with pytest.raises(PFASyntaxError, match="nested too deeply"):
        load_pfa({"input": "null", "output": "int", "action": expr})


def test_hostile_regex_times_out():
    m = load_pfa({"input": "string", "output": "boolean", "action": {"re.contains": [
        "input", ["(a|aa)+(b|bb)+\\1\\2c"]]}}, limits=Limits(regex_timeout_ms=200))
    with pytest.raises((PFATimeoutError, PFARuntimeError)):
        m.action("a" * 200 + "b" * 200)


def test_math_is_ieee_not_exceptions():
    assert math.isnan(run({"m.sqrt": -1.0}, "null", "double"))
    assert run({"m.ln": 0.0}, "null", "double") == -math.inf
    assert run({"/": [1, 0]}, "null", "double") == math.inf
    assert math.isnan(run({"**": [-8.0, 0.5]}, "null", "double"))
    assert run({"m.exp": 1000.0}, "null", "double") == math.inf


# ---------------------------------------------------------------- type system and signatures

def test_accepts_and_narrowest_supertype_follow_the_spec_tables():
    from portmodel.pfa.types import (DOUBLE, FLOAT, INT, LONG, NULL, STRING, Array, Enum, Map,
                                     Union, supertype)
    assert DOUBLE.accepts(INT) and LONG.accepts(INT) and not INT.accepts(LONG)
    assert not FLOAT.accepts(DOUBLE) and FLOAT.accepts(LONG)
    assert Array(DOUBLE).accepts(Array(INT)) and not Array(INT).accepts(Array(DOUBLE))
    assert Union([STRING, NULL]).accepts(STRING) and not STRING.accepts(Union([STRING, NULL]))
    e1, e2 = Enum("E", ["a", "b", "c"]), Enum("E", ["b", "a"])
    assert e1.accepts(e2) and not e2.accepts(e1)
    assert supertype([INT, LONG]) is LONG and supertype([INT, FLOAT, DOUBLE]) is DOUBLE
    assert supertype([Array(INT), Array(DOUBLE)]) == Array(DOUBLE)
    assert supertype([INT, STRING]) == Union([INT, STRING])
    assert supertype([Union([INT, STRING]), Union([STRING, NULL]), DOUBLE]) == \
        Union([DOUBLE, STRING, NULL])
    with pytest.raises(TypeError):
        supertype([Enum("A", ["x"]), Enum("B", ["y"])])
    assert supertype([Map(INT), Map(LONG)]) == Map(LONG)


def test_signature_resolution_with_unions_records_and_functions():
    from portmodel.pfa.sigs import parse_signature, resolve_call
    from portmodel.pfa.types import (BOOLEAN, DOUBLE, INT, NULL, STRING, FcnType, Field, Record,
                                     Union)
    dflt = [parse_signature("(x: any A|null, default: A) -> A")]
    r = resolve_call(dflt, [Union([DOUBLE, NULL]), INT])
    assert r is not None and r.ret is DOUBLE
    r = resolve_call(dflt, [Union([INT, STRING, NULL]), STRING])
    assert r.ret == Union([INT, STRING])
    node = Record("T", [])
    node.set_fields([Field("pass", Union([node, STRING])), Field("fail", Union([node, STRING]))])
    datum = Record("D", [Field("x", DOUBLE)])
    walk = [parse_signature("(datum: record D, treeNode: record T {pass: T|any S, fail: T|S}, "
                            "test: fcn(D, T -> boolean)) -> S")]
    r = resolve_call(walk, [datum, node, FcnType([datum, node], BOOLEAN)])
    assert r is not None and r.ret is STRING
    assert resolve_call(walk, [datum, node, FcnType([datum, node], INT)]) is None
    plus = [parse_signature("(x: any A of {int, long, float, double}, y: A) -> A")]
    assert resolve_call(plus, [INT, STRING]) is None
    assert resolve_call(plus, [INT, DOUBLE]).ret is DOUBLE


def test_coverage_report_counts_the_specification(capsys):
    from portmodel.pfa import coverage
    rep = coverage.report()
    total = sum(t for _, t, _ in rep.values())
    done = sum(d for d, _, _ in rep.values())
    assert total == 449 and done >= 440
    assert rep["re"][:2] == (15, 15) and rep["(core)"][:2] == (29, 29)
    coverage.main([])
    assert "TOTAL" in capsys.readouterr().out
