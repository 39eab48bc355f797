"""geomap → Grafana table of values per country.

Grafana's geomap needs coordinates or a gazetteer lookup per row; Datadog's
map colours countries by a value grouped by country code. The table keeps
the values per country; the map itself is not drawn.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext
from dd2prom.convert.dashboards.widgets import table
from dd2prom.model import Status


def convert(wc: WidgetContext) -> dict[str, Any]:
    wc.note("The world map is shown as a table of values per country.", Status.APPROXIMATE)
    return table.convert(wc)
