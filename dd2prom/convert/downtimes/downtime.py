"""A Datadog downtime read from either API shape into one value.

* v1 (GET /api/v1/downtime): ``scope`` list, ``monitor_id``, ``monitor_tags``,
  ``start``/``end`` epoch seconds, ``recurrence {type, period, week_days,
  until_date, until_occurrences, rrule}``, ``timezone``, ``canceled``, ``disabled``.
* v2 (GET /api/v2/downtime): ``data.attributes`` with a ``scope`` query string,
  ``monitor_identifier {monitor_id | monitor_tags}``, ``schedule`` either
  ``{start, end}`` (ISO 8601) or ``{recurrences: [{rrule, duration, start}], timezone}``,
  ``status`` and ``canceled``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dd2prom.model import Status

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RRULE_DAYS = {d[:2].upper(): d for d in WEEKDAYS}
_V1_DAYS = {d[:3].capitalize(): d for d in WEEKDAYS}
_V1_FREQ = {"days": "DAILY", "weeks": "WEEKLY", "months": "MONTHLY", "years": "YEARLY"}


class DowntimeError(ValueError):
    """The downtime cannot be converted; the message is the sentence for the
    ledger, ``status`` says why (malformed input or not expressible)."""

    def __init__(self, message: str, status: Status = Status.ERROR):
        super().__init__(message)
        self.status = status


@dataclass
class Recurrence:
    """One RRULE-like recurrence: occurrences start at ``start`` (local time in
    ``tz``) and the rule's later dates, each lasting ``duration``."""

    freq: str                                    # DAILY | WEEKLY | MONTHLY | YEARLY
    interval: int
    start: datetime                              # local, naive
    duration: timedelta
    tz: str
    byday: list[tuple[int, str]] = field(default_factory=list)   # (ordinal or 0, weekday name)
    bymonthday: list[int] = field(default_factory=list)
    bymonth: list[int] = field(default_factory=list)
    until: datetime | None = None                # UTC
    count: int | None = None
    unsupported: list[str] = field(default_factory=list)         # RRULE parts we cannot honour


@dataclass
class Downtime:
    id: str
    version: str                                 # "v1" | "v2"
    message: str
    scope: Any                                   # v1: list of "key:value"; v2: query string
    monitor_id: str | None
    monitor_tags: list[str]
    start: datetime | None                       # UTC (one-time downtimes)
    end: datetime | None                         # UTC, None = no end
    recurrences: list[Recurrence]
    canceled: bool
    mute_first_recovery: bool = False
    notify_end_states: list[str] | None = None   # v2: states notified when the downtime ends

    @property
    def kind(self) -> str:
        return "recurring" if self.recurrences else "one-time"


def _zone(name: str | None) -> str:
    name = name or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DowntimeError(f"Unknown timezone {name!r}.") from None
    return name


def _epoch(value: Any) -> datetime | None:
    if value in (None, "", 0):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError):
        raise DowntimeError(f"{value!r} is not a Unix time.") from None


def _iso(value: Any, tz: str = "UTC") -> datetime | None:
    """ISO 8601 → aware datetime (naive values are local time in ``tz``)."""
    if value in (None, ""):
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DowntimeError(f"{value!r} is not an ISO 8601 time.") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))


def parse_duration(text: str) -> timedelta:
    """Datadog recurrence durations: ``1h``, ``30m``, ``2d``, ``1w``, ``90s``."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", str(text))
    if not m:
        raise DowntimeError(f"Duration {text!r} is not a number and one of s, m, h, d, w.")
    return timedelta(seconds=int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)])


def parse_rrule(rule: str, start: datetime, duration: timedelta, tz: str) -> Recurrence:
    parts = dict(p.split("=", 1) for p in rule.replace("RRULE:", "").split(";") if "=" in p)
    rec = Recurrence(freq=parts.pop("FREQ", "").upper(), interval=int(parts.pop("INTERVAL", "1") or 1),
                     start=start, duration=duration, tz=tz)
    if rec.freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        raise DowntimeError(f"Recurrence frequency {rec.freq or '?'!r} is not daily, weekly, monthly or yearly.")
    for day in filter(None, parts.pop("BYDAY", "").split(",")):
        m = re.fullmatch(r"([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)", day.strip().upper())
        if not m:
            raise DowntimeError(f"BYDAY value {day!r} is not a weekday.")
        rec.byday.append((int(m.group(1) or 0), _RRULE_DAYS[m.group(2)]))
    rec.bymonthday = [int(d) for d in filter(None, parts.pop("BYMONTHDAY", "").split(","))]
    rec.bymonth = [int(d) for d in filter(None, parts.pop("BYMONTH", "").split(","))]
    if "UNTIL" in parts:
        until = parts.pop("UNTIL")
        fmt = "%Y%m%dT%H%M%SZ" if "T" in until else "%Y%m%d"
        try:
            rec.until = datetime.strptime(until, fmt).replace(tzinfo=UTC)
        except ValueError:
            raise DowntimeError(f"UNTIL value {until!r} is not a date.") from None
    if "COUNT" in parts:
        rec.count = int(parts.pop("COUNT"))
    parts.pop("WKST", None)
    rec.unsupported = [f"{k}={v}" for k, v in parts.items()]
    return rec


def _v1_recurrence(rec: dict[str, Any], start: datetime, end: datetime | None, tz: str) -> Recurrence:
    if end is None:
        raise DowntimeError("A recurring downtime needs an end for its first occurrence.")
    local = start.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    duration = end - start
    if rec.get("rrule"):
        out = parse_rrule(str(rec["rrule"]), local, duration, tz)
    else:
        freq = _V1_FREQ.get(str(rec.get("type") or ""))
        if freq is None:
            raise DowntimeError(f"Recurrence type {rec.get('type')!r} is not days, weeks, months or years.")
        out = Recurrence(freq=freq, interval=int(rec.get("period") or 1), start=local, duration=duration, tz=tz)
        out.byday = [(0, _V1_DAYS[d]) for d in rec.get("week_days") or [] if d in _V1_DAYS]
    if rec.get("until_date"):
        out.until = _epoch(rec["until_date"])
    if rec.get("until_occurrences"):
        out.count = int(rec["until_occurrences"])
    return out


def _v1(oid: str, d: dict[str, Any]) -> Downtime:
    tz = _zone(d.get("timezone"))
    start, end = _epoch(d.get("start")), _epoch(d.get("end"))
    recs = []
    if d.get("recurrence"):
        if start is None:
            raise DowntimeError("A recurring downtime needs a start.")
        recs = [_v1_recurrence(d["recurrence"], start, end, tz)]
    monitor_id = d.get("monitor_id")
    return Downtime(id=oid, version="v1", message=str(d.get("message") or ""), scope=d.get("scope") or ["*"],
                    monitor_id=str(monitor_id) if monitor_id not in (None, "") else None,
                    monitor_tags=[str(t) for t in d.get("monitor_tags") or []], start=start, end=end,
                    recurrences=recs, canceled=bool(d.get("canceled")) or bool(d.get("disabled")),
                    mute_first_recovery=d.get("mute_first_recovery_notification") is True)


def _v2(oid: str, attrs: dict[str, Any], now: datetime) -> Downtime:
    schedule = attrs.get("schedule") or {}
    tz = _zone(schedule.get("timezone") or attrs.get("display_timezone"))
    ident = attrs.get("monitor_identifier") or {}
    recs = []
    for r in schedule.get("recurrences") or []:
        start = _iso(r.get("start"), tz) or now   # no start: from when the downtime was created
        local = start.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        recs.append(parse_rrule(str(r.get("rrule") or ""), local, parse_duration(r.get("duration") or ""), tz))
    monitor_id = ident.get("monitor_id")
    return Downtime(id=oid, version="v2", message=str(attrs.get("message") or ""), scope=attrs.get("scope") or "*",
                    monitor_id=str(monitor_id) if monitor_id not in (None, "") else None,
                    monitor_tags=[str(t) for t in ident.get("monitor_tags") or []],
                    start=_iso(schedule.get("start")), end=_iso(schedule.get("end")), recurrences=recs,
                    canceled=bool(attrs.get("canceled")) or attrs.get("status") == "canceled",
                    mute_first_recovery=attrs.get("mute_first_recovery_notification") is True,
                    notify_end_states=attrs.get("notify_end_states")
                    if isinstance(attrs.get("notify_end_states"), list) else None)


def read(oid: str, data: dict[str, Any], now: datetime) -> Downtime:
    """Either API shape (v2 wrapped in ``data`` or not) → :class:`Downtime`;
    ``now`` stands for a recurrence start that was left to creation time."""
    body = data.get("data") if isinstance(data.get("data"), dict) else data
    if isinstance(body.get("attributes"), dict):
        return _v2(str(body.get("id") or oid), body["attributes"], now)
    return _v1(str(data.get("id") or oid), data)
