"""timeseries → Grafana time series panel.

Each request's ``display_type`` (line / bars / area), ``style`` (palette,
line type and width; a formula's own ``style`` palette fixes its colour) and ``on_right_yaxis`` become field properties: the
first series' become the panel defaults, any other series that differ get an
override by query (refId). Markers become threshold lines or areas.
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards import thresholds as th
from dd2prom.convert.dashboards.panel import WidgetContext, obj, panel
from dd2prom.convert.dashboards.requests import Series, translate_widget
from dd2prom.convert.dashboards.widgets import common
from dd2prom.model import Status

LINE_WIDTHS = {"thin": 1, "normal": 2, "thick": 3}
LINE_STYLES = {"dashed": {"fill": "dash", "dash": [10, 10]}, "dotted": {"fill": "dot", "dash": [0, 10]}}


def series_style(s: Series) -> dict[str, Any]:
    """The custom field properties one Datadog request asks for."""
    req = s.request
    style = obj(req.get("style"))
    display = str(req.get("display_type") or "line")
    props: dict[str, Any] = {"drawStyle": "bars" if display == "bars" else "line",
                             "lineWidth": LINE_WIDTHS.get(str(style.get("line_width")), 1),
                             "fillOpacity": {"bars": 100, "area": 60}.get(display, 0),
                             "stacking": {"mode": "normal" if display in ("bars", "area") else "none", "group": "A"}}
    if str(style.get("line_type")) in LINE_STYLES:
        props["lineStyle"] = LINE_STYLES[str(style["line_type"])]
    # always set, so a left-axis series does not inherit "right" from a first series on the right
    props["axisPlacement"] = "right" if req.get("on_right_yaxis") else "auto"
    return props


def convert(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    rt = translate_widget(wc, "range")
    series = rt.series

    unit, overrides = common.units(wc, rt)
    axis_defaults, custom = common.axis(wc, d.get("yaxis"))
    defaults: dict[str, Any] = dict(axis_defaults)
    if unit:
        defaults["unit"] = unit
    base = series_style(series[0])
    custom.update(base, showPoints="never", spanNulls=False)
    palette = common.palette_color(obj(series[0].request.get("style")).get("palette"))
    defaults["color"] = palette or {"mode": "palette-classic"}

    markers = th.from_markers(d.get("markers"))
    for sentence in markers.notes:
        wc.note(sentence, Status.APPROXIMATE if markers.dropped else None)
    if not markers.empty:
        defaults["thresholds"] = markers.field_config()
        custom["thresholdsStyle"] = {"mode": markers.style}
    defaults["custom"] = custom

    right_axis = d.get("right_yaxis")
    for s in series:
        props = [{"id": f"custom.{k}", "value": v} for k, v in series_style(s).items() if base.get(k) != v]
        color = common.formula_color(s.formula.get("style"))
        if color is None and s is not series[0]:
            color = common.palette_color(obj(s.request.get("style")).get("palette"))
            color = color if color != palette else None
        if color:
            props.append({"id": "color", "value": color})
        if s.request.get("on_right_yaxis") and isinstance(right_axis, dict):
            # the right axis' own scale, min, max and label (the defaults are the left axis')
            right_defaults, right_custom = common.axis(wc, right_axis)
            right_custom.setdefault("scaleDistribution", {"type": "linear"})
            props += [{"id": k, "value": v} for k, v in right_defaults.items()]
            props += [{"id": f"custom.{k}", "value": v} for k, v in right_custom.items()]
        if props:
            overrides.append({"matcher": common.ref_matcher(s.ref_id), "properties": props})
    if d.get("events"):
        wc.note("Event overlays are not carried over (Grafana annotations need an event source).",
                Status.APPROXIMATE)

    options = {"legend": common.legend(wc), "tooltip": {"mode": "multi", "sort": "desc"}}
    return panel(wc, "timeseries", options, defaults=defaults, overrides=overrides, targets=rt.targets())
