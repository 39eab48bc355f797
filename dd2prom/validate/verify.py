"""`dd2prom verify DIR`: check a convert output folder with the real tools.

Checks, each a small function returning a :class:`CheckResult`:

* every PrometheusRule's groups pass ``promtool check rules``;
* every promtool unit test under ``prometheus/tests/`` passes ``promtool test rules``;
* ``alertmanager/alertmanager.yaml`` passes ``amtool check-config``;
* ``blackbox/blackbox.yml`` loads in the blackbox exporter (``--config.check``);
* every custom resource validates strictly against the CRD schemas;
* every PromQL expression in rules and Grafana dashboards parses.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from dd2prom.emit.yamlio import dump_yaml, load_yaml_all
from dd2prom.validate import tools
from dd2prom.validate.crd import find_crd_dir, validate_object
from dd2prom.validate.promql import promql_error


@dataclass
class CheckResult:
    name: str
    ok: bool
    skipped: bool = False
    details: list[str] = field(default_factory=list)
    checked: int = 0


def iter_k8s_objects(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.rglob("*.yaml")):
        if path.name == "kustomization.yaml" or "tests" in path.relative_to(root).parts[:2] and path.parent.name == "tests":
            continue
        try:
            docs = load_yaml_all(path.read_text(encoding="utf-8"))
        except Exception:
            continue
        for doc in docs:
            if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc:
                yield path, doc


def check_rules(root: Path) -> CheckResult:
    res = CheckResult("promtool check rules", True)
    rules = [(p, o) for p, o in iter_k8s_objects(root) if o.get("kind") == "PrometheusRule"]
    if not rules:
        res.skipped = True
        return res
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, (path, obj) in enumerate(rules):
            f = Path(tmp) / f"{i:05d}-{path.stem}.yaml"
            f.write_text(dump_yaml({"groups": (obj.get("spec") or {}).get("groups", [])}), encoding="utf-8")
            files.append(f)
            for group in (obj.get("spec") or {}).get("groups", []):
                for rule in group.get("rules", []):
                    err = promql_error(str(rule.get("expr", "")))
                    if err:
                        res.ok = False
                        res.details.append(f"{path.relative_to(root)}: {rule.get('alert') or rule.get('record')}: {err}")
        _run_batched(res, tools.promtool_check_rules, files, 200)
    return res


def check_rule_tests(root: Path) -> CheckResult:
    res = CheckResult("promtool test rules", True)
    tests = sorted((root / "prometheus" / "tests").glob("*.yaml")) if (root / "prometheus" / "tests").is_dir() else []
    if not tests:
        res.skipped = True
        return res
    _run_batched(res, tools.promtool_test_rules, tests, 100)
    return res


def _run_batched(res: CheckResult, tool: Callable[[list[Path]], tools.ToolResult], files: list[Path],
                 size: int) -> None:
    """Run a promtool command over the files in batches (one process per batch)."""
    for start in range(0, len(files), size):
        r = tool(files[start:start + size])
        if not r.ok:
            res.ok = False
            res.details.append(r.output.strip()[-4000:])
    res.checked = len(files)


def _check_one_file(name: str, f: Path, tool: Callable[[Path], tools.ToolResult]) -> CheckResult:
    """Run one real tool on one generated file (skipped when the file is absent)."""
    res = CheckResult(name, True)
    if not f.is_file():
        res.skipped = True
        return res
    r = tool(f)
    res.ok, res.checked = r.ok, 1
    if not r.ok:
        res.details.append(r.output.strip()[-4000:])
    return res


def check_alertmanager(root: Path) -> CheckResult:
    return _check_one_file("amtool check-config", root / "alertmanager" / "alertmanager.yaml",
                           tools.amtool_check_config)


def check_alertmanager_routes(root: Path) -> CheckResult:
    """Each converted monitor's labels reach exactly the receivers its @-mentions named."""
    res = CheckResult("amtool config routes test", True)
    config = root / "alertmanager" / "alertmanager.yaml"
    tests_file = root / "alertmanager" / "route-tests.yaml"
    if not (config.is_file() and tests_file.is_file()):
        res.skipped = True
        return res
    tests = (load_yaml_all(tests_file.read_text(encoding="utf-8")) or [{}])[0].get("tests", [])

    def run(test: dict[str, Any]) -> str | None:
        r = tools.amtool_routes_test(config, test["labels"])
        lines = [ln for ln in r.output.strip().splitlines() if ln and not ln.startswith("Warning:")]
        got = sorted(x for x in lines[0].split(",") if x) if r.ok and lines else []
        return None if r.ok and got == sorted(test["receivers"]) else \
            f"{test['labels']}: expected {test['receivers']}, amtool says {r.output.strip()[-300:]}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        for problem in pool.map(run, tests):
            if problem:
                res.ok = False
                res.details.append(problem)
    res.checked = len(tests)
    return res


def check_blackbox(root: Path) -> CheckResult:
    return _check_one_file("blackbox exporter --config.check", root / "blackbox" / "blackbox.yml",
                           tools.blackbox_check_config)


def _silence_errors(s: Any) -> list[str]:
    """What Alertmanager's API would reject in one silence (PostableSilence)."""
    import re
    from datetime import datetime

    if not isinstance(s, dict):
        return ["not an object"]
    errs = [f"{k}: missing" for k in ("matchers", "startsAt", "endsAt", "createdBy", "comment") if not s.get(k)]
    matchers = s.get("matchers") or []
    nonempty = False
    for m in matchers:
        if not isinstance(m, dict) or not m.get("name") or "value" not in m or "isRegex" not in m:
            errs.append(f"matcher {m!r}: needs name, value, isRegex")
            continue
        equal = m.get("isEqual", True)
        try:
            matches_empty = (re.fullmatch(m["value"], "") is not None) if m["isRegex"] else m["value"] == ""
        except re.error as exc:
            errs.append(f"matcher {m['name']}: invalid regex: {exc}")
            continue
        nonempty |= matches_empty != bool(equal)
    if matchers and not nonempty:
        errs.append("at least one matcher must not match the empty string")
    try:
        start, end = (datetime.fromisoformat(str(s.get(k)).replace("Z", "+00:00")) for k in ("startsAt", "endsAt"))
        if end <= start:
            errs.append("endsAt is not after startsAt")
    except ValueError as exc:
        errs.append(f"time: {exc}")
    return errs


def _json_files(res: CheckResult, folder: Path) -> Iterator[tuple[Path, Any]]:
    """The parsed ``*.json`` files of a folder; unparseable ones fail ``res``.
    No files marks the check skipped."""
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    res.skipped = not files
    for f in files:
        res.checked += 1
        try:
            yield f, json.loads(f.read_text(encoding="utf-8"))
        except ValueError as exc:
            res.ok = False
            res.details.append(f"{f.name}: invalid JSON: {exc}")


def check_silences(root: Path) -> CheckResult:
    """``alertmanager/silences/*.json``: arrays of silences ``amtool silence import`` and the v2 API accept."""
    res = CheckResult("Alertmanager silences", True)
    for f, doc in _json_files(res, root / "alertmanager" / "silences"):
        errs = [f"{f.name}[{i}]: {e}" for i, s in enumerate(doc) for e in _silence_errors(s)] \
            if isinstance(doc, list) else [f"{f.name}: expected a JSON array of silences"]
        res.ok = res.ok and not errs
        res.details += errs
    return res


def check_crds(root: Path, crd_dir: Path | None = None) -> CheckResult:
    res = CheckResult("CRD schemas (strict)", True)
    crd = find_crd_dir(crd_dir)
    if crd is None:
        res.skipped = True
        res.details.append("no prometheus-operator CRDs found (use --crd-dir or DD2PROM_CRD_DIR)")
        return res
    for path, obj in iter_k8s_objects(root):
        res.checked += 1
        for err in validate_object(obj, crd):
            res.ok = False
            res.details.append(f"{path.relative_to(root)}: {obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}: {err}")
    return res


def iter_exprs(node: Any, rules_only: bool = False) -> Iterator[str]:
    """Every PromQL ``expr`` string in a nested document (Grafana targets, or
    with ``rules_only`` the expressions of alerting and recording rules)."""
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str) and (not rules_only or "alert" in node or "record" in node):
            yield node["expr"]
        for v in node.values():
            yield from iter_exprs(v, rules_only)
    elif isinstance(node, list):
        for v in node:
            yield from iter_exprs(v, rules_only)


def check_dashboards(root: Path) -> CheckResult:
    res = CheckResult("Grafana dashboards (JSON, PromQL)", True)
    for f, dash in _json_files(res, root / "grafana" / "dashboards"):
        for expr in iter_exprs(dash.get("panels", [])):
            err = promql_error(expr)
            if err:
                res.ok = False
                res.details.append(f"{f.name}: {err}: {expr[:200]}")
    return res


CHECKS: list[Callable[..., CheckResult]] = [check_rules, check_rule_tests, check_alertmanager,
                                            check_alertmanager_routes, check_silences,
                                            check_blackbox, check_crds, check_dashboards]


def verify(root: Path | str, crd_dir: Path | None = None) -> list[CheckResult]:
    root = Path(root)
    results = []
    for check in CHECKS:
        if check is check_crds:
            results.append(check(root, crd_dir))
        else:
            results.append(check(root))
    return results
