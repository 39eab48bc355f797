"""The numbers of a comparison: relative error between aligned points, and for
monitors whether the alert would have fired at each step on both sides."""

from __future__ import annotations

import operator
import statistics
from dataclasses import dataclass, field
from typing import Callable, Iterable

from dd2prom.compare.align import Key, key_text
from dd2prom.compare.datadog_source import Series

# Below this magnitude two values are both "zero".
_ZERO = 1e-12


# A point's error is relative to the point, but never to less than this share of
# the largest value of its series: a gauge that swings from 0 to 100 is not
# 20 % off because it reads 0.6 instead of 0.5 near its bottom.
SERIES_FLOOR = 0.01


def relative_error(prom: float, dd: float, floor: float = 0.0) -> float:
    """|p − d| / max(|p|, |d|, floor): symmetric, 0 when both are zero, at most 1
    when the signs agree and 2 when they do not (a zero against a non-zero is 1)."""
    scale = max(abs(prom), abs(dd), floor)
    return 0.0 if scale < _ZERO else abs(prom - dd) / scale


@dataclass
class ValueStats:
    compared: int = 0
    missing_in_prometheus: int = 0   # Datadog points with no Prometheus value at that step
    missing_in_datadog: int = 0
    median: float | None = None      # over every compared point
    max: float | None = None
    worst_series: str | None = None  # where the max is
    worst_at: int | None = None
    # the series whose own median error is highest: one wrong series among many
    # does not move the overall median, it moves this
    worst_series_median: float | None = None
    worst_median_series: str | None = None


def value_stats(pairs: Iterable[tuple[Key, Series, Series]]) -> ValueStats:
    """Relative errors over every timestamp both sides of a pair have a value."""
    stats = ValueStats()
    errors: list[float] = []
    for key, dd, prom in pairs:
        series_errors = []
        floor = SERIES_FLOOR * max((abs(v) for v in (*dd.points.values(), *prom.points.values())), default=0.0)
        for ts, d in dd.points.items():
            p = prom.points.get(ts)
            if p is None:
                stats.missing_in_prometheus += 1
                continue
            err = relative_error(p, d, floor)
            series_errors.append(err)
            if stats.max is None or err > stats.max:
                stats.max, stats.worst_series, stats.worst_at = err, key_text(key), ts
        stats.missing_in_datadog += sum(1 for ts in prom.points if ts not in dd.points)
        if series_errors:
            median = statistics.median(series_errors)
            if stats.worst_series_median is None or median > stats.worst_series_median:
                stats.worst_series_median, stats.worst_median_series = median, key_text(key)
        errors += series_errors
    stats.compared = len(errors)
    if errors:
        stats.median = statistics.median(errors)
    return stats


_AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "avg": statistics.fmean,
    "sum": sum,
    "min": min,
    "max": max,
    "last": lambda values: values[-1],
}

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}


def can_roll(time_aggregation: str) -> bool:
    return time_aggregation in _AGGREGATIONS


def reduce_values(aggregation: str, values: list[float]) -> float:
    """One value from a series' points in time order (a query value widget)."""
    return float(len(values)) if aggregation == "count" else _AGGREGATIONS[aggregation](values)


def rolling(points: dict[int, float], window: int, time_aggregation: str, step: int) -> dict[int, float]:
    """What a Datadog monitor sees at each bucket end T: the time aggregation of
    the buckets ending in (T − window, T]. Steps before a full window of data are
    left out (as 'require a full window' does)."""
    agg = _AGGREGATIONS[time_aggregation]
    times = sorted(points)
    if not times:
        return {}
    first = times[0] - step          # start of the first bucket
    out: dict[int, float] = {}
    lo = 0
    for hi, t in enumerate(times):
        if t - window < first:
            continue
        while times[lo] <= t - window:
            lo += 1
        out[t] = agg([points[x] for x in times[lo:hi + 1]])
    return out


@dataclass
class DecisionStats:
    steps: int = 0
    agree: int = 0
    fired_datadog: int = 0
    fired_prometheus: int = 0
    only_datadog: int = 0          # steps Datadog fires and Prometheus does not
    only_prometheus: int = 0
    # disagreements within one step of a change of Datadog's decision: the two
    # systems crossing the threshold a step apart, a timing and not a meaning difference
    at_crossings: int = 0
    first_disagreement: int | None = None
    # series that fire on one side only, over the whole range
    never_in_prometheus: list[str] = field(default_factory=list)
    never_in_datadog: list[str] = field(default_factory=list)

    @property
    def disagreement(self) -> float:
        """Share of steps whose decisions differ away from threshold crossings."""
        return (self.steps - self.agree - self.at_crossings) / self.steps if self.steps else 0.0

    def to_json(self) -> dict:
        d = dict(self.__dict__)
        d["disagreement"] = self.disagreement
        return d


def decision_stats(datadog_values: dict[Key, dict[int, float]], prometheus_fired: dict[Key, set[int]],
                   comparator: str, threshold: float) -> DecisionStats:
    """Per series and step: Datadog fires when its rolled value passes the
    threshold; Prometheus fires when the alert expression returns that series.
    Steps are the ones Datadog has a full window for; a series only Prometheus
    returns counts at those steps too."""
    compare = COMPARATORS[comparator]
    steps = sorted({t for values in datadog_values.values() for t in values})
    stats = DecisionStats()
    for key in sorted(set(datadog_values) | set(prometheus_fired)):
        values = datadog_values.get(key, {})
        fired = prometheus_fired.get(key, set())
        dd_decisions = [t in values and compare(values[t], threshold) for t in steps]
        dd_any = prom_any = False
        for i, t in enumerate(steps):
            dd_fires, prom_fires = dd_decisions[i], t in fired
            if t not in values and not prom_fires:
                continue
            dd_any, prom_any = dd_any or dd_fires, prom_any or prom_fires
            stats.steps += 1
            stats.fired_datadog += dd_fires
            stats.fired_prometheus += prom_fires
            if dd_fires == prom_fires:
                stats.agree += 1
                continue
            stats.only_datadog += dd_fires
            stats.only_prometheus += prom_fires
            if dd_decisions[max(i - 1, 0):i + 2] != [dd_fires] * len(dd_decisions[max(i - 1, 0):i + 2]):
                stats.at_crossings += 1
            if stats.first_disagreement is None or t < stats.first_disagreement:
                stats.first_disagreement = t
        if dd_any and not prom_any:
            stats.never_in_prometheus.append(key_text(key))
        if prom_any and not dd_any:
            stats.never_in_datadog.append(key_text(key))
    return stats
