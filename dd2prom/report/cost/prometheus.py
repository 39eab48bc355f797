"""The Prometheus side: a self-hosted HA pair with long-term storage in object storage
(Thanos or Mimir), sized from an estimate of active series.

Series come from the infrastructure (node_exporter per node, cAdvisor per container,
kube-state-metrics per pod), the application metrics Datadog bills as custom metrics
(one custom metric is one name + tag combination, i.e. one series), the exporters the
converted checks need and the blackbox probes. Every constant comes from the pricing
YAML and is printed in the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dd2prom.report.cost import Bill, CostLine, Pricing

GIB = 2 ** 30
GB = 1e9
DAY = 86400


@dataclass(frozen=True)
class Converted:
    """What the convert output adds to the series count, whatever the cluster's size."""

    exporters: int = 0
    probes: int = 0
    recording_rules: int = 0
    metrics_used: int = 0   # distinct metrics the converted rules and dashboards read (shown, not priced)


@dataclass(frozen=True)
class Workload:
    hosts: float
    containers: float
    custom_metrics: float
    converted: Converted = Converted()


@dataclass(frozen=True)
class SeriesRow:
    source: str
    count: float
    per_unit: float
    key: str

    @property
    def series(self) -> float:
        return self.count * self.per_unit


def series_rows(w: Workload, pricing: Pricing) -> list[SeriesRow]:
    s = "prometheus.series."
    pods = w.containers / max(pricing.number(s + "containers_per_pod"), 1e-9)
    return [
        SeriesRow("node_exporter (per node)", w.hosts, pricing.number(s + "node_exporter_per_node"), s + "node_exporter_per_node"),
        SeriesRow("cAdvisor via kubelet (per container)", w.containers, pricing.number(s + "cadvisor_per_container"), s + "cadvisor_per_container"),
        SeriesRow("kube-state-metrics (per pod)", pods, pricing.number(s + "kube_state_metrics_per_pod"), s + "kube_state_metrics_per_pod"),
        SeriesRow("application metrics (Datadog custom metrics)", w.custom_metrics, pricing.number(s + "custom_metric_series"), s + "custom_metric_series"),
        SeriesRow("exporters for converted checks (per instance)", w.converted.exporters, pricing.number(s + "exporter_instance"), s + "exporter_instance"),
        SeriesRow("blackbox probe targets", w.converted.probes, pricing.number(s + "probe"), s + "probe"),
        SeriesRow("recording rules of the converted monitors and SLOs", w.converted.recording_rules,
                  pricing.number(s + "recording_rule"), s + "recording_rule"),
    ]


@dataclass(frozen=True)
class Sizing:
    series: float
    samples_per_second: float
    memory_gib_per_replica: float
    cores_per_replica: float
    nodes_per_replica: int
    disk_gb_per_replica: float
    object_storage_gb: float
    shared_nodes: int
    replicas: int


def sizing(w: Workload, pricing: Pricing) -> Sizing:
    p = "prometheus."
    series = sum(r.series for r in series_rows(w, pricing))
    interval = pricing.number(p + "scrape_interval_seconds")
    samples = series / interval
    headroom = pricing.number(p + "headroom")
    memory = series * pricing.number(p + "memory_bytes_per_series") * headroom / GIB
    cores = samples / pricing.number(p + "samples_per_second_per_core") * headroom
    node_mem = pricing.number(p + "node.memory_gib") * pricing.number(p + "node.usable_share")
    node_cpu = pricing.number(p + "node.vcpu") * pricing.number(p + "node.usable_share")
    nodes_per_replica = max(1, math.ceil(memory / node_mem), math.ceil(cores / node_cpu))
    disk = (samples * pricing.number(p + "retention_days") * DAY * pricing.number(p + "bytes_per_sample")
            / pricing.number(p + "disk_fill_ratio") / GB)
    lt = p + "long_term."
    object_gb = (series * pricing.number(lt + "retention_days") * DAY / interval
                 * pricing.number(lt + "bytes_per_sample") / GB)
    shared_mem = (pricing.number(lt + "components_memory_gib") + pricing.number(p + "support_memory_gib")) * headroom
    shared_nodes = max(1, math.ceil(shared_mem / node_mem))
    return Sizing(series=series, samples_per_second=samples, memory_gib_per_replica=memory, cores_per_replica=cores,
                  nodes_per_replica=nodes_per_replica, disk_gb_per_replica=disk, object_storage_gb=object_gb,
                  shared_nodes=shared_nodes, replicas=int(pricing.number(p + "replicas")))


def prometheus_bill(w: Workload, pricing: Pricing, with_operations: bool = True) -> Bill:
    p = "prometheus."
    size = sizing(w, pricing)
    node_month = pricing.number(p + "node.hour") * pricing.number("hours_per_month")
    instance = pricing.text(p + "node.instance_type")
    gb_month = pricing.number(p + "block_storage_gb_month")
    obj_month = pricing.number(p + "long_term.object_storage_gb_month")
    prom_nodes = size.replicas * size.nodes_per_replica
    lines = [
        CostLine("Prometheus nodes (HA pair)", prom_nodes, f"{instance} node-equivalents", node_month, prom_nodes * node_month,
                 basis=(f"{size.replicas} replicas x {size.nodes_per_replica} node(s) for {size.memory_gib_per_replica:.1f} GiB "
                        f"and {size.cores_per_replica:.2f} cores each, at ${node_month:.2f}/node/month")),
        CostLine("Local disk (both replicas)", size.replicas * size.disk_gb_per_replica, "GB", gb_month,
                 size.replicas * size.disk_gb_per_replica * gb_month,
                 basis=f"{size.samples_per_second:,.0f} samples/s x retention x bytes/sample / fill ratio, per replica"),
        CostLine("Long-term storage (object storage)", size.object_storage_gb, "GB", obj_month, size.object_storage_gb * obj_month,
                 basis=("one compacted copy of every series for the long-term retention (Thanos: the compactor's "
                        "replica deduplication; without it both replicas' blocks are kept, twice this)")),
        CostLine("Long-term components and Alertmanager/Grafana", size.shared_nodes, f"{instance} node-equivalents", node_month,
                 size.shared_nodes * node_month,
                 basis="querier, store gateway, compactor, Alertmanager, Grafana, operator (memory with headroom)"),
    ]
    if with_operations:
        hours = pricing.number(p + "operations.engineer_hours_per_month")
        rate = pricing.number(p + "operations.engineer_hour")
        lines.append(CostLine("Operations time", hours, "engineer-hours", rate, hours * rate,
                              basis=f"{hours:g} h x ${rate:g}/h (an assumption: replace it with yours)"))
    return Bill("Prometheus (self-hosted)", lines)
