"""Blackbox probing, shared by the network checks (http_check, tcp_check,
dns_check, tls, ssh_check) and by synthetics API tests: blackbox-exporter modules
(collected in ``ctx.shared["blackbox_modules"]``, written once to
blackbox/blackbox.yml and blackbox/configmap.yaml), Probe resources (or, with
--blackbox-servicemonitors, the seed post's ServiceMonitor on the exporter), and
alert rules on probe_duration_seconds / probe_ssl_earliest_cert_expiry."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from dd2prom.convert.checks import common
from dd2prom.convert.context import ConvertContext
from dd2prom.emit import k8s
from dd2prom.emit.yamlio import dump_yaml
from dd2prom.model import CoverageItem, Status

# HTTP status codes servers send in practice (IANA registry); regexes are expanded over these.
STANDARD_CODES = [100, 101, 102, 103] + list(range(200, 209)) + [226] + list(range(300, 309)) + \
    list(range(400, 419)) + [421, 422, 423, 424, 425, 426, 428, 429, 431, 451] + \
    list(range(500, 509)) + [510, 511]
DEFAULT_CODES = [c for c in STANDARD_CODES if 200 <= c < 300]
CERT_WARNING_DAYS, CERT_CRITICAL_DAYS = 14, 7   # the Datadog checks' defaults


def status_codes(pattern: Any) -> list[int] | None:
    """valid_status_codes for a Datadog status-code regex (None = blackbox's default 2xx)."""
    regex = re.compile(str(pattern))
    codes = [c for c in STANDARD_CODES if regex.fullmatch(str(c))]
    if not codes:
        raise common.NeedsManual(f"no HTTP status code matches {pattern!r}")
    return None if codes == DEFAULT_CODES else codes


def seconds(v: Any, default: float = 10) -> str:
    s = common.number(v)
    s = max(0.1, default if s is None else s)
    return f"{int(s)}s" if float(s).is_integer() else f"{int(s * 1000)}ms"


def register_module(ctx: ConvertContext, prefix: str, module: dict[str, Any]) -> str:
    """Add a module (deduplicated by content) and return its name.

    The exporter prefers IPv6 by default; the Agent and Datadog's managed locations
    connect over IPv4 first, so every module prefers ip4 (falling back to ip6) unless
    the check asked for IPv6."""
    prober = module["prober"]
    module.setdefault(prober, {}).setdefault("preferred_ip_protocol", "ip4")
    modules = ctx.shared.setdefault("blackbox_modules", {})
    digest = hashlib.sha1(json.dumps(module, sort_keys=True).encode()).hexdigest()[:8]
    name = f"{re.sub(r'[^a-z0-9_]', '_', prefix.lower())}_{digest}"
    modules[name] = module
    ctx.on_finish("blackbox", write_blackbox_config)
    return name


def write_blackbox_config(ctx: ConvertContext) -> None:
    modules = ctx.shared.get("blackbox_modules") or {}
    if not modules:
        return
    text = dump_yaml({"modules": dict(sorted(modules.items()))})
    ctx.out.write_text("blackbox/blackbox.yml", text)
    ctx.out.write_k8s("blackbox/configmap.yaml", k8s.config_map(
        "prometheus-blackbox-exporter-dd2prom", {"blackbox.yaml": text}, namespace=ctx.options.namespace,
        annotations={"dd2prom/usage": "the blackbox exporter's config file: mount it as its --config.file, or "
                                      "paste the modules into the prometheus-blackbox-exporter chart's config value"}))


def write_probe(ctx: ConvertContext, item: CoverageItem, name: str, job: str, target: str, module: str,
                interval: str, labels: dict[str, str], service: tuple[str, str] | None = None,
                scrape_timeout: float | None = None) -> dict[str, Any]:
    """A Probe (or the seed post's ServiceMonitor on the exporter); returns the labels
    the resulting probe_success series carries. ``scrape_timeout`` (seconds) lets
    a probe run longer than Prometheus's default 10 s scrape timeout."""
    labels = {k: v for k, v in labels.items() if v not in (None, "")}
    timing = {"interval": interval}
    if scrape_timeout:
        timing["scrapeTimeout"] = seconds(min(scrape_timeout, float(interval[:-1])))
    if ctx.options.blackbox_service_monitors:
        relabel = [{"targetLabel": "job", "replacement": job, "action": "replace"}]
        if service:
            relabel += [{"targetLabel": "namespace", "replacement": service[0], "action": "replace"},
                        {"targetLabel": "service", "replacement": service[1], "action": "replace"}]
        relabel.append({"sourceLabels": ["__param_target"], "targetLabel": "instance", "action": "replace"})
        relabel += [{"targetLabel": k, "replacement": v, "action": "replace"} for k, v in labels.items()]
        spec = {"selector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-blackbox-exporter"}},
                "namespaceSelector": {"matchNames": [ctx.options.namespace]},
                "endpoints": [{"port": "http", "path": "/probe", **timing,
                               "params": {"module": [module], "target": [target]}, "relabelings": relabel}]}
        common.write_scrape(ctx, item, "ServiceMonitor", name, spec)
    else:
        scheme, _, address = ctx.options.blackbox_url.rpartition("://")
        static: dict[str, Any] = {"static": [target]}
        if labels or service:
            static["labels"] = dict(labels)
            if service:
                static["labels"].update(namespace=service[0], service=service[1])
        spec = {"jobName": job, **timing, "module": module,
                "prober": {"url": address, "scheme": scheme or "http", "path": "/probe"},
                "targets": {"staticConfig": static}}
        common.write_scrape(ctx, item, "Probe", name, spec)
    item.extra["exporter"] = "blackbox-exporter"
    out = dict(labels)
    if service:
        out.update(namespace=service[0], service=service[1])
    probe = {"job": job, "instance": target, "module": module, "labels": out}
    item.extra["probe"] = probe
    return probe


def _selector(probe: dict[str, Any]) -> str:
    esc = common.promql_string
    return f'job="{esc(probe["job"])}", instance="{esc(probe["instance"])}"'


def probe_rules(ctx: ConvertContext, item: CoverageItem, rule_file: str, title: str, probe: dict[str, Any],
                *, max_duration: float | None = None, cert_days: list[tuple[str, float]] = (),
                for_seconds: int = 0, extra_labels: dict[str, str] | None = None) -> None:
    """PrometheusRule at prometheus/rules/<rule_file>.yaml for response-time and
    certificate-expiry assertions on one probe."""
    sel = _selector(probe)
    labels = {"source": "datadog", **(extra_labels or {})}
    rules = []
    base = re.sub(r"[^A-Za-z0-9]+", " ", title).title().replace(" ", "")[:60]
    if not base[:1].isalpha():  # alert names are metric names: no leading digit
        base = "Probe" + base
    if max_duration is not None:
        rules.append({"alert": f"{base}ResponseTimeTooHigh",
                      "expr": f"probe_duration_seconds{{{sel}}} >= {max_duration:g}",
                      **({"for": f"{for_seconds}s"} if for_seconds else {}),
                      "labels": {**labels, "severity": "critical"},
                      "annotations": {"summary": f"{title}: response time at or above {max_duration:g}s",
                                      "description": "Probe of {{ $labels.instance }} took {{ $value }}s."}})
    for severity, days in cert_days:
        rules.append({"alert": f"{base}CertificateExpiry{severity.title()}",
                      "expr": f"probe_ssl_earliest_cert_expiry{{{sel}}} - time() < {days:g} * 86400",
                      "labels": {**labels, "severity": severity},
                      "annotations": {"summary": f"{title}: TLS certificate expires in less than {days:g} days",
                                      "description": "Certificate of {{ $labels.instance }} expires within "
                                                     f"{days:g} days."}})
    if not rules:
        return
    name = k8s.dns_name(rule_file)
    group = {"name": rule_file, "rules": rules}
    obj = k8s.monitoring("PrometheusRule", name, {"groups": [group]},
                         namespace=ctx.options.namespace, labels={"release": ctx.options.release_label})
    item.outputs.append(ctx.out.write_k8s(f"prometheus/rules/{name}.yaml", obj))
    item.outputs.append(ctx.out.write_yaml(f"prometheus/rule-files/{name}.rules.yaml", {"groups": [group]}))
    item.outputs.append(ctx.out.write_yaml(f"prometheus/tests/{name}.test.yaml", rule_tests(name, rules, probe)))


def rule_tests(name: str, rules: list[dict[str, Any]], probe: dict[str, Any]) -> dict[str, Any]:
    """promtool unit tests: each alert stays silent on a healthy probe and fires on a
    failing one, after its `for:` (verify runs them with `promtool test rules`)."""
    series_labels = f'{{job="{common.promql_string(probe["job"])}", instance="{common.promql_string(probe["instance"])}"}}'
    tests = []
    for rule in rules:
        hold = int(rule.get("for", "0s")[:-1])
        steps = -(-hold // 60) + 3                           # minutes of input, enough to pass `for:`
        if rule["alert"].endswith("ResponseTimeTooHigh"):
            limit = float(rule["expr"].rsplit(">= ", 1)[1])
            metric, ok, bad = "probe_duration_seconds", limit / 2, limit * 2
            values = f"{ok:g} " + " ".join([f"{bad:g}"] * steps)
            description = f"Probe of {probe['instance']} took {bad:g}s."
        else:
            days = float(rule["expr"].rsplit("< ", 1)[1].split(" *")[0])
            metric = "probe_ssl_earliest_cert_expiry"
            # expiry far away at t=0, then a certificate expiring in half the threshold
            values = f"{days * 86400 * 4:g} " + " ".join(
                f"{60 * (i + 1) + days * 43200:g}" for i in range(steps))
            description = rule["annotations"]["description"].replace("{{ $labels.instance }}", probe["instance"])
        fired_at = 1 + -(-hold // 60)
        expected = {"exp_labels": {**rule["labels"], "job": probe["job"], "instance": probe["instance"]},
                    "exp_annotations": {"summary": rule["annotations"]["summary"], "description": description}}
        checks = [{"eval_time": "0m", "alertname": rule["alert"], "exp_alerts": []}]
        if hold:  # still pending one minute before `for:` has passed
            checks.append({"eval_time": f"{fired_at - 1}m", "alertname": rule["alert"], "exp_alerts": []})
        checks.append({"eval_time": f"{fired_at}m", "alertname": rule["alert"], "exp_alerts": [expected]})
        tests.append({"name": f"{rule['alert']}: silent when healthy, fires when failing", "interval": "1m",
                      "input_series": [{"series": metric + series_labels, "values": values}],
                      "alert_rule_test": checks})
    return {"rule_files": [f"../rule-files/{name}.rules.yaml"], "evaluation_interval": "1m", "tests": tests}


# -- agent network checks -----------------------------------------------------------
def _tags(rec: dict[str, Any], item: CoverageItem) -> dict[str, str]:
    return {r["targetLabel"]: r["replacement"] for r in common.tag_relabelings(rec, item)}


def _probe_address(rec: dict[str, Any], item: CoverageItem, host: str, port: Any) -> tuple[str, tuple | None]:
    """host[:port] to probe and (namespace, service) when it is a Kubernetes Service."""
    t = common.locate(rec, item, host, int(port) if str(port).isdigit() else port or None)
    common.apply_target_notes(item, t)
    if host != common.POD_HOST:
        return t.address, None
    if t.kind == "service":
        if rec.get("ad_scope") == "endpoints":
            item.note("An endpoints check probed every pod behind the Service; the probe goes through the "
                      "Service address (one backend per probe).", Status.APPROXIMATE)
        return t.address, (t.namespace, t.service["name"])
    svc = k8s.dns_name(common.workload_name(rec))
    ns = t.namespace or "default"
    item.note(f"A Probe needs a stable address and no Service selects these pods; create Service {svc} in {ns} "
              "(the probe targets it).", Status.MANUAL)
    return f"{svc}.{ns}.svc" + (f":{port}" if port else ""), (ns, svc)


def http_check(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    inst = rec.get("instance") or {}
    if not inst.get("url"):
        raise common.NeedsManual("the http_check instance has no url")
    scheme, host, port, path = common.split_url(inst["url"], rec)
    addr, service = _probe_address(rec, item, host, port)
    url = f"{scheme}://{addr}{path}"
    http: dict[str, Any] = {"method": str(inst.get("method") or "GET").upper()}
    codes = status_codes(inst.get("http_response_status_code", r"(1|2|3)\d\d"))
    if codes:
        http["valid_status_codes"] = codes
    headers = {**(inst.get("headers") or {}), **(inst.get("extra_headers") or {})}
    if headers:
        http["headers"] = {str(k): str(v) for k, v in headers.items()}
    data = inst.get("data")
    if data is not None:
        http["body"] = data if isinstance(data, str) else json.dumps(data)
    if inst.get("content_match"):
        key = "fail_if_body_matches_regexp" if inst.get("reverse_content_match") else "fail_if_body_not_matches_regexp"
        http[key] = [str(inst["content_match"])]
    http["follow_redirects"] = bool(inst.get("allow_redirects", True))
    verify = inst.get("tls_verify", not inst.get("disable_ssl_validation", True))
    if scheme == "https":
        http["tls_config"] = {"insecure_skip_verify": not verify}
        if inst.get("tls_server_name"):
            http["tls_config"]["server_name"] = str(inst["tls_server_name"])
    if inst.get("username"):
        http["basic_auth"] = {"username": str(inst["username"]),
                              "password_file": f"/etc/blackbox/secrets/{k8s.dns_name(item.id)}"}
        item.note("Basic auth: mount the password into the blackbox exporter at "
                  f"{http['basic_auth']['password_file']} (not copied).", Status.MANUAL)
    if inst.get("ntlm_domain") or inst.get("kerberos_auth") or inst.get("aws_host"):
        item.note("NTLM/Kerberos/AWS-signed requests are not supported by the blackbox exporter.", Status.UNSUPPORTED)
    module = {"prober": "http", "timeout": seconds(inst.get("timeout"), 10), "http": http}
    name = common.unique_name(ctx, f"{inst.get('name') or common.object_base(rec)}-http")
    mod = register_module(ctx, "http", module)
    labels = {"check_name": str(inst.get("name") or ""), **_tags(rec, item)}
    probe = write_probe(ctx, item, name, k8s.label_value(f"http_check-{inst.get('name') or name}") or name,
                        url, mod, common.interval(rec), labels, service, _scrape_timeout(module))
    if scheme == "https" and inst.get("check_certificate_expiration", True):
        _cert_expiry(ctx, item, name, str(inst.get("name") or name), probe, inst)


def _scrape_timeout(module: dict[str, Any]) -> float:
    t = module["timeout"]
    return (float(t[:-2]) / 1000 if t.endswith("ms") else float(t[:-1])) + 1


_CERT_KEYS = ("days_warning", "days_critical", "seconds_warning", "seconds_critical")


def _cert_expiry(ctx: ConvertContext, item: CoverageItem, name: str, title: str, probe: dict[str, Any],
                 inst: dict[str, Any]) -> None:
    """The check's certificate status thresholds. Datadog only alerted on them through a
    service-check monitor, so rules are written when the thresholds were set explicitly
    (someone cared); otherwise the expiry is just recorded by the probe."""
    if not any(inst.get(k) not in (None, "") for k in _CERT_KEYS):
        item.note(f"The certificate status (warning under {CERT_WARNING_DAYS} days, critical under "
                  f"{CERT_CRITICAL_DAYS}) alerted only through a service-check monitor; the probe records "
                  "probe_ssl_earliest_cert_expiry, no rule is written.")
        return

    def days(d_key: str, s_key: str, default: float) -> float:
        for key, scale in ((s_key, 86400), (d_key, 1)):
            if inst.get(key) not in (None, ""):
                value = common.number(inst[key])
                if value is None:
                    raise common.NeedsManual(f"`{key}` is not a number")
                return value / scale
        return default
    cert = [("warning", days("days_warning", "seconds_warning", CERT_WARNING_DAYS)),
            ("critical", days("days_critical", "seconds_critical", CERT_CRITICAL_DAYS))]
    probe_rules(ctx, item, f"checks-{name}", title, probe, cert_days=cert)
    item.note("The certificate thresholds (days_warning/days_critical) are alert rules on "
              "probe_ssl_earliest_cert_expiry.")


def tcp_check(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any], *, tls: bool = False,
              ssh: bool = False) -> None:
    inst = rec.get("instance") or {}
    host = common.substitute(str(inst.get("host") or inst.get("server") or ""), rec)
    if not host:
        raise common.NeedsManual(f"the {rec['check']} instance has no host")
    default_port = 443 if tls else 22 if ssh else None
    port = common.substitute(str(inst.get("port") or default_port or ""), rec)
    if not port:
        raise common.NeedsManual(f"the {rec['check']} instance has no port")
    addr, service = _probe_address(rec, item, host, port)
    tcp: dict[str, Any] = {}
    if tls:
        tcp["tls"] = True
        tcp["tls_config"] = {"insecure_skip_verify": not inst.get("validate_cert", True) if "validate_cert" in inst
                             else not inst.get("tls_verify", True)}
        if inst.get("server_hostname"):
            tcp["tls_config"]["server_name"] = str(inst["server_hostname"])
    if ssh:
        tcp["query_response"] = [{"expect": "^SSH-2.0-"}]
        item.note("The blackbox probe checks the SSH banner only; the Datadog check also logged in (and "
                  "optionally tested SFTP).", Status.APPROXIMATE)
    if inst.get("ip_version") or inst.get("ipv6"):
        tcp["preferred_ip_protocol"] = "ip6"
    module = {"prober": "tcp", "timeout": seconds(inst.get("timeout"), 10)}
    if tcp:
        module["tcp"] = tcp
    kind = "tls" if tls else "ssh" if ssh else "tcp"
    label = inst.get("name") or host
    name = common.unique_name(ctx, f"{label}-{kind}")
    mod = register_module(ctx, kind, module)
    probe = write_probe(ctx, item, name, k8s.label_value(f"{rec['check']}-{label}") or name, addr, mod,
                        common.interval(rec), {"check_name": str(inst.get("name") or ""), **_tags(rec, item)},
                        service, _scrape_timeout(module))
    if tls:
        _cert_expiry(ctx, item, name, str(label), probe, inst)
        if inst.get("local_cert_path"):
            item.note("`local_cert_path` checked a certificate file on disk; the blackbox exporter only probes "
                      "certificates served over the network.", Status.UNSUPPORTED)
    if inst.get("response_time") or inst.get("collect_response_time"):
        item.note("Response time is recorded as probe_duration_seconds.")


def dns_check(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    inst = rec.get("instance") or {}
    query = common.substitute(str(inst.get("hostname") or ""), rec)
    if not query:
        raise common.NeedsManual("the dns_check instance has no hostname")
    dns: dict[str, Any] = {"query_name": query, "query_type": str(inst.get("record_type") or "A").upper()}
    if inst.get("resolves_as"):
        answers = [str(a).strip() for a in str(inst["resolves_as"]).split(",") if a.strip()]
        dns["validate_answer_rrs"] = {"fail_if_not_matches_regexp": [
            "|".join(re.escape(a) for a in answers)]}
        if len(answers) > 1:
            item.note("Datadog required every listed answer; the probe requires every answer to be one of them.",
                      Status.APPROXIMATE)
    server = inst.get("nameserver")
    if not server:
        server = "kube-dns.kube-system.svc.cluster.local"
        item.note("The check used the Agent host's resolver; the probe asks the cluster DNS "
                  f"({server}) — set another nameserver if that differs.", Status.APPROXIMATE)
    port = inst.get("nameserver_port") or 53
    module = {"prober": "dns", "timeout": seconds(inst.get("timeout"), 5), "dns": dns}
    name = common.unique_name(ctx, f"{inst.get('name') or query}-dns")
    mod = register_module(ctx, "dns", module)
    write_probe(ctx, item, name, k8s.label_value(f"dns_check-{inst.get('name') or query}") or name,
                f"{server}:{port}", mod, common.interval(rec),
                {"check_name": str(inst.get("name") or ""), **_tags(rec, item)}, None, _scrape_timeout(module))


CONVERTERS = {
    "http_check": http_check,
    "tcp_check": tcp_check,
    "dns_check": dns_check,
    "tls": lambda ctx, item, rec: tcp_check(ctx, item, rec, tls=True),
    "ssl_check": lambda ctx, item, rec: tcp_check(ctx, item, rec, tls=True),
    "ssh_check": lambda ctx, item, rec: tcp_check(ctx, item, rec, ssh=True),
}


# the service check each network check reported (its can-connect status)
SERVICE_CHECKS = {"http_check": "http.can_connect", "tcp_check": "tcp.can_connect", "dns_check": "dns.can_resolve",
                  "tls": "tls.can_connect", "ssl_check": "ssl_check.can_connect", "ssh_check": "ssh.can_connect"}


def applies(rec: dict[str, Any]) -> bool:
    return rec.get("check") in CONVERTERS


def convert(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    CONVERTERS[rec["check"]](ctx, item, rec)
    if "probe" in item.extra:  # for service-check monitors (http.can_connect, tcp.can_connect ...)
        ctx.shared.setdefault("check_probes", {})[item.id] = item.extra["probe"]
        common.record_service_check(ctx, SERVICE_CHECKS[rec["check"]], "probe_success", item.extra["probe"]["job"])
