"""Monitors stage over a small snapshot: rules, routes and generated tests pass the real tools."""

from __future__ import annotations

import json
import subprocess

import pytest

import dd2prom.convert.monitors.metric as metric_family
import dd2prom.convert.synthetics as synthetics_stage
from dd2prom.convert.pipeline import run_convert
from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.validate.crd import validate_object
from dd2prom.validate.verify import verify
from tests.monitors.fake_translate import fake_translate
from tests.support import crd_dir, require_binary

HOSTILE = 'Break it: {{ define "x" }}{{ template "x" }} {{ $labels.host }} {{#is_alert}} and }} {{'

MONITORS = [
    {"id": 1, "name": "CPU high on {{host.name}}", "type": "metric alert",
     "query": "avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90",
     "message": "{{#is_alert}}CPU {{value}} on {{host.name}} @pagerduty-infra{{/is_alert}}\n"
                "{{#is_warning}}Warming up @slack-ops-warn{{/is_warning}}\n@slack-ops "
                "{{#is_recovery}}Back to normal @slack-recovered{{/is_recovery}}"
                "[Runbook](https://runbooks.example/cpu)",
     "tags": ["team:infra", "env:prod"], "priority": 2,
     "options": {"thresholds": {"critical": 90, "warning": 80, "critical_recovery": 85},
                 "notify_no_data": True, "no_data_timeframe": 10, "renotify_interval": 30,
                 "new_host_delay": 300}},
    {"id": 2, "name": "Disk low", "type": "query alert",
     "query": "min(last_10m):min:system.disk.free{*} by {host,device} < 1000000000",
     "message": HOSTILE + " @ops@example.com @webhook-audit @team-storage",
     "tags": ["team:storage"], "options": {"thresholds": {"critical": 1e9}}},
    {"id": 3, "name": "Both", "type": "composite", "query": "1 && !2", "message": "@slack-ops",
     "tags": ["team:infra"], "options": {}},
    {"id": 4, "name": "Site down", "type": "synthetics alert", "query": "no_query",
     "message": "{{#is_alert}}down @opsgenie-web{{/is_alert}}", "tags": ["team:web"], "options": {}},
    {"id": 5, "name": "Errors in logs", "type": "log alert", "query": 'logs("status:error").index("*").last("5m") > 10',
     "message": "", "tags": [], "options": {"thresholds": {"critical": 10}}},
    {"id": 6, "name": "Latency burn", "type": "slo alert",
     "query": 'burn_rate("abc").over("7d").long_window("1h").short_window("5m") > 14.4',
     "message": "@slack-slo", "tags": [], "options": {"thresholds": {"critical": 14.4}}},
]
SYNTHETIC = {"public_id": "abc-def-ghi", "name": "Site", "type": "api", "monitor_id": 4,
             "options": {"min_failure_duration": 120, "min_location_failed": 1}, "locations": ["aws:eu-west-1"]}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    snap = tmp_path_factory.mktemp("snap")
    (snap / "monitors").mkdir()
    (snap / "synthetics").mkdir()
    for m in MONITORS:
        (snap / "monitors" / f"{m['id']}.json").write_text(json.dumps(m))
    (snap / "monitors" / "broken.json").write_text("{not json")
    (snap / "synthetics" / "abc-def-ghi.json").write_text(json.dumps(SYNTHETIC))
    mp = pytest.MonkeyPatch()
    mp.setattr(metric_family, "translate", fake_translate)

    def fake_synthetics(snapshot, ctx):
        ctx.shared["probes"] = {"abc-def-ghi": {"job": "blackbox", "instance": "https://site.example"}}
    mp.setattr(synthetics_stage, "run", fake_synthetics)
    out = tmp_path_factory.mktemp("out") / "o"
    ctx = run_convert(snap, out, only={"synthetics", "monitors"})
    mp.undo()
    return out, {i.id: i for i in ctx.ledger}


def test_statuses(converted):
    _, items = converted
    assert {k: items[k].status.value for k in items} == {
        "1": "approximate", "2": "manual", "3": "approximate", "4": "exact", "5": "unsupported", "6": "manual",
        "broken": "error"}
    assert "prometheus/rules/monitors-infra.yaml" in items["1"].outputs
    assert items["1"].extra["promql"].endswith("> 90")
    assert items["1"].extra["owner"] == "infra"
    assert any("@slack-recovered is mentioned only for recoveries" in n for n in items["1"].notes)


def test_real_tools_pass(converted):
    require_binary("promtool")
    require_binary("amtool")
    out, _ = converted
    results = {r.name: r for r in verify(out, crd_dir())}
    for name, r in results.items():
        assert r.ok, (name, r.details)
    assert results["promtool test rules"].checked >= 2
    assert results["amtool config routes test"].checked >= 5


def test_crds_strict(converted):
    out, _ = converted
    for f in (out / "prometheus" / "rules").glob("*.yaml"):
        for doc in load_yaml_all(f.read_text()):
            assert validate_object(doc, crd_dir()) == []
            assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def rules_of(out, group):
    doc = load_yaml_all((out / "prometheus" / "rule-files" / f"{group}.rules.yaml").read_text())[0]
    return {(r.get("alert") or r["record"] + r["labels"]["dd_monitor_id"]) + r.get("labels", {}).get("dd_state", ""): r
            for g in doc["groups"] for r in g["rules"]}


def test_threshold_rules(converted):
    out, _ = converted
    rules = rules_of(out, "monitors-infra")
    crit = rules["CPUHighOnalert"]
    assert crit["labels"] == {"severity": "critical", "dd_state": "alert", "env": "prod", "team": "infra",
                              "priority": "P2"}
    assert "ALERTS{" in crit["expr"] and "> 85" in crit["expr"]        # recovery hysteresis
    assert crit["annotations"]["runbook_url"] == "https://runbooks.example/cpu"
    assert crit["annotations"]["recovery_message"].startswith("@slack-ops Back to normal")
    assert crit["annotations"]["description"].startswith(
        'CPU {{ $value }} on {{ reReplaceAll ":[0-9]+$" "" $labels.instance }}')
    nodata = rules["CPUHighOnNoDatano_data"]
    assert nodata["for"] == "5m" and "unless" in nodata["expr"]


def test_hostile_message_is_inert(converted):
    out, _ = converted
    rule = rules_of(out, "monitors-storage")["DiskLowalert"]
    assert '{{ define' not in rule["annotations"]["description"]


def amtool_routes(out, *labels):
    r = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={out}/alertmanager/alertmanager.yaml",
                        *labels], capture_output=True, text=True)
    return r.stdout.strip()


@pytest.mark.parametrize("labels,receivers", [
    # mentioned only inside {{#is_alert}}/{{#is_warning}}: Datadog does not tell them of the recovery
    (["dd_monitor_id=1", "dd_state=alert", "severity=critical"], "pagerduty-infra-firing-only,slack-ops"),
    (["dd_monitor_id=1", "dd_state=warn", "severity=warning"], "slack-ops-warn-firing-only,slack-ops"),
    (["dd_monitor_id=2", "dd_state=alert"], "email-ops@example.com,webhook-audit,team-storage"),
    (["dd_monitor_id=4", "dd_state=alert"], "opsgenie-web-firing-only"),
    (["dd_monitor_id=99"], "default"),
])
def test_routes_reach_mentioned_receivers(converted, labels, receivers):
    require_binary("amtool")
    out, _ = converted
    assert sorted(amtool_routes(out, *labels).split(",")) == sorted(receivers.split(","))


def test_send_resolved_follows_the_recovery_message(converted):
    """A recovery notification goes to the handles the recovery message mentions."""
    out, _ = converted
    am = load_yaml_all((out / "alertmanager" / "alertmanager.yaml").read_text())[0]
    resolved = {r["name"]: {c["send_resolved"] for k, v in r.items() if k.endswith("_configs") for c in v}
                for r in am["receivers"]}
    assert resolved["slack-ops"] == {True} and resolved["email-ops@example.com"] == {True}
    assert resolved["pagerduty-infra-firing-only"] == {False} and resolved["opsgenie-web-firing-only"] == {False}
    assert "pagerduty-infra" not in resolved


def test_inhibit_and_secrets(converted):
    out, _ = converted
    am = load_yaml_all((out / "alertmanager" / "alertmanager.yaml").read_text())[0]
    assert {"source_matchers": ['dd_monitor_id="1"', 'dd_state="alert"'],
            "target_matchers": ['dd_monitor_id="1"', 'dd_state="warn"'], "equal": ["instance"]} in am["inhibit_rules"]
    text = (out / "alertmanager" / "alertmanager.yaml").read_text()
    assert "/etc/alertmanager/secrets/dd2prom-pagerduty/infra" in text
    assert "hooks.slack.com" not in text


def test_large_owners_are_split(tmp_path, monkeypatch):
    """Parts close when their rules pass MAX_RULE_BYTES; each part is a whole
    PrometheusRule, rule file and test file, the same as dumping it at once."""
    from dd2prom.convert.monitors import rulefiles
    from dd2prom.emit.yamlio import dump_yaml

    snap = tmp_path / "snap" / "monitors"
    snap.mkdir(parents=True)
    for i in range(5):
        (snap / f"{i}.json").write_text(json.dumps({**MONITORS[0], "id": i, "name": f"CPU {i}", "tags": ["team:web"]}))
    monkeypatch.setattr(rulefiles, "MAX_RULE_BYTES", 300)
    run_convert(tmp_path / "snap", tmp_path / "small", only={"monitors"})
    rules = sorted(p.name for p in (tmp_path / "small" / "prometheus" / "rules").iterdir())
    assert rules == ["monitors-web-2.yaml", "monitors-web-3.yaml", "monitors-web-4.yaml",
                     "monitors-web-5.yaml", "monitors-web.yaml"]
    monkeypatch.setattr(rulefiles, "MAX_RULE_BYTES", 100_000)
    run_convert(tmp_path / "snap", tmp_path / "big", only={"monitors"})
    out = tmp_path / "big" / "prometheus"
    assert [p.name for p in (out / "rules").iterdir()] == ["monitors-web.yaml"]
    for path in [out / "rules" / "monitors-web.yaml", out / "rule-files" / "monitors-web.rules.yaml",
                 out / "tests" / "monitors-web.test.yaml"]:
        text = path.read_text()
        doc = load_yaml_all(text)[0]
        assert dump_yaml(doc) == text
        groups = doc.get("spec", doc).get("groups") or doc["tests"]
        assert len(groups) >= 5


def test_invalid_promql_is_an_error_with_nothing_written(tmp_path, monkeypatch):
    from dd2prom.convert.queries.types import MonitorCondition, Translation
    from dd2prom.model import Status

    def broken(query, monitor=False, ctx=None):
        cond = MonitorCondition("avg", 300, "sum(rate(x[5m])", ">", 1.0)
        return Translation(query=query, promql="sum(rate(x[5m]) > 1", status=Status.EXACT, monitor=cond)

    snap = tmp_path / "snap" / "monitors"
    snap.mkdir(parents=True)
    (snap / "1.json").write_text(json.dumps({**MONITORS[0], "message": "@slack-ops"}))
    monkeypatch.setattr(metric_family, "translate", broken)
    ctx = run_convert(tmp_path / "snap", tmp_path / "out", only={"monitors"})
    item = ctx.ledger.get("monitor", "1")
    assert item.status.value == "error" and not item.outputs
    assert not (tmp_path / "out" / "prometheus").exists()
    assert "slack-ops" not in (tmp_path / "out" / "alertmanager" / "alertmanager.yaml").read_text()
