"""The ConfigMap kube-prometheus-stack's Grafana sidecar loads a dashboard from.

The sidecar watches ConfigMaps labelled ``grafana_dashboard: "1"`` (the
chart's default ``sidecar.dashboards.label``/``labelValue``) and, with
``sidecar.dashboards.folderAnnotation: grafana_folder``, files the dashboard in
that folder. A ConfigMap's data must stay under 1 MiB; ``kubectl apply``
without ``--server-side`` also stores the whole object in an annotation
limited to 256 KiB.
"""

from __future__ import annotations

from typing import Any

from dd2prom.emit.k8s import config_map, dns_name

LABEL = {"grafana_dashboard": "1"}
FOLDER_ANNOTATION = "grafana_folder"
MAX_DATA = 1024 * 1024
MAX_CLIENT_APPLY = 256 * 1024


def configmap(uid: str, dashboard_json: str, *, namespace: str, folder: str, source: str) -> dict[str, Any]:
    return config_map(dns_name(uid, prefix="grafana-dashboard-"), {f"{uid}.json": dashboard_json},
                      namespace=namespace, labels=dict(LABEL),
                      annotations={FOLDER_ANNOTATION: folder, "dd2prom.io/source": source})


def size_problem(dashboard_json: str) -> tuple[bool, str | None]:
    """(fits in a ConfigMap, sentence about its size or None)."""
    size = len(dashboard_json.encode("utf-8"))
    if size >= MAX_DATA:
        return False, (f"The dashboard JSON is {size // 1024} KiB, over the 1 MiB a ConfigMap holds; no ConfigMap "
                       "was written: provision grafana/dashboards/ another way (e.g. a Grafana dashboard provider).")
    if size >= MAX_CLIENT_APPLY:
        return True, (f"The dashboard's ConfigMap is {size // 1024} KiB: apply it with `kubectl apply --server-side` "
                      "(client-side apply's annotation is limited to 256 KiB).")
    return True, None
