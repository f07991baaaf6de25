"""TextIndex: how often a term occurs in a text field (PMML 4.4 Transformations), as JPMML reads it.

For each row the text is normalized by the TextIndexNormalization tables in order (each row of a
table replaces its ``inField`` text, a literal or, where its ``regexField`` cell is "true", a
regular expression, by its ``outField`` text, everywhere in the text; ``recursive`` tables are
reapplied until nothing changes), then split into tokens at ``wordSeparatorCharacterRE`` with
leading and trailing punctuation trimmed from each token (empty tokens are dropped). The term
(the nested expression's value) is tokenized the same way, without normalization. The frequency
is the number of positions where the term's tokens match consecutive text tokens: equal (ignoring
case unless ``isCaseSensitive``), or, with ``maxLevenshteinDistance`` d, within a total edit
distance of d. ``countHits="bestHits"`` counts only the matches of the smallest distance.

localTermWeights: ``termFrequency`` (an integer), ``binary`` (1 if the term occurs, else 0),
``logarithmic`` (log10(1 + frequency)). ``augmentedNormalizedTermFrequency`` needs the frequency
of every other term of the document and is refused at load, as JPMML refuses it. A missing text
or term gives a missing value. Word patterns (``wordRE``) and ``tokenize="false"`` are refused.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import Any

import numpy as np

from portmodel.errors import DocumentError, UnsupportedError

from . import objects
from .context import Ctx
from .expressions import Expr, compile_expression, table_rows
from .location import tag_of, where
from .strings import RegexError, java_regex, java_replacement
from .values import Col

LOCAL_WEIGHTS = ("termFrequency", "binary", "logarithmic")


def _count(node, value: int | None, xml: str, default: int) -> int:
    """A typed count attribute (absent: default); a negative one is a load-time error."""
    if value is None:
        return default
    if value < 0:
        raise DocumentError(f"attribute {xml}={str(value)!r} is less than 0", **where(node))
    return value


def _pattern(text: str, el, flags: int = 0) -> re.Pattern:
    """A Java regular expression; with flags (case folding), recompiled without re.ASCII."""
    try:
        compiled = java_regex(text)
        return compiled if not flags else re.compile(compiled.pattern, flags)
    except (RegexError, re.error) as exc:
        raise DocumentError(f"{tag_of(el)}: {exc}", **where(el)) from None


def _is_punctuation(c: str) -> bool:
    return unicodedata.category(c).startswith("P")


def trim_punctuation(token: str) -> str:
    """The token without its leading and trailing punctuation characters (Unicode P*)."""
    begin, end = 0, len(token)
    while begin < end and _is_punctuation(token[begin]):
        begin += 1
    while end > begin and _is_punctuation(token[end - 1]):
        end -= 1
    return token[begin:end]


def tokenize(text: str, separator: re.Pattern) -> tuple[str, ...]:
    """Tokens between the separator's matches, punctuation-trimmed, empty ones dropped."""
    out = []
    index = 0
    for m in separator.finditer(text):
        token = trim_punctuation(text[index:m.start()])
        if token:
            out.append(token)
        index = m.end()
    token = trim_punctuation(text[index:])
    if token:
        out.append(token)
    return tuple(out)


def _same(a: str, b: str, case_sensitive: bool) -> bool:
    if case_sensitive or a == b:
        return a == b
    return len(a) == len(b) and all(x == y or x.upper() == y.upper() or x.lower() == y.lower()
                                    for x, y in zip(a, b))


def limited_distance(a: str, b: str, case_sensitive: bool, limit: int) -> int:
    """Levenshtein distance of a and b (characters compared ignoring case unless
    case_sensitive), or -1 when it exceeds limit."""
    if not case_sensitive:
        a, b = a.lower(), b.lower()
    if abs(len(a) - len(b)) > limit:
        return -1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > limit:
            return -1
        prev = cur
    return prev[-1] if prev[-1] <= limit else -1


class _Normalization:
    """One TextIndexNormalization: its replacement table, compiled."""

    def __init__(self, el: objects.TextIndexNormalization, index_case_sensitive: bool):
        if el.word_re is not None:
            raise UnsupportedError("TextIndexNormalization@wordRE is not supported",
                                   **where(el))
        case_sensitive = index_case_sensitive if el.is_case_sensitive is None else \
            el.is_case_sensitive
        _count(el, el.max_levenshtein_distance, "maxLevenshteinDistance", 0)
        self.recursive = bool(el.recursive)
        in_col = el.in_field if el.in_field is not None else "string"
        out_col = el.out_field if el.out_field is not None else "stem"
        regex_col = el.regex_field if el.regex_field is not None else "regex"
        flags = 0 if case_sensitive else re.IGNORECASE
        self.rules: list[tuple[re.Pattern, str]] = []
        for i, row in enumerate(table_rows(el), 1):
            if in_col not in row or out_col not in row:
                raise DocumentError(f"TextIndexNormalization row {i} lacks its {in_col!r} or "
                                    f"{out_col!r} cell", **where(el))
            source = row[in_col]
            if row.get(regex_col, "").strip().lower() == "true":
                pattern = _pattern(source, el, flags)
            else:
                pattern = re.compile(re.escape(source), flags)
            try:
                repl = java_replacement(row[out_col])
            except (RegexError, ValueError) as exc:
                raise DocumentError(f"TextIndexNormalization row {i}: {exc}",
                                    **where(el)) from None
            self.rules.append((pattern, repl))

    def apply(self, text: str) -> str:
        for _ in range(10_000):           # (a recursive table that never settles is an error)
            out = text
            for pattern, repl in self.rules:
                out = pattern.sub(repl, out)
            if not self.recursive or out == text:
                return out
            text = out
        raise ValueError("a recursive TextIndexNormalization does not settle")


class TextIndex:
    """A compiled TextIndex: frequency (and weight) of a term in a text."""

    def __init__(self, el: objects.TextIndex, ctx: Ctx):
        #: the TextIndex's source line (named by errors at scoring time)
        self.line = el.line
        self.text_field = ctx.require(el.text_field, el).name
        self.local = el.local_term_weights or "termFrequency"
        if self.local not in LOCAL_WEIGHTS:
            raise UnsupportedError(f"TextIndex localTermWeights={self.local!r} is not supported",
                                   **where(el))
        self.case_sensitive = bool(el.is_case_sensitive)
        self.max_distance = _count(el, el.max_levenshtein_distance, "maxLevenshteinDistance", 0)
        hits = el.count_hits or "allHits"
        if hits not in ("allHits", "bestHits"):
            raise UnsupportedError(f"TextIndex countHits={hits!r} is not supported",
                                   **where(el))
        self.best_hits = hits == "bestHits"
        if el.word_re is not None or el.tokenize is False:
            raise UnsupportedError("TextIndex without tokenizing at word separators (wordRE, "
                                   "tokenize=\"false\") is not supported", **where(el))
        separator = el.word_separator_character_re
        self.separator = _pattern("\\s+" if separator is None else separator, el)
        self.normalizations = [_Normalization(n, self.case_sensitive)
                               for n in el.normalizations]
        if el.expression is None:
            raise DocumentError("TextIndex has no term expression", **where(el))
        self.term = compile_expression(el.expression, ctx)
        self.text_tokens = lru_cache(maxsize=4096)(self._text_tokens)
        self.term_tokens = lru_cache(maxsize=4096)(self._term_tokens)

    def _text_tokens(self, text: str) -> tuple[str, ...]:
        for n in self.normalizations:
            text = n.apply(text)
        return tokenize(text, self.separator)

    def _term_tokens(self, term: str) -> tuple[str, ...]:
        return tokenize(term, self.separator)

    def frequency(self, text: tuple[str, ...], term: tuple[str, ...]) -> int:
        """How often the term's tokens occur in the text's (JPMML's counting)."""
        if not text or not term:
            return 0
        cap = 1 if self.local == "binary" else math.inf
        freq = 0
        best = math.inf
        d_max = self.max_distance
        for i in range(len(text) - len(term) + 1):
            d = 0
            for j, tok in enumerate(term):
                left = d_max - d
                if left == 0:
                    if not _same(text[i + j], tok, self.case_sensitive):
                        break
                else:
                    dj = limited_distance(text[i + j], tok, self.case_sensitive, left)
                    if dj < 0:
                        break
                    d += dj
            else:
                if self.best_hits:
                    if d < best:
                        freq, best = 1, d
                    elif d == best:
                        freq += 1
                    else:
                        continue
                    if best == 0 and freq >= cap:
                        return int(freq)
                else:
                    freq += 1
                    if freq >= cap:
                        return int(freq)
        return int(min(cap, freq))

    def __call__(self, scope) -> Col:
        text_col = scope.get(self.text_field)
        term_col = self.term.fn(scope)
        n = scope.n
        missing = text_col.missing | term_col.missing
        out = np.full(n, np.nan)
        seen: dict[tuple[Any, Any], float] = {}
        for i in np.flatnonzero(~missing):
            key = (text_col.values[i], term_col.values[i])
            v = seen.get(key)
            if v is None:
                text = _text(key[0])
                term = _text(key[1])
                try:
                    f = self.frequency(self.text_tokens(text), self.term_tokens(term))
                except ValueError as exc:          # a recursive table that never settles
                    raise DocumentError(str(exc), line=self.line,
                                        element="TextIndexNormalization") from None
                v = seen[key] = math.log10(1.0 + f) if self.local == "logarithmic" else float(f)
            out[i] = v
        dt = "double" if self.local == "logarithmic" else "integer"
        return Col(out, missing.copy(), dt, "continuous")


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def compile_text_index(el: objects.TextIndex, ctx: Ctx) -> Expr:
    """A typed TextIndex as an expression (integer frequency, or double for logarithmic weights)."""
    index = TextIndex(el, ctx)
    return Expr(index, "double" if index.local == "logarithmic" else "integer", "continuous")
