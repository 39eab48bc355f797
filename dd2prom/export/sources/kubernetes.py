"""Kubernetes manifests carrying Datadog Autodiscovery annotations.

v1: ``ad.datadoghq.com/<container>.check_names`` / ``.init_configs`` / ``.instances``
(three JSON lists, matched by position); v2: ``ad.datadoghq.com/<container>.checks``
(a JSON object ``{check: {init_config, instances}}``). Service annotations
``ad.datadoghq.com/service.*`` and ``endpoints.*`` are cluster checks on the
Service. ``.logs``, ``tags`` and ``tolerate-unready`` carry no metrics: ignored.

Workloads are matched to the Services that select their pods (same namespace,
selector ⊆ pod labels), across every file read in one run, so converters can
choose a ServiceMonitor over a PodMonitor.
"""

from __future__ import annotations

import json
from typing import Any

from dd2prom.export.sources.records import Record, error_record, make_record

PREFIX = "ad.datadoghq.com/"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod",
                  "ReplicationController", "DeploymentConfig"}
_V1 = ("check_names", "init_configs", "instances")
_IGNORED = ("logs", "tags", "tolerate-unready", "check.id", "exclude", "metrics_exclude", "logs_exclude")


def has_annotations(doc: Any) -> bool:
    """True when a document carries Autodiscovery check annotations anywhere."""
    return bool(_annotation_maps(doc))


def _annotation_maps(node: Any, depth: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if depth > 12:
        return out
    if isinstance(node, dict):
        if any(isinstance(k, str) and k.startswith(PREFIX) and k.rsplit(".", 1)[-1] in _V1 + ("checks",)
               for k in node):
            out.append(node)
        for v in node.values():
            out += _annotation_maps(v, depth + 1)
    elif isinstance(node, list):
        for v in node:
            out += _annotation_maps(v, depth + 1)
    return out


def pod_template(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod metadata, pod spec) of a workload or Pod."""
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return doc.get("metadata") or {}, spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    tmpl = spec.get("template") or {}
    return tmpl.get("metadata") or {}, tmpl.get("spec") or {}


def _json_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, list):
        return value
    parsed = json.loads(value)
    if not isinstance(parsed, list):
        raise ValueError(f"{what} is not a JSON list")
    return parsed


def checks_from_annotations(ann: dict[str, Any]) -> tuple[list[tuple[str, str, Any, Any]], list[str]]:
    """[(container, check, init_config, instance)] and error sentences."""
    found: list[tuple[str, str, Any, Any]] = []
    errors: list[str] = []
    containers: dict[str, dict[str, Any]] = {}
    for key, value in ann.items():
        if not isinstance(key, str) or not key.startswith(PREFIX):
            continue
        rest = key[len(PREFIX):]
        if "." not in rest:
            continue
        container, field = rest.split(".", 1)
        if field in _V1 or field == "checks":
            containers.setdefault(container, {})[field] = value
    for container, fields in containers.items():
        if "checks" in fields:
            try:
                checks = json.loads(fields["checks"]) if isinstance(fields["checks"], str) else fields["checks"]
                if not isinstance(checks, dict):
                    raise ValueError("the value is not a JSON object")
                for check, body in checks.items():
                    body = body or {}
                    if not isinstance(body, dict):
                        raise ValueError(f"{check}: expected an object with init_config and instances")
                    for inst in body.get("instances") or [{}]:
                        found.append((container, check, body.get("init_config"), inst))
            except ValueError as exc:
                errors.append(f"{PREFIX}{container}.checks: not valid JSON ({_short(exc)})")
        if any(f in fields for f in _V1):
            try:
                names = _json_list(fields.get("check_names", "[]"), "check_names")
                inits = _json_list(fields.get("init_configs", "[]"), "init_configs")
                insts = _json_list(fields.get("instances", "[]"), "instances")
                for i, name in enumerate(names):
                    init = inits[i] if i < len(inits) else {}
                    if i >= len(insts):  # a name without instance schedules nothing (disables auto_conf)
                        found.append((container, str(name), init, None))
                        continue
                    # v1 allows a list of instances per check
                    for one in insts[i] if isinstance(insts[i], list) else [insts[i]]:
                        found.append((container, str(name), init, one))
            except ValueError as exc:
                errors.append(f"{PREFIX}{container}: not valid JSON ({_short(exc)})")
    return found, errors


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def _ports(spec: dict[str, Any]) -> dict[str, tuple[list[dict[str, Any]], dict[str, str]]]:
    """container name → (ports, literal env vars)."""
    out = {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        ports = [{k: p[k] for k in ("name", "containerPort", "protocol") if k in p}
                 for p in c.get("ports") or [] if isinstance(p, dict)]
        env = {e["name"]: str(e["value"]) for e in c.get("env") or []
               if isinstance(e, dict) and "name" in e and "value" in e}
        out[str(c.get("name"))] = (ports, env)
    return out


def read_documents(docs: list[Any], source_file: str) -> tuple[list[Record], list[dict[str, Any]]]:
    """Records of one file's documents, and the Services it defines."""
    records: list[Record] = []
    services: list[dict[str, Any]] = []
    for n, doc in enumerate(docs):
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List":
            r, s = read_documents(doc.get("items") or [], source_file)
            records += r
            services += s
            continue
        meta = doc.get("metadata") or {}
        kind = doc.get("kind")
        if kind == "Service":
            services.append(dict(_service(doc), source_file=source_file))
        if kind in WORKLOAD_KINDS:
            pod_meta, pod_spec = pod_template(doc)
            info = {"kind": kind, "namespace": meta.get("namespace") or "", "name": meta.get("name") or "",
                    "labels": dict(pod_meta.get("labels") or {}), "ports": [], "env": {}, "services": [],
                    "service_name": (doc.get("spec") or {}).get("serviceName") or ""}
            containers = _ports(pod_spec)
            records += _records(pod_meta.get("annotations") or {}, source_file, info, containers)
            # annotations on the workload's own metadata are not read by the Agent
        elif kind == "Service":
            info = {"kind": "Service", "namespace": meta.get("namespace") or "", "name": meta.get("name") or "",
                    "labels": dict(meta.get("labels") or {}), "ports": [], "env": {},
                    "services": [_service(doc)], "service_name": meta.get("name") or ""}
            records += _records(meta.get("annotations") or {}, source_file, info, {}, service_level=True)
        elif kind is None or kind not in WORKLOAD_KINDS:
            # kustomize patches, Helm podAnnotations values: annotations without a workload around them
            for ann in _annotation_maps(doc):
                info = {"kind": kind or "patch", "namespace": meta.get("namespace") or "",
                        "name": meta.get("name") or "", "labels": {}, "ports": [], "env": {}, "services": [],
                        "service_name": "", "unknown_workload": True}
                records += _records(ann, source_file, info, {})
    return records, services


def _records(ann: dict[str, Any], source_file: str, info: dict[str, Any],
             containers: dict[str, tuple[list, dict]], service_level: bool = False) -> list[Record]:
    found, errors = checks_from_annotations(ann)
    out = [error_record(source_file, f"{info['kind']}/{info['name']}: {e}", "kubernetes") for e in errors]
    for container, check, init, inst in found:
        k8s = dict(info)
        ports, env = containers.get(container, ([], {}))
        k8s["ports"], k8s["env"] = ports, env
        if containers and container not in containers and not service_level:
            k8s["container_missing"] = True
        extra = {"cluster_check": True, "ad_scope": container} if service_level else {}
        if inst is None:
            extra["disabled"] = True
        out.append(make_record(check, source_file, "kubernetes", inst or {}, init,
                               container="" if service_level else container, k8s=k8s, **extra))
    return out


def _service(doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    return {"name": meta.get("name") or "", "namespace": meta.get("namespace") or "",
            "labels": dict(meta.get("labels") or {}), "selector": dict(spec.get("selector") or {}),
            "ports": [{k: p[k] for k in ("name", "port", "targetPort", "protocol") if k in p}
                      for p in spec.get("ports") or [] if isinstance(p, dict)]}


def link_services(records: list[Record], services: list[dict[str, Any]]) -> None:
    """Attach to each workload record the Services whose selector matches its pods."""
    for rec in records:
        k8s = rec.get("k8s")
        if not k8s or k8s.get("kind") == "Service" or not k8s.get("labels"):
            continue
        # Services of the record's own file first; one Service per namespace/name
        for svc in sorted(services, key=lambda s: s["source_file"] != rec["source_file"]):
            sel = svc["selector"]
            if sel and svc["namespace"] == k8s["namespace"] and \
                    all(k8s["labels"].get(k) == v for k, v in sel.items()) and \
                    all(s["name"] != svc["name"] for s in k8s["services"]):
                k8s["services"].append({k: v for k, v in svc.items() if k != "source_file"})

