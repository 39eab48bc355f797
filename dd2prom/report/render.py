"""Assemble the report's data and write reports/<name>/: report.html (inline SVG
charts, no JavaScript), report.md (charts as .svg files next to it) and one CSV per
table. Everything is written to a staging folder that replaces the old report at
the end, so a failed run leaves the previous report intact."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dd2prom import __version__
from dd2prom.compare import load_comparison
from dd2prom.emit.output import OutputDir
from dd2prom.compare.render import report_table
from dd2prom.report import coverage, worklist
from dd2prom.report.charts import to_svg
from dd2prom.report.cost import Pricing
from dd2prom.report.cost.datadog import current_usage, usage_months
from dd2prom.report.cost.prometheus import Converted
from dd2prom.report.cost.section import CostSection, chart_tables, constants_table, cost_section
from dd2prom.report.table import Table, money
from dd2prom.resources import templates_dir
from dd2prom.snapshot import Snapshot


@dataclass
class Report:
    name: str
    context: dict[str, Any]
    tables: list[Table] = field(default_factory=list)
    svgs: dict[str, str] = field(default_factory=dict)   # file name -> SVG text


def build(snapshot_dir: Path, converted: Path, name: str, pricing: Pricing, plan: str,
          hosts: int | None = None, containers: int | None = None, custom_metrics: int | None = None,
          mappings: Path | None = None) -> Report:
    snapshot = Snapshot.open(snapshot_dir)
    items = coverage.load_items(converted)
    index = worklist.SnapshotIndex.build(snapshot)

    cov_tables = coverage.coverage_tables(items)
    work = worklist.worklist(items, index)
    plan_tables = [worklist.owner_summary(work), work, worklist.unmapped_metrics(items, mappings),
                   worklist.deployables(converted, items), worklist.unused(index)]

    comparison = load_comparison(converted)
    compare_tables = [Table(**report_table(comparison))] if comparison else []

    months = usage_months(snapshot.usage().get("summary"))
    usage = current_usage(months, hosts, containers, custom_metrics)
    section: CostSection | None = None
    cost_tables: list[Table] = []
    if usage is not None:
        outputs = Converted(exporters=worklist.exporter_count(converted, items),
                            probes=worklist.probe_count(converted, items),
                            recording_rules=worklist.rule_counts(converted).records,
                            metrics_used=len(worklist.metrics_used(items)))
        section = cost_section(usage, months, pricing, plan, outputs)
        cost_tables = [*section.tables, *chart_tables(section.charts), constants_table(pricing)]

    context = {
        "name": name,
        "version": __version__,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "snapshot": str(snapshot_dir),
        "converted": str(converted),
        "manifest": snapshot.manifest,
        "plan": plan,
        "coverage": coverage.headline(items),
        "blocking": sum(1 for row in work.rows if row[5] in worklist.BLOCKING),
        "coverage_tables": cov_tables,
        "plan_tables": plan_tables,
        "compare_tables": compare_tables,
        "cost": section,
        "cost_tables": cost_tables,
        "charts": [{"id": c.id, "title": c.title, "file": f"{c.id}.svg"} for c in section.charts] if section else [],
    }
    report = Report(name, context, tables=[*cov_tables, *plan_tables, *compare_tables, *cost_tables])
    if section:
        report.svgs = {f"{c.id}.svg": to_svg(c) for c in section.charts}
    return report


def _md_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                             autoescape=jinja2.select_autoescape(["html", "html.j2"]), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = _md_cell
    env.filters["money"] = money
    return env


def render(report: Report) -> dict[str, str]:
    """File name -> text for the two documents."""
    env = environment()
    svgs = {name: Markup(text) for name, text in report.svgs.items()}
    return {
        "report.html": env.get_template("report.html.j2").render(**report.context, svgs=svgs),
        "report.md": env.get_template("report.md.j2").render(**report.context),
    }


def write(report: Report, out: Path) -> Path:
    """Write reports/<name>/ as a whole, through the same staged swap as convert's output."""
    with OutputDir(Path(out) / report.name, marker="report.html") as staged:
        for fname, text in {**render(report), **report.svgs}.items():
            staged.write_text(fname, text)
        for table in report.tables:
            table.write_csv(staged.root)
        return staged.commit()
