"""Message templating: Datadog variables and blocks → Go templates, escaping, mentions."""

from __future__ import annotations

import pytest

from dd2prom.convert.monitors import message as msg
from dd2prom.convert.monitors.rules import go_float

VARS = msg.Variables(labels=lambda t: {"host": "host", "kube_namespace": "namespace"}.get(t),
                     any_label=lambda t: t.replace(".", "_"), literals={"threshold": "90"})


def go(message: str, state: str = "alert") -> str:
    return msg.to_go(msg.tidy(msg.resolve(msg.parse(message, VARS, []), state, 2)))


@pytest.mark.parametrize("message,state,want", [
    ("CPU {{value}}% on {{host.name}}", "alert", "CPU {{ $value }}% on {{ $labels.host }}"),
    ("ns {{kube_namespace.name}} > {{threshold}}", "alert", "ns {{ $labels.namespace }} > 90"),
    ("{{#is_alert}}A{{/is_alert}}{{#is_warning}}W{{/is_warning}}", "alert", "A"),
    ("{{#is_alert}}A{{/is_alert}}{{#is_warning}}W{{/is_warning}}", "warn", "W"),
    ("{{^is_alert}}not alert{{/is_alert}}", "warn", "not alert"),
    ("{{#is_no_data}}gone{{/is_no_data}}", "no_data", "gone"),
    ("{{#is_recovery}}fine{{/is_recovery}}x", "alert", "x"),
    ("{{#is_priority 'P2'}}p2{{/is_priority}}", "alert", "p2"),
    # text Prometheus would read as a template is escaped
    ('{{ define "x" }}{{ $labels }}', "alert", '{{ "{{" }} define "x" }}{{ "{{" }} $labels }}'),
    ("{{last_triggered_at}}", "alert", '{{ "{{" }}last_triggered_at}}'),
    ("{{#is_alert}}never closed", "alert", '{{ "{{" }}#is_alert}}never closed'),
    ('{{#is_match "host.name" "db"}}DB{{/is_match}}', "alert",
     '{{ if (match "db" (index $labels "host")) }}DB{{ end }}'),
])
def test_templating(message, state, want):
    assert go(message, state) == want


def test_render_matches_template_semantics():
    parts = msg.resolve(msg.parse('{{host.name}}: {{value}} {{#is_exact_match "host" "a" "b"}}ab{{/is_exact_match}}',
                                  VARS, []), "alert", None)
    assert msg.render(parts, {"host": "a"}, "1.5") == "a: 1.5 ab"
    assert msg.render(parts, {"host": "c"}, "1.5") == "c: 1.5 "


def test_mentions_per_state_with_conditions():
    parts = msg.parse("@slack-ops {{#is_warning}}@pagerduty-db{{/is_warning}} "
                      '{{#is_match "host" "db"}}@ops@example.com.{{/is_match}}', VARS, [])
    alert = msg.mentions(msg.resolve(parts, "alert", None))
    warn = msg.mentions(msg.resolve(parts, "warn", None))
    assert [h for h, _ in alert] == ["slack-ops", "ops@example.com"]
    assert alert[1][1] == (("host", False, ("db",), False, False),)
    assert [h for h, _ in warn] == ["slack-ops", "pagerduty-db", "ops@example.com"]


def test_runbook_link():
    assert msg.first_link("See [docs](https://a.example/x) and [Runbook](https://r.example/rb).") == "https://r.example/rb"
    assert msg.first_link("go to https://a.example/p?id={{x.name}} now") is None


@pytest.mark.parametrize("value,want", [(1.0, "1"), (0.5, "0.5"), (1e9, "1e+09"), (123456.0, "123456"),
                                        (1234567.0, "1.234567e+06"), (0.0001, "0.0001"), (1e-5, "1e-05"),
                                        (-2.5, "-2.5"), (0.0, "0"), (-0.0, "-0"), (0, "0"),
                                        (float("nan"), "NaN"), (float("-inf"), "-Inf")])
def test_go_float(value, want):
    assert go_float(value) == want
    assert go_float(value) == want   # memoised: the second call reads the cache


def test_go_float_zero_signs_apart():
    """0.0 and -0.0 are equal (one cache key) but Go prints them differently."""
    assert [go_float(0.0), go_float(-0.0), go_float(0.0)] == ["0", "-0", "0"]


def test_templated_handle_is_recognised():
    parts = msg.resolve(msg.parse("@slack-{{host.name}} and @pagerduty-x", VARS, []), "alert", None)
    assert [h for h, _ in msg.mentions(parts)] == ["slack-{{…}}", "pagerduty-x"]


def test_host_on_the_instance_label_drops_the_port():
    """Datadog's {{host.name}} is a host name; the instance label may carry the scrape port."""
    variables = msg.Variables(labels=lambda t: {"host": "instance"}.get(t), any_label=lambda t: t)
    parts = msg.parse("on {{host.name}} / {{host}}", variables, [])
    assert msg.to_go(parts) == ('on {{ reReplaceAll ":[0-9]+$" "" $labels.instance }} / '
                                '{{ reReplaceAll ":[0-9]+$" "" $labels.instance }}')
    assert msg.render(parts, {"instance": "10.0.0.5:9100"}, "1") == "on 10.0.0.5 / 10.0.0.5"


@pytest.mark.parametrize("message", [
    "{{#is_alert}}A {{value}}{{/is_alert}}{{#is_warning}}W{{/is_warning}}\n{{#is_recovery}}R{{/is_recovery}} @x",
    "{{#is_alert_recovery}}AR{{/is_alert_recovery}}{{#is_no_data}}N{{/is_no_data}}{{#is_odd}}?{{/is_odd}}",
    "{{#is_match \"host\" \"a\"}}{{#is_warning_recovery}}WR{{/is_warning_recovery}}{{/is_match}} plain",
    "no blocks at all",
])
def test_state_texts_are_each_states_resolution(message):
    """StateTexts shares one outcome between states alike in the message's state
    blocks: every state gets what resolve, tidy and to_go make for it alone."""
    variables = msg.Variables(labels=lambda t: t, any_label=lambda t: t)
    parts = msg.parse(message, variables, [])
    texts = msg.StateTexts(parts, 2)
    for state in ("alert", "warn", "no_data", "recovery", "alert_recovery", "warn_recovery", "no_data_recovery"):
        notes: list[str] = []
        resolved = msg.resolve(parts, state, 2, notes)
        assert texts.get(state) == (resolved, notes, msg.tidy(resolved), msg.to_go(msg.tidy(resolved)))
