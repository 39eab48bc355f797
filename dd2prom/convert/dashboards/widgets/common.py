"""Pieces several widget converters share: units, axes, legends, thresholds."""

from __future__ import annotations

import re
from typing import Any

from dd2prom.convert.dashboards import thresholds as th
from dd2prom.convert.dashboards.panel import WidgetContext, strings
from dd2prom.convert.dashboards.requests import RequestTranslator
from dd2prom.convert.dashboards.units import custom_unit, metadata_unit
from dd2prom.model import Status

# Datadog legend columns → Grafana legend reducers.
LEGEND_CALCS = {"avg": "mean", "min": "min", "max": "max", "value": "lastNotNull", "sum": "sum"}
# Datadog palettes → Grafana colour schemes (shades of one colour, or the classic palette).
PALETTES = {"cool": "blue", "warm": "orange", "purple": "purple", "orange": "orange", "gray": "#8e8e8e",
            "grey": "#8e8e8e", "green": "green", "red": "red", "blue": "blue", "yellow": "yellow"}


# A query that reads a metric as it is (no arithmetic, functions or as_rate), so
# the metric's own unit is the value's unit.
PLAIN_QUERY = re.compile(r"^\s*\w+:[\w.]+\s*\{[^}]*\}\s*(by\s*\{[^}]*\})?\s*(\.rollup\([^)]*\))?\s*$")


def ref_matcher(ref_id: str) -> dict[str, Any]:
    return {"id": "byFrameRefID", "options": ref_id}


def units(wc: WidgetContext, rt: RequestTranslator) -> tuple[str | None, list[dict[str, Any]]]:
    """The panel's unit, plus per-series overrides when formulas name different units.

    Order: formula ``number_format``, widget ``custom_unit``, then the metric
    metadata when every series is a plain query of one metric and they agree."""
    per_series = {s.ref_id: s.unit for s in rt.series if s.unit}
    default = custom_unit(wc.definition.get("custom_unit"))
    if default is None and len(per_series) == len(rt.series) and len(set(per_series.values())) == 1:
        default = next(iter(per_series.values()))
    if default is None and not per_series and rt.series and all(
            s.translation and len(s.translation.metrics) == 1 and PLAIN_QUERY.match(s.original) for s in rt.series):
        default = metadata_unit([m for s in rt.series for m in s.translation.metrics],
                                wc.translate_ctx.metric_metadata)
    overrides = [{"matcher": ref_matcher(ref), "properties": [{"id": "unit", "value": unit}]}
                 for ref, unit in per_series.items() if unit != default]
    return default, overrides


def axis(wc: WidgetContext, yaxis: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Datadog ``yaxis`` → (field defaults min/max, custom axis properties)."""
    defaults: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    if not isinstance(yaxis, dict):
        yaxis = {}
    for key in ("min", "max"):
        value = yaxis.get(key)
        if value not in (None, "", "auto"):
            try:
                defaults[key] = float(value)
            except (TypeError, ValueError):
                wc.note(f"Y axis {key} {value!r} is not a number; Grafana scales automatically.", Status.APPROXIMATE)
    scale = str(yaxis.get("scale") or "linear").lower()
    if scale.startswith("log"):
        custom["scaleDistribution"] = {"type": "log", "log": 10}
    elif scale not in ("linear", ""):
        wc.note(f"Y axis scale {scale!r} has no Grafana equivalent; a linear axis is used.", Status.APPROXIMATE)
    # Datadog includes zero by default (not on a log axis, where zero does not
    # exist); soft limits only ever widen the axis.
    if yaxis.get("include_zero", True) not in (False, "false") and "min" not in defaults \
            and "scaleDistribution" not in custom:
        custom["axisSoftMin"] = 0
        if "max" not in defaults:
            custom["axisSoftMax"] = 0
    if yaxis.get("label"):
        custom["axisLabel"] = wc.text(yaxis["label"])
    return defaults, custom


def legend(wc: WidgetContext, default_show: bool = True) -> dict[str, Any]:
    """Datadog legend settings → Grafana VizLegendOptions."""
    d = wc.definition
    show = d.get("show_legend", default_show) is not False
    layout = str(d.get("legend_layout") or "auto")
    columns = [c for c in strings(d.get("legend_columns")) if c in LEGEND_CALCS]
    table = layout == "vertical" or (layout == "auto" and len(columns) > 1)
    return {"showLegend": show, "displayMode": "table" if table else "list", "placement": "bottom",
            "calcs": [LEGEND_CALCS[c] for c in columns] if table else []}


def palette_color(palette: Any) -> dict[str, Any] | None:
    """A Datadog palette → a Grafana colour setting (None: the classic palette)."""
    color = PALETTES.get(str(palette or "").lower())
    return {"mode": "shades", "fixedColor": color} if color else None


def formula_color(style: Any) -> dict[str, Any] | None:
    """A formula's own ``style`` (palette + palette_index: one colour of that
    palette) → a fixed Grafana colour (None: not set, or the classic palette)."""
    color = PALETTES.get(str(style.get("palette") or "").lower()) if isinstance(style, dict) else None
    return {"mode": "fixed", "fixedColor": color} if color else None


def conditional_formats(wc: WidgetContext, formats: Any) -> th.Thresholds:
    t = th.from_conditional_formats(formats)
    for sentence in t.notes:   # a boundary colour is said; a dropped rule also lowers the status
        wc.note(sentence, Status.APPROXIMATE if t.dropped else None)
    return t


def first_formats(rt: RequestTranslator) -> Any:
    """Conditional formats of a single-value widget (request level, else the first formula's)."""
    for s in rt.series:
        formats = s.request.get("conditional_formats") or s.formula.get("conditional_formats")
        if formats:
            return formats
    return None

