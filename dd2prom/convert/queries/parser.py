"""Recursive-descent parser: Datadog metric query text → :mod:`ast` nodes.

Grammar (informal)::

    monitor  := head ':' expr [CMP number]
    head     := AGG '(' WINDOW [',' number] ')'
              | ('change'|'pct_change') '(' AGG '(' WINDOW ')' ',' WINDOW ')'
    expr     := term (('+'|'-') term)*        (parsed by precedence climbing)
    term     := unary (('*'|'/') unary)*
    unary    := '-' unary | postfix
    postfix  := primary ('.' IDENT '(' args ')')*
    primary  := NUMBER | '(' expr ')' | IDENT '(' args ')' | query | IDENT | STRING
    query    := [AGG ':'] METRIC ['{' scope '}'] ['by' '{' tags '}']
"""

from __future__ import annotations

import functools
import re

from dd2prom.convert.queries import ast
from dd2prom.convert.queries.lexer import MODIFIERS, QuerySyntaxError, Token, tokenize
from dd2prom.convert.queries.scope import parse_scope

SPACE_AGGS = frozenset({"avg", "sum", "min", "max", "count", "stddev"})
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_WINDOW = re.compile(r"^(?:last|next)_(\d+)(mo|[smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mo": 2592000}
TIME_AGGS = frozenset({"avg", "sum", "min", "max", "last", "median", "count"})


def is_aggregator(word: str) -> bool:
    return word in SPACE_AGGS or bool(_PERCENTILE.match(word))


@functools.lru_cache(maxsize=1024)   # (a few distinct aggregators, read for every metric query)
def percentile_of(word: str) -> float | None:
    m = _PERCENTILE.match(word or "")
    return round(float(m.group(1)) / 100, 6) if m else None


def window_seconds(word: str) -> int | None:
    m = _WINDOW.match(word)
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)] if m else None


def parse_expression(source: str) -> ast.Expr:
    exprs = parse_expressions(source)
    if len(exprs) > 1:
        raise QuerySyntaxError("several queries separated by ','; expected one", exprs[1].pos)
    return exprs[0]


def parse_expressions(source: str) -> list[ast.Expr]:
    """A classic widget request may hold several queries separated by commas.
    (Cached: dashboards repeat queries; the generator never mutates the AST.)"""
    return list(_parse_expressions(source))


@functools.lru_cache(maxsize=16384)   # a dashboard worker at full scale parses ~9,000 distinct sources
def _parse_expressions(source: str) -> tuple[ast.Expr, ...]:
    p = _Parser(source)
    exprs = [p.expr()]
    while p.accept(","):
        exprs.append(p.expr())
    p.expect("EOF")
    return tuple(exprs)


def parse_monitor(source: str) -> ast.Monitor:
    p = _Parser(source)
    mon = p.monitor()
    p.expect("EOF")
    return mon


_MONITOR_HEAD = re.compile(r"^\s*(\w+)\s*\(\s*(\w+\s*\(\s*)?(last|next)_\w+")


def looks_like_monitor(source: str) -> bool:
    return bool(_MONITOR_HEAD.match(source))


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.last = len(self.tokens) - 1   # the EOF token, what peeking past the end sees
        self.i = 0

    # -- token helpers
    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.tokens[j if j < self.last else self.last]

    def next(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        tok = self.peek()
        if tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, text: str | None = None) -> Token:
        tok = self.accept(kind, text)
        if tok is None:
            got = self.peek()
            what = "end of query" if got.kind == "EOF" else repr(got.text)
            raise QuerySyntaxError(f"expected {text or _KIND_NAMES.get(kind, kind)}, found {what}", got.pos)
        return tok

    # -- monitor form
    def monitor(self) -> ast.Monitor:
        head = self.expect("IDENT")
        agg = head.text
        self.expect("(")
        inner_agg = shift = None
        shift_seconds = 0
        percentile = None
        if agg in ("change", "pct_change"):
            inner = self.expect("IDENT")
            inner_agg = inner.text
            if inner_agg not in TIME_AGGS:
                raise QuerySyntaxError(f"unknown time aggregation {inner_agg!r}", inner.pos)
            self.expect("(")
            win_tok = self.expect("IDENT")
            self.expect(")")
            self.expect(",")
            shift_tok = self.expect("IDENT")
            shift = shift_tok.text
            shift_seconds = window_seconds(shift) or 0
            if not shift_seconds:
                raise QuerySyntaxError(f"expected a window like last_5m, found {shift!r}", shift_tok.pos)
        else:
            if agg not in TIME_AGGS and agg != "percentile":
                raise QuerySyntaxError(f"unknown monitor time aggregation {agg!r}", head.pos)
            win_tok = self.expect("IDENT")
            if self.accept(","):
                tok = self.peek()
                if tok.kind == "IDENT" and percentile_of(tok.text) is not None:
                    percentile = percentile_of(self.next().text)
                else:
                    percentile = float(self.expect("NUMBER").text) / 100
        seconds = window_seconds(win_tok.text)
        if not seconds:
            raise QuerySyntaxError(f"expected a window like last_5m, found {win_tok.text!r}", win_tok.pos)
        self.expect(")")
        self.expect(":")
        expr = self.expr()
        comparator = threshold = None
        cmp_tok = self.accept("CMP")
        if cmp_tok:
            comparator = cmp_tok.text
            sign = -1.0 if self.accept("OP", "-") else 1.0
            threshold = sign * float(self.expect("NUMBER").text)
        return ast.Monitor(agg, win_tok.text, seconds, expr, comparator, threshold,
                           inner_agg=inner_agg, shift=shift, shift_seconds=shift_seconds,
                           percentile=percentile, pos=head.pos)

    # -- expressions
    def expr(self, min_precedence: int = 1) -> ast.Expr:
        """``unary`` operands joined by the binary operators binding at least
        ``min_precedence`` (precedence climbing: ``+ -`` 1, ``* /`` 2, left-associative)."""
        left = self.unary()
        while True:
            tok = self.peek()
            precedence = _PRECEDENCE.get(tok.text, 0) if tok.kind == "OP" else 0
            if precedence < min_precedence:
                return left
            self.i += 1
            left = ast.BinOp(tok.text, left, self.expr(precedence + 1), tok.pos)

    def unary(self) -> ast.Expr:
        tok = self.peek()
        if tok.kind == "OP" and tok.text == "-":
            self.next()
            operand = self.unary()
            if isinstance(operand, ast.Number):
                return ast.Number(-operand.value, "-" + operand.text, tok.pos)
            return ast.Neg(operand, tok.pos)
        if tok.kind == "OP" and tok.text == "+":
            self.next()
            return self.unary()
        return self.postfix()

    def postfix(self) -> ast.Expr:
        node = self.primary()
        while self.peek().kind == "." and self.peek(1).kind == "IDENT":
            dot = self.next()
            name = self.next()
            self.expect("(")
            args = self.args()
            mod = ast.Modifier(name.text, args, dot.pos)
            if isinstance(node, ast.MetricQuery) and name.text in MODIFIERS:
                node.modifiers.append(mod)
                self._maybe_group_by(node)
            elif isinstance(node, ast.ServiceCheck):
                node.calls.append(mod)
            else:
                raise QuerySyntaxError(f"'.{name.text}()' cannot follow this expression", dot.pos)
        return node

    def args(self) -> list[ast.Arg]:
        """Arguments up to and including ')'."""
        out: list[ast.Arg] = []
        if self.accept(")"):
            return out
        while True:
            tok = self.peek()
            if tok.kind == "IDENT" and self.peek(1).kind == "=":
                self.i += 2
                out.append(ast.Keyword(tok.text, self._arg_value(), tok.pos))
            else:
                out.append(self._arg_value())
            if self.accept(")"):
                return out
            self.expect(",")

    def _arg_value(self) -> ast.Arg:
        tok = self.peek()
        if tok.kind == "STRING" and self.peek(1).kind in (",", ")"):
            self.next()
            return ast.String(_unquote(tok.text), tok.pos)
        return self.expr()

    def primary(self) -> ast.Expr:
        tok = self.peek()
        if tok.kind == "NUMBER":
            self.next()
            return ast.Number(float(tok.text), tok.text, tok.pos)
        if tok.kind == "(":
            self.next()
            inner = self.expr()
            self.expect(")")
            return inner
        if tok.kind == "STRING":
            self.next()
            if self.peek().kind == ".":
                return ast.ServiceCheck(_unquote(tok.text), [], tok.pos)
            return ast.Name(_unquote(tok.text), tok.pos)
        if tok.kind == "IDENT":
            nxt = self.peek(1)
            if nxt.kind == ":" and is_aggregator(tok.text):
                self.i += 2
                return self.metric_query(tok.text, tok.pos)
            if nxt.kind == "(":
                self.i += 2
                return ast.Call(tok.text, self.args(), tok.pos)
            if nxt.kind == "SCOPE" or "." in tok.text:
                return self.metric_query(None, tok.pos)
            self.next()
            return ast.Name(tok.text, tok.pos)
        what = "end of query" if tok.kind == "EOF" else repr(tok.text)
        raise QuerySyntaxError(f"expected a metric query, number or function, found {what}", tok.pos)

    def metric_query(self, aggregator: str | None, pos: int) -> ast.MetricQuery:
        name = self.expect("IDENT")
        scope = None
        scope_text = "*"
        tok = self.accept("SCOPE")
        if tok is not None:
            scope_text = tok.text.strip() or "*"
            scope = parse_scope(tok.text, tok.pos)
        q = ast.MetricQuery(aggregator, name.text, scope, [], [], pos, scope_text)
        self._maybe_group_by(q)
        return q

    def _maybe_group_by(self, q: ast.MetricQuery) -> None:
        tok = self.peek()
        if tok.kind == "IDENT" and tok.text == "by" and self.peek(1).kind == "SCOPE":
            self.i += 1
            groups = self.next()
            q.group_by.extend(g.strip() for g in groups.text.split(",") if g.strip())


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_KIND_NAMES = {"IDENT": "a name", "NUMBER": "a number", "EOF": "end of query", "SCOPE": "'{'",
               "CMP": "a comparator"}


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])
