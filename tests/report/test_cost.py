"""The cost model against hand-computed examples (12 hosts x 25 containers, the sample
organisation) on both plans and both container allotments."""

from __future__ import annotations

import pytest

from dd2prom.report.cost import Pricing, PricingError
from dd2prom.report.cost.datadog import Usage, current_usage, datadog_bill, usage_months
from dd2prom.report.cost.prometheus import Converted, Workload, prometheus_bill, series_rows, sizing
from dd2prom.resources import sample_org_dir
from dd2prom.snapshot import Snapshot

SAMPLE = Usage("2026-10", hosts=12, containers=300, custom_metrics=1905)


@pytest.fixture()
def pricing() -> Pricing:
    return Pricing.load()


# (plan, containers included per host or None for the default, hosts, containers, custom metrics, total)
# hand-computed: host price x hosts + (containers - hosts x allotment) x 730 h x $0.002 + (cm - hosts x included) x $0.05
DATADOG_CASES = [
    ("pro", None, 180.00, 262.80, 35.25),          # 12 x 15; (300-120) x 1.46; (1905-1200) x 0.05
    ("pro", 5, 180.00, 350.40, 35.25),             # (300-60) x 1.46
    ("enterprise", None, 276.00, 87.60, 0.00),     # 12 x 23; (300-240) x 1.46; 1905 < 2400 included
    ("enterprise", 10, 276.00, 262.80, 0.00),      # (300-120) x 1.46
]


@pytest.mark.parametrize("plan,allotment,hosts,containers,custom", DATADOG_CASES)
def test_datadog_bill_12_hosts_25_containers(pricing, plan, allotment, hosts, containers, custom):
    bill = datadog_bill(SAMPLE, pricing, plan, containers_included_per_host=allotment)
    assert [round(line.monthly, 2) for line in bill.lines] == [hosts, containers, custom]
    assert bill.monthly == pytest.approx(hosts + containers + custom)
    assert bill.yearly == pytest.approx(12 * (hosts + containers + custom))


def test_worked_example_of_the_pricing_notes(pricing):
    """50 nodes, 1,500 containers, 20k custom metrics on Pro: $750 + $1,460 + $750."""
    bill = datadog_bill(Usage("x", hosts=50, containers=1500, custom_metrics=20000), pricing, "pro")
    assert [round(line.monthly, 2) for line in bill.lines] == [750.0, 1460.0, 750.0]
    five = datadog_bill(Usage("x", hosts=50, containers=1500, custom_metrics=20000), pricing, "pro", 5)
    assert round(five.lines[1].monthly, 2) == 1825.0


def test_containers_within_the_allotment_cost_nothing(pricing):
    bill = datadog_bill(Usage("x", hosts=12, containers=60, custom_metrics=0), pricing, "pro")
    assert bill.lines[1].monthly == 0 and bill.lines[1].billable == 0


def test_on_demand_host_price(pricing, tmp_path):
    override = tmp_path / "p.yaml"
    override.write_text("datadog:\n  billing: on_demand\n")
    bill = datadog_bill(SAMPLE, Pricing.load(override), "pro")
    assert bill.lines[0].monthly == pytest.approx(12 * 18)


def test_unknown_billing_mode_is_an_error(tmp_path):
    override = tmp_path / "p.yaml"
    override.write_text("datadog:\n  billing: weekly\n")
    with pytest.raises(PricingError, match="annual or on_demand"):
        datadog_bill(SAMPLE, Pricing.load(override), "pro")


def test_sample_usage_summary_is_read():
    months = usage_months(Snapshot.open(sample_org_dir()).usage()["summary"])
    assert [m.label for m in months] == ["2026-08", "2026-09", "2026-10"]
    assert all(m.hosts == 12 and m.containers == 300 for m in months)
    assert months[-1].containers_hwm == 318


def test_command_line_numbers_override_usage():
    months = [SAMPLE]
    assert current_usage([], None, None, None) is None
    assert current_usage([Usage("m", 0, 0, 0)], None, None, None) is None
    given = current_usage([], 3, 90, 50)
    assert (given.hosts, given.containers, given.custom_metrics) == (3, 90, 50)
    mixed = current_usage(months, None, 600, None)
    assert (mixed.hosts, mixed.containers, mixed.custom_metrics) == (12, 600, 1905)
    assert "--containers" in mixed.source


def test_prometheus_series_and_sizing_hand_computed(pricing):
    w = Workload(hosts=12, containers=300, custom_metrics=1905, converted=Converted(probes=1))
    # 12 x 1000 node_exporter + 300 x 75 cAdvisor + 300 pods x 30 kube-state-metrics + 1905 app + 1 probe x 20
    assert sum(r.series for r in series_rows(w, pricing)) == 45425
    size = sizing(w, pricing)
    assert size.samples_per_second == pytest.approx(45425 / 30)
    # 1514.17 samples/s x 15 d x 86400 s x 2 B / 0.8 fill = 4.906 GB per replica
    assert size.disk_gb_per_replica == pytest.approx(45425 / 30 * 15 * 86400 * 2 / 0.8 / 1e9)
    # 45425 series x (395 d x 86400 / 30 s) samples x 2 B = 103.35 GB
    assert size.object_storage_gb == pytest.approx(103.35096)
    assert size.memory_gib_per_replica == pytest.approx(45425 * 4096 * 1.5 / 2**30)
    assert (size.nodes_per_replica, size.replicas, size.shared_nodes) == (1, 2, 2)   # (6+2) GiB x 1.5 / 6 GiB usable
    bill = prometheus_bill(w, pricing)
    node = 0.096 * 730
    expected = 2 * node + 2 * size.disk_gb_per_replica * 0.08 + 103.35096 * 0.023 + 2 * node + 8 * 75
    assert bill.monthly == pytest.approx(expected)
    assert round(bill.monthly, 2) == 883.48
    assert prometheus_bill(w, pricing, with_operations=False).monthly == pytest.approx(expected - 600)


def test_convert_output_adds_probes_exporters_and_recording_rules(pricing):
    base = Workload(hosts=1, containers=0, custom_metrics=0)
    more = Workload(hosts=1, containers=0, custom_metrics=0, converted=Converted(exporters=2, probes=3, recording_rules=4))
    extra = sum(r.series for r in series_rows(more, pricing)) - sum(r.series for r in series_rows(base, pricing))
    assert extra == 2 * 300 + 3 * 20 + 4 * 10


def test_cpu_or_memory_decides_the_node_count_for_large_organisations(pricing):
    size = sizing(Workload(hosts=200, containers=30000, custom_metrics=500000), pricing)
    # 200k + 2.25M + 900k + 500k = 3.85M series; x 4 KiB x 1.5 = 22.0 GiB -> 4 nodes of 6 GiB usable;
    # 3.85M / 30 s = 128,333 samples/s / 20,000 per core x 1.5 = 9.6 cores -> 7 nodes of 1.5 usable vCPU
    assert size.series == 3_850_000
    assert size.memory_gib_per_replica == pytest.approx(22.03, abs=0.01)
    assert size.cores_per_replica == pytest.approx(9.625)
    assert size.nodes_per_replica == 7


def test_pricing_override_keeps_units_and_names_the_file(tmp_path):
    override = tmp_path / "contract.yaml"
    override.write_text("datadog:\n  plans:\n    pro:\n      containers_included_per_host: 5\n"
                        "prometheus:\n  scrape_interval_seconds: {value: 15, source: our config}\n")
    pricing = Pricing.load(override)
    assert pricing.number("datadog.plans.pro.containers_included_per_host") == 5
    c = pricing.constant("datadog.plans.pro.containers_included_per_host")
    assert "contract.yaml" in c.source and c.unit.startswith("containers per host")
    assert pricing.constant("prometheus.scrape_interval_seconds").source == "our config"
    assert pricing.attribute("datadog.plans.pro.containers_included_per_host", "alternative") == 5


@pytest.mark.parametrize("text", ["datadog: [1, 2]\n", "datadog:\n  container_hour: {x: 1}\n", ": :\n"])
def test_bad_pricing_files_are_errors(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PricingError):
        p = Pricing.load(path)
        p.number("datadog.container_hour")


def test_non_number_constant_is_an_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("datadog:\n  container_hour: cheap\n")
    with pytest.raises(PricingError, match="must be a number"):
        Pricing.load(path).number("datadog.container_hour")


def test_every_default_constant_names_a_source_and_a_verification(pricing):
    def walk(node, key=""):
        if isinstance(node, dict) and "value" in node:
            yield key, node
        elif isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{key}.{k}" if key else k)
    constants = list(walk(pricing.tree))
    assert len(constants) > 30
    for key, node in constants:
        assert node.get("source") and node.get("verification") and node.get("unit"), key
