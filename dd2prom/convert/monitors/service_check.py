"""Service check monitors: the agent's check status counted over the last N runs.

Agent service checks have no Prometheus series of their own. The checks stage
may record, per check name, an expression that is 1 while the check is OK and
0 when it fails (``ctx.shared["service_checks"][name] = {"expr": ..., "group": [...]}``,
e.g. ``up{job="…"}`` of the exporter that replaces the integration); without
one the monitor is ``manual``.
"""

from __future__ import annotations

import re

from dd2prom.convert.monitors.base import Alerting, NotConverted
from dd2prom.model import Status

QUERY_RE = re.compile(r'^\s*"([^"]+)"\.over\((.*?)\)(?:\.exclude\((.*?)\))?(?:\.by\((.*?)\))?\.last\((\d+)\)'
                      r'\.count_by_status\(\)\s*$')
CHECK_INTERVAL = 15  # the agent runs checks every 15 s by default


def convert(spec, ctx) -> Alerting:
    m = QUERY_RE.match(spec.query)
    if not m:
        raise NotConverted(Status.ERROR, f"Service check query not understood: {spec.query!r}")
    check = m.group(1)
    known = (ctx.shared.get("service_checks") or {}).get(check)
    if not known or not known.get("expr"):
        raise NotConverted(Status.MANUAL, f"Service check {check!r} is reported by the Datadog agent; no Prometheus "
                           "series stands for it yet. Alert on the replacing exporter's up{job=…} or probe_success.")
    failures = int(spec.thresholds.critical or 1)
    notes = [f"Service check {check!r} → {known['expr']}; {failures} consecutive failing run(s) "
             f"≈ for: {(failures - 1) * CHECK_INTERVAL}s at the agent's 15s check interval."]
    if (m.group(2) or "").strip('"* ') or m.group(3):
        notes.append(f"The check's scope over({m.group(2)}) is not applied; filter the expression by hand.")
    return Alerting(expr=f"1 - ({known['expr']})", comparator=">", group=list(known.get("group", [])),
                    window_seconds=CHECK_INTERVAL, status=Status.APPROXIMATE, notes=notes, critical=0,
                    for_seconds=(failures - 1) * CHECK_INTERVAL)
