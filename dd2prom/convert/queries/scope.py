"""Parser of what is inside a scope's braces: ``env:prod,!host:web-*``,
``env:prod AND (service:a OR service:b)``, ``region IN (a,b)``, ``$env``."""

from __future__ import annotations

import functools
import re

from dd2prom.convert.queries.ast import Scope, ScopeAnd, ScopeNot, ScopeOr, Tag, TagIn
from dd2prom.convert.queries.lexer import QuerySyntaxError

_WORD = re.compile(r'\s*(\(|\)|,|(?:[^\s(),"]|"[^"]*"|")+)')
_KEYWORDS = {"AND", "OR", "NOT", "IN"}


@functools.lru_cache(maxsize=4096)
def parse_scope(text: str, offset: int) -> Scope | None:
    """None for ``*`` / empty (every series); ``offset`` = position of the
    text in the whole query, for error carets. (Remembered: queries of other
    metrics share scopes, and the nodes are frozen.)"""
    words: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        m = _WORD.match(text, i)
        if not m:
            if text[i:].strip():
                raise QuerySyntaxError("unexpected text in scope", offset + i)
            break
        words.append((m.group(1), offset + m.start(1)))
        i = m.end()
    if not words or (len(words) == 1 and words[0][0] == "*"):
        return None
    parser = _ScopeParser(words, offset + len(text))
    result = parser.parse_or()
    if parser.i < len(words):
        word, pos = words[parser.i]
        raise QuerySyntaxError(f"unexpected {word!r} in scope", pos)
    return result


class _ScopeParser:
    def __init__(self, words: list[tuple[str, int]], end: int):
        self.words = words
        self.i = 0
        self.end = end

    def peek(self) -> str | None:
        return self.words[self.i][0] if self.i < len(self.words) else None

    def pos(self) -> int:
        return self.words[self.i][1] if self.i < len(self.words) else self.end

    def _next_is(self, word: str) -> bool:
        return self.i + 1 < len(self.words) and self.words[self.i + 1][0] == word

    def take(self) -> tuple[str, int]:
        if self.i >= len(self.words):
            raise QuerySyntaxError("unexpected end of scope", self.end)
        w = self.words[self.i]
        self.i += 1
        return w

    def parse_or(self) -> Scope:
        pos = self.pos()
        items = [self.parse_and()]
        while self.peek() is not None and self.peek().upper() == "OR":
            self.i += 1
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else ScopeOr(tuple(items), pos)

    def parse_and(self) -> Scope:
        pos = self.pos()
        items = [self.parse_not()]
        while True:
            w = self.peek()
            if w == ",":
                self.i += 1
            elif w is not None and w.upper() == "AND":
                self.i += 1
            elif w is None or w == ")" or w.upper() == "OR":
                break
            # juxtaposition is an AND too (Datadog's search syntax)
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else ScopeAnd(tuple(items), pos)

    def parse_not(self) -> Scope:
        w, pos = self.words[self.i] if self.i < len(self.words) else (None, self.end)
        if w is not None and (w.upper() == "NOT" or (w in ("!", "-") and self._next_is("("))):
            self.i += 1
            return ScopeNot(self.parse_not(), pos)
        if w == "(":
            self.i += 1
            inner = self.parse_or()
            if self.peek() != ")":
                raise QuerySyntaxError("expected ')' in scope", self.pos())
            self.i += 1
            return inner
        return self.parse_term()

    def parse_term(self) -> Scope:
        word, pos = self.take()
        if word in ("(", ")", ",") or word.upper() in _KEYWORDS:
            raise QuerySyntaxError(f"expected a tag, found {word!r}", pos)
        negated = word[0] in "!-" and len(word) > 1
        body = word[1:] if negated else word
        nxt = self.peek()
        if nxt is not None and nxt.upper() in ("IN", "NOT") and ":" not in body:
            node = self.parse_in(body, pos)
        else:
            node = _tag(body, pos + (1 if negated else 0))
        return ScopeNot(node, pos) if negated else node

    def parse_in(self, key: str, pos: int) -> Scope:
        negated = False
        if self.peek().upper() == "NOT":
            save = self.i
            self.i += 1
            if self.peek() is None or self.peek().upper() != "IN":
                self.i = save
                return _tag(key, pos)
            negated = True
        self.i += 1  # IN
        if self.peek() != "(":
            raise QuerySyntaxError("expected '(' after IN", self.pos())
        self.i += 1
        values: list[str] = []
        while self.peek() != ")":
            word, wpos = self.take()
            if word != ",":
                values.append(_unquote(word))
        self.i += 1
        node: Scope = TagIn(key, tuple(values), pos)
        return ScopeNot(node, pos) if negated else node


def _tag(word: str, pos: int) -> Tag:
    if word == "*":
        return Tag("*", None, pos)
    if word.startswith("$"):
        return Tag(None, None, pos, var=_var_name(word))
    key, sep, value = word.partition(":")
    if not sep:
        return Tag(word, None, pos)
    if not key:
        raise QuerySyntaxError("tag with an empty key", pos)
    if value.startswith("$"):
        return Tag(key, None, pos, var=_var_name(value))
    return Tag(key, _unquote(value), pos)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _var_name(word: str) -> str:
    name = word[1:]
    return name[: -len(".value")] if name.endswith(".value") else name
