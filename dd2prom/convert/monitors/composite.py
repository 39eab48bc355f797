"""Composite monitors: boolean logic over other monitors' alerts.

Each referenced monitor becomes ``(max(ALERTS{dd_monitor_id="…", severity="critical",
alertstate="firing"}) or on() vector(0))`` (1 while it alerts); ``&&`` is a product,
``||`` a capped sum, ``!`` is ``1 - x``. The composite alerts while the result is 1.
"""

from __future__ import annotations

import re

from dd2prom.convert.monitors.base import Alerting, NotConverted
from dd2prom.model import Status

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
            return f"(1 - {primary()})"
        if t == "(":
            inner = disjunction()
            if take() != ")":
                raise NotConverted(Status.ERROR, "Composite query: unbalanced parentheses.")
            return inner
        if t and t.isdigit():
            return (f'(max(ALERTS{{dd_monitor_id="{t}", severity="critical", alertstate="firing"}}) '
                    f"or on() vector(0))")
        raise NotConverted(Status.ERROR, f"Composite query: unexpected {t!r}.")

    def conjunction() -> str:
        left = primary()
        while peek() == "&&":
            take()
            left = f"({left} * {primary()})"
        return left

    def disjunction() -> str:
        left = conjunction()
        while peek() == "||":
            take()
            left = f"clamp_max({left} + {conjunction()}, 1)"
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
    notes.append("Sub-monitors count as true while their critical alert fires (a warning is false).")
    return Alerting(expr=to_promql(spec.query), comparator=">", group=[], status=status, notes=notes,
                    critical=0, no_data=False, testable=False)   # the value always exists: nothing to inject
