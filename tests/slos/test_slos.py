"""SLO stage: rules are valid for promtool and the CRDs, the generated promtool
tests pass (burn-rate alerts fire at their rates and stay quiet below), the
ledger says what happened to every SLO and SLO alert monitor."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dd2prom.convert import slos
from dd2prom.convert.context import ConvertContext, ConvertOptions
from dd2prom.convert.slos import slo_alerts
from dd2prom.convert.slos.spec import parse_spec
from dd2prom.emit.output import OutputDir
from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.model import Status
from dd2prom.snapshot import Snapshot
from dd2prom.validate.crd import validate_object
from tests.slos import fixtures as F
from tests.support import crd_dir, require_binary

ALL_SLOS = [F.METRIC_SLO, F.MONITOR_SLO, F.TIME_SLICE_SLO, F.BAD_SLO]
ALL_MONITORS = [F.BURN_MONITOR, F.BUDGET_MONITOR, F.ORPHAN_MONITOR, *F.PLAIN_MONITORS]


def convert(tmp_path: Path, slo_list=ALL_SLOS, monitors=ALL_MONITORS, converted_monitors=("101", "102")):
    """Run the slos stage alone, with the given monitors already converted."""
    snap = Snapshot.open(F.write_snapshot(tmp_path / "snap", slo_list, monitors))
    out = OutputDir(tmp_path / "out")
    ctx = ConvertContext(snapshot=snap, out=out, options=ConvertOptions())
    for mid in converted_monitors:   # what the monitors stage leaves for later stages
        ctx.ledger.add("monitor", mid, "m", "query alert").outputs.append("prometheus/rules/core.yaml")
        ctx.shared.setdefault("monitor_alerts", {})[mid] = {"alertname": f"M{mid}", "matchers": {"dd_monitor_id": mid}}
    slos.run(snap, ctx)
    out.commit()
    return ctx, tmp_path / "out"


@pytest.fixture
def converted(tmp_path, fake_transpiler):
    return convert(tmp_path)


def test_every_slo_in_ledger_with_status(converted):
    ctx, _ = converted
    got = {i.id: i.status for i in ctx.ledger if i.kind == "slo"}
    assert got == {
        F.METRIC_SLO["id"]: Status.APPROXIMATE,      # the "custom" timeframe is left out
        F.MONITOR_SLO["id"]: Status.MANUAL,          # monitor 999 is not in the snapshot
        F.TIME_SLICE_SLO["id"]: Status.APPROXIMATE,
        F.BAD_SLO["id"]: Status.ERROR,
    }
    monitor_slo = ctx.ledger.get("slo", F.MONITOR_SLO["id"])
    assert any("Monitor 999 is not in the snapshot" in n for n in monitor_slo.notes)
    assert any("ALERTS" in n for n in monitor_slo.notes)


def test_monitor_slo_without_the_monitors_stage_says_so(tmp_path, fake_transpiler):
    ctx, _ = convert(tmp_path, slo_list=[F.MONITOR_SLO], converted_monitors=())
    notes = " ".join(ctx.ledger.get("slo", F.MONITOR_SLO["id"]).notes)
    assert "the monitors stage did not run" in notes and "not in the snapshot" not in notes


def test_slo_alert_monitors_point_at_their_rule(converted):
    ctx, out = converted
    for mid, alertname in (("5001", "CheckoutFastBurn"), ("5002", "CheckoutBudget75Used")):
        item = ctx.ledger.get("monitor", mid)
        assert item.status is Status.EXACT and item.extra["alertnames"] == [alertname]
        assert "prometheus/rules/slo-checkout-availability.yaml" in item.outputs
    rules = (out / "prometheus/rule-files/slo-checkout-availability.rules.yaml").read_text()
    assert "alert: CheckoutFastBurn" in rules and "alert: CheckoutBudget75Used" in rules
    # the SLO is not in the snapshot: left to the monitors stage
    assert ctx.ledger.get("monitor", "5003") is None


def test_rules_pass_promtool_and_crds(converted):
    require_binary("promtool")
    _, out = converted
    rule_files = sorted((out / "prometheus/rule-files").glob("*.yaml"))
    tests = sorted((out / "prometheus/tests").glob("*.yaml"))
    assert [p.name for p in rule_files] == ["slo-api-uptime.rules.yaml", "slo-checkout-availability.rules.yaml",
                                            "slo-search-latency-p95.rules.yaml"]
    assert len(tests) == 3
    check = subprocess.run(["promtool", "check", "rules", *rule_files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    run = subprocess.run(["promtool", "test", "rules", *tests], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    crds = crd_dir()
    for path in sorted((out / "prometheus/rules").glob("*.yaml")):
        for obj in load_yaml_all(path.read_text()):
            assert validate_object(obj, crds) == [], path
            assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (cm,) = load_yaml_all((out / "grafana/configmaps/slos.yaml").read_text())
    assert validate_object(cm, crds) == [] and cm["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_promtool_tests_cover_documented_burn_rates(converted):
    _, out = converted
    doc = load_yaml_all((out / "prometheus/tests/slo-checkout-availability.test.yaml").read_text())[0]
    names = [t["name"] for t in doc["tests"]]
    for rate in ("15.84x over 1h", "6.6x over 6h", "3.3x over 1d", "1.1x over 3d"):
        assert any(rate in n and n.endswith("fires") for n in names), rate
    for rate in ("12.96x over 1h", "5.4x over 6h", "2.7x over 1d", "0.9x over 3d"):
        assert any(rate in n and n.endswith("stays quiet") for n in names), rate


def test_metric_slo_rules(converted):
    _, out = converted
    doc = load_yaml_all((out / "prometheus/rule-files/slo-checkout-availability.rules.yaml").read_text())[0]
    rules = {(r.get("record") or r.get("alert"), r["labels"].get("slo_timeframe", ""),
              r["labels"].get("severity", "")): r for g in doc["groups"] for r in g["rules"]}
    # good (two queries), total, and total again for the zero fill of good
    assert rules[("slo:sli_error:ratio_rate1h", "", "")]["expr"].count("[1h]") == 4
    assert "sum_over_time(slo:sli_good:count5m" in rules[("slo:sli_error:ratio_rate30d", "", "")]["expr"]
    assert rules[("slo:error_budget_remaining:ratio", "7d", "")]["expr"].endswith("/ 0.001)")
    assert rules[("slo:warning:ratio", "7d", "")]["expr"] == "vector(0.9995)"
    page = rules[("SLOErrorBudgetBurn", "30d", "page")]
    assert "(14.4 * 0.005)" in page["expr"] and "(6 * 0.005)" in page["expr"]
    assert page["labels"]["team"] == "payments"
    ticket = rules[("SLOErrorBudgetBurn", "30d", "ticket")]
    assert "ratio_rate3d" in ticket["expr"] and "(1 * 0.005)" in ticket["expr"]


def test_dashboard_has_a_row_per_slo(converted):
    _, out = converted
    dash = json.loads((out / "grafana/dashboards/slos.json").read_text())
    rows = [p["title"] for p in dash["panels"] if p["type"] == "row"]
    assert rows == ["Checkout availability (metric SLO)", "API uptime (monitor SLO)",
                    "Search latency p95 (time_slice SLO)"]


def test_monitor_slo_without_converted_monitors_is_unsupported(tmp_path, fake_transpiler):
    ctx, out = convert(tmp_path, [F.MONITOR_SLO], [], converted_monitors=())
    item = ctx.ledger.get("slo", F.MONITOR_SLO["id"])
    assert item.status is Status.UNSUPPORTED and item.outputs == []
    assert not (out / "prometheus").exists()


def test_low_target_notes_unreachable_page(tmp_path, fake_transpiler):
    slo = dict(F.METRIC_SLO, id="low", thresholds=[{"timeframe": "30d", "target": 90}], timeframe="30d",
               target_threshold=90)
    ctx, _ = convert(tmp_path, [slo], [])
    assert any("14.4x burn rate (1h/5m) needs an error ratio of 100% or more" in n
               for n in ctx.ledger.get("slo", "low").notes)


@pytest.mark.parametrize("data,timeframes,primary,problems", [
    ({"thresholds": [{"timeframe": "7d", "target": 99}, {"timeframe": "90d", "target": 98}]}, ["7d", "90d"], "7d", 0),
    ({"thresholds": [{"timeframe": "7d", "target": 99}], "timeframe": "30d", "target_threshold": 99.9},
     ["7d", "30d"], "30d", 0),
    ({"thresholds": [{"timeframe": "custom", "target": 99}]}, [], None, 1),
    ({"thresholds": [{"timeframe": "7d", "target": 100}]}, [], None, 1),
])
def test_parse_spec_objectives(data, timeframes, primary, problems):
    spec = parse_spec("x", {"name": "n", "type": "metric", **data})
    assert [o.timeframe for o in spec.objectives] == timeframes
    assert (spec.primary.timeframe if spec.primary else None) == primary
    assert len(spec.problems) == problems


@pytest.mark.parametrize("query,kind,long,short,critical", [
    ('burn_rate("a").over("30d").long_window("1h").short_window("5m") > 14.4', "burn_rate", "1h", "5m", 14.4),
    ("burn_rate('a').over('7d').long_window('6h') > 6", "burn_rate", "6h", "30m", 6.0),
    ('burn_rate("a").over("7d") > 2', "burn_rate", "1h", "5m", 2.0),
    ('error_budget("a").over("30d") > 75', "error_budget", None, None, 75.0),
])
def test_parse_slo_alert_queries(query, kind, long, short, critical):
    mon = slo_alerts.parse("1", {"name": "m", "query": query})
    assert (mon.slo_id, mon.kind, mon.long_window, mon.short_window, mon.thresholds["critical"]) == \
        ("a", kind, long, short, critical)


def test_bad_slo_alert_query_is_unsupported(tmp_path, fake_transpiler):
    bad = {"id": 7, "name": "odd", "type": "slo alert", "query": "avg(last_5m):foo{*} > 1"}
    ctx, _ = convert(tmp_path, [], [bad])
    assert ctx.ledger.get("monitor", "7").status is Status.UNSUPPORTED


def test_slo_alert_monitors_through_the_pipeline(tmp_path, fake_transpiler):
    """The monitors stage records SLO alert monitors; the slos stage settles
    them and routes their @-mentions to the alerts it generated."""
    from dd2prom.convert.pipeline import run_convert

    snap = F.write_snapshot(tmp_path / "snap", [F.METRIC_SLO], [F.BURN_MONITOR, F.ORPHAN_MONITOR])
    ctx = run_convert(snap, tmp_path / "out", only={"monitors", "slos"})
    burn, orphan = ctx.ledger.get("monitor", "5001"), ctx.ledger.get("monitor", "5003")
    assert burn.status is Status.EXACT, burn.notes
    assert "prometheus/rules/slo-checkout-availability.yaml" in burn.outputs
    assert orphan.status is Status.MANUAL
    am = load_yaml_all((tmp_path / "out/alertmanager/alertmanager.yaml").read_text())[0]
    receivers = [c["receiver"] for r in am["route"]["routes"] for c in r.get("routes", [])]
    assert "pagerduty-payments" in receivers
    assert {"source_matchers": ['dd_monitor_id="5001"', 'dd_state="alert"'],
            "target_matchers": ['dd_monitor_id="5001"', 'dd_state="warn"']} in am["inhibit_rules"]


def _promtool_all(out: Path, pattern: str) -> None:
    rule_files = sorted((out / "prometheus/rule-files").glob(pattern + ".rules.yaml"))
    tests = sorted((out / "prometheus/tests").glob(pattern + ".test.yaml"))
    assert rule_files and tests
    for cmd in (["promtool", "check", "rules", *rule_files], ["promtool", "test", "rules", *tests]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_real_transpiler_end_to_end(tmp_path):
    """All stages with the real transpiler: the SLO rules and tests still pass promtool."""
    require_binary("promtool")
    from dd2prom.convert.pipeline import run_convert

    snap = F.write_snapshot(tmp_path / "snap", [*ALL_SLOS, F.GROUPED_SLO], ALL_MONITORS)
    ctx = run_convert(snap, tmp_path / "out")
    assert {i.id for i in ctx.ledger if i.kind == "slo"} == {s["id"] for s in [*ALL_SLOS, F.GROUPED_SLO]}
    grouped = ctx.ledger.get("slo", "grouped01")
    assert any("per namespace" in n for n in grouped.notes), grouped.notes
    good = ctx.ledger.get("slo", F.METRIC_SLO["id"]).extra["translations"][0]
    assert good["promql"] == ('sum(increase(trace_http_request_hits_total{service="checkout"}[5m])) - '
                              'sum(increase(trace_http_request_errors_total{service="checkout"}[5m]))')
    _promtool_all(tmp_path / "out", "slo-*")


@pytest.mark.corpus
def test_corpus_slos_in_coverage(tmp_path):
    from tests.support import shared_dir
    from dd2prom.convert.pipeline import run_convert

    corpus = shared_dir("corpus")
    ctx = run_convert(corpus, tmp_path / "out", only={"monitors", "slos", "downtimes"})
    snap = Snapshot.open(corpus)
    for kind, folder in (("slo", "slos"), ("downtime", "downtimes")):
        ids = {o.id for o in snap.iter(folder)}
        assert ids == {i.id for i in ctx.ledger if i.kind == kind}
    if list((tmp_path / "out/prometheus/tests").glob("slo-*.test.yaml")):
        require_binary("promtool")
        _promtool_all(tmp_path / "out", "slo-*")


def test_dashboard_type_checks_against_grafana_schema(converted):
    from tests.dashboards.tsc_check import typecheck

    _, out = converted
    errors = typecheck({"slos": json.loads((out / "grafana/dashboards/slos.json").read_text())})
    assert errors == [], "\n".join(errors[:40])


def test_raw_counters_give_the_error_ratio(tmp_path):
    """From raw counters (real transpiler): a namespace with only failing requests
    has error ratio 1 (its good-events query matches no series), a healthy one 0."""
    require_binary("promtool")
    from dd2prom.convert.pipeline import run_convert
    from dd2prom.emit.yamlio import dump_yaml

    out = tmp_path / "out"
    run_convert(F.write_snapshot(tmp_path / "snap", [F.GROUPED_SLO], []), out, only={"slos"})
    name = F.GROUPED_SLO["name"]
    checks = [{"eval_time": "90m", "expr": f'{record}{{dd_slo_id="grouped01"}}',
               "exp_samples": [{"labels": f'{record}{{dd_slo_id="grouped01",namespace="{ns}",slo_name="{name}"}}',
                                "value": value} for ns, value in (("broken", 1), ("healthy", 0))]}
              for record in ("slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate1h", "slo:sli_error:ratio_rate30d")]
    series = [{"series": f'nginx_ingress_controller_requests{{namespace="{ns}",status="{code}"}}', "values": "0+10x120"}
              for ns, code in (("broken", "503"), ("healthy", "200"))]
    f = out / "prometheus/tests/raw.test.yaml"
    f.write_text(dump_yaml({"rule_files": ["../rule-files/slo-ingress-success-by-namespace.rules.yaml"],
                            "evaluation_interval": "1m",
                            "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}]}))
    r = subprocess.run(["promtool", "test", "rules", str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_slo_alert_monitor_windows_are_recorded(tmp_path, fake_transpiler):
    require_binary("promtool")
    mon = dict(F.BURN_MONITOR, id=5009, name="Slow burn",
               query=f'burn_rate("{F.METRIC_SLO["id"]}").over("7d").long_window("12h") > 2',
               options={"thresholds": {"critical": 2}})
    _, out = convert(tmp_path, [F.METRIC_SLO], [mon])
    rules = (out / "prometheus/rule-files/slo-checkout-availability.rules.yaml").read_text()
    assert "record: slo:sli_error:ratio_rate12h" in rules and "ratio_rate1h{" in rules
    assert "(2 * 0.001)" in rules   # the 7d target of the SLO (99.9%)
    _promtool_all(out, "slo-*")


def test_template_text_in_names_prints_verbatim(tmp_path, fake_transpiler):
    require_binary("promtool")
    slo = dict(F.METRIC_SLO, name="Checkout {{ $labels.x }} {{", tags=["team:{{pay}}"])
    ctx, out = convert(tmp_path, [slo], [])
    assert ctx.ledger.get("slo", slo["id"]).status is Status.APPROXIMATE
    _promtool_all(out, "slo-*")   # the expected annotations are the raw text


def test_slo_alert_monitor_routes_follow_recovery_and_renotify_rules(tmp_path, fake_transpiler):
    """As for other monitors: a handle named only in {{#is_alert}} hears of no
    recovery, and a warning does not repeat unless renotify_statuses says so."""
    from dd2prom.convert.pipeline import run_convert

    monitor = dict(F.BURN_MONITOR, message="Burning. {{#is_alert}}@pagerduty-payments{{/is_alert}} @slack-payments",
                   options={"thresholds": {"critical": 10, "warning": 5}, "renotify_interval": 30})
    snap = F.write_snapshot(tmp_path / "snap", [F.METRIC_SLO], [monitor])
    run_convert(snap, tmp_path / "out", only={"monitors", "slos"})
    am = load_yaml_all((tmp_path / "out/alertmanager/alertmanager.yaml").read_text())[0]
    receivers = {r["name"]: r for r in am["receivers"]}
    firing_only = [n for n in receivers if n.startswith("pagerduty-payments") and n.endswith("firing-only")]
    assert firing_only, sorted(receivers)
    configs = [c for k, v in receivers[firing_only[0]].items() if k.endswith("_configs") for c in v]
    assert configs and all(c.get("send_resolved") is False for c in configs)
    text = (tmp_path / "out/alertmanager/alertmanager.yaml").read_text()
    assert "8760h" in text   # warnings are not re-notified (renotify_statuses default: alert, no data)


@pytest.mark.parametrize("expr", ["slo:sli_error:ratio_rate1h > 0.01", "a " * 6000])   # the second folds
def test_prometheus_rule_text_is_the_object_dumped(expr):
    from types import SimpleNamespace

    from dd2prom.emit import k8s
    from dd2prom.emit.yamlio import dump_yaml
    spec, opts = SimpleNamespace(id="abc", name="API availability"), ConvertOptions()
    groups = [{"name": "slo-x", "rules": [{"record": "r", "expr": expr, "labels": {"k": "v"}}]}]
    want = dump_yaml(k8s.monitoring("PrometheusRule", "slo-x", {"groups": groups}, namespace=opts.namespace,
                                    labels={"release": opts.release_label, "dd2prom.io/slo-id": "abc"},
                                    annotations={"dd2prom.io/slo-name": spec.name}))
    assert slos._prometheus_rule("slo-x", spec, opts, groups, dump_yaml({"groups": groups})) == want
