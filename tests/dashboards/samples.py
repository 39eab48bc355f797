"""Hand-written Datadog dashboards covering every widget family, for the tests."""

from __future__ import annotations

from typing import Any

_ids = iter(range(1000, 100000))


def w(definition: dict[str, Any], x: int = 0, y: int = 0, width: int = 4, height: int = 2, **extra: Any) -> dict[str, Any]:
    return {"id": next(_ids), "definition": definition, "layout": {"x": x, "y": y, "width": width, "height": height},
            **extra}


def fq(name: str, query: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "data_source": "metrics", "query": query, **kw}


CPU = "avg:system.cpu.user{$env} by {host}"
MEM = "avg:system.mem.used{$env} by {host}"
REQ = "sum:http.requests{$env,service:web} by {status}.as_count()"

TIMESERIES = {
    "type": "timeseries", "title": "CPU on $env", "show_legend": True, "legend_layout": "vertical",
    "legend_columns": ["avg", "max", "value"],
    "requests": [
        {"queries": [fq("a", CPU), fq("b", MEM)], "formulas": [{"formula": "a", "alias": "cpu"}, {"formula": "a / b"}],
         "response_format": "timeseries", "display_type": "line",
         "style": {"palette": "cool", "line_type": "dashed", "line_width": "thick"}},
        {"q": REQ, "display_type": "bars", "on_right_yaxis": True, "style": {"palette": "warm"}},
        {"q": "avg:system.load.1{*}, avg:system.load.5{*}", "display_type": "area",
         "metadata": [{"expression": "avg:system.load.5{*}", "alias_name": "load5"}]},
    ],
    "yaxis": {"scale": "log", "min": "1", "max": "auto", "include_zero": False, "label": "cpu"},
    "right_yaxis": {"min": "0", "max": "100"},
    "markers": [{"value": "y = 90", "display_type": "error dashed", "label": "limit"},
                {"value": "10 < y < 20", "display_type": "warning solid"}],
    "custom_links": [{"label": "Host {{host.value}}", "link": "https://example.com/hosts/{{host.value}}?env=$env.value"}],
    "time": {"live_span": "4h"},
}
QUERY_VALUE = {
    "type": "query_value", "title": "Memory", "precision": 1, "autoscale": True, "timeseries_background": {"type": "area"},
    "requests": [{"queries": [fq("a", "avg:system.mem.used{*}", aggregator="max")],
                  "formulas": [{"formula": "a", "number_format": {"unit": {"type": "canonical_unit", "unit_name": "byte"}}}],
                  "response_format": "scalar",
                  "conditional_formats": [{"comparator": ">", "value": 90, "palette": "white_on_red"},
                                          {"comparator": ">=", "value": 70, "palette": "white_on_yellow"},
                                          {"comparator": "<", "value": 70, "palette": "white_on_green"}]}],
}
TOPLIST = {
    "type": "toplist", "title": "Top hosts",
    "requests": [{"queries": [fq("q", "avg:system.cpu.user{$env,$host-name} by {host}", aggregator="avg")],
                  "formulas": [{"formula": "q", "limit": {"count": 10, "order": "desc"}}], "response_format": "scalar"}],
}
TABLE = {
    "type": "query_table", "title": "Hosts",
    "requests": [{"queries": [fq("a", CPU, aggregator="avg"), fq("b", MEM, aggregator="last")],
                  "formulas": [{"formula": "a", "alias": "CPU", "cell_display_mode": "bar",
                                "conditional_formats": [{"comparator": ">", "value": 80, "palette": "red_on_white"}]},
                               {"formula": "b", "alias": "Memory",
                                "number_format": {"unit": {"type": "canonical_unit", "unit_name": "mebibyte"}}}],
                  "response_format": "scalar",
                  "text_formats": [[{"match": {"type": "starts_with", "value": "web-"}, "palette": "white_on_red"}]],
                  "sort": {"count": 50, "order_by": [{"type": "formula", "index": 0, "order": "desc"}]}}],
}
CLASSIC_TABLE = {"type": "query_table", "requests": [{"q": CPU, "aggregator": "max", "alias": "cpu", "limit": 10}]}
HEATMAP = {"type": "heatmap", "title": "Latency", "requests": [{"q": "avg:trace.latency{*} by {host}"}]}
DISTRIBUTION = {"type": "distribution", "requests": [{"q": CPU}]}
CHANGE = {"type": "change", "title": "Change", "requests": [
    # the comparison is a formula (week_before) and governs over compare_to
    {"queries": [fq("a", REQ, aggregator="sum")], "formulas": [{"formula": "week_before(a)"}, {"formula": "a"}],
     "response_format": "scalar", "compare_to": "hour_before", "change_type": "relative", "increase_good": False, "show_present": True,
     "order_by": "change", "order_dir": "desc"}]}
SUNBURST = {"type": "sunburst", "title": "By status", "legend": {"type": "table", "hide_percent": True},
            "requests": [{"queries": [fq("a", REQ, aggregator="sum")], "formulas": [{"formula": "a"}],
                          "response_format": "scalar"}]}
TREEMAP = dict(SUNBURST, type="treemap", title="Treemap")
SCATTER = {"type": "scatterplot", "requests": {"x": {"q": CPU, "aggregator": "avg"}, "y": {"q": MEM, "aggregator": "avg"}}}
HOSTMAP = {"type": "hostmap", "requests": {"fill": {"q": CPU}, "size": {"q": MEM}}, "node_type": "host"}
GEOMAP = {"type": "geomap", "requests": [{"queries": [fq("a", "sum:shop.orders{*} by {country}.as_count()", aggregator="sum")],
                                          "formulas": [{"formula": "a"}], "response_format": "scalar"}],
          "style": {"palette": "hostmap_blues", "palette_flip": False}, "view": {"focus": "WORLD"}}
LOGS_TS = {"type": "timeseries", "title": "Errors (logs)", "requests": [
    {"queries": [{"name": "a", "data_source": "logs", "compute": {"aggregation": "count"},
                  "search": {"query": "status:error"}, "indexes": ["*"], "group_by": []}],
     "formulas": [{"formula": "a"}], "response_format": "timeseries", "display_type": "bars"}]}
PARTIAL_TS = {"type": "timeseries", "title": "Half", "requests": [
    {"q": CPU, "display_type": "line"}, {"q": "anomalies(avg:foo{*}, 'basic', 2)", "display_type": "line"}]}
NOTE = {"type": "note", "content": "# Read me\nCPU for **$env**", "background_color": "yellow"}
FREE_TEXT = {"type": "free_text", "text": "Big title", "font_size": "auto"}
IMAGE = {"type": "image", "url": "https://example.com/logo.png", "sizing": "contain"}
IFRAME = {"type": "iframe", "url": "https://example.com/status"}
SPLIT = {"type": "split_group", "title": "Per service", "has_uniform_y_axes": True,
         "source_widget_definition": {"type": "timeseries", "requests": [{"q": CPU, "display_type": "line"}]},
         "split_config": {"split_dimensions": [{"one_graph_per": "service"}], "limit": 8, "sort": {"order": "desc"}}}

UNSUPPORTED_TYPES = ["log_stream", "list_stream", "event_stream", "event_timeline", "trace_service", "service_map",
                     "check_status", "alert_graph", "alert_value", "manage_status", "slo", "run_workflow", "funnel",
                     "custom", "embedded_app", "topology_map", "some_future_widget"]


def ordered_dashboard() -> dict[str, Any]:
    group_a = w({"type": "group", "title": "Hosts", "layout_type": "ordered", "widgets": [
        w(TOPLIST, 0, 0, 4, 3), w(TABLE, 4, 0, 8, 3), w(HEATMAP, 0, 3, 6, 2), w(DISTRIBUTION, 6, 3, 6, 2)]},
        0, 4, 12, 6)
    group_b = w({"type": "group", "title": "Shares", "layout_type": "ordered", "collapsed": True, "widgets": [
        w(SUNBURST, 0, 0, 4, 2), w(TREEMAP, 4, 0, 4, 2), w(CHANGE, 8, 0, 4, 2), w(SCATTER, 0, 2, 4, 2),
        w(HOSTMAP, 4, 2, 4, 2), w(GEOMAP, 8, 2, 4, 2),
        w({"type": "powerpack", "title": "Nested", "widgets": [w(NOTE, 0, 0, 6, 1), w(IMAGE, 6, 0, 6, 1)]}, 0, 4, 12, 2)]},
        0, 10, 12, 6)
    return {
        "id": "abc-def-ghi", "title": "Service overview", "description": "The service.", "layout_type": "ordered",
        "reflow_type": "fixed", "author_handle": "jane@example.com", "tags": ["team:web"],
        "template_variables": [{"name": "env", "prefix": "env", "default": "prod", "available_values": ["prod", "staging"]},
                               {"name": "host-name", "prefix": "host", "default": "*"}],
        "template_variable_presets": [{"name": "Staging", "template_variables": [{"name": "env", "value": "staging"}]}],
        "widgets": [w(TIMESERIES, 0, 0, 8, 2), w(QUERY_VALUE, 8, 0, 2, 2), w(NOTE, 10, 0, 2, 2),
                    w(FREE_TEXT, 0, 2, 4, 1), w(IFRAME, 4, 2, 4, 2), w(LOGS_TS, 8, 2, 4, 2),
                    group_a, group_b,
                    w(PARTIAL_TS, 0, 16, 6, 2), w(CLASSIC_TABLE, 6, 16, 6, 2), w(SPLIT, 0, 18, 12, 2)]
        + [w({"type": t, "title": t}, (i % 6) * 2, 20 + (i // 6) * 2, 2, 2) for i, t in enumerate(UNSUPPORTED_TYPES)],
    }


def free_dashboard() -> dict[str, Any]:
    """A free layout with overlapping widgets and one without a layout."""
    return {
        "id": "free-lay-out", "title": "Free", "layout_type": "free",
        "widgets": [w(TIMESERIES, 0, 0, 47, 15), w(QUERY_VALUE, 40, 5, 20, 15), w(NOTE, 60, 0, 40, 30),
                    {"id": 7, "definition": IMAGE}],
    }


def auto_reflow_dashboard() -> dict[str, Any]:
    return {"id": "reflow-auto", "title": "Auto", "layout_type": "ordered", "reflow_type": "auto",
            "widgets": [{"id": 1, "definition": QUERY_VALUE}, {"id": 2, "definition": TIMESERIES},
                        {"id": 2, "definition": NOTE}]}


def all_dashboards() -> list[dict[str, Any]]:
    return [ordered_dashboard(), free_dashboard(), auto_reflow_dashboard()]
