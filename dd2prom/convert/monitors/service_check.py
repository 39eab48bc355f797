"""Service check monitors: the agent's check status counted over the last N runs.

Agent service checks have no Prometheus series of their own; the series that
stands for one is 1 while the check is OK and 0 when it fails. Known ones are
in :data:`EQUIVALENTS` (kube-state-metrics node conditions, the exporters'
``*_up`` connection gauges, blackbox ``probe_success``); the checks stage may
add or override entries (``ctx.shared["service_checks"][name] = {"expr", "group"}``).
Without one the monitor is ``manual``.
"""

from __future__ import annotations

import re

from dd2prom.convert.monitors.base import Alerting, NotConverted
from dd2prom.convert.monitors.message import regex_escape
from dd2prom.convert.monitors.rules import quote
from dd2prom.convert.monitors.spec import label_name
from dd2prom.model import Status
from dd2prom.validate.promql import promql_error

QUERY_RE = re.compile(r'^\s*"([^"]+)"\.over\((.*?)\)(?:\.exclude\((.*?)\))?(?:\.by\((.*?)\))?\.last\((\d+)\)'
                      r'\.count_by_status\(\)\s*$')
CHECK_INTERVAL = 15  # the agent runs checks every 15 s by default
NO_DATA_DEFAULT = 24 * 3600   # Datadog's no_data_timeframe default for service checks
PORT_SUFFIX = "(:[0-9]+)?"    # Datadog's host is the node name; instance may carry the port


def _node_condition(condition: str, healthy: str) -> dict:
    return {"expr": f'kube_node_status_condition{{condition="{condition}", status="{healthy}"}}', "group": ["node"]}


EQUIVALENTS: dict[str, dict] = {
    "kubernetes_state.node.ready": _node_condition("Ready", "true"),
    "kubernetes_state.node.memory_pressure": _node_condition("MemoryPressure", "false"),
    "kubernetes_state.node.disk_pressure": _node_condition("DiskPressure", "false"),
    "kubernetes_state.node.network_unavailable": _node_condition("NetworkUnavailable", "false"),
    "redis.can_connect": {"expr": "redis_up", "group": ["instance"]},            # redis_exporter
    "mysql.can_connect": {"expr": "mysql_up", "group": ["instance"]},            # mysqld_exporter
    "postgres.can_connect": {"expr": "pg_up", "group": ["instance"]},            # postgres_exporter
    "mongodb.can_connect": {"expr": "mongodb_up", "group": ["instance"]},        # mongodb_exporter
    "http.can_connect": {"expr": "probe_success", "group": ["instance"]},        # blackbox http probe
    "tcp.can_connect": {"expr": "probe_success", "group": ["instance"]},         # blackbox tcp probe
    "datadog.agent.up": {"expr": "up", "group": ["instance"]},
}


def convert(spec, ctx) -> Alerting:
    m = QUERY_RE.match(spec.query)
    if not m:
        raise NotConverted(Status.ERROR, f"Service check query not understood: {spec.query!r}")
    check = m.group(1)
    known = (ctx.shared.get("service_checks") or {}).get(check) or EQUIVALENTS.get(check)
    if not known or not known.get("expr"):
        raise NotConverted(Status.MANUAL, f"Service check {check!r} is reported by the Datadog agent; no Prometheus "
                           "series stands for it yet. Alert on the replacing exporter's up{job=…} or probe_success.")
    th = spec.thresholds
    failures = int(th.critical or 1)
    notes = [f"Service check {check!r} → {known['expr']}; {failures} consecutive failing run(s) "
             f"≈ for: {(failures - 1) * CHECK_INTERVAL}s at the agent's 15s check interval."]
    if th.warning is not None:
        notes.append(f"The warning threshold ({th.warning:g} WARNING run(s)) is not converted: {known['expr']} "
                     "is up or down, it has no WARNING status.")
    if th.ok is not None and th.ok > 1:
        notes.append(f"Datadog recovers after {th.ok:g} consecutive OK runs; the alert resolves at the first "
                     "OK evaluation.")
    group = list(known.get("group", []))
    expr, scope_notes = _scoped(known["expr"], check, group, m.group(2), m.group(3),
                                ctx.translate_context("monitor").mappings)
    notes += scope_notes
    notes.append(f"Grouped by {', '.join(group) or 'nothing'} (Datadog: by({m.group(4) or ''})).")
    return Alerting(expr=f"1 - min by ({', '.join(group)}) ({expr})", comparator=">", group=group,
                    window_seconds=CHECK_INTERVAL, status=Status.APPROXIMATE, notes=notes, critical=0,
                    for_seconds=(failures - 1) * CHECK_INTERVAL, no_data_default=NO_DATA_DEFAULT)


def _tags(args: str | None) -> list[str]:
    return [t for t in re.findall(r'"([^"]*)"', args or "") if t.strip() not in ("", "*")]


def _scoped(expr: str, check: str, group: list[str], over: str | None, exclude: str | None,
            mappings) -> tuple[str, list[str]]:
    """``expr`` with the ``over()``/``exclude()`` tags that name one of its group
    labels as matchers on every selector; the rest is noted (the alert then
    covers more targets than Datadog's, never fewer)."""
    matchers, left = [], []
    for tags, negate in ((_tags(over), False), (_tags(exclude), True)):
        for tag in tags:
            key, _, value = tag.partition(":")
            label = label_name(key, mappings, check)
            # the check's own `instance` tag names the check instance, not a scrape target
            if not value or "*" in value or key == "instance" or label not in group:
                left.append(tag)
                continue
            if label == "instance" and key == "host":
                matchers.append(f'{label}{"!~" if negate else "=~"}"{quote(regex_escape(value) + PORT_SUFFIX)}"')
            else:
                matchers.append(f'{label}{"!=" if negate else "="}"{quote(value)}"')
    notes = []
    if matchers:
        scoped = _add_matchers(expr, matchers)
        if scoped is None:
            left = _tags(over) + _tags(exclude)
        else:
            expr = scoped
            notes.append(f"Scope applied as {', '.join(matchers)} (tag values taken as label values).")
    if left:
        notes.append(f"The check's scope {', '.join(left)} is not applied (those tags are not labels of "
                     f"{expr}): the alert covers every target; add matchers to narrow it.")
    return expr, notes


def _add_matchers(expr: str, matchers: list[str]) -> str | None:
    """``matchers`` added to every selector of ``expr``; None when the result is not valid PromQL."""
    import promql_parser

    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)
            return
        for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)
        for child in getattr(node, "args", None) or []:
            walk(child)

    try:
        walk(promql_parser.parse(expr))
    except ValueError:      # what promql_parser raises for text it cannot parse
        return None
    extra = ", ".join(matchers)

    def add(mt: re.Match) -> str:
        if mt.group(1) is None:          # a string literal: left alone
            return mt.group(0)
        inner = (mt.group(2) or "")[1:-1].strip()
        return f"{mt.group(1)}{{{inner + ', ' if inner else ''}{extra}}}"

    alternatives = "|".join(re.escape(n) for n in sorted(filter(None, names), key=len, reverse=True))
    if not alternatives:
        return None
    pattern = rf'"(?:[^"\\]|\\.)*"|(?<![\w:])({alternatives})(?![\w:(])(\{{(?:"(?:[^"\\]|\\.)*"|[^}}"])*\}})?'
    out = re.sub(pattern, add, expr)
    return None if promql_error(out) else out
