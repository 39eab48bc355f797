"""query_value → Grafana stat panel.

The value is the request's aggregator (avg, sum, min, max, last) over the
widget's time range: a range query reduced by Grafana with the matching
reducer, or, when a formula combines several queries, an instant query that
reduces each query over the range in PromQL before the formula (as Datadog
does), shown as is. Conditional formats become threshold colours (background for
``white_on_*`` palettes, text colour otherwise); ``timeseries_background``
becomes the stat's sparkline.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, panel
from dd2prom.convert.dashboards.requests import combines_queries, translate_widget
from dd2prom.convert.dashboards.widgets import common
from dd2prom.model import Status


def convert(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    rt = translate_widget(wc, "instant" if combines_queries(d.get("requests")) else "reduce")
    sparkline = bool(d.get("timeseries_background")) and rt.shape == "reduce"
    if d.get("timeseries_background") and not sparkline:
        wc.note("The background graph is not shown: the value is one instant query that reduces each "
                "query over the range before the formula.", Status.APPROXIMATE)
    unit, overrides = common.units(wc, rt)
    defaults: dict[str, Any] = {"color": {"mode": "thresholds"}}
    if unit:
        defaults["unit"] = unit
    elif d.get("autoscale", True) is not False:
        defaults["unit"] = "short"       # Datadog's autoscale: 1.2M rather than 1234567
    if type(d.get("precision")) is int and d["precision"] >= 0:   # not a boolean
        defaults["decimals"] = d["precision"]
    formats = common.conditional_formats(wc, common.first_formats(rt))
    defaults["thresholds"] = formats.field_config()
    options = {
        "reduceOptions": {"calcs": rt.calcs(), "fields": "", "values": False},
        "colorMode": formats.color_mode or "none",
        "graphMode": "area" if sparkline else "none",
        "textMode": "value", "justifyMode": "center", "orientation": "auto", "wideLayout": True,
        "showPercentChange": False,
    }
    return panel(wc, "stat", options, defaults=defaults, overrides=overrides, targets=rt.targets())
