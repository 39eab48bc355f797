"""ruletests works out when a rule fires run by run; it must agree with
evaluating the rule minute by minute, as Prometheus does."""

from __future__ import annotations

import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dd2prom.convert.monitors.build import Level
from dd2prom.convert.monitors.rules import Rule
from dd2prom.convert.monitors.ruletests import STEP, Shape, _firing, _last, _values_text

COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def minute_by_minute(level: Level, comparator: str, values: list[float | None], until: int) -> list[bool]:
    """The rule evaluated at every minute up to ``until`` (the reference)."""
    hold = -(-level.rule.for_seconds // STEP)
    firing, active_since, seen = False, None, None
    out = []
    for t in range(until + 1):
        v = values[t] if t < len(values) else None
        if v is None:
            cond = firing and seen is not None and (t - seen) * STEP < level.keep
        else:
            seen = t
            cond = t * STEP >= level.delay and (COMPARE[comparator](v, level.threshold) or (
                firing and level.recovery is not None and COMPARE[comparator](v, level.recovery)))
        if not cond:
            firing, active_since = False, None
        else:
            active_since = t if active_since is None else active_since
            firing = t - active_since >= hold
        out.append(firing)
    return out


seconds = st.sampled_from([0, 30, 60, 90, 120, 180, 300, 600])
runs = st.lists(st.tuples(st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, 3.0, 4.0])),
                          st.integers(0, 8)), min_size=1, max_size=6)


@settings(max_examples=1500, deadline=None)
@given(runs, st.sampled_from(sorted(COMPARE)), st.sampled_from([1.0, 2.0, 3.0]),
       st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, 3.0, 4.0])), seconds, seconds, seconds,
       st.lists(st.integers(0, 40), min_size=1, max_size=5).map(lambda c: sorted(set(c))))
def test_run_by_run_agrees_with_minute_by_minute(series, comparator, threshold, recovery, for_seconds,
                                                 delay, keep, checks):
    level = Level("alert", threshold, recovery, Rule("A", "x", "alert", for_seconds), delay=delay, keep=keep)
    values = [v for v, count in series for _ in range(count)]
    expected = minute_by_minute(level, comparator, values, checks[-1])
    assert _firing(Shape.of(level), comparator, series, checks) == {at: expected[at] for at in checks}
    for at in checks:
        seen = [v for v in values[:at + 1] if v is not None]
        if seen:
            assert _last(series, at) == seen[-1]


def test_values_text_marks_where_a_value_stops():
    assert _values_text([(None, 2), (1.0, 2), (None, 3), (2.5, 1), (None, 0), (3.0, 1)]) == "_ _ 1 1 stale _ _ 2.5 3"


@pytest.mark.parametrize("message,thresholds,group,comparator,options", [
    ("@slack-ops", None, ("instance",), ">", {}),
    ("@slack-ops", None, ("host", "device"), ">", {}),          # the same plan, other series labels
    ("@slack-ops", None, (), ">", {}),
    ("{{#is_alert}}load {{value}} on {{host.name}}{{/is_alert}} @slack-ops",
     {"critical": 3, "warning": 2, "critical_recovery": 2.5}, ("host",), ">=", {}),
    ("{{value}} is low\n\nsee the runbook", {"critical": 1, "warning": 2}, (), "<", {"notify_no_data": True}),
    ("@slack-ops", {"critical": 3, "warning": 2}, ("instance",), ">", {"notify_no_data": True,
                                                                         "no_data_timeframe": 20}),
    ("a\ttab: the fast writer leaves it to PyYAML", None, (), ">", {"notify_no_data": True}),
    ("x y " * 3000, None, ("instance",), ">", {}),                 # long text, folded by column
])
def test_tests_text_is_the_tests_dumped(message, thresholds, group, comparator, options):
    """A monitor's tests written from its plan's template are the YAML of its test cases."""
    from dd2prom.convert.monitors.ruletests import tests_for, tests_text
    from dd2prom.emit.yamlio import dump_yaml_items
    from tests.monitors.test_semantics import built

    mr, _, _ = built(message, thresholds, group, comparator, **options)
    cases = tests_for(mr)
    assert cases
    for _ in range(2):   # (the second time from the template made the first)
        assert tests_text(mr) == (dump_yaml_items(cases, 1), len(cases))


def test_tests_text_without_a_template(monkeypatch):
    """Where the fast writer declines the template, the cases are dumped."""
    from dd2prom.convert.monitors import ruletests
    from dd2prom.emit import fastyaml
    from dd2prom.emit.yamlio import dump_yaml_items
    from tests.monitors.test_semantics import built

    monkeypatch.setattr(ruletests, "_TEMPLATES", {})
    monkeypatch.setattr(fastyaml, "template", lambda items, indent: None)
    mr, _, _ = built("@slack-ops", {"critical": 3, "warning": 2}, notify_no_data=True)
    cases = ruletests.tests_for(mr)
    assert ruletests.tests_text(mr) == (dump_yaml_items(cases, 1), len(cases))


def test_expected_labels_unescape_the_rules_braces():
    """A tag value holding ``{{`` is escaped in the rule's label (a template) and
    shown as it is in the alert promtool expects."""
    from dd2prom.convert.monitors.base import Alerting
    from dd2prom.convert.monitors.build import build
    from dd2prom.convert.monitors.ruletests import tests_for, tests_text
    from dd2prom.convert.monitors.spec import MonitorSpec
    from dd2prom.emit.alertmanager import AlertmanagerConfig
    from dd2prom.emit.yamlio import dump_yaml_items
    from dd2prom.model import CoverageItem

    data = {"id": 8, "name": "Load", "type": "metric alert", "message": "@slack-ops", "tags": ["team:{{x}}", "env:prod"],
            "query": "avg(last_5m):avg:system.load.1{*} > 3", "options": {"thresholds": {"critical": 3}}}
    mr = build(MonitorSpec.parse("8", data), Alerting(expr="node_load1", comparator=">", group=[], window_seconds=300),
               CoverageItem("monitor", "8"), AlertmanagerConfig(), set())
    rule = next(lv.rule for lv in mr.levels if lv.state == "alert")
    assert rule.labels["team"] == '{{ "{{" }}x}}'
    cases = tests_for(mr)
    alerts = [a for case in cases for check in case["alert_rule_test"] for a in check["exp_alerts"]]
    assert alerts and all(a["exp_labels"]["team"] == "{{x}}" and a["exp_labels"]["env"] == "prod" for a in alerts)
    assert rule.labels["team"] == '{{ "{{" }}x}}'   # (the rule's own labels left as they are)
    assert tests_text(mr) == (dump_yaml_items(cases, 1), len(cases))


def test_templates_held_within_their_bound(monkeypatch):
    """The templates held start over past their size bound; the text stays the same."""
    from dd2prom.convert.monitors import ruletests
    from dd2prom.emit.yamlio import dump_yaml_items
    from tests.monitors.test_semantics import built

    monkeypatch.setattr(ruletests, "_TEMPLATES", {})
    monkeypatch.setattr(ruletests, "_TEMPLATES_CHARS", 600)   # (one of these templates: 400-500 characters)
    monkeypatch.setattr(ruletests, "_templates_size", 0)
    for thresholds in ({"critical": 3}, {"critical": 3, "warning": 2}, {"critical": 3}):
        mr, _, _ = built("@slack-ops", thresholds)
        cases = ruletests.tests_for(mr)
        assert ruletests.tests_text(mr) == (dump_yaml_items(cases, 1), len(cases))
        [(_, pieces)] = ruletests._TEMPLATES.values()
        assert ruletests._templates_size == sum(len(p) for p in pieces if type(p) is str) <= 600
