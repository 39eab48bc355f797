"""Which Datadog metric names a snapshot's monitors, dashboards and SLOs read.

One function decides the names of one query (:func:`query_metrics`): the
transpiler's parser when it reads the query, else a regular expression over
the query text. Everything else only finds the metric queries inside objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

# a metric name directly followed by its scope: avg:system.cpu.user{env:prod}
_METRIC_RE = re.compile(r"(?<![\w.$])([A-Za-z][\w.]*)\s*\{")
_NOT_METRICS = {"by"}
METRIC_MONITOR_TYPES = {"metric alert", "query alert"}


@lru_cache(maxsize=65536)
def query_metrics(query: str, *, monitor: bool = False) -> frozenset[str]:
    """Metric names read by one Datadog metric query: the transpiler's parser
    (its AST's metric queries; the full translation is ~5x slower and not
    needed here) when it reads the query, else a regular expression."""
    try:
        from dd2prom.convert.queries import ast, parser

        tree: Any = parser.parse_monitor(query) if monitor else parser.parse_expressions(query)
        names = {node.metric for node in _walk(tree) if isinstance(node, ast.MetricQuery)}
    except Exception:  # parser absent or the query is beyond it: the text still names the metrics
        names = set()
    return frozenset(names or (m for m in _METRIC_RE.findall(query) if m not in _NOT_METRICS))


def _walk(node: Any) -> Iterator[Any]:
    """Every dataclass node under an AST (lists included)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(n)
        elif is_dataclass(n):
            yield n
            stack.extend(getattr(n, f.name) for f in fields(n))


def object_queries(kind: str, obj: Any) -> Iterator[tuple[str, bool]]:
    """(query, is_monitor_query) for every metric query inside one object:
    a metric monitor's ``query``; legacy widget requests' ``q``; formula
    queries with ``data_source: metrics``; SLO numerator/denominator."""
    if kind == "monitors" and isinstance(obj, dict) and obj.get("type") in METRIC_MONITOR_TYPES:
        if isinstance(obj.get("query"), str):
            yield obj["query"], True
    stack = [obj.get("options") if kind == "monitors" and isinstance(obj, dict) else obj]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("q"), str):
            yield node["q"], False
        if node.get("data_source") == "metrics" and isinstance(node.get("query"), str):
            yield node["query"], False
        for key in ("numerator", "denominator"):
            if isinstance(node.get(key), str):
                yield node[key], False
        stack.extend(v for v in node.values() if isinstance(v, (dict, list)))


def snapshot_metric_names(root: Path) -> set[str]:
    """Every metric name read by the objects in a snapshot folder."""
    names: set[str] = set()
    for kind in ("monitors", "dashboards", "slos"):
        for path in sorted((Path(root) / kind).glob("*.json")):
            try:
                obj = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for query, monitor in object_queries(kind, obj):
                names |= query_metrics(query, monitor=monitor)
    return names
