"""Checks stage: each family, the CRDs, the real blackbox exporter and promtool."""

from __future__ import annotations

import pytest

from dd2prom.validate.crd import validate_objects
from dd2prom.validate.verify import check_blackbox, check_rule_tests, check_rules
from tests.checks.helpers import FIXTURES, convert, copy_fixtures, load, objects, probe_errors, snapshot_with
from tests.support import crd_dir, require_binary


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("checks")
    snap = copy_fixtures(tmp, "conf.d", "kubernetes", "helm")
    out = tmp / "out"
    return out, convert(snap, out)


# id → (status, scrape object, exporter substring)
EXPECTED = {
    "conf.d/http_check.d/conf.yaml#http_check#0": ("exact", "Probe", "blackbox"),
    "conf.d/http_check.d/conf.yaml#http_check#1": ("exact", "Probe", "blackbox"),
    "conf.d/tcp_check.d/conf.yaml#tcp_check#0": ("exact", "Probe", "blackbox"),
    "conf.d/dns_check.d/conf.yaml#dns_check#0": ("exact", "Probe", "blackbox"),
    "conf.d/tls.d/conf.yaml#tls#0": ("exact", "Probe", "blackbox"),
    "conf.d/kubelet.d/conf.yaml.default#kubelet#0": ("exact", "none (kube-prometheus-stack)", "kube-prometheus-stack"),
    "conf.d/mystery.d/conf.yaml#mystery#0": ("unsupported", "none", ""),
    "conf.d/broken.d/conf.yaml": ("error", "none", ""),
    "conf.d/openmetrics.d/conf.yaml#openmetrics#0": ("manual", "ScrapeConfig", "none"),
    "conf.d/redisdb.d/conf.yaml#redisdb#0": ("manual", "ServiceMonitor", "redis_exporter"),
    "kubernetes/orders.yaml#openmetrics#0": ("exact", "ServiceMonitor", "none"),
    "kubernetes/orders.yaml#http_check#0": ("exact", "Probe", "blackbox"),
    "kubernetes/redis.yaml#redisdb#0": ("manual", "ServiceMonitor", "redis_exporter"),
    "kubernetes/worker-pod.yaml#prometheus#0": ("exact", "PodMonitor", "none"),
    "kubernetes/worker-pod.yaml": ("error", "none", ""),
    "helm/datadog-values.yaml#http_check#0": ("exact", "Probe", "blackbox"),
    "helm/datadog-values.yaml#postgres#0": ("manual", "ServiceMonitor", "postgres_exporter"),
    "helm/datadog-values.yaml#kubernetes_state_core#0": ("exact", "none (kube-prometheus-stack)", "kube-prometheus-stack"),
}


def test_every_instance_once_with_status(converted):
    _, items = converted
    checks = {i: v for i, v in items.items() if v["kind"] == "check"}
    assert set(checks) == set(EXPECTED)
    for cid, (status, scrape, exporter) in EXPECTED.items():
        item = checks[cid]
        assert (item["status"], item["scrape_object"]) == (status, scrape), (cid, item["notes"])
        assert exporter in item["exporter"], cid


def test_objects_validate_strictly_against_the_crds(converted):
    out, _ = converted
    objs = objects(out)
    assert {o["kind"] for o in objs} >= {"ServiceMonitor", "PodMonitor", "Probe", "ScrapeConfig", "PrometheusRule",
                                         "Deployment", "Service", "ConfigMap"}
    assert validate_objects(objs, crd_dir()) == []


def test_real_tools_accept_the_output(converted):
    require_binary("promtool")
    require_binary("prometheus-blackbox-exporter")
    out, _ = converted
    bb, rules, tests = check_blackbox(out), check_rules(out), check_rule_tests(out)
    assert bb.ok and not bb.skipped, bb.details
    assert rules.ok and rules.checked >= 2, rules.details
    assert tests.ok and tests.checked >= 2, tests.details


def test_no_secret_value_is_written(converted):
    out, _ = converted
    text = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    for secret in ("s3cr3t-redis-pass", "hunter2-billing", "ENC[postgres_password]"):
        assert secret not in text


def test_servicemonitor_when_a_service_selects_the_pods(converted):
    out, _ = converted
    sm = load(out, "scrape/servicemonitors/orders-openmetrics.yaml")
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert sm["spec"]["selector"] == {"matchLabels": {"app": "orders"}}
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["shop"]}
    assert sm["spec"]["endpoints"] == [{"path": "/metrics", "scheme": "http", "interval": "30s", "port": "metrics"}]


def test_podmonitor_with_allow_list_renames_and_params(converted):
    out, _ = converted
    ep = load(out, "scrape/podmonitors/worker-prometheus.yaml")["spec"]["podMetricsEndpoints"][0]
    assert ep["portNumber"] == 9000 and ep["path"] == "/stats" and ep["params"] == {"format": ["prometheus"]}
    assert ep["metricRelabelings"] == [
        {"sourceLabels": ["__name__"], "regex": "jobs_.*|queue_depth", "action": "keep"},
        {"sourceLabels": ["__name__"], "regex": "queue_depth", "targetLabel": "__name__", "replacement": "backlog",
         "action": "replace"}]


def test_openmetrics_v2_tls_auth_and_label_rules(converted):
    out, _ = converted
    spec = load(out, "scrape/scrapeconfigs/openmetrics.yaml")["spec"]
    assert spec["staticConfigs"] == [{"targets": ["billing.internal.example.com:8443"]}]
    assert spec["scheme"] == "HTTPS" and spec["tlsConfig"] == {"insecureSkipVerify": True}
    assert spec["basicAuth"]["password"] == {"name": "openmetrics-scrape-auth", "key": "password"}
    actions = [(r["action"], r.get("regex")) for r in spec["metricRelabelings"]]
    assert actions == [("keep", "billing_invoices_.*|go_goroutines|process_cpu_seconds"),
                       ("drop", "billing_invoices_debug_.*"), ("replace", "process_cpu_seconds"),
                       ("replace", "(.+)"), ("labeldrop", "svc"), ("labeldrop", "pod_uid")]


def test_exporter_deployment_points_at_the_service(converted):
    out, _ = converted
    deploy, service = objects_in(out, "exporters/redis-redisdb-exporter.yaml")
    c = deploy["spec"]["template"]["spec"]["containers"][0]
    assert c["image"].startswith("oliver006/redis_exporter:")
    assert {"name": "REDIS_ADDR", "value": "redis://redis.cache.svc:6379"} in c["env"]
    assert {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "redis-redisdb-exporter-credentials", "key": "redis_password"}}} in c["env"]
    assert service["spec"]["ports"][0]["port"] == 9121
    sm = load(out, "scrape/servicemonitors/redis-redisdb-exporter.yaml")
    assert sm["spec"]["endpoints"][0]["relabelings"][0] == {"targetLabel": "instance",
                                                            "replacement": "redis.cache.svc:6379", "action": "replace"}


def test_exporters_have_readiness_and_liveness_probes(converted):
    """Every exporter Deployment is probed on its metrics port and the API
    server's probe rules hold. postgres_exporter has no health endpoint: /metrics,
    which queries the database, rarely and with a scrape's timeout; redis_exporter
    answers /health without asking Redis: there, more often and briefly."""
    out, _ = converted
    deployments = {o["metadata"]["name"]: o for o in objects(out) if o["kind"] == "Deployment"}
    assert len(deployments) == 3                        # two redis, one postgres
    for name, d in deployments.items():
        c = d["spec"]["template"]["spec"]["containers"][0]
        assert probe_errors(c) == [], name
        if "redisdb" in name:
            assert c["readinessProbe"] == {"httpGet": {"path": "/health", "port": "metrics"},
                                           "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3}
            assert c["livenessProbe"] == {"httpGet": {"path": "/health", "port": "metrics"},
                                          "periodSeconds": 20, "timeoutSeconds": 5, "failureThreshold": 3}
        else:
            assert c["readinessProbe"] == {"httpGet": {"path": "/metrics", "port": "metrics"},
                                           "periodSeconds": 30, "timeoutSeconds": 10, "failureThreshold": 3}
            assert c["livenessProbe"] == {"httpGet": {"path": "/metrics", "port": "metrics"},
                                          "periodSeconds": 60, "timeoutSeconds": 10, "failureThreshold": 5}


HEALTH_PATHS = {"redisdb": "/health", "elastic": "/healthz", "kafka_consumer": "/healthz"}


def test_every_exporter_gets_valid_probes():
    """Table-driven over mappings/exporters.yaml: the probes of each exporter
    that convert deploys; three serve a health path that does not ask the target."""
    from dd2prom.convert.checks.exporters import load_table, probes

    for check, spec in load_table().items():
        if spec.get("manual"):
            continue
        container = {"ports": [{"name": "metrics", "containerPort": int(spec["port"])}], **probes(spec)}
        assert probe_errors(container) == [], check
        paths = {p["httpGet"]["path"] for p in probes(spec).values()}
        assert paths == {HEALTH_PATHS.get(check, "/metrics")}, check
        for p in probes(spec).values():
            assert p["timeoutSeconds"] < p["periodSeconds"], check
    health = probes(load_table()["elastic"])["livenessProbe"]
    assert (health["periodSeconds"], health["timeoutSeconds"]) == (20, 5)      # cheap: asked more often


@pytest.mark.parametrize("extra, status, path", [
    ("    health: /ready\n", "manual", "/ready"),          # manual: the fixture's short host name
    ("    path: /stats/prometheus\n", "manual", "/stats/prometheus"),
    ("    health: ready\n", "error", None),            # not an absolute path: this item fails, nothing written
    ("    path: [/metrics]\n", "error", None),
])
def test_user_exporter_health_and_metrics_paths(tmp_path, extra, status, path):
    mapping = tmp_path / "mine.yaml"
    mapping.write_text("exporters:\n  mystery:\n    exporter: mystery_exporter\n    image: example/mystery:1.0\n"
                       "    port: 9999\n    connect: {url: endpoint}\n" + extra)
    items = convert(copy_fixtures(tmp_path, "conf.d"), tmp_path / "out", mappings_file=mapping)
    item = items["conf.d/mystery.d/conf.yaml#mystery#0"]
    assert item["status"] == status, item["notes"]
    if path is None:
        assert not (tmp_path / "out" / "exporters" / "mystery-exporter.yaml").exists()
        assert any("not an absolute URL path" in n for n in item["notes"]), item["notes"]
        return
    deploy, _ = objects_in(tmp_path / "out", "exporters/mystery-exporter.yaml")
    c = deploy["spec"]["template"]["spec"]["containers"][0]
    assert c["livenessProbe"]["httpGet"]["path"] == c["readinessProbe"]["httpGet"]["path"] == path
    assert probe_errors(c) == []


def objects_in(out, rel):
    from dd2prom.emit.yamlio import load_yaml_all
    return load_yaml_all((out / rel).read_text())


def test_http_check_module_and_cert_rules(converted):
    out, _ = converted
    from dd2prom.emit.yamlio import load_yaml_all
    probe = load(out, "scrape/probes/checkout-api-http.yaml")["spec"]
    assert probe["targets"]["staticConfig"]["static"] == ["https://checkout.shop.example.com/healthz"]
    assert probe["targets"]["staticConfig"]["labels"] == {"check_name": "checkout-api", "team": "payments",
                                                          "env": "prod"}
    assert probe["interval"] == "30s" and probe["scrapeTimeout"] == "6s"
    modules = load_yaml_all((out / "blackbox/blackbox.yml").read_text())[0]["modules"]
    http = modules[probe["module"]]["http"]
    assert http["valid_status_codes"] == [200, 204] and http["method"] == "POST"
    assert http["fail_if_body_not_matches_regexp"] == ['"status":\\s*"ok"']
    assert http["tls_config"] == {"insecure_skip_verify": False}
    rules = load(out, "prometheus/rules/checks-checkout-api-http.yaml")["spec"]["groups"][0]["rules"]
    assert [r["expr"].split(" - ")[1] for r in rules] == ["time() < 21 * 86400", "time() < 5 * 86400"]


def test_pod_without_service_gets_a_manual_probe(tmp_path):
    snap = snapshot_with(tmp_path, checks={"kubernetes/app.yaml": """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: front}
spec:
  template:
    metadata:
      labels: {app: web}
      annotations:
        ad.datadoghq.com/web.check_names: '["http_check"]'
        ad.datadoghq.com/web.init_configs: '[{}]'
        ad.datadoghq.com/web.instances: '[{"name": "web", "url": "http://%%host%%:%%port%%/"}]'
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 8080}]}]
"""})
    items = convert(snap, tmp_path / "out")
    item = items["kubernetes/app.yaml#http_check#0"]
    assert item["status"] == "manual"
    assert any("create Service web in front" in n for n in item["notes"])
    probe = load(tmp_path / "out", item["outputs"][0])
    assert probe["spec"]["targets"]["staticConfig"]["static"] == ["http://web.front.svc:8080/"]


def test_blackbox_servicemonitor_option(tmp_path):
    snap = copy_fixtures(tmp_path, "kubernetes")
    items = convert(snap, tmp_path / "out", blackbox_service_monitors=True)
    item = items["kubernetes/orders.yaml#http_check#0"]
    assert item["scrape_object"] == "ServiceMonitor"
    sm = load(tmp_path / "out", item["outputs"][0])
    ep = sm["spec"]["endpoints"][0]
    assert ep["params"] == {"module": [ep["params"]["module"][0]], "target": ["http://orders.shop.svc:80/healthz"]}
    assert {"targetLabel": "namespace", "replacement": "shop", "action": "replace"} in ep["relabelings"]
    assert {"targetLabel": "service", "replacement": "orders", "action": "replace"} in ep["relabelings"]
    assert {"sourceLabels": ["__param_target"], "targetLabel": "instance", "action": "replace"} in ep["relabelings"]
    assert validate_objects(objects(tmp_path / "out"), crd_dir()) == []


def test_user_mapping_adds_an_exporter(tmp_path):
    mapping = tmp_path / "mine.yaml"
    mapping.write_text("""
exporters:
  mystery:
    exporter: mystery_exporter
    image: example/mystery-exporter:1.0
    port: 9999
    connect: {url: endpoint}
    args: ["--target={address}"]
""")
    snap = copy_fixtures(tmp_path, "conf.d")
    items = convert(snap, tmp_path / "out", mappings_file=mapping)
    item = items["conf.d/mystery.d/conf.yaml#mystery#0"]
    assert item["scrape_object"] == "ServiceMonitor" and "mystery_exporter" in item["exporter"]
    deploy, _ = objects_in(tmp_path / "out", "exporters/mystery-exporter.yaml")
    assert deploy["spec"]["template"]["spec"]["containers"][0]["args"] == ["--target=mystery:1234"]


def test_raw_and_normalised_snapshots_convert_alike(tmp_path):
    from dd2prom.export.sources import import_sources

    imported = tmp_path / "imported"
    import_sources([FIXTURES / "conf.d", FIXTURES / "kubernetes", FIXTURES / "helm"], imported)
    a = convert(imported, tmp_path / "a")
    b = convert(copy_fixtures(tmp_path, "conf.d", "kubernetes", "helm"), tmp_path / "b")
    assert {k: (v["status"], v["scrape_object"]) for k, v in a.items()} == \
           {k: (v["status"], v["scrape_object"]) for k, v in b.items()}


def test_certificate_rules_only_for_explicit_thresholds(converted):
    _, items = converted
    helm = items["helm/datadog-values.yaml#http_check#0"]
    assert not any(o.startswith("prometheus/rules/") for o in helm["outputs"])
    assert any("no rule is written" in n for n in helm["notes"])
    assert "prometheus/rules/checks-shop-example-com-tls.yaml" in items["conf.d/tls.d/conf.yaml#tls#0"]["outputs"]


def test_probe_labels_are_recorded_for_service_check_monitors(converted):
    _, items = converted
    probe = items["kubernetes/orders.yaml#http_check#0"]["probe"]
    assert probe == {"job": "http_check-orders-health", "instance": "http://orders.shop.svc:80/healthz",
                     "module": probe["module"],
                     "labels": {"check_name": "orders-health", "namespace": "shop", "service": "orders"}}


def test_service_checks_for_the_monitors_stage(tmp_path):
    from dd2prom.convert import ConvertOptions, run_convert

    ctx = run_convert(copy_fixtures(tmp_path, "conf.d", "kubernetes"), tmp_path / "out", ConvertOptions(),
                      only={"checks"})
    sc = ctx.shared["service_checks"]
    assert sc["redis.can_connect"] == {
        "expr": 'min by (instance) (redis_up{job=~"redisdb-exporter|redis-redisdb-exporter"})',
        "group": ["instance"]}
    assert sc["tcp.can_connect"]["expr"] == 'min by (instance) (probe_success{job="tcp_check-postgres-primary"})'
    assert sc["orders.openmetrics.health"]["expr"] == 'min by (instance) (up{job="orders"})'
    assert sc["worker.prometheus.health"]["expr"] == 'min by (instance) (up{job="monitoring/worker-prometheus"})'
    assert sc["kubernetes_state.node.ready"]["group"] == ["node"]      # kube-prometheus-stack's, always there
    from dd2prom.validate.promql import promql_error
    assert all(promql_error(v["expr"]) is None for v in sc.values())


def test_service_and_endpoints_annotations(tmp_path):
    snap = snapshot_with(tmp_path, checks={"kubernetes/svc.yaml": """
apiVersion: v1
kind: Service
metadata:
  name: cache
  namespace: data
  labels: {app: cache}
  annotations:
    ad.datadoghq.com/service.checks: '{"redisdb": {"instances": [{"host": "%%host%%", "port": 6379}]}}'
    ad.datadoghq.com/endpoints.check_names: '["openmetrics"]'
    ad.datadoghq.com/endpoints.init_configs: '[{}]'
    ad.datadoghq.com/endpoints.instances: '[{"openmetrics_endpoint": "http://%%host%%:9121/metrics", "metrics": [".*"]}]'
spec:
  selector: {app: cache}
  ports:
    - {name: redis, port: 6379}
    - {name: metrics, port: 80, targetPort: 9121}
"""})
    out = tmp_path / "out"
    items = convert(snap, out)
    redis = items["kubernetes/svc.yaml#redisdb#0"]
    assert redis["status"] == "exact" and redis["scrape_object"] == "ServiceMonitor"
    deploy, _ = objects_in(out, "exporters/cache-redisdb-exporter.yaml")
    assert {"name": "REDIS_ADDR", "value": "redis://cache.data.svc:6379"} in \
        deploy["spec"]["template"]["spec"]["containers"][0]["env"]
    om = items["kubernetes/svc.yaml#openmetrics#0"]
    assert om["status"] == "exact", om["notes"]
    sm = load(out, "scrape/servicemonitors/cache-openmetrics.yaml")
    assert sm["spec"]["selector"] == {"matchLabels": {"app": "cache"}}
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"


@pytest.mark.parametrize("tag, label, status", [
    ("team:payments", {"targetLabel": "team", "replacement": "payments", "action": "replace"}, "exact"),
    ("kube.cluster:prod-eu", {"targetLabel": "kube_cluster", "replacement": "prod-eu", "action": "replace"}, "exact"),
    ("instance:foo", None, "approximate"),       # would overwrite Prometheus's own label
    ("standalone", None, "approximate"),         # no value
    ("9lives:x", None, "approximate"),           # not a label name
    ("pod:%%host%%", None, "exact"),             # template variable: Prometheus has the pod label
])
def test_tags_become_target_labels(tag, label, status):
    from dd2prom.convert.checks.common import tag_relabelings
    from dd2prom.model import CoverageItem

    item = CoverageItem("check", "x")
    assert tag_relabelings({"instance": {"tags": [tag]}}, item) == ([label] if label else [])
    assert item.status.value == status


def test_exporter_table_is_complete():
    from dd2prom.convert.checks.exporters import load_table

    table = load_table()
    assert {"nginx", "redisdb", "postgres", "mysql", "mongo", "rabbitmq", "elastic", "haproxy", "mcache",
            "kafka_consumer"} <= set(table)
    for check, spec in table.items():
        assert spec.get("exporter") and int(spec["port"]) > 0, check
        if not spec.get("manual"):
            assert spec.get("connect") and ":" in spec["image"] and not spec["image"].endswith(":latest"), check
