"""PromQL text: numbers, durations, selectors, escaping, grouping clauses.
Shared by the generator and the function handlers."""

from __future__ import annotations

import re

MONTH_SECONDS = 28 * 86400
MIN_WINDOW_SECONDS = 60
MAX_SECONDS = 5 * 365 * 86400
# Datadog's host is the node name; Prometheus' instance may carry the scrape port
PORT_SUFFIX = "(:[0-9]+)?"


class Unsupported(Exception):
    """A construct with no PromQL equivalent (the message is the note)."""


OVER_TIME = {"avg": "avg_over_time", "sum": "sum_over_time", "min": "min_over_time", "max": "max_over_time",
             "count": "count_over_time", "last": "last_over_time", "median": "quantile_over_time"}


def over_time(fn: str, range_expr: str) -> str:
    """``<fn>_over_time(range)``; the median is the 0.5 quantile."""
    if fn == "median":
        return f"quantile_over_time(0.5, {range_expr})"
    return f"{OVER_TIME[fn]}({range_expr})"


def paren(text: str) -> str:
    return f"({text})" if " " in text else text


def by_clause(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(labels)}) " if labels else ""


def fmt_number(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def fmt_duration(seconds: float) -> str:
    if not 0 <= seconds <= MAX_SECONDS:
        raise Unsupported(f"A duration of {seconds:g} seconds is out of range.")
    seconds = max(int(seconds), 1)
    for unit, size in UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def duration_seconds(duration: str) -> int:
    """A PromQL duration (``5m``, ``1h30m``) in seconds; 60 for what is not one
    (a Grafana variable such as ``$__interval``)."""
    parts = re.findall(r"(\d+)(ms|[smhdwy])", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        return 60
    units = dict(UNITS, y=365 * 86400, ms=0)
    return sum(int(n) * units[u] for n, u in parts) or 60


def subquery_step(window_seconds: int) -> str:
    """Resolution of a subquery over a monitor window (Datadog's monitor
    rollup is of this order: one point per minute for windows up to a day).
    Never under a minute: the step is also the window of rate()/increase()
    inside the subquery, which needs two samples at common scrape intervals."""
    if window_seconds <= 86400:
        return "1m"
    if window_seconds <= 7 * 86400:
        return "5m"
    return "1h"


def matchers_text(matchers: list[tuple[str, str, str]]) -> str:
    return ",".join(f'{label}{op}"{escape_value(value)}"' for label, op, value in matchers)


def selector(name: str, matchers: list[tuple[str, str, str]]) -> str:
    text = matchers_text(matchers)
    return f"{name}{{{text}}}" if text else name


def escape_value(value: str) -> str:
    if '"' not in value and "\\" not in value and "\n" not in value:   # (most values)
        return value
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


REGEX_META = re.compile(r"([.^$|+?*()\[\]{}\\])")


def wildcard_pattern(value: str) -> str:
    """Datadog wildcard value (``*`` = any run of characters) → RE2 pattern
    (Prometheus anchors it); everything else matches literally."""
    return ".*".join(REGEX_META.sub(r"\\\1", part) for part in value.split("*"))
