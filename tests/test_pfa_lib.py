"""Library functions against values computed by hand from the specification's definitions."""
from __future__ import annotations

import math

import pytest

from portmodel.pfa import PFARuntimeError, load_pfa

D, I, S, L = "double", "int", "string", "long"
AD = {"type": "array", "items": "double"}
AI = {"type": "array", "items": "int"}
AS = {"type": "array", "items": "string"}
MD = {"type": "map", "values": "double"}


def lit(t, v):
    return {"type": t, "value": v}


def ev(action, output):
    return load_pfa({"input": "null", "output": output, "action": action}).action(None)


def err(action, output):
    with pytest.raises(PFARuntimeError) as exc:
        ev(action, output)
    return exc.value.code


CASES = [
    # core
    ({"%": [-7, 3]}, I, 2), ({"%%": [-7, 3]}, I, -1), ({"//": [-7, 2]}, I, -4),
    ({"**": [2, 10]}, I, 1024), ({"cmp": [["a"], ["b"]]}, I, -1),
    ({"max": [lit(AI, [1, 2]), lit(AI, [1, 3])]}, AI, [1, 3]),
    ({"&&&": [None, False]}, ["null", "boolean"], False), ({"|||": [None, False]},
                                                            ["null", "boolean"], None),
    ({"^": [12, 10]}, I, 6), ({"~": 0}, I, -1),
    # m.*
    ({"m.round": 2.5}, L, 3), ({"m.rint": 2.5}, D, 2.0), ({"m.signum": -3.0}, I, -1),
    ({"m.log": [8.0, 2]}, D, 3.0), ({"m.copysign": [3, -1]}, I, -3),
    ({"m.special.nChooseK": [5, 2]}, I, 10), ({"m.special.erf": 0.0}, D, 0.0),
    ({"m.link.softmax": lit(AD, [0.0, 0.0])}, AD, [0.5, 0.5]),
    ({"m.link.relu": -2.0}, D, 0.0), ({"m.kernel.linear": [lit(AD, [1, 2]), lit(AD, [3, 4])]},
                                      D, 11.0),
    ({"m.kernel.poly": [lit(AD, [1, 2]), lit(AD, [3, 4]), 1.0, 1.0, 2.0]}, D, 144.0),
    # a.*
    ({"a.subseq": [lit(AI, [1, 2, 3, 4]), 1, -1]}, AI, [2, 3]),
    ({"a.rotate": [lit(AI, [1, 2, 3]), 1]}, AI, [2, 3, 1]),
    ({"a.sort": lit(AD, [3.0, float("nan"), 1.0])}, AD, [1.0, 3.0, float("nan")]),
    ({"a.median": lit(AD, [4.0, 1.0, 3.0, 2.0])}, D, 2.5),
    ({"a.median": lit(AI, [4, 1, 3, 2])}, I, 2),
    ({"a.ntile": [lit(AD, [1.0, 2.0, 3.0, 4.0, 5.0]), 0.25]}, D, 2.0),
    ({"a.mode": lit(AI, [1, 2, 2, 3, 3])}, I, 2),
    ({"a.argmaxN": [lit(AD, [1.0, 5.0, 5.0, 2.0]), 2]}, AI, [1, 2]),
    ({"a.maxN": [lit(AD, [1.0, 5.0, 3.0]), 2]}, AD, [5.0, 3.0]),
    ({"a.count": [lit(AI, [1, 2, 1, 2, 1]), lit(AI, [1, 2])]}, I, 2),
    ({"a.index": [lit(AI, [5, 6, 7]), lit(AI, [6, 7])]}, I, 1),
    ({"a.logsumexp": lit(AD, [0.0, 0.0])}, D, math.log(2.0)),
    ({"a.distinct": lit(AI, [3, 1, 3, 2, 1])}, AI, [3, 1, 2]),
    ({"a.union": [lit(AI, [1, 2]), lit(AI, [2, 3])]}, AI, [1, 2, 3]),
    ({"a.slidingWindow": [lit(AI, [1, 2, 3, 4]), 2, 2]}, {"type": "array", "items": AI},
     [[1, 2], [3, 4]]),
    ({"a.combinations": [lit(AI, [1, 2, 3]), 2]}, {"type": "array", "items": AI},
     [[1, 2], [1, 3], [2, 3]]),
    ({"a.cycle": [lit(AI, [1, 2, 3]), 4, 3]}, AI, [2, 3, 4]),
    ({"a.sum": lit(AI, [1, 2, 3])}, I, 6), ({"a.product": lit(AD, [])}, D, 1.0),
    # map.*
    ({"map.argmax": lit(MD, {"a": 1.0, "b": 3.0, "c": 3.0})}, S, "b"),
    ({"map.update": [lit(MD, {"a": 1.0}), lit(MD, {"a": 2.0, "b": 3.0})]}, MD,
     {"a": 2.0, "b": 3.0}),
    ({"map.except": [lit(MD, {"a": 1.0, "b": 2.0}), lit(AS, ["a"])]}, MD, {"b": 2.0}),
    ({"map.in": [{"map.toset": lit(AI, [1, 2])}, 2]}, "boolean", True),
    ({"map.in": [{"map.toset": lit(AI, [1, 2])}, 3]}, "boolean", False),
    # s.*, re.*, parse.*, cast.*
    ({"s.number": [3.14159, None, 2]}, S, "3.14"), ({"s.number": [1.5e10, None, None]}, S,
                                                     "1.5e+10"),
    ({"s.int": [42, 5, True]}, S, "00042"), ({"s.hex": 255}, S, "ff"),
    ({"s.translate": [["hello"], ["lo"], ["x"]]}, S, "hexx"),
    ({"s.split": [["a,b,,c"], [","]]}, AS, ["a", "b", "", "c"]),
    ({"re.replaceall": [["a1b22"], ["[0-9]+"], ["#"]]}, S, "a#b#"),
    ({"re.findfirst": [["xaby"], ["a|ab"]]}, [S, "null"], "ab"),    # POSIX leftmost-longest
    ({"parse.int": [[" -ff "], 16]}, I, -255), ({"parse.double": [["1e3"]]}, D, 1000.0),
    ({"cast.signed": [255, 8]}, L, -1), ({"cast.unsigned": [-1, 8]}, L, 255),
    ({"cast.fanoutInt": [["b"], lit(AS, ["a", "b", "c"]), True]}, AI, [0, 1, 0, 0]),
    ({"cast.json": lit(MD, {"a": 1.5})}, S, '{"a":1.5}'),
    # bytes.*, time.*
    ({"bytes.toBase64": {"bytes.encodeUtf8": {"string": "hé"}}}, S, "aMOp"),
    ({"bytes.decodeUtf16be": {"base64": "AGg="}}, S, "h"),
    ({"time.year": [0.0, {"string": ""}]}, I, 1970), ({"time.dayOfWeek": [0.0, {"string": ""}]}, I, 3),
    ({"time.hourOfDay": [0.0, ["America/New_York"]]}, I, 19),
    ({"time.makeTimestamp": [2000, 1, 1, 0, 0, 0, 500, {"string": ""}]}, D, 946684800.5),
    # interp, metric, prob, stat, la, impute
    ({"interp.bin": [2.5, 5, 0.0, 5.0]}, I, 2),
    ({"metric.simpleEuclidean": [lit(AD, [0, 0]), lit(AD, [3, 4])]}, D, 5.0),
    ({"metric.jaccard": [lit({"type": "array", "items": "boolean"}, [True, True, False]),
                         lit({"type": "array", "items": "boolean"}, [True, False, False])]}, D,
     0.5),
    ({"prob.dist.gaussianCDF": [0.0, 0.0, 1.0]}, D, 0.5),
    ({"prob.dist.exponentialQF": [0.5, 2.0]}, D, math.log(2) / 2),
    ({"prob.dist.binomialPDF": [1, 2, 0.5]}, D, 0.5),
    ({"prob.dist.uniformCDF": [0.25, 0.0, 1.0]}, D, 0.25),
    ({"stat.change.updateCUSUM": [1.0, -2.0, 0.0]}, D, 0.0),
    ({"la.det": lit({"type": "array", "items": AD}, [[1, 2], [3, 4]])}, D, -2.0),
    ({"la.dot": [lit({"type": "array", "items": AD}, [[1, 2], [3, 4]]), lit(AD, [1, 1])]}, AD,
     [3.0, 7.0]),
    ({"la.transpose": lit({"type": "array", "items": AD}, [[1, 2, 3]])},
     {"type": "array", "items": AD}, [[1.0], [2.0], [3.0]]),
    ({"impute.defaultOnNull": [lit([D, "null"], None), 7.0]}, D, 7.0),
    ({"enum.toInt": lit({"type": "enum", "name": "E", "symbols": ["a", "b"]}, "b")}, I, 1),
]


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("action,output,expected", CASES,
                         ids=[next(iter(c[0])) + f"-{i}" for i, c in enumerate(CASES)])
def test_library_value(action, output, expected):
    assert same(ev(action, output), expected)


ERRORS = [
    ({"a.head": lit(AI, [])}, I, 15020), ({"a.insert": [lit(AI, [1]), 5, 2]}, AI, 15160),
    ({"m.log": [1.0, 0]}, D, 27170), ({"m.abs": {"int": -2147483648}}, I, 27020),
    ({"map.argmax": lit(MD, {})}, S, 26120), ({"parse.int": [["12x"], 10]}, I, 33000),
    ({"cast.int": 3e10}, I, 17020), ({"s.hex": -1}, S, 39111),
    ({"re.index": [["a"], ["("]]}, AI, 35000), ({"la.det": lit({"type": "array", "items": AD},
                                                                 [[1, 2]])}, D, 24092),
    ({"prob.dist.gaussianQF": [1.5, 0.0, 1.0]}, D, 13021),
    ({"time.year": [1e13, {"string": ""}]}, I, 40001), ({"time.year": [0.0, ["Mars/Base"]]}, I, 40000),
    ({"model.reg.linear": [lit(AD, [1.0]), lit({"type": "record", "name": "M", "fields": [
        {"name": "coeff", "type": AD}, {"name": "const", "type": D}]},
        {"coeff": [1.0, 2.0], "const": 0.0})]}, D, 31000),
    ({"bytes.decodeUtf8": {"base64": "/w=="}}, S, 16110),
    ({"impute.errorOnNull": lit([D, "null"], None)}, D, 21000),
    ({"m.link.softmax": lit(AD, [])}, AD, 25000),
]


@pytest.mark.parametrize("action,output,code", ERRORS,
                         ids=[next(iter(c[0])) + f"-{i}" for i, c in enumerate(ERRORS)])
def test_library_error_code(action, output, code):
    assert err(action, output) == code


def test_gaussian_process_interpolates_its_table():
    rec = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "double"},
                                                    {"name": "to", "type": "double"}]}
    table = [{"x": 0.0, "to": 0.0}, {"x": 1.0, "to": 1.0}, {"x": 2.0, "to": 4.0}]
    doc = {"input": "double", "output": "double",
           "cells": {"t": {"type": {"type": "array", "items": rec}, "init": table}},
           "action": {"model.reg.gaussianProcess": [
               "input", {"cell": "t"}, None, {"fcn": "m.kernel.rbf", "fill": {"gamma": 1.0}}]}}
    m = load_pfa(doc)
    for row in table:
        assert math.isclose(m.action(row["x"]), row["to"], abs_tol=1e-6)
    assert 1.0 < m.action(1.5) < 4.0


def test_stat_sample_update_mean_and_variance():
    st = {"type": "record", "name": "S", "fields": [
        {"name": "count", "type": "double"}, {"name": "mean", "type": "double"},
        {"name": "variance", "type": "double"}]}
    doc = {"input": "double", "output": st, "cells": {"s": {"type": st, "init": {
        "count": 0.0, "mean": 0.0, "variance": 0.0}}},
           "action": {"cell": "s", "to": {"params": [{"old": "S"}], "ret": "S",
                                          "do": {"stat.sample.update": ["input", 1.0, "old"]}}}}
    m = load_pfa(doc)
    for x in (2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0):
        out = m.action(x)
    assert out["count"] == 8.0 and math.isclose(out["mean"], 5.0)
    assert math.isclose(out["variance"], 4.0)     # population variance of the textbook sample


def test_random_functions_are_seeded():
    doc = {"input": "null", "output": AD, "randseed": 42,
           "action": {"new": [{"rand.double": [0.0, 1.0]}, {"rand.gaussian": [0.0, 1.0]}],
                      "type": AD}}
    a, b = load_pfa(doc).action(None), load_pfa(doc).action(None)
    assert a == b and 0.0 <= a[0] < 1.0
    uuid = ev({"rand.uuid4": []}, S)
    assert len(uuid) == 36 and uuid[14] == "4" and uuid[19] == "8"
