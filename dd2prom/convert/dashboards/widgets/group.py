"""group and powerpack → Grafana rows; split_group → one panel.

A group (or a powerpack, a reusable group) becomes a row holding its widgets,
collapsed if the group was. Grafana rows do not nest and span the full width:
layout.py stacks side-by-side groups and flattens groups inside groups.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, dicts, obj
from dd2prom.model import Status

CONTAINERS = ("group", "powerpack")


def children(definition: dict[str, Any]) -> list[dict[str, Any]]:
    widgets = definition.get("widgets")
    return [w for w in widgets if isinstance(w, dict)] if isinstance(widgets, list) else []


def row(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    title = wc.text(d.get("title"))
    if wc.type == "powerpack" and d.get("template_variables"):
        wc.note("The powerpack's own template variable values are not applied; its widgets use the dashboard's.",
                Status.APPROXIMATE)
    return {"type": "row", "title": title, "collapsed": bool(d.get("collapsed", False)), "panels": []}


def split_group(wc: WidgetContext) -> dict[str, Any]:
    """One graph per tag value in Datadog; one panel with every series here."""
    from dd2prom.convert.dashboards.widgets import convert_widget

    d = wc.definition
    source = d.get("source_widget_definition") if isinstance(d.get("source_widget_definition"), dict) else {}
    tags = [str(s.get("one_graph_per") or s.get("tag_key"))
            for s in dicts(obj(d.get("split_config")).get("split_dimensions"))]
    wc.note(f"Datadog draws one graph per value of {', '.join(tags) or 'a tag'}; here one panel shows them all "
            "(Grafana's panel repeat over a variable can split it again).", Status.APPROXIMATE)
    inner = dataclasses.replace(wc, widget={"id": wc.widget.get("id"), "definition": source})
    p = convert_widget(inner)
    p["title"] = p.get("title") or wc.text(d.get("title"))
    return p
