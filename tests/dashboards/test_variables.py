"""Template variables → Grafana variables."""

from __future__ import annotations

import pytest

from dd2prom.convert.dashboards.panel import rewrite_variables
from dd2prom.convert.dashboards.variables import Usage, build, grafana_names
from dd2prom.convert.queries.types import TranslateContext, Translation
from dd2prom.model import Status


def _t(metric, labels):
    return Translation(query="", promql=f"{metric}", status=Status.EXACT, prom_metrics=[metric], labels=labels)


def test_names_are_valid_and_unique():
    names = grafana_names([{"name": "host-name"}, {"name": "host_name"}, {"name": "1x"}, {"name": "datasource"}, {}])
    assert names == {"host-name": "host_name", "host_name": "host_name_", "1x": "v_1x", "datasource": "v_datasource"}


def test_query_variable_on_a_metric_carrying_the_label():
    tvs = [{"name": "env", "prefix": "env", "default": "prod", "available_values": ["prod", "stag.ing"]},
           {"name": "svc", "prefix": "service", "default": "*"},
           {"name": "team", "prefix": None, "defaults": ["a", "b"]}]
    translations = [_t("up", []), _t("up", []), _t("http_requests_total", ["env"])]
    variables, notes = build(tvs, grafana_names(tvs), TranslateContext(target="dashboard"), translations)
    ds, env, svc, team = variables
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    assert env["query"] == "label_values(http_requests_total, env)"
    assert env["regex"] == r"/^(prod|stag\.ing)$/"
    assert env["current"]["value"] == ["prod"] and env["multi"] and env["includeAll"] and env["allValue"] == ".*"
    assert svc["query"] == "label_values(up, service)" and svc["current"]["value"] == ["$__all"]
    assert team["current"]["value"] == ["a", "b"] and any("no tag prefix" in n for n in notes)


def test_wildcards():
    tvs = [{"name": "env", "prefix": "env", "default": "prod-*", "available_values": ["prod-*", "dev"]}]
    variables, notes = build(tvs, {"env": "env"}, TranslateContext(), [])
    assert variables[1]["regex"] == "/^(prod\\-.*|dev)$/"
    assert variables[1]["current"]["value"] == ["$__all"] and "wildcard" in notes[0]


def test_without_metrics_label_values_lists_every_value():
    variables, _ = build([{"name": "env", "prefix": "env"}], {"env": "env"}, TranslateContext(), [])
    assert variables[1]["query"] == "label_values(env)"


@pytest.mark.parametrize("text,expected", [
    ("CPU on $env-prod", "CPU on ${env}-prod"),
    ("$host-name and $host.value", "${host_name} and ${host}"),
    ("$envx costs $5", "$envx costs $5"),
])
def test_variables_in_text(text, expected):
    assert rewrite_variables(text, {"env": "env", "host-name": "host_name", "host": "host"}) == expected


def test_label_and_metric_follow_the_queries_that_use_the_variable():
    translations = [_t("up", ["instance"]), _t("up", ["instance"]),
                    Translation(query="", promql='sum(node_load1{host_label=~"$host"})', status=Status.EXACT,
                                prom_metrics=["node_load1"], labels=["host_label"])]
    variables, _ = build([{"name": "host", "prefix": "host"}], {"host": "host"}, TranslateContext(), translations)
    assert variables[1]["query"] == "label_values(node_load1, host_label)"


def test_group_by_variable_is_said():
    _, notes = build([{"name": "by", "prefix": "service", "type": "group"}], {"by": "by"}, TranslateContext(), [])
    assert "grouping" in notes[0]


@pytest.mark.parametrize("promql, label", [
    ('a{x="1", host_label=~"$host"}', "host_label"),
    ('a{lbl = "${host}"} + b{other=~"$hostname"}', "lbl"),
    ('a{other=~"$hostname"}', None),                    # another variable
    ('a{_9x!="$host"}', "_9x"),
    ('a{node!~"$host"}', "node"),                       # only negated: still the variable's label
    ('label_replace(a, "d", "1abc=\\"$host\\"", "", "")', None),   # a string, not a matcher
])
def test_label_of_a_variable_is_read_from_the_matchers(promql, label):
    t = Translation(query="", promql=promql, status=Status.EXACT, prom_metrics=["a"])
    assert Usage([t]).used("host")[0] == label
