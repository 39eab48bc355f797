"""scatterplot → Grafana XY chart.

Datadog plots one point per group: x from one query, y from another (each
reduced by its aggregator over the time range). Here both are instant
queries joined on their labels, and Grafana's XY chart maps the first value
column to x and the second to y.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, panel
from dd2prom.convert.dashboards.requests import translate_widget
from dd2prom.model import Status


def convert(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    requests = d.get("requests") if isinstance(d.get("requests"), dict) else {}
    # classic: {"x": {q, aggregator}, "y": {...}}; formulas: {"table": {queries, formulas[dimension]}}
    ordered = [requests[k] for k in ("x", "y") if isinstance(requests.get(k), dict)]
    if isinstance(requests.get("table"), dict):
        table = dict(requests["table"])
        table["formulas"] = sorted(table.get("formulas") or [], key=lambda f: str(f.get("dimension") != "x"))
        ordered.append(table)
    rt = translate_widget(wc, "instant", ordered, minimum=2)
    wc.note("Grafana's XY chart takes x and y from the joined value columns; points are not labelled by group.",
            Status.APPROXIMATE)
    if d.get("color_by_groups"):
        wc.note("Colouring points by group is not carried over.", Status.APPROXIMATE)
    options = {"mapping": "auto", "series": []}
    transformations = [{"id": "merge", "options": {}}]
    return panel(wc, "xychart", options, targets=rt.targets(table=True), transformations=transformations)
