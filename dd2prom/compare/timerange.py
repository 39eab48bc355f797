"""The time range and step of a comparison."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(text: str) -> int | None:
    """Seconds in a Prometheus/CLI duration: 90s, 5m, 1h30m, 6h, 2d, 1w."""
    text = text.strip()
    parts = re.findall(r"(\d+)(ms|[smhdwy])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return int(sum(int(n) * _UNITS[u] for n, u in parts))


def parse_time(text: str) -> int:
    """Unix seconds from unix seconds or RFC 3339 (``2026-11-27T10:00:00Z``)."""
    text = text.strip()
    try:
        return int(float(text))
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither unix seconds nor an RFC 3339 time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def resolve_range(last: str | None, start: str | None, end: str | None, now: float | None = None) -> tuple[int, int]:
    """(start, end) in unix seconds from --from/--to or --last ending at --to/now."""
    end_ts = parse_time(end) if end else int(now if now is not None else time.time())
    if start:
        start_ts = parse_time(start)
    else:
        span = parse_duration(last or "6h")
        if span is None:
            raise ValueError(f"--last {last!r} is not a duration like 30m, 6h or 2d")
        start_ts = end_ts - span
    if start_ts >= end_ts:
        raise ValueError("the start of the range must be before its end")
    return start_ts, end_ts


def default_step(start: int, end: int) -> int:
    """The step used when Datadog gave no rollup interval (no data): about 300
    points, a whole number of minutes at least 60 s."""
    return max(60, ((end - start) // 300) // 60 * 60)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
