"""Generic function signatures: type patterns, their compact notation, and call resolution.

Notation (one signature): ``(x: any A of {int, long}, y: A) -> A``. Patterns: primitives by name,
``array<P>``, ``map<P>``, ``P|Q`` (union), ``any L`` / ``any L of {t, ...}`` (labelled wildcard),
``L`` (the type bound to label L), ``record L`` / ``record L {f: P, ...}`` (any record with at
least those fields), ``enum L`` / ``enum L of R`` (an enum whose symbols are R's field names),
``fixed L``, ``fcn(P, ... -> R)`` (a function argument).

Resolution follows the specification: labels bind on first sight, repeated labels widen to the
narrowest supertype, function arguments are matched after all other arguments.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .types import (BOTTOM, PRIMITIVES, Array, AvroType, Bottom, Enum, FcnType, Fixed, Map,
                    Record, Union, supertype)


class Pattern:
    labels: frozenset = frozenset()


@dataclass(frozen=True)
class PPrim(Pattern):
    type: AvroType


@dataclass(frozen=True)
class PArray(Pattern):
    items: Pattern


@dataclass(frozen=True)
class PMap(Pattern):
    values: Pattern


@dataclass(frozen=True)
class PAny(Pattern):
    label: str
    of: tuple = ()


@dataclass(frozen=True)
class PRef(Pattern):
    label: str


@dataclass(frozen=True)
class PRecord(Pattern):
    label: str
    fields: tuple = ()   # ((name, Pattern), ...)


@dataclass(frozen=True)
class PEnum(Pattern):
    label: str
    of_record: str | None = None


@dataclass(frozen=True)
class PFixed(Pattern):
    label: str


@dataclass(frozen=True)
class PUnion(Pattern):
    members: tuple


@dataclass(frozen=True)
class PFcn(Pattern):
    params: tuple
    ret: Pattern


@dataclass(frozen=True)
class Signature:
    params: tuple     # ((name, Pattern), ...)
    ret: Pattern
    text: str = ""

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.params]


# ---------------------------------------------------------------- notation parser

_TOK = re.compile(r"\s*(->|[A-Za-z_][A-Za-z0-9_]*|[(){}<>,:|])")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOK.match(text, pos)
            if not m:
                raise ValueError(f"bad signature text at {pos}: {text!r}")
            self.toks.append(m.group(1))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expect: str | None = None) -> str:
        t = self.peek()
        if t is None or (expect is not None and t != expect):
            raise ValueError(f"expected {expect!r} at token {self.i} in {self.text!r}")
        self.i += 1
        return t

    def signature(self) -> Signature:
        self.take("(")
        params = []
        while self.peek() != ")":
            name = self.take()
            self.take(":")
            params.append((name, self.type()))
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        self.take("->")
        ret = self.type()
        return Signature(tuple(params), ret, self.text)

    def type(self) -> Pattern:
        alts = [self.atom()]
        while self.peek() == "|":
            self.take("|")
            alts.append(self.atom())
        return alts[0] if len(alts) == 1 else PUnion(tuple(alts))

    def atom(self) -> Pattern:
        t = self.take()
        if t in PRIMITIVES:
            return PPrim(PRIMITIVES[t])
        if t in ("array", "map"):
            self.take("<")
            inner = self.type()
            self.take(">")
            return PArray(inner) if t == "array" else PMap(inner)
        if t == "any":
            label = self.take()
            of: tuple = ()
            if self.peek() == "of":
                self.take("of")
                self.take("{")
                names = [self.take()]
                while self.peek() == ",":
                    self.take(",")
                    names.append(self.take())
                self.take("}")
                of = tuple(PRIMITIVES[n] for n in names)
            return PAny(label, of)
        if t == "record":
            label = self.take()
            fields = []
            if self.peek() == "{":
                self.take("{")
                while self.peek() != "}":
                    name = self.take()
                    self.take(":")
                    fields.append((name, self.type()))
                    if self.peek() == ",":
                        self.take(",")
                self.take("}")
            return PRecord(label, tuple(fields))
        if t == "enum":
            label = self.take()
            of_record = None
            if self.peek() == "of":
                self.take("of")
                of_record = self.take()
            return PEnum(label, of_record)
        if t == "fixed":
            return PFixed(self.take())
        if t == "fcn":
            self.take("(")
            params = []
            while self.peek() != "->":
                params.append(self.type())
                if self.peek() == ",":
                    self.take(",")
            self.take("->")
            ret = self.type()
            self.take(")")
            return PFcn(tuple(params), ret)
        if t[:1].isupper():
            return PRef(t)
        raise ValueError(f"unknown type {t!r} in {self.text!r}")


def parse_signature(text: str) -> Signature:
    """Parse one signature in the compact notation."""
    return _Parser(text).signature()


# ---------------------------------------------------------------- matching

class _NoMatch(Exception):
    pass


def _flat_union(types: list[AvroType]) -> AvroType:
    out: list[AvroType] = []
    for t in types:
        for m in (t.types if isinstance(t, Union) else [t]):
            if not isinstance(m, Bottom) and m not in out:
                out.append(m)
    if not out:
        return BOTTOM
    return out[0] if len(out) == 1 else Union(out)


def _has_unbound(p: Pattern, b: dict) -> bool:
    if isinstance(p, (PAny, PRef, PRecord, PEnum, PFixed)):
        return p.label not in b
    if isinstance(p, PArray):
        return _has_unbound(p.items, b)
    if isinstance(p, PMap):
        return _has_unbound(p.values, b)
    if isinstance(p, PUnion):
        return any(_has_unbound(m, b) for m in p.members)
    if isinstance(p, PFcn):
        return any(_has_unbound(m, b) for m in p.params) or _has_unbound(p.ret, b)
    return False


class Matcher:
    """Binds the labels of one signature against actual argument types."""

    def __init__(self):
        self.b: dict[str, AvroType] = {}
        self.of: dict[str, tuple] = {}

    def bind(self, label: str, t: AvroType, of: tuple = ()) -> None:
        if of:
            self.of[label] = of
        else:
            of = self.of.get(label, ())
        if label in self.b:
            old = self.b[label]
            if old == t or old.accepts(t):
                new = old
            else:
                try:
                    new = supertype([old, t])
                except TypeError:
                    raise _NoMatch() from None
            if of and new not in of:
                raise _NoMatch()
            self.b[label] = new
        else:
            if of and t not in of:
                raise _NoMatch()
            if isinstance(t, (FcnType, Bottom)):
                raise _NoMatch()
            self.b[label] = t

    def match(self, p: Pattern, t: AvroType) -> None:
        if isinstance(t, Bottom):
            return
        if isinstance(p, PPrim):
            if not p.type.accepts(t) or isinstance(t, FcnType):
                raise _NoMatch()
        elif isinstance(p, (PAny, PRef)):
            self.bind(p.label, t, getattr(p, "of", ()))
        elif isinstance(p, PArray):
            if not isinstance(t, Array):
                raise _NoMatch()
            self.match(p.items, t.items)
        elif isinstance(p, PMap):
            if not isinstance(t, Map):
                raise _NoMatch()
            self.match(p.values, t.values)
        elif isinstance(p, PRecord):
            if not isinstance(t, Record):
                raise _NoMatch()
            if p.label in self.b:
                if self.b[p.label] != t:
                    raise _NoMatch()
                return
            self.b[p.label] = t
            for name, fp in p.fields:
                f = t.field(name)
                if f is None:
                    raise _NoMatch()
                self.match(fp, f.type)
        elif isinstance(p, PEnum):
            if not isinstance(t, Enum):
                raise _NoMatch()
            if p.of_record is not None:
                rec = self.b.get(p.of_record)
                if not isinstance(rec, Record) or [f.name for f in rec.fields] != t.symbols:
                    raise _NoMatch()
            if p.label in self.b and self.b[p.label] != t:
                raise _NoMatch()
            self.b[p.label] = t
        elif isinstance(p, PFixed):
            if not isinstance(t, Fixed):
                raise _NoMatch()
            if p.label in self.b and self.b[p.label] != t:
                raise _NoMatch()
            self.b[p.label] = t
        elif isinstance(p, PUnion):
            self._match_union(p, t)
        elif isinstance(p, PFcn):
            if not isinstance(t, FcnType) or len(t.params) != len(p.params):
                raise _NoMatch()
            for pp, at in zip(p.params, t.params):
                if _has_unbound(pp, self.b):
                    self.match(pp, at)
                elif not at.accepts(self.resolve(pp)):
                    raise _NoMatch()
            if _has_unbound(p.ret, self.b):
                self.match(p.ret, t.ret)
            elif not self.resolve(p.ret).accepts(t.ret):
                raise _NoMatch()
        else:  # pragma: no cover
            raise _NoMatch()

    def _match_union(self, p: PUnion, t: AvroType) -> None:
        actual = list(t.types) if isinstance(t, Union) else [t]
        wild = [m for m in p.members if isinstance(m, (PAny, PRef)) and m.label not in self.b]
        fixed = [m for m in p.members if m not in wild]
        rest = []
        for a in actual:
            done = False
            for m in fixed:
                if isinstance(m, (PAny, PRef)):
                    if self.b[m.label].accepts(a):
                        done = True
                        break
                    continue
                trial = Matcher()
                trial.b = dict(self.b)
                trial.of = dict(self.of)
                try:
                    trial.match(m, a)
                except _NoMatch:
                    continue
                self.b = trial.b
                done = True
                break
            if not done:
                rest.append(a)
        if rest:
            if len(wild) != 1:
                raise _NoMatch()
            self.bind(wild[0].label, _flat_union(rest), getattr(wild[0], "of", ()))
        elif wild and len(wild) == 1 and wild[0].label not in self.b:
            raise _NoMatch()

    def resolve(self, p: Pattern) -> AvroType:
        if isinstance(p, PPrim):
            return p.type
        if isinstance(p, (PAny, PRef, PRecord, PEnum, PFixed)):
            if p.label not in self.b:
                raise _NoMatch()
            return self.b[p.label]
        if isinstance(p, PArray):
            return Array(self.resolve(p.items))
        if isinstance(p, PMap):
            return Map(self.resolve(p.values))
        if isinstance(p, PUnion):
            return _flat_union([self.resolve(m) for m in p.members])
        if isinstance(p, PFcn):
            return FcnType([self.resolve(x) for x in p.params], self.resolve(p.ret))
        raise _NoMatch()  # pragma: no cover


@dataclass
class Resolved:
    """The outcome of matching a call: which signature, the parameter and return types."""

    index: int
    sig: Signature
    params: list[AvroType]
    ret: AvroType
    bindings: dict


def resolve_call(sigs: list[Signature], args: list[AvroType]) -> Resolved | None:
    """Pick the first signature that accepts the argument types; None if none does."""
    for i, sig in enumerate(sigs):
        if len(sig.params) != len(args):
            continue
        m = Matcher()
        try:
            order = [j for j, (_, p) in enumerate(sig.params) if not isinstance(p, PFcn)] + \
                    [j for j, (_, p) in enumerate(sig.params) if isinstance(p, PFcn)]
            for j in order:
                m.match(sig.params[j][1], args[j])
            params = [m.resolve(p) for _, p in sig.params]
            ret = m.resolve(sig.ret)
        except _NoMatch:
            continue
        return Resolved(i, sig, params, ret, m.b)
    return None


def describe_sigs(sigs: list[Signature]) -> str:
    return " or ".join(s.text for s in sigs)


def is_generic(p: Any) -> bool:
    """True if the pattern contains any label (i.e. is not a plain type)."""
    if isinstance(p, Signature):
        return any(is_generic(x) for _, x in p.params) or is_generic(p.ret)
    if isinstance(p, PPrim):
        return False
    if isinstance(p, PArray):
        return is_generic(p.items)
    if isinstance(p, PMap):
        return is_generic(p.values)
    if isinstance(p, PUnion):
        return any(is_generic(m) for m in p.members)
    return True
