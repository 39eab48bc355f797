"""Synthetics API tests → blackbox-exporter modules, one builder per subtype
(http, ssl, tcp, dns, icmp, grpc). Each builder returns the module, the probe
target and the assertions that become alert rules instead of module settings
(response time, certificate expiry)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dd2prom.convert.checks.blackbox import STANDARD_CODES
from dd2prom.convert.checks.common import number
from dd2prom.model import CoverageItem, Status

_VARIABLE = re.compile(r"\{\{\s*[A-Za-z0-9_]+\s*\}\}")


class Unsupported(Exception):
    """The test cannot be probed by the blackbox exporter."""


@dataclass
class Built:
    prober: str
    module: dict[str, Any]
    target: str
    max_duration: float | None = None          # seconds; from responseTime / latency assertions
    cert_days: list[tuple[str, float]] = field(default_factory=list)


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError) as exc:
        raise Unsupported(f"assertion target {v!r} is not a number") from exc


def _regex_for(op: str, target: Any) -> tuple[bool, str]:
    """(must_match, RE2 regex) for a text assertion; must_match False = must not match."""
    t = str(target)
    table = {"contains": (True, re.escape(t)), "doesNotContain": (False, re.escape(t)),
             "matches": (True, t), "doesNotMatch": (False, t),
             "is": (True, rf"\A{re.escape(t)}\z"), "isNot": (False, rf"\A{re.escape(t)}\z")}
    if op not in table:
        raise Unsupported(f"operator {op}")
    return table[op]


def _codes(op: str, target: Any) -> list[int] | None:
    if op == "is":
        return [int(_num(target))]
    if op in ("matches", "doesNotMatch"):
        rx = re.compile(str(target))
        return [c for c in STANDARD_CODES if bool(rx.fullmatch(str(c))) == (op == "matches")]
    compare = {"isNot": lambda c, t: c != t, "lessThan": lambda c, t: c < t,
               "lessThanOrEqual": lambda c, t: c <= t, "moreThan": lambda c, t: c > t,
               "moreThanOrEqual": lambda c, t: c >= t}
    if op not in compare:
        raise Unsupported(f"status code operator {op}")
    return [c for c in STANDARD_CODES if compare[op](c, int(_num(target)))]


def _duration(op: str, target: Any, what: str, item: CoverageItem) -> float:
    if op not in ("lessThan", "lessThanOrEqual"):
        raise Unsupported(f"{what} {op}")
    if op == "lessThanOrEqual":
        item.note(f"{what} ≤ {target} ms is alerted as ≥ {target} ms (a probe exactly at the limit alerts).",
                  Status.APPROXIMATE)
    return _num(target) / 1000


def _check_variables(item: CoverageItem, *texts: Any) -> None:
    for t in texts:
        if isinstance(t, str) and _VARIABLE.search(t):
            item.note(f"`{_VARIABLE.search(t).group()}` is a Datadog global/local variable, not resolved here; "
                      "substitute its value in blackbox.yml and the Probe.", Status.MANUAL)
            return


def _tls_options(test: dict[str, Any]) -> dict[str, Any]:
    opts = test.get("options") or {}
    insecure = bool(opts.get("accept_self_signed") or opts.get("allow_insecure"))
    req = (test.get("config") or {}).get("request") or {}
    tls: dict[str, Any] = {"insecure_skip_verify": insecure}
    if req.get("servername"):
        tls["server_name"] = str(req["servername"])
    return tls


def http(test: dict[str, Any], item: CoverageItem) -> Built:
    cfg = test.get("config") or {}
    req = cfg.get("request") or {}
    opts = test.get("options") or {}
    url = str(req.get("url") or "")
    if not url:
        raise Unsupported("the request has no URL")
    if req.get("query"):
        url += ("&" if "?" in url else "?") + urlencode(req["query"], doseq=True)
    h: dict[str, Any] = {"method": str(req.get("method") or "GET").upper()}
    if req.get("headers"):
        h["headers"] = {str(k): str(v) for k, v in req["headers"].items()}
    if req.get("body") not in (None, ""):
        h["body"] = str(req["body"])
    _check_variables(item, url, h.get("body"), *h.get("headers", {}).values())
    h["follow_redirects"] = bool(opts.get("follow_redirects", True))
    if url.startswith("https"):
        h["tls_config"] = _tls_options(test)
    version = str(opts.get("httpVersion") or "any")
    if version == "http1":
        h["valid_http_versions"] = ["HTTP/1.0", "HTTP/1.1"]
    elif version == "http2":
        h["valid_http_versions"] = ["HTTP/2.0"]
    if req.get("basicAuth"):
        kind = (req["basicAuth"] or {}).get("type", "web")
        if kind not in ("web", None):
            raise Unsupported(f"{kind} authentication")
        h["basic_auth"] = {"username": str(req["basicAuth"].get("username") or ""),
                           "password_file": f"/etc/blackbox/secrets/{test.get('public_id', 'test')}"}
        item.note("Basic auth: mount the password into the blackbox exporter at "
                  f"{h['basic_auth']['password_file']} (not copied).", Status.MANUAL)
    if req.get("certificate"):
        item.note("The test presents a client certificate; add it to the module's tls_config (cert_file/key_file).",
                  Status.MANUAL)
    if req.get("proxy"):
        item.note("The test went through a proxy; set proxy_url in the module if the exporter needs it too.",
                  Status.MANUAL)
    built = Built("http", {"http": h}, url)
    codes: list[int] | None = None
    for a in cfg.get("assertions") or []:
        typ, op, target = a.get("type"), a.get("operator"), a.get("target")
        try:
            if typ == "statusCode":
                new = _codes(op, target)
                codes = new if codes is None else [c for c in codes if c in new]
            elif typ == "body":
                must, rx = _regex_for(op, target)
                h.setdefault("fail_if_body_not_matches_regexp" if must else "fail_if_body_matches_regexp", []).append(rx)
            elif typ == "header":
                name = str(a.get("property") or "")
                if op == "doesNotExist":
                    h.setdefault("fail_if_header_matches", []).append({"header": name, "regexp": ".*"})
                else:
                    must, rx = _regex_for(op, target)
                    key = "fail_if_header_not_matches" if must else "fail_if_header_matches"
                    h.setdefault(key, []).append({"header": name, "regexp": rx, **({"allow_missing": True}
                                                                                   if not must else {})})
            elif typ == "responseTime":
                built.max_duration = _duration(op, target, "responseTime", item)
            elif typ == "certificate":
                built.cert_days.append(("critical", _cert_days(op, target)))
            else:
                raise Unsupported(f"{typ} assertions")
        except Unsupported as exc:
            item.note(f"Assertion {typ} {op} {target!r} has no blackbox equivalent ({exc}); it is not checked.",
                      Status.APPROXIMATE)
    if codes is None:  # Datadog only checks what is asserted: any status passes
        codes = list(STANDARD_CODES)
        item.note("The test asserts no status code: every status passes, as in Datadog "
                  "(the blackbox exporter alone would accept only 2xx).")
    if not codes:
        raise Unsupported("the status code assertions accept no code")
    h["valid_status_codes"] = codes
    return built


def _cert_days(op: str, target: Any) -> float:
    if op != "isInMoreThan":
        raise Unsupported(f"certificate {op}")
    return _num(target)


def _host_port(req: dict[str, Any], default_port: int | None) -> str:
    host = str(req.get("host") or "")
    if not host:
        raise Unsupported("the request has no host")
    port = req.get("port") or default_port
    if port in (None, ""):
        raise Unsupported("the request has no port")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def tcp(test: dict[str, Any], item: CoverageItem, *, tls: bool = False) -> Built:
    cfg = test.get("config") or {}
    req = cfg.get("request") or {}
    target = _host_port(req, 443 if tls else None)
    _check_variables(item, target)
    t: dict[str, Any] = {}
    if tls:
        t = {"tls": True, "tls_config": _tls_options(test)}
    built = Built("tcp", {"tcp": t} if t else {}, target)
    for a in cfg.get("assertions") or []:
        typ, op, target_v = a.get("type"), a.get("operator"), a.get("target")
        try:
            if typ in ("responseTime", "latency"):
                built.max_duration = _duration(op, target_v, typ, item)
            elif typ == "certificate" and tls:
                built.cert_days.append(("critical", _cert_days(op, target_v)))
            elif typ == "connection" and op == "is" and target_v == "established":
                pass  # the probe itself
            elif typ in ("tlsVersion", "minTlsVersion") and tls:
                version = {"1.0": "TLS10", "1.1": "TLS11", "1.2": "TLS12", "1.3": "TLS13"}.get(str(target_v))
                if not version or op not in ("is", "moreThanOrEqual") and typ == "tlsVersion":
                    raise Unsupported(f"{typ} {op} {target_v}")
                t["tls_config"]["min_version"] = version
                if typ == "tlsVersion" and op == "is":
                    t["tls_config"]["max_version"] = version
            else:
                raise Unsupported(f"{typ} assertions")
        except Unsupported as exc:
            item.note(f"Assertion {typ} {op} {target_v!r} has no blackbox equivalent ({exc}); it is not checked.",
                      Status.APPROXIMATE)
    return built


def ssl(test: dict[str, Any], item: CoverageItem) -> Built:
    return tcp(test, item, tls=True)


def dns(test: dict[str, Any], item: CoverageItem) -> Built:
    cfg = test.get("config") or {}
    req = cfg.get("request") or {}
    name = str(req.get("host") or "")
    if not name:
        raise Unsupported("the request has no host name to resolve")
    server = req.get("dnsServer")
    if not server:
        server = "kube-dns.kube-system.svc.cluster.local"
        item.note(f"The test used Datadog's resolver; the probe asks the cluster DNS ({server}).", Status.APPROXIMATE)
    d: dict[str, Any] = {"query_name": name, "query_type": "A"}
    built = Built("dns", {"dns": d}, f"{server}:{req.get('dnsServerPort') or 53}")
    types = set()
    for a in cfg.get("assertions") or []:
        typ, op, target = a.get("type"), a.get("operator"), a.get("target")
        try:
            if typ in ("recordEvery", "recordSome"):
                types.add(str(a.get("property") or "A").upper())
                must, rx = _regex_for(op, target)
                rrs = d.setdefault("validate_answer_rrs", {})
                if typ == "recordEvery":
                    rrs.setdefault("fail_if_not_matches_regexp" if must else "fail_if_matches_regexp", []).append(rx)
                elif must:
                    rrs.setdefault("fail_if_none_matches_regexp", []).append(rx)
                else:
                    rrs.setdefault("fail_if_all_match_regexp", []).append(rx)
            elif typ == "responseTime":
                built.max_duration = _duration(op, target, typ, item)
            else:
                raise Unsupported(f"{typ} assertions")
        except Unsupported as exc:
            item.note(f"Assertion {typ} {op} {target!r} has no blackbox equivalent ({exc}); it is not checked.",
                      Status.APPROXIMATE)
    if len(types) > 1:
        item.note(f"Assertions on several record types ({', '.join(sorted(types))}); the probe queries "
                  f"{sorted(types)[0]} only.", Status.APPROXIMATE)
    if types:
        d["query_type"] = sorted(types)[0]
    return built


def icmp(test: dict[str, Any], item: CoverageItem) -> Built:
    cfg = test.get("config") or {}
    req = cfg.get("request") or {}
    host = str(req.get("host") or "")
    if not host:
        raise Unsupported("the request has no host")
    built = Built("icmp", {}, host)
    item.note("The blackbox exporter needs CAP_NET_RAW (or ping_group_range) for ICMP probes.")
    if (number(req.get("numberOfPackets")) or 1) > 1:
        item.note(f"Datadog sent {req['numberOfPackets']} packets per run; the probe sends one.", Status.APPROXIMATE)
    for a in cfg.get("assertions") or []:
        typ, op, target = a.get("type"), a.get("operator"), a.get("target")
        if typ == "latency":
            built.max_duration = _duration(op, target, "latency", item)
            item.note("The latency assertion is checked on the probe's total duration.", Status.APPROXIMATE)
        else:
            item.note(f"Assertion {typ} {op} {target!r} has no blackbox equivalent; it is not checked.",
                      Status.APPROXIMATE)
    return built


def grpc(test: dict[str, Any], item: CoverageItem) -> Built:
    cfg = test.get("config") or {}
    req = cfg.get("request") or {}
    if str(req.get("callType") or "health") != "health":
        raise Unsupported("unary gRPC calls (only the health-check protocol is probed)")
    target = _host_port(req, None)
    g: dict[str, Any] = {"tls": False}
    if req.get("service"):
        g["service"] = str(req["service"])
    built = Built("grpc", {"grpc": g}, target)
    for a in cfg.get("assertions") or []:
        typ, op, t = a.get("type"), a.get("operator"), a.get("target")
        if typ == "grpcHealthcheckStatus" and op == "is" and str(t) in ("1", "SERVING"):
            continue  # the probe fails unless SERVING
        if typ == "responseTime":
            built.max_duration = _duration(op, t, typ, item)
            continue
        item.note(f"Assertion {typ} {op} {t!r} has no blackbox equivalent; it is not checked.", Status.APPROXIMATE)
    return built


BUILDERS = {"http": http, "ssl": ssl, "tcp": tcp, "dns": dns, "icmp": icmp, "grpc": grpc}
UNSUPPORTED = {
    "browser": "Browser tests drive a real browser through recorded steps; the blackbox exporter only sends "
               "single requests (consider Grafana k6 browser checks).",
    "mobile": "Mobile app tests have no Prometheus counterpart.",
    "multi": "Multistep API tests chain requests and variables; the blackbox exporter sends one request per probe.",
    "udp": "UDP tests send a payload and assert on the reply; the blackbox exporter has no UDP prober.",
    "websocket": "WebSocket tests have no blackbox-exporter prober.",
}
