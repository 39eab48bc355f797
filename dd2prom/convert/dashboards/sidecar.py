"""The ConfigMap kube-prometheus-stack's Grafana sidecar loads a dashboard from.

The sidecar watches ConfigMaps labelled ``grafana_dashboard: "1"`` (the
chart's default ``sidecar.dashboards.label``/``labelValue``) and, with
``sidecar.dashboards.folderAnnotation: grafana_folder``, files the dashboard in
that folder. A ConfigMap's data must stay under 1 MiB; ``kubectl apply``
without ``--server-side`` also stores the whole object in an annotation
limited to 256 KiB.
"""

from __future__ import annotations

import json
import re
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


# control characters other than the newline: JSON we write never holds them raw
# (its strings escape them), but any text given is measured right
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (without encoding a copy when it is ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def last_applied_size(dashboard_json: str) -> int:
    """Bytes the dashboard takes in ``kubectl.kubernetes.io/last-applied-configuration``:
    the object as JSON, so the text is escaped again (every quote and newline of the
    pretty-printed dashboard doubles; Go's encoder also writes <, > and & as \u003c)."""
    if _CONTROL.search(dashboard_json):
        escaped = len(json.dumps(dashboard_json, ensure_ascii=False).encode("utf-8"))
    else:   # what json.dumps adds, counted without building the escaped copy
        escaped = utf8_size(dashboard_json) + 2 + sum(dashboard_json.count(c) for c in '"\\\n')
    return escaped + 5 * sum(dashboard_json.count(c) for c in "<>&") + _METADATA_ALLOWANCE


def size_problem(dashboard_json: str) -> tuple[bool, str | None]:
    """(fits in a ConfigMap, sentence about its size or None)."""
    size = utf8_size(dashboard_json)
    if size >= MAX_DATA:
        return False, (f"The dashboard JSON is {size // 1024} KiB, over the 1 MiB a ConfigMap holds; no ConfigMap "
                       "was written: provision grafana/dashboards/ another way (e.g. a Grafana dashboard provider).")
    applied = last_applied_size(dashboard_json)
    if applied > MAX_CLIENT_APPLY:
        return True, (f"The dashboard's ConfigMap needs {applied // 1024} KiB in kubectl's last-applied annotation, "
                      "over the 256 KiB limit: apply with `kubectl apply --server-side -k` "
                      "(client-side apply fails with 'metadata.annotations: Too long').")
    return True, None
