"""A Datadog monitor as typed values: what every monitor family reads.

Parsing the JSON once here keeps the family converters small and makes every
option that changes meaning visible in one place (see :func:`option_notes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dd2prom.convert.queries.mapping import label_for_tag
from dd2prom.model import Status

LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# ``\bby`` as a look-behind after ``by``: the search then jumps to each "by"
# (a leading ``\b`` is tried at every position of the query)
BY_RE = re.compile(r"by(?<!\wby)\s*\{([^}]*)\}")


def label_name(tag_key: str, mappings: Any = None, metric: str | None = None) -> str:
    """A Prometheus label name for a Datadog tag key: the transpiler's tag
    table when it has one (so messages and labels agree with the queries),
    else the key with invalid characters replaced."""
    mapped = label_for_tag(mappings, tag_key, metric)
    if mapped and LABEL_RE.match(mapped):
        return mapped
    name = re.sub(r"[^a-zA-Z0-9_]", "_", tag_key.strip())
    if not name or name[0].isdigit():
        name = "_" + name
    return name


# ctx.shared key: snapshot monitor id → its tags as written (downtimes resolve
# ``monitor_tags`` with them; saves reading every monitor file again)
MONITOR_TAGS = "monitor_tags"
# ctx.shared key: (snapshot id, data) of every ``slo alert`` monitor, in snapshot
# order (the SLO stage reads them with their SLOs)
SLO_ALERT_MONITORS = "slo_alert_monitors"


def raw_tags(data: Any) -> list[str] | None:
    """A snapshot monitor's tags as strings (those :class:`MonitorSpec` keeps),
    None when it has no tag list."""
    if isinstance(data, dict) and isinstance(data.get("tags"), list):
        return [str(t) for t in data["tags"] if isinstance(t, (str, int))]
    return None


@dataclass(slots=True)
class Thresholds:
    critical: float | None = None
    warning: float | None = None
    critical_recovery: float | None = None
    warning_recovery: float | None = None
    ok: float | None = None

    def __reduce__(self) -> tuple:
        """Pickled as the constructor's arguments (see :meth:`MonitorSpec.__reduce__`)."""
        return Thresholds, (self.critical, self.warning, self.critical_recovery, self.warning_recovery, self.ok)


@dataclass(slots=True)
class MonitorSpec:
    key: str                      # ledger id (file stem or id)
    ref: str                      # the Datadog monitor id (what composites and synthetics name)
    name: str
    type: str
    query: str
    message: str
    tags: list[str]
    priority: int | None
    options: dict[str, Any]
    thresholds: Thresholds
    # a draft never notified in Datadog (the only other field read: the
    # snapshot's JSON is not kept, so specs are small to send to a worker)
    draft: bool = False

    def __reduce__(self) -> tuple:
        """Pickled as the constructor's arguments: a slotted dataclass's own
        state functions look its fields up on every call, and twenty thousand
        specs go to the worker processes."""
        return MonitorSpec, (self.key, self.ref, self.name, self.type, self.query, self.message, self.tags,
                             self.priority, self.options, self.thresholds, self.draft)

    @classmethod
    def parse(cls, key: str, data: dict[str, Any]) -> MonitorSpec:
        # (each field looked up once: every monitor is parsed in the parent)
        get = data.get
        options = get("options")
        options = options if isinstance(options, dict) else {}
        th = options.get("thresholds")
        th = th if isinstance(th, dict) else {}
        corpus = get("_corpus")
        ref = get("id") or (corpus.get("original_id") if isinstance(corpus, dict) else None) or key
        priority = get("priority")
        return cls(
            key=str(key), ref=str(ref), name=str(get("name") or ""), type=str(get("type") or ""),
            query=str(get("query") or ""), message=str(get("message") or ""),
            tags=raw_tags(data) or [],
            priority=int(priority) if isinstance(priority, (int, float)) and 1 <= priority <= 5 else None,
            options=options,
            thresholds=Thresholds(*[_num(th[k]) if k in th else None for k in _THRESHOLDS]),
            draft=get("draft_status") == "draft",
        )

    def tag_values(self, key: str) -> list[str]:
        return [t.split(":", 1)[1] for t in self.tags if ":" in t and t.split(":", 1)[0] == key]

    def owner(self, group_by_tag: str) -> str:
        """The team/service the monitor belongs to (rule group), '' when untagged:
        the first value of :meth:`tag_values` (looked for without splitting
        every tag; asked once per monitor, in the parent)."""
        for key in (group_by_tag, "team", "service"):
            if ":" in key:   # (no tag's key holds a colon: it ends at the first)
                continue
            prefix = key + ":"
            for t in self.tags:
                if t.startswith(prefix):
                    return t[len(prefix):]
        return ""

    @property
    def datadog_group_tags(self) -> list[str]:
        """The tags of every ``by {…}`` in the query (the multi-alert groups)."""
        out: list[str] = []
        for m in BY_RE.finditer(self.query):
            for t in m.group(1).split(","):
                t = t.strip()
                if t and t not in out:
                    out.append(t)
        return out

    def window_minutes_option(self, name: str) -> float | None:
        return _num(self.options.get(name))


_THRESHOLDS = ("critical", "warning", "critical_recovery", "warning_recovery", "ok")   # Thresholds' fields


def _num(v: Any) -> float | None:
    t = type(v)
    if t is float or t is int:   # (most values: the others as before)
        return float(v)
    if isinstance(v, bool) or v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def no_data_timeframe_seconds(spec: MonitorSpec, window_seconds: int, default: int | None = None) -> int | None:
    """Seconds of missing data after which Datadog notifies, or None when the
    monitor does not notify on missing data. Without ``no_data_timeframe``
    Datadog waits 2 × the window (``default`` for service checks: 24 h)."""
    missing = spec.options.get("on_missing_data")
    if missing is not None:   # replaces notify_no_data/no_data_timeframe: the window is the timeframe
        return (window_seconds or default or 600) if missing == "show_and_notify_no_data" else None
    if spec.options.get("notify_no_data") is not True:
        return None
    minutes = _num(spec.options.get("no_data_timeframe"))
    if minutes:
        return int(minutes * 60)
    if default:
        return default
    return 2 * window_seconds if window_seconds else 600


RENOTIFY_STATES = {"alert": "alert", "warn": "warn", "no data": "no_data"}


def renotify_states(spec: MonitorSpec) -> set[str]:
    """The rule states Datadog re-notifies every ``renotify_interval``: its
    ``renotify_statuses``, by default alert and no data (not warn)."""
    statuses = spec.options.get("renotify_statuses")
    if not isinstance(statuses, list) or not statuses:
        statuses = ["alert", "no data"]
    return {RENOTIFY_STATES[s] for s in statuses if s in RENOTIFY_STATES}


def counts_missing_as_zero(spec: MonitorSpec) -> bool:
    """A count query (``.as_count()``, ``sum(last_…)``, ``count(…)``): Datadog
    evaluates an empty window as 0 under ``on_missing_data: default``."""
    return ".as_count()" in spec.query or spec.query.lstrip().startswith(("sum(last", "count("))


def keeps_last_status(spec: MonitorSpec) -> bool:
    """Whether Datadog keeps a group's last status (alert stays alert) while its
    data is missing: legacy monitors without no-data notification, and
    ``on_missing_data: default`` for non-count queries. ``resolve`` resolves,
    ``show_no_data``/``show_and_notify_no_data`` leave the alert state."""
    missing = spec.options.get("on_missing_data")
    if missing is not None:
        return missing == "default" and not counts_missing_as_zero(spec)
    return spec.options.get("notify_no_data") is not True


def option_notes(spec: MonitorSpec, window_seconds: int) -> list[tuple[str, Status | None]]:
    """Options that Prometheus handles differently: a sentence each and the
    status they lower the item to (None = a fact, meaning kept)."""
    o = spec.options
    out: list[tuple[str, Status | None]] = []
    delay = _num(o.get("evaluation_delay"))
    if delay and delay > 0:
        if spec.type in ("metric alert", "query alert"):
            out.append((f"evaluation_delay {int(delay)}s: every selector reads data {int(delay)}s old "
                        "(PromQL offset), as Datadog delays the evaluation.", None))
        else:
            out.append((f"evaluation_delay {int(delay)}s is not applied to this monitor type: it evaluates "
                        "the latest samples.", Status.APPROXIMATE))
    if o.get("on_missing_data") == "default" and counts_missing_as_zero(spec) \
            and re.search(r"<=?\s*[-\d.]+\s*$", spec.query):
        out.append(("Datadog evaluates missing data as 0 for this sum/count below-threshold monitor; "
                    "Prometheus has no sample and does not alert.", Status.APPROXIMATE))
    occurrences = _num(o.get("renotify_occurrences"))
    if occurrences and _num(o.get("renotify_interval")):
        out.append((f"renotify_occurrences {occurrences:g}: Alertmanager repeats the notification until the "
                    "alert resolves, without a limit.", Status.APPROXIMATE))
    if o.get("silenced"):
        scopes = ", ".join(sorted(o["silenced"])) if isinstance(o["silenced"], dict) else str(o["silenced"])
        out.append((f"The monitor is muted in Datadog (silenced: {scopes}); its alerts notify here unless "
                    f"you add an Alertmanager silence (matcher dd_monitor_id=\"{spec.ref}\").", Status.APPROXIMATE))
    if spec.draft:
        out.append(("The monitor is a draft in Datadog (it never notified); here it is a live rule.",
                    Status.APPROXIMATE))
    if o.get("escalation_message"):
        out.append(("escalation_message is kept in the escalation_message annotation; Alertmanager "
                    "repeats the same notification rather than a different text.", None))
        if not _num(o.get("renotify_interval")):
            out.append(("escalation_message is never sent: the monitor has no renotify_interval.", None))
    return out
