"""heatmap → Grafana heatmap; distribution → Grafana histogram.

Datadog's heatmap buckets, at each time, the values of all series of a
query; Grafana's heatmap does the same when told to calculate buckets from
time series. Datadog's distribution widget shows how one value per group
(the query averaged over the time range) spreads; here that value comes from
an instant query and Grafana's histogram buckets it. Bucket boundaries are
Grafana's choice in both cases.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, panel
from dd2prom.convert.dashboards.requests import translate_widget
from dd2prom.convert.dashboards.widgets import common
from dd2prom.model import Status

BUCKETS_NOTE = "Bucket boundaries are chosen by Grafana, not Datadog."


def heatmap(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    rt = translate_widget(wc, "range")
    wc.note(BUCKETS_NOTE, Status.APPROXIMATE)
    unit, _ = common.units(wc, rt)
    axis_defaults, _custom = common.axis(wc, d.get("yaxis"))
    y_axis: dict[str, Any] = {"axisPlacement": "left"}
    if unit:
        y_axis["unit"] = unit
    y_axis.update({k: v for k, v in axis_defaults.items() if k in ("min", "max")})
    options = {
        "calculate": True,
        "color": {"mode": "scheme", "scheme": "Oranges", "fill": "dark-orange", "scale": "exponential",
                  "exponent": 0.5, "steps": 64, "reverse": False},
        "yAxis": y_axis,
        "cellGap": 1,
        "showValue": "never",
        "tooltip": {"mode": "single", "yHistogram": False, "showColorScale": False},
        "legend": {"show": True},
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
    }
    return panel(wc, "heatmap", options, targets=rt.targets())


def distribution(wc: WidgetContext) -> dict[str, Any]:
    rt = translate_widget(wc, "instant")
    wc.note(BUCKETS_NOTE, Status.APPROXIMATE)
    unit, _ = common.units(wc, rt)
    defaults: dict[str, Any] = {"custom": {"fillOpacity": 80, "lineWidth": 1}}
    if unit:
        defaults["unit"] = unit
    options = {"combine": True,
               "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom", "calcs": []},
               "tooltip": {"mode": "single", "sort": "none"}}
    return panel(wc, "histogram", options, defaults=defaults, targets=rt.targets())
