"""Validation of everything dd2prom emits: PromQL syntax, CRD schemas, and the
real Prometheus tools (promtool, amtool, blackbox exporter)."""
