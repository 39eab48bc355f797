"""Readers: conf.d, Kubernetes annotations, Helm values, Terraform, datadog-sync-cli."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dd2prom.convert.checks import common
from dd2prom.export.sources import import_sources, read_checks_tree
from dd2prom.export.sources.records import record_id
from tests.checks.helpers import FIXTURES


def by_id(records):
    return {record_id(r): r for r in records}


def test_confd_folder():
    recs = by_id(read_checks_tree(FIXTURES / "conf.d"))
    assert "http_check.d/conf.yaml#http_check#1" in recs
    assert recs["kubelet.d/conf.yaml.default#kubelet#0"]["check"] == "kubelet"
    assert "not valid YAML" in recs["broken.d/conf.yaml"]["error"]
    assert recs["redisdb.d/conf.yaml#redisdb#0"]["instance"]["port"] == 6380


def test_example_files_are_read_only_when_alone(tmp_path):
    (tmp_path / "nginx.d").mkdir()
    (tmp_path / "nginx.d" / "conf.yaml").write_text("instances:\n  - nginx_status_url: http://a/status\n")
    (tmp_path / "nginx.d" / "conf.yaml.example").write_text("instances:\n  - nginx_status_url: http://b/status\n")
    (tmp_path / "redisdb.d").mkdir()
    (tmp_path / "redisdb.d" / "conf.yaml.example").write_text("instances:\n  - host: localhost\n")
    recs = by_id(read_checks_tree(tmp_path))
    assert sorted(recs) == ["nginx.d/conf.yaml#nginx#0", "redisdb.d/conf.yaml.example#redisdb#0"]
    assert recs["redisdb.d/conf.yaml.example#redisdb#0"]["example"] is True


def test_kubernetes_annotations_v1_v2_and_services():
    recs = by_id(read_checks_tree(FIXTURES / "kubernetes"))
    om = recs["orders.yaml#openmetrics#0"]
    assert om["container"] == "orders" and om["k8s"]["namespace"] == "shop"
    assert [s["name"] for s in om["k8s"]["services"]] == ["orders"]
    assert recs["orders.yaml#http_check#0"]["instance"]["name"] == "orders-health"
    redis = recs["redis.yaml#redisdb#0"]                       # v2 `.checks` annotation
    assert redis["k8s"]["kind"] == "StatefulSet" and redis["k8s"]["services"][0]["name"] == "redis"
    assert "not valid JSON" in recs["worker-pod.yaml"]["error"]  # the broken sidecar annotation
    assert recs["worker-pod.yaml#prometheus#0"]["k8s"]["kind"] == "Pod"


def test_check_names_without_instances_disable_a_template(tmp_path):
    (tmp_path / "d.yaml").write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: mq}
spec:
  template:
    metadata:
      labels: {app: mq}
      annotations:
        ad.datadoghq.com/mq.check_names: '["rabbitmq"]'
    spec:
      containers: [{name: mq, image: rabbitmq}]
""")
    (rec,) = read_checks_tree(tmp_path)
    assert rec["disabled"] is True and rec["check"] == "rabbitmq"


def test_helm_values():
    recs = by_id(read_checks_tree(FIXTURES / "helm"))
    assert set(recs) == {"datadog-values.yaml#http_check#0", "datadog-values.yaml#postgres#0",
                         "datadog-values.yaml#kubernetes_state_core#0"}
    ksm = recs["datadog-values.yaml#kubernetes_state_core#0"]
    assert ksm["cluster_check"] is True and ksm["helm_key"] == "clusterAgent.confd.kubernetes_state_core.yaml"


@pytest.mark.parametrize("value, expected", [
    ("http://%%host%%:%%port%%/metrics", "http://%%host%%:9102/metrics"),        # highest declared port
    ("http://%%host%%:%%port_http%%/", "http://%%host%%:8080/"),
    ("%%env_STATUS_PATH%%", "/status"),
    ("%%host_bridge%%:80", "%%host%%:80"),
    ("ns:%%kube_namespace%%", "ns:shop"),
])
def test_template_variables(value, expected):
    rec = {"k8s": {"ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9102}],
                   "env": {"STATUS_PATH": "/status"}, "namespace": "shop"}}
    assert common.substitute(value, rec) == expected


def test_template_variables_without_static_value():
    with pytest.raises(common.NeedsManual, match="env_SECRET"):
        common.substitute("%%env_SECRET%%", {"k8s": {"env": {}}})


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    snap = tmp_path_factory.mktemp("snap")
    errors = import_sources([FIXTURES / n for n in ("conf.d", "kubernetes", "helm", "terraform", "sync")], snap)
    return snap, errors


def test_import_reports_each_problem_once(imported):
    _, errors = imported
    joined = "\n".join(errors)
    assert "datadog_monitor.checkout_errors: not imported: var.pagerduty_service has no default" in joined
    assert "datadog_monitor.per_region: not imported: count / for_each" in joined
    assert "conf.d/broken.d/conf.yaml: not valid YAML" in joined
    assert "worker-pod.yaml: Pod/worker: ad.datadoghq.com/sidecar: not valid JSON" in joined
    assert len(errors) == 4


def test_import_writes_normalised_records_and_raw_copies(imported):
    snap, _ = imported
    inst = snap / "checks" / "instances"
    rec = json.loads((inst / "kubernetes_orders.yaml__openmetrics__0.json").read_text())
    assert rec["source_file"] == "kubernetes/orders.yaml" and rec["check"] == "openmetrics"
    assert (snap / "checks" / "raw" / "helm" / "datadog-values.yaml").is_file()
    before = sorted(p.name for p in inst.iterdir())
    import_sources([FIXTURES / "conf.d"], snap)                      # re-import replaces, never duplicates
    assert sorted(p.name for p in inst.iterdir()) == before


def test_terraform_monitor_with_variables_locals_and_interpolation(imported):
    snap, _ = imported
    mon = json.loads((snap / "monitors" / "tf_terraform_checkout_cpu.json").read_text())
    assert mon["name"] == "[PROD] High CPU on checkout"
    assert mon["query"] == "avg(last_5m):avg:system.cpu.user{env:prod,service:checkout} by {host} > 95"  # tfvars wins
    assert mon["options"]["thresholds"] == {"critical": 95, "warning": 80}
    assert mon["tags"] == ["team:payments", "env:prod", "managed-by:terraform"]
    assert mon["message"].startswith("CPU above 95% on {{host.name}}.\nNotify")
    assert mon["options"]["notify_no_data"] is True and mon["priority"] == 2


def test_terraform_other_resources(imported):
    snap, _ = imported
    slo = json.loads((snap / "slos" / "tf_terraform_checkout_availability.json").read_text())
    assert slo["thresholds"] == [{"timeframe": "30d", "target": 99.9, "warning": 99.95}]
    assert slo["query"]["denominator"] == "sum:trace.http.request.hits{service:checkout}.as_count()"
    syn = json.loads((snap / "synthetics" / "tf_terraform_checkout_health.json").read_text())
    assert syn["config"]["request"] == {"method": "GET", "url": "https://checkout.prod.example.com/healthz",
                                        "timeout": 10, "headers": {"Accept": "application/json"}}
    assert syn["config"]["assertions"][1] == {"type": "responseTime", "operator": "lessThan", "target": 800}
    assert syn["options"]["retry"] == {"count": 2, "interval": 300} and syn["options"]["tick_every"] == 60
    dt = json.loads((snap / "downtimes" / "tf_terraform_weekly_maintenance.json").read_text())
    assert dt["monitor_id"] == "tf_terraform_checkout_cpu" and dt["start"] == 1767492000
    assert dt["recurrence"] == {"type": "weeks", "period": 1, "week_days": ["Sun"]}
    dash = json.loads((snap / "dashboards" / "tf_terraform_checkout.json").read_text())
    assert dash["title"] == "Checkout" and dash["widgets"][0]["id"] == 1


def test_datadog_sync_cli_folder(imported):
    snap, _ = imported
    assert json.loads((snap / "monitors" / "4821937.json").read_text())["id"] == 4821937
    assert json.loads((snap / "synthetics" / "abc-def-ghi.json").read_text())["name"] == "Homepage"
    assert not (snap / "users").exists()


def test_missing_path_is_reported(tmp_path):
    assert import_sources([tmp_path / "nope"], tmp_path / "snap") == [f"{tmp_path / 'nope'}: no such file or folder"]


def test_terraform_expressions(tmp_path):
    (tmp_path / "m.tf").write_text('''
variable "names" { default = ["a", "b"] }
variable "cfg" { default = { team = "sre" } }
locals { joined = join(",", var.names) }
resource "datadog_monitor" "m" {
  name    = format("%s-%s", var.cfg.team, local.joined)
  type    = "metric alert"
  query   = "avg(last_5m):avg:x{team:${var.cfg["team"]}} > ${1}"
  message = "literal $${not_interpolated} ${lower("ABC")}"
}
''')
    assert import_sources([tmp_path], tmp_path / "snap") == []
    mon = json.loads(next((tmp_path / "snap" / "monitors").glob("*.json")).read_text())
    assert mon["name"] == "sre-a,b"
    assert mon["query"] == "avg(last_5m):avg:x{team:sre} > 1"
    assert mon["message"] == "literal ${not_interpolated} abc"


def test_two_folders_with_the_same_name_stay_apart(tmp_path):
    for team in ("a", "b"):
        d = tmp_path / team / "conf.d" / "redisdb.d"
        d.mkdir(parents=True)
        (d / "conf.yaml").write_text(f"instances:\n  - host: redis-{team}.svc\n    port: 6379\n")
    snap = tmp_path / "snap"
    assert import_sources([tmp_path / "a" / "conf.d", tmp_path / "b" / "conf.d"], snap) == []
    names = sorted(p.name for p in (snap / "checks" / "instances").iterdir())
    assert names == ["conf.d-2_redisdb.d_conf.yaml__redisdb__0.json", "conf.d_redisdb.d_conf.yaml__redisdb__0.json"]


def test_parse_errors_do_not_quote_the_file(tmp_path):
    d = tmp_path / "conf.d" / "mysql.d"
    d.mkdir(parents=True)
    (d / "conf.yaml").write_text('instances:\n  - host: db\n    pass: "hunter2-unterminated\n')
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text('resource "datadog_monitor" "x" {\n  name = "super-secret-value\n}\n')
    errors = import_sources([tmp_path / "conf.d", tmp_path / "tf"], tmp_path / "snap")
    assert len(errors) == 2 and "line" in errors[0] + errors[1]
    assert not any("hunter2" in e or "super-secret" in e for e in errors)
    assert "hunter2" not in "".join(p.read_text() for p in (tmp_path / "snap" / "checks" / "instances").iterdir())


def test_terraform_jsonencode_dashboard_and_unknown_functions(tmp_path):
    (tmp_path / "d.tf").write_text('''
variable "env" { default = "staging" }
resource "datadog_dashboard_json" "svc" {
  dashboard = jsonencode({
    title       = "Service (${var.env})"
    layout_type = "ordered"
    widgets     = [{ definition = { type = "note", content = "hello" } }]
  })
}
resource "datadog_monitor" "tpl" {
  name    = "x"
  type    = "metric alert"
  query   = "avg(last_5m):avg:x{*} > 1"
  message = templatefile("${path.module}/msg.tpl", { env = var.env })
}
''')
    errors = import_sources([tmp_path], tmp_path / "snap")
    assert len(errors) == 1 and "datadog_monitor.tpl: not imported: cannot evaluate `templatefile(" in errors[0]
    dash = json.loads(next((tmp_path / "snap" / "dashboards").glob("*.json")).read_text())
    assert dash["title"] == "Service (staging)" and dash["widgets"][0]["definition"]["type"] == "note"


def test_unrelated_yaml_is_ignored(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "deployment.yaml").write_text("metadata:\n  name: {{ .Release.Name }}\n  {{- if x }}\n")
    (tmp_path / "docker-compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    (tmp_path / "broken-ad.yaml").write_text("metadata:\n  annotations:\n    ad.datadoghq.com/x.checks: {\n")
    recs = read_checks_tree(tmp_path)
    assert [(record_id(r), "error" in r) for r in recs] == [("broken-ad.yaml", True)]


@pytest.mark.parametrize("text", [
    "kind: Deployment\nspec: just-a-string\n",
    "kind: Pod\nmetadata:\n  annotations:\n    ad.datadoghq.com/a.checks: '{\"redisdb\": [1]}'\n",
    "kind: Deployment\nspec:\n  template:\n    metadata:\n      annotations: [1, 2]\n",
    "datadog:\n  confd: [not, a, mapping]\n",
])
def test_odd_structures_become_error_records(tmp_path, text):
    (tmp_path / "x.yaml").write_text(text)
    recs = read_checks_tree(tmp_path)
    assert all("error" in r for r in recs)
