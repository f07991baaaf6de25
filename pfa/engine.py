"""One PFA scoring engine: read the top-level fields, build types, state and compiled routines.

Phases (spec section "Execution phases"): the document is read and checked, cells and pools are
initialised, ``begin`` runs once at load; ``action`` runs per datum; ``end`` on request.
"""
from __future__ import annotations

from typing import Any, Callable

from .compiler import (FCN_NAME_RE, SYMBOL_RE, Compiler, Expr, FrameCtx, Scope, Sym, UserFcn,
                       coerce, make_user_call)
from .errors import (PFADocumentError, PFALimitError, PFARuntimeError, PFASemanticError,
                     PFASyntaxError, PFAUnsupportedError)
from .runtime import Limits, Runtime
from .types import INT, LONG, STRING, AvroType, Map, TypeRegistry
from .values import from_json

TOP_LEVEL = {"name", "method", "input", "output", "begin", "action", "end", "fcns", "zero",
             "merge", "cells", "pools", "randseed", "doc", "version", "metadata", "options", "@"}
_EXPR_AREAS = ("begin", "action", "end", "merge", "fcns")


class Routine:
    """A compiled begin/action/end/merge body with its frame layout."""

    def __init__(self, expr: Expr, frame: FrameCtx, slots: dict[str, int]):
        self.expr, self.frame, self.slots = expr, frame, slots
        self.fn = expr.fn


def _collect_types(reg: TypeRegistry, j: Any, path: tuple) -> None:
    """Find named type definitions inside expressions so forward references resolve."""
    if isinstance(j, dict):
        for k, v in j.items():
            if k in ("type", "as", "ret") and isinstance(v, (dict, list)):
                reg.collect(v, path + (k,))
            elif k == "params" and isinstance(v, list):
                for i, p in enumerate(v):
                    if isinstance(p, dict):
                        for n, t in p.items():
                            reg.collect(t, path + (k, i, n))
            elif k in ("value", "init", "@"):
                continue
            else:
                _collect_types(reg, v, path + (k,))
    elif isinstance(j, list):
        for i, v in enumerate(j):
            _collect_types(reg, v, path + (i,))


class Engine:
    """A loaded PFA document, ready to run."""

    def __init__(self, doc: dict, limits: Limits | None = None, instance: int = 0):
        try:
            self._build(doc, limits, instance)
        except RecursionError:
            raise PFASyntaxError("document is nested too deeply") from None

    # ------------------------------------------------------------ building
    def _build(self, doc: dict, limits: Limits | None, instance: int) -> None:
        if not isinstance(doc, dict):
            raise PFASyntaxError("a PFA document must be a JSON object")
        extra = set(doc) - TOP_LEVEL
        if extra:
            raise PFASyntaxError(f"unknown top-level field {sorted(extra)[0]!r}")
        for req in ("input", "output", "action"):
            if req not in doc:
                raise PFASyntaxError(f"missing required top-level field {req!r}")
        self.doc = doc
        self.name = doc.get("name", "Engine")
        if not isinstance(self.name, str):
            raise PFASyntaxError("\"name\" must be a string", ("name",))
        self.method = doc.get("method", "map")
        if self.method not in ("map", "emit", "fold"):
            raise PFASyntaxError("\"method\" must be \"map\", \"emit\" or \"fold\"", ("method",))
        self.version = doc.get("version")
        if self.version is not None and (not isinstance(self.version, int) or
                                         isinstance(self.version, bool)):
            raise PFASyntaxError("\"version\" must be an integer", ("version",))
        self.metadata = doc.get("metadata", {})
        if not isinstance(self.metadata, dict) or not all(
                isinstance(v, str) for k, v in self.metadata.items() if k != "@"):
            raise PFASyntaxError("\"metadata\" must map strings to strings", ("metadata",))
        self.metadata = {k: v for k, v in self.metadata.items() if k != "@"}
        seed = doc.get("randseed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise PFASyntaxError("\"randseed\" must be an integer", ("randseed",))
        self.options = self._options(doc.get("options", {}))
        self.limits = limits or Limits()
        self.instance = instance
        self.rt = rt = Runtime(self.limits, None if seed is None else seed + instance)

        reg = self.types = TypeRegistry()
        reg.collect(doc["input"], ("input",))
        reg.collect(doc["output"], ("output",))
        for area in ("cells", "pools"):
            spec = doc.get(area, {})
            if not isinstance(spec, dict):
                raise PFASyntaxError(f"\"{area}\" must be an object", (area,))
            for k, v in spec.items():
                if isinstance(v, dict) and "type" in v:
                    reg.collect(v["type"], (area, k, "type"))
        for area in _EXPR_AREAS:
            if area in doc:
                _collect_types(reg, doc[area], (area,))
        self.input_type = reg.parse(doc["input"], ("input",))
        self.output_type = reg.parse(doc["output"], ("output",))

        # state
        self.cell_specs: dict[str, tuple[AvroType, bool]] = {}
        self.pool_specs: dict[str, tuple[AvroType, bool]] = {}
        for k, v in doc.get("cells", {}).items():
            if k == "@":
                continue
            t, init, rollback = self._state_spec(k, v, ("cells", k), required_init=True)
            self.cell_specs[k] = (t, rollback)
            rt.cells[k] = [init]
        for k, v in doc.get("pools", {}).items():
            if k == "@":
                continue
            t, init, rollback = self._state_spec(k, v, ("pools", k), required_init=False,
                                                 pool=True)
            self.pool_specs[k] = (t, rollback)
            rt.pools[k] = dict(init or {})

        # user functions: signatures first (calls may precede definitions, recursion)
        fspec = doc.get("fcns", {})
        if not isinstance(fspec, dict):
            raise PFASyntaxError("\"fcns\" must be an object", ("fcns",))
        self.fcns: dict[str, UserFcn] = {}
        comp = self.compiler = Compiler(reg, rt, self.cell_specs, self.pool_specs, self.fcns,
                                        self.method, self.output_type)
        for fname, f in fspec.items():
            if fname == "@":
                continue
            p = ("fcns", fname)
            if not FCN_NAME_RE.match(fname):
                raise PFASyntaxError(f"invalid function name {fname!r}", p)
            if not isinstance(f, dict):
                raise PFASyntaxError("a function definition is a {\"params\", \"ret\", \"do\"} "
                                     "object", p)
            comp.check_keys(f, {"params", "ret", "do"}, set(), p)
            params = comp.parse_params(f["params"], p + ("params",))
            ret = comp.parse_type(f["ret"], p + ("ret",))
            uf = UserFcn(fname, params, ret)
            uf.call = make_user_call(uf, rt)
            self.fcns[fname] = uf
        for fname, f in fspec.items():
            if fname == "@":
                continue
            self._compile_fcn(self.fcns[fname], f, ("fcns", fname))
        self.zero = None
        if self.method == "fold":
            if "zero" not in doc or "merge" not in doc:
                raise PFASyntaxError("method \"fold\" needs \"zero\" and \"merge\"")
            self.zero = from_json(self.output_type, doc["zero"], ("zero",))
        else:
            for k in ("zero", "merge"):
                if k in doc:
                    raise PFASyntaxError(f"\"{k}\" is only allowed with method \"fold\"", (k,))
        self.tally = self.zero

        comp.state_writes = False
        comp.impure = False
        self.action_routine = self._routine("action", doc["action"])
        self.action_writes_state = comp.state_writes
        self.action_impure = comp.impure or comp.state_writes
        if self.method in ("map", "fold"):
            t = self.action_routine.expr.type
            if not self.output_type.accepts(t):
                raise PFASemanticError(f"action returns {t.describe()}, which the output type "
                                       f"{self.output_type.describe()} does not accept",
                                       ("action",))
            self.action_routine.fn = coerce(self.action_routine.expr, self.output_type).fn
        self.begin_routine = self._routine("begin", doc["begin"]) if "begin" in doc else None
        self.end_routine = self._routine("end", doc["end"]) if "end" in doc else None
        self.merge_routine = None
        if self.method == "fold":
            self.merge_routine = self._routine("merge", doc["merge"])
            t = self.merge_routine.expr.type
            if not self.output_type.accepts(t):
                raise PFASemanticError(f"merge returns {t.describe()}, not the output type",
                                       ("merge",))
            self.merge_routine.fn = coerce(self.merge_routine.expr, self.output_type).fn
        self._rollback_cells = [k for k, (_, rb) in self.cell_specs.items() if rb]
        self._rollback_pools = [k for k, (_, rb) in self.pool_specs.items() if rb]
        if self.begin_routine is not None:
            self._run(self.begin_routine, self._timeout("begin"), {})

    def _options(self, opts: Any) -> dict:
        if not isinstance(opts, dict):
            raise PFASyntaxError("\"options\" must be an object", ("options",))
        for k in ("timeout", "timeout.begin", "timeout.action", "timeout.end"):
            if k in opts and (not isinstance(opts[k], int) or isinstance(opts[k], bool)):
                raise PFASemanticError(f"option {k!r} must be an integer", ("options", k))
        return opts

    def _timeout(self, phase: str) -> int | None:
        cache = self.__dict__.setdefault("_timeouts", {})
        if phase in cache:
            return cache[phase]
        cache[phase] = self._compute_timeout(phase)
        return cache[phase]

    def _compute_timeout(self, phase: str) -> int | None:
        """Milliseconds one call of this phase may take: the document's ``timeout.PHASE`` or
        ``timeout`` option (negative: none), never more than the host's limit."""
        host = self.limits.timeout_ms
        t = self.options.get(f"timeout.{phase}", self.options.get("timeout", -1))
        own = t if t is not None and t >= 0 else None
        if own is None:
            return host
        return own if host is None else min(own, host)

    def _state_spec(self, name: str, v: Any, path: tuple, required_init: bool, pool: bool = False):
        if not SYMBOL_RE.match(name):
            raise PFASyntaxError(f"invalid {'pool' if pool else 'cell'} name {name!r}", path)
        if not isinstance(v, dict):
            raise PFASyntaxError("expected a {\"type\", \"init\"} object", path)
        extra = set(v) - {"type", "init", "shared", "rollback", "source", "@"}
        if extra:
            raise PFASyntaxError(f"unexpected member {sorted(extra)[0]!r}", path)
        if "type" not in v:
            raise PFASyntaxError("missing \"type\"", path)
        if required_init and "init" not in v:
            raise PFASyntaxError("missing \"init\"", path)
        source = v.get("source", "embedded")
        if source != "embedded":
            raise PFAUnsupportedError(f"{'pool' if pool else 'cell'} source {source!r} is not "
                                      "supported: initial values must be embedded", path + ("source",))
        shared, rollback = v.get("shared", False), v.get("rollback", False)
        if not isinstance(shared, bool) or not isinstance(rollback, bool):
            raise PFASyntaxError("\"shared\" and \"rollback\" must be booleans", path)
        if shared and rollback:
            raise PFASemanticError("\"shared\" and \"rollback\" cannot both be true", path)
        t = self.types.parse(v["type"], path + ("type",))
        if "init" not in v:
            return t, {}, rollback
        init_t = Map(t) if pool else t
        return t, from_json(init_t, v["init"], path + ("init",)), rollback

    def _predefined(self, scope: Scope, phase: str) -> None:
        def ro(name: str, t: AvroType, getter: Callable) -> None:
            scope.symbols[name] = Sym(name, t, -1, None, True, getter)
        nm, inst, meta, rt = self.name, self.instance, self.metadata, self.rt
        ro("name", STRING, lambda fr: nm)
        ro("instance", INT, lambda fr: inst)
        ro("metadata", Map(STRING), lambda fr: meta)
        if self.version is not None:
            ver = self.version
            ro("version", INT, lambda fr: ver)
        if phase in ("action", "end"):
            ro("actionsStarted", LONG, lambda fr: rt.actions_started)
            ro("actionsFinished", LONG, lambda fr: rt.actions_finished)

    def _routine(self, phase: str, body: Any) -> Routine:
        frame = FrameCtx(None)
        top = Scope(frame)
        self._predefined(top, phase)
        slots = {}
        if phase == "action":
            s = Sym("input", self.input_type, frame.alloc(), frame, readonly=True)
            top.symbols["input"] = s
            slots["input"] = s.slot
        if self.method == "fold" and phase in ("action", "end"):
            s = Sym("tally", self.output_type, frame.alloc(), frame, readonly=True)
            top.symbols["tally"] = s
            slots["tally"] = s.slot
        if phase == "merge":
            for n in ("tallyOne", "tallyTwo"):
                s = Sym(n, self.output_type, frame.alloc(), frame, readonly=True)
                top.symbols[n] = s
                slots[n] = s.slot
        expr = self.compiler.block(body, top.child(), (phase,), new_scope=False)
        return Routine(expr, frame, slots)

    def _compile_fcn(self, uf: UserFcn, f: dict, path: tuple) -> None:
        comp = self.compiler
        frame = FrameCtx(None)
        scope = Scope(frame)
        for i, (n, t) in enumerate(uf.params):
            comp.declare(scope, n, t, path + ("params", i))
        prev = comp.current_fcn
        comp.current_fcn = uf
        try:
            body = comp.block(f["do"], scope, path + ("do",), new_scope=False)
        finally:
            comp.current_fcn = prev
        if not uf.ret.accepts(body.type):
            raise PFASemanticError(f"u.{uf.name} returns {body.type.describe()}, not the declared "
                                   f"{uf.ret.describe()}", path + ("do",))
        body = coerce(body, uf.ret)
        uf.state[0] = body.fn
        uf.state[1] = frame.nslots

    # ------------------------------------------------------------ running
    def _run(self, routine: Routine, timeout: int | None, values: dict) -> Any:
        rt = self.rt
        rt.start(timeout)
        fr = [None] * routine.frame.nslots
        for k, v in values.items():
            fr[routine.slots[k]] = v
        try:
            return routine.fn(fr)
        except (PFARuntimeError, PFADocumentError):
            raise
        except RecursionError:
            raise PFALimitError("expression evaluation nested too deeply") from None
        except MemoryError:
            raise PFALimitError("out of memory") from None
        except Exception as exc:  # never let an engine bug escape as a non-PFA error
            raise PFARuntimeError(f"internal error: {type(exc).__name__}: {exc}") from exc

    def action(self, value: Any) -> Any:
        """Run the action on one runtime value (already converted to the input type).

        map: returns the output; emit: returns the list of emitted values; fold: the new tally."""
        rt = self.rt
        rt.actions_started += 1
        snap = self._snapshot() if (self._rollback_cells or self._rollback_pools) else None
        emitted: list | None = None
        if self.method == "emit":
            emitted = []
            rt.emit = emitted.append
        try:
            if self.method == "fold":
                out = self._run(self.action_routine, self._timeout("action"),
                                {"input": value, "tally": self.tally})
                self.tally = out
            else:
                out = self._run(self.action_routine, self._timeout("action"), {"input": value})
        except Exception:
            if snap is not None:
                self._restore(snap)
            raise
        rt.actions_finished += 1
        return emitted if emitted is not None else out

    def end(self) -> None:
        if self.end_routine is not None:
            vals = {"tally": self.tally} if self.method == "fold" else {}
            self._run(self.end_routine, self._timeout("end"), vals)

    def merge(self, one: Any, two: Any) -> Any:
        if self.merge_routine is None:
            raise PFASemanticError("only fold engines have a merge routine")
        self.tally = self._run(self.merge_routine, self._timeout("action"),
                               {"tallyOne": one, "tallyTwo": two})
        return self.tally

    def _snapshot(self):
        rt = self.rt
        return ({k: rt.cells[k][0] for k in self._rollback_cells},
                {k: dict(rt.pools[k]) for k in self._rollback_pools})

    def _restore(self, snap) -> None:
        cells, pools = snap
        for k, v in cells.items():
            self.rt.cells[k][0] = v
        for k, v in pools.items():
            self.rt.pools[k].clear()
            self.rt.pools[k].update(v)

    def call_function(self, name: str, *args: Any) -> Any:
        """Call a user function (the spec allows the host to after initialization)."""
        uf = self.fcns[name[2:] if name.startswith("u.") else name]
        self.rt.start(self._timeout("action"))
        return uf.call(*args)


__all__ = ["Engine", "Routine"]
