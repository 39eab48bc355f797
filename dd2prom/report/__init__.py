"""`dd2prom report`: the migration plan (coverage, work list, what to deploy) and the
cost of Datadog against a self-hosted Prometheus stack, as reports/<name>/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dd2prom.report.coverage import CoverageError
from dd2prom.report.cost import Pricing, PricingError


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "report"


def cli_report(snapshot: Path, converted: Path, out: Path, name: str | None = None, pricing: Path | None = None,
               plan: str = "pro", hosts: int | None = None, containers: int | None = None,
               custom_metrics: int | None = None, mappings: Path | None = None, console: Any = None) -> int:
    """Exit code 0 when the report was written, 2 for unusable input (no coverage.json,
    a bad pricing file, an unknown plan, negative numbers)."""
    from dd2prom.emit.output import OutputRefused
    from dd2prom.report.render import build, write

    def say(text: str) -> None:
        if console is not None:
            console.print(text, markup=False, highlight=False, soft_wrap=True)

    try:
        prices = Pricing.load(pricing)
        if plan not in prices.plans():
            raise PricingError(f"unknown plan {plan!r}: choose one of {', '.join(prices.plans())}")
        if hosts is not None and hosts < 1:
            raise PricingError("--hosts must be at least 1")
        for flag, value in (("--containers", containers), ("--custom-metrics", custom_metrics)):
            if value is not None and value < 0:
                raise PricingError(f"{flag} must not be negative")
        report = build(Path(snapshot), Path(converted), _safe_name(name or Path(snapshot).resolve().name),
                       prices, plan, hosts, containers, custom_metrics, mappings)
    except (CoverageError, PricingError, FileNotFoundError) as exc:
        say(f"error: {exc}")
        return 2
    try:
        target = write(report, Path(out))
    except OutputRefused as exc:
        say(f"error: {exc}")
        return 2
    ctx = report.context
    say(f"coverage: {ctx['coverage']['items']} items, {ctx['coverage']['exact_pct']} exact, "
        f"{ctx['coverage']['usable_pct']} exact or approximate, {ctx['blocking']} blocking (manual, unsupported or error)")
    section = ctx["cost"]
    if section is None:
        say("cost: no usage data in the snapshot; pass --hosts, --containers and --custom-metrics for the comparison")
    else:
        say(f"cost per month: Datadog {plan} ${section.datadog.monthly:,.2f}, Prometheus ${section.prometheus.monthly:,.2f} "
            f"(infrastructure ${section.prometheus_infra:,.2f})")
    say(f"wrote {target}/report.html, report.md and {len(report.tables)} CSV files")
    return 0
