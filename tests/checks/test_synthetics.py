"""Synthetics stage: API tests → blackbox modules, Probes, rules and ctx.shared["probes"]."""

from __future__ import annotations

import shutil

import pytest

from dd2prom.convert import ConvertOptions, run_convert
from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.validate.crd import validate_objects
from dd2prom.validate.verify import check_blackbox, check_rule_tests, check_rules
from tests.checks.helpers import FIXTURES, load, objects
from tests.support import crd_dir, require_binary


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("syn")
    shutil.copytree(FIXTURES / "synthetics", tmp / "snap" / "synthetics")
    out = tmp / "out"
    ctx = run_convert(tmp / "snap", out, ConvertOptions(), only={"synthetics"})
    items = {i.id: i for i in ctx.ledger}
    modules = load_yaml_all((out / "blackbox/blackbox.yml").read_text())[0]["modules"]
    return out, ctx, items, modules


@pytest.mark.parametrize("pid, status, prober", [
    ("htt-p01-api", "approximate", "http"),   # a JSONPath assertion is not checked; 2-of-3 locations
    ("ssl-c01-crt", "exact", "tcp"),
    ("tcp-d01-bbb", "exact", "tcp"),
    ("dns-s01-hop", "exact", "dns"),
    ("icm-p01-gwy", "approximate", "icmp"),   # packets / packet loss
    ("grp-c01-hlt", "exact", "grpc"),
    ("brw-s01-chk", "unsupported", None),
    ("mul-t01-lgn", "unsupported", None),
    ("broken", "error", None),
])
def test_status_per_test(result, pid, status, prober):
    _, ctx, items, modules = result
    item = items[pid]
    assert item.status.value == status, item.notes
    if prober:
        probe = ctx.shared["probes"][pid]
        assert modules[probe["module"]]["prober"] == prober
        assert probe["job"] == f"synthetics-{pid}" and probe["labels"]["synthetics_test_id"] == pid
    else:
        assert pid not in ctx.shared.get("probes", {})


def test_http_module_carries_every_assertion(result):
    _, ctx, _, modules = result
    http = modules[ctx.shared["probes"]["htt-p01-api"]["module"]]["http"]
    assert http["method"] == "POST" and http["body"] == '{"ping":1}'
    assert http["headers"] == {"Content-Type": "application/json"}
    assert 500 not in http["valid_status_codes"] and 200 in http["valid_status_codes"]
    assert max(http["valid_status_codes"]) < 300
    assert http["fail_if_body_not_matches_regexp"] == ["pong"]
    assert http["fail_if_body_matches_regexp"] == ["error"]
    assert http["fail_if_header_not_matches"] == [{"header": "content-type", "regexp": "application/json"}]
    assert http["follow_redirects"] is False and http["tls_config"] == {"insecure_skip_verify": True}
    assert http["valid_http_versions"] == ["HTTP/2.0"]
    assert modules[ctx.shared["probes"]["htt-p01-api"]["module"]]["timeout"] == "20s"


def test_probe_interval_labels_and_rules(result):
    out, ctx, items, _ = result
    probe = load(out, "scrape/probes/synthetics-orders-api.yaml")["spec"]
    assert probe["interval"] == "60s" and probe["jobName"] == "synthetics-htt-p01-api"
    assert probe["targets"]["staticConfig"] == {"static": ["https://api.example.com/orders/ping"], "labels": {
        "synthetics_test_id": "htt-p01-api", "team": "orders", "env": "prod"}}
    rule = load(out, "prometheus/rules/synthetics-orders-api.yaml")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (r,) = rule["spec"]["groups"][0]["rules"]
    assert r["expr"] == ('probe_duration_seconds{job="synthetics-htt-p01-api", '
                         'instance="https://api.example.com/orders/ping"} >= 0.5')
    assert r["for"] == "120s"
    cert = load(out, "prometheus/rules/synthetics-shop-certificate.yaml")["spec"]["groups"][0]["rules"][0]
    assert cert["expr"].endswith("- time() < 20 * 86400")


def test_ssl_and_dns_modules(result):
    _, ctx, _, modules = result
    tls = modules[ctx.shared["probes"]["ssl-c01-crt"]["module"]]["tcp"]
    assert tls == {"tls": True, "tls_config": {"insecure_skip_verify": False, "min_version": "TLS12"},
                   "preferred_ip_protocol": "ip4"}
    assert ctx.shared["probes"]["ssl-c01-crt"]["instance"] == "shop.example.com:443"
    dns = modules[ctx.shared["probes"]["dns-s01-hop"]["module"]]["dns"]
    assert dns["validate_answer_rrs"] == {"fail_if_none_matches_regexp": ["\\A203\\.0\\.113\\.10\\z"]}
    assert ctx.shared["probes"]["dns-s01-hop"]["instance"] == "1.1.1.1:53"


def test_output_is_valid(result):
    require_binary("promtool")
    require_binary("prometheus-blackbox-exporter")
    out, *_ = result
    assert validate_objects(objects(out), crd_dir()) == []
    assert check_blackbox(out).ok and check_rules(out).ok
    tests = check_rule_tests(out)                    # promtool unit tests of the assertion alerts
    assert tests.ok and tests.checked == 4, tests.details


def test_tests_with_the_same_name_keep_their_own_rules(tmp_path):
    import json
    for pid in ("aaa-aaa-aaa", "bbb-bbb-bbb"):
        (tmp_path / "snap" / "synthetics").mkdir(parents=True, exist_ok=True)
        (tmp_path / "snap" / "synthetics" / f"{pid}.json").write_text(json.dumps({
            "public_id": pid, "name": "Same name", "type": "api", "subtype": "http",
            "config": {"request": {"url": f"https://{pid}.example.com"},
                       "assertions": [{"type": "responseTime", "operator": "lessThan", "target": 300}]}}))
    ctx = run_convert(tmp_path / "snap", tmp_path / "out", ConvertOptions(), only={"synthetics"})
    outputs = [o for i in ctx.ledger for o in i.outputs if o.startswith("prometheus/rules/")]
    assert len(set(outputs)) == 2
