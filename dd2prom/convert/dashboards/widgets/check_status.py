"""check_status → Grafana stat of the check's replacement series, when there is one.

Agent service checks have no Prometheus series. When the checks stage knows
an expression that is 1 while a check is OK and 0 when it fails
(``ctx.shared["service_checks"][check] = {"expr", "group"}``, e.g. ``up`` of the
exporter replacing the integration), the widget becomes a stat: the worst
(min) over everything for ``grouping: cluster``, one value per group for
``grouping: check``, 1 shown as OK and 0 as CRITICAL. Otherwise it stays a
text panel (manual).
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import DATASOURCE, WidgetContext, panel, strings
from dd2prom.convert.dashboards.widgets import unsupported
from dd2prom.model import Status
from dd2prom.validate.promql import promql_error

MAPPINGS = [{"type": "value", "options": {"1": {"text": "OK", "color": "green", "index": 0},
                                          "0": {"text": "CRITICAL", "color": "red", "index": 1}}}]


def convert(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    check = str(d.get("check") or "")
    known = (wc.shared.get("service_checks") or {}).get(check)
    if not isinstance(known, dict) or not known.get("expr"):
        return unsupported.convert(wc)
    group = strings(known.get("group"))
    by = f" by ({', '.join(group)})" if d.get("grouping") == "check" and group else ""
    expr = f"min{by}({known['expr']})"
    if promql_error(expr):
        return unsupported.convert(wc)
    wc.note("Datadog's WARNING and UNKNOWN check states are not distinguished: the series is OK (1) or CRITICAL (0).",
            Status.APPROXIMATE)
    if [t for t in strings(d.get("tags")) if t != "*"]:
        wc.note(f"The widget's tag filter {d.get('tags')} is not applied.", Status.APPROXIMATE)
    wc.item.extra["promql"] = [expr]
    wc.item.extra["queries"] = [f"check_status {check}"]
    target = {"refId": "A", "datasource": DATASOURCE, "expr": expr, "editorMode": "code", "range": False,
              "instant": True, "format": "time_series"}
    if by:
        target["legendFormat"] = " ".join("{{%s}}" % g for g in group)
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "background", "graphMode": "none", "textMode": "value_and_name" if by else "value",
               "justifyMode": "center", "orientation": "auto", "wideLayout": True, "showPercentChange": False}
    steps = [{"color": "red", "value": None}, {"color": "green", "value": 1}]
    defaults = {"mappings": MAPPINGS, "color": {"mode": "thresholds"},
                "thresholds": {"mode": "absolute", "steps": steps}}
    return panel(wc, "stat", options, defaults=defaults, targets=[target])
