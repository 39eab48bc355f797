"""Family converters: what each monitor type becomes (or why it cannot)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import dd2prom.convert.monitors.metric as metric_family
from dd2prom.convert.monitors import composite, service_check, unsupported
from dd2prom.convert.monitors.base import NotConverted
import dd2prom.convert.monitors.spec as spec_module
from dd2prom.convert.monitors.spec import MonitorSpec, no_data_timeframe_seconds
from dd2prom.convert.queries.types import TranslateContext
from dd2prom.model import Status
from dd2prom.validate.promql import promql_error
from tests.monitors.fake_translate import fake_translate


def spec(type_, query, **options):
    return MonitorSpec.parse("1", {"id": 1, "name": "m", "type": type_, "query": query, "options": options})


def ctx(**shared):
    return SimpleNamespace(shared=shared, translate_context=lambda target="plain", **kw: TranslateContext(target=target))


@pytest.fixture(autouse=True)
def fake(monkeypatch):
    monkeypatch.setattr(metric_family, "translate", fake_translate)


@pytest.mark.parametrize("query,status,expr_part,for_window", [
    ("avg(last_4h):anomalies(avg:latency{*} by {host}, 'basic', 2, direction='above', alert_window='last_15m') >= 1",
     Status.APPROXIMATE, 'stddev_over_time(dd2prom:monitor_input{dd_monitor_id="1"}[4h])', 900),
    ("avg(last_4h):anomalies(avg:latency{*}, 'agile', 3, seasonality='daily', alert_window='last_30m') >= 1",
     Status.MANUAL, "abs(", 1800),
])
def test_anomalies_are_a_z_score(query, status, expr_part, for_window):
    a = metric_family.convert(spec("query alert", query), ctx())
    assert a.status is status and expr_part in a.expr and a.fraction_window == for_window
    assert promql_error(a.expr) is None


def test_forecast_uses_horizon_and_history():
    a = metric_family.convert(spec("query alert", "max(next_1w):forecast(avg:disk.used{*} by {host}, 'linear', 1, "
                                   "history='3d', interval='30m') >= 90"), ctx())
    assert a.expr == 'predict_linear(dd2prom:monitor_input{dd_monitor_id="1"}[3d], 604800)'
    assert a.input_expr == "avg by (instance) (disk_used)"
    assert a.status is Status.APPROXIMATE and a.query_threshold == 90
    with pytest.raises(NotConverted) as e:
        metric_family.convert(spec("query alert", "max(next_1w):forecast(avg:x{*}, 'seasonal', 1) >= 9"), ctx())
    assert e.value.status is Status.MANUAL


def test_composite_logic():
    expr = composite.to_promql("( 1 && !2 ) || 3")
    assert promql_error(expr) is None
    assert expr.startswith('clamp_min(clamp_max((3 * max(ALERTS{dd_monitor_id="1", dd_state="alert"')
    alerts = {r: {"group": [], "status": "exact"} for r in ("1", "2")}
    with pytest.raises(NotConverted) as e:
        composite.convert(spec("composite", "1 && 3"), ctx(monitor_alerts=alerts))
    assert e.value.status is Status.MANUAL and "3" in e.value.reason
    with pytest.raises(NotConverted):
        composite.to_promql("1 && (2")


def test_service_check_needs_an_equivalent():
    q = '"app.can_connect".over("*").by("host").last(3).count_by_status()'
    known = service_check.convert(spec("service check", q.replace("app", "redis"), thresholds={"critical": 1}), ctx())
    assert known.expr == "1 - min by (instance) (redis_up)" and known.for_seconds == 0
    with pytest.raises(NotConverted) as e:
        service_check.convert(spec("service check", q, thresholds={"critical": 2}), ctx())
    assert e.value.status is Status.MANUAL
    a = service_check.convert(spec("service check", q, thresholds={"critical": 2}),
                              ctx(service_checks={"app.can_connect": {"expr": 'up{job="app"}', "group": ["instance"]}}))
    assert a.expr == '1 - min by (instance) (up{job="app"})' and a.for_seconds == 15 and a.critical == 0


@pytest.mark.parametrize("type_", ["log alert", "event-v2 alert", "process alert", "trace-analytics alert", "rum alert",
                                   "ci-pipelines alert", "audit alert", "cost alert", "something new"])
def test_unsupported_types_say_what_to_use(type_):
    with pytest.raises(NotConverted) as e:
        unsupported.convert(spec(type_, "x"), ctx())
    assert e.value.status is Status.UNSUPPORTED and len(e.value.reason) > 40


@pytest.mark.parametrize("options,window,want", [
    ({"notify_no_data": True}, 300, 600),
    ({"notify_no_data": True, "no_data_timeframe": 30}, 300, 1800),
    # on_missing_data replaces notify_no_data/no_data_timeframe and uses the monitor window
    # (Datadog's "Migrating to On Missing Data Configuration" guide)
    ({"on_missing_data": "show_and_notify_no_data"}, 900, 900),
    ({"on_missing_data": "show_and_notify_no_data", "no_data_timeframe": 30}, 900, 900),
    ({"on_missing_data": "show_no_data"}, 300, None),
    ({"on_missing_data": "resolve", "notify_no_data": True}, 300, None),
    ({"notify_no_data": False}, 300, None),
])
def test_no_data_timeframe(options, window, want):
    assert no_data_timeframe_seconds(spec("metric alert", "q", **options), window) == want


def test_a_spec_is_sent_to_a_worker_whole():
    """MonitorSpec and Thresholds pickle as their constructors' arguments: every field comes back."""
    import dataclasses
    import pickle

    original = MonitorSpec.parse("7", {"id": 7, "name": "n", "type": "query alert", "query": "q", "message": "m",
                                       "tags": ["team:a"], "priority": 2, "draft_status": "draft",
                                       "options": {"thresholds": {"critical": 1, "warning": 0.5, "ok": 0,
                                                                  "critical_recovery": 0.8, "warning_recovery": 0.2}}})
    copy = pickle.loads(pickle.dumps(original, pickle.HIGHEST_PROTOCOL))
    assert copy == original and dataclasses.astuple(copy) == dataclasses.astuple(original)
    assert copy.draft and copy.thresholds.warning_recovery == 0.2


def test_rendered_rules_come_back_whole():
    """RenderedRules pickles as its constructor's arguments: a field added later must be sent too."""
    import dataclasses
    import pickle

    from dd2prom.convert.monitors.rulefiles import RenderedRules

    original = RenderedRules(*[f"value {i}" for i, _ in enumerate(dataclasses.fields(RenderedRules))])
    assert dataclasses.astuple(pickle.loads(pickle.dumps(original))) == dataclasses.astuple(original)


@pytest.mark.parametrize("query", [
    "avg(last_5m):avg:cpu{*} by {host} > 1",
    "avg(last_5m):avg:cpu{*} by {host,env} / avg:mem{*}by{ host , pod } > 1",
    "avg(last_5m):avg:cpu{*} nearby {host} > 1",           # not a word "by"
    "avg(last_5m):avg:cpu{*}.rollup(avg) by {a}by {b} > 1",
    "by {first} ... xby {no} _by {no} -by {yes} by{} > 1",
    "avg(last_5m):avg:cpu{*} > 1",
])
def test_group_tags_are_the_word_by(query):
    """The group-by pattern finds "by" as a whole word, as ``\\bby`` does."""
    import re
    old = re.compile(r"\bby\s*\{([^}]*)\}")
    assert [m.group(1) for m in spec_module.BY_RE.finditer(query)] == [m.group(1) for m in old.finditer(query)]
