"""``dd2prom compare``: check translations against Datadog's own numbers.

For each monitor and widget query recorded in a convert output's coverage.json
(:mod:`ledger`), run the original Datadog query through Datadog's timeseries API
(:mod:`datadog_source`) and the PromQL through Prometheus's query_range at the
step Datadog rolled up to (:mod:`prometheus_source`), pair the series by labels
(:mod:`align`), measure relative error and alert decisions (:mod:`metrics`),
judge (:mod:`run`) and write compare.json / compare.csv and a table
(:mod:`render`). Diverging items are flagged in coverage.json.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from dd2prom.compare import ledger, render
from dd2prom.compare.config import load_config
from dd2prom.compare.run import Options, compare_targets
from dd2prom.compare.timerange import iso, resolve_range

SCHEMA_VERSION = 1
# items compared at once: each runs range queries, some with subqueries, on the
# production Prometheus (whose default --query.max-concurrency is 20, shared with
# rule evaluation and dashboards), and Datadog's query API is rate limited per
# organisation: a few in flight hide the latency without crowding either
DEFAULT_CONCURRENCY = 4


def load_comparison(converted_dir: Path | str) -> dict[str, Any] | None:
    """``<converted>/compare/compare.json`` for the report, or None when absent
    or unreadable (the report then leaves its comparison section out)."""
    path = Path(converted_dir) / "compare" / "compare.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("items"), list) else None


def parse_label_map(pairs: list[str] | None) -> dict[str, str]:
    """``--label-map TAG=LABEL`` options."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        tag, sep, label = pair.partition("=")
        if not sep or not tag.strip() or not label.strip():
            raise ValueError(f"--label-map {pair!r} is not TAG=LABEL")
        out[tag.strip()] = label.strip()
    return out


def cli_compare(*, converted: Path, prometheus_url: str, last: str | None = "6h", start: str | None = None,
                end: str | None = None, only: str | None = None, site: str | None = None,
                api_url: str | None = None, tolerance: float = 0.05, out: Path | None = None,
                console: Console | None = None, label_map: list[str] | None = None,
                mappings: Path | None = None, config: Path | None = None,
                concurrency: int = DEFAULT_CONCURRENCY) -> int:
    """Run the comparison, ``concurrency`` items at a time. Exit code: 0 all
    compared items match, 1 some diverge, miss series or failed to query, 2 bad
    input (nothing written)."""
    from dd2prom.compare.datadog_source import DatadogSource, SourceError, missing_credentials
    from dd2prom.compare.prometheus_source import PrometheusSource

    console = console or Console(stderr=True)
    try:
        range_start, range_end = resolve_range(last, start, end)
        if only not in (None, "monitors", "widgets"):
            raise ValueError(f"--only must be monitors or widgets, not {only!r}")
        if tolerance < 0:
            raise ValueError("--tolerance must not be negative")
        if concurrency < 1:
            raise ValueError("--concurrency must be at least 1")
        settings = load_config(config)
        labels = {**settings.label_map, **parse_label_map(label_map)}
        coverage = ledger.load_coverage(converted)
        user_mappings = None
        if mappings is not None:
            from dd2prom.convert.queries import mapping

            user_mappings = mapping.load_mappings(mappings)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        console.print(f"[red]compare:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    targets = list(ledger.targets(coverage, only))
    for t in targets:
        if t.item_id in settings.skips and not t.skip:
            t.skip = f"skipped by the compare config: {settings.skips[t.item_id]}"
    if any(t.skip is None for t in targets) and (problem := missing_credentials()):
        console.print(f"[red]compare:[/red] Datadog credentials missing: {escape(str(problem))}.", soft_wrap=True)
        return 2

    prom = PrometheusSource(prometheus_url)
    try:
        dd = DatadogSource(site=site, api_url=api_url, concurrency=concurrency)
    except ValueError as exc:   # an unknown --site
        console.print(f"[red]compare:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    try:
        prom.check()
        opts = Options(range_start, range_end, tolerance, labels, user_mappings, prom.scrape_interval(),
                       settings.tolerances)
        with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("comparing with Datadog", total=len(targets))
            rows = compare_targets(targets, dd, prom, opts, concurrency, lambda: progress.advance(task))
    except SourceError as exc:  # fatal: bad keys, a server that cannot be reached
        console.print(f"[red]compare:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    finally:
        dd.close()

    document = {
        "version": SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "prometheus_url": prometheus_url,
        "datadog_site": api_url or site or "datadoghq.com",
        "range": {"from": iso(range_start), "to": iso(range_end), "from_ts": range_start, "to_ts": range_end},
        "tolerance": tolerance,
        "item_tolerances": settings.tolerances,
        "label_map": labels,
        "summary": summary(rows),
        "items": rows,
    }
    out_dir = Path(out) if out else Path(converted) / "compare"
    json_path, csv_path = render.write(out_dir, document)
    try:
        report_ref = str(json_path.relative_to(Path(converted)))
    except ValueError:
        report_ref = str(json_path)
    flagged = ledger.flag_items(converted, rows, report_ref)
    render.print_table(console, document)
    console.print(f"wrote {json_path} and {csv_path}; {flagged} item(s) flagged in coverage.json")
    bad = document["summary"]
    return 1 if bad["diverges"] or bad["missing"] or bad["error"] else 0


def summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    out = {v: 0 for v in ledger.VERDICTS}
    for r in rows:
        out[r["verdict"]] = out.get(r["verdict"], 0) + 1
    out["total"] = len(rows)
    return out
