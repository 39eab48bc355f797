"""The cost part of the report: both bills for today's usage, both plans, the
sensitivity to the container allotment, the series estimate and sizing, the two
charts, and every constant used with its source."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dd2prom.report.charts import Line, LineChart
from dd2prom.report.cost import Bill, Pricing
from dd2prom.report.cost.datadog import Usage, datadog_bill
from dd2prom.report.cost.prometheus import Converted, Workload, prometheus_bill, series_rows, sizing
from dd2prom.report.table import Table

DENSITIES = range(1, 61)


@dataclass
class CostSection:
    plan: str
    usage: Usage
    datadog: Bill
    prometheus: Bill
    prometheus_infra: float
    break_even_hours: float | None
    allotment: float
    alternative_allotment: float | None
    tables: list[Table] = field(default_factory=list)
    charts: list[LineChart] = field(default_factory=list)


def _bill_table(name: str, bill: Bill) -> Table:
    table = Table(name, f"{bill.name}: monthly bill",
                  ["item", "quantity", "unit", "included", "billable", "unit price (USD)", "monthly (USD)", "yearly (USD)", "how"])
    for line in bill.lines:
        table.rows.append([line.item, round(line.quantity, 2), line.unit, round(line.included, 2), round(line.billable, 2),
                           round(line.unit_price, 4), round(line.monthly, 2), round(12 * line.monthly, 2), line.basis])
    table.rows.append(["total", "", "", "", "", "", round(bill.monthly, 2), round(bill.yearly, 2), ""])
    return table


def _scaled(usage: Usage, hosts: float, per_host: float) -> Usage:
    """The same organisation at another size: custom metrics (application series) grow with
    the number of containers, as every new pod exposes its own series."""
    containers = hosts * per_host
    ratio = containers / usage.containers if usage.containers else hosts / usage.hosts
    return replace(usage, hosts=hosts, containers=containers, custom_metrics=usage.custom_metrics * ratio,
                   containers_hwm=None)


def _workload(usage: Usage, converted: Converted) -> Workload:
    return Workload(usage.hosts, usage.containers, usage.custom_metrics, converted)


def cost_section(usage: Usage, months: list[Usage], pricing: Pricing, plan: str,
                 converted: Converted) -> CostSection:
    dd = datadog_bill(usage, pricing, plan)
    prom = prometheus_bill(_workload(usage, converted), pricing)
    infra = prometheus_bill(_workload(usage, converted), pricing, with_operations=False).monthly
    rate = pricing.number("prometheus.operations.engineer_hour")
    allot = pricing.constant(f"datadog.plans.{plan}.containers_included_per_host")
    alternative = pricing.attribute(f"datadog.plans.{plan}.containers_included_per_host", "alternative")
    section = CostSection(plan=plan, usage=usage, datadog=dd, prometheus=prom, prometheus_infra=infra,
                          break_even_hours=(dd.monthly - infra) / rate if rate else None,
                          allotment=float(allot.value),
                          alternative_allotment=float(alternative) if alternative is not None else None)

    if months:
        t = Table("usage_months", "Datadog usage per month (usage/summary.json)",
                  ["month", "hosts (top 99%)", "containers (average)", "containers (high-water mark)",
                   "containers per host", "custom metrics (average)", f"Datadog {plan} (USD/month)",
                   "at the container high-water mark (upper bound)"],
                  note="The container line is priced on the monthly average; priced on the month's high-water mark "
                       "it is an upper bound (every hour at the peak).")
        for m in months:
            peak = (round(datadog_bill(replace(m, containers=m.containers_hwm), pricing, plan).monthly, 2)
                    if m.containers_hwm is not None else "")
            t.rows.append([m.label, m.hosts, m.containers, m.containers_hwm if m.containers_hwm is not None else "",
                           round(m.containers_per_host, 1), m.custom_metrics, round(datadog_bill(m, pricing, plan).monthly, 2),
                           peak])
        section.tables.append(t)
    section.tables += [_bill_table("cost_datadog", dd), _bill_table("cost_prometheus", prom)]

    compare = Table("cost_comparison", "Monthly and yearly cost, both plans",
                    ["option", "container allotment per host", "monthly (USD)", "yearly (USD)"],
                    note="The container allotment changed over time: Datadog's documentation revision says 10 (Pro) "
                         "or 20 (Enterprise) per host, 5 / 10 is often quoted for current plans. The default is the "
                         "documented value; the other is shown so the difference is visible. Your contract decides.")
    for p in pricing.plans():
        key = f"datadog.plans.{p}.containers_included_per_host"
        values = [pricing.number(key)]
        if pricing.attribute(key, "alternative") is not None:
            values.append(float(pricing.attribute(key, "alternative")))
        for v in values:
            bill = datadog_bill(usage, pricing, p, containers_included_per_host=v)
            compare.rows.append([f"Datadog {p}", f"{v:g}", round(bill.monthly, 2), round(bill.yearly, 2)])
    compare.rows.append(["Prometheus, infrastructure only", "", round(infra, 2), round(12 * infra, 2)])
    compare.rows.append(["Prometheus, with operations time", "", round(prom.monthly, 2), round(prom.yearly, 2)])
    section.tables.append(compare)

    w = _workload(usage, converted)
    series = Table("series_estimate", "Active series estimate (Prometheus)",
                   ["source", "count", "series each", "series", "constant"],
                   note="Measure instead of guessing once Prometheus runs: prometheus_tsdb_head_series, "
                        "count by (job)({__name__=~\".+\"}).")
    rows = series_rows(w, pricing)
    for r in rows:
        series.rows.append([r.source, round(r.count, 1), r.per_unit, round(r.series), r.key])
    series.rows.append(["total", "", "", round(sum(r.series for r in rows)), ""])
    size = sizing(w, pricing)
    sz = Table("prometheus_sizing", "Prometheus sizing", ["quantity", "value", "unit"])
    sz.rows += [
        ["active series", round(size.series), "series"],
        ["distinct metrics the converted rules and dashboards read", converted.metrics_used, "metric names"],
        ["ingestion", round(size.samples_per_second, 1), "samples/s per replica"],
        ["memory per replica (with headroom)", round(size.memory_gib_per_replica, 2), "GiB"],
        ["CPU per replica (with headroom)", round(size.cores_per_replica, 2), "cores"],
        ["nodes per replica", size.nodes_per_replica, pricing.text("prometheus.node.instance_type")],
        ["replicas (HA pair)", size.replicas, ""],
        ["local disk per replica", round(size.disk_gb_per_replica, 2), "GB"],
        ["object storage (long-term)", round(size.object_storage_gb, 1), "GB"],
        ["nodes for long-term components and Alertmanager/Grafana", size.shared_nodes, pricing.text("prometheus.node.instance_type")],
    ]
    section.tables += [series, sz]
    section.charts = _charts(section, usage, pricing, plan, converted)
    return section


def _curve(points: list[Usage], fn) -> list[tuple[float, float]]:
    return [(x, round(fn(u), 2)) for x, u in points]


def _charts(section: CostSection, usage: Usage, pricing: Pricing, plan: str, converted: Converted) -> list[LineChart]:
    def lines(points: list[tuple[float, Usage]]) -> list[Line]:
        out = [Line(f"Datadog {plan} ({section.allotment:g} containers/host included)",
                    _curve(points, lambda u: datadog_bill(u, pricing, plan).monthly))]
        if section.alternative_allotment is not None:
            out.append(Line(f"Datadog {plan} ({section.alternative_allotment:g} containers/host included)",
                            _curve(points, lambda u: datadog_bill(u, pricing, plan, section.alternative_allotment).monthly),
                            dashed=True))
        out.append(Line("Prometheus, infrastructure",
                        _curve(points, lambda u: prometheus_bill(_workload(u, converted), pricing, False).monthly)))
        out.append(Line("Prometheus, with operations time",
                        _curve(points, lambda u: prometheus_bill(_workload(u, converted), pricing).monthly), dashed=True))
        return out

    density = usage.containers_per_host
    by_density = [(float(d), _scaled(usage, usage.hosts, d)) for d in DENSITIES]
    max_hosts = max(60, int(usage.hosts * 3))
    host_steps = sorted({1, *range(5, max_hosts + 1, max(1, max_hosts // 60)), int(usage.hosts)})
    by_hosts = [(float(h), _scaled(usage, h, density)) for h in host_steps]
    return [
        LineChart("chart-density", f"Monthly cost against containers per host ({usage.hosts:g} hosts)",
                  "containers per host", "cost (USD per month)", lines(by_density),
                  marker_x=density, marker_label=f"today: {density:.0f} per host"),
        LineChart("chart-hosts", f"Monthly cost against hosts ({density:.0f} containers per host)",
                  "hosts", "cost (USD per month)", lines(by_hosts),
                  marker_x=usage.hosts, marker_label=f"today: {usage.hosts:g} hosts"),
    ]


def chart_tables(charts: list[LineChart]) -> list[Table]:
    tables = []
    for chart in charts:
        xs = sorted({x for line in chart.lines for x, _ in line.points})
        table = Table(chart.id.replace("-", "_"), chart.title, [chart.x_label, *[l.name for l in chart.lines]])
        values = [dict(line.points) for line in chart.lines]
        for x in xs:
            table.rows.append([x, *[v.get(x, "") for v in values]])
        tables.append(table)
    return tables


def constants_table(pricing: Pricing) -> Table:
    table = Table("constants", "Every constant used, with its source",
                  ["constant", "value", "unit", "source", "as of", "verification"],
                  note=f"From {pricing.origin}. Override any of them with --pricing FILE (same keys).")
    for key in sorted(pricing.used):
        c = pricing.used[key]
        table.rows.append([key, c.value, c.unit, c.source, c.as_of, c.verification])
    return table
