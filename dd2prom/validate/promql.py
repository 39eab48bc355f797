"""PromQL syntax check in-process (promql-parser, the Rust parser of the
Prometheus grammar). ``promtool check rules`` remains the final word."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=65536)
def promql_error(expr: str) -> str | None:
    """None when ``expr`` parses as PromQL, else the parser's message."""
    if not isinstance(expr, str) or not expr.strip():
        return "empty PromQL expression"
    # Grafana's interval variables are not PromQL; substitute a duration to parse.
    probe = (expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
             .replace("$__range", "1h"))
    try:
        import promql_parser

        promql_parser.parse(probe)
    except Exception as exc:  # promql_parser raises ValueError; be broad, it is a validator
        return str(exc) or exc.__class__.__name__
    return None


def is_valid_promql(expr: str) -> bool:
    return promql_error(expr) is None
