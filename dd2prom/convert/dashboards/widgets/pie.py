"""sunburst (pie) and treemap → Grafana pie chart.

Both show each group's share of a total: one instant query per formula, the
aggregator over the time range computed by Prometheus. Grafana's pie has one
ring, so a sunburst grouped by several tags shows the innermost groups only,
and a treemap's rectangles become slices.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, panel
from dd2prom.convert.dashboards.requests import translate_widget
from dd2prom.convert.dashboards.widgets import common
from dd2prom.model import Status


def convert(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    rt = translate_widget(wc, "instant", sort=True)
    series = rt.series
    if wc.type == "treemap":
        wc.note("Grafana has no treemap; a pie chart shows the same shares.", Status.APPROXIMATE)
    elif any(s.translation and len(s.translation.group_by) > 1 for s in series):
        wc.note("Grafana's pie chart has one ring; the sunburst's nested groups are shown as flat slices.",
                Status.APPROXIMATE)
    unit, overrides = common.units(wc, rt)
    legend = d.get("legend") if isinstance(d.get("legend"), dict) else {}
    values = [v for v, hide in (("value", legend.get("hide_value")), ("percent", legend.get("hide_percent")))
              if not hide]
    defaults: dict[str, Any] = {"color": {"mode": "palette-classic"}}
    if unit:
        defaults["unit"] = unit
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "pieType": "donut", "displayLabels": [], "sort": "desc",
        "legend": {"showLegend": legend.get("type") != "none", "placement": "right",
                   "displayMode": "table" if legend.get("type") == "table" else "list", "calcs": [], "values": values},
        "tooltip": {"mode": "single", "sort": "none"},
    }
    return panel(wc, "piechart", options, defaults=defaults, overrides=overrides, targets=rt.targets())
