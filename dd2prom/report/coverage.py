"""Coverage tables from ``coverage.json``: totals and percentages per kind and status,
monitors by type, widgets by type, checks by type. Items are read generically (kind,
id, name, type, status, notes, outputs plus any extras), so new converters show up
without changes here."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable

from dd2prom.model import KINDS, Status
from dd2prom.report.table import Table, pct

STATUSES = [s.value for s in Status]
KIND_TITLES = {"monitor": "Monitors", "dashboard": "Dashboards", "widget": "Widgets", "slo": "SLOs",
               "synthetics": "Synthetics tests", "check": "Agent checks", "downtime": "Downtimes"}


class CoverageError(ValueError):
    """coverage.json is missing or not the ledger `dd2prom convert` writes."""


def load_items(converted: Path) -> list[dict[str, Any]]:
    path = Path(converted) / "coverage.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CoverageError(f"{path} not found: run `dd2prom convert SNAPSHOT --out {converted}` first") from exc
    except (OSError, ValueError) as exc:
        raise CoverageError(f"{path} is not readable JSON: {exc}") from exc
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CoverageError(f"{path} has no 'items' list")
    out = []
    for raw in items:
        if isinstance(raw, dict) and raw.get("kind") and raw.get("id") is not None:
            item = dict(raw)
            item["id"] = str(item["id"])
            item["status"] = item.get("status") if item.get("status") in STATUSES else Status.ERROR.value
            item["notes"] = _notes(item.get("notes"))
            item.setdefault("type", "")
            item.setdefault("name", "")
            out.append(item)
    return out


def _notes(value: Any) -> list[str]:
    """Notes as sentences, whether written as strings, {"message": ...} objects or one string."""
    if isinstance(value, (str, dict)):
        value = [value]
    out = []
    for note in value if isinstance(value, list) else []:
        text = note.get("message") if isinstance(note, dict) else note
        if text:
            out.append(str(text))
    return out


def _kind_order(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)


def _status_table(name: str, title: str, first: str, groups: dict[str, Counter], note: str = "") -> Table:
    columns = [first, *STATUSES, "total", "exact %", "exact or approximate %"]
    table = Table(name, title, columns, note=note)
    total = Counter()
    for key, counts in groups.items():
        n = sum(counts.values())
        total.update(counts)
        table.rows.append([key, *[counts.get(s, 0) for s in STATUSES], n, pct(counts["exact"], n),
                           pct(counts["exact"] + counts["approximate"], n)])
    if len(groups) > 1:
        n = sum(total.values())
        table.rows.append(["all", *[total.get(s, 0) for s in STATUSES], n, pct(total["exact"], n),
                           pct(total["exact"] + total["approximate"], n)])
    return table


def by_kind(items: Iterable[dict[str, Any]]) -> Table:
    groups: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        groups[item["kind"]][item["status"]] += 1
    ordered = {KIND_TITLES.get(k, k): groups[k] for k in sorted(groups, key=_kind_order)}
    return _status_table("coverage_by_kind", "Coverage by kind and status", "kind", ordered,
                         note="exact: same meaning in PromQL; approximate: works, differs slightly (see notes); "
                              "manual: needs a person; unsupported: no Prometheus equivalent was generated; "
                              "error: the input could not be read or converted.")


def by_type(items: Iterable[dict[str, Any]], kind: str) -> Table | None:
    groups: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        if item["kind"] == kind:
            groups[item.get("type") or "(none)"][item["status"]] += 1
    if not groups:
        return None
    ordered = dict(sorted(groups.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
    title = KIND_TITLES.get(kind, kind)
    return _status_table(f"coverage_{kind}_by_type", f"{title} by type", "type", ordered)


def coverage_tables(items: list[dict[str, Any]]) -> list[Table]:
    tables = [by_kind(items)]
    for kind in ("monitor", "widget", "check", "synthetics", "slo"):
        table = by_type(items, kind)
        if table is not None:
            tables.append(table)
    return tables


def headline(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The few numbers the summary leads with."""
    counts = Counter(i["status"] for i in items)
    n = len(items)
    return {"items": n, "counts": {s: counts.get(s, 0) for s in STATUSES},
            "exact_pct": pct(counts["exact"], n), "usable_pct": pct(counts["exact"] + counts["approximate"], n)}
