"""Template variables → Grafana variables.

Every Datadog template variable filters queries by one tag (its ``prefix``).
In Grafana it becomes a query variable listing that tag's label values
(``label_values(<metric>, <label>)``) on a metric the dashboard reads and that
carries the label, multi-select with *All* (``.*``, like Datadog's ``*``
which also matches series without the tag). ``available_values`` restrict the
list with a regex; defaults become the current selection. A ``datasource``
variable comes first so the dashboard works against any Prometheus.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable

from dd2prom.convert.dashboards.panel import DATASOURCE
from dd2prom.convert.dashboards.requests import label_for_tag
from dd2prom.convert.queries.types import TranslateContext, Translation

DATASOURCE_VARIABLE = {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
                       "hide": 0, "refresh": 1, "regex": "", "options": []}


def grafana_names(template_variables: Any) -> dict[str, str]:
    """Datadog variable name → a valid, unique Grafana variable name."""
    out: dict[str, str] = {}
    for tv in template_variables or []:
        if not isinstance(tv, dict) or not tv.get("name"):
            continue
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(tv["name"]))
        if not re.match(r"[A-Za-z_]", name) or name == "datasource":
            name = f"v_{name}"
        while name in out.values():
            name += "_"
        out[str(tv["name"])] = name
    return out


def _metric_for(label: str, translations: Iterable[Translation]) -> str | None:
    """The metric most used by the dashboard's queries that filter or group by ``label``
    (else the most used metric)."""
    with_label: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for t in translations:
        if not t.ok:
            continue
        anywhere.update(t.prom_metrics)
        if label in t.labels or label in t.group_by:
            with_label.update(t.prom_metrics)
    best = with_label or anywhere
    return best.most_common(1)[0][0] if best else None


def _defaults(tv: dict[str, Any]) -> list[str]:
    values = tv.get("defaults") if isinstance(tv.get("defaults"), list) else [tv.get("default")]
    return [str(v) for v in values if v not in (None, "", "*")]


def build(template_variables: Any, names: dict[str, str], tctx: TranslateContext,
          translations: list[Translation]) -> tuple[list[dict[str, Any]], list[str]]:
    """Grafana templating list (datasource first) and sentences about what differs."""
    out: list[dict[str, Any]] = [dict(DATASOURCE_VARIABLE)]
    notes: list[str] = []
    for tv in template_variables or []:
        if not isinstance(tv, dict) or str(tv.get("name")) not in names:
            continue
        name = names[str(tv["name"])]
        tag = str(tv.get("prefix") or tv["name"])
        if not tv.get("prefix"):
            notes.append(f"Template variable {tv['name']!r} has no tag prefix; it is taken to be the tag {tag!r}.")
        label = label_for_tag(tctx, tag)
        metric = _metric_for(label, translations)
        query = f"label_values({metric}, {label})" if metric else f"label_values({label})"
        var: dict[str, Any] = {
            "type": "query", "name": name, "label": str(tv["name"]), "datasource": DATASOURCE,
            "query": query, "refresh": 2, "sort": 1, "multi": True, "includeAll": True, "allValue": ".*",
            "hide": 0, "options": [], "regex": "",
        }
        available = [str(v) for v in tv.get("available_values") or [] if v not in (None, "")]
        if available:
            var["regex"] = "/^(" + "|".join(re.escape(v) for v in available) + ")$/"
        defaults = _defaults(tv)
        var["current"] = ({"text": defaults, "value": defaults, "selected": True} if defaults
                          else {"text": ["All"], "value": ["$__all"], "selected": True})
        out.append(var)
    return out, notes
