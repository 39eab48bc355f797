"""What every SLO type shares: its identity labels, its objectives per
timeframe, and the error-ratio SLI the burn-rate layer is built on.

Datadog SLO JSON (GET /api/v1/slo) keeps targets in ``thresholds``
(``[{timeframe, target, warning}]``, percentages) and, in newer objects,
the primary one again as ``timeframe``/``target_threshold``/``warning_threshold``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dd2prom.model import Status

# Rolling timeframes Prometheus can compute as range windows ("custom" calendar
# windows have no Prometheus counterpart).
TIMEFRAMES = ("7d", "30d", "90d")
# The short windows the multi-window burn-rate alerts read (SRE workbook, ch. 5).
SHORT_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")

_DURATION_RE = re.compile(r"^(\d+)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> int | None:
    """``"30m"`` → 1800; None when it is not a single-unit Prometheus duration."""
    m = _DURATION_RE.match(str(text).strip())
    return int(m.group(1)) * _SECONDS[m.group(2)] if m else None


def fmt_number(value: float) -> str:
    """A float as PromQL/YAML reads it, without binary noise (0.0009999 → 0.001)."""
    return f"{value:.12g}"


@dataclass(frozen=True)
class Objective:
    timeframe: str           # 7d | 30d | 90d
    target: float            # percent, e.g. 99.9
    warning: float | None    # percent, or None

    @property
    def ratio(self) -> float:
        return round(self.target / 100.0, 12)

    @property
    def budget(self) -> float:
        """The error budget as a ratio: 1 - target."""
        return round(1.0 - self.target / 100.0, 12)


@dataclass
class SloSpec:
    id: str
    name: str
    type: str
    tags: list[str]
    description: str
    objectives: list[Objective]
    primary: Objective | None
    problems: list[tuple[str, Status]] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, str]:
        """Labels every recorded series of this SLO carries."""
        return {"dd_slo_id": self.id, "slo_name": self.name}

    @property
    def selector(self) -> str:
        return '{dd_slo_id="%s"}' % self.id.replace("\\", "\\\\").replace('"', '\\"')

    def objective(self, timeframe: str) -> Objective | None:
        return next((o for o in self.objectives if o.timeframe == timeframe), None)


def _percent(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if 0 < f < 100 else None


def parse_spec(slo_id: str, data: dict[str, Any]) -> SloSpec:
    """Read the common fields; problems (custom timeframes, bad targets) are
    collected as sentences, never raised."""
    problems: list[tuple[str, Status]] = []
    objectives: dict[str, Objective] = {}
    raw = list(data.get("thresholds")) if isinstance(data.get("thresholds"), list) else []
    if data.get("timeframe") and data.get("target_threshold") is not None:
        raw.append({"timeframe": data.get("timeframe"), "target": data.get("target_threshold"),
                    "warning": data.get("warning_threshold")})
    for t in raw:
        if not isinstance(t, dict):
            continue
        tf = str(t.get("timeframe") or "")
        target = _percent(t.get("target"))
        if tf not in TIMEFRAMES:
            problems.append((f"Timeframe {tf or '?'!r} is not a rolling 7d/30d/90d window; it has no "
                             "Prometheus counterpart and is left out.", Status.APPROXIMATE))
            continue
        if target is None:
            problems.append((f"Target {t.get('target')!r} of timeframe {tf} is not a percentage "
                             "between 0 and 100; left out.", Status.APPROXIMATE))
            continue
        objectives.setdefault(tf, Objective(tf, target, _percent(t.get("warning"))))
    ordered = [objectives[tf] for tf in TIMEFRAMES if tf in objectives]
    primary = objectives.get(str(data.get("timeframe") or "")) or objectives.get("30d") \
        or (ordered[0] if ordered else None)
    tags = [t for t in data.get("tags") or [] if isinstance(t, str)] if isinstance(data.get("tags"), list) else []
    return SloSpec(id=str(slo_id), name=str(data.get("name") or slo_id), type=str(data.get("type") or ""),
                   tags=tags, description=str(data.get("description") or ""),
                   objectives=ordered, primary=primary, problems=problems)


@dataclass
class Sli:
    """An SLI as error ratios over windows, plus the rules those read.

    ``ratios`` maps every window (short windows and SLO timeframes) to the
    PromQL of the error ratio (0 = all good, 1 = all bad) over that window.
    """

    base_rules: list[dict[str, Any]]
    ratios: dict[str, str]
    status: Status = Status.EXACT
    notes: list[str] = field(default_factory=list)
    base_interval: str | None = None        # evaluation interval of the base rules' group
    metrics: list[str] = field(default_factory=list)
    translations: list[dict[str, Any]] = field(default_factory=list)
    # monitor SLOs: labels of an ALERTS series the SLI counts (for promtool tests)
    alerts_labels: dict[str, str] | None = None


class SliError(Exception):
    """The SLI cannot be built; the message is the sentence for the ledger."""

    def __init__(self, message: str, status: Status = Status.UNSUPPORTED):
        super().__init__(message)
        self.status = status


def record(name: str, expr: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"record": name, "expr": expr, "labels": dict(labels)}


def ratio_name(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"
