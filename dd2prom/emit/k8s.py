"""Kubernetes objects as plain data."""

from __future__ import annotations

import hashlib
import re
from typing import Any

MANAGED_BY = {"app.kubernetes.io/managed-by": "dd2prom"}


def dns_name(text: str, max_len: int = 63, prefix: str = "") -> str:
    """A DNS-1123 label from any text, stable and collision-resistant:
    lowercase, [a-z0-9-], at most ``max_len`` characters (a short hash is
    appended when the text had to be cut or changed beyond case)."""
    raw = f"{prefix}{text}"
    s = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    s = re.sub(r"-{2,}", "-", s) or "x"
    changed = s != raw.lower()
    if len(s) > max_len or (changed and len(s) + 9 > max_len):
        digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]
        s = s[: max_len - 9].rstrip("-") + "-" + digest
    if not s[0].isalnum():
        s = "x" + s
    return s[:max_len].rstrip("-") or "x"


def label_value(text: Any, max_len: int = 63) -> str:
    """A valid Kubernetes label value (metadata.labels), or '' when none can be made."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-_.")
    return s[:max_len].rstrip("-_.")


def obj(api_version: str, kind: str, name: str, *, namespace: str | None = None,
        labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
        **body: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    all_labels = dict(MANAGED_BY)
    all_labels.update(labels or {})
    meta["labels"] = {k: v for k, v in all_labels.items() if v != ""}
    if annotations:
        meta["annotations"] = {k: str(v) for k, v in annotations.items()}
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    out.update(body)
    return out


def config_map(name: str, data: dict[str, str], **kw: Any) -> dict[str, Any]:
    return obj("v1", "ConfigMap", name, data=data, **kw)


def monitoring(kind: str, name: str, spec: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A monitoring.coreos.com/v1 object (PrometheusRule, ServiceMonitor, PodMonitor, Probe)."""
    return obj("monitoring.coreos.com/v1", kind, name, spec=spec, **kw)
