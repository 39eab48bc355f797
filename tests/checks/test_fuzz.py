"""Property: whatever an instance holds, a check converts to a status and only valid objects."""

from __future__ import annotations

import re
import shutil
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dd2prom.convert.checks import convert_record
from dd2prom.convert.context import ConvertContext, ConvertOptions
from dd2prom.emit.output import OutputDir
from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.model import Ledger
from dd2prom.snapshot import Snapshot
from dd2prom.validate.crd import validate_objects
from dd2prom.validate.promql import promql_error
from tests.support import crd_dir

CHECKS = ["http_check", "tcp_check", "dns_check", "tls", "ssh_check", "openmetrics", "prometheus", "redisdb",
          "postgres", "mysql", "mongo", "nginx", "rabbitmq", "kafka_consumer", "mcache", "kubelet", "mystery"]
HOSTS = st.sampled_from(["%%host%%", "localhost", "db.example.com", "redis", "<HOST>", "%%env_X%%", "10.0.0.1", ""])
PORTS = st.one_of(st.integers(min_value=1, max_value=65535), st.sampled_from(["%%port%%", "%%port_metrics%%", "x"]))
URLS = st.builds(lambda s, h, p, path: f"{s}{h}:{p}{path}", st.sampled_from(["http://", "https://", ""]), HOSTS,
                 PORTS, st.sampled_from(["/metrics", "/", "/status?x=1", ""]))
SCALARS = st.one_of(st.text(max_size=12), st.integers(-5, 100000), st.booleans(), st.none())
INSTANCE = st.fixed_dictionaries({}, optional={
    "url": URLS, "prometheus_url": URLS, "openmetrics_endpoint": URLS, "nginx_status_url": URLS,
    "rabbitmq_api_url": URLS, "host": HOSTS, "port": PORTS, "server": st.sampled_from(["mongodb://u:p@h:1/db", "x"]),
    "hostname": st.text(max_size=20), "record_type": st.sampled_from(["A", "CNAME", "mx"]),
    "metrics": st.lists(st.one_of(st.sampled_from(["*", ".*", "go_*", "a|b", "x(y"]),
                                  st.dictionaries(st.sampled_from(["a", "b_c"]), st.sampled_from(["d", "e.f"]))),
                        max_size=3),
    "tags": st.lists(st.text(max_size=15), max_size=3), "password": SCALARS, "username": SCALARS,
    "timeout": st.one_of(st.integers(0, 100), st.floats(0, 100), st.text(max_size=3)),
    "min_collection_interval": st.one_of(st.integers(-1, 600), st.text(max_size=3)),
    "tls_verify": st.booleans(), "name": st.text(max_size=30),
    "http_response_status_code": st.sampled_from(["200", "2\\d\\d", "(1|2|3)\\d\\d", "9\\d\\d"]),
    "content_match": st.text(max_size=10), "kafka_connect_str": st.lists(st.sampled_from(["k:9092", "x"]), max_size=2),
    "days_warning": st.integers(0, 60),
})
K8S = st.one_of(st.none(), st.just({
    "kind": "Deployment", "namespace": "shop", "name": "app", "labels": {"app": "app"},
    "ports": [{"name": "metrics", "containerPort": 9100}], "env": {"X": "v"}, "services": [],
    "service_name": ""}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(check=st.sampled_from(CHECKS), instance=INSTANCE, k8s_info=K8S)
def test_any_instance_converts_to_valid_objects(tmp_path_factory, check, instance, k8s_info):
    rec = {"check": check, "source_file": "f.yaml", "index": 0, "container": "app", "init_config": {},
           "instance": instance, "k8s": k8s_info, "ad_identifiers": []}
    assert_converts(tmp_path_factory, "check", lambda ctx, item: convert_record(ctx, item, rec))


def assert_converts(tmp_path_factory, kind: str, convert) -> None:
    """Run one conversion in a throw-away output folder: no crash, only valid objects."""
    crds = crd_dir()
    root = tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())
    try:
        with OutputDir(f"{root}/out") as out:
            ctx = ConvertContext(snapshot=Snapshot(root=tmp_path_factory.getbasetemp()), out=out,
                                 options=ConvertOptions(), ledger=Ledger())
            item = ctx.ledger.add(kind, "abc-def-ghi")
            with ctx.guard(item):
                convert(ctx, item)
            assert item.status.value != "error", item.notes      # never a crash
            docs = [d for rel in out.k8s_files for d in load_yaml_all(out.path(rel).read_text())]
            assert validate_objects(docs, crds) == []
            for doc in docs:
                for group in (doc.get("spec") or {}).get("groups") or []:
                    for rule in group["rules"]:
                        assert re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:]*", rule["alert"])
                        assert promql_error(rule["expr"]) is None
            out.abort()
    finally:
        shutil.rmtree(root, ignore_errors=True)

ASSERTION = st.fixed_dictionaries({
    "type": st.sampled_from(["statusCode", "body", "header", "responseTime", "certificate", "latency",
                             "recordSome", "recordEvery", "tlsVersion", "grpcHealthcheckStatus", "bodyHash", "x"]),
    "operator": st.sampled_from(["is", "isNot", "lessThan", "lessThanOrEqual", "moreThan", "contains",
                                 "doesNotContain", "matches", "doesNotMatch", "isInMoreThan", "doesNotExist",
                                 "validatesJSONPath"]),
    "target": st.one_of(st.integers(-10, 1000), st.sampled_from(["200", "2\\d\\d", "(", "1.2", "ok", ""]),
                        st.none(), st.just({"jsonPath": "$.a"})),
}, optional={"property": st.sampled_from(["content-type", "A", "AAAA", ""])})
TEST = st.fixed_dictionaries({
    "type": st.sampled_from(["api", "browser"]),
    "subtype": st.sampled_from(["http", "ssl", "tcp", "dns", "icmp", "grpc", "multi", "udp", "weird"]),
    "config": st.fixed_dictionaries({
        "request": st.fixed_dictionaries({}, optional={
            "url": URLS, "host": HOSTS, "port": PORTS, "method": st.sampled_from(["GET", "post"]),
            "timeout": st.one_of(st.integers(0, 120), st.text(max_size=2)), "dnsServer": HOSTS,
            "headers": st.dictionaries(st.sampled_from(["A", "b"]), st.text(max_size=5), max_size=2),
            "body": st.text(max_size=10), "callType": st.sampled_from(["health", "unary"]),
            "basicAuth": st.just({"username": "u", "password": "p"})}),
        "assertions": st.lists(ASSERTION, max_size=4)}),
}, optional={"options": st.fixed_dictionaries({}, optional={
    "tick_every": st.integers(1, 3600), "min_failure_duration": st.integers(0, 600),
    "retry": st.just({"count": 1, "interval": 10}), "httpVersion": st.sampled_from(["http1", "http2", "any"])}),
    "locations": st.lists(st.sampled_from(["aws:eu-west-1", "pl:x"]), max_size=3),
    "tags": st.lists(st.text(max_size=10), max_size=2), "name": st.text(max_size=20)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(test=TEST)
def test_any_synthetics_test_converts_to_valid_objects(tmp_path_factory, test):
    from dd2prom.convert.synthetics import convert_test

    assert_converts(tmp_path_factory, "synthetics", lambda ctx, item: convert_test(ctx, item, "abc-def-ghi", test))
