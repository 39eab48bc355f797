"""PromQL syntax check in-process (promql-parser, the Rust parser of the
Prometheus grammar). ``promtool check rules`` remains the final word.

Every expression dd2prom writes is checked here, tens of thousands per run, and
most differ only in their label values: ``sum(rate(x{service="a"}[5m]))`` and
``...{service="b"}...``. Parsing each costs 30-100 µs, so an expression whose
strings are all simple is checked by its *shape*, each label matcher's non-empty
value replaced by ``"x"``, and shapes are cached. That gives the parser's answer,
because the parser looks into a matcher's value only to

* unquote it: an expression with a backslash (an escape) has no shape;
* compile a regex matcher (``=~``, ``!~``): an expression has a shape only when
  each of its regexes is words in alternatives (``prod|staging``, ``veth.*``),
  which compile and, like ``"x"``, never match the empty string, and is short
  (the regex engine refuses a regex that compiles too big: 10,486 ``.``);
* refuse a selector whose matchers all match the empty string: for ``=`` and
  ``!=`` that is an empty value, and empty values stay empty in the shape.

The four operators are the grammar's one kind of token, a matcher's operator
(``!=`` is a comparison too, but a comparison with a string is refused either
way; the metric name set twice is found by the label's name, whatever the
operator). The parser reads which one it
is for the same two things: ``=~`` and ``!~`` compile their value, and whether
the matcher matches the empty string depends on it. A shape's regex compiles
(above) and never matches the empty string, like ``"x"``: ``=~"prod|staging"``
and ``="x"`` both refuse it, ``!~"prod|staging"`` and ``!="x"`` both accept it.
So a shape writes such a matcher with ``=`` or ``!=`` (compiling ``"x"`` as a
regex costs the parser ~5 µs a matcher, the third of a typical dashboard query's
parse, and the shapes of ``=~`` and ``=`` matchers fall together), but only when
the operator follows a name, a quote or a space, where the characters before it
stay the tokens they were (``a!=~"x"`` is ``!=`` then ``~``, an error; ``a!="x"``
would not be).

Every other string stays as written: quoted label and metric names are compared
with other names (``foo{"__name__"="bar"}`` sets the metric name twice,
``on("a") group_left(a)`` names a label twice), function arguments are few. (A
string after ``==``/``!=`` of a comparison is replaced too: a comparison refuses
a string, whatever it holds.) Single-quoted and backtick strings and comments
leave no shape, nor does a quote that does not close on its line. An expression
without a shape, or whose shape fails, is parsed as it is (so the message is
about the expression).
"""

from __future__ import annotations

import functools
import re

_STRING = re.compile(r'"[^"\n]*"')   # a double-quoted string (no escapes on this path)
_OPERATORS = ("=~", "!~", "!=", "=")   # of a label matcher (or a comparison: see _shape)
_NO_SHAPE = re.compile(r"['`#\\]")   # other strings, comments, escapes
# a regex matcher's operator in a shape, and what may come just before it (see the module docstring)
_REGEX_OPERATORS = {"=~": "=", "!~": "!="}
_SPACES = " \t\n\r"
_AFTER_NAME = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"' + _SPACES)
# one alternative of a plain regex: word characters, `.*` and `$`, at least one
# character that must be matched (so the regex never matches the empty string)
_ALTERNATIVE = r"(?:\.\*|\$)*[A-Za-z0-9_.:/ -](?:[A-Za-z0-9_.:/ $-]|\.\*)*"
_PLAIN_REGEX = re.compile(rf"{_ALTERNATIVE}(?:\|{_ALTERNATIVE})*")
# The parser's regex engine refuses a regex whose compiled program is over its size limit.
# `.` (any character) compiles biggest: 10,486 of them are refused, 1,000 are far below.
_LONGEST_REGEX = 1000


def promql_error(expr: str) -> str | None:
    """None when ``expr`` parses as PromQL, else the parser's message."""
    return _checked(expr)[0]


def is_vector_promql(expr: str) -> bool:
    """Whether ``expr`` parses as PromQL whose value is an instant vector (and holds
    no ``#``: a comment would run on past it). Such an expression can be wrapped
    without parsing again: ``sort(e)``, ``topk(5, e)``, ``avg_over_time((e)[1h:1m])``
    parse when ``e`` does and is a vector (what the parser checks of a function's
    argument or a subquery's expression is its type; nothing inside looks out)."""
    return "#" not in expr and _checked(expr)[1] == "vector"


@functools.lru_cache(maxsize=65536)
def _checked(expr: str) -> tuple[str | None, str | None]:
    """(None or the parser's message, the value type when it parses)."""
    if not isinstance(expr, str) or not expr.strip():
        return "empty PromQL expression", None
    # Grafana's interval variables are not PromQL; substitute a duration to parse.
    probe = (expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
             .replace("$__range", "1h"))
    shape = _shape(probe)
    if shape is not None:
        checked = _parse(shape)   # (a shape has the expression's nodes, so its type)
        if checked[0] is None:
            return checked
    return _parse(probe)


def is_valid_promql(expr: str) -> bool:
    return promql_error(expr) is None


def _shape(expr: str) -> str | None:
    """``expr`` with each matcher's non-empty value replaced by ``"x"``, or None when the parser's
    answer could depend on what the strings hold (see the module docstring)."""
    if _NO_SHAPE.search(expr) or not _encodes(expr):
        return None
    pieces, at, strings = [], 0, 0
    for m in _STRING.finditer(expr):
        start, end = m.span()
        strings += 1
        op, op_at = _operator(expr, start)
        if op is None:
            continue
        if op in _REGEX_OPERATORS:
            if end - start - 2 > _LONGEST_REGEX or not _PLAIN_REGEX.fullmatch(expr, start + 1, end - 1):
                return None
            if op_at > 0 and expr[op_at - 1] in _AFTER_NAME:
                pieces += (expr[at:op_at], _REGEX_OPERATORS[op], '"x"')
                at = end
                continue
        if end - start > 2:
            pieces += (expr[at:start], '"x"')
            at = end
    if 2 * strings != expr.count('"'):   # a quote that does not close on its line
        return None
    return "".join(pieces) + expr[at:]


def _operator(expr: str, quote: int) -> tuple[str | None, int]:
    """The operator just before the string starting at ``quote`` (spaces
    between them allowed), if it is one of :data:`_OPERATORS`, and where it starts."""
    last = expr[quote - 1] if quote else ""
    if last == "=":   # (most strings: the operator right before the quote)
        op = "!=" if expr[quote - 2:quote] == "!=" else "="
        return op, quote - len(op)
    if last == "~":
        op = expr[max(0, quote - 2):quote]
        return (op, quote - 2) if op in _REGEX_OPERATORS else (None, quote)
    if last not in _SPACES:
        return None, quote
    head = expr[max(0, quote - 12):quote].rstrip(_SPACES)
    op = next((op for op in _OPERATORS if head.endswith(op)), None)
    return op, quote - (len(expr[max(0, quote - 12):quote]) - len(head)) - len(op or "")


def _encodes(expr: str) -> bool:
    """False for text with lone surrogates, which the parser refuses whatever the shape."""
    if expr.isascii():
        return True
    try:
        expr.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=16384)
def _parse(expr: str) -> tuple[str | None, str | None]:
    try:
        import promql_parser

        node = promql_parser.parse(expr)
    except Exception as exc:  # promql_parser raises ValueError; be broad, it is a validator
        return str(exc) or exc.__class__.__name__, None
    try:
        return None, _value_type(node)
    except RecursionError:   # thousands of operands: parsed, of a type not worked out here
        return None, None


def _value_type(node) -> str:
    """The type of a parsed expression's value, as the parser types it."""
    kind = type(node).__name__
    if kind in ("VectorSelector", "AggregateExpr"):
        return "vector"
    if kind in ("ParenExpr", "UnaryExpr"):
        return _value_type(node.expr)
    if kind == "BinaryExpr":   # a vector on either side makes a vector
        return "vector" if "vector" in (_value_type(node.lhs), _value_type(node.rhs)) else "scalar"
    if kind == "Call":
        return str(node.func.return_type).rpartition(".")[2].lower()   # ValueType.Vector
    return {"MatrixSelector": "matrix", "SubqueryExpr": "matrix", "NumberLiteral": "scalar",
            "StringLiteral": "string"}.get(kind, kind)
