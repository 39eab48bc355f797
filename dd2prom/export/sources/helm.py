"""Values of the Datadog Helm chart: ``datadog.confd`` / ``clusterAgent.confd``
(file name → conf.yaml text) and ``clusterAgent.advancedConfd`` (``<check>.d`` →
file name → text). ``datadog.checksd`` holds Python code, not config: ignored."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from dd2prom.emit.yamlio import dump_yaml
from dd2prom.export.sources import confd
from dd2prom.export.sources.records import Record, error_record


def is_helm_values(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    dd, ca = doc.get("datadog"), doc.get("clusterAgent")
    return (isinstance(dd, dict) and "confd" in dd) or (isinstance(ca, dict) and ("confd" in ca or "advancedConfd" in ca))


def read_values(doc: dict[str, Any], source_file: str) -> list[Record]:
    records: list[Record] = []
    for section in ("datadog", "clusterAgent"):
        block = doc.get(section)
        if not isinstance(block, dict):
            continue
        where = "node Agent" if section == "datadog" else "Cluster Agent"
        for key, text in (block.get("confd") or {}).items():
            records += _one(text, f"{source_file}:{section}.confd.{key}", source_file,
                            confd.check_name(PurePosixPath(key)), where)
        for folder, files in (block.get("advancedConfd") or {}).items():
            if not isinstance(files, dict):
                records.append(error_record(source_file, f"{section}.advancedConfd.{folder} is not a mapping", "helm"))
                continue
            check = folder[:-2] if folder.endswith(".d") else folder
            for key, text in files.items():
                records += _one(text, f"{source_file}:{section}.advancedConfd.{folder}/{key}", source_file, check, where)
    return records


def _one(text: Any, label: str, source_file: str, check: str, where: str) -> list[Record]:
    if isinstance(text, dict):  # some values files inline the YAML instead of a string
        text = dump_yaml(text)
    if not isinstance(text, str):
        return [error_record(source_file, f"{label}: expected the conf.yaml text, found {type(text).__name__}", "helm")]
    recs = confd.read_text(text, source_file, check, source_kind="helm", helm_key=label.split(":", 1)[1], runs_on=where)
    for r in recs:
        if "error" in r:
            r["error"] = f"{label}: {r['error']}"
    return recs
