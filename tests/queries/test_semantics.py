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
    # arithmetic without as_count: Datadog divides point by point, then averages over the window:
    # a/b at minutes 6..10 = 1,1,1,1,0.25 → 0.85 (not avg(a)/avg(b) = 0.625)
    Case("monitor window over arithmetic (classic path)", "avg(last_5m):avg:my.a{*} / avg:my.b{*} > 0",
         {"my_a": "1+0x12", "my_b": "1 1 1 1 1 1 1 1 1 1 4 4 4"}, "10m30s", [("{}", 0.85)], target="monitor"),
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
    # default_zero outside dashboards: no effect when the window holds no point at all (Datadog's
    # documented monitor behaviour), 0 when the series reported in the window but the count has no value
    Case("default_zero with no data has no effect", "default_zero(sum:my.app.errors{*}.as_count())",
         {"other_metric": "1+0x10"}, "5m30s", [], metadata={"my.app.errors": COUNT}),
    Case("default_zero fills a sparse series", "default_zero(sum:my.gauge{*})",
         {"my_gauge": "3 3 3 3 3 stale"}, "7m30s", [("{}", 0)]),
    # default_zero keeps real values
    Case("default_zero with data", "default_zero(sum:my.gauge{*})", {"my_gauge": "3+0x10"}, "5m30s", [("{}", 3)]),
    # fill(zero) per group fills gaps of up to 300 s (Datadog's default limit): group b went stale
    # 2.5 minutes ago → 0, group c 10 minutes ago → no value, group a keeps its value
    Case("fill zero keeps groups", "sum:my.gauge{*} by {host}.fill(zero)",
         {'my_gauge{instance="a"}': "4+0x20", 'my_gauge{instance="b"}': "5+0x12 stale",
          'my_gauge{instance="c"}': "6+0x5 stale"},
         "15m30s", [('{instance="a"}', 4), ('{instance="b"}', 0)]),
    # fill(zero, 600): c's 10-minute-old gap is filled too
    Case("fill zero limit", "sum:my.gauge{*} by {host}.fill(zero, 600)",
         {'my_gauge{instance="b"}': "5+0x12 stale", 'my_gauge{instance="c"}': "6+0x6 stale"},
         "15m30s", [('{instance="b"}', 0), ('{instance="c"}', 0)]),
    # top 1 by mean over the window: a has the higher mean (8) though b is higher now (5 > 0)
    Case("top ranks over the window", "top(avg:my.gauge{*} by {host}, 1, 'mean', 'desc')",
         {'my_gauge{instance="a"}': "10 10 10 10 10 10 10 10 10 10 0",
          'my_gauge{instance="b"}': "1 1 1 1 1 1 1 1 1 1 5"},
         "10m30s", [('{instance="a"}', 0)]),
    # top_offset skips the first ranked series: by mean c (9) > a (5) > b (1) → offset 1, limit 1 → a
    Case("top_offset", "top_offset(avg:my.gauge{*} by {host}, 1, 'mean', 'desc', 1)",
         {'my_gauge{instance="a"}': "5+0x10", 'my_gauge{instance="b"}': "1+0x10", 'my_gauge{instance="c"}': "9+0x10"},
         "5m30s", [('{instance="a"}', 5)]),
    # log10 of 0 is not finite: Datadog reads it as null (no point), PromQL would give -Inf
    Case("log10 drops non-positive values", "log10(sum:my.gauge{*} by {host})",
         {'my_gauge{instance="a"}': "100+0x10", 'my_gauge{instance="b"}': "0+0x10"}, "5m30s", [('{instance="a"}', 2)]),
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
    # percentile(last_5m):p95 is the 95th percentile of every value in the window: 30 fast values
    # (le 0.1) in minutes 6..9 and 10 slow ones (0.1..1) in minute 10 → rank 38 of 40 falls in the slow
    # bucket: 0.1 + 0.9 * 8/10 = 0.82 (a median of per-minute p95s would be 0.095)
    Case("percentile monitor over a distribution", "percentile(last_5m):p95:my.app.latency{*} > 0",
         {'my_app_latency_bucket{le="0.1"}': "0+10x9 90", 'my_app_latency_bucket{le="1"}': "0+10x10",
          'my_app_latency_bucket{le="+Inf"}': "0+10x10"},
         "10m30s", [("{}", 0.8200000000000001)], target="monitor",  # 0.82 in float arithmetic
         metadata={"my.app.latency": {"type": "distribution"}}),
    # avg of a distribution = sum / count: values of 0.2 each
    Case("distribution avg", "avg:my.app.latency{*}",
         {"my_app_latency_sum": "0+2x20", "my_app_latency_count": "0+10x20"},
         "10m30s", [("{}", 0.2)], metadata={"my.app.latency": {"type": "distribution"}}),
    # change over 1h of the 5-minute average: 68 - 8 = 60
    Case("change monitor", "change(avg(last_5m),last_1h):avg:my.gauge{*} > 0",
         {"my_gauge": "0+1x80"}, "70m30s", [("{}", 60)], target="monitor"),
    # pct_change is the percentage point by point, then averaged over the window (Datadog's change
    # alert): minutes 66..70 against 6..10 → 1000, 857.14, 750, 666.67, 600 → 774.76 (not 750,
    # the change of the averages)
    Case("pct_change monitor", "pct_change(avg(last_5m),last_1h):avg:my.gauge{*} > 0",
         {"my_gauge": "0+1x80"}, "70m30s",
         [("{}", sum((m - (m - 60)) / (m - 60) * 100 for m in range(66, 71)) / 5)], target="monitor"),
    # change(max): the max over the window of the point-wise change: restarts jump by 10 at minute 8,
    # and had jumped by 10 at minute 2 → max of x(t) - x(t-5m) over minutes 6..10 is 10 (the change of
    # the maximums, 10 - 10, would be 0 and miss the restart)
    Case("change max is the max of point-wise changes", "change(max(last_5m),last_5m):max:my.gauge{*} > 0",
         {"my_gauge": "0 0 10 10 10 10 10 10 20 20 20"}, "10m30s", [("{}", 10)], target="monitor"),
    # pct_change where the value an hour earlier was 0: minutes 61..63 (base 0) are left out, not +Inf;
    # minutes 64, 65 go from 2 to 3 → 50
    Case("pct_change skips a zero base", "pct_change(max(last_5m),last_1h):avg:my.gauge{*} > 0",
         {"my_gauge": "0 0 0 0 2 2 1+0x57 3 3"}, "65m30s", [("{}", 50)], target="monitor"),
    # last(last_5m) of a count: the count of the last interval (10 a minute), not of the whole window (50)
    Case("last of as_count is the last interval", "last(last_5m):sum:my.app.errors{*}.as_count() > 0",
         {"my_app_errors_total": "0+5x40"}, "10m30s", [("{}", 10)], target="monitor",
         metadata={"my.app.errors": COUNT}, interval="30s"),
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
    # the same in a formula over a named query: diff(query1) is still per series
    Case("diff per series in a formula", "diff(query1)",
         {'my_gauge{instance="a"}': "10+10x20", 'my_gauge{instance="b"}': "50+0x20"}, "10m30s", [("{}", 10)],
         formula={"query1": "max:my.gauge{*}"}),
    # derivative() is diff/dt: a gauge rising by 6 a minute → 0.1 per second, also averaged over a
    # monitor window (PromQL's deriv over a one-step subquery would return nothing here)
    Case("derivative", "derivative(avg:my.gauge{*})", {"my_gauge": "0+6x20"}, "10m30s", [("{}", 0.1)]),
    Case("derivative in a monitor window", "avg(last_5m):derivative(avg:my.gauge{*}) > 0",
         {"my_gauge": "0+6x20"}, "10m30s", [("{}", 0.1)], target="monitor"),
    # count_nonzero counts the groups that are not 0: 1 of 2, and 0 (not no data) when every group is 0
    Case("count_nonzero", "count_nonzero(sum:my.gauge{*} by {host})",
         {'my_gauge{instance="a"}': "0+0x10", 'my_gauge{instance="b"}': "3+0x10"}, "5m30s", [("{}", 1)]),
    Case("count_nonzero of zeros is 0", "count_nonzero(sum:my.gauge{*} by {host})",
         {'my_gauge{instance="a"}': "0+0x10", 'my_gauge{instance="b"}': "0+0x10"}, "5m30s", [("{}", 0)]),
    # env/service on cAdvisor series come from the pods' tags.datadoghq.com/* labels on kube_pod_labels;
    # the scrape's own service="kubelet" label does not leak into the groups
    Case("service through kube_pod_labels", "sum:kubernetes.memory.usage{env:prod} by {service}",
         {'container_memory_usage_bytes{namespace="a",pod="p1",container="c",service="kubelet"}': "100+0x10",
          'container_memory_usage_bytes{namespace="a",pod="p2",container="c",service="kubelet"}': "50+0x10",
          'container_memory_usage_bytes{namespace="a",pod="p3",container="c",service="kubelet"}': "7+0x10",
          'kube_pod_labels{namespace="a",pod="p1",label_tags_datadoghq_com_env="prod",'
          'label_tags_datadoghq_com_service="checkout"}': "1+0x10",
          'kube_pod_labels{namespace="a",pod="p2",label_tags_datadoghq_com_env="prod"}': "1+0x10",
          'kube_pod_labels{namespace="a",pod="p3",label_tags_datadoghq_com_env="dev",'
          'label_tags_datadoghq_com_service="checkout"}': "1+0x10"},
         "5m30s", [('{service="checkout"}', 100), ("{}", 50)]),
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
    # kube_cluster_name on a single-cluster Prometheus (no cluster label): the alert still sees the data
    Case("cluster filter on a single-cluster server", "max:system.load.1{kube_cluster_name:prod-eks}",
         {'node_load1{instance="a"}': "3+0x10", 'node_load1{instance="b",cluster="dev"}': "9+0x10"},
         "5m30s", [("{}", 3)]),
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
