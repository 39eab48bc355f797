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
_METADATA_ALLOWANCE = 1024   # name, labels, annotations and the object's other fields


def configmap(uid: str, dashboard_json: str, *, namespace: str, folder: str, source: str) -> dict[str, Any]:
    return config_map(dns_name(uid, prefix="grafana-dashboard-"), {f"{uid}.json": dashboard_json},
                      namespace=namespace, labels=dict(LABEL),
                      annotations={FOLDER_ANNOTATION: folder, "dd2prom.io/source": source})


# bytes.translate deletes these, leaving the control characters (UTF-8 writes no
# other character with a byte below 0x20)
_NOT_CONTROL = bytes(range(0x20, 0x100))
_SHORT_ESCAPES = b"\b\t\n\f\r"   # JSON writes these as \n...; other control characters as \u00XX


def last_applied_size(dashboard_json: bytes) -> int:
    """Bytes the dashboard (its UTF-8 JSON) takes in ``kubectl.kubernetes.io/last-applied-configuration``:
    the object as JSON, so the text is escaped again (every quote and newline of the
    pretty-printed dashboard doubles; Go's encoder also writes <, > and & as \u003c).
    Counted on the bytes (C-speed ``count``) rather than by escaping a copy."""
    control = dashboard_json.translate(None, _NOT_CONTROL)
    short = sum(control.count(c) for c in _SHORT_ESCAPES)
    escaped = (len(dashboard_json) + 2 + dashboard_json.count(b'"') + dashboard_json.count(b"\\")
               + short + 5 * (len(control) - short))
    return escaped + 5 * sum(dashboard_json.count(c) for c in b"<>&") + _METADATA_ALLOWANCE


def size_problem(dashboard_json: str) -> tuple[bool, str | None]:
    """(fits in a ConfigMap, sentence about its size or None)."""
    data = dashboard_json.encode("utf-8")
    size = len(data)
    if size >= MAX_DATA:
        return False, (f"The dashboard JSON is {size // 1024} KiB, over the 1 MiB a ConfigMap holds; no ConfigMap "
                       "was written: provision grafana/dashboards/ another way (e.g. a Grafana dashboard provider).")
    applied = last_applied_size(data)
    if applied > MAX_CLIENT_APPLY:
        return True, (f"The dashboard's ConfigMap needs {applied // 1024} KiB in kubectl's last-applied annotation, "
                      "over the 256 KiB limit: apply with `kubectl apply --server-side -k` "
                      "(client-side apply fails with 'metadata.annotations: Too long').")
    return True, None
