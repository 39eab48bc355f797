"""`dd2prom report` end to end on the bundled sample organisation: the files it writes,
their content, and the exit codes for unusable input."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from dd2prom.cli import app
from dd2prom.resources import sample_org_dir
from tests.report.fixtures import write_converted

runner = CliRunner()


def report(tmp_path, *args, snapshot=None):
    converted = write_converted(tmp_path / "out")
    return runner.invoke(app, ["report", str(snapshot or sample_org_dir()), "--converted", str(converted),
                               "--out", str(tmp_path / "reports"), "--name", "sample", *args])


def test_report_on_the_sample_org(tmp_path):
    result = report(tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "reports" / "sample"
    names = {p.name for p in folder.iterdir()}
    assert {"report.html", "report.md", "chart-density.svg", "chart-hosts.svg", "coverage_by_kind.csv", "worklist.csv",
            "unmapped_metrics.csv", "deploy.csv", "cost_datadog.csv", "cost_prometheus.csv", "cost_comparison.csv",
            "series_estimate.csv", "constants.csv", "chart_density.csv", "chart_hosts.csv", "usage_months.csv"} <= names
    assert not [n for n in folder.parent.iterdir() if n.name.startswith(".")]       # no staging left behind
    dd = pd.read_csv(folder / "cost_datadog.csv")
    assert dd["monthly (USD)"].iloc[-1] == pytest.approx(478.05)
    density = pd.read_csv(folder / "chart_density.csv")
    assert list(density["containers per host"]) == list(range(1, 61))
    html = (folder / "report.html").read_text()
    assert "<script" not in html and html.count("<svg") == 2
    assert "$478.05/month" in html and "10 per host" in html
    md = (folder / "report.md").read_text()
    assert "| kind | exact | approximate |" in md and "![Monthly cost against containers per host" in md
    constants = pd.read_csv(folder / "constants.csv")
    assert constants["source"].notna().all() and "datadog.container_hour" in set(constants["constant"])


def test_enterprise_plan_and_override(tmp_path):
    pricing = tmp_path / "contract.yaml"
    pricing.write_text("datadog:\n  plans:\n    enterprise:\n      host_annual: 20\n")
    result = report(tmp_path, "--plan", "enterprise", "--pricing", str(pricing))
    assert result.exit_code == 0, result.output
    dd = pd.read_csv(tmp_path / "reports" / "sample" / "cost_datadog.csv")
    assert dd["monthly (USD)"].iloc[0] == pytest.approx(240)     # 12 hosts x $20
    constants = pd.read_csv(tmp_path / "reports" / "sample" / "constants.csv")
    row = constants[constants["constant"] == "datadog.plans.enterprise.host_annual"].iloc[0]
    assert "contract.yaml" in row["source"]


def test_no_usage_data_then_command_line_numbers(tmp_path):
    snapshot = tmp_path / "snap"
    (snapshot / "monitors").mkdir(parents=True)
    result = report(tmp_path, snapshot=snapshot)
    assert result.exit_code == 0, result.output
    assert "no usage data" in result.output
    assert not (tmp_path / "reports" / "sample" / "cost_datadog.csv").exists()
    result = report(tmp_path, "--hosts", "12", "--containers", "300", "--custom-metrics", "1905", snapshot=snapshot)
    assert result.exit_code == 0, result.output
    dd = pd.read_csv(tmp_path / "reports" / "sample" / "cost_datadog.csv")
    assert dd["monthly (USD)"].iloc[-1] == pytest.approx(478.05)


@pytest.mark.parametrize("args,message", [
    (["--plan", "gold"], "unknown plan"),
    (["--hosts", "0"], "at least 1"),
    (["--containers", "-1"], "must not be negative"),
])
def test_usage_errors(tmp_path, args, message):
    result = report(tmp_path, *args)
    assert result.exit_code == 2 and message in result.output


def test_a_broken_pricing_file_is_one_line(tmp_path):
    pricing = tmp_path / "p.yaml"
    pricing.write_text("datadog: [1\n")
    result = report(tmp_path, "--pricing", str(pricing))
    assert result.exit_code == 2 and "not valid YAML (line 2: " in result.output
    assert "^" not in result.output and "<unicode string>" not in result.output


def test_missing_coverage_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["report", str(sample_org_dir()), "--converted", str(tmp_path / "empty"),
                                 "--out", str(tmp_path / "reports")])
    assert result.exit_code == 2 and "coverage.json" in result.output
    assert not (tmp_path / "reports" / "sample-org").exists()


def test_mappings_option_leaves_mapped_metrics_out_of_the_unmapped_table(tmp_path):
    before = report(tmp_path)
    assert before.exit_code == 0, before.output
    unmapped = pd.read_csv(tmp_path / "reports" / "sample" / "unmapped_metrics.csv")
    assert "checkout.http_requests.count" in set(unmapped["metric"])
    mine = tmp_path / "mine.yaml"
    mine.write_text("metrics:\n  checkout.http_requests.count: {prometheus: http_requests_total, type: counter}\n")
    result = report(tmp_path, "--mappings", str(mine))
    assert result.exit_code == 0, result.output
    unmapped = pd.read_csv(tmp_path / "reports" / "sample" / "unmapped_metrics.csv")
    assert list(unmapped["metric"]) == ["checkout.http_request_duration_seconds.sum"]
    mine.write_text("tags: [a]\n")
    result = report(tmp_path, "--mappings", str(mine))
    assert result.exit_code == 2 and "'tags:' must be a YAML mapping" in result.output
