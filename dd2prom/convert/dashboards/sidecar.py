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

from dd2prom.emit import fastyaml
from dd2prom.emit.k8s import config_map, dns_name
from dd2prom.emit.yamlio import dump_yaml

LABEL = {"grafana_dashboard": "1"}
FOLDER_ANNOTATION = "grafana_folder"
MAX_DATA = 1024 * 1024
MAX_CLIENT_APPLY = 256 * 1024
_METADATA_ALLOWANCE = 1024   # name, labels, annotations and the object's other fields


def configmap(uid: str, dashboard_json: str, *, namespace: str, folder: str, source: str) -> dict[str, Any]:
    return config_map(dns_name(uid, prefix="grafana-dashboard-"), {f"{uid}.json": dashboard_json},
                      namespace=namespace, labels=dict(LABEL),
                      annotations={FOLDER_ANNOTATION: folder, "dd2prom.io/source": source})


_PROBE = "x\n"   # a short stand-in for the dashboard's JSON, written as a ``|`` block
_PROBE_LINES = "    x\n"


def configmap_yaml(uid: str, dashboard_json: bytes, *, namespace: str, folder: str, source: str) -> bytes:
    """The ConfigMap's YAML as UTF-8, what ``dump_yaml(configmap(...))`` writes.
    The dashboard's JSON (tens of kB, often not ASCII) is indented as bytes into
    the YAML written around a stand-in, rather than checked, indented, joined and
    encoded again as a string; anything else takes the general path."""
    kw = {"namespace": namespace, "folder": folder, "source": source}
    lines = fastyaml.literal_lines(dashboard_json, 2)   # data: / <uid>.json: (the last key) / its lines
    head = fastyaml.emit(configmap(uid, _PROBE, **kw)) if lines is not None else None
    if head is not None and head.endswith(" |\n" + _PROBE_LINES):
        return head[:-len(_PROBE_LINES)].encode("utf-8") + lines
    return dump_yaml(configmap(uid, dashboard_json.decode("utf-8"), **kw)).encode("utf-8")


# the bytes that grow when the JSON text is escaped again: control characters (UTF-8
# writes no other character with a byte below 0x20), quote, backslash, and <, >, &
_GROWING = frozenset(range(0x20)) | frozenset(b'"\\<>&')
_NOT_GROWING = bytes(b for b in range(0x100) if b not in _GROWING)   # bytes.translate deletes these
# the growing bytes that grow by one (\" \\ and JSON's short escapes \n...); the others,
# control characters written as \u00XX and Go's \u003c for <, > and &, grow by five
_GROW_BY_ONE = b'"\\\b\t\n\f\r'


def last_applied_size(dashboard_json: bytes) -> int:
    """Bytes the dashboard (its UTF-8 JSON) takes in ``kubectl.kubernetes.io/last-applied-configuration``:
    the object as JSON, so the text is escaped again (every quote and newline of the
    pretty-printed dashboard doubles; Go's encoder also writes <, > and & as \u003c).
    Counted on the few bytes that grow (one C pass over the text, one over those)
    rather than by escaping a copy."""
    growing = dashboard_json.translate(None, _NOT_GROWING)
    by_five = len(growing.translate(None, _GROW_BY_ONE))
    return len(dashboard_json) + 2 + len(growing) + 4 * by_five + _METADATA_ALLOWANCE


def size_problem(dashboard_json: str | bytes) -> tuple[bool, str | None]:
    """(fits in a ConfigMap, sentence about its size or None); ``dashboard_json`` as text or UTF-8."""
    data = dashboard_json.encode("utf-8") if isinstance(dashboard_json, str) else dashboard_json
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
