"""query_table → Grafana table.

One instant query per formula (``format: table``), joined on their labels by
Grafana's *merge* transformation; value columns are renamed to the formula
aliases. Per-column conditional formats colour the cells, ``cell_display_mode:
bar`` becomes a gauge cell, the request's sort becomes the table's sort,
``text_formats`` on group-by columns become regex value mappings.
Also used for widgets whose closest honest form is a table of values per
group (geomap, hostmap).
"""

from __future__ import annotations

import re
from typing import Any

from dd2prom.convert.dashboards import thresholds as th
from dd2prom.convert.dashboards.panel import WidgetContext, dicts, obj, panel
from dd2prom.convert.dashboards.requests import Series, translate_widget
from dd2prom.convert.dashboards.widgets import common
from dd2prom.model import Status


# Datadog text format matches → regex over the whole cell text.
TEXT_MATCHES = {"is": "^{}$", "is_not": "^(?!{}$).*$", "contains": ".*{}.*", "does_not_contain": "^(?!.*{}).*$",
                "starts_with": "^{}.*", "ends_with": ".*{}$"}


def text_formats(wc: WidgetContext, s: Series) -> list[dict[str, Any]]:
    """``text_formats`` (one rule list per group-by column: match → colour or
    replacement text) → regex value mappings on that label's column."""
    out = []
    labels = s.translation.group_by if s.translation else []
    formats = s.request.get("text_formats")
    for i, rules in enumerate(formats if isinstance(formats, list) else []):
        if not rules:
            continue
        if i >= len(labels):
            wc.note("Text formats of a column that is not a group-by label are not carried over.", Status.APPROXIMATE)
            continue
        mappings = []
        for rule in rules if isinstance(rules, list) else []:
            match = obj(obj(rule).get("match"))
            pattern = TEXT_MATCHES.get(str(match.get("type")))
            if pattern is None:
                wc.note(f"Text format {rule!r} could not be read; it was not carried over.", Status.APPROXIMATE)
                continue
            result: dict[str, Any] = {"color": th.palette_color(rule.get("palette"), rule.get("custom_bg_color"),
                                                                 rule.get("custom_fg_color"))}
            replace = rule.get("replace")
            if isinstance(replace, dict) and replace.get("with") is not None:
                if replace.get("type", "all") != "all":
                    wc.note("Replacing part of a cell's text is not possible in Grafana; the whole text is replaced.",
                            Status.APPROXIMATE)
                result["text"] = str(replace["with"])
            mappings.append({"type": "regex", "options": {
                "pattern": pattern.format(re.escape(str(match.get("value", "")))), "result": result}})
        if mappings:
            out.append({"matcher": {"id": "byName", "options": labels[i]}, "properties": [
                {"id": "mappings", "value": mappings},
                {"id": "custom.cellOptions", "value": {"type": "color-background"}}]})
    return out


def column(s: Series, single: bool) -> str:
    """The name Grafana gives a table query's value column."""
    return "Value" if single else f"Value #{s.ref_id}"


def convert(wc: WidgetContext, requests: Any = None) -> dict[str, Any]:
    rt = translate_widget(wc, "instant", requests)
    series = rt.series
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
    overrides += text_formats(wc, series[0])
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
    order_by = dicts(sort.get("order_by")) if isinstance(sort, dict) else []
    if not order_by or order_by[0].get("type") != "formula":
        order = series[0].request.get("order") if series else None
        if order in ("asc", "desc"):
            return {"displayName": names[column(series[0], single)], "desc": order == "desc"}
        return None
    index = order_by[0].get("index", 0)
    if not isinstance(index, int) or index >= len(series):
        return None
    return {"displayName": names[column(series[index], single)], "desc": order_by[0].get("order") != "asc"}
