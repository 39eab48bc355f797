"""A stand-in transpiler for the dashboard tests: handles ``agg:metric{filters} by {tags}``
(optionally ``.as_count()`` / ``.as_rate()``) and arithmetic formulas over such
queries, so the dashboard code is tested on its own, whatever the real
transpiler supports. Anything else is reported unsupported, as the real one does."""

from __future__ import annotations

import re

from dd2prom.convert.queries.mapping import label_for_tag
from dd2prom.convert.queries.types import TranslateContext, Translation
from dd2prom.model import Status

QUERY = re.compile(r"(avg|sum|min|max):([\w.]+)\{([^}]*)\}(?:\s*by\s*\{([^}]*)\})?(\.as_count\(\)|\.as_rate\(\))?")


def translate(query: str, *, monitor: bool = False, ctx: TranslateContext | None = None) -> Translation:
    m = QUERY.fullmatch(query.strip())
    if not m:
        return Translation(query=query, promql=None, status=Status.UNSUPPORTED, notes=["fake: not a simple query"])
    agg, metric, filters, by, suffix = m.groups()
    variables = ctx.template_variables if ctx else {}
    matchers, labels = [], []
    for f in (x.strip() for x in filters.split(",")):
        if not f or f == "*":
            continue
        if f.startswith("$"):
            name = variables.get(f[1:], f[1:])
            label = label_for_tag(ctx.mappings if ctx else None,
                                  ctx.template_variable_tags.get(f[1:], f[1:]) if ctx else f[1:])
            matchers.append(f'{label}=~"${name}"')
            labels.append(label)
        elif ":" in f:
            k, v = f.split(":", 1)
            k = label_for_tag(ctx.mappings if ctx else None, k)
            matchers.append(f'{k}="{v}"')
            labels.append(k)
    prom = metric.replace(".", "_")
    sel = f"{prom}{{{', '.join(matchers)}}}"
    window = "$__interval" if ctx and ctx.target == "dashboard" else "5m"
    if suffix == ".as_count()":
        sel = f"increase({sel}[{window}])"
    elif suffix == ".as_rate()":
        sel = f"rate({sel}[{window}])"
    group = [label_for_tag(ctx.mappings if ctx else None, t.strip()) for t in (by or "").split(",") if t.strip()]
    expr = f"{agg} by ({', '.join(group)}) ({sel})" if group else f"{agg}({sel})"
    return Translation(query=query, promql=expr, status=Status.EXACT, metrics=[metric], prom_metrics=[prom],
                       labels=sorted(set(labels + group)), group_by=group)


def translate_formula(formula: str, queries: dict[str, str], *, ctx: TranslateContext | None = None) -> Translation:
    parts = {name: translate(q, ctx=ctx) for name, q in queries.items()}
    if not all(t.ok for t in parts.values()):
        return Translation(query=formula, promql=None, status=Status.UNSUPPORTED, notes=["fake: a query is unsupported"])
    expr = re.sub(r"\b([a-z]\w*)\b", lambda m: f"({parts[m.group(1)].promql})" if m.group(1) in parts else m.group(1),
                  formula)
    first = next(iter(parts.values()))
    return Translation(query=formula, promql=expr, status=Status.EXACT,
                       metrics=sorted({m for t in parts.values() for m in t.metrics}),
                       prom_metrics=sorted({m for t in parts.values() for m in t.prom_metrics}),
                       labels=sorted({lb for t in parts.values() for lb in t.labels}), group_by=first.group_by)
