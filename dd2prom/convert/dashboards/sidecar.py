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


# the bytes that grow when the JSON text is escaped again: control characters (UTF-8
# writes no other character with a byte below 0x20), quote, backslash, and <, >, &
_GROWING = frozenset(range(0x20)) | frozenset(b'"\\<>&')
_NOT_GROWING = bytes(b for b in range(0x100) if b not in _GROWING)   # bytes.translate deletes these
_SHORT_ESCAPES = b"\b\t\n\f\r"   # JSON writes these as \n...; other control characters as \u00XX


def last_applied_size(dashboard_json: bytes) -> int:
    """Bytes the dashboard (its UTF-8 JSON) takes in ``kubectl.kubernetes.io/last-applied-configuration``:
    the object as JSON, so the text is escaped again (every quote and newline of the
    pretty-printed dashboard doubles; Go's encoder also writes <, > and & as \u003c).
    Counted on the few bytes that grow (one C pass) rather than by escaping a copy."""
    growing = dashboard_json.translate(None, _NOT_GROWING)
    quoted = growing.count(b'"') + growing.count(b"\\")
    html = sum(growing.count(c) for c in b"<>&")
    short = sum(growing.count(c) for c in _SHORT_ESCAPES)
    control = len(growing) - quoted - html
    return len(dashboard_json) + 2 + quoted + short + 5 * (control - short) + 5 * html + _METADATA_ALLOWANCE


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
