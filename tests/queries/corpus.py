"""Every Datadog query of a snapshot-shaped folder (../shared/corpus):
monitor queries and dashboard widget requests (classic ``q`` strings and
formulas-and-functions ``queries`` + ``formulas``). Used by the corpus test
and bench/bench_translate.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


@dataclass
class CorpusQuery:
    source: str                      # file name
    kind: str                        # monitor | widget | formula
    query: str
    queries: dict[str, str] = field(default_factory=dict)   # formula: named queries


_METRIC_MONITORS = {"query alert", "metric alert"}


def iter_queries(root: Path) -> Iterator[CorpusQuery]:
    for path in sorted((root / "monitors").glob("*.json")):
        data = _load(path)
        if isinstance(data, dict) and data.get("type") in _METRIC_MONITORS and isinstance(data.get("query"), str):
            yield CorpusQuery(path.name, "monitor", data["query"])
    for path in sorted((root / "dashboards").glob("*.json")):
        data = _load(path)
        if isinstance(data, dict):
            yield from _widget_queries(path.name, data.get("widgets") or [])


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _widget_queries(source: str, widgets: list) -> Iterator[CorpusQuery]:
    for w in widgets:
        d = (w or {}).get("definition") or {}
        yield from _widget_queries(source, d.get("widgets") or [])
        requests = d.get("requests") or []
        if isinstance(requests, dict):       # query_value / hostmap style {"fill": {...}}
            requests = list(requests.values())
        for r in requests:
            if not isinstance(r, dict):
                continue
            if isinstance(r.get("q"), str):
                yield CorpusQuery(source, "widget", r["q"])
            metric_queries = {q.get("name"): q.get("query") for q in r.get("queries") or []
                              if isinstance(q, dict) and q.get("data_source", "metrics") == "metrics"
                              and isinstance(q.get("query"), str)}
            for f in r.get("formulas") or []:
                if isinstance(f, dict) and isinstance(f.get("formula"), str) and metric_queries:
                    names = [n for n in metric_queries if n and n in f["formula"]]
                    if names and len(names) == sum(1 for q in r.get("queries") or [] if q.get("name") in f["formula"]):
                        yield CorpusQuery(source, "formula", f["formula"], metric_queries)
