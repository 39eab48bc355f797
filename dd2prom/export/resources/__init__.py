"""One module per exported Datadog resource type, in export order: metric
metadata comes after the objects whose queries name the metrics."""

from __future__ import annotations

from dd2prom.export.resources.base import Resource
from dd2prom.export.resources.dashboards import Dashboards
from dd2prom.export.resources.downtimes import Downtimes
from dd2prom.export.resources.metrics import Metrics
from dd2prom.export.resources.monitors import Monitors
from dd2prom.export.resources.slos import Slos
from dd2prom.export.resources.synthetics import Synthetics
from dd2prom.export.resources.usage import Usage

RESOURCES: dict[str, Resource] = {r.kind: r for r in (
    Monitors(), Dashboards(), Slos(), Synthetics(), Downtimes(), Metrics(), Usage())}

__all__ = ["RESOURCES", "Resource"]
