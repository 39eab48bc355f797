"""Checks whose data kube-prometheus-stack already collects: recognised and noted,
no scrape object written (a second one would duplicate every series)."""

from __future__ import annotations

from typing import Any

from dd2prom.convert.context import ConvertContext
from dd2prom.model import CoverageItem

# Datadog check → what collects the equivalent in kube-prometheus-stack
COLLECTED_BY = {
    "kubelet": "the kubelet ServiceMonitor (kubelet and cAdvisor metrics)",
    "cadvisor": "the kubelet ServiceMonitor (/metrics/cadvisor)",
    "kubernetes_state": "kube-state-metrics",
    "kubernetes_state_core": "kube-state-metrics",
    "kube_state_metrics": "kube-state-metrics",
    "kubernetes_apiserver": "the apiserver ServiceMonitor",
    "kube_apiserver_metrics": "the apiserver ServiceMonitor",
    "kube_controller_manager": "the kube-controller-manager ServiceMonitor",
    "kube_scheduler": "the kube-scheduler ServiceMonitor",
    "kube_proxy": "the kube-proxy ServiceMonitor",
    "kube_dns": "the coreDns/kubeDns ServiceMonitor",
    "coredns": "the coreDns ServiceMonitor",
    "etcd": "the kubeEtcd ServiceMonitor",
    "orchestrator": "kube-state-metrics (object state); the Orchestrator Explorer UI has no Prometheus counterpart",
    "kubernetes_core": "the kubelet ServiceMonitor and kube-state-metrics",
    # host checks the Agent runs by default → node-exporter
    "cpu": "node-exporter", "disk": "node-exporter", "memory": "node-exporter", "load": "node-exporter",
    "network": "node-exporter", "uptime": "node-exporter", "io": "node-exporter", "file_handle": "node-exporter",
    "system_core": "node-exporter", "system_swap": "node-exporter", "ntp": "node-exporter (timex collector)",
    "container": "the kubelet ServiceMonitor (cAdvisor)", "containerd": "the kubelet ServiceMonitor (cAdvisor)",
    "docker": "the kubelet ServiceMonitor (cAdvisor)", "cri": "the kubelet ServiceMonitor (cAdvisor)",
}


# Service checks of those integrations and the kube-prometheus-stack series (1 = OK) that stand
# for them; registered for the monitors stage whatever the snapshot holds, since the stack
# collects them anyway.
SERVICE_CHECKS = {
    "kubernetes_state.node.ready": ('max by (node) (kube_node_status_condition{condition="Ready", status="true"})',
                                    ["node"]),
    "kubernetes_state.node.disk_pressure": (
        'max by (node) (kube_node_status_condition{condition="DiskPressure", status="false"})', ["node"]),
    "kubernetes_state.node.memory_pressure": (
        'max by (node) (kube_node_status_condition{condition="MemoryPressure", status="false"})', ["node"]),
    "kubernetes_state.node.pid_pressure": (
        'max by (node) (kube_node_status_condition{condition="PIDPressure", status="false"})', ["node"]),
    "kubernetes_state.node.network_unavailable": (
        'max by (node) (kube_node_status_condition{condition="NetworkUnavailable", status="false"})', ["node"]),
    "kubernetes.kubelet.check": ('min by (instance) (up{job="kubelet", metrics_path="/metrics"})', ["instance"]),
    "kube_apiserver_controlplane.up": ('min by (instance) (up{job="apiserver"})', ["instance"]),
    "coredns.prometheus.health": ('min by (instance) (up{job="coredns"})', ["instance"]),
}


def register_service_checks(ctx: ConvertContext) -> None:
    table = ctx.shared.setdefault("service_checks", {})
    for name, (expr, group) in SERVICE_CHECKS.items():
        table.setdefault(name, {"expr": expr, "group": list(group)})


def applies(rec: dict[str, Any]) -> bool:
    return rec.get("check") in COLLECTED_BY


CONTROL_PLANE = {"etcd", "kube_controller_manager", "kube_scheduler"}


def convert(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    what = COLLECTED_BY[rec["check"]]
    item.note(f"Already collected by kube-prometheus-stack: {what}; no scrape object written.")
    if rec["check"] in CONTROL_PLANE:
        item.note("Managed control planes (EKS, GKE, AKS) do not expose this component to in-cluster "
                  "Prometheus; the chart's ServiceMonitor only finds it on self-managed clusters.")
    item.extra["exporter"] = "kube-prometheus-stack"
    item.extra["scrape_object"] = "none (kube-prometheus-stack)"
