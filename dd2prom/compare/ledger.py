"""Which translations to compare, read from a convert output's coverage.json,
and how the comparison is written back to it.

coverage.json is built by several stages; every field is read defensively and an
item that lacks what a comparison needs becomes a *skipped* target with the
reason, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from dd2prom.compare.metrics import can_roll
from dd2prom.compare.timerange import parse_duration
from dd2prom.model import Status
from dd2prom.snapshot import atomic_write_json

# Monitor types whose query is a metric query Datadog's timeseries API can run.
METRIC_MONITOR_TYPES = {"metric alert", "query alert", ""}

_MONITOR_RE = re.compile(
    r"^\s*(?P<agg>[a-z_]+)\(\s*(?P<window>last_\w+)\s*\)\s*:\s*(?P<expr>.+?)\s*"
    r"(?P<cmp>>=|<=|==|!=|>|<)\s*(?P<thr>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$",
    re.S,
)
# Datadog template variables in a scope: {$env}, {$env.value}, {service:$svc}
_DD_VAR_RE = re.compile(r"\$[A-Za-z_][\w-]*(?:\.value)?")
# Grafana template variables left in dashboard PromQL
_GRAFANA_MATCHER_VAR_RE = re.compile(r'(\w+)\s*(=~|!~|=|!=)\s*"\$\{?\w+(?::\w+)?\}?"')
_GRAFANA_VAR_RE = re.compile(r"\$\{?(\w+)")
_MODEL_FUNC_RE = re.compile(r"\b(anomalies|forecast|outliers)\s*\(")
_LIMIT_RE = re.compile(r"^\s*(topk|bottomk)\s*\(\s*(\d+)\s*,(.*)\)\s*$", re.S)
_REDUCE_RE = re.compile(r"^\s*(avg|sum|min|max|count|last)_over_time\s*\(")


@dataclass
class MonitorSpec:
    """The Datadog side of a metric monitor's condition."""

    time_aggregation: str   # avg | sum | min | max | last | ...
    window_seconds: int
    comparator: str
    threshold: float


@dataclass
class Target:
    """One Datadog query and its PromQL to run side by side."""

    kind: str                      # monitor | widget
    item_id: str                   # coverage.json id of the item
    name: str = ""
    index: int = 0                 # query index within a widget
    datadog_query: str | None = None
    promql: str | None = None      # value expression (range query)
    alert_promql: str | None = None  # monitors: series present = the alert fires
    monitor: MonitorSpec | None = None
    # widgets showing one value per series over the whole range (query value,
    # toplist): the Prometheus *_over_time reduction, e.g. "avg"
    reduce: str | None = None
    limit_removed: str | None = None   # "topk(5, …)" left out: both sides compare every series
    skip: str | None = None        # why this target is not compared


def load_coverage(converted: Path) -> dict[str, Any]:
    path = Path(converted) / "coverage.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ValueError(f"{path} has no 'items' list")
    return data


def _field(item: dict[str, Any], name: str) -> Any:
    """A field written by ``CoverageItem.extra`` (merged into the item) or, from
    older writers, nested under ``extra``."""
    if name in item:
        return item[name]
    extra = item.get("extra")
    return extra.get(name) if isinstance(extra, dict) else None


def targets(coverage: dict[str, Any], only: str | None = None) -> Iterator[Target]:
    """Every monitor and widget translation in coverage.json, in file order."""
    kinds = {"monitors": "monitor", "widgets": "widget", "monitor": "monitor", "widget": "widget"}
    wanted = {kinds[only]} if only else {"monitor", "widget"}
    for item in coverage["items"]:
        if not isinstance(item, dict) or item.get("kind") not in wanted:
            continue
        if item["kind"] == "monitor":
            yield monitor_target(item)
        else:
            yield from widget_targets(item)


def monitor_target(item: dict[str, Any]) -> Target:
    t = Target("monitor", str(item.get("id", "")), str(item.get("name", "")))
    query, promql = _field(item, "query"), _field(item, "promql")
    mtype = str(item.get("type") or "").lower()
    if mtype not in METRIC_MONITOR_TYPES:
        t.skip = f"a {mtype} monitor has no metric timeseries to compare"
        return t
    if not isinstance(query, str) or not query.strip():
        t.skip = "coverage.json records no Datadog query for this monitor"
        return t
    if not isinstance(promql, str) or not promql.strip():
        t.skip = "coverage.json records no PromQL for this monitor (not translated)"
        return t
    m = _MONITOR_RE.match(query)
    if not m:
        t.skip = "the monitor query is not of the form 'agg(last_N):query <op> threshold'"
        return t
    if (func := model_function(m.group("expr"))):
        t.skip = f"{func}() monitors compare against a model Datadog fits, not the query's values"
        return t
    window = parse_window(m.group("window"))
    if window is None:
        t.skip = f"unknown monitor window {m.group('window')!r}"
        return t
    if not can_roll(m.group("agg")):
        t.skip = f"the monitor's {m.group('agg')}() time aggregation is not recomputed from Datadog's points"
        return t
    threshold = critical_threshold(item, float(m.group("thr")))
    t.monitor = MonitorSpec(m.group("agg"), window, m.group("cmp"), threshold)
    t.datadog_query = m.group("expr").strip()
    t.alert_promql = promql.strip()
    t.promql = strip_comparison(t.alert_promql)
    if t.promql is None:
        t.skip = "could not take the value side out of the alert expression"
    return t


def critical_threshold(item: dict[str, Any], from_query: float) -> float:
    thresholds = _field(item, "thresholds")
    if isinstance(thresholds, dict):
        value = thresholds.get("critical")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return from_query


def widget_targets(item: dict[str, Any]) -> Iterator[Target]:
    item_id, name = str(item.get("id", "")), str(item.get("name", ""))
    queries, promqls = _field(item, "queries"), _field(item, "promql")
    if isinstance(queries, str):
        queries = [queries]
    if isinstance(promqls, str):
        promqls = [promqls]
    if not isinstance(queries, list) or not queries:
        yield Target("widget", item_id, name, skip="coverage.json records no Datadog queries for this widget")
        return
    promqls = promqls if isinstance(promqls, list) else []
    for i, query in enumerate(queries):
        t = Target("widget", item_id, name, index=i)
        expr = promqls[i] if i < len(promqls) else None
        if str(item.get("type") or "") == "change":
            t.skip = "a change widget shows the difference between two periods, not the query's values"
        elif not isinstance(query, str) or ":" not in query:
            t.skip = "not a Datadog metric query (formulas, logs and APM queries are not compared)"
        elif not isinstance(expr, str) or not expr.strip():
            t.skip = "coverage.json records no PromQL for this query (not translated)"
        elif (func := model_function(query)):
            t.skip = f"Datadog's {func}() draws a model it fits to the data, which PromQL only approximates"
        else:
            t.datadog_query = strip_datadog_variables(query)
            expr, t.limit_removed = strip_limit(expr)
            t.promql, t.skip = fill_grafana_variables(expr)
            m = _REDUCE_RE.match(expr)
            if m and "__range" in expr:
                t.reduce = m.group(1)
        yield t


def model_function(query: str) -> str | None:
    """The anomaly/forecast/outlier function a Datadog query uses, if any."""
    m = _MODEL_FUNC_RE.search(query)
    return m.group(1) if m else None


def strip_limit(expr: str) -> tuple[str, str | None]:
    """``topk(5, X)`` → X: Grafana picks the top series at each step, Datadog over
    the range, so both sides are compared on every series instead."""
    m = _LIMIT_RE.match(expr)
    if not m or not _balanced(m.group(3)):
        return expr, None
    return m.group(3).strip(), f"{m.group(1)}({m.group(2)}, …)"


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    return depth == 0


def parse_window(text: str) -> int | None:
    """``last_5m`` → 300."""
    return parse_duration(text[len("last_"):]) if text.startswith("last_") else None


def strip_comparison(expr: str) -> str | None:
    """The left side of ``<value expr> <op> <number>``: what the monitor compares."""
    import promql_parser

    try:
        node = promql_parser.parse(expr)
    except Exception:
        return None
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    if not isinstance(node, promql_parser.BinaryExpr) or str(node.op) not in (">", "<", ">=", "<=", "==", "!="):
        return expr  # not a filter: the expression itself is the value
    if isinstance(node.rhs, promql_parser.NumberLiteral):
        m = re.match(r"^(.*\S)\s*(?:>=|<=|==|!=|>|<)\s*(?:bool\s+)?[-+]?[\d.eE+-]+\s*$", expr, re.S)
        return _unparen(m.group(1)) if m else str(node.lhs)
    return None


def _unparen(expr: str) -> str:
    expr = expr.strip()
    if expr.startswith("(") and expr.endswith(")"):
        depth = 0
        for i, c in enumerate(expr):
            depth += (c == "(") - (c == ")")
            if depth == 0 and i < len(expr) - 1:
                return expr
        return expr[1:-1].strip()
    return expr


def strip_datadog_variables(query: str) -> str:
    """Dashboard template variables select everything by default: ``{$env,a:b}``
    → ``{a:b}``, ``{$env}`` → ``{*}``."""

    def scope(m: re.Match[str]) -> str:
        parts = [p.strip() for p in m.group(1).split(",")]
        kept = [p for p in parts if p and not _DD_VAR_RE.search(p)]
        return "{" + (",".join(kept) or "*") + "}"

    return re.sub(r"\{([^{}]*)\}", scope, query)


def fill_grafana_variables(expr: str) -> tuple[str | None, str | None]:
    """PromQL with Grafana's variables as Prometheus can run it. The interval
    variables are left as placeholders that :func:`with_step` fills once the step
    is known; ``label="$var"`` matchers select everything."""
    expr = _GRAFANA_MATCHER_VAR_RE.sub(lambda m: f'{m.group(1)}=~".*"' if m.group(2) in ("=", "=~") else f'{m.group(1)}!~"^$"', expr)
    left = {v for v in _GRAFANA_VAR_RE.findall(expr) if v not in ("__interval", "__rate_interval", "__range")}
    if left:
        return None, f"the PromQL uses Grafana variables compare cannot fill: {', '.join(sorted(left))}"
    return expr, None


def with_step(expr: str, step: int, scrape_interval: int, range_seconds: int) -> str:
    """Grafana's interval variables for a panel drawn at ``step`` seconds:
    $__interval = step, $__rate_interval = max(step + scrape, 4 × scrape)."""
    rate_interval = max(step + scrape_interval, 4 * scrape_interval)
    return (expr.replace("${__rate_interval}", f"{rate_interval}s").replace("$__rate_interval", f"{rate_interval}s")
            .replace("${__interval}", f"{step}s").replace("$__interval", f"{step}s")
            .replace("${__range}", f"{range_seconds}s").replace("$__range", f"{range_seconds}s"))


# --------------------------------------------------------------------------- writing back

COMPARE_NOTE_PREFIX = "compare:"


def flag_items(converted: Path, results: list[dict[str, Any]], report_path: str) -> int:
    """Record each compared item's outcome in coverage.json: a ``compare``
    summary on every compared item, and on diverging ones a note sentence and a
    status of at least approximate. Re-running replaces the previous outcome
    (the status the item had before compare flagged it is restored first).
    Returns the number of items flagged."""
    path = Path(converted) / "coverage.json"
    coverage = load_coverage(converted)
    per_item: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        if r.get("verdict") != "skipped":
            per_item.setdefault((r["kind"], r["id"]), []).append(r)
    flagged = 0
    for item in coverage["items"]:
        if not isinstance(item, dict):
            continue
        key = (item.get("kind"), str(item.get("id")))
        if key not in per_item:
            continue
        previous = item.get("compare")
        if isinstance(previous, dict) and previous.get("status_before"):
            item["status"] = previous["status_before"]
        notes = [n for n in item.get("notes") or [] if not str(n).startswith(COMPARE_NOTE_PREFIX)]
        rows = per_item[key]
        bad = [r for r in rows if r["verdict"] in FLAGGED_VERDICTS]
        summary: dict[str, Any] = {
            "verdict": worst_verdict(r["verdict"] for r in rows),
            "file": report_path,
            "queries": [{k: r.get(k) for k in ("query_index", "verdict", "relative_error", "series", "decisions")} for r in rows],
        }
        if bad:
            flagged += 1
            before = item.get("status") if item.get("status") in {st.value for st in Status} else Status.EXACT.value
            summary["status_before"] = before
            item["status"] = Status.worst(Status(before), Status.APPROXIMATE).value
            notes.append(f"{COMPARE_NOTE_PREFIX} " + " ".join(r["headline"] for r in bad))
        item["notes"] = notes
        item["compare"] = summary
    atomic_write_json(path, coverage)
    return flagged


# verdicts, best first; the ones that mean the translation does not give Datadog's numbers are flagged
VERDICTS = ("match", "no_data", "skipped", "error", "missing", "diverges")
FLAGGED_VERDICTS = ("missing", "diverges")


def worst_verdict(verdicts: Any) -> str:
    found = list(verdicts)
    return max(found, key=VERDICTS.index) if found else "skipped"
