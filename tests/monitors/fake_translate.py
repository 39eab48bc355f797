"""A stand-in for the transpiler (contract of dd2prom.convert.queries.types) for
tests that must not depend on its progress: handles the simple monitor form
``agg(last_N):agg:metric{k:v,…} by {tags} cmp threshold`` and plain ``agg:metric{…} by {…}``."""

from __future__ import annotations

import re

from dd2prom.convert.queries.mapping import label_for_tag
from dd2prom.convert.queries.types import MonitorCondition, Translation
from dd2prom.model import Status

SIMPLE = re.compile(r"^(\w+):([\w.]+)\{([^}]*)\}(?:\s*by\s*\{([^}]*)\})?$")
MONITOR = re.compile(r"^(\w+)\(last_(\d+)([mhd])\):(.*?)\s*(>=|<=|>|<)\s*(-?[\d.]+)$")


def fake_translate(query, monitor=False, ctx=None):
    q = query.strip()
    head = MONITOR.match(q) if monitor else None
    inner = head.group(4).strip() if head else q
    m = SIMPLE.match(inner)
    if not m:
        return Translation(query=query, promql=None, status=Status.UNSUPPORTED, notes=["fake: not handled"])
    agg, metric, filters, by = m.groups()
    name = metric.replace(".", "_")
    matchers = []
    for f in filter(None, (x.strip() for x in filters.split(","))):
        if f != "*" and ":" in f:
            k, v = f.split(":", 1)
            matchers.append(f'{label_for_tag(None, k)}="{v}"')
    group = [label_for_tag(None, g.strip()) for g in (by or "").split(",") if g.strip()]
    sel = f"{name}{{{', '.join(matchers)}}}" if matchers else name
    if head:
        window = int(head.group(2)) * {"m": 60, "h": 3600, "d": 86400}[head.group(3)]
        unit = head.group(3)
        expr = f"{agg} by ({', '.join(group)}) ({head.group(1)}_over_time({sel}[{head.group(2)}{unit}]))"
        cond = MonitorCondition(head.group(1), window, expr, head.group(5), float(head.group(6)))
        return Translation(query=query, promql=f"{expr} {head.group(5)} {head.group(6)}", status=Status.EXACT,
                           metrics=[metric], prom_metrics=[name], group_by=group, monitor=cond)
    expr = f"{agg} by ({', '.join(group)}) ({sel})"
    return Translation(query=query, promql=expr, status=Status.EXACT, metrics=[metric], prom_metrics=[name],
                       group_by=group)
