"""Composite monitors: boolean logic over other monitors' alerts.

Datadog orders the states of a sub-monitor Alert > Warn > No Data > OK (the
first three are "alert-worthy"): ``a && b`` is the least severe of the two when
both are alert-worthy (else OK), ``a || b`` the most severe, ``!a`` is OK when
``a`` is alert-worthy, No Data when it is No Data, else Alert. Each referenced
monitor becomes its state as a number read from its firing ``ALERTS``
(``dd_state`` alert → 3, warn → 2, no_data → 1, none → 0); ``&&`` is the
minimum (``clamp_max``), ``||`` the maximum (``clamp_min``), ``!`` is
``clamp_min(3 - 2x, 0)`` (0 → 3, 1 → 1, 2 and 3 → 0). The composite alerts at 3 and warns at 2.
"""

from __future__ import annotations

import re

from dd2prom.convert.monitors.base import Alerting, NotConverted
from dd2prom.model import Status

SEVERITY = {"alert": 3, "warn": 2, "no_data": 1}   # OK = 0
TOKEN_RE = re.compile(r"\s*(\d+|&&|\|\||!|\(|\))")


def references(query: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\d+", query)))


def _tokens(query: str) -> list[str]:
    pos, out = 0, []
    query = query.strip()
    while pos < len(query):
        m = TOKEN_RE.match(query, pos)
        if not m:
            raise NotConverted(Status.ERROR, f"Composite query not understood at {query[pos:pos + 20]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


def to_promql(query: str) -> str:
    toks = _tokens(query)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take():
        nonlocal pos
        pos += 1
        return toks[pos - 1] if pos <= len(toks) else None

    def primary() -> str:
        t = take()
        if t == "!":
            return f"clamp_min(3 - 2 * {primary()}, 0)"   # 0 → 3, 1 → 1, 2 and 3 → 0
        if t == "(":
            inner = disjunction()
            if take() != ")":
                raise NotConverted(Status.ERROR, "Composite query: unbalanced parentheses.")
            return inner
        if t and t.isdigit():
            states = " or ".join(f'{n} * max(ALERTS{{dd_monitor_id="{t}", dd_state="{state}", alertstate="firing"}})'
                                 for state, n in SEVERITY.items())
            return f"({states} or vector(0))"
        raise NotConverted(Status.ERROR, f"Composite query: unexpected {t!r}.")

    def conjunction() -> str:
        left = primary()
        while peek() == "&&":
            take()
            left = f"clamp_max({left}, scalar({primary()}))"
        return left

    def disjunction() -> str:
        left = conjunction()
        while peek() == "||":
            take()
            left = f"clamp_min({left}, scalar({conjunction()}))"
        return left

    expr = disjunction()
    if pos != len(toks):
        raise NotConverted(Status.ERROR, f"Composite query: unexpected {toks[pos]!r}.")
    return expr


def convert(spec, ctx) -> Alerting:
    alerts = ctx.shared.get("monitor_alerts", {})
    refs = references(spec.query)
    missing = [r for r in refs if r not in alerts]
    if missing:
        raise NotConverted(Status.MANUAL, "Composite of monitors without a converted alert: "
                           + ", ".join(missing) + "; rebuild it when they are converted.")
    notes = []
    status = Status.worst(*(alerts[r]["status"] for r in refs))
    if any(alerts[r]["group"] for r in refs):
        notes.append("Multi-alert sub-monitors are combined over the whole monitor, not per common group.")
        status = Status.worst(status, Status.APPROXIMATE)
    notes.append("Sub-monitor states are read from their firing alerts (Alert > Warn > No Data > OK) and "
                 "combined as Datadog does; a composite result of No Data does not notify.")
    return Alerting(expr=to_promql(spec.query), comparator=">=", group=[], status=status, notes=notes,
                    critical=SEVERITY["alert"], warning=SEVERITY["warn"], no_data=False,
                    testable=False)   # the value always exists: nothing to inject
