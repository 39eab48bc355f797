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
    i = 0
    for m in _TOKEN.finditer(source):
        start = m.start()
        if start != i:   # no token starts at i
            break
        kind = m.lastgroup
        i = m.end()
        if kind == "ws":
            continue
        if kind == "SCOPE":
            tokens.append(Token("SCOPE", source[start + 1:i - 1], start + 1))
        elif kind == "IDENT":
            tokens.extend(_split_ident(m.group(), start, source, i))
        elif kind == "PUNCT":
            text = m.group()
            tokens.append(Token(text, text, start))
        else:
            tokens.append(Token(kind, m.group(), start))
    if i < len(source):
        ch = source[i]
        raise QuerySyntaxError("unclosed '{'" if ch == "{" else f"unexpected character {ch!r}", i)
    tokens.append(Token("EOF", "", len(source)))
    return tokens


def _split_ident(text: str, pos: int, source: str, end: int) -> list[Token]:
    """``metric.name.as_count(`` with no braces lexes as one identifier; split
    a trailing modifier (and a dotted ``-`` that is really a minus) off."""
    if "." in text and end < len(source) and source[end] == "(":
        head, _, last = text.rpartition(".")
        if last in MODIFIERS and head:
            return [Token("IDENT", head, pos), Token(".", ".", pos + len(head)),
                    Token("IDENT", last, pos + len(head) + 1)]
    return [Token("IDENT", text, pos)]
