"""Terraform modules (python-hcl2): datadog_monitor, datadog_dashboard_json,
datadog_service_level_objective, datadog_synthetics_test, datadog_downtime and
datadog_downtime_schedule resources, written to the snapshot in the API's JSON
shape.

Variable defaults (and terraform.tfvars / *.auto.tfvars), locals, ``path.module``,
references to other resources' ids, string interpolation and a few pure functions
(jsonencode, file, join, lower, upper, format, concat, merge, tostring, tonumber,
trimspace) are resolved. Anything else (count/for_each, conditionals, data
sources, modules) is reported per resource and the resource is not written.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import hcl2

from dd2prom.export.sources.records import parse_error
from dd2prom.snapshot import atomic_write_json, safe_filename


class Unresolved(Exception):
    """An expression this reader cannot evaluate without running Terraform."""


_HEREDOC = re.compile(r'^<<(-?)(\w+)\n(.*?)\n?[ \t]*\2$', re.S)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def _unquote_key(k: str) -> str:
    return k[1:-1] if len(k) >= 2 and k[0] == k[-1] == '"' else k


def _unescape(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and i + 5 < len(s):
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
                continue
        out.append(c)
        i += 1
    return "".join(out)


def _split_interpolations(t: str) -> list[tuple[bool, str]]:
    """[(is_expression, text)] of a template; ``$${`` is a literal ``${``."""
    parts: list[tuple[bool, str]] = []
    buf, i = [], 0
    while i < len(t):
        if t.startswith("$${", i) or t.startswith("%%{", i):
            buf.append(t[i + 1:i + 3])
            i += 3
        elif t.startswith("%{", i):
            raise Unresolved("template directives (%{...}) are not evaluated")
        elif t.startswith("${", i):
            depth, j, quote = 1, i + 2, False
            while j < len(t) and depth:
                ch = t[j]
                if ch == '"' and t[j - 1] != "\\":
                    quote = not quote
                elif not quote and ch == "{":
                    depth += 1
                elif not quote and ch == "}":
                    depth -= 1
                j += 1
            if depth:
                raise Unresolved(f"unbalanced interpolation in {t[i:i + 40]!r}")
            if buf:
                parts.append((False, "".join(buf)))
                buf = []
            parts.append((True, t[i + 2:j - 1]))
            i = j
        else:
            buf.append(t[i])
            i += 1
    if buf:
        parts.append((False, "".join(buf)))
    return parts


class Module:
    """One Terraform module folder: its variables, locals and resources."""

    def __init__(self, folder: Path, files: list[Path]):
        self.folder = folder
        self.variables: dict[str, Any] = {}
        self.locals_raw: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        self.resources: list[tuple[str, str, dict[str, Any], Path]] = []
        self.ids: dict[tuple[str, str], str] = {}
        self.errors: list[str] = []
        self._resolving: set[str] = set()
        for f in sorted(files):
            try:
                doc = hcl2.load(f.open(encoding="utf-8"))
            except Exception as exc:
                self.errors.append(f"{f}: not valid HCL ({parse_error(exc)})")
                continue
            for block in doc.get("variable", []):
                for name, body in block.items():
                    if name != "__is_block__":
                        self.variables[_unquote_key(name)] = body.get("default", _MISSING) if isinstance(body, dict) else _MISSING
            for block in doc.get("locals", []):
                self.locals_raw.update({k: v for k, v in block.items() if k != "__is_block__"})
            for block in doc.get("resource", []):
                for rtype, named in block.items():
                    for rname, body in (named or {}).items():
                        if rname != "__is_block__":
                            self.resources.append((_unquote_key(rtype), _unquote_key(rname), body, f))
        for tfvars in sorted([*folder.glob("terraform.tfvars"), *folder.glob("*.auto.tfvars")]):
            try:
                self.variables.update(hcl2.load(tfvars.open(encoding="utf-8")))
            except Exception as exc:
                self.errors.append(f"{tfvars}: not valid HCL ({parse_error(exc)})")

    # -- evaluation ----------------------------------------------------------
    def value(self, v: Any) -> Any:
        if isinstance(v, dict):
            return {_unquote_key(k): self.value(x) for k, x in v.items() if k != "__is_block__"}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, str):
            return self._string(v)
        return v

    def _string(self, s: str) -> Any:
        if s.startswith('"<<') and s.endswith('"'):
            m = _HEREDOC.match(s[1:-1])
            if m:
                body = textwrap.dedent(m.group(3)) if m.group(1) else m.group(3)
                return self._template(body + "\n")
        if len(s) >= 2 and s[0] == s[-1] == '"':
            return self._template(_unescape(s[1:-1]))
        parts = _split_interpolations(s) if s.startswith("${") else []
        if len(parts) == 1 and parts[0][0]:
            return self.expr(parts[0][1])
        return s  # a bare word (type constraints and the like)

    def _template(self, t: str) -> Any:
        parts = _split_interpolations(t)
        if len(parts) == 1 and parts[0][0]:
            return self.expr(parts[0][1])
        return "".join(self._stringify(self.expr(x)) if is_expr else x for is_expr, x in parts)

    @staticmethod
    def _stringify(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (dict, list)):
            raise Unresolved("a list or object cannot be interpolated into a string")
        return str(v)

    def expr(self, e: str) -> Any:
        e = e.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", e):
            return float(e) if "." in e else int(e)
        if e in ("true", "false"):
            return e == "true"
        if e == "null":
            return None
        if e == "path.module" or e == "path.root":
            return str(self.folder.resolve())
        m = re.fullmatch(r"var\.([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[[^\]]+\])*)", e)
        if m:
            if m.group(1) not in self.variables or self.variables[m.group(1)] is _MISSING:
                raise Unresolved(f"var.{m.group(1)} has no default and no tfvars value")
            return self._index(self.value(self.variables[m.group(1)]), m.group(2), e)
        m = re.fullmatch(r"local\.([A-Za-z_][\w-]*)((?:\.[A-Za-z_][\w-]*|\[[^\]]+\])*)", e)
        if m:
            return self._index(self._local(m.group(1)), m.group(2), e)
        m = re.fullmatch(r"(datadog_[a-z_]+)\.([A-Za-z_][\w-]*)\.id", e)
        if m and (m.group(1), m.group(2)) in self.ids:
            return self.ids[(m.group(1), m.group(2))]
        m = re.fullmatch(r"([a-z_]+)\((.*)\)", e, re.S)
        if m and m.group(1) in FUNCTIONS:
            args = self.value(hcl2.loads(f"x = [{m.group(2)}]\n")["x"])
            return FUNCTIONS[m.group(1)](self, *args)
        if e.startswith(("{", "[", '"')):
            try:
                parsed = hcl2.loads(f"x = {e}\n")["x"]
            except Exception as exc:
                raise Unresolved(f"cannot parse `{e[:60]}`") from exc
            return self.value(parsed)
        raise Unresolved(f"cannot evaluate `{e[:80]}` without running Terraform")

    def _index(self, v: Any, path: str, e: str) -> Any:
        for key in re.findall(r"\.([A-Za-z_][\w-]*)|\[([^\]]+)\]", path):
            k = key[0] or self.expr(key[1])
            try:
                v = v[int(k)] if isinstance(v, list) else v[k]
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise Unresolved(f"`{e}`: no element {k!r}") from exc
        return v

    def _local(self, name: str) -> Any:
        if name in self.locals:
            return self.locals[name]
        if name not in self.locals_raw:
            raise Unresolved(f"local.{name} is not defined")
        if name in self._resolving:
            raise Unresolved(f"local.{name} refers to itself")
        self._resolving.add(name)
        try:
            self.locals[name] = self.value(self.locals_raw[name])
        finally:
            self._resolving.discard(name)
        return self.locals[name]


_MISSING = object()


def _file(mod: Module, path: str) -> str:
    p = Path(path)
    p = p if p.is_absolute() else mod.folder / p
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise Unresolved(f"file({path!r}): {exc.strerror}") from exc


def _format(mod: Module, fmt: str, *args: Any) -> str:
    if re.search(r"%[^sdv%]", fmt):
        raise Unresolved(f"format({fmt!r}): only %s, %d and %v are evaluated")
    values = iter(args)
    return re.sub(r"%[sdv%]", lambda m: "%" if m.group() == "%%" else Module._stringify(next(values)), fmt)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": lambda mod, v: json.dumps(v, separators=(",", ":")),
    "jsondecode": lambda mod, s: json.loads(s),
    "file": _file,
    "join": lambda mod, sep, items: sep.join(Module._stringify(i) for i in items),
    "lower": lambda mod, s: str(s).lower(),
    "upper": lambda mod, s: str(s).upper(),
    "trimspace": lambda mod, s: str(s).strip(),
    "tostring": lambda mod, s: Module._stringify(s),
    "tonumber": lambda mod, s: float(s) if "." in str(s) else int(s),
    "format": _format,
    "concat": lambda mod, *lists: [x for lst in lists for x in lst],
    "merge": lambda mod, *maps: {k: v for m in maps for k, v in m.items()},
}


# -- resource → API JSON --------------------------------------------------------
def _block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The first nested block ``name`` (hcl2 gives blocks as lists of dicts)."""
    v = body.get(name)
    if isinstance(v, list):
        v = v[0] if v else {}
    return v if isinstance(v, dict) else {}


def _blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    v = body.get(name) or []
    return [b for b in (v if isinstance(v, list) else [v]) if isinstance(b, dict)]


def _num(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return float(v) if re.search(r"[.eE]", v) else int(v)
        except ValueError:
            return v
    return v


def _pick(src: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {api: src[tf] for tf, api in names.items() if tf in src and src[tf] is not None}


MONITOR_TOP = {"name": "name", "type": "type", "query": "query", "message": "message", "tags": "tags",
               "priority": "priority", "restricted_roles": "restricted_roles"}
MONITOR_OPTIONS = {k: k for k in (
    "escalation_message", "require_full_window", "notify_no_data", "no_data_timeframe", "renotify_interval",
    "renotify_occurrences", "renotify_statuses", "evaluation_delay", "new_group_delay", "new_host_delay",
    "include_tags", "notify_audit", "timeout_h", "notify_by", "on_missing_data", "group_retention_duration",
    "enable_logs_sample", "enable_samples", "notification_preset_name", "groupby_simple_monitor", "locked")}


def monitor(b: dict[str, Any]) -> dict[str, Any]:
    out = _pick(b, MONITOR_TOP)
    if "priority" in out:
        out["priority"] = _num(out["priority"])
    options = _pick(b, MONITOR_OPTIONS)
    thresholds = _block(b, "monitor_thresholds") or b.get("thresholds") or {}
    if thresholds:
        options["thresholds"] = {k: _num(v) for k, v in thresholds.items() if v not in (None, "")}
    windows = _block(b, "monitor_threshold_windows")
    if windows:
        options["threshold_windows"] = windows
    sched = _block(b, "scheduling_options")
    if sched:
        ew = _block(sched, "evaluation_window")
        options["scheduling_options"] = {"evaluation_window": ew} if ew else sched
    if "variables" in b:
        raise Unresolved("monitor `variables` blocks (formula and function queries) are not mapped")
    out["options"] = options
    return out


def slo(b: dict[str, Any]) -> dict[str, Any]:
    out = _pick(b, {k: k for k in ("name", "type", "description", "tags", "monitor_ids", "groups",
                                   "target_threshold", "warning_threshold", "timeframe")})
    out["thresholds"] = [{k: _num(v) for k, v in t.items()} for t in _blocks(b, "thresholds")]
    q = _block(b, "query")
    if q:
        out["query"] = {"numerator": q.get("numerator", ""), "denominator": q.get("denominator", "")}
    ts = _block(_block(b, "sli_specification"), "time_slice")
    if ts:
        tq = _block(ts, "query")
        out["sli_specification"] = {"time_slice": {
            "comparator": ts.get("comparator"), "threshold": _num(ts.get("threshold")),
            **({"query_interval_seconds": _num(ts["query_interval_seconds"])} if "query_interval_seconds" in ts else {}),
            "query": {
                "formulas": [{"formula": f.get("formula_expression")} for f in _blocks(tq, "formula")],
                "queries": [{"data_source": mq.get("data_source", "metrics"), "name": mq.get("name"),
                             "query": mq.get("query")}
                            for qb in _blocks(tq, "query") for mq in _blocks(qb, "metric_query")],
            }}}
    return out


REQUEST = {"method": "method", "url": "url", "body": "body", "timeout": "timeout", "host": "host", "port": "port",
           "dns_server": "dnsServer", "dns_server_port": "dnsServerPort", "number_of_packets": "numberOfPackets",
           "should_track_hops": "shouldTrackHops", "servername": "servername", "call_type": "callType",
           "service": "service", "message": "message", "no_saving_response_body": "noSavingResponseBody"}
SYN_OPTIONS = {"tick_every": "tick_every", "accept_self_signed": "accept_self_signed",
               "allow_insecure": "allow_insecure", "follow_redirects": "follow_redirects",
               "min_failure_duration": "min_failure_duration", "min_location_failed": "min_location_failed",
               "monitor_name": "monitor_name", "monitor_priority": "monitor_priority",
               "http_version": "httpVersion", "check_certificate_revocation": "checkCertificateRevocation"}


def synthetics_test(b: dict[str, Any]) -> dict[str, Any]:
    out = _pick(b, {k: k for k in ("name", "type", "subtype", "message", "tags", "locations", "status")})
    req = {api: _num(v) if api in ("port", "timeout", "dnsServerPort", "numberOfPackets") else v
           for api, v in _pick(_block(b, "request_definition"), REQUEST).items()}
    if b.get("request_headers"):
        req["headers"] = b["request_headers"]
    if b.get("request_query"):
        req["query"] = b["request_query"]
    auth = _block(b, "request_basicauth")
    if auth:
        req["basicAuth"] = auth
    if _block(b, "request_client_certificate"):
        req["certificate"] = {"cert": {"filename": "client certificate"}}
    assertions = []
    for a in _blocks(b, "assertion"):
        item = {k: (_num(v) if k == "target" else v) for k, v in a.items() if k not in ("targetjsonpath", "targetxpath")}
        jp = _block(a, "targetjsonpath")
        if jp:
            item["target"] = {"jsonPath": jp.get("jsonpath"), "operator": jp.get("operator"),
                              "targetValue": jp.get("targetvalue")}
        assertions.append(item)
    out["config"] = {"request": req, "assertions": assertions}
    if _blocks(b, "api_step") or _blocks(b, "browser_step"):
        out["config"]["steps"] = _blocks(b, "api_step") + _blocks(b, "browser_step")
    ol = _block(b, "options_list")
    options = {api: _num(v) for api, v in _pick(ol, SYN_OPTIONS).items()}
    retry = _block(ol, "retry")
    if retry:
        options["retry"] = {k: _num(v) for k, v in retry.items()}
    mo = _block(ol, "monitor_options")
    if mo:
        options["monitor_options"] = {k: _num(v) for k, v in mo.items()}
    out["options"] = options
    return out


def _epoch(v: Any) -> Any:
    if isinstance(v, str) and not v.isdigit():
        return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp())
    return _num(v)


def downtime(b: dict[str, Any]) -> dict[str, Any]:
    out = _pick(b, {k: k for k in ("scope", "monitor_id", "monitor_tags", "timezone", "message",
                                   "mute_first_recovery_notification", "start", "end")})
    for tf, api in (("start_date", "start"), ("end_date", "end")):
        if b.get(tf):
            out[api] = b[tf]
    for k in ("start", "end"):
        if k in out:
            out[k] = _epoch(out[k])
    rec = _block(b, "recurrence")
    if rec:
        out["recurrence"] = {k: _num(v) if k in ("period", "until_occurrences", "until_date") else v
                             for k, v in rec.items()}
    return out


def downtime_schedule(b: dict[str, Any]) -> dict[str, Any]:
    attrs = _pick(b, {k: k for k in ("scope", "message", "display_timezone", "mute_first_recovery_notification",
                                     "notify_end_states", "notify_end_types")})
    ident = _block(b, "monitor_identifier")
    attrs["monitor_identifier"] = ident
    one = _block(b, "one_time_schedule")
    rec = _block(b, "recurring_schedule")
    if one:
        attrs["schedule"] = one
    elif rec:
        attrs["schedule"] = {"recurrences": _blocks(rec, "recurrence"), "timezone": rec.get("timezone", "UTC")}
    return {"type": "downtime", "attributes": attrs}


def dashboard_json(b: dict[str, Any]) -> dict[str, Any]:
    text = b.get("dashboard")
    dash = json.loads(text) if isinstance(text, str) else text
    if not isinstance(dash, dict):
        raise Unresolved("`dashboard` is not a JSON object")
    return dash


# resource type → (snapshot folder, converter)
RESOURCES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "datadog_monitor": ("monitors", monitor),
    "datadog_dashboard_json": ("dashboards", dashboard_json),
    "datadog_service_level_objective": ("slos", slo),
    "datadog_synthetics_test": ("synthetics", synthetics_test),
    "datadog_downtime": ("downtimes", downtime),
    "datadog_downtime_schedule": ("downtimes", downtime_schedule),
}
NOT_IMPORTED = {"datadog_dashboard": "HCL widget blocks are not mapped; use datadog_dashboard_json or export "
                                     "the dashboard from the API"}


def import_module(folder: Path, files: list[Path], snapshot_dir: Path) -> list[str]:
    """Write the module's Datadog resources into the snapshot; one sentence per problem."""
    mod = Module(folder, files)
    errors = list(mod.errors)
    prefix = safe_filename(folder.resolve().name)
    for rtype, rname, _, _ in mod.resources:
        if rtype in RESOURCES:
            mod.ids[(rtype, rname)] = f"tf_{prefix}_{rname}"
    for rtype, rname, body, path in mod.resources:
        where = f"{path.name}: {rtype}.{rname}"
        if rtype in NOT_IMPORTED:
            errors.append(f"{where}: not imported: {NOT_IMPORTED[rtype]}")
            continue
        if rtype not in RESOURCES:
            continue
        folder_name, convert = RESOURCES[rtype]
        try:
            if "count" in body or "for_each" in body:
                raise Unresolved("count / for_each are not expanded; run `terraform show -json` and export "
                                 "from the API instead")
            obj = convert(mod.value(body))
        except Unresolved as exc:
            errors.append(f"{where}: not imported: {exc}")
            continue
        except Exception as exc:  # an attribute of unexpected shape: this resource only
            errors.append(f"{where}: not imported: {exc.__class__.__name__}: {' '.join(str(exc).split())[:160]}")
            continue
        oid = mod.ids[(rtype, rname)]
        obj.setdefault("public_id" if folder_name == "synthetics" else "id", oid)
        obj["_source"] = {"terraform": f"{path}", "resource": f"{rtype}.{rname}"}
        atomic_write_json(snapshot_dir / folder_name / f"{oid}.json", obj)
    return errors
