"""What a team has to do: the work list (every item that is not exact, grouped by
owner and sorted by what blocks most), the metrics that have no mapping yet, what to
deploy, and the monitors and dashboards nobody seems to need."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.model import Status
from dd2prom.report.table import Table
from dd2prom.snapshot import Snapshot

FOLDER = {"monitor": "monitors", "dashboard": "dashboards", "slo": "slos", "synthetics": "synthetics", "downtime": "downtimes"}
NO_OWNER = "(no owner)"
BLOCKING = {Status.ERROR.value, Status.UNSUPPORTED.value, Status.MANUAL.value}
QUIET_DAYS = 90


@dataclass
class SnapshotIndex:
    """The snapshot's objects by (coverage kind, id): owners, tags and states come from here
    when a converter did not copy them into coverage.json."""

    objects: dict[tuple[str, str], dict[str, Any]]
    reference_time: datetime

    @classmethod
    def build(cls, snapshot: Snapshot) -> "SnapshotIndex":
        objects = {}
        for kind, folder in FOLDER.items():
            for obj in snapshot.iter(folder):
                if isinstance(obj.data, dict):
                    objects[(kind, obj.id)] = obj.data
        return cls(objects, _reference_time(snapshot))

    def get(self, kind: str, id: str) -> dict[str, Any]:
        return self.objects.get((kind, id), {})


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def _reference_time(snapshot: Snapshot) -> datetime:
    """When the snapshot was taken (manifest), else now: 'quiet for 90 days' counts back from it."""
    for key in ("exported_at", "time", "finished_at", "started_at", "created_at"):
        parsed = _parse_time(snapshot.manifest.get(key))
        if parsed:
            return parsed
    return datetime.now(timezone.utc)


def _tags(item: dict[str, Any], data: dict[str, Any]) -> list[str]:
    tags = item.get("tags")
    if not isinstance(tags, list):
        tags = data.get("tags") or (data.get("attributes") or {}).get("tags") or []
    return [str(t) for t in tags] if isinstance(tags, list) else []


def owner_of(item: dict[str, Any], index: SnapshotIndex, items_by_key: dict[tuple[str, str], dict]) -> str:
    """team:<x>, else service:<x>, else the dashboard's or object's author, else "(no owner)".
    An ``owner`` extra (the monitors converter writes the bare tag value of its rule group) is
    shown as the tag it came from, so monitors and dashboards of one team land in one group.
    A widget belongs to its dashboard's owner."""
    if item["kind"] == "widget":
        dash_id = str(item.get("dashboard") or item["id"].split("/", 1)[0])
        parent = items_by_key.get(("dashboard", dash_id), {"kind": "dashboard", "id": dash_id})
        return owner_of(parent, index, items_by_key)
    data = index.get(item["kind"], item["id"])
    tags = _tags(item, data)
    owner = str(item.get("owner") or "")
    if owner:
        return next((t for t in tags if t.split(":", 1)[-1] == owner and ":" in t), owner)
    for prefix in ("team:", "service:"):
        for tag in tags:
            if tag.startswith(prefix):
                return tag
    author = item.get("author") or data.get("author_handle") or (data.get("creator") or {}).get("handle")
    return str(author) if author else NO_OWNER


def _dependents(items: list[dict[str, Any]], index: SnapshotIndex) -> dict[tuple[str, str], list[str]]:
    """What each item holds up: a dashboard its non-exact widgets, a monitor the SLOs built on it."""
    deps: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in items:
        if item["kind"] == "widget" and item["status"] != Status.EXACT.value:
            deps[("dashboard", item["id"].split("/", 1)[0])].append(f"widget {item.get('name') or item['id']}")
        if item["kind"] == "slo":
            for mid in index.get("slo", item["id"]).get("monitor_ids") or []:
                deps[("monitor", str(mid))].append(f"SLO {item.get('name') or item['id']}")
    return deps


def worklist(items: list[dict[str, Any]], index: SnapshotIndex) -> Table:
    by_key = {(i["kind"], i["id"]): i for i in items}
    deps = _dependents(items, index)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        if item["status"] != Status.EXACT.value:
            groups[owner_of(item, index, by_key)].append(item)

    def item_key(i: dict[str, Any]) -> tuple:
        return (-Status(i["status"]).rank, -len(deps.get((i["kind"], i["id"]), [])), i["kind"], i["id"])

    def group_key(owner: str) -> tuple:
        its = groups[owner]
        return (-sum(i["status"] in BLOCKING for i in its), -len(its), owner == NO_OWNER, owner)

    table = Table("worklist", "Work list: every item that is not exact, by owner",
                  ["owner", "kind", "id", "name", "type", "status", "blocks", "notes"], html_limit=300,
                  note="Owners are the team: tag, else the service: tag, else the dashboard author or creator. "
                       "Owners with the most blocking items (error, unsupported, manual) come first; within an "
                       "owner, the worst status first, then the items other items wait on (a dashboard's widgets, "
                       "the SLOs built on a monitor).")
    for owner in sorted(groups, key=group_key):
        for item in sorted(groups[owner], key=item_key):
            blocked = deps.get((item["kind"], item["id"]), [])
            blocks = f"{len(blocked)}: " + ", ".join(blocked[:3]) + (" ..." if len(blocked) > 3 else "") if blocked else ""
            table.rows.append([owner, item["kind"], item["id"], item.get("name", ""), item.get("type", ""),
                               item["status"], blocks, " ".join(str(n) for n in item.get("notes") or [])])
    return table


def owner_summary(worklist_table: Table) -> Table:
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in worklist_table.rows:
        counts[row[0]][row[5]] += 1
    statuses = [s.value for s in Status if s is not Status.EXACT]
    table = Table("worklist_by_owner", "Work per owner", ["owner", *statuses, "total"])
    for owner, c in counts.items():  # rows arrive in work-list order already
        table.rows.append([owner, *[c.get(s, 0) for s in statuses], sum(c.values())])
    return table


def _metric_names(value: Any) -> list[str]:
    names = []
    for entry in value if isinstance(value, list) else []:
        name = entry.get("name") or entry.get("metric") if isinstance(entry, dict) else entry
        if name:
            names.append(str(name))
    return names


def _mapping_lookup(mappings_file: Path | None = None) -> Callable[[str], bool] | None:
    """``name -> mapped?`` from the shipped mapping tables merged with the user's file, or None
    while the transpiler's mapping module is not there (then only explicit ``unmapped_metrics``
    extras count)."""
    try:
        from dd2prom.convert.queries.mapping import load_mappings, prom_metric_for
    except ImportError:
        return None
    tables = load_mappings(mappings_file)
    return lambda name: prom_metric_for(tables, name).mapped


def unmapped_metrics(items: list[dict[str, Any]], mappings_file: Path | None = None) -> Table:
    """Metrics without a mapping: an item's ``unmapped_metrics`` extra when it has one, else
    those of its ``metrics`` the mapping tables do not know. With the user's mapping table
    (``report --mappings``) a metric it maps is left out even when convert listed it (convert
    may have run without that table, or with an older one)."""
    is_mapped = _mapping_lookup(mappings_file)
    uses: dict[str, Counter] = defaultdict(Counter)
    users: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if "unmapped_metrics" in item:
            names = _metric_names(item.get("unmapped_metrics"))
            if mappings_file is not None and is_mapped is not None:
                names = [n for n in names if not is_mapped(n)]
        elif is_mapped is not None:
            names = [n for n in _metric_names(item.get("metrics")) if not is_mapped(n)]
        else:
            names = []
        for name in dict.fromkeys(names):
            uses[name][item["kind"]] += 1
            users[name].append(item.get("name") or item["id"])
    checked = f"the shipped tables and {mappings_file.name}" if mappings_file is not None else \
        "the shipped tables (report --mappings FILE adds yours)"
    table = Table("unmapped_metrics", "Metrics without a Prometheus mapping yet",
                  ["metric", "monitors", "dashboards", "widgets", "SLOs", "other items", "total", "used by"],
                  note="Without a mapping a metric keeps a derived name (dots become underscores, counters end in "
                       "_total), which is right only if the exporter uses it. Add them to your mapping table "
                       f"(convert --mappings); checked against {checked}.")
    for name, c in sorted(uses.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        other = sum(c.values()) - c["monitor"] - c["dashboard"] - c["widget"] - c["slo"]
        shown = users[name][:3]
        table.rows.append([name, c["monitor"], c["dashboard"], c["widget"], c["slo"], other, sum(c.values()),
                           ", ".join(shown) + (f" and {len(users[name]) - 3} more" if len(users[name]) > 3 else "")])
    return table


def _yaml_docs(path: Path) -> list[Any]:
    try:
        return load_yaml_all(path.read_text(encoding="utf-8"))
    except Exception:  # a broken file is reported by `dd2prom verify`, not here
        return []


@dataclass(frozen=True)
class RuleCounts:
    files: int = 0
    groups: int = 0
    alerts: int = 0
    records: int = 0


def rule_counts(converted: Path) -> RuleCounts:
    """PrometheusRule files, groups, alerting and recording rules under prometheus/rules/."""
    files = sorted((Path(converted) / "prometheus" / "rules").glob("*.yaml"))
    groups = alerts = records = 0
    for path in files:
        for doc in _yaml_docs(path):
            for group in ((doc or {}).get("spec") or {}).get("groups") or []:
                groups += 1
                for rule in group.get("rules") or []:
                    alerts += "alert" in rule
                    records += "record" in rule
    return RuleCounts(len(files), groups, alerts, records)


def metrics_used(items: list[dict[str, Any]]) -> set[str]:
    """Distinct metric names the converted monitors, widgets and SLOs read (coverage extras)."""
    names: set[str] = set()
    for item in items:
        for key in ("prom_metrics", "metrics"):
            names.update(_metric_names(item.get(key)))
    return names


def deployables(converted: Path, items: list[dict[str, Any]]) -> Table:
    """What `kubectl apply -k` will create, read from the convert output folder, plus the
    exporters and scrape objects the converted checks name in coverage.json."""
    root = Path(converted)
    table = Table("deploy", "What to deploy", ["what", "count", "details", "path"])

    rules = rule_counts(root)
    if rules.files:
        table.rows.append(["PrometheusRule objects", rules.files,
                           f"{rules.groups} rule groups, {rules.alerts} alerting rules, {rules.records} recording rules",
                           "prometheus/rules/"])
    am = root / "alertmanager" / "alertmanager.yaml"
    if am.is_file():
        docs = _yaml_docs(am)
        config = docs[0] if docs and isinstance(docs[0], dict) else {}
        receivers = [r.get("name", "?") for r in config.get("receivers") or [] if isinstance(r, dict)]
        intervals = len(config.get("time_intervals") or config.get("mute_time_intervals") or [])
        detail = "receivers: " + (", ".join(receivers) or "none")
        if intervals:
            detail += f"; {intervals} time intervals"
        table.rows.append(["Alertmanager receivers", len(receivers), detail, "alertmanager/alertmanager.yaml"])
    silences = sorted((root / "alertmanager" / "silences").glob("*.json"))
    if silences:
        table.rows.append(["Silences (amtool silence import)", len(silences), "", "alertmanager/silences/"])
    dashboards = sorted((root / "grafana" / "dashboards").glob("*.json"))
    if dashboards:
        titles = []
        for path in dashboards[:5]:
            try:
                titles.append(str(json.loads(path.read_text(encoding="utf-8")).get("title", path.stem)))
            except ValueError:
                titles.append(path.stem)
        table.rows.append(["Grafana dashboards", len(dashboards), ", ".join(titles) + (" ..." if len(dashboards) > 5 else ""),
                           "grafana/dashboards/ (ConfigMaps in grafana/configmaps/)"])
    for sub, label in (("servicemonitors", "ServiceMonitors"), ("podmonitors", "PodMonitors"), ("probes", "Probes"),
                       ("scrapeconfigs", "ScrapeConfigs")):
        files = sorted((root / "scrape" / sub).glob("*.yaml"))
        if files:
            names = [str(((d or {}).get("metadata") or {}).get("name", "")) for f in files for d in _yaml_docs(f)]
            table.rows.append([label, len(names), ", ".join(n for n in names[:6] if n) + (" ..." if len(names) > 6 else ""),
                               f"scrape/{sub}/"])
    bb = root / "blackbox" / "blackbox.yml"
    if bb.is_file():
        docs = _yaml_docs(bb)
        modules = sorted(((docs[0] if docs else {}) or {}).get("modules") or {})
        table.rows.append(["Blackbox exporter modules", len(modules), ", ".join(modules), "blackbox/blackbox.yml"])
    exporters = sorted(p for p in (root / "exporters").glob("*.yaml") if p.name != "required-secrets.yaml")
    if exporters:
        table.rows.append(["Exporters", len(exporters), ", ".join(p.stem for p in exporters), "exporters/"])

    named = Counter()
    for item in items:
        for key in ("exporter", "scrape_object"):
            for value in (item.get(key) if isinstance(item.get(key), list) else [item.get(key)]):
                if value and not str(value).startswith("none"):
                    named[(key, str(value))] += 1
    for (key, value), n in sorted(named.items()):
        label = "Exporter needed by checks" if key == "exporter" else "Scrape object needed by checks"
        table.rows.append([label, n, value, "coverage.json"])
    return table


NOT_AN_EXPORTER = ("", "none", "kube-prometheus-stack", "blackbox-exporter")


def _real_exporter(value: Any) -> bool:
    """An exporter to run per instance (redis_exporter ...), not 'none (the app exposes /metrics)',
    the stack's own node_exporter/kube-state-metrics, or the blackbox exporter (priced per probe)."""
    text = str(value or "").strip()
    return not any(text == n or text.startswith(n + " ") for n in NOT_AN_EXPORTER)


def exporter_count(converted: Path, items: list[dict[str, Any]]) -> int:
    """Exporter instances the converted checks need (one per check instance), for the series
    estimate; the exporters/ files when coverage.json names none."""
    instances = sum(1 for i in items if i["kind"] == "check" and _real_exporter(i.get("exporter")))
    return instances or sum(1 for p in (Path(converted) / "exporters").glob("*.yaml") if p.name != "required-secrets.yaml")


def probe_count(converted: Path, items: list[dict[str, Any]]) -> int:
    """Blackbox probe targets: Probe objects' static targets, else synthetics tests and http/tcp checks."""
    targets = 0
    for path in (Path(converted) / "scrape" / "probes").glob("*.yaml"):
        for doc in _yaml_docs(path):
            static = (((doc or {}).get("spec") or {}).get("targets") or {}).get("staticConfig") or {}
            targets += len(static.get("static") or [])
    if targets:
        return targets
    return sum(1 for i in items if i["kind"] == "synthetics"
               or (i["kind"] == "check" and str(i.get("type", "")) in ("http_check", "tcp_check", "dns_check", "ssl", "tls")))


def unused(index: SnapshotIndex) -> Table:
    """Monitors whose state has not changed for 90 days before the snapshot and dashboards the
    API reports as unpopular: candidates a team may choose not to migrate."""
    cutoff = index.reference_time - timedelta(days=QUIET_DAYS)
    table = Table("unused", "Candidates not to migrate",
                  ["kind", "id", "name", "owner", "evidence"],
                  note=f"Monitors still OK with no state change in the {QUIET_DAYS} days before the snapshot "
                       f"({index.reference_time:%Y-%m-%d}) and dashboards with popularity 0. Check before deleting: "
                       "a quiet monitor may guard a rare failure.")
    for (kind, oid), data in sorted(index.objects.items()):
        if kind == "monitor":
            changed = _parse_time(data.get("overall_state_modified"))
            if data.get("overall_state") == "OK" and changed and changed < cutoff:
                created = _parse_time(data.get("created"))
                never = created is not None and abs((changed - created).total_seconds()) < 86400
                evidence = (f"OK since {changed:%Y-%m-%d} ({(index.reference_time - changed).days} days)"
                            + ("; never triggered since it was created" if never else ""))
                owner = next((t for t in data.get("tags") or [] if str(t).startswith("team:")), "")
                table.rows.append([kind, oid, data.get("name", ""), owner, evidence])
        elif kind == "dashboard" and data.get("popularity") == 0:
            table.rows.append([kind, oid, data.get("title", ""), data.get("author_handle", ""), "popularity 0 (no recent views)"])
    return table
