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


def applies(rec: dict[str, Any]) -> bool:
    return rec.get("check") in COLLECTED_BY


def convert(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    what = COLLECTED_BY[rec["check"]]
    item.note(f"Already collected by kube-prometheus-stack: {what}; no scrape object written.")
    item.extra["exporter"] = "kube-prometheus-stack"
    item.extra["scrape_object"] = "none (kube-prometheus-stack)"
