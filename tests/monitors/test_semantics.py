"""Datadog monitor options and states whose meaning the conversion carries over
(each test names the Datadog behaviour it pins down)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import promql_parser
import pytest

from dd2prom.convert.monitors import metric
from dd2prom.convert.monitors.spec import MonitorSpec, option_notes
from dd2prom.convert.queries.types import TranslateContext


def spec(type_, query, message="", **options):
    return MonitorSpec.parse("7", {"id": 7, "name": "m", "type": type_, "query": query, "message": message,
                                   "options": options})


def real_ctx(**shared):
    return SimpleNamespace(shared=shared, translate_context=lambda target="plain", **kw: TranslateContext(
        target=target, **kw))


def selectors(node):
    """Every VectorSelector of a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
        return
    for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield from selectors(child)
    for child in getattr(node, "args", None) or []:
        yield from selectors(child)


@pytest.mark.parametrize("query", [
    "avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90",
    "sum(last_10m):sum:aws.elb.httpcode_elb_5xx{*}.as_count() / sum:aws.elb.request_count{*}.as_count() > 0.05",
    "pct_change(avg(last_5m),last_1h):avg:system.load.1{*} by {host} > 50",
    "max(last_5m):default_zero(sum:trace.http.request.errors{service:web}.as_count()) > 3",
    "avg(last_4h):anomalies(avg:system.load.1{*} by {host}, 'basic', 2) >= 1",
])
def test_evaluation_delay_is_an_offset_on_every_selector(query):
    """Datadog evaluates the monitor on data `evaluation_delay` seconds old."""
    a = metric.convert(spec("query alert", query, evaluation_delay=900), real_ctx())
    expr = a.input_expr or a.expr
    found = list(selectors(promql_parser.parse(expr)))
    assert found and all(s.offset is not None and s.offset >= timedelta(minutes=15) for s in found), expr
    notes = option_notes(spec("query alert", query, evaluation_delay=900), a.window_seconds)
    assert [st for n, st in notes if "evaluation_delay" in n] == [None]


def test_no_evaluation_delay_no_offset():
    a = metric.convert(spec("query alert", "avg(last_5m):avg:system.cpu.user{*} > 90"), real_ctx())
    assert " offset " not in a.expr


# -- whole monitors through the shared builder ----------------------------------------

def built(message="", thresholds=None, group=("instance",), comparator=">", **options):
    from dd2prom.convert.monitors.base import Alerting
    from dd2prom.convert.monitors.build import build
    from dd2prom.emit.alertmanager import AlertmanagerConfig
    from dd2prom.model import CoverageItem

    data = {"id": 7, "name": "Load high", "type": "metric alert", "message": message,
            "query": "avg(last_5m):avg:system.load.1{*} by {host} > 3",
            "options": {"thresholds": thresholds or {"critical": 3}, **options}}
    s = MonitorSpec.parse("7", data)
    item = CoverageItem("monitor", "7")
    am = AlertmanagerConfig()
    mr = build(s, Alerting(expr="node_load1", comparator=comparator, group=list(group), window_seconds=300), item, am,
               set())
    return mr, item, am


def am_routes_test(tmp_path, am, *labels):
    import subprocess

    from dd2prom.emit.yamlio import dump_yaml
    from tests.support import require_binary

    require_binary("amtool")
    path = tmp_path / "am.yaml"
    path.write_text(dump_yaml(am.to_dict()))
    r = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={path}", *labels],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return sorted(r.stdout.strip().split(","))


def test_renotify_statuses_and_escalation(tmp_path):
    """Datadog re-notifies alert and no-data by default (not warn); handles in
    escalation_message / {{#is_renotify}} hear only of re-notifications."""
    _, item, am = built("@slack-ops {{#is_warning}}@slack-warn{{/is_warning}}"
                         "{{#is_renotify}}@pagerduty-late{{/is_renotify}}",
                         {"critical": 3, "warning": 2}, renotify_interval=30, escalation_message="@pagerduty-esc")
    route = am.routes[0]
    assert route["repeat_interval"] == "30m"
    by = {(c["receiver"], tuple(c.get("matchers", []))): c.get("repeat_interval") for c in route["routes"]}
    assert by[("slack-ops", ('dd_state=~"alert"',))] is None                    # inherits 30m
    assert by[("slack-ops", ('dd_state=~"warn"',))] == "8760h"                  # warnings are not repeated
    assert by[("slack-warn-firing-only", ('dd_state=~"warn"',))] == "8760h"
    assert by[("pagerduty-late-firing-only", ('dd_state=~"alert"',))] is None
    assert by[("pagerduty-esc-firing-only", ('dd_state=~"alert"',))] is None
    assert item.status.value == "approximate" and any("re-notifications only" in n for n in item.notes)
    assert am_routes_test(tmp_path, am, "dd_monitor_id=7", "dd_state=warn") == ["slack-ops", "slack-warn-firing-only"]
    assert am_routes_test(tmp_path, am, "dd_monitor_id=7", "dd_state=alert") == [
        "pagerduty-esc-firing-only", "pagerduty-late-firing-only", "slack-ops"]


def test_renotify_statuses_listed():
    _, _, am = built("@slack-ops", {"critical": 3, "warning": 2}, renotify_interval=60,
                     renotify_statuses=["warn"], renotify_occurrences=3)
    children = am.routes[0]["routes"]
    assert {tuple(c["matchers"]): c.get("repeat_interval") for c in children} == {
        ('dd_state=~"warn"',): None, ('dd_state=~"alert"',): "8760h"}


def test_no_renotify_interval_never_repeats_and_escalation_is_not_routed():
    _, item, am = built("@slack-ops", escalation_message="@pagerduty-esc")
    assert am.routes[0]["repeat_interval"] == "8760h"
    assert [c["receiver"] for c in am.routes[0]["routes"]] == ["slack-ops"]
    assert item.status.value == "exact"


def promtool_passes(tmp_path, mr):
    """The generated promtool tests pass against the monitor's rules."""
    import subprocess

    from dd2prom.convert.monitors.ruletests import tests_for
    from dd2prom.emit.yamlio import dump_yaml
    from tests.support import require_binary

    require_binary("promtool")
    (tmp_path / "r.yaml").write_text(dump_yaml({"groups": [{"name": "g", "rules": [r.to_dict() for r in mr.rules]}]}))
    cases = tests_for(mr)
    (tmp_path / "t.yaml").write_text(dump_yaml({"rule_files": ["r.yaml"], "evaluation_interval": "1m",
                                                "tests": cases}))
    r = subprocess.run(["promtool", "test", "rules", str(tmp_path / "t.yaml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return cases


@pytest.mark.parametrize("options,group,offset", [
    ({"new_group_delay": 300}, ("instance",), "offset 5m"),
    ({"new_host_delay": 600}, ("instance",), "offset 10m"),          # groups by host
    ({"new_group_delay": 300}, (), None),                             # a simple alert has no new groups
])
def test_new_group_delay(tmp_path, options, group, offset):
    """Datadog skips a new group's evaluations for new_group_delay seconds."""
    mr, item, _ = built("@slack-ops", {"critical": 3, "warning": 2, "critical_recovery": 2.5}, group=group,
                        **options)
    exprs = [lv.rule.expr for lv in mr.levels if lv.state != "no_data"]
    assert all((offset in e) if offset else ("offset" not in e) for e in exprs), exprs
    cases = promtool_passes(tmp_path, mr)
    if offset:   # the crossing at minute 5 alerts only once the group is older than the delay
        crit = next(c for c in cases if "crit" in c["name"])
        firing_at = [t["eval_time"] for t in crit["alert_rule_test"] if t["exp_alerts"]]
        assert firing_at and all(int(t[:-1]) * 60 >= int(offset.split()[1][:-1]) * 60 for t in firing_at)
    else:
        assert any("only delays new groups" in n for n in item.notes)


@pytest.mark.parametrize("query,expr_part,applied", [
    ('"redis.can_connect".over("host:db1").by("host").last(3).count_by_status()',
     'redis_up{instance=~"db1(:[0-9]+)?"}', True),
    ('"kubernetes_state.node.ready".over("host:n1").exclude("node:n2").by("host").last(2).count_by_status()',
     'status="true", node="n1", node!="n2"}', True),
    # a check's `instance` tag names the check instance, not a scrape target: noted, not applied
    ('"http.can_connect".over("instance:site").by("url").last(2).count_by_status()', "(probe_success)", False),
])
def test_service_check_scope(query, expr_part, applied):
    """over()/exclude() tags that are labels of the check's series narrow the
    alert; others are noted (the alert covers more targets, never fewer)."""
    from dd2prom.convert.monitors import service_check
    from dd2prom.validate.promql import promql_error

    a = service_check.convert(spec("service check", query), real_ctx())
    assert expr_part in a.expr and not promql_error(a.expr), a.expr
    assert any(n.startswith("Scope applied") for n in a.notes) is applied
    assert any("is not applied" in n for n in a.notes) is not applied


def test_service_check_thresholds_and_no_data():
    """Datadog: warning/ok are run counts; no_data_timeframe defaults to 24 h for service checks."""
    from dd2prom.convert.monitors import service_check
    from dd2prom.convert.monitors.spec import no_data_timeframe_seconds

    s = MonitorSpec.parse("7", {"id": 7, "type": "service check", "name": "m",
                                "query": '"redis.can_connect".over("*").by("host").last(3).count_by_status()',
                                "options": {"notify_no_data": True,
                                            "thresholds": {"critical": 3, "warning": 1, "ok": 2}}})
    a = service_check.convert(s, real_ctx())
    assert a.for_seconds == 30 and a.warning is None
    assert any("warning threshold" in n for n in a.notes) and any("2 consecutive OK" in n for n in a.notes)
    assert no_data_timeframe_seconds(s, a.window_seconds, a.no_data_default) == 86400
    s.options["no_data_timeframe"] = 5
    assert no_data_timeframe_seconds(s, a.window_seconds, a.no_data_default) == 300


@pytest.mark.parametrize("options,query,keep", [
    ({}, None, "1d"),                                                   # legacy, no notify_no_data
    ({"timeout_h": 2}, None, "2h"),                                     # auto-resolve after timeout_h
    ({"on_missing_data": "default"}, None, "1d"),
    ({"notify_no_data": True}, None, None),                             # → No Data state instead
    ({"on_missing_data": "resolve"}, None, None),
    ({"on_missing_data": "show_no_data"}, None, None),
    ({"on_missing_data": "default"}, "sum(last_5m):sum:errors{*}.as_count() by {host} > 3", None),  # counts as 0
])
def test_missing_data_keeps_last_status(tmp_path, options, query, keep):
    """Datadog keeps a group's last status while its data is missing (until
    timeout_h); Prometheus would resolve at once and notify a false recovery."""
    mr, _, _ = built("@slack-ops", {"critical": 3, "warning": 2}, **options)
    if query:
        mr.spec.query = query
        from dd2prom.convert.monitors.spec import keeps_last_status
        assert not keeps_last_status(mr.spec)
        return
    crit = next(lv for lv in mr.levels if lv.state == "alert")
    assert (f"last_over_time(dd2prom:monitor_value{{dd_monitor_id=\"7\"}}[{keep}])" in crit.rule.expr) is bool(keep)
    cases = promtool_passes(tmp_path, mr)
    stop = next(c for c in cases if "stop" in c["name"])
    last = stop["alert_rule_test"][-1]           # the value stopped 5 minutes ago
    assert any(a["exp_labels"]["instance"] == "stop" for a in last["exp_alerts"]) is bool(keep)


def test_anomaly_recovery_window():
    """threshold_windows.recovery_window: Datadog recovers only after a window without anomalies."""
    from dd2prom.convert.monitors.build import build
    from dd2prom.emit.alertmanager import AlertmanagerConfig
    from dd2prom.model import CoverageItem
    from dd2prom.validate.promql import promql_error

    s = spec("query alert", "avg(last_4h):anomalies(avg:system.load.1{*} by {host}, 'basic', 2) >= 1",
             thresholds={"critical": 1, "critical_recovery": 0},
             threshold_windows={"trigger_window": "last_15m", "recovery_window": "last_30m"})
    a = metric.convert(s, real_ctx())
    assert (a.fraction_window, a.recovery_window) == (900, 1800)
    item = CoverageItem("monitor", "7")
    mr = build(s, a, item, AlertmanagerConfig(), set())
    crit = next(lv for lv in mr.levels if lv.state == "alert")
    assert "[30m:1m]" in crit.rule.expr and 'ALERTS{alertname="M"' in crit.rule.expr
    assert crit.rule.for_seconds == 900 and not promql_error(crit.rule.expr)
    assert not any("Recovery thresholds of anomaly monitors" in n for n in item.notes)


def test_host_variable_template_runs_in_prometheus(tmp_path):
    mr, _, _ = built("{{#is_alert}}load {{value}} on {{host.name}}{{/is_alert}} @slack-ops")
    crit = next(lv for lv in mr.levels if lv.state == "alert")
    assert "reReplaceAll" in crit.rule.annotations["description"]
    promtool_passes(tmp_path, mr)


@pytest.mark.parametrize("group", [("instance",), ()])
def test_require_full_window(tmp_path, group):
    """Datadog skips evaluations until a full window of data exists."""
    mr, item, _ = built("@slack-ops", group=group, require_full_window=True)
    crit = next(lv for lv in mr.levels if lv.state == "alert")
    assert "offset 5m" in crit.rule.expr and crit.delay == 300
    assert any(n.startswith("require_full_window") for n in item.notes)
    promtool_passes(tmp_path, mr)


STATE = {"alert": 3, "warn": 2, "no_data": 1, "ok": 0}


def datadog_composite(op: str, a: str, b: str) -> int:
    """Datadog's table: && → least severe when both alert-worthy, || → most severe,
    !a → OK when alert-worthy, No Data stays No Data, else Alert."""
    x, y = STATE[a], STATE[b]
    if op == "&&":
        return min(x, y) if x and y else 0
    if op == "||":
        return max(x, y)
    return 0 if x >= 2 else 1 if x == 1 else 3


def test_composite_states_match_datadog(tmp_path):
    import itertools
    import subprocess

    from dd2prom.convert.monitors.composite import to_promql
    from dd2prom.emit.yamlio import dump_yaml
    from tests.support import require_binary

    require_binary("promtool")
    cases = []
    for op, (a, b) in itertools.product(("&&", "||", "!"), itertools.product(STATE, STATE)):
        series = [{"series": f'ALERTS{{dd_monitor_id="{mid}", dd_state="{st}", alertstate="firing"}}', "values": "1"}
                  for mid, st in (("1", a), ("2", b)) if st != "ok"]
        expr = to_promql("!1" if op == "!" else f"1 {op} 2")
        cases.append({"interval": "1m", "input_series": series, "promql_expr_test": [
            {"expr": expr, "eval_time": "0m",
             "exp_samples": [{"labels": "{}", "value": datadog_composite(op, a, b)}]}]})
    (tmp_path / "t.yaml").write_text(dump_yaml({"rule_files": [], "tests": cases}))
    r = subprocess.run(["promtool", "test", "rules", str(tmp_path / "t.yaml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr


def test_exact_match_on_host_ignores_the_port(tmp_path):
    """{{#is_exact_match "host.name" "web-1"}} is a host name; instance is web-1:9100."""
    from dd2prom.convert.monitors import message as msg
    from dd2prom.convert.monitors.routing import condition_matchers

    variables = msg.Variables(labels=lambda t: {"host": "instance"}.get(t), any_label=lambda t: t)
    parts = msg.parse('{{#is_exact_match "host.name" "web-1"}}W @slack-web{{/is_exact_match}}', variables, [])
    assert msg.render(parts, {"instance": "web-1:9100"}, "1") == "W @slack-web"
    assert msg.render(parts, {"instance": "web-10:9100"}, "1") == ""
    ((_, conds),) = msg.mentions(parts)
    assert condition_matchers(conds) == ['instance=~"(web-1)(:[0-9]+)?"']
    mr, _, am = built('{{#is_exact_match "host.name" "ok"}}@slack-web{{/is_exact_match}} @slack-ops')
    assert "reReplaceAll" in mr.levels[0].rule.annotations["description"]
    promtool_passes(tmp_path, mr)   # the template runs in Prometheus as rendered here
    # the block renders on recovery too: slack-web hears of recoveries
    assert am_routes_test(tmp_path, am, "dd_monitor_id=7", "dd_state=alert", "instance=ok:9100") == [
        "slack-ops", "slack-web"]
    assert am_routes_test(tmp_path, am, "dd_monitor_id=7", "dd_state=alert", "instance=ok2:9100") == ["slack-ops"]


@pytest.mark.parametrize("comparator,critical,recovery,still_firing_at_recovery", [
    (">", 3, 2, False),     # Datadog: > recovers at <= recovery
    (">=", 3, 2, True),     #          >= recovers at < recovery
    ("<", 2, 3, False),     #          < recovers at >= recovery
    ("<=", 2, 3, True),     #          <= recovers at > recovery
])
def test_recovery_threshold_direction(tmp_path, comparator, critical, recovery, still_firing_at_recovery):
    """Datadog's recovery-threshold table, checked by promtool on the generated rule."""
    import subprocess

    from dd2prom.emit.yamlio import dump_yaml
    from tests.support import require_binary

    require_binary("promtool")
    mr, _, _ = built("", {"critical": critical, "critical_recovery": recovery}, group=(), comparator=comparator,
                     notify_no_data=True)
    crit = next(lv for lv in mr.levels if lv.state == "alert")
    (tmp_path / "r.yaml").write_text(dump_yaml({"groups": [{"name": "g", "rules": [crit.rule.to_dict()]}]}))
    trigger = critical + (1 if comparator.startswith(">") else -1)
    test = {"interval": "1m", "input_series": [
        {"series": 'dd2prom:monitor_value{dd_monitor_id="7"}', "values": f"{trigger} {trigger} {recovery} {recovery}"}],
        "alert_rule_test": [{"eval_time": "3m", "alertname": crit.rule.name, "exp_alerts": [
            {"exp_labels": {"dd_monitor_id": "7", **crit.rule.labels}, "exp_annotations": crit.rule.annotations}]
            if still_firing_at_recovery else []}]}
    (tmp_path / "t.yaml").write_text(dump_yaml({"rule_files": ["r.yaml"], "tests": [test]}))
    r = subprocess.run(["promtool", "test", "rules", str(tmp_path / "t.yaml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_recovery_message_per_state():
    """{{#is_alert_recovery}} renders when the alert recovers, {{#is_warning_recovery}}
    when the warning does, {{#is_no_data_recovery}} when data returns."""
    mr, _, _ = built("{{#is_alert_recovery}}A ok{{/is_alert_recovery}}{{#is_warning_recovery}}W ok"
                     "{{/is_warning_recovery}}{{#is_no_data_recovery}}data back{{/is_no_data_recovery}}"
                     "{{#is_recovery}} fine{{/is_recovery}}",
                     {"critical": 3, "warning": 2}, notify_no_data=True)
    rec = {lv.state: lv.rule.annotations["recovery_message"] for lv in mr.levels}
    assert rec == {"alert": "A ok fine", "warn": "W ok fine", "no_data": "data back fine"}


def test_transition_blocks_are_noted():
    _, item, am = built("{{#is_warning_to_alert}}escalated @pagerduty-x{{/is_warning_to_alert}} @slack-ops",
                        {"critical": 3, "warning": 2})
    assert item.status.value == "approximate"
    assert any("is_warning_to_alert" in n and "@pagerduty-x" in n for n in item.notes)
    assert "pagerduty-x" not in am.receivers


def test_zero_fill_presence_is_shifted_too():
    """default_zero()'s presence check reads the same shifted data (week_before, evaluation_delay)."""
    from dd2prom.convert.queries import translate

    t = translate("week_before(default_zero(sum:trace.http.request.errors{service:web}.as_count()))")
    found = list(selectors(promql_parser.parse(t.promql)))
    assert len(found) == 2 and all(s.offset == timedelta(weeks=1) for s in found), t.promql


@pytest.mark.parametrize("ref, name, plain", [
    ("123", "DiskFull", 2), ("a-b.c:1", "X", 2), ('1"2', "DiskFull", 1), ("1\\2", "A", 1), ("", "A", 1),
])
def test_rule_check_remembered_only_for_plain_values(ref, name, plain):
    """Alerting rules alike but for the monitor's id and alert name are checked once;
    only values that cannot change the parse are replaced, and errors are always
    the parser's own message about the expression."""
    import importlib

    from dd2prom.validate.promql import promql_error

    mod = importlib.import_module("dd2prom.convert.monitors.build")   # (the package's ``build`` is the function)
    swaps = mod._placeholders(ref, name)
    assert len(swaps) == plain
    good = f'dd2prom:monitor_value{{dd_monitor_id="{ref}"}} > 5 and ALERTS{{alertname="{name}"}}'
    bad = f'dd2prom:monitor_value{{dd_monitor_id="{ref}"}} > and ALERTS{{alertname="{name}"}}'
    assert mod._rule_error(good, swaps) == promql_error(good)
    assert mod._rule_error(bad, swaps) == promql_error(bad) is not None
    other = mod._placeholders("999", "Other")
    assert mod._rule_error(good.replace(f'"{ref}"', '"999"').replace(f'"{name}"', '"Other"'), other) is None
