"""Widget conversion, table-driven over the sample dashboards (fake transpiler)."""

from __future__ import annotations

import pytest

from dd2prom.validate.promql import promql_error

DASH = "abc-def-ghi"
UID = "dd-abc-def-ghi"


def rows(sample, dashboard=DASH):
    return [i for i in sample.coverage["items"] if i["kind"] == "widget" and i["dashboard"] == dashboard]


def widget_panel(sample, wtype, title=None, dashboard=DASH, uid=UID):
    """(coverage row, panel) of the first widget of a type (and title)."""
    items = [i for i in rows(sample, dashboard) if i["type"] == wtype and (title is None or i["name"] == title)]
    assert items, (wtype, title)
    item = items[0]
    marker = f"widget {item['id'].split('/', 1)[1]} ("
    return item, next(p for p in sample.panels(uid) if marker in p["description"])


@pytest.mark.parametrize("wtype,title,panel_type,status", [
    ("timeseries", "CPU on $env", "timeseries", "exact"),
    ("query_value", None, "stat", "exact"),
    ("toplist", None, "bargauge", "exact"),
    ("query_table", "Hosts", "table", "exact"),
    ("heatmap", None, "heatmap", "approximate"),
    ("distribution", None, "histogram", "approximate"),
    ("change", None, "table", "exact"),
    ("sunburst", None, "piechart", "exact"),
    ("treemap", None, "piechart", "approximate"),
    ("scatterplot", None, "xychart", "approximate"),
    ("hostmap", None, "table", "approximate"),
    ("geomap", None, "table", "approximate"),
    ("note", None, "text", "exact"),
    ("free_text", None, "text", "exact"),
    ("image", None, "text", "exact"),
    ("iframe", None, "text", "approximate"),
    ("split_group", None, "timeseries", "approximate"),
    ("timeseries", "Errors (logs)", "text", "unsupported"),
    ("timeseries", "Half", "timeseries", "manual"),
    ("log_stream", None, "text", "unsupported"),
    ("list_stream", None, "text", "unsupported"),
    ("event_stream", None, "text", "unsupported"),
    ("trace_service", None, "text", "unsupported"),
    ("check_status", None, "text", "manual"),
    ("alert_graph", None, "text", "manual"),
    ("slo", None, "text", "manual"),
    ("some_future_widget", None, "text", "unsupported"),
])
def test_widget_maps_to_closest_panel(sample, wtype, title, panel_type, status):
    item, panel = widget_panel(sample, wtype, title)
    assert panel["type"] == panel_type
    assert item["status"] == status, item["notes"]
    if status != "exact":
        assert item["notes"], "a difference must be explained"
    if panel_type != "text":
        assert item["promql"] and len(item["promql"]) == len(item["queries"])
        assert all(promql_error(e) is None for e in item["promql"])


def test_unconverted_widget_says_what_it_was_and_why(sample):
    item, panel = widget_panel(sample, "timeseries", "Errors (logs)")
    content = panel["options"]["content"]
    assert "`timeseries` widget" in content and "logs" in content and "status:error" in content
    assert item["untranslated"]


def test_partially_converted_widget_keeps_the_others(sample):
    item, panel = widget_panel(sample, "timeseries", "Half")
    assert len(panel["targets"]) == 1
    assert any("anomalies" in q for q in item["untranslated"])


def test_timeseries_styles_axes_markers_links(sample):
    _, p = widget_panel(sample, "timeseries", "CPU on $env")
    assert p["title"] == "CPU on ${env}"
    assert p["timeFrom"] == "4h"
    d = p["fieldConfig"]["defaults"]
    assert d["custom"]["lineWidth"] == 3 and d["custom"]["lineStyle"]["fill"] == "dash"
    assert d["custom"]["scaleDistribution"] == {"type": "log", "log": 10} and d["min"] == 1.0
    assert "axisSoftMin" not in d["custom"] and d["custom"]["axisLabel"] == "cpu"
    assert d["color"] == {"mode": "shades", "fixedColor": "blue"}
    steps = d["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 10.0, 20.0, 90.0]
    assert [s["color"] for s in steps] == ["transparent", "orange", "transparent", "red"]
    assert d["custom"]["thresholdsStyle"]["mode"] == "dashed+area"
    assert d["links"][0]["url"] == "https://example.com/hosts/${__field.labels.instance}?env=${env}"
    legend = p["options"]["legend"]
    assert legend["displayMode"] == "table" and legend["calcs"] == ["mean", "max", "lastNotNull"]
    targets = {t["refId"]: t for t in p["targets"]}
    assert targets["A"]["legendFormat"] == "cpu {{instance}}"
    assert targets["E"]["legendFormat"] == "load5" and "legendFormat" not in targets["D"]
    assert "increase(" in targets["C"]["expr"] and "$__interval" in targets["C"]["expr"]
    assert len(targets) == 5          # a, a / b, the bars query, and the two comma-separated classic queries
    by_ref = {o["matcher"]["options"]: {pr["id"]: pr["value"] for pr in o["properties"]}
              for o in p["fieldConfig"]["overrides"]}
    assert by_ref["C"]["custom.drawStyle"] == "bars" and by_ref["C"]["custom.axisPlacement"] == "right"
    assert by_ref["C"]["max"] == 100.0
    assert by_ref["D"]["custom.stacking"] == {"mode": "normal", "group": "A"}


def test_query_value_reducer_unit_and_colours(sample):
    _, p = widget_panel(sample, "query_value")
    assert p["options"]["reduceOptions"]["calcs"] == ["max"]
    assert p["options"]["colorMode"] == "background" and p["options"]["graphMode"] == "area"
    d = p["fieldConfig"]["defaults"]
    assert d["unit"] == "bytes" and d["decimals"] == 1
    assert [(s["value"], s["color"]) for s in d["thresholds"]["steps"]] == [(None, "green"), (70.0, "yellow"), (90.0, "red")]


def test_toplist_is_top_n_sorted_over_the_range(sample):
    _, p = widget_panel(sample, "toplist")
    expr = p["targets"][0]["expr"]
    assert expr.startswith("sort_desc(topk(10, avg_over_time((") and "[$__range:$__interval]" in expr
    assert 'instance=~"$host_name"' in expr     # variable host-name filters the tag host (label instance)
    assert p["targets"][0]["instant"] is True
    assert p["options"]["orientation"] == "horizontal"


def test_table_columns_sort_and_formats(sample):
    _, p = widget_panel(sample, "query_table", "Hosts")
    assert all(t["format"] == "table" and t["instant"] for t in p["targets"])
    organize = p["transformations"][1]["options"]["renameByName"]
    assert organize == {"Value #A": "CPU", "Value #B": "Memory"}
    assert p["options"]["sortBy"] == [{"displayName": "CPU", "desc": True}]
    overrides = {o["matcher"]["options"]: o["properties"] for o in p["fieldConfig"]["overrides"]}
    assert {"id": "unit", "value": "mbytes"} in overrides["Memory"]
    assert any(pr["id"] == "thresholds" for pr in overrides["CPU"])
    mapping = overrides["instance"][0]["value"][0]
    assert mapping == {"type": "regex", "options": {"pattern": "^web\\-.*", "result": {"color": "red"}}}


def test_change_compares_with_the_offset_period(sample):
    _, p = widget_panel(sample, "change")
    change = p["targets"][0]["expr"]
    assert "offset 1w" in change and change.endswith("* 100")
    assert len(p["targets"]) == 2     # show_present adds the current value


def test_split_group_repeats_over_the_split_tag(sample):
    item, p = widget_panel(sample, "split_group")
    assert p["repeat"] == "split_service" and p["repeatDirection"] == "h"
    assert 'service=~"$split_service"' in p["targets"][0]["expr"]
    assert any("top 8" in n for n in item["notes"]) and item["status"] == "approximate"
    variables = {v["name"]: v for v in sample.dashboards["dd-abc-def-ghi"]["templating"]["list"]}
    assert variables["split_service"]["query"] == "label_values(system_cpu_user, service)"


def test_split_group_falls_back_to_one_panel():
    definition = {"type": "split_group", "source_widget_definition": {"type": "timeseries", "requests": [
        {"q": "avg:a{*}"}]}, "split_config": {"split_dimensions": [{"one_graph_per": "a"}, {"one_graph_per": "b"}]}}
    item, p = _alone(definition, {})
    assert "repeat" not in p and any("one graph per value of a, b" in n for n in item.notes)


def test_text_widgets(sample):
    _, note = widget_panel(sample, "note")
    assert note["options"] == {"mode": "markdown", "content": "# Read me\nCPU for **${env}**"}
    _, image = widget_panel(sample, "image")
    assert image["options"]["content"] == "![image](https://example.com/logo.png)"
    _, iframe = widget_panel(sample, "iframe")
    assert iframe["options"]["mode"] == "html" and 'src="https://example.com/status"' in iframe["options"]["content"]


def test_every_widget_is_in_coverage_nested_too(sample):
    ids = [i["id"] for i in rows(sample)]
    assert len(ids) == len(set(ids))
    types = {i["type"] for i in rows(sample)}
    assert {"group", "powerpack", "note", "image"} <= types
    auto = rows(sample, "reflow-auto")
    assert len(auto) == 3 and auto[2]["id"] == "reflow-auto/widgets[2]"   # duplicate widget id → path


def test_dashboard_row(sample):
    d = sample.items[("dashboard", DASH)]
    assert d["status"] == "approximate"
    assert d["author"] == "jane@example.com"
    assert "system.cpu.user" in d["metrics"]
    assert sum(d["widgets"].values()) == len(rows(sample))
    assert any("Saved views" in n for n in d["notes"])
    assert sorted(d["outputs"]) == ["grafana/configmaps/dd-abc-def-ghi.yaml", "grafana/dashboards/dd-abc-def-ghi.json"]


def _alone(definition, shared):
    from dd2prom.convert.dashboards.panel import WidgetContext
    from dd2prom.convert.queries.types import TranslateContext
    from dd2prom.model import CoverageItem

    item = CoverageItem("widget", "d/1")
    wc = WidgetContext(widget={"id": 1, "definition": definition}, item=item, translate_ctx=TranslateContext(),
                       shared=shared)
    from dd2prom.convert.dashboards.widgets import convert_widget

    return item, convert_widget(wc)


def test_check_status_uses_the_checks_stage_series():
    definition = {"type": "check_status", "check": "nginx.can_connect", "grouping": "check", "tags": ["*"]}
    shared = {"service_checks": {"nginx.can_connect": {"expr": 'up{job="nginx"}', "group": ["instance"]}}}
    item, p = _alone(definition, shared)
    assert p["type"] == "stat" and p["targets"][0]["expr"] == 'min by (instance)(up{job="nginx"})'
    assert item.status.value == "approximate"
    item, p = _alone(definition, {})
    assert p["type"] == "text" and item.status.value == "manual"


def test_alert_widget_names_the_converted_alert():
    item, p = _alone({"type": "alert_graph", "alert_id": "123", "viz_type": "timeseries"},
                     {"monitor_alerts": {"123": {"alertname": "HighCPU"}}})
    assert item.status.value == "manual" and "HighCPU" in p["options"]["content"]


def test_unit_from_metric_metadata_only_for_plain_queries(sample):
    _, heatmap = widget_panel(sample, "heatmap")
    assert heatmap["options"]["yAxis"]["unit"] == "s"          # trace.latency is in seconds
    _, ts = widget_panel(sample, "timeseries", "CPU on $env")
    assert "unit" not in ts["fieldConfig"]["defaults"]          # a / b: not the metric's unit
