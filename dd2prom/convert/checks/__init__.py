"""Stage: agent checks → ServiceMonitor / PodMonitor / Probe / exporters.

Reads the snapshot's ``checks/`` folder (normalised records under
``checks/instances/`` or raw conf.d / kubernetes / helm folders, parsed on the
fly with the export readers) and hands each check instance to the first family
that claims it: builtin (kube-prometheus-stack collects it already), blackbox
(network checks), openmetrics (the app exposes /metrics), exporters (the mapping
table). One coverage item per instance: ``<source file>#<check>#<index>``."""

from __future__ import annotations

import re
from typing import Any

from dd2prom.convert.checks import blackbox, builtin, common, exporters, openmetrics
from dd2prom.convert.context import ConvertContext
from dd2prom.export.sources import load_check_records
from dd2prom.export.sources.records import record_id
from dd2prom.model import CoverageItem, Status
from dd2prom.snapshot import Snapshot

KIND = "check"
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_ ]*>")


def run(snapshot: Snapshot, ctx: ConvertContext) -> None:
    builtin.register_service_checks(ctx)
    for rec in load_check_records(snapshot.checks_dir):
        item = ctx.ledger.add(KIND, record_id(rec), name=_name(rec), type=str(rec.get("check") or "?"))
        with ctx.guard(item):
            convert_record(ctx, item, rec)


def _name(rec: dict[str, Any]) -> str:
    info = rec.get("k8s") or {}
    where = f"{info.get('kind')}/{info.get('name')}" if info.get("name") else rec.get("helm_key") or ""
    inst = rec.get("instance") or {}
    label = inst.get("name") if isinstance(inst, dict) else None
    return " ".join(str(p) for p in (rec.get("check"), label, f"({where})" if where else "") if p)


def convert_record(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    item.extra.setdefault("exporter", "")
    item.extra.setdefault("scrape_object", "none")
    if rec.get("error"):
        item.note(rec["error"], Status.ERROR)
        return
    if rec.get("example"):
        item.note("Read from a conf.yaml.example file, which the Agent does not load; converted as if enabled.")
    if rec.get("disabled"):
        item.note(f"The annotation names `{rec['check']}` without an instance: the Agent schedules nothing "
                  "(this switches an auto_conf template off). Nothing to convert.")
        return
    if rec.get("no_instances"):
        item.note("The config has no instances: the Agent runs nothing for it. Nothing to convert.")
        return
    if rec.get("discovery"):
        item.note(f"`discovery: {{}}`: the {rec['check']} check finds its own endpoint inside containers "
                  f"matching {', '.join(rec.get('ad_identifiers') or [])}; there is no static endpoint to carry "
                  "over. Configure the exporter for those pods by hand.", Status.MANUAL)
        return
    placeholder = _PLACEHOLDER.search(" ".join(str(v) for v in _scalars(rec.get("instance"))))
    if placeholder:
        item.note(f"The instance holds the placeholder {placeholder.group()}; fill in the real value.",
                  Status.MANUAL)
    if rec.get("cluster_check") and not rec.get("k8s"):
        item.note("A cluster check (run once by the Cluster Agent): one scrape object, as in Datadog.")
    try:
        if builtin.applies(rec):
            builtin.convert(ctx, item, rec)
        elif blackbox.applies(rec):
            blackbox.convert(ctx, item, rec)
        elif openmetrics.applies(rec):
            openmetrics.convert(ctx, item, rec)
        elif exporters.applies(ctx, rec):
            exporters.convert(ctx, item, rec)
        else:
            item.extra["scrape_object"] = "none"
            item.note(f"No Prometheus equivalent is known for the `{rec['check']}` check; add its exporter to "
                      "mappings/exporters.yaml (or --mappings).", Status.UNSUPPORTED)
    except common.NeedsManual as exc:
        item.note(f"{exc}; nothing written for this instance.", Status.MANUAL)


def _scalars(node: Any):
    if isinstance(node, dict):
        for v in node.values():
            yield from _scalars(v)
    elif isinstance(node, list):
        for v in node:
            yield from _scalars(v)
    elif node is not None:
        yield node
