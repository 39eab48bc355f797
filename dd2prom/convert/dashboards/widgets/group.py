"""group and powerpack → Grafana rows; split_group → one panel.

A group (or a powerpack, a reusable group) becomes a row holding its widgets,
collapsed if the group was. Grafana rows do not nest and span the full width:
layout.py stacks side-by-side groups and flattens groups inside groups.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, dicts, obj
from dd2prom.model import CoverageItem, Status

CONTAINERS = ("group", "powerpack")


def children(definition: dict[str, Any]) -> list[dict[str, Any]]:
    widgets = definition.get("widgets")
    return [w for w in widgets if isinstance(w, dict)] if isinstance(widgets, list) else []


def row(wc: WidgetContext) -> dict[str, Any]:
    d = wc.definition
    title = wc.text(d.get("title"))
    if wc.type == "powerpack" and d.get("template_variables"):
        wc.note("The powerpack's own template variable values are not applied; its widgets use the dashboard's.",
                Status.APPROXIMATE)
    return {"type": "row", "title": title, "collapsed": bool(d.get("collapsed", False)), "panels": []}


# a metric query's scope: ``avg:metric{scope}``
SCOPE = re.compile(r"(\b[\w.]+:[\w.]+)\s*\{([^{}]*)\}")


def _filtered(source: dict[str, Any], var: str) -> dict[str, Any]:
    """The source widget with every metric query also filtered by ``$var``."""
    def scope(m: re.Match) -> str:
        inner = m.group(2).strip()
        return f"{m.group(1)}{{{'$' + var if inner in ('', '*') else inner + ',$' + var}}}"

    source = copy.deepcopy(source)
    for req in dicts(source.get("requests")):
        if isinstance(req.get("q"), str):
            req["q"] = SCOPE.sub(scope, req["q"])
        for q in dicts(req.get("queries")):
            if (q.get("data_source") or "metrics") == "metrics" and isinstance(q.get("query"), str):
                q["query"] = SCOPE.sub(scope, q["query"])
    return source


def split_group(wc: WidgetContext) -> dict[str, Any]:
    """One graph per tag value in Datadog; in Grafana the source widget's panel
    repeated over a variable listing that tag's values, its queries filtered by it."""
    from dd2prom.convert.dashboards.widgets import convert_widget

    d = wc.definition
    source = obj(d.get("source_widget_definition"))
    config = obj(d.get("split_config"))
    tags = [str(s.get("one_graph_per") or s.get("tag_key")) for s in dicts(config.get("split_dimensions"))]
    if len(tags) == 1:
        tag = tags[0]
        dd_var = "dd2prom_split_" + re.sub(r"\W", "_", tag)
        name = "split_" + re.sub(r"\W", "_", tag)
        tctx = dataclasses.replace(
            wc.translate_ctx, template_variables={**wc.translate_ctx.template_variables, dd_var: name},
            template_variable_tags={**wc.translate_ctx.template_variable_tags, dd_var: tag})
        # a trial on a scratch row: kept only if every query came out filtered by the variable
        trial = dataclasses.replace(wc, widget={"id": wc.widget.get("id"), "definition": _filtered(source, dd_var)},
                                    item=CoverageItem(wc.item.kind, wc.item.id, type=wc.item.type),
                                    translate_ctx=tctx, variables={**wc.variables, dd_var: name}, translations=[])
        p = convert_widget(trial)
        targets = p.get("targets") or []
        if targets and all(f'"${name}"' in t["expr"] for t in targets):
            for sentence in trial.item.notes:
                wc.note(sentence)
            wc.note("", trial.item.status)
            wc.item.extra.update(trial.item.extra)
            wc.translations.extend(trial.translations)
            wc.split_variables[name] = tag
            p.update(repeat=name, repeatDirection="h", maxPerRow=4)
            p["title"] = f"{wc.text(d.get('title') or source.get('title'))} ${name}".strip()
            if config.get("limit"):
                wc.note(f"Grafana repeats the graph for every {tag} selected in ${name} (all by default); Datadog "
                        f"showed the top {config['limit']}.", Status.APPROXIMATE)
            return p
    wc.note(f"Datadog draws one graph per value of {', '.join(tags) or 'a tag'}; here one panel shows them all "
            "(Grafana's panel repeat over a variable can split it again).", Status.APPROXIMATE)
    p = convert_widget(dataclasses.replace(wc, widget={"id": wc.widget.get("id"), "definition": source}))
    p["title"] = p.get("title") or wc.text(d.get("title"))
    return p
