"""The Datadog side of the comparison: infrastructure hosts, containers and custom
metrics beyond the plan's allotments, as Datadog bills them.

- Hosts: billed on the high-water mark of the lower 99% of hourly counts; the usage
  API's ``infra_host_top99p`` is that number for a month.
- Containers: the allotment (per host license, pooled over the infrastructure) is
  applied hour by hour and container-hours above it are summed. From a monthly
  average we get ``max(0, avg - allotment) x hours``, which equals the hourly sum
  when the count is steady and is a lower bound when it swings around the allotment.
- Custom metrics: the monthly average of distinct custom metrics per hour, above the
  pooled allotment, at a per-metric monthly price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dd2prom.report.cost import Bill, CostLine, Pricing, PricingError


@dataclass(frozen=True)
class Usage:
    """What Datadog counts for one month (or what the user typed in)."""

    label: str
    hosts: float
    containers: float
    custom_metrics: float
    containers_hwm: float | None = None
    source: str = ""

    @property
    def containers_per_host(self) -> float:
        return self.containers / self.hosts if self.hosts else 0.0


def _num(entry: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def usage_months(summary: Any) -> list[Usage]:
    """Months of ``GET /api/v1/usage/summary`` (``usage[]`` entries with ``date``), oldest first.
    Months without a host count are skipped: they cannot be priced."""
    if not isinstance(summary, dict):
        return []
    months = []
    for entry in summary.get("usage") or []:
        if not isinstance(entry, dict):
            continue
        hosts = _num(entry, "infra_host_top99p", "agent_host_top99p")
        if hosts is None:
            continue
        label = str(entry.get("date", ""))[:7] or "?"
        months.append(Usage(label=label, hosts=hosts, containers=_num(entry, "container_avg") or 0.0,
                            custom_metrics=_num(entry, "custom_ts_avg") or 0.0,
                            containers_hwm=_num(entry, "container_hwm"), source="usage/summary.json"))
    return sorted(months, key=lambda u: u.label)


def current_usage(months: list[Usage], hosts: int | None, containers: int | None,
                  custom_metrics: int | None) -> Usage | None:
    """The usage the comparison is made for: the latest month of the snapshot, with any
    number given on the command line taking its place. None when hosts are unknown or zero."""
    latest = months[-1] if months else None
    h = hosts if hosts is not None else (latest.hosts if latest else None)
    if not h or h <= 0:
        return None
    given = [name for name, v in (("--hosts", hosts), ("--containers", containers),
                                  ("--custom-metrics", custom_metrics)) if v is not None]
    source = f"usage/summary.json, month {latest.label}" if latest else "command line"
    if latest and given:
        source += " (overridden: " + ", ".join(given) + ")"
    return Usage(label=latest.label if latest else "given",
                 hosts=float(h),
                 containers=float(containers if containers is not None else (latest.containers if latest else 0)),
                 custom_metrics=float(custom_metrics if custom_metrics is not None else (latest.custom_metrics if latest else 0)),
                 containers_hwm=latest.containers_hwm if latest and containers is None else None,
                 source=source)


def host_price_key(pricing: Pricing, plan: str) -> str:
    billing = pricing.text("datadog.billing")
    if billing not in ("annual", "on_demand"):
        raise PricingError(f"pricing: datadog.billing must be annual or on_demand, not {billing!r}")
    return f"datadog.plans.{plan}.host_{billing}"


def datadog_bill(usage: Usage, pricing: Pricing, plan: str,
                 containers_included_per_host: float | None = None) -> Bill:
    """The monthly Datadog bill for ``usage`` on ``plan``. ``containers_included_per_host``
    replaces the plan's allotment (the report shows both documented values)."""
    hours = pricing.number("hours_per_month")
    host_price = pricing.number(host_price_key(pricing, plan))
    per_host = (containers_included_per_host if containers_included_per_host is not None
                else pricing.number(f"datadog.plans.{plan}.containers_included_per_host"))
    container_hour = pricing.number("datadog.container_hour")
    cm_per_host = pricing.number(f"datadog.plans.{plan}.custom_metrics_included_per_host")
    cm_price = pricing.number("datadog.custom_metric_month")

    included_containers = usage.hosts * per_host
    extra_containers = max(0.0, usage.containers - included_containers)
    included_cm = usage.hosts * cm_per_host
    extra_cm = max(0.0, usage.custom_metrics - included_cm)
    lines = [
        CostLine("Infrastructure hosts", usage.hosts, "hosts (top 99% hour)", host_price, usage.hosts * host_price,
                 basis=f"{_n(usage.hosts)} hosts x ${host_price:g}/host/month ({plan}, {pricing.text('datadog.billing')})"),
        CostLine("Containers beyond the allotment", usage.containers, "containers (average)",
                 container_hour * hours, extra_containers * container_hour * hours, included=included_containers,
                 basis=(f"({_n(usage.containers)} - {_n(usage.hosts)} hosts x {per_host:g} included) = "
                        f"{_n(extra_containers)} containers x {hours:g} h x ${container_hour:g}/container-hour")),
        CostLine("Custom metrics beyond the allotment", usage.custom_metrics, "custom metrics (average)",
                 cm_price, extra_cm * cm_price, included=included_cm,
                 basis=(f"({_n(usage.custom_metrics)} - {_n(usage.hosts)} hosts x {cm_per_host:g} included) = "
                        f"{_n(extra_cm)} x ${cm_price:g}/metric/month")),
    ]
    return Bill(f"Datadog {plan}", lines)


def _n(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"
