"""`dd2prom translate`: PromQL or JSON out, non-zero exit on error."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dd2prom.cli import app

runner = CliRunner()


def test_translate_prints_promql() -> None:
    r = runner.invoke(app, ["translate", "avg:system.load.1{env:prod} by {host}"])
    assert r.exit_code == 0
    assert 'avg by (instance) (node_load1{env="prod"})' in r.stdout


def test_translate_monitor_json() -> None:
    query = "sum(last_5m):sum:coredns.request_count{*}.as_count() > 10"
    r = runner.invoke(app, ["translate", "--monitor", "--json", query])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["promql"] == "sum(increase(coredns_dns_request_count_total[5m])) > 10"
    assert out["status"] == "exact"
    assert out["monitor"] == {"time_aggregation": "sum", "window_seconds": 300,
                              "expr": "sum(increase(coredns_dns_request_count_total[5m]))", "comparator": ">",
                              "threshold": 10.0}


def test_translate_error_exits_non_zero() -> None:
    r = runner.invoke(app, ["translate", "--json", "avg:x{a:b"])
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["status"] == "error" and "^" in out["error"]


def test_translate_unsupported_exits_non_zero() -> None:
    assert runner.invoke(app, ["translate", "anomalies(avg:x{*}, 'basic', 2)"]).exit_code == 1


def test_translate_with_user_mappings(tmp_path: Path) -> None:
    user = tmp_path / "m.yaml"
    user.write_text("metrics:\n  my.queue: {prometheus: queue_depth}\n")
    r = runner.invoke(app, ["translate", "--mappings", str(user), "--json", "max:my.queue{*}"])
    assert r.exit_code == 0 and json.loads(r.stdout)["promql"] == "max(queue_depth)"


def test_translate_monitor_flag_on_a_plain_query_hints_at_the_form() -> None:
    r = runner.invoke(app, ["translate", "--monitor", "avg:system.load.1{*}"])
    assert r.exit_code == 1 and "--monitor reads the monitor form 'avg(last_5m):QUERY > THRESHOLD'" in r.output
