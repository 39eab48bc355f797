"""Semantic tests: the translated PromQL, evaluated by promtool on input
series, gives the value Datadog's documented semantics give for the same data.

Each case states the data (Prometheus series, one sample per ``interval``),
the Datadog query, and the value Datadog would show, worked out by hand in
the comment. Evaluation times fall between samples so that Prometheus 2.x's
closed range boundaries and Datadog's bucket boundaries hold the same points.
All cases run in one ``promtool test rules`` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dd2prom.convert.queries import TranslateContext, translate, translate_formula
from dd2prom.emit.yamlio import dump_yaml
from dd2prom.validate.tools import promtool_test_rules
from tests.support import require_binary

COUNT = {"type": "count"}


@dataclass
class Case:
    id: str
    query: str
    series: dict[str, str]                 # Prometheus series → promtool values notation
    eval_time: str
    expected: list[tuple[str, float]]      # (labels, value)
    target: str = "plain"
    metadata: dict[str, dict] = field(default_factory=dict)
    interval: str = "1m"
    formula: dict[str, str] | None = None  # named queries when query is a formula
    window: str | None = None


CASES = [
    # last_5m of 1-minute points 6..10 → avg 8 (points at 5m30s..10m30s)
    Case("monitor window avg", "avg(last_5m):avg:system.load.1{*} by {host} > 0",
         {'node_load1{instance="a"}': "0+1x20", 'node_load1{instance="b"}': "100+0x20"},
         "10m30s", [('{instance="a"}', 8), ('{instance="b"}', 100)], target="monitor"),
    # max over the window, then max across hosts: max(6..10, 3) = 10
    Case("monitor window max", "max(last_5m):max:system.load.1{*} > 0",
         {'node_load1{instance="a"}': "0+1x20", 'node_load1{instance="b"}': "3+0x20"},
         "10m30s", [("{}", 10)], target="monitor"),
    # min over time of the sum across hosts, not the sum of minimums:
    # a = 10,0,10,0,.. and b = 0,10,0,10,.. → the sum is 10 at every point → min 10
    Case("monitor window min of sum (subquery)", "min(last_5m):sum:system.load.1{*} > 0",
         {'node_load1{instance="a"}': "10 0 10 0 10 0 10 0 10 0 10 0 10",
          'node_load1{instance="b"}': "0 10 0 10 0 10 0 10 0 10 0 10 0"},
         "10m30s", [("{}", 10)], target="monitor"),
    # a count metric with 10 events a minute: the 5-minute sum is 50
    Case("as_count on a counter sums the window", "sum(last_5m):sum:my.app.errors{*}.as_count() > 0",
         {"my_app_errors_total": "0+10x20"}, "10m30s", [("{}", 50)], target="monitor",
         metadata={"my.app.errors": COUNT}),
    # as_rate of 10 events a minute: 1/6 per second
    Case("as_rate on a counter", "avg(last_5m):sum:my.app.errors{*}.as_rate() > 0",
         {"my_app_errors_total": "0+10x20"}, "10m30s", [("{}", 10 / 60)], target="monitor",
         metadata={"my.app.errors": COUNT}),
    # errors/hits per service over the window, each side summed first: 5/50 = 0.1
    Case("arithmetic between as_count queries",
         "sum(last_5m):sum:my.app.errors{*} by {service}.as_count() / sum:my.app.hits{*} by {service}.as_count() > 0",
         {'my_app_errors_total{service="web"}': "0+1x20", 'my_app_hits_total{service="web"}': "0+10x20",
          'my_app_errors_total{service="api"}': "0+2x20", 'my_app_hits_total{service="api"}': "0+10x20"},
         "10m30s", [('{service="web"}', 0.1), ('{service="api"}', 0.2)], target="monitor",
         metadata={"my.app.errors": COUNT, "my.app.hits": COUNT}),
    # by-groups: sum per env of two hosts each
    Case("space aggregation by groups", "sum:system.load.1{*} by {env}",
         {'node_load1{instance="a",env="prod"}': "1+0x10", 'node_load1{instance="b",env="prod"}': "2+0x10",
          'node_load1{instance="c",env="dev"}': "5+0x10"},
         "5m30s", [('{env="prod"}', 3), ('{env="dev"}', 5)]),
    # no aggregator in the query: Datadog still averages across series
    Case("no aggregator averages", "system.load.1{*}",
         {'node_load1{instance="a"}': "1+0x10", 'node_load1{instance="b"}': "3+0x10"},
         "5m30s", [("{}", 2)]),
    # rollup(max, 300) of 0..10: the bucket ending now holds 6..10 → 10; rollup(avg, 300) → 8
    Case("rollup max", "avg:my.gauge{*}.rollup(max, 300)", {"my_gauge": "0+1x20"}, "10m30s", [("{}", 10)]),
    Case("rollup avg", "avg:my.gauge{*}.rollup(avg, 300)", {"my_gauge": "0+1x20"}, "10m30s", [("{}", 8)]),
    # OR across keys is a union: the series matching both sides counts once → 1+2+4 = 7
    Case("OR scope is a union", "sum:my.gauge{env:prod OR role:db}",
         {'my_gauge{env="prod",role="db"}': "1+0x10", 'my_gauge{env="prod",role="web"}': "2+0x10",
          'my_gauge{env="dev",role="db"}': "4+0x10", 'my_gauge{env="dev",role="web"}': "8+0x10"},
         "5m30s", [("{}", 7)]),
    # wildcard and negation: web-* except web-2
    Case("wildcard and negation", "sum:my.gauge{host:web-*,!host:web-2}",
         {'my_gauge{instance="web-1:9100"}': "1+0x10", 'my_gauge{instance="web-2:9100"}': "2+0x10",
          'my_gauge{instance="db-1:9100"}': "4+0x10"},
         "5m30s", [("{}", 1)]),
    # default_zero with no data at all: 0
    Case("default_zero with no data", "default_zero(sum:my.app.errors{*}.as_count())",
         {"other_metric": "1+0x10"}, "5m30s", [("{}", 0)], metadata={"my.app.errors": COUNT}),
    # default_zero keeps real values
    Case("default_zero with data", "default_zero(sum:my.gauge{*})", {"my_gauge": "3+0x10"}, "5m30s", [("{}", 3)]),
    # fill(zero) per group: group b stopped reporting 6 minutes ago → 0, group a keeps its value
    Case("fill zero keeps groups", "sum:my.gauge{*} by {host}.fill(zero)",
         {'my_gauge{instance="a"}': "4+0x20", 'my_gauge{instance="b"}': "5+0x5"},
         "15m30s", [('{instance="a"}', 4), ('{instance="b"}', 0)]),
    # top 1 by mean over the window: a has the higher mean (8) though b is higher now (5 > 0)
    Case("top ranks over the window", "top(avg:my.gauge{*} by {host}, 1, 'mean', 'desc')",
         {'my_gauge{instance="a"}': "10 10 10 10 10 10 10 10 10 10 0",
          'my_gauge{instance="b"}': "1 1 1 1 1 1 1 1 1 1 5"},
         "10m30s", [('{instance="a"}', 0)]),
    # week_before: the value 168 hours earlier (hourly points; evaluated 2 minutes after one)
    Case("week_before offsets", "week_before(avg:my.gauge{*})", {"my_gauge": "0+1x200"}, "170h2m", [("{}", 2)],
         interval="1h"),
    # timeshift by -3600 s equals hour_before
    Case("timeshift", "timeshift(avg:my.gauge{*}, -3600)", {"my_gauge": "0+1x200"}, "10h2m", [("{}", 9)],
         interval="1h"),
    # p50 of values all equal to 0.05 (all in the first bucket, le=0.1): Datadog 0.05
    Case("percentile from histogram buckets", "p50:my.app.latency{*}",
         {'my_app_latency_bucket{le="0.1"}': "0+10x20", 'my_app_latency_bucket{le="1"}': "0+10x20",
          'my_app_latency_bucket{le="+Inf"}': "0+10x20"},
         "10m30s", [("{}", 0.05)], metadata={"my.app.latency": {"type": "distribution"}}),
    # avg of a distribution = sum / count: values of 0.2 each
    Case("distribution avg", "avg:my.app.latency{*}",
         {"my_app_latency_sum": "0+2x20", "my_app_latency_count": "0+10x20"},
         "10m30s", [("{}", 0.2)], metadata={"my.app.latency": {"type": "distribution"}}),
    # change over 1h of the 5-minute average: 68 - 8 = 60
    Case("change monitor", "change(avg(last_5m),last_1h):avg:my.gauge{*} > 0",
         {"my_gauge": "0+1x80"}, "70m30s", [("{}", 60)], target="monitor"),
    # pct_change: (68 - 8) / 8 * 100 = 750
    Case("pct_change monitor", "pct_change(avg(last_5m),last_1h):avg:my.gauge{*} > 0",
         {"my_gauge": "0+1x80"}, "70m30s", [("{}", 750)], target="monitor"),
    # arithmetic with a constant and between grouped/ungrouped queries
    Case("grouped / ungrouped", "sum:my.gauge{*} by {host} / sum:my.other{*}",
         {'my_gauge{instance="a"}': "4+0x10", 'my_gauge{instance="b"}': "6+0x10", "my_other": "2+0x10"},
         "5m30s", [('{instance="a"}', 2), ('{instance="b"}', 3)]),
    Case("formula", "query1 / query2 * 100", {"my_gauge": "1+0x10", "my_other": "4+0x10"}, "5m30s",
         [("{}", 25)], formula={"query1": "avg:my.gauge{*}", "query2": "avg:my.other{*}"}),
    # per_minute of a count: 10 events a minute
    Case("per_minute", "per_minute(sum:my.app.errors{*}.as_count())", {"my_app_errors_total": "0+10x20"},
         "10m30s", [("{}", 10)], metadata={"my.app.errors": COUNT}),
    # diff() runs per series before the space aggregation: max(+10, 0) = 10, not max(110, 50) - max(100, 50) = 0
    Case("diff per series", "diff(max:my.gauge{*})",
         {'my_gauge{instance="a"}': "10+10x20", 'my_gauge{instance="b"}': "50+0x20"}, "10m30s", [("{}", 10)]),
    # kube_deployment on cAdvisor series comes through kube-state-metrics' owner metrics:
    # web = 0.5 + 1 cores; the StatefulSet pod has no deployment (Datadog's N/A group) → label absent
    Case("deployment through owner join", "sum:kubernetes.cpu.usage.total{*} by {kube_deployment}",
         {'container_cpu_usage_seconds_total{namespace="a",pod="web-1",container="c"}': "0+30x20",
          'container_cpu_usage_seconds_total{namespace="a",pod="web-2",container="c"}': "0+60x20",
          'container_cpu_usage_seconds_total{namespace="a",pod="db-0",container="c"}': "0+30x20",
          'kube_pod_owner{namespace="a",pod="web-1",owner_kind="ReplicaSet",owner_name="web-5d9"}': "1+0x20",
          'kube_pod_owner{namespace="a",pod="web-2",owner_kind="ReplicaSet",owner_name="web-5d9"}': "1+0x20",
          'kube_pod_owner{namespace="a",pod="db-0",owner_kind="StatefulSet",owner_name="db"}': "1+0x20",
          'kube_replicaset_owner{namespace="a",replicaset="web-5d9",owner_kind="Deployment",owner_name="web"}':
          "1+0x20"},
         "10m30s", [('{deployment="web"}', 1.5e9), ("{}", 0.5e9)]),
    Case("filter through owner join", "sum:kubernetes_state.container.restarts{kube_stateful_set:db}",
         {'kube_pod_container_status_restarts_total{namespace="a",pod="db-0",container="c"}': "3+0x20",
          'kube_pod_container_status_restarts_total{namespace="a",pod="web-1",container="c"}': "5+0x20",
          'kube_pod_owner{namespace="a",pod="db-0",owner_kind="StatefulSet",owner_name="db"}': "1+0x20",
          'kube_pod_owner{namespace="a",pod="web-1",owner_kind="ReplicaSet",owner_name="web-5d9"}': "1+0x20"},
         "10m30s", [("{}", 3)]),
    # an explicit window (SLO recording rules): 30 minutes of 10/min = 300
    Case("explicit window as_count", "sum:my.app.errors{*}.as_count()", {"my_app_errors_total": "0+10x60"},
         "40m30s", [("{}", 300)], metadata={"my.app.errors": COUNT}, window="30m"),
    # a Prometheus counter Datadog stores as a gauge (KSM restarts): the raw value
    Case("kube-state-metrics restarts are a raw value",
         "sum:kubernetes_state.container.restarts{*} by {kube_namespace}",
         {'kube_pod_container_status_restarts_total{namespace="a",pod="p1"}': "3+0x10",
          'kube_pod_container_status_restarts_total{namespace="a",pod="p2"}': "4+0x10"},
         "5m30s", [('{namespace="a"}', 7)]),
    # kubernetes.cpu.usage.total is nanocores: 0.5 CPU-seconds per second → 5e8
    Case("cAdvisor cpu in nanocores", "sum:kubernetes.cpu.usage.total{*}",
         {'container_cpu_usage_seconds_total{namespace="a",pod="p",container="c"}': "0+30x20"},
         "10m30s", [("{}", 5e8)]),
]


def _translate(case: Case):
    ctx = TranslateContext(target=case.target, metric_metadata=case.metadata, window=case.window)
    if case.formula is not None:
        return translate_formula(case.query, case.formula, ctx=ctx)
    return translate(case.query, monitor=case.target == "monitor", ctx=ctx)


def test_semantics_with_promtool(tmp_path: Path) -> None:
    require_binary("promtool")
    tests = []
    for case in CASES:
        result = _translate(case)
        assert result.promql, (case.id, result.notes, result.error)
        expr = result.monitor.expr if result.monitor else result.promql
        tests.append({
            "name": case.id,
            "interval": case.interval,
            "input_series": [{"series": s, "values": v} for s, v in case.series.items()],
            "promql_expr_test": [{"expr": expr, "eval_time": case.eval_time,
                                  "exp_samples": [{"labels": lab, "value": v} for lab, v in case.expected]}],
        })
    path = tmp_path / "semantics.test.yaml"
    path.write_text(dump_yaml({"rule_files": [], "evaluation_interval": "1m", "tests": tests}))
    result = promtool_test_rules([path])
    assert result.ok, result.output


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_semantic_case_translates(case: Case) -> None:
    result = _translate(case)
    assert result.promql is not None and result.status.value in ("exact", "approximate"), result.notes
