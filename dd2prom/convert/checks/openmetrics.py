"""``openmetrics`` / ``prometheus`` checks, and any check that reads a Prometheus
endpoint (``prometheus_url`` legacy, ``openmetrics_endpoint`` V2): the app already
exposes metrics, so Prometheus scrapes it directly (PodMonitor, or ServiceMonitor
when a Service selects the pods). The ``metrics`` allow-list and renames,
``exclude_metrics``, ``exclude_labels`` and ``rename_labels`` become
metricRelabelings."""

from __future__ import annotations

import re
from typing import Any

from dd2prom.convert.checks import common
from dd2prom.convert.context import ConvertContext
from dd2prom.model import CoverageItem, Status

ENDPOINT_KEYS = ("openmetrics_endpoint", "prometheus_url")
MATCH_ALL = {"*", ".*", ".+", "*.*"}


def applies(rec: dict[str, Any]) -> bool:
    inst = rec.get("instance") or {}
    return any(inst.get(k) for k in ENDPOINT_KEYS) or bool((inst.get("prometheus_plugin") or {}).get("url"))


def _pattern(name: str, v2: bool) -> str:
    """A metric name pattern as an RE2 regex: V2 entries are regexes already,
    legacy entries are names with ``*`` wildcards."""
    if v2:
        return name
    return ".*".join(re.escape(part) for part in name.split("*"))


def metric_relabelings(inst: dict[str, Any], item: CoverageItem, generic: bool) -> list[dict[str, Any]]:
    v2 = bool(inst.get("openmetrics_endpoint"))
    keep: list[str] = []
    renames: list[tuple[str, str]] = []
    match_all = False
    for entry in inst.get("metrics") or []:
        if isinstance(entry, str):
            if entry in MATCH_ALL:
                match_all = True
            keep.append(_pattern(entry, v2))
        elif isinstance(entry, dict):
            for src, dst in entry.items():
                keep.append(_pattern(str(src), v2))
                new = dst.get("name") if isinstance(dst, dict) else dst
                if new and str(new) != str(src):
                    renames.append((_pattern(str(src), v2), str(new)))
    out: list[dict[str, Any]] = []
    if keep and not match_all:
        out.append({"sourceLabels": ["__name__"], "regex": "|".join(f"(?:{k})" if "|" in k else k for k in keep),
                    "action": "keep"})
    elif not keep and not generic:
        item.note("Datadog collected this integration's default metric list; here every exposed metric is "
                  "scraped (add a keep rule to trim it).")
    excluded = [_pattern(str(e), v2) for e in (inst.get("exclude_metrics") or inst.get("ignore_metrics") or [])]
    if excluded:
        out.append({"sourceLabels": ["__name__"], "regex": "|".join(excluded), "action": "drop"})
    for label, values in (inst.get("exclude_metrics_by_labels") or inst.get("ignore_metrics_by_labels") or {}).items():
        regex = ".+" if values is True or values == ["*"] else "|".join(re.escape(str(v)) for v in values or [])
        if regex:
            out.append({"sourceLabels": [str(label)], "regex": regex, "action": "drop"})
    for src, dst in renames:
        out.append({"sourceLabels": ["__name__"], "regex": src, "targetLabel": "__name__",
                    "replacement": _prom_name(dst), "action": "replace"})
    for old, new in (inst.get("rename_labels") or inst.get("labels_mapper") or {}).items():
        out.append({"sourceLabels": [str(old)], "regex": "(.+)", "targetLabel": _label(new), "replacement": "$1",
                    "action": "replace"})
        out.append({"regex": re.escape(str(old)), "action": "labeldrop"})
    dropped = inst.get("exclude_labels") or inst.get("ignore_tags") or []
    if dropped:
        out.append({"regex": "|".join(re.escape(str(x)) for x in dropped), "action": "labeldrop"})
    if inst.get("label_joins") or inst.get("share_labels"):
        item.note("`label_joins`/`share_labels` copied labels from another metric at collection time; in "
                  "Prometheus this is a query-time join (`* on(...) group_left(...) info_metric`).",
                  Status.APPROXIMATE)
    if renames:
        item.note(f"{len(renames)} metric rename(s) from the `metrics` list are applied as metricRelabelings.")
    return out


def _prom_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_:]", "_", name)


def _label(name: Any) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(name))
    return s if s and not s[0].isdigit() else f"_{s}"


def convert(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    inst = rec.get("instance") or {}
    key = next((k for k in ENDPOINT_KEYS if inst.get(k)), None)
    url = inst[key] if key else inst["prometheus_plugin"]["url"].rstrip("/") + "/metrics"
    if key is None:
        item.note("RabbitMQ's own Prometheus plugin endpoint is scraped directly (no exporter needed).")
    generic = rec["check"] in ("openmetrics", "prometheus")
    scheme, host, port, path = common.split_url(url, rec)
    if port is None:
        port = 443 if scheme == "https" else 80
    target = common.locate(rec, item, host, port, scheme, path)
    name = common.unique_name(ctx, common.object_base(rec))
    endpoint: dict[str, Any] = {"path": path, "scheme": scheme, "interval": common.interval(rec)}
    t = common.number(inst.get("timeout"))
    if t and 0 < t < float(endpoint["interval"][:-1]):
        endpoint["scrapeTimeout"] = f"{int(t)}s" if t.is_integer() else f"{int(t * 1000)}ms"
    if "?" in path:
        p, _, query = path.partition("?")
        endpoint["path"] = p
        endpoint["params"] = {}
        for pair in query.split("&"):
            k, _, v = pair.partition("=")
            endpoint["params"].setdefault(k, []).append(v)
    endpoint.update(common.tls_and_auth(inst, name, item, pod_monitor=target.kind == "pod"))
    relabelings = common.tag_relabelings(rec, item)
    if relabelings:
        endpoint["relabelings"] = relabelings
    mr = metric_relabelings(inst, item, generic)
    if mr:
        endpoint["metricRelabelings"] = mr
    if inst.get("namespace"):
        item.extra["metric_prefix"] = str(inst["namespace"])
        item.note(f"Datadog named these metrics `{inst['namespace']}.<name>`; Prometheus keeps the exposed "
                  "names (dashboards and monitors translate to those).")
    item.extra["exporter"] = "none (the application exposes /metrics)"
    obj = common.scrape_target(ctx, item, rec, target, name, endpoint)
    if generic and inst.get("namespace"):  # the check's health service check ↔ up of the new job
        sc = f"{inst['namespace']}.{'openmetrics' if key == 'openmetrics_endpoint' else 'prometheus'}.health"
        job = common.default_job(obj["kind"], name, ctx.options.namespace, (target.service or {}).get("name", ""))
        common.record_service_check(ctx, sc, "up", job)
