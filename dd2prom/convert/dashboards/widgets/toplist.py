"""toplist → Grafana bar gauge (horizontal bars, largest first).

Each series' value is its aggregator over the time range, computed by
Prometheus in one instant query, limited with ``topk``/``bottomk`` and
ordered with ``sort_desc``/``sort`` as the widget's sort asks.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, panel
from dd2prom.convert.dashboards.requests import translate_widget
from dd2prom.convert.dashboards.widgets import common


def convert(wc: WidgetContext) -> dict[str, Any]:
    rt = translate_widget(wc, "instant", sort=True)
    unit, overrides = common.units(wc, rt)
    formats = common.conditional_formats(wc, common.first_formats(rt))
    color = {"mode": "thresholds"} if not formats.empty else {"mode": "fixed", "fixedColor": "blue"}
    defaults: dict[str, Any] = {"color": color,
                                "thresholds": formats.field_config(), "min": 0}
    if unit:
        defaults["unit"] = unit
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "horizontal", "displayMode": "basic", "valueMode": "color",
        "namePlacement": "left", "showUnfilled": True, "sizing": "auto",
        "minVizHeight": 16, "minVizWidth": 8, "maxVizHeight": 300,
    }
    return panel(wc, "bargauge", options, defaults=defaults, overrides=overrides, targets=rt.targets())
