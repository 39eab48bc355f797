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


def fq(name: str, query: str, aggregator: str = "avg") -> dict[str, Any]:
    return {"name": name, "data_source": "metrics", "query": query, "aggregator": aggregator}


ERRORS = "sum:trace.http.request.errors{service:web}.as_count()"
HITS = "sum:trace.http.request.hits{service:web}.as_count()"


def test_query_value_formula_reduces_each_query_first():
    """Datadog's scalar formula is sum(errors)/sum(hits) over the range, not the sum of per-step ratios."""
    item, p = convert({"type": "query_value", "timeseries_background": {"type": "area"}, "requests": [{
        "queries": [fq("a", ERRORS, "sum"), fq("b", HITS, "sum")], "formulas": [{"formula": "a / b * 100"}],
        "response_format": "scalar"}]})
    t = p["targets"][0]
    assert t["instant"] and not t["range"]
    assert t["expr"].count("sum_over_time((") == 2 and t["expr"].count("[$__range:$__interval])") == 2
    assert not t["expr"].startswith("sum_over_time(")     # the formula itself is not reduced again
    assert p["options"]["reduceOptions"]["calcs"] == ["lastNotNull"] and p["options"]["graphMode"] == "none"
    assert any("background graph" in n for n in item.notes)


@pytest.mark.parametrize("aggregator,calc", [("avg", "mean"), ("sum", "sum"), ("max", "max"), ("min", "min"),
                                             ("last", "lastNotNull")])
def test_query_value_aggregator_is_reduced_once_by_grafana(aggregator, calc):
    _, p = convert({"type": "query_value", "requests": [{
        "queries": [fq("a", GAUGE, aggregator)], "formulas": [{"formula": "a * 100"}], "response_format": "scalar"}]})
    t = p["targets"][0]
    assert t["range"] and "_over_time" not in t["expr"]
    assert p["options"]["reduceOptions"]["calcs"] == [calc]


def test_table_columns_reduce_each_query_with_its_own_aggregator():
    _, p = convert({"type": "query_table", "requests": [{
        "queries": [fq("a", "avg:system.load.1{*} by {host}", "max"), fq("b", "avg:system.load.5{*} by {host}", "last"),
                    fq("c", "avg:system.load.15{*} by {host}", "avg")],
        "formulas": [{"formula": "a", "alias": "peak"}, {"formula": "b - c", "alias": "trend"}],
        "response_format": "scalar"}]})
    peak, trend = (t["expr"] for t in p["targets"])
    assert peak.startswith("max_over_time((")
    assert "avg_over_time((" in trend and "max_over_time" not in trend and not trend.startswith("avg_over_time")
    names = p["transformations"][1]["options"]["renameByName"]
    assert names == {"Value #A": "peak", "Value #B": "trend"}


@pytest.mark.parametrize("yaxis,log,soft_min", [({}, False, 0), ({"scale": "log"}, True, None),
                                                ({"scale": "log", "include_zero": True}, True, None),
                                                ({"include_zero": False}, False, None)])
def test_log_axis_does_not_try_to_include_zero(yaxis, log, soft_min):
    _, p = convert({"type": "timeseries", "requests": [{"q": GAUGE}], "yaxis": yaxis})
    custom = p["fieldConfig"]["defaults"]["custom"]
    assert (custom.get("scaleDistribution", {}).get("type") == "log") == log
    assert custom.get("axisSoftMin") == soft_min


@pytest.mark.parametrize("q,approximate", [(COUNT, False), (GAUGE, True)])
def test_sum_over_the_range_is_a_total_only_for_counts(q, approximate):
    item, _ = convert({"type": "query_value", "requests": [{"q": q, "aggregator": "sum"}]})
    assert any("how many points are summed" in n for n in item.notes) == approximate


def test_formula_style_palette_fixes_the_series_colour():
    _, p = convert({"type": "timeseries", "requests": [{
        "queries": [fq("a", GAUGE), fq("b", "avg:system.load.5{*}")], "response_format": "timeseries",
        "formulas": [{"formula": "a"}, {"formula": "b", "style": {"palette": "warm", "palette_index": 4}}],
        "style": {"palette": "cool"}}]})
    assert p["fieldConfig"]["defaults"]["color"] == {"mode": "shades", "fixedColor": "blue"}
    by_ref = overrides(p)
    assert by_ref["B"]["color"] == {"mode": "fixed", "fixedColor": "orange"} and "color" not in by_ref.get("A", {})


@pytest.mark.parametrize("extra,unit", [({}, "short"), ({"autoscale": False}, None), ({"custom_unit": "ms"}, "ms")])
def test_query_value_autoscale(extra, unit):
    _, p = convert({"type": "query_value", "requests": [{"q": GAUGE}], **extra})
    assert p["fieldConfig"]["defaults"].get("unit") == unit


@pytest.mark.parametrize("requests,legends", [
    ([{"q": "avg:system.load.1{*} by {host,env}"}], ["{{instance}} {{env}}"]),
    ([{"q": GAUGE}], [None]),
    ([{"q": "avg:system.load.1{*} by {host}"}, {"q": "avg:system.load.5{*} by {host}"}], [None, None]),
])
def test_single_grouped_query_is_named_by_its_tag_values(requests, legends):
    _, p = convert({"type": "timeseries", "requests": requests})
    assert [t.get("legendFormat") for t in p["targets"]] == legends


def test_same_query_with_two_aggregators_is_reduced_as_a_whole_and_said():
    item, p = convert({"type": "query_value", "requests": [{
        "queries": [fq("a", GAUGE, "max"), fq("b", GAUGE, "min")], "formulas": [{"formula": "a - b"}],
        "response_format": "scalar"}]})
    assert p["targets"][0]["expr"].startswith("max_over_time((") or p["targets"][0]["expr"].startswith("min_over_time((")
    assert any("formula is applied at every step" in n for n in item.notes)
