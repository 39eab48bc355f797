"""Recurring downtimes → Alertmanager ``time_intervals``.

An Alertmanager time interval selects times of day on weekdays, days of the
month, months and years, in a time zone. Each occurrence of the recurrence
is cut at midnights into pieces (an occurrence from Friday 22:00 lasting 10h
is Friday 22:00-24:00 and Saturday 00:00-08:00), each piece one interval.
What cannot be expressed (every 2nd week, hour rules) is unsupported, never
widened into muting more often.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dd2prom.convert.downtimes.downtime import WEEKDAYS, DowntimeError, Recurrence
from dd2prom.model import Status

DAY = 1440  # minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _pieces(rec: Recurrence) -> list[tuple[int, int, int]]:
    """(day offset, start minute, end minute) pieces of one occurrence."""
    start = rec.start.hour * 60 + rec.start.minute
    remaining = -(-int(rec.duration.total_seconds()) // 60)  # ceil: never end a mute early
    out, offset = [], 0
    while remaining > 0:
        end = min(DAY, start + remaining)
        out.append((offset, start, end))
        remaining -= end - start
        start, offset = 0, offset + 1
    return out


def _day_selector(rec: Recurrence) -> dict[str, list[Any]]:
    """Which days an occurrence starts on, as time-interval fields (strings)."""
    weekday = WEEKDAYS[rec.start.weekday()]
    if rec.freq == "DAILY":
        return {"weekdays": [d for _, d in rec.byday]} if rec.byday else {}
    if rec.freq == "WEEKLY":
        if any(n for n, _ in rec.byday):
            raise DowntimeError("A weekly recurrence with numbered weekdays is not valid.", Status.UNSUPPORTED)
        return {"weekdays": [d for _, d in rec.byday] or [weekday]}
    sel: dict[str, list[Any]] = {}
    if rec.freq == "YEARLY":
        sel["months"] = [str(m) for m in rec.bymonth or [rec.start.month]]
    if rec.byday:
        ordinals = {n for n, _ in rec.byday}
        if len(ordinals) > 1 or rec.bymonthday:
            raise DowntimeError("Mixed weekday ordinals or weekdays with month days cannot be expressed as "
                                "Alertmanager time intervals.", Status.UNSUPPORTED)
        n = ordinals.pop()
        sel["weekdays"] = [d for _, d in rec.byday]
        if n > 0:
            if n > 4:
                raise DowntimeError(f"The {n}th weekday of a month cannot be expressed.", Status.UNSUPPORTED)
            sel["days_of_month"] = [f"{(n - 1) * 7 + 1}:{n * 7}"]
        elif n == -1:
            sel["days_of_month"] = ["-7:-1"]
        elif n < 0:
            raise DowntimeError(f"The weekday ordinal {n} cannot be expressed.", Status.UNSUPPORTED)
        return sel
    sel["days_of_month"] = [str(d) for d in rec.bymonthday or [rec.start.day]]
    return sel


def _shift(sel: dict[str, list[Any]], offset: int) -> dict[str, list[Any]] | None:
    """The day selector ``offset`` days later; None when a month day would
    run past the month's end (or from the month's last days into the next)."""
    out = dict(sel)
    if "weekdays" in sel:
        out["weekdays"] = [WEEKDAYS[(WEEKDAYS.index(d) + offset) % 7] for d in sel["weekdays"]]
    if "days_of_month" in sel and offset:
        days = []
        for item in sel["days_of_month"]:
            bounds = [int(b) for b in str(item).split(":")]
            moved = [b + offset for b in bounds]
            if any((b > 0 and m > 28) or (b < 0 <= m) for b, m in zip(bounds, moved, strict=True)):
                return None
            days.append(":".join(str(m) for m in moved))
        out["days_of_month"] = days
    return out


def time_intervals(rec: Recurrence, now: datetime) -> tuple[list[dict[str, Any]], list[str], Status]:
    """The time intervals of one recurrence, the sentences on what differs and the status.
    Raises DowntimeError when it cannot be expressed."""
    notes: list[str] = []
    status = Status.EXACT
    if rec.interval != 1:
        unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[rec.freq]
        raise DowntimeError(f"The downtime recurs every {rec.interval} {unit}s; Alertmanager time intervals "
                            f"can only express every {unit}.", Status.UNSUPPORTED)
    if rec.unsupported:
        raise DowntimeError(f"Recurrence rule parts {', '.join(rec.unsupported)} cannot be expressed as "
                            "Alertmanager time intervals.", Status.UNSUPPORTED)
    if rec.duration.total_seconds() <= 0:
        raise DowntimeError("The recurring downtime lasts no time.")
    if rec.start.second or rec.duration.total_seconds() % 60:
        notes.append("Alertmanager time intervals have minute precision; the seconds are dropped.")
    sel = _day_selector(rec)
    intervals = []
    for offset, start, end in _pieces(rec):
        shifted = _shift(sel, offset)
        if shifted is None:
            notes.append(f"The part of each occurrence {offset} day(s) after its start would cross a month's "
                         "end, which Alertmanager days of month cannot follow; that part is not muted.")
            status = Status.APPROXIMATE
            continue
        interval: dict[str, Any] = {}
        if (start, end) != (0, DAY):
            interval["times"] = [{"start_time": _hhmm(start), "end_time": _hhmm(end)}]
        interval.update(shifted)
        interval["location"] = rec.tz
        if interval not in intervals:
            intervals.append(interval)
    if not intervals:
        raise DowntimeError("No part of the recurrence can be expressed.", Status.UNSUPPORTED)
    if rec.until is not None:
        notes.append(f"The recurrence ends on {rec.until.isoformat()}; Alertmanager time intervals have no end "
                     "date: remove the interval then.")
        status = Status.APPROXIMATE
    if rec.count is not None:
        notes.append(f"The recurrence ends after {rec.count} occurrences; Alertmanager time intervals have no "
                     "end: remove the interval then.")
        status = Status.APPROXIMATE
    if rec.start.replace(tzinfo=ZoneInfo(rec.tz)) > now:
        notes.append(f"The recurrence starts on {rec.start.isoformat()} ({rec.tz}); the time interval applies "
                     "from now on.")
        status = Status.APPROXIMATE
    return intervals, notes, status
