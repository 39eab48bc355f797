"""What a monitor family converter returns.

Every convertible family reduces its monitor to one *value* expression and a
comparison (``value cmp threshold``); the shared builder in
:mod:`dd2prom.convert.monitors.build` turns that into rules, annotations,
routes and tests, so thresholds, no-data, messages and routing are handled
once for all families.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dd2prom.model import Status


@dataclass
class Alerting:
    expr: str                          # PromQL of the value (left side, window applied)
    comparator: str                    # > >= < <= == !=
    group: list[str]                   # output labels of expr (multi-alert groups)
    window_seconds: int = 0
    status: Status = Status.EXACT
    notes: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)          # Datadog metrics read
    prom_metrics: list[str] = field(default_factory=list)
    query_threshold: float | None = None                      # threshold written in the query
    # thresholds fixed by the family (composite, synthetics…); None = the monitor's options
    critical: float | None = None
    warning: float | None = None
    for_seconds: int = 0
    # anomaly-style monitors: thresholds are fractions of this window the
    # condition must hold for (``for``), compared against ``bound``
    fraction_window: int = 0
    bound: float | None = None
    recovery_window: int = 0           # anomalies: recovers once no point of this window is anomalous
    # threshold monitors get generated promtool tests
    testable: bool = True
    # recorded as dd2prom:monitor_input first, so models read a stored series
    # over their history instead of re-evaluating the query in a subquery
    input_expr: str | None = None
    no_data: bool = True               # the family supports the no-data rule
    no_data_default: int | None = None  # Datadog's no_data_timeframe default when not 2 × the window


class NotConverted(Exception):
    """The monitor cannot be converted; carries the status and the reason."""

    def __init__(self, status: Status, reason: str, notes: list[str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.notes = notes or []
