"""re.*: POSIX extended regular expressions on strings (character indexes) and bytes.

Matching is leftmost-longest (POSIX) through the ``regex`` package, with a per-search timeout
so that hostile patterns cannot hang the engine. Replacement text is literal.
"""
from __future__ import annotations

import functools

from ..errors import PFARuntimeError, PFATimeoutError
from . import typed

try:
    import regex as _rx
    _FLAGS = _rx.POSIX
    _HAS_TIMEOUT = True
except ImportError:  # pragma: no cover - fallback: leftmost-first matching, no timeout
    import re as _rx
    _FLAGS = 0
    _HAS_TIMEOUT = False

_BASES = {"re.index": 35000, "re.contains": 35010, "re.count": 35020, "re.rindex": 35030,
          "re.groups": 35040, "re.indexall": 35050, "re.findall": 35060, "re.findfirst": 35070,
          "re.findgroupsfirst": 35080, "re.findgroupsall": 35090, "re.groupsall": 35100,
          "re.replacefirst": 35110, "re.replacelast": 35120, "re.split": 35130,
          "re.replaceall": 35140}


def _translate(p):
    """POSIX ERE -> the regex package's syntax: backslashes inside brackets are literal, and
    GNU word boundaries \\< \\> become \\b."""
    is_bytes = isinstance(p, bytes)
    s = p.decode("latin-1") if is_bytes else p
    out, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            nxt = s[i + 1]
            out.append("\\b" if nxt in "<>" else c + nxt)
            i += 2
        elif c == "[":
            j = i + 1
            if j < n and s[j] == "^":
                j += 1
            if j < n and s[j] == "]":
                j += 1
            while j < n and s[j] != "]":
                if s[j] == "[" and j + 1 < n and s[j + 1] in ":.=":
                    close = s.find(s[j + 1] + "]", j + 2)
                    j = close + 2 if close >= 0 else j + 1
                else:
                    j += 1
            body = s[i + 1:j]
            out.append("[" + body.replace("\\", "\\\\") + ("]" if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    r = "".join(out)
    return r.encode("latin-1") if is_bytes else r


@functools.lru_cache(maxsize=512)
def _compile(pattern):
    return _rx.compile(_translate(pattern), _FLAGS)


def _build(name, body):
    code = _BASES[name]

    @typed(name)
    def build(call):
        rt = call.rt

        def f(haystack, pattern, *rest):
            try:
                rx = _compile(pattern)
            except Exception:
                raise PFARuntimeError("bad pattern", code, name) from None
            kw = {"timeout": rt.regex_timeout()} if _HAS_TIMEOUT else {}
            if rest and len(rest[0]) * (len(haystack) + 1) > rt.max_size:
                # a replacement could be inserted at every position: check the real size
                n = sum(1 for _ in rx.finditer(haystack, **kw))
                rt.check_size(len(haystack) + n * len(rest[0]), "string")
            try:
                return body(rx, haystack, kw, *rest)
            except TimeoutError:
                raise PFATimeoutError(f"regular expression search in {name} took too long") \
                    from None
        return f
    return build


def _span(m):
    return [m.start(), m.end()]


def _groups(m):
    return [list(m.span(g)) for g in range(len(m.groups()) + 1)]


def _texts(m):
    return [m.group(g) if m.group(g) is not None else m.string[:0]
            for g in range(len(m.groups()) + 1)]


def _last(rx, h, kw):
    last = None
    for m in rx.finditer(h, **kw):
        last = m
    return last


_build("re.index", lambda rx, h, kw: _span(m) if (m := rx.search(h, **kw)) else [])
_build("re.contains", lambda rx, h, kw: rx.search(h, **kw) is not None)
_build("re.count", lambda rx, h, kw: sum(1 for _ in rx.finditer(h, **kw)))
_build("re.rindex", lambda rx, h, kw: _span(m) if (m := _last(rx, h, kw)) else [])
_build("re.groups", lambda rx, h, kw: _groups(m) if (m := rx.search(h, **kw)) else [])
_build("re.indexall", lambda rx, h, kw: [_span(m) for m in rx.finditer(h, **kw)])
_build("re.findall", lambda rx, h, kw: [m.group(0) for m in rx.finditer(h, **kw)])
_build("re.findfirst", lambda rx, h, kw: m.group(0) if (m := rx.search(h, **kw)) else None)
_build("re.findgroupsfirst", lambda rx, h, kw: _texts(m) if (m := rx.search(h, **kw)) else [])
_build("re.findgroupsall", lambda rx, h, kw: [_texts(m) for m in rx.finditer(h, **kw)])
_build("re.groupsall", lambda rx, h, kw: [_groups(m) for m in rx.finditer(h, **kw)])


def _replace_first(rx, h, kw, rep):
    m = rx.search(h, **kw)
    return h if m is None else h[:m.start()] + rep + h[m.end():]


def _replace_last(rx, h, kw, rep):
    m = _last(rx, h, kw)
    return h if m is None else h[:m.start()] + rep + h[m.end():]


def _replace_all(rx, h, kw, rep):
    out, pos = [], 0
    for m in rx.finditer(h, **kw):
        out.append(h[pos:m.start()])
        out.append(rep)
        pos = m.end()
    out.append(h[pos:])
    return h[:0].join(out)


def _split(rx, h, kw):
    """Pieces between matches; trailing empty pieces are dropped (as the JVM reference engine
    does), but a haystack with no match at all comes back whole."""
    out, pos, matched = [], 0, False
    for m in rx.finditer(h, **kw):
        if m.end() == m.start() and (m.start() == 0 or m.start() == len(h)):
            continue
        matched = True
        out.append(h[pos:m.start()])
        pos = m.end()
    out.append(h[pos:])
    if not matched:
        return [h]
    while out and not out[-1]:
        out.pop()
    return out


_build("re.replacefirst", _replace_first)
_build("re.replacelast", _replace_last)
_build("re.replaceall", _replace_all)
_build("re.split", _split)
