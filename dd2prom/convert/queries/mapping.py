"""Mapping tables (mappings/*.yaml, data not code): Datadog metric →
Prometheus metric or PromQL template with types and unit factor, Datadog tag
→ Prometheus label. The shipped tables are merged with the user's own file
(``--mappings``), which overrides and extends them. Loaded tables are cached.

User file format (every key optional)::

    metrics:
      myapp.requests: {prometheus: http_requests_total, type: counter, datadog_type: count}
      myapp.queue_ms: {promql: 'myapp_queue_seconds * 1000'}
      myapp.cpu:      {prometheus: myapp_cpu_seconds_total, type: counter, scale: 100}
    tags:
      team: owner_team

An unmapped metric gets a deterministic name (see :func:`derived_name`).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Container

import yaml

from dd2prom.resources import mappings_dir
from dd2prom.emit.yamlio import yaml_problem

_LONG_KEYS = {"prometheus": "p", "type": "t", "prom_type": "t", "datadog_type": "d", "scale": "x",
              "note": "n", "source": "s"}
_PROM_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_TEMPLATE_TOKEN = re.compile(r'\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\]|\\.)*"|\{[^{}]*\}|\[[^\]]*\]'
                             r'|[A-Za-z_:][A-Za-z0-9_:]*|\s+|.', re.S)
_NOT_SELECTORS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
                  "and", "or", "unless", "inf", "nan", "sum", "avg", "min", "max", "count", "group",
                  "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values"}


@dataclass(frozen=True)
class MetricInfo:
    """How one Datadog metric reads in Prometheus."""

    datadog: str
    prom: str | None                 # metric (family) name; None when ``template`` is used
    prom_type: str                   # counter | gauge | histogram | summary
    dd_type: str                     # gauge | count | rate | distribution
    scale: float | None = None       # multiply the Prometheus value by this
    template: str | None = None      # PromQL with @ / [$W] / @B placeholders (see gen_mappings.py)
    note: str | None = None
    source: str = "shipped"
    mapped: bool = True

    @property
    def prom_metrics(self) -> list[str]:
        if self.prom:
            return [self.prom]
        return list(self._template_metrics)

    @functools.cached_property
    def _template_metrics(self) -> tuple[str, ...]:
        """The metrics a template reads (found once: an info serves every query of its metric)."""
        return tuple(sorted(set(re.findall(r"([A-Za-z_:][A-Za-z0-9_:]*)\{[^{}]*@\}", self.template or ""))))


_MAX_CACHED = 1 << 16   # (tag, metric) answers kept per table


@dataclass
class Mappings:
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    prefix_tags: dict[str, dict[str, str]] = field(default_factory=dict)
    not_carried: dict[str, set[str]] = field(default_factory=dict)
    joins: dict[str, dict[str, str]] = field(default_factory=dict)     # Datadog tag → join spec
    join_metrics: list[str] = field(default_factory=list)              # metric prefixes with pod labels
    no_pod_label: list[str] = field(default_factory=list)
    absent_ok: set[str] = field(default_factory=set)                   # tags often absent (one cluster per server)
    _cache: dict[str, MetricInfo] = field(default_factory=dict, repr=False)
    # unmapped metric → (its metadata, the metadata table, its MetricInfo), both by identity
    _derived: dict[str, tuple[Any, Any, MetricInfo]] = field(default_factory=dict, repr=False)
    _labels: dict[tuple[str, str | None], str] = field(default_factory=dict, repr=False)
    _needs_join: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)


def load_mappings(user_file: Path | None = None) -> Mappings:
    """Shipped tables merged with ``user_file`` (cached per file and mtime)."""
    key = None
    if user_file is not None:
        p = Path(user_file)
        key = (str(p.resolve()), p.stat().st_mtime if p.exists() else 0.0)
    return _load(key)


@functools.lru_cache(maxsize=16)
def _load(user_key: tuple[str, float] | None) -> Mappings:
    m = Mappings()
    base = mappings_dir()
    # generated integration maps, then hand-written tables (which win), then the user's
    for name in ("metrics.yaml", "integrations.yaml", "tags.yaml"):
        path = base / name
        if path.exists():
            _merge(m, _shipped_table(path.read_text()), source="shipped")
    if user_key is not None:
        try:
            doc = yaml.load(Path(user_key[0]).read_text(), Loader=_LOADER) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{user_key[0]}: not valid YAML ({yaml_problem(exc)})") from None
        if not isinstance(doc, dict):
            raise ValueError(f"{user_key[0]}: a mapping file is a YAML mapping with 'metrics:' and/or 'tags:'")
        for section, kind in _SECTIONS.items():
            if doc.get(section) is not None and not isinstance(doc[section], kind):
                raise ValueError(f"{user_key[0]}: '{section}:' must be a YAML {'list' if kind is list else 'mapping'}")
        _merge(m, doc, source=Path(user_key[0]).name)
    return m


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COMMENT_LINES = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*")


def _shipped_table(text: str) -> dict:
    """A shipped table's content. The generated metrics table is written in JSON,
    YAML's subset, which the standard library reads in a few milliseconds where
    PyYAML takes 0.16 s (at the start of every convert); the others are YAML."""
    body = text[_COMMENT_LINES.match(text).end():]
    if body.startswith("{"):
        try:
            return json.loads(body)
        except ValueError:
            pass
    return yaml.load(text, Loader=_LOADER) or {}
# the sections of a mapping file and the YAML type each must have (checked on the user's file)
_SECTIONS = {"metrics": dict, "tags": dict, "prefix_tags": dict, "joins": dict, "not_carried": dict,
             "join_metrics": list, "no_pod_label": list, "absent_ok": list}


def _merge(m: Mappings, doc: dict, source: str) -> None:
    for name, row in (doc.get("metrics") or {}).items():
        if isinstance(row, str):
            row = {"p": row}
        if not isinstance(row, dict):
            continue
        short = {_LONG_KEYS.get(k, k): v for k, v in row.items() if k != "promql"}
        if row.get("promql"):
            short["e"] = template(str(row["promql"]))
            short.pop("p", None)
        short.setdefault("s", source)
        m.metrics[str(name)] = short
    for tag, label in (doc.get("tags") or {}).items():
        m.tags[str(tag)] = sanitize_label(str(label))
    for prefix, table in (doc.get("prefix_tags") or {}).items():
        m.prefix_tags.setdefault(str(prefix), {}).update({str(k): sanitize_label(str(v)) for k, v in table.items()})
    for tag, spec in (doc.get("joins") or {}).items():
        if isinstance(spec, dict) and spec.get("label") and spec.get("promql"):
            m.joins[str(tag)] = {k: " ".join(str(v).split()) for k, v in spec.items()}
    m.join_metrics += [str(p) for p in doc.get("join_metrics") or []]
    m.no_pod_label += [str(p) for p in doc.get("no_pod_label") or []]
    m.absent_ok.update(str(t) for t in doc.get("absent_ok") or [])
    for prefix, tags in (doc.get("not_carried") or {}).items():
        m.not_carried.setdefault(str(prefix), set()).update(str(t) for t in tags or ())
    m._cache.clear()
    m._derived.clear()
    m._labels.clear()


def join_for_tag(mappings: Mappings, tag_key: str, metric: str) -> dict[str, str] | None:
    """The join that gives ``metric``'s pod-level series the label of ``tag_key``
    (from kube-state-metrics' owner metrics), or None."""
    spec = mappings.joins.get(tag_key)
    if spec is None or not metric.startswith(tuple(mappings.join_metrics)):
        return None
    if metric.startswith(tuple(mappings.no_pod_label)):
        return None
    return spec


def tag_needs_join(mappings: Mappings, tag_key: str, metric: str) -> bool:
    """Whether ``tag_key`` is known not to be a label of ``metric``'s series (and
    no join from :func:`join_for_tag` supplies it)."""
    key = (tag_key, metric)
    needs = mappings._needs_join.get(key)
    if needs is None:
        if tag_key in mappings.joins and metric.startswith(tuple(mappings.join_metrics)):
            needs = join_for_tag(mappings, tag_key, metric) is None
        else:
            needs = any(metric.startswith(prefix) and tag_key in tags
                        for prefix, tags in mappings.not_carried.items())
        if len(mappings._needs_join) >= _MAX_CACHED:
            mappings._needs_join.clear()
        mappings._needs_join[key] = needs
    return needs


def template(promql: str) -> str:
    """Mark selectors (``name{...,@}``), range windows (``[$W]``) and grouping
    lists (``by (...@B)``) in a PromQL expression so the generator can add
    the query's matchers, window and groups."""
    out: list[str] = []
    toks = [t.group() for t in _TEMPLATE_TOKEN.finditer(promql)]
    i = 0
    while i < len(toks):
        tok = toks[i]
        j = i + 1
        while j < len(toks) and toks[j].isspace():
            j += 1
        nxt = toks[j] if j < len(toks) else ""
        if _PROM_NAME.fullmatch(tok) and tok not in _NOT_SELECTORS and nxt != "(":
            if re.search(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*$", "".join(out)):
                out.append(tok)
                i += 1
                continue
            matchers = ""
            if nxt.startswith("{"):
                matchers = nxt[1:-1].strip()
                i = j
            out.append(f"{tok}{{{matchers + ',' if matchers else ''}@}}")
        elif tok.startswith("[") and tok.endswith("]") and ":" not in tok:
            out.append("[$W]")
        else:
            out.append(tok)
        i += 1
    text = "".join(out)
    text = re.sub(r"\b(by|on)\s*\(([^)]*)\)", lambda g: f"{g.group(1)} ({g.group(2)}@B)", text)
    # `x / count by (instance) (...)`: one side is not aggregated by the same
    # labels, so the match has to name them (a plain one-to-one match finds nothing)
    head, sep, tail = text.partition(" / count by (")
    if sep and "by (" not in head:
        labels = tail.split(")", 1)[0]
        text = f"{head} / on ({labels}) group_left count by ({tail}"
    return text


def sanitize_label(name: str) -> str:
    """A valid Prometheus label name: other characters become ``_``."""
    label = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    if label[0].isdigit():
        label = "_" + label
    if label.startswith("__"):
        label = "tag" + label
    return label


def label_for_tag(mappings: Mappings | None, tag_key: str, metric: str | None = None) -> str:
    """Prometheus label for a Datadog tag key (per-metric-prefix tables first)."""
    if mappings is None:
        mappings = load_mappings(None)
    key = (tag_key, metric)
    label = mappings._labels.get(key)
    if label is None:
        label = next((table[tag_key] for prefix, table in mappings.prefix_tags.items()
                      if metric and metric.startswith(prefix) and tag_key in table), None)
        label = label or mappings.tags.get(tag_key) or sanitize_label(tag_key)
        mappings._labels[key] = label
    return label


def derived_name(dd_metric: str, prom_type: str, siblings: Container[str] = ()) -> str:
    """The documented name of an unmapped metric: characters outside
    ``[A-Za-z0-9_:]`` become ``_``; histograms name the family (``_bucket``/``_sum``/
    ``_count`` are added by the reader). Counters end in ``_total`` after dropping a
    trailing ``.count``/``.total`` (OpenMetrics counters), except the parts of a
    histogram or summary: ``<base>.sum``, and ``<base>.count`` when ``<base>.sum``
    or ``<base>.bucket`` is a known metric (``siblings``), read as ``<base>_sum``/``_count``."""
    name = dd_metric
    suffix = ""
    if prom_type == "counter":
        base, _, last = dd_metric.rpartition(".")
        if last == "sum" or (last == "count" and (f"{base}.sum" in siblings or f"{base}.bucket" in siblings)):
            name, suffix = base, "_" + last
        else:
            name = re.sub(r"\.(count|total)$", "", name)
            suffix = "" if name.endswith("_total") else "_total"
    name = re.sub(r"[^A-Za-z0-9_:]", "_", name)
    if not name or name[0].isdigit():
        name = "_" + name
    return name + suffix


_DD_TO_PROM_TYPE = {"count": "counter", "rate": "counter", "distribution": "histogram", "gauge": "gauge"}


def prom_metric_for(mappings: Mappings | None, dd_metric: str, metadata: dict[str, Any] | None = None,
                    known: Container[str] = ()) -> MetricInfo:
    """Mapping info of ``dd_metric``; an unmapped one gets ``mapped=False``
    and a name from :func:`derived_name` with the type from ``metadata``."""
    if mappings is None:
        mappings = load_mappings(None)
    cached = mappings._cache.get(dd_metric)
    # a mapped metric's row does not depend on the metadata; a derived name may
    if cached is not None and (cached.mapped or (metadata is None and not known)):
        return cached
    row = mappings.metrics.get(dd_metric)
    if row is not None:
        info = MetricInfo(
            datadog=dd_metric, prom=row.get("p") if not row.get("e") else None,
            prom_type=str(row.get("t") or "gauge"), dd_type=str(row.get("d") or "gauge"),
            scale=float(row["x"]) if row.get("x") is not None else None,
            template=row.get("e"), note=row.get("n"), source=str(row.get("s") or "shipped"))
        mappings._cache[dd_metric] = info
        return info
    # an unmapped metric's name and type come from its metadata and its siblings in the
    # metadata table (snapshot metadata: read-only during a run, so remembered by identity)
    derived = mappings._derived.get(dd_metric)
    if derived is not None and derived[0] is metadata and derived[1] is known:
        return derived[2]
    dd_type = str((metadata or {}).get("type") or "").lower() or "gauge"
    prom_type = _DD_TO_PROM_TYPE.get(dd_type, "gauge")
    info = MetricInfo(datadog=dd_metric, prom=derived_name(dd_metric, prom_type, known), prom_type=prom_type,
                      dd_type=dd_type if dd_type in _DD_TO_PROM_TYPE else "gauge", source="derived",
                      mapped=False)
    if metadata is None and not known:
        mappings._cache[dd_metric] = info
    else:
        if len(mappings._derived) >= _MAX_CACHED:
            mappings._derived.clear()
        mappings._derived[dd_metric] = (metadata, known, info)
    return info
