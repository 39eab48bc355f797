"""What a Datadog user checks side by side with the Grafana panel (real transpiler)."""

from __future__ import annotations

from typing import Any

import pytest

from dd2prom.convert.dashboards.panel import WidgetContext
from dd2prom.convert.dashboards.widgets import convert_widget
from dd2prom.convert.queries.types import TranslateContext
from dd2prom.model import CoverageItem
from dd2prom.validate.promql import promql_error


def convert(definition: dict[str, Any]) -> tuple[CoverageItem, dict[str, Any]]:
    item = CoverageItem("widget", "d/1")
    wc = WidgetContext(widget={"id": 1, "definition": definition}, item=item,
                       translate_ctx=TranslateContext(target="dashboard"))
    p = convert_widget(wc)
    for t in p.get("targets", []):
        assert promql_error(t["expr"]) is None, t["expr"]
    return item, p


def overrides(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["matcher"]["options"]: {pr["id"]: pr["value"] for pr in o["properties"]}
            for o in p["fieldConfig"]["overrides"]}


COUNT = "sum:http.requests{*}.as_count()"
GAUGE = "avg:system.load.1{*}"


@pytest.mark.parametrize("q,interval", [(COUNT, "1m"), (GAUGE, None)])
def test_per_interval_counts_get_a_minimum_interval(q, interval):
    _, p = convert({"type": "timeseries", "requests": [{"q": q, "display_type": "bars"}]})
    assert p.get("interval") == interval


@pytest.mark.parametrize("span,time_from", [("4h", "4h"), ("1mo", "30d"), ("week_to_date", "now/w"),
                                            ("month_to_date", "now/M")])
def test_widget_live_span_is_the_panel_relative_time(span, time_from):
    _, p = convert({"type": "timeseries", "requests": [{"q": GAUGE}], "time": {"live_span": span}})
    assert p["timeFrom"] == time_from


def test_first_series_on_the_right_axis_does_not_pull_the_others_right():
    _, p = convert({"type": "timeseries", "yaxis": {"scale": "log"}, "right_yaxis": {"max": "100"},
                    "requests": [{"q": GAUGE, "on_right_yaxis": True}, {"q": "avg:system.load.5{*}"}]})
    by_ref = overrides(p)
    assert p["fieldConfig"]["defaults"]["custom"]["axisPlacement"] == "right"
    assert by_ref["B"]["custom.axisPlacement"] == "auto"
    assert by_ref["A"]["max"] == 100.0 and by_ref["A"]["custom.scaleDistribution"] == {"type": "linear"}
