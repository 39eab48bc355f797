"""Mapping tables: shipped data, user overrides, tag → label, derived names."""

from __future__ import annotations

from pathlib import Path

import pytest

from dd2prom.convert.queries import TranslateContext, translate
from dd2prom.convert.queries.mapping import (
    derived_name, label_for_tag, load_mappings, prom_metric_for, sanitize_label, template,
)


def test_shipped_core_metrics() -> None:
    m = load_mappings(None)
    assert prom_metric_for(m, "system.load.1").prom == "node_load1"
    cpu = prom_metric_for(m, "kubernetes.cpu.usage.total")
    assert cpu.template and "container_cpu_usage_seconds_total" in cpu.prom_metrics and "1e9" in cpu.template
    req = prom_metric_for(m, "kubernetes_state.container.cpu_requested")
    assert req.prom_metrics == ["kube_pod_container_resource_requests"]
    assert prom_metric_for(m, "coredns.request_count.count").prom_type == "counter"


@pytest.mark.parametrize("tag,metric,label", [
    ("host", None, "instance"), ("host", "kubernetes_state.pod.ready", "node"), ("kube_namespace", None, "namespace"),
    ("pod_name", None, "pod"), ("kube_deployment", None, "deployment"),
    ("container_name", "docker.mem.rss", "name"),
    ("availability-zone", None, "availability_zone"), ("1a", None, "_1a"), ("__x", None, "tag__x"),
])
def test_label_for_tag(tag: str, metric: str | None, label: str) -> None:
    assert label_for_tag(load_mappings(None), tag, metric) == label


@pytest.mark.parametrize("dd,ptype,name", [
    ("my.app.requests", "counter", "my_app_requests_total"),
    ("my.app.requests.count", "counter", "my_app_requests_total"),
    ("my.errors_total", "counter", "my_errors_total"), ("my.gauge", "gauge", "my_gauge"),
    ("my.latency", "histogram", "my_latency"), ("9lives.x-y", "gauge", "_9lives_x_y"),
])
def test_derived_names(dd: str, ptype: str, name: str) -> None:
    assert derived_name(dd, ptype) == name


def test_unmapped_metric_uses_metadata_type() -> None:
    info = prom_metric_for(load_mappings(None), "my.app.hits", {"type": "count"})
    assert (info.prom, info.prom_type, info.mapped) == ("my_app_hits_total", "counter", False)


def test_template_marks_selectors_windows_and_groups() -> None:
    assert template('sum by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 1e9') == \
        'sum by (instance@B) (rate(node_cpu_seconds_total{mode="idle",@}[$W])) * 1e9'
    assert template("node_load1 / count by (instance) (node_cpu_seconds_total)") == \
        "node_load1{@} / on (instance@B) group_left count by (instance@B) (node_cpu_seconds_total{@})"


def test_user_file_overrides_and_extends(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(
        "metrics:\n"
        "  my.app.requests: {prometheus: http_requests_total, type: counter, datadog_type: count}\n"
        "  system.load.1: {promql: 'node_load1 * 2'}\n"
        "  my.app.queue: http_queue_depth\n"
        "tags:\n"
        "  team: owner_team\n")
    m = load_mappings(user)
    ctx = TranslateContext(mappings=m)
    r = translate("sum:my.app.requests{team:a} by {team}.as_count()", ctx=ctx)
    assert r.promql == 'sum by (owner_team) (increase(http_requests_total{owner_team="a"}[5m]))'
    assert r.status.value == "exact"
    assert translate("avg:system.load.1{env:x}", ctx=ctx).promql == 'avg(node_load1{env="x"} * 2)'
    assert translate("max:my.app.queue{*}", ctx=ctx).promql == "max(http_queue_depth)"
    # the shipped tables are untouched for other callers
    assert translate("avg:system.load.1{*}").promql == "avg(node_load1)"


def test_bad_user_file_is_an_error_result(tmp_path: Path) -> None:
    user = tmp_path / "bad.yaml"
    user.write_text("- just a list\n")
    with pytest.raises(ValueError):
        load_mappings(user)


def test_sanitize_label() -> None:
    assert sanitize_label("kube.app/name") == "kube_app_name"


@pytest.mark.parametrize("dd,known,name", [
    ("app.latency.sum", set(), "app_latency_sum"),
    ("app.latency.count", {"app.latency.sum"}, "app_latency_count"),
    ("app.latency.count", {"app.latency.bucket"}, "app_latency_count"),
    ("app.requests.count", {"app.other.sum"}, "app_requests_total"),
])
def test_histogram_parts_keep_their_suffix(dd: str, known: set[str], name: str) -> None:
    assert derived_name(dd, "counter", known) == name


def test_histogram_parts_through_translate() -> None:
    md = {"app.latency.sum": {"type": "count"}, "app.latency.count": {"type": "count"}}
    r = translate("sum:app.latency.sum{*}.as_rate() / sum:app.latency.count{*}.as_rate()",
                  ctx=TranslateContext(metric_metadata=md))
    assert r.promql == "sum(rate(app_latency_sum[5m])) / sum(rate(app_latency_count[5m]))"


def test_blackbox_labels() -> None:
    r = translate("avg:network.http.response_time{instance:shop} by {url}")
    assert r.promql == 'avg by (instance) (probe_duration_seconds{check_name="shop"})' and r.status.value == "exact"


def test_generated_table_is_up_to_date() -> None:
    """mappings/metrics.yaml is what scripts/gen_mappings.py makes of the reference maps."""
    import importlib.util

    from dd2prom.resources import mappings_dir
    from tests.support import shared_dir

    ref = shared_dir("reference", "metric-maps")
    script = Path(__file__).resolve().parents[2] / "scripts" / "gen_mappings.py"
    spec = importlib.util.spec_from_file_location("gen_mappings", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.render(ref) == (mappings_dir() / "metrics.yaml").read_text()


def test_every_mapping_row_translates_to_valid_promql() -> None:
    """Each shipped row, with a scope, groups, a join tag and a monitor window, gives PromQL that parses."""
    from dd2prom.validate.promql import promql_error

    mappings = load_mappings(None)
    failures = []
    for name in mappings.metrics:
        for query, monitor in ((f"sum:{name}{{env:x,kube_deployment:a}} by {{host}}", False),
                               (f"max(last_10m):p95:{name}{{*}} by {{host}} > 1", True),
                               (f"sum(last_10m):sum:{name}{{*}}.as_count() > 1", True)):
            r = translate(query, monitor=monitor, ctx=TranslateContext(target="monitor" if monitor else "plain"))
            if r.status.value == "error" or (r.promql and promql_error(r.promql)):
                failures.append((query, r.error))
    assert not failures, failures[:5]
