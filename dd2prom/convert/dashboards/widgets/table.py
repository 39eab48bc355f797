"""query_table → Grafana table.

One instant query per formula (``format: table``), joined on their labels by
Grafana's *merge* transformation; value columns are renamed to the formula
aliases. Per-column conditional formats colour the cells, ``cell_display_mode:
bar`` becomes a gauge cell, the request's sort becomes the table's sort.
Also used for widgets whose closest honest form is a table of values per
group (geomap, hostmap).
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, explain_panel, panel
from dd2prom.convert.dashboards.requests import RequestTranslator, Series
from dd2prom.convert.dashboards.widgets import common


def column(s: Series, single: bool) -> str:
    """The name Grafana gives a table query's value column."""
    return "Value" if single else f"Value #{s.ref_id}"


def convert(wc: WidgetContext, requests: Any = None) -> dict[str, Any]:
    d = wc.definition
    rt = RequestTranslator(wc, "instant")
    series = rt.run(d.get("requests") if requests is None else requests)
    if not series:
        return explain_panel(wc, "No query of this widget could be translated to PromQL.")
    single = len(series) == 1
    unit, unit_overrides = common.units(wc, rt)
    defaults: dict[str, Any] = {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}}
    if unit:
        defaults["unit"] = unit
    names = {column(s, single): wc.text(s.label) for s in series}
    overrides = []
    for s in series:
        props: list[dict[str, Any]] = []
        formats = s.formula.get("conditional_formats") or s.request.get("conditional_formats")
        if formats:
            t = common.conditional_formats(wc, formats)
            mode = "color-background" if t.color_mode == "background" else "color-text"
            props += [{"id": "thresholds", "value": t.field_config()},
                      {"id": "custom.cellOptions", "value": {"type": mode}}]
        if s.formula.get("cell_display_mode") == "bar":
            props.append({"id": "custom.cellOptions", "value": {"type": "gauge", "mode": "basic"}})
        for o in unit_overrides:
            if o["matcher"]["options"] == s.ref_id:
                props += o["properties"]
        if props:
            overrides.append({"matcher": {"id": "byName", "options": names[column(s, single)]}, "properties": props})
    transformations = [{"id": "merge", "options": {}},
                       {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": names}}]
    options: dict[str, Any] = {"showHeader": True, "cellHeight": "sm"}
    sort_by = _sort(series, names, single)
    if sort_by:
        options["sortBy"] = [sort_by]
    return panel(wc, "table", options, defaults=defaults, overrides=overrides,
                 targets=rt.targets(table=True), transformations=transformations)


def _sort(series: list[Series], names: dict[str, str], single: bool) -> dict[str, Any] | None:
    sort = series[0].request.get("sort") if series else None
    order_by = sort.get("order_by") if isinstance(sort, dict) else None
    if not order_by or not isinstance(order_by[0], dict) or order_by[0].get("type") != "formula":
        order = series[0].request.get("order") if series else None
        if order in ("asc", "desc"):
            return {"displayName": names[column(series[0], single)], "desc": order == "desc"}
        return None
    index = order_by[0].get("index", 0)
    if not isinstance(index, int) or index >= len(series):
        return None
    return {"displayName": names[column(series[index], single)], "desc": order_by[0].get("order") != "asc"}
