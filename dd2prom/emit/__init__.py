"""Serialising what convert built: Kubernetes objects as YAML, Grafana
dashboards as JSON, all into a staging folder that replaces --out only when
the whole run is written (nothing half-written is ever left behind)."""
