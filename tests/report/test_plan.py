"""Coverage tables, the work list, unmapped metrics, what to deploy and the
candidates not to migrate, from a coverage.json fixture and the sample organisation."""

from __future__ import annotations

import json

import pytest

from dd2prom.report import coverage, worklist
from dd2prom.report.coverage import CoverageError
from dd2prom.resources import sample_org_dir
from dd2prom.snapshot import Snapshot
from tests.report.fixtures import ITEMS, write_converted


@pytest.fixture()
def converted(tmp_path):
    return write_converted(tmp_path / "out")


@pytest.fixture()
def index():
    return worklist.SnapshotIndex.build(Snapshot.open(sample_org_dir()))


def rows_by_first(table):
    return {row[0]: row for row in table.rows}


def test_coverage_by_kind_counts_and_percentages(converted):
    items = coverage.load_items(converted)
    table = rows_by_first(coverage.by_kind(items))
    # columns: kind, exact, approximate, manual, unsupported, error, total, exact %, exact or approximate %
    assert table["Monitors"][1:9] == [1, 2, 1, 1, 1, 6, "17%", "50%"]
    assert table["Widgets"][1:7] == [2, 1, 0, 1, 0, 4]
    assert table["all"][6] == len(ITEMS)


def test_monitors_and_widgets_by_type(converted):
    items = coverage.load_items(converted)
    monitors = rows_by_first(coverage.by_type(items, "monitor"))
    assert monitors["query alert"][1:7] == [0, 2, 0, 0, 1, 3]
    widgets = rows_by_first(coverage.by_type(items, "widget"))
    assert widgets["timeseries"][1:3] == [1, 1]
    assert coverage.by_type(items, "nothing") is None
    names = [t.name for t in coverage.coverage_tables(items)]
    assert names == ["coverage_by_kind", "coverage_monitor_by_type", "coverage_widget_by_type",
                     "coverage_check_by_type", "coverage_synthetics_by_type", "coverage_slo_by_type"]


@pytest.mark.parametrize("content,message", [
    (None, "not found"), ("{", "not readable"), ('{"things": []}', "no 'items'"),
])
def test_bad_coverage_json(tmp_path, content, message):
    if content is not None:
        (tmp_path / "coverage.json").write_text(content)
    with pytest.raises(CoverageError, match=message):
        coverage.load_items(tmp_path)


def test_odd_items_are_read_generically(tmp_path):
    raw = [{"kind": "monitor", "id": 1, "status": "weird", "notes": "one sentence"}, {"id": 2},
           {"kind": "widget", "id": "d/1", "status": "approximate", "notes": [{"message": "m", "severity": "warning"}, ""]}]
    (tmp_path / "coverage.json").write_text(json.dumps({"items": raw}))
    items = coverage.load_items(tmp_path)
    assert [(i["id"], i["status"], i["notes"]) for i in items] == [("1", "error", ["one sentence"]),
                                                                    ("d/1", "approximate", ["m"])]


def test_worklist_groups_by_owner_and_sorts_by_what_blocks(converted, index):
    items = coverage.load_items(converted)
    table = worklist.worklist(items, index)
    assert all(row[5] != "exact" for row in table.rows)
    assert len(table.rows) == sum(1 for i in ITEMS if i["status"] != "exact")
    owners = list(dict.fromkeys(row[0] for row in table.rows))
    # team:platform: manual monitor + unsupported monitor (via the snapshot tag); others fewer
    assert owners[0] == "team:platform"
    platform = [row for row in table.rows if row[0] == "team:platform"]
    assert [row[5] for row in platform] == sorted([row[5] for row in platform],
                                                   key=["error", "unsupported", "manual", "approximate"].index)
    by_id = {row[2]: row for row in table.rows}
    assert by_id["41250010"][0] == "team:payments"                  # explicit owner extra
    assert by_id["41250003"][0] == "team:platform"                  # tag from coverage
    assert by_id["41250007"][0] == "team:platform"                  # tag from the snapshot's monitor
    assert by_id["abc-def-ghk/3"][0] == "team:platform"              # widget -> its dashboard's team tag
    assert by_id["abc-def-ghk"][6].startswith("2: widget")           # the dashboard holds up 2 widgets
    assert by_id["41250008"][6] == "1: SLO Superset is reachable"    # a monitor SLO is built on it
    assert by_id["conf.d/redisdb.d/conf.yaml#0"][0] == "service:session-cache"
    assert by_id["41250011"][7] == "query does not parse"
    summary = worklist.owner_summary(table)
    assert summary.rows[0][0] == "team:platform"


@pytest.mark.parametrize("item,owner", [
    ({"kind": "monitor", "id": "1", "owner": "team:a", "tags": ["team:b"]}, "team:a"),
    ({"kind": "monitor", "id": "1", "owner": "payments", "tags": ["service:x", "team:payments"]}, "team:payments"),
    ({"kind": "monitor", "id": "1", "owner": "payments"}, "payments"),
    ({"kind": "monitor", "id": "1", "tags": ["env:prod", "service:api", "team:b"]}, "team:b"),
    ({"kind": "monitor", "id": "1", "tags": ["service:api"]}, "service:api"),
    ({"kind": "dashboard", "id": "d", "author": "ann@example.com"}, "ann@example.com"),
    ({"kind": "widget", "id": "d/7"}, "ann@example.com"),
    ({"kind": "monitor", "id": "41250009"}, "team:data"),             # tags of the snapshot's monitor
    ({"kind": "check", "id": "conf.d/x.d/conf.yaml#0"}, "(no owner)"),
])
def test_owner_of(index, item, owner):
    parent = {("dashboard", "d"): {"kind": "dashboard", "id": "d", "author": "ann@example.com"}}
    assert worklist.owner_of(item, index, parent) == owner


def test_unmapped_metrics_counted_by_monitors_and_widgets(converted):
    table = worklist.unmapped_metrics(coverage.load_items(converted))
    rows = rows_by_first(table)
    assert list(rows) == ["checkout.http_requests.count", "checkout.http_request_duration_seconds.sum"]
    assert rows["checkout.http_requests.count"][1:7] == [1, 0, 1, 0, 0, 2]


def test_unmapped_metrics_honour_the_users_mapping_table(converted, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("metrics:\n  checkout.http_requests.count: {prometheus: http_requests_total, type: counter}\n")
    table = worklist.unmapped_metrics(coverage.load_items(converted), mine)
    assert list(rows_by_first(table)) == ["checkout.http_request_duration_seconds.sum"]
    assert "mine.yaml" in table.note


@pytest.mark.parametrize("value,real", [
    ("redis_exporter (oliver006/redis_exporter:v1.62.0)", True), ("none (the application exposes /metrics)", False),
    ("kube-prometheus-stack", False), ("blackbox-exporter", False), ("", False), (None, False),
])
def test_real_exporter(value, real):
    assert worklist._real_exporter(value) is real


def test_unmapped_from_metrics_and_the_mapping_tables(monkeypatch):
    monkeypatch.setattr(worklist, "_mapping_lookup", lambda *_: lambda name: name.startswith("system."))
    items = [{"kind": "monitor", "id": "1", "name": "a", "metrics": ["system.cpu.user", "app.jobs"]},
             {"kind": "widget", "id": "d/1", "name": "b", "metrics": ["app.jobs"]},
             {"kind": "widget", "id": "d/2", "name": "c", "metrics": ["app.other"], "unmapped_metrics": []}]
    assert worklist.unmapped_metrics(items).rows == [["app.jobs", 1, 0, 1, 0, 0, 2, "a, b"]]


def test_deployables_read_from_the_output_folder(converted):
    table = worklist.deployables(converted, coverage.load_items(converted))
    rows = rows_by_first(table)
    assert rows["PrometheusRule objects"][1:3] == [1, "1 rule groups, 1 alerting rules, 1 recording rules"]
    assert rows["Alertmanager receivers"][2] == "receivers: default, slack-platform-alerts"
    assert rows["Probes"][1:3] == [1, "superset"]
    assert rows["Blackbox exporter modules"][2] == "http_2xx"
    assert rows["Exporters"][2] == "redis-exporter"
    assert rows["Exporter needed by checks"][2] == "redis_exporter"
    assert worklist.exporter_count(converted, coverage.load_items(converted)) == 1   # the redisdb instance
    assert worklist.probe_count(converted, coverage.load_items(converted)) == 1


def test_unused_monitors_from_the_sample(index):
    table = worklist.unused(index)
    assert [row[1] for row in table.rows] == ["41250012"]
    assert "never triggered" in table.rows[0][4]
