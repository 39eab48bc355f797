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
from dd2prom.model import Status

QUERY_RE = re.compile(r'^\s*"([^"]+)"\.over\((.*?)\)(?:\.exclude\((.*?)\))?(?:\.by\((.*?)\))?\.last\((\d+)\)'
                      r'\.count_by_status\(\)\s*$')
CHECK_INTERVAL = 15  # the agent runs checks every 15 s by default


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
    failures = int(spec.thresholds.critical or 1)
    notes = [f"Service check {check!r} → {known['expr']}; {failures} consecutive failing run(s) "
             f"≈ for: {(failures - 1) * CHECK_INTERVAL}s at the agent's 15s check interval."]
    if (m.group(2) or "").strip('"* ') or m.group(3):
        notes.append(f"The check's scope over({m.group(2)}) is not applied (its tags need not be labels of "
                     f"{known['expr']}): the alert covers every target; add matchers to narrow it.")
    group = list(known.get("group", []))
    notes.append(f"Grouped by {', '.join(group) or 'nothing'} (Datadog: by({m.group(4) or ''})).")
    return Alerting(expr=f"1 - min by ({', '.join(group)}) ({known['expr']})", comparator=">", group=group,
                    window_seconds=CHECK_INTERVAL, status=Status.APPROXIMATE, notes=notes, critical=0,
                    for_seconds=(failures - 1) * CHECK_INTERVAL)
