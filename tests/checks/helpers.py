"""Shared helpers for the checks/synthetics tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from dd2prom.convert import ConvertOptions, run_convert
from dd2prom.emit.yamlio import load_yaml_all

FIXTURES = Path(__file__).parent / "fixtures"


def convert(snapshot: Path, out: Path, **options: Any) -> dict[str, dict[str, Any]]:
    """Run the checks and synthetics stages; coverage items by id."""
    run_convert(snapshot, out, ConvertOptions(**options), only={"checks", "synthetics"})
    doc = json.loads((out / "coverage.json").read_text())
    return {i["id"]: i for i in doc["items"]}


def objects(out: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(out.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in load_yaml_all(path.read_text()) if isinstance(d, dict) and "kind" in d]
    return docs


def load(out: Path, rel: str) -> dict[str, Any]:
    return load_yaml_all((out / rel).read_text())[0]


def snapshot_with(tmp: Path, *, checks: dict[str, str] | None = None, synthetics: dict[str, Any] | None = None) -> Path:
    """A raw snapshot: checks/<relpath> files and synthetics/<id>.json tests."""
    snap = tmp / "snap"
    for rel, text in (checks or {}).items():
        p = snap / "checks" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for pid, test in (synthetics or {}).items():
        p = snap / "synthetics" / f"{pid}.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(test))
    snap.mkdir(exist_ok=True)
    return snap


def copy_fixtures(tmp: Path, *names: str) -> Path:
    snap = tmp / "snap"
    for n in names:
        shutil.copytree(FIXTURES / n, snap / "checks" / n)
    return snap


_PROBE_FIELDS = {"httpGet", "tcpSocket", "exec", "grpc", "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                 "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"}
_HTTP_GET_FIELDS = {"path", "port", "host", "scheme", "httpHeaders"}


def probe_errors(container: dict[str, Any]) -> list[str]:
    """What the API server would refuse in a container's readiness/liveness
    probes (the rules of Kubernetes' probe validation: one handler, an HTTP port
    that is a number or the name of one of the container's ports, an absolute
    path, positive timings, a liveness successThreshold of 1), plus unknown
    fields (kubectl's strict field validation), without a cluster."""
    import re

    errors = []
    port_names = {p.get("name") for p in container.get("ports") or []}
    for kind in ("readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        if not isinstance(probe, dict):
            errors.append(f"{kind}: missing")
            continue
        errors += [f"{kind}.{k}: unknown field" for k in set(probe) - _PROBE_FIELDS]
        handlers = [h for h in ("httpGet", "tcpSocket", "exec", "grpc") if h in probe]
        if len(handlers) != 1:
            errors.append(f"{kind}: must have exactly one handler, not {handlers}")
        get = probe.get("httpGet") or {}
        errors += [f"{kind}.httpGet.{k}: unknown field" for k in set(get) - _HTTP_GET_FIELDS]
        port = get.get("port")
        if isinstance(port, str):
            if not re.fullmatch(r"(?=.*[a-z])(?!-)(?!.*--)[a-z0-9-]{1,15}(?<!-)", port) or port not in port_names:
                errors.append(f"{kind}.httpGet.port: {port!r} names no port of the container")
        elif not (isinstance(port, int) and 0 < port < 65536):
            errors.append(f"{kind}.httpGet.port: {port!r}")
        if "httpGet" in probe and not str(get.get("path", "")).startswith("/"):
            errors.append(f"{kind}.httpGet.path: {get.get('path')!r} is not absolute")
        for field, least in (("timeoutSeconds", 1), ("periodSeconds", 1), ("failureThreshold", 1),
                             ("successThreshold", 1), ("initialDelaySeconds", 0)):
            if field in probe and not (isinstance(probe[field], int) and probe[field] >= least):
                errors.append(f"{kind}.{field}: {probe[field]!r} must be an integer >= {least}")
        if kind == "livenessProbe" and probe.get("successThreshold", 1) != 1:
            errors.append("livenessProbe.successThreshold must be 1")
    return errors
