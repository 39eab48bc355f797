"""hostmap → Grafana table of hosts (fill and size metrics per host).

Grafana has no host map; the honest equivalent is one row per host with the
fill (and size) values, coloured like the map would be.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, strings
from dd2prom.convert.dashboards.widgets import table
from dd2prom.model import Status


def convert(wc: WidgetContext) -> dict[str, Any]:
    requests = wc.definition.get("requests") if isinstance(wc.definition.get("requests"), dict) else {}
    named = [dict(req, alias=req.get("alias") or role) for role, req in requests.items() if isinstance(req, dict)]
    wc.note("Grafana has no host map; the hosts are listed in a table with the map's metrics.", Status.APPROXIMATE)
    d = wc.definition
    if [s for s in strings(d.get("scope")) if s != "*"]:
        wc.note(f"The host map's scope {d['scope']} is not applied to the table's queries.", Status.APPROXIMATE)
    if d.get("group"):
        wc.note(f"Hosts are not grouped by {d['group']} (the table has one row per host).", Status.APPROXIMATE)
    return table.convert(wc, named)
