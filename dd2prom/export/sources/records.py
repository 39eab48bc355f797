"""Normalised agent-check records: one per check instance, whatever file it came from.

A record is a plain dict (stored as ``checks/instances/<name>.json`` in the
snapshot)::

    {"check": "redisdb", "source_file": "kubernetes/redis.yaml", "source_kind": "kubernetes",
     "index": 0, "container": "redis", "init_config": {}, "instance": {...},
     "ad_identifiers": [], "example": false, "cluster_check": false,
     "k8s": {"kind": "StatefulSet", "namespace": "default", "name": "redis",
             "labels": {...}, "ports": [{"name": "redis", "containerPort": 6379}],
             "env": {"NAME": "value"}, "service_name": "redis",
             "services": [{"name": "redis", "namespace": "default", "labels": {...},
                           "selector": {...}, "ports": [{"name": "redis", "port": 6379,
                                                         "targetPort": 6379}]}]}}

A file that cannot be read becomes ``{"source_file": ..., "error": "sentence"}``.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


def parse_error(exc: Exception) -> str:
    """Where a YAML/HCL parser failed, without the quoted source text: the offending
    line may hold a password."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:  # PyYAML
        return f"{getattr(exc, 'problem', None) or 'syntax error'} at line {mark.line + 1}, column {mark.column + 1}"
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if line is not None:  # lark (python-hcl2)
        return f"{exc.__class__.__name__} at line {line}, column {column}"
    return exc.__class__.__name__


def record_id(rec: Record) -> str:
    """The coverage id: ``<source file>#<check>#<instance index>``."""
    if rec.get("error") and not rec.get("check"):
        return str(rec.get("source_file"))
    return f"{rec.get('source_file')}#{rec.get('check')}#{rec.get('index', 0)}"


def error_record(source_file: str, message: str, source_kind: str = "") -> Record:
    return {"source_file": source_file, "source_kind": source_kind, "error": message}


def make_record(check: str, source_file: str, source_kind: str, instance: Any, init_config: Any = None,
                container: str = "", **extra: Any) -> Record:
    rec: Record = {
        "check": check,
        "source_file": source_file,
        "source_kind": source_kind,
        "container": container,
        "init_config": init_config if isinstance(init_config, dict) else {},
        "instance": instance if isinstance(instance, dict) else {},
        "ad_identifiers": [],
        "example": False,
        "cluster_check": False,
        "k8s": None,
    }
    if instance is not None and not isinstance(instance, dict):
        rec["error"] = f"instance is a {type(instance).__name__}, not a mapping"
    rec.update(extra)
    return rec


def number_records(records: list[Record]) -> list[Record]:
    """Give each record its instance index, counted per (source file, check)."""
    seen: dict[tuple[str, str], int] = {}
    for rec in records:
        if rec.get("check") is None:
            continue
        key = (rec["source_file"], rec["check"])
        rec["index"] = seen.get(key, 0)
        seen[key] = rec["index"] + 1
    return records


def records_from_config(doc: Any, check: str, source_file: str, source_kind: str, **extra: Any) -> list[Record]:
    """Records of one conf.yaml-shaped document ({init_config, instances, ad_identifiers...})."""
    if doc is None:
        return [error_record(source_file, "the file is empty", source_kind)]
    if not isinstance(doc, dict):
        return [error_record(source_file, f"expected a mapping with init_config/instances, found {type(doc).__name__}",
                             source_kind)]
    instances = doc.get("instances")
    if instances is None:
        instances = []
    if not isinstance(instances, list):
        return [error_record(source_file, "'instances' is not a list", source_kind)]
    common = {
        "ad_identifiers": [str(i) for i in doc.get("ad_identifiers") or []],
        "cluster_check": bool(doc.get("cluster_check")),
    }
    common.update(extra)
    out = [make_record(check, source_file, source_kind, inst, doc.get("init_config"), **common) for inst in instances]
    if not instances and common["ad_identifiers"] and "discovery" in doc:
        # Agent >= 7.5x auto_conf with `discovery: {}`: the check finds its own endpoint.
        out.append(make_record(check, source_file, source_kind, {}, doc.get("init_config"), discovery=True, **common))
    if not out:
        out.append(make_record(check, source_file, source_kind, {}, doc.get("init_config"), no_instances=True, **common))
    return out
