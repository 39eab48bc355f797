"""Pair Datadog series with Prometheus series by their group labels.

A Datadog series is named by its group tags (``tag_set``: ``service:a``); a
Prometheus series by its labels. Each Datadog tag key becomes a Prometheus label
name (user ``--label-map`` first, then the transpiler's mapping tables, then the
name made label-safe), values compare case-insensitively (Datadog lowercases
tag values; an ``instance`` value loses its ``:port``). A Prometheus series is
keyed on those label names only, so labels
Datadog aggregated away show up as several Prometheus series sharing one key:
reported as *ambiguous*, since the PromQL keeps a dimension the query drops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dd2prom.compare.datadog_source import Series

Key = tuple[tuple[str, str], ...]

_BY_RE = re.compile(r"\bby\s*\{([^{}]*)\}")


def first_metric(query: str) -> str | None:
    """The metric of the first ``agg:metric{…}`` term of a Datadog query."""
    m = re.search(r"\b[a-z]+:([\w.]+)\s*\{", query or "")
    return m.group(1) if m else None


def group_tags(query: str) -> list[str]:
    """Tag keys of every ``by {…}`` clause of a Datadog query, in order."""
    out: list[str] = []
    for m in _BY_RE.finditer(query or ""):
        for tag in m.group(1).split(","):
            tag = tag.strip()
            if tag and tag not in out:
                out.append(tag)
    return out


def label_for_tag(tag: str, label_map: dict[str, str] | None = None, mappings: Any = None,
                  metric: str | None = None) -> str:
    if label_map and tag in label_map:
        return label_map[tag]
    try:
        from dd2prom.convert.queries import mapping

        mapped = mapping.label_for_tag(mappings, tag, metric)  # type: ignore[attr-defined]
        if mapped:
            return str(mapped)
    except (ImportError, AttributeError, TypeError):
        pass
    label = re.sub(r"[^a-zA-Z0-9_]", "_", tag)
    return "_" + label if label[:1].isdigit() else label


@dataclass
class Alignment:
    pairs: list[tuple[Key, Series, Series]] = field(default_factory=list)
    datadog_only: list[Key] = field(default_factory=list)
    prometheus_only: list[Key] = field(default_factory=list)
    ambiguous: list[Key] = field(default_factory=list)   # keys several Prometheus series share
    label_names: list[str] = field(default_factory=list)
    to_label: dict[str, str] = field(default_factory=dict)  # Datadog tag → Prometheus label

    def datadog_key(self, tags: dict[str, str]) -> Key:
        return key_of({self.to_label.get(t, t): v for t, v in tags.items()}, self.label_names)

    def prometheus_key(self, labels: dict[str, str]) -> Key:
        return key_of(labels, self.label_names)


def key_of(labels: dict[str, str], names: list[str]) -> Key:
    return tuple((n, _value(n, labels.get(n, ""))) for n in names)


def _value(label: str, value: str) -> str:
    """Datadog lowercases tag values; ``instance`` (Datadog's ``host``) carries a
    port in Prometheus that the host name does not."""
    value = str(value).lower()
    return re.sub(r":\d+$", "", value) if label == "instance" else value


def align(datadog: list[Series], prometheus: list[Series], tags: list[str],
          label_map: dict[str, str] | None = None, mappings: Any = None, metric: str | None = None) -> Alignment:
    """``tags``: the Datadog group tags (from the query and the response);
    ``metric``: the Datadog metric, for per-metric tag tables."""
    all_tags = list(tags)
    for s in datadog:
        all_tags += [t for t in s.labels if t not in all_tags]
    to_label = {t: label_for_tag(t, label_map, mappings, metric) for t in all_tags}
    names = sorted(set(to_label.values()))
    result = Alignment(label_names=names, to_label=to_label)

    dd_by_key = {result.datadog_key(s.labels): s for s in datadog}
    prom_by_key: dict[Key, Series] = {}
    for s in prometheus:
        k = result.prometheus_key(s.labels)
        if k in prom_by_key:
            if k not in result.ambiguous:
                result.ambiguous.append(k)
            continue
        prom_by_key[k] = s
    for k, s in dd_by_key.items():
        if k in prom_by_key:
            result.pairs.append((k, s, prom_by_key[k]))
        else:
            result.datadog_only.append(k)
    result.prometheus_only = [k for k in prom_by_key if k not in dd_by_key]
    return result


def key_text(key: Key) -> str:
    return "{" + ",".join(f'{n}="{v}"' for n, v in key) + "}" if key else "{}"
