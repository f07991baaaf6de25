"""Helpers for the transformation tests: a PMML document whose only output is one expression
(an OutputField with feature="transformedValue" of a trivial RegressionModel), scored by
portmodel and, for the oracle tests, by the reference engine."""
from __future__ import annotations

import math
from typing import Any

import portmodel

FIELDS = (("x", "double"), ("y", "double"), ("z", "double"), ("i", "integer"),
          ("j", "integer"), ("f", "float"), ("s", "string"), ("t", "string"),
          ("b", "boolean"), ("d", "date"), ("dt", "dateTime"), ("tm", "time"))
ERR = "ERR"   # what score() reports for a row the engine rejects


def A(function: str, *args: str, **attrs: str) -> str:
    """<Apply function=...> with argument expressions and attributes."""
    at = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<Apply function="{_esc(function)}"{at}>' + "".join(args) + "</Apply>"


def F(name: str, **attrs: str) -> str:
    at = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<FieldRef field="{name}"{at}/>'


def C(value: Any, data_type: str | None = None, **attrs: str) -> str:
    at = (f' dataType="{data_type}"' if data_type else "") + \
        "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<Constant{at}>{_esc(str(value))}</Constant>"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def derived(name: str, data_type: str, expr: str, optype: str | None = None) -> str:
    op = optype or ("categorical" if data_type in ("string", "boolean") else "continuous")
    return f'<DerivedField name="{name}" optype="{op}" dataType="{data_type}">{expr}</DerivedField>'


def expr_doc(expr: str, *, out_type: str | None = None, tdict: str = "", local: str = "",
             fields=FIELDS) -> str:
    """The document: every field active, output field "out" = expr."""
    dfs = "".join(
        f'<DataField name="{n}" optype="{"categorical" if t in ("string", "boolean") else "continuous"}"'
        f' dataType="{t}"/>' for n, t in fields)
    mfs = "".join(f'<MiningField name="{n}"/>' for n, _ in fields)
    ot = f' dataType="{out_type}"' if out_type else ""
    lt = f"<LocalTransformations>{local}</LocalTransformations>" if local else ""
    return (f'<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>'
            f'<DataDictionary>{dfs}<DataField name="target" optype="continuous" dataType="double"/>'
            f"</DataDictionary><TransformationDictionary>{tdict}</TransformationDictionary>"
            f'<RegressionModel functionName="regression"><MiningSchema>{mfs}'
            f'<MiningField name="target" usageType="target"/></MiningSchema>'
            f'<Output><OutputField name="out" feature="transformedValue"{ot}>{expr}</OutputField>'
            f'</Output>{lt}<RegressionTable intercept="0"/></RegressionModel></PMML>')


def _rows(rows: list[dict], fields) -> list[dict]:
    return [{n: r.get(n) for n, _ in fields} for r in rows]


_MODELS: dict[str, Any] = {}


def score(expr: str, rows: list[dict], **kw) -> list:
    """Values of "out" for each row (None when missing, ERR when the row is rejected)."""
    fields = kw.get("fields", FIELDS)
    text = expr_doc(expr, **kw)
    model = _MODELS.get(text)
    if model is None:
        model = _MODELS[text] = portmodel.load(text)
    out = model.predict(_rows(rows, fields), errors="mark")
    return [ERR if r.get("error") else _clean(r["out"]) for r in out]


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def load(expr: str, **kw):
    return portmodel.load(expr_doc(expr, **kw))


_JPMML: dict[str, Any] = {}


def jpmml_score(expr: str, rows: list[dict], **kw) -> list:
    """The reference engine's values of "out" (None when missing, ERR on a rejected row)."""
    from jpmml_evaluator import make_evaluator
    fields = kw.get("fields", FIELDS)
    text = expr_doc(expr, **kw)
    ev = _JPMML.get(text)
    if ev is None:
        ev = _JPMML[text] = make_evaluator(text)
    out = []
    for row in _rows(rows, fields):
        try:
            res = ev.evaluate(row)
        except Exception:  # noqa: BLE001 - any rejection of the row by the engine
            out.append(ERR)
            continue
        out.append(_clean(res.get("out")))
    return out


def close(a: Any, b: Any, rel: float = 1e-12) -> bool:
    """Equal values; numbers to a relative tolerance (NaN equals NaN)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300) or a == b
    return a == b
