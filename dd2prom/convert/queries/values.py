"""The values passed around while generating: the evaluation settings
(:class:`Env`) and a generated expression with its output labels (:class:`Out`)."""

from __future__ import annotations

from dataclasses import dataclass

from dd2prom.convert.queries import ast


@dataclass(frozen=True)
class Env:
    """Evaluation settings passed down the tree."""

    target: str
    rate_window: str                 # window of rate() with no other window given
    count_window: str                # bucket of .as_count()/increase() with no other window
    range_window: str                # the whole evaluated range (top/bottom ranking)
    range_at_end: bool = False       # dashboards: rank over the range ending at the graph's end
    offset: int = 0                  # seconds, applied to every selector
    time_fn: str | None = None       # monitor time aggregation pushed into the series
    time_window: str | None = None
    counter_mode: str | None = None  # force "rate" (per_second...) on counters
    extra_matchers: tuple[tuple[str, str, str], ...] = ()
    step: str = "1m"                 # subquery resolution
    diff_seconds: int = 0            # diff() per series: value minus the value this long before
    diff_monotonic: bool = False


@dataclass
class Out:
    """Generated PromQL: ``labels`` None for a scalar, else the output labels."""

    text: str
    labels: tuple[str, ...] | None
    atomic: bool = True
    counter: bool = False           # reads a counter (for per_second and as_count arithmetic)
    metric: ast.MetricQuery | None = None
    tags: tuple[str, ...] | None = None   # the Datadog tags behind ``labels``, same order

    def paren(self) -> str:
        return self.text if self.atomic else f"({self.text})"
