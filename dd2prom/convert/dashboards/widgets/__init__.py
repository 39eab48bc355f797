"""Widget converters, one module per widget family, dispatched on the widget's type.

To find where a Datadog widget type is converted, look it up in
:data:`CONVERTERS`. Groups and powerpacks are containers: layout.py turns
them into rows (see group.py). Unknown types fall back to unsupported.py.
"""

from __future__ import annotations

from typing import Any, Callable

from dd2prom.convert.dashboards.panel import WidgetContext, explain_panel
from dd2prom.convert.dashboards.requests import NoQuery
from dd2prom.convert.dashboards.widgets import (change, check_status, geomap, group, heatmap, hostmap, pie,
                                                query_value, scatterplot, table, text, timeseries, toplist,
                                                unsupported)

Converter = Callable[[WidgetContext], dict[str, Any]]

CONVERTERS: dict[str, Converter] = {
    "timeseries": timeseries.convert,
    "query_value": query_value.convert,
    "toplist": toplist.convert,
    "query_table": table.convert,
    "heatmap": heatmap.heatmap,
    "distribution": heatmap.distribution,
    "change": change.convert,
    "sunburst": pie.convert,
    "treemap": pie.convert,
    "scatterplot": scatterplot.convert,
    "hostmap": hostmap.convert,
    "geomap": geomap.convert,
    "note": text.note,
    "free_text": text.free_text,
    "image": text.image,
    "iframe": text.iframe,
    "split_group": group.split_group,
    **{name: unsupported.convert for name in unsupported.REASONS},
    "check_status": check_status.convert,
}


def convert_widget(wc: WidgetContext) -> dict[str, Any]:
    """The Grafana panel for one (non-container) widget; a widget none of whose
    queries translates becomes a text panel saying so."""
    try:
        return CONVERTERS.get(wc.type, unsupported.convert)(wc)
    except NoQuery as exc:
        return explain_panel(wc, str(exc))
