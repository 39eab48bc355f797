"""What every check converter shares: Autodiscovery template variables, where a
check's target lives in Kubernetes, object names, intervals, TLS and auth settings,
and writing a scrape object with its coverage facts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dd2prom.convert.context import ConvertContext
from dd2prom.emit import k8s
from dd2prom.model import CoverageItem, Status

DEFAULT_INTERVAL = 15  # seconds: the Agent runs checks every 15 s unless min_collection_interval says otherwise
POD_HOST = "%%host%%"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
_TEMPLATE = re.compile(r"%%([a-z_]+?)(?:_([A-Za-z0-9_.-]+))?%%")
_REGEX_META = re.compile(r"([.^$*+?()\[\]{}|\\])")
_VOLATILE_LABELS = {"pod-template-hash", "controller-revision-hash", "statefulset.kubernetes.io/pod-name",
                    "pod-template-generation"}

Record = dict[str, Any]


class NeedsManual(Exception):
    """A value the converter cannot know (an env var set at run time, a missing port...)."""


@dataclass
class Target:
    """Where a check connects: the pods of a workload, a Service, or a fixed host."""

    kind: str                     # "pod", "service", "static"
    host: str                     # DNS name / address for static and service targets
    port: int | str | None        # number, or a named port
    scheme: str = "http"
    path: str = ""
    namespace: str = ""
    service: dict[str, Any] | None = None
    notes: list[tuple[str, Status]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port not in (None, "") else self.host

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}{self.path}"


def number(value: Any) -> float | None:
    """A numeric setting, or None when it is missing or not a number."""
    try:
        return float(value) if value not in (None, "") and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def interval(rec: Record) -> str:
    for src in (rec.get("instance") or {}, rec.get("init_config") or {}):
        v = src.get("min_collection_interval")
        if v not in (None, ""):
            try:
                return f"{max(1, int(float(v)))}s"
            except (TypeError, ValueError):
                pass
    return f"{DEFAULT_INTERVAL}s"


def namespace_of(rec: Record, item: CoverageItem) -> str:
    info = rec.get("k8s") or {}
    if info.get("namespace"):
        return info["namespace"]
    if info:
        item.note("The manifest sets no namespace; `default` is assumed (change namespaceSelector if it is "
                  "applied elsewhere).")
    return "default"


def substitute(value: str, rec: Record) -> str:
    """Resolve %%port%%, %%port_<name>%% and %%env_<VAR>%%; %%host%% is kept (it names the pod)."""
    info = rec.get("k8s") or {}

    def repl(m: re.Match) -> str:
        var, arg = m.group(1), m.group(2)
        if var == "host":
            return POD_HOST
        if var == "port":
            ports = [p for p in info.get("ports") or [] if "containerPort" in p]
            if arg:
                named = [p for p in ports if p.get("name") == arg]
                if named:
                    return str(named[0]["containerPort"])
                raise NeedsManual(f"%%port_{arg}%% names a port the container does not declare")
            if not ports:
                raise NeedsManual("%%port%% is used but the container declares no port")
            return str(max(int(p["containerPort"]) for p in ports))
        if var == "env" and arg:
            env = info.get("env") or {}
            if arg in env:
                return env[arg]
            raise NeedsManual(f"%%env_{arg}%% is read from the Agent's environment at run time")
        if var == "kube" and arg == "namespace" and info.get("namespace"):
            return info["namespace"]
        raise NeedsManual(f"template variable %%{var}{'_' + arg if arg else ''}%% has no static value")

    return _TEMPLATE.sub(repl, value)


def split_url(url: str, rec: Record) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path+query) of a check URL after template substitution."""
    url = substitute(str(url).strip(), rec)
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise NeedsManual(f"the URL {url!r} has no valid port") from exc
    host = parts.hostname or ""
    if POD_HOST.lower() in url.lower():
        host = POD_HOST
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme or "http", host, port, path


def _service_port(svc: dict[str, Any], container_port: int | str, rec: Record) -> dict[str, Any] | None:
    """The Service port that forwards to ``container_port`` (number or name)."""
    names = {p.get("name"): p.get("containerPort") for p in (rec.get("k8s") or {}).get("ports") or []}
    for p in svc.get("ports") or []:
        tp = p.get("targetPort", p.get("port"))
        if tp == container_port or str(tp) == str(container_port) or \
                (isinstance(tp, str) and names.get(tp) == container_port):
            return p
    return None


def locate(rec: Record, item: CoverageItem, host: str, port: int | str | None, scheme: str = "http",
           path: str = "") -> Target:
    """Where the Prometheus side must connect for a check that connected to host:port."""
    info = rec.get("k8s") or {}
    ns = namespace_of(rec, item) if info else ""
    if host == POD_HOST:
        if info.get("kind") == "Service":
            return _service_level(rec, info["services"][0], port, scheme, path, ns)
        if info and not info.get("unknown_workload"):
            for svc in info.get("services") or []:
                sp = _service_port(svc, port, rec) if port is not None else None
                if sp:
                    return Target("service", f"{svc['name']}.{ns}.svc", sp.get("port"), scheme, path, ns,
                                  dict(svc, matched_port=sp))
            return Target("pod", "", port, scheme, path, ns)
        guess = (rec.get("ad_identifiers") or [rec.get("container") or rec.get("check")])[0]
        t = Target("pod", "", port, scheme, path, ns or "default")
        t.notes.append((f"The pods this template applies to are not known here (Autodiscovery matched "
                        f"{'container images ' + ', '.join(rec.get('ad_identifiers') or []) if rec.get('ad_identifiers') else 'a container named ' + repr(guess)}); "
                        f"the selector `app.kubernetes.io/name: {k8s.label_value(guess)}` is a guess to adjust.",
                        Status.MANUAL))
        return t
    if host in LOCAL_HOSTS and info and not info.get("unknown_workload") and info.get("kind") != "Service":
        t = Target("pod", "", port, scheme, path, ns)
        t.notes.append((f"The annotation points the Agent at {host}, which is the annotated pod itself only when "
                        "the Agent shares its network (the Agent's own pods, hostNetwork); the scrape object "
                        "assumes it is.", Status.MANUAL))
        return t
    t = Target("static", host, port, scheme, path, ns)
    if host and "." not in host and ":" not in host and host not in LOCAL_HOSTS:
        t.notes.append((f"`{host}` is a short name resolved in the Agent's namespace; qualify it "
                        f"(`{host}.<namespace>.svc`) so it resolves from the monitoring namespace.", Status.MANUAL))
    if host in LOCAL_HOSTS:
        where = "the Agent's own pod/node" if info else "the host the Agent runs on"
        t.notes.append((f"The check connected to {host}, i.e. {where}; replace the target with the address of "
                        "that service as seen from Prometheus.", Status.MANUAL))
    return t


def _service_level(rec: Record, svc: dict[str, Any], port: Any, scheme: str, path: str, ns: str) -> Target:
    """Annotations on a Service: ``service.*`` (a cluster check on the Service's IP) and
    ``endpoints.*`` (an endpoint check on every pod behind it) are what the Agent reads."""
    scope = rec.get("ad_scope")
    sp = next((p for p in svc.get("ports") or []
               if str(p.get("port")) == str(port) or (scope == "endpoints" and str(p.get("targetPort")) == str(port))),
              None)
    t = Target("service", f"{svc['name']}.{ns}.svc", port, scheme, path, ns, dict(svc, matched_port=sp) if sp else svc)
    if scope == "service":
        t.notes.append(("A cluster check on the Service's IP reached one backend per run; a ServiceMonitor "
                        "scrapes every pod behind it (probes and exporters still use the Service address).",
                        Status.EXACT))
    if scope not in ("service", "endpoints"):
        t.notes.append((f"The Agent ignores `{scope}.*` annotations on a Service (it reads service.* and "
                        "endpoints.* there), so this check probably never ran; converted as a check on the "
                        "Service's endpoints — confirm it is wanted.", Status.MANUAL))
    if port is not None and sp is None:
        t.notes.append((f"Service {svc['name']} does not expose port {port}; add it so the scrape object can "
                        "name it.", Status.MANUAL))
    return t


def pod_selector(rec: Record) -> dict[str, str]:
    info = rec.get("k8s") or {}
    labels = {k: str(v) for k, v in (info.get("labels") or {}).items() if k not in _VOLATILE_LABELS}
    if labels:
        return labels
    guess = (rec.get("ad_identifiers") or [rec.get("container") or rec.get("check")])[0]
    return {"app.kubernetes.io/name": k8s.label_value(guess) or "app"}


def tls_and_auth(inst: dict[str, Any], name: str, item: CoverageItem, *, pod_monitor: bool = False) -> dict[str, Any]:
    """ServiceMonitor/PodMonitor endpoint fields for the check's TLS and auth options.
    Secrets are references to a Secret the user creates; values are never copied."""
    ep: dict[str, Any] = {}
    secret = k8s.dns_name(f"{name}-scrape-auth")
    verify = inst.get("tls_verify", inst.get("ssl_verify"))
    if verify is False or inst.get("disable_ssl_validation") is True:
        ep["tlsConfig"] = {"insecureSkipVerify": True}
    for opt, tls_key, sec_key in (("tls_ca_cert", "ca", "ca.crt"), ("ssl_ca_cert", "ca", "ca.crt"),
                                  ("tls_cert", "cert", "tls.crt")):
        if inst.get(opt):
            ep.setdefault("tlsConfig", {})[tls_key] = {"secret": {"name": secret, "key": sec_key}}
            item.note(f"`{opt}` points at a file on the Agent host; put it in Secret {secret} (key {sec_key}).",
                      Status.MANUAL)
    if inst.get("tls_private_key"):
        ep.setdefault("tlsConfig", {})["keySecret"] = {"name": secret, "key": "tls.key"}
        item.note(f"`tls_private_key`: put the client key in Secret {secret} (key tls.key).", Status.MANUAL)
    if inst.get("username") and inst.get("password") is not None:
        ep["basicAuth"] = {"username": {"name": secret, "key": "username"},
                           "password": {"name": secret, "key": "password"}}
        item.note(f"Basic auth: create Secret {secret} with keys username and password (not copied from the "
                  "Datadog config).", Status.MANUAL)
    if inst.get("bearer_token_auth") or inst.get("bearer_token_path"):
        ep["authorization"] = {"type": "Bearer", "credentials": {"name": secret, "key": "token"}}
        item.note(f"Bearer token auth: put the token in Secret {secret} (key token).", Status.MANUAL)
    headers = {**(inst.get("headers") or {}), **(inst.get("extra_headers") or {})}
    if headers:
        item.note(f"Custom request headers ({', '.join(sorted(headers))}) cannot be set on a "
                  f"{'PodMonitor' if pod_monitor else 'ServiceMonitor'}; the scrape is sent without them.",
                  Status.APPROXIMATE)
    return ep


def tag_relabelings(rec: Record, item: CoverageItem) -> list[dict[str, Any]]:
    """The check's static ``tags: [key:value]`` as target labels."""
    out = []
    for tag in (rec.get("instance") or {}).get("tags") or []:
        tag = str(tag)
        if "%%" in tag:
            item.note(f"Tag `{tag}` uses a template variable; Prometheus's own target labels (pod, "
                      "instance) carry that information.")
            continue
        key, _, value = tag.partition(":")
        label = re.sub(r"[^A-Za-z0-9_]", "_", key)
        if not label or label[0].isdigit() or label.startswith("__"):
            item.note(f"Tag `{tag}` is not a valid label name; dropped.", Status.APPROXIMATE)
            continue
        if label in RESERVED_LABELS:
            item.note(f"Tag `{tag}` would overwrite Prometheus's own `{label}` label; not set.", Status.APPROXIMATE)
            continue
        if not value:
            item.note(f"Tag `{tag}` has no value; a label needs one, so it is not set.", Status.APPROXIMATE)
            continue
        out.append({"targetLabel": label, "replacement": value, "action": "replace"})
    return out


# target labels the operator and the translated queries rely on
RESERVED_LABELS = {"job", "instance", "namespace", "pod", "container", "endpoint"}


def unique_name(ctx: ConvertContext, base: str) -> str:
    used = ctx.shared.setdefault("check_object_names", set())
    name = k8s.dns_name(base, max_len=56)
    candidate, n = name, 2
    while candidate in used:
        candidate = f"{name}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def workload_name(rec: Record) -> str:
    """The name of what the check watches: workload, container, or Autodiscovery identifier."""
    info = rec.get("k8s") or {}
    return info.get("name") or rec.get("container") or (rec.get("ad_identifiers") or [""])[0] or rec["check"]


def object_base(rec: Record) -> str:
    owner = workload_name(rec)
    return f"{owner}-{rec['check']}" if owner and owner != rec["check"] else rec["check"]


def record_service_check(ctx: ConvertContext, name: str, metric: str, job: str) -> None:
    """Tell the monitors stage which 0/1 series stands for a Datadog service check:
    ``ctx.shared["service_checks"][name] = {"expr", "group"}``, one series per instance,
    over every scrape job that replaced an instance of the check."""
    jobs = ctx.shared.setdefault("service_check_jobs", {}).setdefault(name, [])
    if job not in jobs:
        jobs.append(job)
    if len(jobs) == 1:
        sel = f'job="{promql_string(jobs[0])}"'
    else:
        alternatives = "|".join(_REGEX_META.sub(r"\\\1", j) for j in jobs)
        sel = f'job=~"{promql_string(alternatives)}"'
    ctx.shared.setdefault("service_checks", {})[name] = {
        "expr": f"min by (instance) ({metric}{{{sel}}})", "group": ["instance"]}


def promql_string(s: str) -> str:
    """The body of a double-quoted PromQL string."""
    return str(s).replace("\\", "\\\\").replace('"', '\\"')


def default_job(kind: str, name: str, namespace: str, service: str = "") -> str:
    """The job label the Prometheus operator gives a scrape object's targets."""
    if kind == "ServiceMonitor":
        return service or name
    if kind == "ScrapeConfig":
        return f"scrapeConfig/{namespace}/{name}"
    return f"{namespace}/{name}"


SCRAPE_FOLDERS = {"ServiceMonitor": "scrape/servicemonitors", "PodMonitor": "scrape/podmonitors",
                  "Probe": "scrape/probes", "ScrapeConfig": "scrape/scrapeconfigs"}


def write_scrape(ctx: ConvertContext, item: CoverageItem, kind: str, name: str, spec: dict[str, Any],
                 labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Write one monitoring.coreos.com object under scrape/ and record it on the item."""
    all_labels = {"release": ctx.options.release_label, **(labels or {})}
    obj = k8s.monitoring(kind, name, spec, namespace=ctx.options.namespace, labels=all_labels,
                         annotations={"dd2prom/source": item.id[:250]})
    if kind == "ScrapeConfig":
        obj["apiVersion"] = "monitoring.coreos.com/v1alpha1"
    rel = ctx.out.write_k8s(f"{SCRAPE_FOLDERS[kind]}/{name}.yaml", obj)
    item.outputs.append(rel)
    item.extra["scrape_object"] = kind
    return obj


def apply_target_notes(item: CoverageItem, target: Target) -> None:
    for msg, status in target.notes:
        item.note(msg, status)


def scrape_target(ctx: ConvertContext, item: CoverageItem, rec: Record, target: Target, name: str,
                  endpoint: dict[str, Any]) -> dict[str, Any]:
    """ServiceMonitor, PodMonitor or ScrapeConfig for ``target``, with ``endpoint``'s
    common fields (interval, path, scheme, relabelings, auth)."""
    apply_target_notes(item, target)
    ns = target.namespace or "default"
    if target.kind == "service":
        svc = target.service or {}
        sel = {k: str(v) for k, v in (svc.get("labels") or {}).items()}
        if not sel:
            sel = {"app.kubernetes.io/name": k8s.label_value(svc.get("name", "")) or "app"}
            item.note(f"Service {svc.get('name')} has no labels for a ServiceMonitor to select; add the label "
                      f"app.kubernetes.io/name={sel['app.kubernetes.io/name']} to it.", Status.MANUAL)
        sp = svc.get("matched_port") or next((p for p in svc.get("ports") or [] if p.get("port") == target.port), None)
        ep = dict(endpoint)
        if sp and sp.get("name"):
            ep["port"] = sp["name"]
        else:
            ep["targetPort"] = (sp or {}).get("targetPort", target.port)
        spec = {"selector": {"matchLabels": sel}, "namespaceSelector": {"matchNames": [ns]}, "endpoints": [ep]}
        return write_scrape(ctx, item, "ServiceMonitor", name, spec)
    if target.kind == "pod":
        if target.port is None:
            raise NeedsManual("the check's URL names no port")
        ep = dict(endpoint)
        named = [p for p in (rec.get("k8s") or {}).get("ports") or []
                 if p.get("containerPort") == target.port and p.get("name")]
        if isinstance(target.port, str):
            ep["port"] = target.port
        elif named:
            ep["port"] = named[0]["name"]
        else:
            ep["portNumber"] = int(target.port)
        spec = {"selector": {"matchLabels": pod_selector(rec)}, "namespaceSelector": {"matchNames": [ns]},
                "podMetricsEndpoints": [ep]}
        return write_scrape(ctx, item, "PodMonitor", name, spec)
    spec = {"staticConfigs": [{"targets": [target.address]}], "scrapeInterval": endpoint.get("interval"),
            "metricsPath": endpoint.get("path", "/metrics"), "scheme": endpoint.get("scheme", "http").upper()}
    for src, dst in (("metricRelabelings", "metricRelabelings"), ("relabelings", "relabelings"),
                     ("tlsConfig", "tlsConfig"), ("basicAuth", "basicAuth"), ("authorization", "authorization")):
        if endpoint.get(src):
            spec[dst] = endpoint[src]
    item.note("A fixed host is scraped through a ScrapeConfig (monitoring.coreos.com/v1alpha1); the Prometheus "
              "resource must select it (scrapeConfigSelector).")
    return write_scrape(ctx, item, "ScrapeConfig", name, {k: v for k, v in spec.items() if v is not None})
