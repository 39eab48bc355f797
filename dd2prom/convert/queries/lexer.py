"""Tokenizer of the outer query grammar. Braces are lexed as one raw token
(``SCOPE``): what is inside ``{...}`` has its own grammar (see
:mod:`dd2prom.convert.queries.scope`)."""

from __future__ import annotations

import re
from typing import NamedTuple

MODIFIERS = frozenset({"rollup", "as_count", "as_rate", "fill", "weighted"})


class QuerySyntaxError(ValueError):
    """A parse error at ``pos``; :meth:`render` shows the caret line."""

    def __init__(self, message: str, pos: int, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.source = source     # the text ``pos`` points into, when not the query itself

    def render(self, source: str) -> str:
        source = self.source if self.source is not None else source
        pos = max(0, min(self.pos, len(source)))
        line_start = source.rfind("\n", 0, pos) + 1
        line_end = source.find("\n", pos)
        line = source[line_start: None if line_end < 0 else line_end]
        return f"{self.message} at position {pos}:\n  {line}\n  {' ' * (pos - line_start)}^"


class Token(NamedTuple):
    """One token (a tuple: the parser makes tens of thousands of them)."""

    kind: str      # IDENT NUMBER STRING SCOPE VAR OP CMP ( ) , : . EOF
    text: str
    pos: int


_TOKEN = re.compile(r"""
    (?P<SCOPE>\{[^}]*\})
  | (?P<ws>\s+)
  | (?P<NUMBER>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z_]))
  | (?P<IDENT>[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z_])
  | (?P<VAR>\$[A-Za-z_][A-Za-z0-9_.\-]*)
  | (?P<STRING>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<CMP>>=|<=|==|!=|>|<)
  | (?P<OP>[-+*/])
  | (?P<PUNCT>[(),:.=])
""", re.VERBOSE)


def tokenize(source: str) -> list[Token]:
    """Braces are one raw ``SCOPE`` token (its text without the braces)."""
    tokens: list[Token] = []
    append = tokens.append
    i = 0
    for m in _TOKEN.finditer(source):
        start = m.start()
        if start != i:   # no token starts at i
            break
        kind = m.lastgroup
        i = m.end()
        # (tokens made with tuple.__new__: a NamedTuple's own __new__ is a Python call, twice as slow)
        if kind == "IDENT":
            text = m.group()
            if i < len(source) and source[i] == "(" and "." in text:
                tokens.extend(_split_ident(text, start))
            else:
                append(_new(Token, ("IDENT", text, start)))
        elif kind == "SCOPE":
            append(_new(Token, ("SCOPE", source[start + 1:i - 1], start + 1)))
        elif kind == "PUNCT":
            text = m.group()
            append(_new(Token, (text, text, start)))
        elif kind != "ws":
            append(_new(Token, (kind, m.group(), start)))
    if i < len(source):
        ch = source[i]
        raise QuerySyntaxError("unclosed '{'" if ch == "{" else f"unexpected character {ch!r}", i)
    append(_new(Token, ("EOF", "", len(source))))
    return tokens


_new = tuple.__new__


def _split_ident(text: str, pos: int) -> list[Token]:
    """``metric.name.as_count(`` with no braces lexes as one identifier (followed
    by ``(``); split a trailing modifier off."""
    head, _, last = text.rpartition(".")
    if last in MODIFIERS and head:
        return [Token("IDENT", head, pos), Token(".", ".", pos + len(head)),
                Token("IDENT", last, pos + len(head) + 1)]
    return [Token("IDENT", text, pos)]
