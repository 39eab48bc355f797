"""Which alerts a downtime mutes, as matchers, and one-time downtimes as
Alertmanager silences (the JSON array ``amtool silence import`` reads and
the v2 API's ``POST /api/v2/silences`` body, one object at a time).

A scope is a boolean expression over tags; Alertmanager matchers are a
conjunction. A scope is brought to disjunctive normal form and each
conjunction becomes its own silence (or mute route): muting any of them is
muting the disjunction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Iterable

from dd2prom.convert.downtimes.downtime import Downtime, DowntimeError
from dd2prom.convert.downtimes.matchers import MONITOR_LABEL, Matcher, scope_matchers
from dd2prom.model import Status

Conjunctions = list[list[Matcher]]
CREATED_BY = "dd2prom"


def scope_dnf(scope: Any, mappings: Any = None) -> Conjunctions:
    """v1 list (every entry must hold) or v2 query string → conjunctions of matchers."""
    text = ",".join(str(e) for e in scope if str(e).strip() not in ("", "*")) if isinstance(scope, list) \
        else str(scope or "")
    try:
        return scope_matchers(text, mappings)
    except ValueError as exc:
        raise DowntimeError(f"The scope cannot be expressed as matchers: {exc}.", Status.UNSUPPORTED) from None


class TagIndex:
    """The snapshot's monitors by tag: a downtime's ``monitor_tags`` resolve with
    set lookups, not a scan of tens of thousands of monitors per downtime."""

    def __init__(self, monitor_tags: dict[str, list[str]]) -> None:
        # per tag its monitors as a set and as a list by id (numeric ids by value;
        # equal keys in snapshot order): a downtime's monitors come out in that
        # order without sorting thousands of ids again per downtime
        self.monitors = set(monitor_tags)
        self.by_tag: dict[str, tuple[set[str], list[str]]] = {}
        for mid in sorted(monitor_tags, key=_id_key):
            for t in monitor_tags[mid]:
                members, ordered = self.by_tag.setdefault(t, (set(), []))
                if mid not in members:
                    members.add(mid)
                    ordered.append(mid)

    def __contains__(self, mid: str) -> bool:
        return mid in self.monitors

    def tagged(self, tags: list[str]) -> list[str]:
        """The monitors carrying every one of ``tags``, by id."""
        found = sorted((self.by_tag.get(t, (set(), [])) for t in tags), key=lambda entry: len(entry[1]))
        fewest = found[0][1]
        for members, _ in found[1:]:
            fewest = [mid for mid in fewest if mid in members]
        return list(fewest)


def monitor_matchers(dt: Downtime, monitor_tags: TagIndex) -> tuple[list[Matcher] | None, list[str]]:
    """Matchers selecting the downtime's monitors (None: no monitor to mute)
    and sentences."""
    notes: list[str] = []
    if dt.monitor_id:
        if dt.monitor_id not in monitor_tags:
            notes.append(f"Monitor {dt.monitor_id} is not in the snapshot; the mute matches its alerts once it is "
                         "converted.")
        return [Matcher(MONITOR_LABEL, dt.monitor_id)], notes
    tags = [t for t in dt.monitor_tags if t != "*"]
    if not tags:
        return [Matcher(MONITOR_LABEL, ".+", regex=True)], notes
    ids = monitor_tags.tagged(tags)
    if not ids:
        notes.append(f"No monitor in the snapshot has all the tags {', '.join(tags)}; nothing to mute.")
        return None, notes
    notes.append(f"Monitor tags {', '.join(tags)} resolved to the monitors {', '.join(ids)} of the snapshot; "
                 "monitors tagged later are not muted.")
    # (re.escape leaves letters and digits as they are: ids usually are only that)
    alternatives = ids if all(map(str.isalnum, ids)) else [i if i.isalnum() else re.escape(i) for i in ids]
    return [Matcher(MONITOR_LABEL, "|".join(alternatives), regex=True)], notes


def _id_key(mid: str) -> tuple[int, str]:
    return (int(mid), "") if mid.isdecimal() else (1 << 62, mid)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def silences(dt: Downtime, conjunctions: Iterable[list[Matcher]], starts: datetime,
             ends: datetime) -> list[dict[str, Any]]:
    comment = f"Datadog downtime {dt.id}" + (f": {dt.message.strip()}" if dt.message.strip() else "")
    return [{"matchers": [m.silence() for m in ms], "startsAt": _iso(starts), "endsAt": _iso(ends),
             "createdBy": CREATED_BY, "comment": comment[:1000]} for ms in conjunctions]
