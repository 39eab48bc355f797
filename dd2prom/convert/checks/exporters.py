"""Integrations that need an exporter (nginx, redisdb, postgres, mysql, mongo,
rabbitmq, elastic, haproxy, memcached, kafka_consumer ...): the standard exporter
from mappings/exporters.yaml as a Deployment + Service in the monitoring
namespace (exporters/<name>.yaml), pointed at the service the check connected
to, and a ServiceMonitor for it. Passwords become Secret references."""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from dd2prom.convert.checks import common
from dd2prom.convert.context import ConvertContext
from dd2prom.emit import k8s
from dd2prom.model import CoverageItem, Status
from dd2prom.resources import mappings_dir

_PLACEHOLDER = re.compile(r"<[A-Z_ ]+>")
# Exporters only read the network: run them as nobody (a numeric uid, so runAsNonRoot also
# holds for images whose USER is a name, e.g. postgres-exporter's "nobody"), read-only,
# no capabilities; this passes the "restricted" Pod Security Standard.
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                      "capabilities": {"drop": ["ALL"]}}
_SECRETISH = re.compile(r"pass|token|secret|key", re.I)  # never templated into flags or env values

# Probes. Most exporters have no health endpoint of their own, so both probes
# ask the metrics path, and every request there makes the exporter query its target (a
# database, a broker, a cluster API): the probe is a full scrape. Hence:
# * timeoutSeconds 10, Prometheus's default scrape_timeout: an exporter slower
#   than that fails its scrapes anyway. A target that is down is not a probe
#   failure: a working exporter answers 200 at once with its <name>_up 0, which
#   is what the alerts read, so it must stay scrapeable and is not restarted;
# * long periods (readiness 30 s, liveness 60 s): at most three extra scrapes a
#   minute on the target;
# * liveness restarts only after 5 failures in a row (5 minutes): a restart does
#   not make a slow target fast, it is for an exporter that has hung; readiness
#   (3 failures) only takes it out of the Service's ready endpoints.
# An exporter with a health endpoint of its own that answers without asking its
# target (``health:`` in mappings/exporters.yaml) is probed there: cheap, so
# more often, with a short timeout.
_METRICS_PROBES = {"readinessProbe": {"periodSeconds": 30, "timeoutSeconds": 10, "failureThreshold": 3},
                   "livenessProbe": {"periodSeconds": 60, "timeoutSeconds": 10, "failureThreshold": 5}}
_HEALTH_PROBES = {"readinessProbe": {"periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
                  "livenessProbe": {"periodSeconds": 20, "timeoutSeconds": 5, "failureThreshold": 3}}


@functools.lru_cache(maxsize=8)
def load_table(user_file: str | None = None) -> dict[str, dict[str, Any]]:
    """The shipped table, extended/overridden by the user's --mappings file (``exporters:`` key)."""
    table = dict(yaml.safe_load((mappings_dir() / "exporters.yaml").read_text(encoding="utf-8"))["exporters"])
    if user_file:
        doc = yaml.safe_load(Path(user_file).read_text(encoding="utf-8")) or {}
        table.update((doc.get("exporters") or {}) if isinstance(doc, dict) else {})
    return table


def table_for(ctx: ConvertContext) -> dict[str, dict[str, Any]]:
    return load_table(str(ctx.options.mappings_file) if ctx.options.mappings_file else None)


def applies(ctx: ConvertContext, rec: dict[str, Any]) -> bool:
    return rec.get("check") in table_for(ctx)


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        raise common.NeedsManual(f"the instance has no `{key}` setting to build the exporter's flags from")


def _resolve_address(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any], host: str, port: Any,
                     scheme: str = "http", path: str = "") -> common.Target:
    target = common.locate(rec, item, host, port, scheme, path)
    if target.kind == "pod":  # an exporter Deployment needs a stable address: a Service
        svc = k8s.dns_name(common.workload_name(rec))
        target.kind, target.host = "static", f"{svc}.{target.namespace or 'default'}.svc"
        target.notes.append((f"No Service in the input selects these pods; the exporter expects one named {svc} "
                             f"exposing port {port} (or run the exporter as a sidecar next to the container).",
                             Status.MANUAL))
    return target


def _connection(ctx, item, rec, spec) -> tuple[list[common.Target], dict[str, str]]:
    inst = rec.get("instance") or {}
    conn = spec.get("connect") or {}
    fields: dict[str, str] = {}
    if "url" in conn:
        if not inst.get(conn["url"]):
            raise common.NeedsManual(f"the instance has no `{conn['url']}`")
        scheme, host, port, path = common.split_url(inst[conn["url"]], rec)
        port = port or (443 if scheme == "https" else 80)
        t = _resolve_address(ctx, item, rec, host, port, scheme, path)
        fields.update(url=t.url, base_url=f"{t.scheme}://{t.address}")
        return [t], fields
    if "uri" in conn:
        raw = common.substitute(str(inst.get(conn["uri"]) or ""), rec)
        if not raw:
            raise common.NeedsManual(f"the instance has no `{conn['uri']}`")
        netloc = urlsplit(raw).netloc.rsplit("@", 1)[-1]
        host, _, port = netloc.partition(":")
        host = common.POD_HOST if "%%host%%" in raw else host
        t = _resolve_address(ctx, item, rec, host, int(port) if port.isdigit() else port or None)
        item.note(f"The connection URI goes in the Secret as a whole; write it with the address {t.address}.")
        return [t], fields
    if "list" in conn:
        servers = inst.get(conn["list"]) or []
        servers = [servers] if isinstance(servers, str) else list(servers)
        if not servers:
            raise common.NeedsManual(f"the instance has no `{conn['list']}`")
        targets = []
        for s in servers:
            host, _, port = common.substitute(str(s), rec).partition(":")
            targets.append(_resolve_address(ctx, item, rec, host, int(port) if port.isdigit() else port or None))
        return targets, fields
    host = common.substitute(str(inst.get(conn.get("host", "host")) or "localhost"), rec)
    port = common.substitute(str(inst.get(conn.get("port", "port")) or conn.get("default_port") or ""), rec)
    return [_resolve_address(ctx, item, rec, host, int(port) if port.isdigit() else port or None)], fields


def convert(ctx: ConvertContext, item: CoverageItem, rec: dict[str, Any]) -> None:
    spec = table_for(ctx)[rec["check"]]
    item.extra["exporter"] = f"{spec['exporter']} ({spec['image']})" if spec.get("image") else spec["exporter"]
    if spec.get("note"):
        item.note(spec["note"])
    if spec.get("manual"):
        item.note(spec["manual"], Status.MANUAL)
        item.extra["scrape_object"] = "none (manual)"
        return
    inst = rec.get("instance") or {}
    if inst.get("dbm"):
        item.note("Database Monitoring (dbm: true: query samples, explain plans, wait events) has no exporter "
                  "equivalent; only the metrics are carried over.", Status.APPROXIMATE)
    if inst.get("custom_queries") or inst.get("queries"):
        item.note("custom_queries are not converted: port them to the exporter's own query file "
                  "(e.g. postgres_exporter --extend.query-path, or sql_exporter).", Status.MANUAL)
    targets, fields = _connection(ctx, item, rec, spec)
    base = common.object_base(rec) + "-exporter"
    if not k8s.dns_name(base)[0].isalpha():  # a Service name is a DNS-1035 label: it starts with a letter
        base = "exporter-" + base
    name = common.unique_name(ctx, base)
    secret_fields = set((spec.get("secrets") or {}).values())
    values = _Fields({k: str(v) for k, v in {**spec.get("defaults", {}), **inst}.items()
                      if isinstance(v, (str, int, float)) and k not in secret_fields and not _SECRETISH.search(k)})
    values.update(fields, address=targets[0].address, host=targets[0].host, port=str(targets[0].port))
    fmt = string.Formatter()
    args = []
    for a in spec.get("args") or []:
        if "{item}" in a:
            args += [fmt.vformat(a, (), _Fields(values, item=t.address)) for t in targets]
        else:
            args.append(fmt.vformat(a, (), values))
    env = [{"name": k, "value": fmt.vformat(v, (), values)} for k, v in (spec.get("env") or {}).items()
           if not _missing_optional(v, values)]
    secret = k8s.dns_name(f"{name}-credentials")
    secret_keys = []
    for var, field in (spec.get("secrets") or {}).items():
        if inst.get(field) not in (None, ""):
            env.append({"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": var.lower()}}})
            secret_keys.append({"key": var.lower(), "value_of": f"`{field}` of {item.id}"})
            item.note(f"Create Secret {secret} in {ctx.options.namespace} with key {var.lower()} "
                      f"(the value of `{field}`; not copied from the Datadog config).", Status.MANUAL)
    for t in targets:
        common.apply_target_notes(item, t)
    text = " ".join(args + [e.get("value", "") for e in env])
    placeholder = _PLACEHOLDER.search(text + " " + " ".join(t.address for t in targets))
    if placeholder:
        item.note(f"The config holds the placeholder {placeholder.group()}; fill in the real value.", Status.MANUAL)
    _write_exporter(ctx, item, name, spec, args, env)
    if secret_keys:
        _require_secret(ctx, secret, secret_keys)
    endpoint: dict[str, Any] = {"port": "metrics", "path": http_path(spec, "path"),
                                "interval": common.interval(rec),
                                "relabelings": [{"targetLabel": "instance", "replacement": targets[0].address,
                                                 "action": "replace"}] + common.tag_relabelings(rec, item)}
    sel = {"app.kubernetes.io/name": k8s.label_value(spec["exporter"]), "app.kubernetes.io/instance": name}
    common.write_scrape(ctx, item, "ServiceMonitor", name, {
        "selector": {"matchLabels": sel}, "namespaceSelector": {"matchNames": [ctx.options.namespace]},
        "endpoints": [endpoint]})
    if spec.get("service_check") and spec.get("up_metric"):
        common.record_service_check(ctx, spec["service_check"], spec["up_metric"], name)


REQUIRED_SECRETS = "exporters/required-secrets.yaml"


def _require_secret(ctx: ConvertContext, name: str, keys: list[dict[str, str]]) -> None:
    """Record a Secret the exporter Deployments read (listed in exporters/required-secrets.yaml,
    not in kustomization.yaml: a pod whose secretKeyRef is missing never starts, so the
    user creates them before ``kubectl apply -k``)."""
    ctx.shared.setdefault("exporter_secrets", {})[name] = keys
    ctx.on_finish("exporter-secrets", lambda c: c.out.write_yaml(REQUIRED_SECRETS, {
        "note": (f"Create these Secrets in namespace {c.options.namespace} before `kubectl apply -k`, e.g. "
                 f"kubectl -n {c.options.namespace} create secret generic <name> --from-file=<key>=./<file>; "
                 "the exporter Deployments read each key with secretKeyRef."),
        "secrets": [{"name": n, "namespace": c.options.namespace, "keys": k}
                    for n, k in sorted(c.shared["exporter_secrets"].items())]}))


def _missing_optional(template: str, values: dict[str, str]) -> bool:
    """An env var built only from instance fields the instance does not set is left out."""
    keys = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    return bool(keys) and all(k not in values for k in keys)


def probes(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """readinessProbe and livenessProbe on the metrics port: the exporter's own
    health path when it documents one, else its metrics path (timings above)."""
    timings = _HEALTH_PROBES if "health" in spec else _METRICS_PROBES
    get = {"httpGet": {"path": http_path(spec, "health" if "health" in spec else "path"), "port": "metrics"}}
    return {name: {**get, **t} for name, t in timings.items()}


def http_path(spec: dict[str, Any], field: str) -> str:
    """An entry's ``path`` (default /metrics) or ``health``, checked: a user's table
    entry with anything but an absolute URL path is this item's error, not a
    Deployment the API server refuses."""
    value = spec.get(field, "/metrics")
    if not isinstance(value, str) or not re.fullmatch(r"/[!-~]*", value):
        raise ValueError(f"mappings exporters entry `{field}: {value!r}` is not an absolute URL path like /metrics")
    return value


def _write_exporter(ctx: ConvertContext, item: CoverageItem, name: str, spec: dict[str, Any],
                    args: list[str], env: list[dict[str, Any]]) -> None:
    ns = ctx.options.namespace
    labels = {"app.kubernetes.io/name": k8s.label_value(spec["exporter"]), "app.kubernetes.io/instance": name}
    container: dict[str, Any] = {"name": "exporter", "image": spec["image"],
                                 "ports": [{"name": "metrics", "containerPort": int(spec["port"])}]}
    if args:
        container["args"] = args
    if env:
        container["env"] = env
    container.update(probes(spec))
    container["resources"] = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
    container["securityContext"] = CONTAINER_SECURITY
    deployment = k8s.obj("apps/v1", "Deployment", name, namespace=ns, labels=labels, spec={
        "replicas": 1, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels},
                     "spec": {"securityContext": POD_SECURITY, "containers": [container]}}})
    service = k8s.obj("v1", "Service", name, namespace=ns, labels=labels, spec={
        "selector": labels, "ports": [{"name": "metrics", "port": int(spec["port"]), "targetPort": "metrics"}]})
    item.outputs.append(ctx.out.write_k8s(f"exporters/{name}.yaml", [deployment, service]))
