"""dd2prom: move monitors, dashboards, SLOs and agent checks from Datadog to Prometheus."""

__version__ = "0.1.0"
