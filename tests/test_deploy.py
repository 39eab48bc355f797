"""What `kubectl apply -k OUT` does on a cluster running kube-prometheus-stack
(default Helm values, release ``prom-op`` as in the seed post, namespace
``observability``): every object is selected, lands in the namespace, and
points at what the charts create."""

from __future__ import annotations

from pathlib import Path

import pytest

from dd2prom.convert import ConvertOptions, run_convert
from dd2prom.emit.yamlio import load_yaml_all

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample-org"
NS, RELEASE = "observability", "prom-op"


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("deploy") / "out"
    run_convert(SAMPLE, out, ConvertOptions(namespace=NS, release_label=RELEASE))
    return out


def applied(out: Path) -> list[dict]:
    """The objects `kubectl apply -k out` creates."""
    kust = load_yaml_all((out / "kustomization.yaml").read_text())[0]
    docs = []
    for rel in kust["resources"]:
        docs += [d for d in load_yaml_all((out / rel).read_text()) if d]
    return docs


def of_kind(out: Path, kind: str) -> list[dict]:
    return [d for d in applied(out) if d["kind"] == kind]


def test_probes_use_the_blackbox_exporter_in_the_output_namespace(out):
    probes = of_kind(out, "Probe")
    assert probes
    for p in probes:
        assert p["spec"]["prober"]["url"] == f"prometheus-blackbox-exporter.{NS}.svc:9115"


def test_blackbox_url_option(tmp_path):
    run_convert(SAMPLE, tmp_path / "o", ConvertOptions(blackbox_url="https://bb.probes.svc:9443"),
                only={"checks", "synthetics"})
    prober = of_kind(tmp_path / "o", "Probe")[0]["spec"]["prober"]
    assert (prober["scheme"], prober["url"]) == ("https", "bb.probes.svc:9443")


def test_exporters_are_pinned_named_and_locked_down(out):
    deployments = of_kind(out, "Deployment")
    assert deployments
    services = {s["metadata"]["name"]: s for s in of_kind(out, "Service")}
    monitors = {m["metadata"]["name"]: m for m in of_kind(out, "ServiceMonitor")}
    for d in deployments:
        name, pod = d["metadata"]["name"], d["spec"]["template"]
        assert d["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        assert services[name]["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        sm = monitors[name]
        assert sm["spec"]["selector"]["matchLabels"].items() <= services[name]["metadata"]["labels"].items()
        assert sm["spec"]["namespaceSelector"] == {"matchNames": [NS]}
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert isinstance(pod["spec"]["securityContext"]["runAsUser"], int)
        for c in pod["spec"]["containers"]:
            image = c["image"].rsplit("/", 1)[-1]
            assert ":" in image and not image.endswith(":latest")
            assert {p["name"] for p in c["ports"]} >= {e["port"] for e in sm["spec"]["endpoints"]}
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
            for env in c.get("env", []):
                assert "value" not in env or "password" not in env["name"].lower()


def test_alertmanager_config_secret_is_optional_and_matches_the_config(out):
    from dd2prom.emit.alertmanager import CONFIG_SECRET_NAME, SECRET_ROOT
    secret = load_yaml_all((out / "alertmanager/config-secret.yaml").read_text())[0]
    assert (secret["kind"], secret["metadata"]["name"], secret["metadata"]["namespace"]) == \
        ("Secret", CONFIG_SECRET_NAME, NS)
    config = (out / "alertmanager/alertmanager.yaml").read_text()
    assert secret["stringData"] == {"alertmanager.yaml": config}
    assert "alertmanager/config-secret.yaml" not in (out / "kustomization.yaml").read_text()
    # every *_file path is a key of a Secret listed for alertmanagerSpec.secrets
    required = load_yaml_all((out / "alertmanager/required-secrets.yaml").read_text())[0]
    mounted = {f"{SECRET_ROOT}/{s['name']}/{k['key']}" for s in required["secrets"] for k in s["keys"]}
    assert required["alertmanagerSpec"]["secrets"] == [s["name"] for s in required["secrets"]]
    files = {line.split(": ", 1)[1] for line in config.splitlines() if "_file: " in line}
    assert files and files <= mounted


def test_convert_cli_grafana_folder_reaches_every_configmap(tmp_path):
    from typer.testing import CliRunner

    from dd2prom.cli import app
    res = CliRunner().invoke(app, ["convert", str(SAMPLE), "--out", str(tmp_path / "o"), "--grafana-folder", "Migrated",
                                   "--only", "dashboards,slos"])
    assert res.exit_code == 0, res.output
    maps = of_kind(tmp_path / "o", "ConfigMap")
    assert maps and {m["metadata"]["annotations"]["grafana_folder"] for m in maps} == {"Migrated"}


def test_convert_cli_passes_namespace_and_blackbox_url(tmp_path):
    from typer.testing import CliRunner

    from dd2prom.cli import app
    res = CliRunner().invoke(app, ["convert", str(SAMPLE), "--out", str(tmp_path / "o"), "--namespace", NS,
                                   "--blackbox-url", "bb.x.svc:9115", "--only", "checks"])
    assert res.exit_code == 0, res.output
    assert {p["spec"]["prober"]["url"] for p in of_kind(tmp_path / "o", "Probe")} == {"bb.x.svc:9115"}


def test_scrapeconfig_note_names_the_chart_selection(tmp_path):
    from tests.checks.helpers import convert, copy_fixtures
    items = convert(copy_fixtures(tmp_path, "conf.d"), tmp_path / "o", release_label=RELEASE)
    item = items["conf.d/openmetrics.d/conf.yaml#openmetrics#0"]
    assert item["scrape_object"] == "ScrapeConfig"
    assert any(f"release={RELEASE}" in n and "scrapeConfigSelectorNilUsesHelmValues" in n for n in item["notes"])
    sc = [o for o in applied(tmp_path / "o") if o["kind"] == "ScrapeConfig"][0]
    assert sc["metadata"]["labels"]["release"] == RELEASE


def test_every_operator_object_carries_the_release_label_and_a_namespace(out):
    for o in applied(out):
        assert o["metadata"]["namespace"] == NS, o["metadata"]["name"]
        if o["apiVersion"].startswith("monitoring.coreos.com/"):
            assert o["metadata"]["labels"]["release"] == RELEASE


def test_blackbox_modules_reach_the_chart_and_every_probe_module_exists(out):
    from dd2prom.convert.checks.blackbox import CONFIG_MAP
    modules = load_yaml_all((out / "blackbox/blackbox.yml").read_text())[0]["modules"]
    values = load_yaml_all((out / "blackbox/values.yaml").read_text())[0]
    assert values == {"config": {"modules": modules}}   # helm -f blackbox/values.yaml
    cm = [o for o in applied(out) if o["kind"] == "ConfigMap" and o["metadata"]["name"] == CONFIG_MAP][0]
    assert load_yaml_all(cm["data"]["blackbox.yaml"])[0] == {"modules": modules}
    assert "configPath" in cm["metadata"]["annotations"]["dd2prom/usage"]
    for probe in of_kind(out, "Probe"):
        assert probe["spec"]["module"] in modules


@pytest.mark.parametrize("lines, fits, server_side", [
    (1000, True, False),
    (21000, True, True),    # ~226 KiB of pretty JSON: under 256 KiB, but not once escaped in the annotation
    (100000, False, False), # over the 1 MiB a ConfigMap holds
])
def test_dashboard_configmap_size_counts_the_escaped_annotation(lines, fits, server_side):
    import json

    from dd2prom.convert.dashboards.sidecar import MAX_CLIENT_APPLY, size_problem
    text = json.dumps({"panels": [{"expr": 'sum(rate(x{a="b"}[5m]))'} for _ in range(lines // 5)]}, indent=2)
    ok, sentence = size_problem(text)
    assert ok is fits
    assert (sentence is not None and "--server-side" in sentence) is server_side
    if server_side:
        assert len(text.encode()) < MAX_CLIENT_APPLY


def test_verify_checks_what_apply_k_needs(out, tmp_path):
    import shutil

    from dd2prom.emit.yamlio import dump_yaml
    from dd2prom.validate.verify import check_kustomization
    good = check_kustomization(out)
    assert good.ok and good.checked == len(applied(out)) and not good.details
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"x": "y" * 300_000}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "9x", "namespace": NS}, "spec": {}}
    (bad / "extra.yaml").write_text(dump_yaml(cm) + "---\n" + dump_yaml(svc))
    first = (out / "kustomization.yaml").read_text().split("resources:\n- ")[1].splitlines()[0]
    (bad / "kustomization.yaml").write_text(dump_yaml({"resources": ["extra.yaml", first, first, "/etc/passwd"]}))
    res = check_kustomization(bad)
    text = "\n".join(res.details)
    assert not res.ok
    for phrase in ("no metadata.namespace", "same identity", "--server-side", "/etc/passwd: not a file",
                   "Service/9x: not a valid Service name"):
        assert phrase in text


def test_corpus_output_applies_cleanly(tmp_path):
    from dd2prom.validate.verify import check_kustomization
    from tests.support import shared_dir
    run_convert(shared_dir("corpus"), tmp_path / "o", ConvertOptions(namespace=NS, release_label=RELEASE))
    res = check_kustomization(tmp_path / "o")
    assert res.ok and res.checked > 200, res.details[:5]
    for o in applied(tmp_path / "o"):
        if o["apiVersion"].startswith("monitoring.coreos.com/"):
            assert o["metadata"]["labels"]["release"] == RELEASE


def test_exporter_secrets_are_listed_for_the_user(out):
    from dd2prom.convert.checks.exporters import REQUIRED_SECRETS
    required = load_yaml_all((out / REQUIRED_SECRETS).read_text())[0]
    listed = {(s["name"], k["key"]) for s in required["secrets"] for k in s["keys"]}
    refs = {(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
            for d in of_kind(out, "Deployment") for c in d["spec"]["template"]["spec"]["containers"]
            for e in c.get("env", []) if "valueFrom" in e}
    assert refs and listed == refs
    assert REQUIRED_SECRETS not in (out / "kustomization.yaml").read_text()
    assert all(s["namespace"] == NS for s in required["secrets"])


def test_exporter_service_name_starts_with_a_letter(tmp_path):
    from tests.checks.helpers import FIXTURES, convert, snapshot_with
    manifest = (FIXTURES / "kubernetes" / "redis.yaml").read_text().replace("  name: redis\n  namespace", "  name: 3scale-redis\n  namespace")
    items = convert(snapshot_with(tmp_path, checks={"kubernetes/redis.yaml": manifest}), tmp_path / "o")
    (item,) = [i for i in items.values() if i.get("scrape_object") == "ServiceMonitor"]
    service = [o for o in applied(tmp_path / "o") if o["kind"] == "Service"][0]
    assert service["metadata"]["name"][0].isalpha() and "3scale-redis" in service["metadata"]["name"]


def test_blackbox_servicemonitor_series_match_the_probe_ones(tmp_path):
    """--blackbox-servicemonitors (the seed post's pattern): same job/instance/labels as a Probe,
    none of the blackbox exporter pod's own target labels."""
    run_convert(SAMPLE, tmp_path / "o", ConvertOptions(namespace=NS, release_label=RELEASE,
                                                        blackbox_service_monitors=True), only={"checks", "synthetics"})
    sms = [o for o in of_kind(tmp_path / "o", "ServiceMonitor") if "params" in o["spec"]["endpoints"][0]]
    assert sms and not of_kind(tmp_path / "o", "Probe")
    for sm in sms:
        assert sm["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus-blackbox-exporter"}
        ep = sm["spec"]["endpoints"][0]
        assert ep["port"] == "http" and ep["path"] == "/probe"
        rl = ep["relabelings"]
        drop = rl.index({"regex": "pod|container|endpoint|namespace|service", "action": "labeldrop"})
        tags = [i for i, r in enumerate(rl) if r.get("targetLabel") in ("service", "namespace", "team", "env")]
        assert all(i > drop for i in tags)   # tags set after the drop survive it


def test_alertmanager_helm_values_carry_the_config_and_the_secrets(out):
    from dd2prom.emit.alertmanager import HELM_VALUES_OUTPUT
    values = load_yaml_all((out / HELM_VALUES_OUTPUT).read_text())[0]["alertmanager"]
    assert values["config"] == load_yaml_all((out / "alertmanager/alertmanager.yaml").read_text())[0]
    required = load_yaml_all((out / "alertmanager/required-secrets.yaml").read_text())[0]
    assert values["alertmanagerSpec"]["secrets"] == required["alertmanagerSpec"]["secrets"]
