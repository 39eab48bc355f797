"""Template variables → Grafana variables.

Every Datadog template variable filters queries by one tag (its ``prefix``).
In Grafana it becomes a query variable listing that tag's label values
(``label_values(<metric>, <label>)``) on a metric the dashboard reads and that
carries the label (preferably one whose queries filter by this variable, with
the label the transpiler chose there), multi-select with *All* (``.*``, like Datadog's ``*``
which also matches series without the tag). ``available_values`` restrict the
list with a regex; defaults become the current selection. A ``datasource``
variable comes first so the dashboard works against any Prometheus.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any, Iterable

from dd2prom.convert.dashboards.panel import DATASOURCE, dicts, strings
from dd2prom.convert.dashboards.requests import label_for_tag
from dd2prom.convert.queries.types import TranslateContext, Translation

DATASOURCE_VARIABLE = {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
                       "hide": 0, "refresh": 1, "regex": "", "options": []}


def grafana_names(template_variables: Any) -> dict[str, str]:
    """Datadog variable name → a valid, unique Grafana variable name."""
    out: dict[str, str] = {}
    for tv in dicts(template_variables):
        if not isinstance(tv.get("name"), str) or not tv["name"]:
            continue
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(tv["name"]))
        if not re.match(r"[A-Za-z_]", name) or name == "datasource":
            name = f"v_{name}"
        while name in out.values():
            name += "_"
        out[str(tv["name"])] = name
    return out


def tags(template_variables: Any) -> dict[str, str]:
    """Datadog variable name → the tag it filters (its ``prefix``), for the transpiler."""
    return {str(tv["name"]): str(tv["prefix"]) for tv in dicts(template_variables)
            if tv.get("name") and isinstance(tv.get("prefix"), str) and tv["prefix"]}


# ``label op "$name"`` / ``"${name}"``: a matcher on a template variable (Grafana
# names are word characters). (?<![A-Za-z_]): a label starts at the first letter
# of a word; trying every later character of it as a start too (which can never
# match first) made this slow. The runs of word characters and spaces are possessive
# (*+): giving some back cannot make an operator or a quote match, only takes time.
_VARIABLE_MATCHER = re.compile(r'(?<![A-Za-z_])([A-Za-z_]\w*+)\s*+(?:=~|!~|!=|=)\s*+"\$\{?(\w+)\}?"')


@functools.lru_cache(maxsize=16384)   # a dashboard worker at full scale sees ~6,000 distinct
def _variable_matchers(promql: str) -> list[tuple[str, str]]:
    """(label, variable name) of each matcher on a template variable in ``promql``
    (remembered: the same translated query recurs across dashboards). Read only."""
    return _VARIABLE_MATCHER.findall(promql)


class Usage:
    """Which labels and metrics the dashboard's translated queries filter with each
    variable: one scan of the queries for every variable of the dashboard."""

    def __init__(self, translations: Iterable[Translation]):
        self.labels: dict[str, Counter[str]] = {}
        self.metrics: dict[str, Counter[str]] = {}
        for t in translations:
            promql = t.promql if t.ok else None
            if not promql or '"$' not in promql:   # (``[$__rate_interval]`` is in most queries)
                continue
            seen: set[str] = set()
            for label, name in _variable_matchers(promql):
                if name not in seen:
                    seen.add(name)
                    if name not in self.labels:
                        self.labels[name], self.metrics[name] = Counter(), Counter()
                    self.metrics[name].update(t.prom_metrics)
                self.labels[name][label] += 1

    def used(self, name: str) -> tuple[str | None, str | None]:
        """(label, metric) the translated queries filter with ``$name`` most often:
        the transpiler's own choice of label (it may depend on the metric)."""
        labels, metrics = self.labels.get(name), self.metrics.get(name)
        return (labels.most_common(1)[0][0] if labels else None,
                metrics.most_common(1)[0][0] if metrics else None)


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
    values = strings(tv.get("defaults")) if isinstance(tv.get("defaults"), list) else strings([tv.get("default")])
    return [v for v in values if v not in ("", "*")]


def query_variable(name: str, label_text: str, tag: str, tctx: TranslateContext,
                   translations: list[Translation], usage: Usage, defaults: list[str] | None = None) -> dict[str, Any]:
    """A multi-select Grafana query variable listing the values of the label ``tag`` maps to."""
    used_label, used_metric = usage.used(name)
    label = used_label or label_for_tag(tctx, tag)
    metric = used_metric or _metric_for(label, translations)
    return {
        "type": "query", "name": name, "label": label_text, "datasource": DATASOURCE,
        "query": f"label_values({metric}, {label})" if metric else f"label_values({label})",
        "refresh": 2, "sort": 1, "multi": True, "includeAll": True, "allValue": ".*",
        "hide": 0, "options": [], "regex": "",
        "current": ({"text": defaults, "value": defaults, "selected": True} if defaults
                    else {"text": ["All"], "value": ["$__all"], "selected": True}),
    }


def build(template_variables: Any, names: dict[str, str], tctx: TranslateContext,
          translations: list[Translation], split: dict[str, str] | None = None,
          ) -> tuple[list[dict[str, Any]], list[str]]:
    """Grafana templating list (datasource first, then the Datadog variables,
    then the variables split groups repeat over) and sentences about what differs."""
    out: list[dict[str, Any]] = [dict(DATASOURCE_VARIABLE)]
    notes: list[str] = []
    usage = Usage(translations)
    for tv in dicts(template_variables):
        if str(tv.get("name")) not in names:
            continue
        tag = str(tv["prefix"]) if isinstance(tv.get("prefix"), str) and tv["prefix"] else str(tv["name"])
        if not tv.get("prefix"):
            notes.append(f"Template variable {tv['name']!r} has no tag prefix; it is taken to be the tag {tag!r}.")
        if tv.get("type") == "group":
            notes.append(f"Template variable {tv['name']!r} chooses the group-by tags of the queries; Grafana "
                         "variables cannot change a query's grouping, so it lists values and the queries keep "
                         "their saved grouping.")
        defaults = _defaults(tv)
        if any("*" in v for v in defaults):
            notes.append(f"Template variable {tv['name']!r} defaults to the wildcard {', '.join(defaults)}; "
                         "Grafana selects values, not patterns, so it starts on All.")
            defaults = []
        var = query_variable(names[str(tv["name"])], str(tv["name"]), tag, tctx, translations, usage, defaults)
        available = [v for v in strings(tv.get("available_values")) if v]
        if available:
            var["regex"] = "/^(" + "|".join(re.escape(v).replace(r"\*", ".*") for v in available) + ")$/"
        out.append(var)
    for name, tag in (split or {}).items():
        out.append(query_variable(name, f"{tag} (one graph each)", tag, tctx, translations, usage))
    return out, notes
