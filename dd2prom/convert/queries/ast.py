"""Typed AST of Datadog queries. Every node keeps ``pos``, the offset of its
first character in the source, so errors and notes can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


# ----------------------------------------------------------------------------- scopes
@dataclass(frozen=True)
class Tag:
    """``key:value`` (value may hold ``*`` wildcards or be a ``$var``), a bare
    tag (``value is None``), ``*`` (key ``*``) or a lone template variable
    (``key`` None, ``var`` set)."""

    key: str | None
    value: str | None
    pos: int = 0
    var: str | None = None      # template variable name, without "$"


@dataclass(frozen=True)
class TagIn:
    key: str
    values: tuple[str, ...]
    pos: int = 0


@dataclass(frozen=True)
class ScopeNot:
    item: "Scope"
    pos: int = 0


@dataclass(frozen=True)
class ScopeAnd:
    items: tuple["Scope", ...]
    pos: int = 0


@dataclass(frozen=True)
class ScopeOr:
    items: tuple["Scope", ...]
    pos: int = 0


Scope = Union[Tag, TagIn, ScopeNot, ScopeAnd, ScopeOr]


# ----------------------------------------------------------------------------- expressions
@dataclass
class Modifier:
    """``.rollup(avg, 60)``, ``.as_count()``, ``.fill(zero)``, ``.weighted()``."""

    name: str
    args: list["Arg"]
    pos: int = 0


@dataclass
class MetricQuery:
    aggregator: str | None           # avg|sum|min|max|count|p95|... ; None = not written
    metric: str
    scope: Scope | None              # None = {*}
    group_by: list[str]
    modifiers: list[Modifier]
    pos: int = 0
    scope_text: str = "*"


@dataclass
class Number:
    value: float
    text: str
    pos: int = 0


@dataclass
class String:
    value: str
    pos: int = 0


@dataclass
class Name:
    """A bare identifier: a formula's reference to a named query (``query1``)
    or a word argument such as ``mean``, ``desc``, ``zero``."""

    name: str
    pos: int = 0


@dataclass
class Keyword:
    """``model='reactive'`` inside a function's arguments."""

    name: str
    value: "Arg"
    pos: int = 0


@dataclass
class Call:
    name: str
    args: list["Arg"]
    pos: int = 0


@dataclass
class BinOp:
    op: str                          # + - * /
    left: "Expr"
    right: "Expr"
    pos: int = 0


@dataclass
class Neg:
    operand: "Expr"
    pos: int = 0


@dataclass
class ServiceCheck:
    """``"check".over("tag").by("host").last(3).count_by_status()``."""

    check: str
    calls: list[Modifier]
    pos: int = 0


Expr = Union[MetricQuery, Number, Name, Call, BinOp, Neg, ServiceCheck]
Arg = Union[Expr, String, Keyword]


@dataclass
class Monitor:
    """``time_agg(last_5m):expr > 90``; for ``change``/``pct_change`` the inner
    time aggregation and the comparison window are kept too."""

    time_agg: str                    # avg|sum|min|max|last|median|change|pct_change|percentile
    window: str                      # "last_5m"
    window_seconds: int
    expr: Expr
    comparator: str | None
    threshold: float | None
    inner_agg: str | None = None     # change(avg(last_5m), last_1h): "avg"
    shift: str | None = None         #   ... "last_1h"
    shift_seconds: int = 0
    percentile: float | None = None
    pos: int = 0
    extra: dict = field(default_factory=dict)
