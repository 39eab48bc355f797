"""change → Grafana table of the change of each group over a period.

Datadog compares the value over the shown time range with the value over the
same range one hour / day / week / month before, as an absolute difference or
a relative one (%). Both values are computed by Prometheus: the aggregator
over ``[$__range]`` now and ``offset`` by the compared period.
"""

from __future__ import annotations

import re
from typing import Any

from dd2prom.convert.dashboards.panel import DATASOURCE, WidgetContext, explain_panel, panel
from dd2prom.convert.dashboards.requests import OVER_TIME, Series, translate_widget
from dd2prom.convert.dashboards.widgets import common
from dd2prom.model import Status
from dd2prom.validate.promql import is_vector_promql, promql_error

OFFSETS = {"hour_before": "1h", "day_before": "1d", "week_before": "1w", "month_before": "30d"}
TIMESHIFT = re.compile(r"^\s*(hour_before|day_before|week_before|month_before)\(\s*\w+\s*\)\s*$")


def _without_timeshift(request: Any) -> tuple[Any, str | None]:
    """Formulas-and-functions change widgets carry the comparison as a formula
    (``week_before(query1)`` next to ``query1``): drop it, keep its period."""
    if not isinstance(request, dict) or not isinstance(request.get("formulas"), list):
        return request, None
    kept, period = [], None
    for f in request["formulas"]:
        m = TIMESHIFT.match(str(f.get("formula", ""))) if isinstance(f, dict) else None
        if m:
            period = period or m.group(1)
        else:
            kept.append(f)
    return dict(request, formulas=kept), period


def _change_expr(s: Series, offset: str, relative: bool) -> tuple[str, str]:
    fn = OVER_TIME.get(s.aggregator) or "last_over_time"
    now = f"{fn}(({s.base})[$__range:$__interval])"
    before = f"{fn}(({s.base})[$__range:$__interval] offset {offset})"
    change = f"({now}) - ({before})"
    return now, f"({change}) / ({before}) * 100" if relative else change


def convert(wc: WidgetContext) -> dict[str, Any]:
    requests = wc.definition.get("requests")
    requests = requests if isinstance(requests, list) else []
    split = [_without_timeshift(r) for r in requests]
    rt = translate_widget(wc, "instant", [r for r, _ in split])
    series = rt.series
    req = series[0].request
    compare = next((p for _, p in split if p), None) or str(req.get("compare_to") or "day_before")
    offset = OFFSETS.get(compare)
    if offset is None:
        wc.note(f"Comparison period {compare!r} is unknown; one day before is used.", Status.APPROXIMATE)
        offset = "1d"
    if compare == "month_before":
        wc.note("One month before is taken as 30 days before.", Status.APPROXIMATE)
    relative = req.get("change_type") == "relative"
    unit, _ = common.units(wc, rt)
    targets, rename, originals = [], {}, []
    for s in series:
        now, change = _change_expr(s, offset, relative)
        # the change only combines `now` with itself offset, so it parses when `now` does, and
        # `now` wraps the query in a function of a vector (see is_vector_promql): parsing its
        # three copies of the query again was most of this widget's time
        error = None if is_vector_promql(s.base) else promql_error(now) and promql_error(change)
        if error:
            return explain_panel(wc, f"The change of {s.original} could not be expressed in PromQL: {error}")
        originals.append(s.original)
        targets.append({"refId": f"{s.ref_id}_change", "datasource": DATASOURCE, "expr": change, "editorMode": "code",
                        "range": False, "instant": True, "format": "table"})
        rename[f"Value #{s.ref_id}_change"] = f"{wc.text(s.label)} change"
        if req.get("show_present"):
            targets.append({"refId": f"{s.ref_id}_now", "datasource": DATASOURCE, "expr": now, "editorMode": "code",
                            "range": False, "instant": True, "format": "table"})
            rename[f"Value #{s.ref_id}_now"] = wc.text(s.label)
            originals.append(s.original)
    wc.item.extra["promql"] = [t["expr"] for t in targets]
    wc.item.extra["queries"] = originals
    good_up = req.get("increase_good", True)
    change_color = {"matcher": {"id": "byRegexp", "options": ".* change$"}, "properties": [
        {"id": "thresholds", "value": {"mode": "absolute", "steps": [
            {"color": "red" if good_up else "green", "value": None},
            {"color": "green" if good_up else "red", "value": 0}]}},
        {"id": "custom.cellOptions", "value": {"type": "color-text"}}]}
    if relative:
        change_color["properties"].append({"id": "unit", "value": "percent"})
    defaults: dict[str, Any] = {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}}
    if unit:
        defaults["unit"] = unit
    transformations = [{"id": "merge", "options": {}},
                       {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": rename}}]
    options = {"showHeader": True, "cellHeight": "sm",
               "sortBy": [{"displayName": next(iter(rename.values())), "desc": req.get("order_dir") != "asc"}]}
    return panel(wc, "table", options, defaults=defaults, overrides=[change_color], targets=targets,
                 transformations=transformations)
