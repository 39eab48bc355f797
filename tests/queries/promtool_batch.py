"""Check many PromQL expressions with one ``promtool check rules`` run."""

from __future__ import annotations

from pathlib import Path

from dd2prom.emit.yamlio import dump_yaml
from dd2prom.validate.tools import promtool_check_rules

# Grafana's variables are not PromQL: substitute what Grafana would
_GRAFANA = (("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "1h"))


def grafana_free(expr: str) -> str:
    for var, value in _GRAFANA:
        expr = expr.replace(var, value)
    return expr


def promtool_problems(exprs: list[str], tmp: Path) -> str | None:
    """None when promtool accepts every expression, else its output."""
    rules = [{"record": f"dd2prom:golden:{i}", "expr": grafana_free(e)} for i, e in enumerate(exprs)]
    path = tmp / "golden.rules.yaml"
    path.write_text(dump_yaml({"groups": [{"name": "golden", "rules": rules}]}))
    result = promtool_check_rules([path])
    return None if result.ok else result.output
