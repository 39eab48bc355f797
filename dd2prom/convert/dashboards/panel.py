"""What a widget converter is given, and the panel shapes they share.

A converter (``widgets/<family>.py``) receives a :class:`WidgetContext` and
returns one Grafana panel as a dict. It reports every difference on the
widget's coverage row through ``wc.note(sentence, status)``; the queries it
translates are recorded by :mod:`.requests`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dd2prom.convert.queries.types import TranslateContext, Translation
from dd2prom.model import CoverageItem, Status

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# Datadog widget time spans → Grafana relative times (panel.timeFrom).
_SPAN_UNITS = {"minute": "m", "hour": "h", "day": "d", "week": "w", "month": "M", "year": "y"}
_LIVE_SPANS = {"1mo": "30d", "3mo": "90d", "6mo": "180d", "1y": "365d",
               "week_to_date": "now/w", "month_to_date": "now/M"}
# Panel minimum interval when a query sums per-interval counts
# (``increase(x[$__interval])``, Datadog's ``.as_count()``): the window must hold
# at least two samples at kube-prometheus-stack's 30 s scrape interval, or the
# bars are empty on short time ranges. Non-overlapping windows keep the bars'
# sum equal to the total, which ``$__rate_interval`` would not.
MIN_COUNT_INTERVAL = "1m"


@dataclass
class WidgetContext:
    """One widget being converted."""

    widget: dict[str, Any]
    item: CoverageItem
    translate_ctx: TranslateContext
    variables: dict[str, str] = field(default_factory=dict)   # Datadog name → Grafana name
    translations: list[Translation] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)      # ctx.shared: facts from earlier stages
    split_variables: dict[str, str] = field(default_factory=dict)  # Grafana variable → tag (split groups)
    # the widget's definition and type, read a hundred thousand times per 20k widgets:
    # looked up once (``dataclasses.replace`` with another widget looks them up again)
    definition: dict[str, Any] = field(init=False, repr=False)
    type: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        d = self.widget.get("definition")
        self.definition = d if isinstance(d, dict) else {}
        self.type = str(self.definition.get("type") or "")

    def note(self, message: str, status: Status | None = None) -> None:
        self.item.note(message, status)

    def text(self, value: Any) -> str:
        """Datadog text with ``$var`` / ``$var.value`` rewritten to Grafana's ``${var}``."""
        return rewrite_variables(str(value or ""), self.variables)


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list; anything else (odd input) has none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    """The scalar items of a JSON list, as text."""
    return [str(v) for v in value if isinstance(v, (str, int, float))] if isinstance(value, list) else []


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def count(value: Any) -> int | None:
    """A positive whole number from JSON (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def rewrite_variables(text: str, variables: dict[str, str]) -> str:
    """``$name`` / ``$name.value`` of a known variable → ``${grafana name}``
    (longest name first, so ``$host-name`` is not read as ``$host``)."""
    if not variables or "$" not in text:
        return text
    names = "|".join(re.escape(n) for n in sorted(variables, key=len, reverse=True))
    return re.sub(rf"\$({names})(?:\.value)?(?![A-Za-z0-9_])", lambda m: "${%s}" % variables[m.group(1)], text)


def panel(wc: WidgetContext, type_: str, options: dict[str, Any], *, defaults: dict[str, Any] | None = None,
          overrides: list[dict[str, Any]] | None = None, targets: list[dict[str, Any]] | None = None,
          transformations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A Grafana panel with the widget's title, time span and links."""
    d = wc.definition
    p: dict[str, Any] = {"type": type_, "title": wc.text(d.get("title")), "options": options,
                         "fieldConfig": {"defaults": dict(defaults or {}), "overrides": list(overrides or [])}}
    if targets is not None:
        p["datasource"] = DATASOURCE
        p["targets"] = targets
        if any("[$__interval]" in str(t.get("expr")) for t in targets):
            p["interval"] = MIN_COUNT_INTERVAL
    if transformations:
        p["transformations"] = transformations
    span = time_from(d.get("time"), wc)
    if span:
        p["timeFrom"] = span
    links = data_links(wc, d.get("custom_links"))
    if links:
        p["fieldConfig"]["defaults"]["links"] = links
    return p


def time_from(time: Any, wc: WidgetContext) -> str | None:
    """A widget's own time span (``live_span`` or ``{type: live, value, unit}``)."""
    if not isinstance(time, dict):
        return None
    span = time.get("live_span")
    if isinstance(span, str):
        if span in _LIVE_SPANS:
            return _LIVE_SPANS[span]
        if re.fullmatch(r"\d+[mhdw]", span):
            return span
        wc.note(f"The widget's time span {span!r} has no Grafana equivalent; it follows the dashboard's time range.",
                Status.APPROXIMATE)
        return None
    if time.get("type") == "live" and str(time.get("unit")) in _SPAN_UNITS and count(time.get("value")):
        unit = _SPAN_UNITS[str(time["unit"])]
        value = time["value"]
        return f"{value * 30}d" if unit == "M" else f"{value * 365}d" if unit == "y" else f"{value}{unit}"
    if time.get("type") == "fixed":
        wc.note("The widget shows a fixed past time range; in Grafana it follows the dashboard's time range.",
                Status.APPROXIMATE)
    return None


def data_links(wc: WidgetContext, links: Any) -> list[dict[str, Any]]:
    """Custom links → Grafana data links; ``{{tag.value}}`` becomes the series' label."""
    out = []
    for link in dicts(links):
        if not isinstance(link.get("link"), str):
            continue
        if link.get("is_hidden"):
            continue
        url = re.sub(r"\{\{\s*([A-Za-z0-9_.-]+?)(?:\.value)?\s*\}\}",
                     lambda m: "${__field.labels.%s}" % _label(wc, m.group(1)), str(link["link"]))
        out.append({"title": wc.text(link.get("label") or link.get("override_label") or "link"),
                    "url": wc.text(url), "targetBlank": True})
    return out


def _label(wc: WidgetContext, tag: str) -> str:
    from dd2prom.convert.dashboards.requests import label_for_tag  # avoid import cycle

    return label_for_tag(wc.translate_ctx, tag)


def text_panel(wc: WidgetContext, content: str, mode: str = "markdown") -> dict[str, Any]:
    return panel(wc, "text", {"mode": mode, "content": content})


def explain_panel(wc: WidgetContext, why: str, status: Status = Status.UNSUPPORTED) -> dict[str, Any]:
    """The text panel standing in for a widget with no honest Grafana equivalent:
    says what it was, why it is not carried over, and the original queries."""
    wc.note(why, status)
    lines = [f"**Datadog `{wc.type or 'unknown'}` widget — not converted.**", "", why]
    queries = original_queries(wc.definition)
    if queries:
        lines += ["", "Original queries:", ""] + [f"    {q}" for q in queries]
    p = text_panel(wc, "\n".join(lines))
    p["title"] = p["title"] or f"{wc.type} (not converted)"
    return p


def original_queries(definition: dict[str, Any]) -> list[str]:
    """Every query text of a widget, for explanations (metrics, logs, APM...)."""
    out: list[str] = []
    requests = definition.get("requests")
    if isinstance(requests, dict):
        requests = list(requests.values())
    for req in dicts(requests):
        if isinstance(req.get("q"), str):
            out.append(req["q"])
        for q in dicts(req.get("queries")):
            out.append(f"{q.get('data_source', 'metrics')}: {query_text(q)}")
        for key in ("query", "log_query", "apm_query", "rum_query", "process_query"):
            if isinstance(req.get(key), dict):
                out.append(f"{key}: {query_text(req[key])}")
    return out


def query_text(q: dict[str, Any]) -> str:
    """The text of a query object whatever its data source."""
    for value in (q.get("query"), q.get("query_string"), q.get("search")):
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return query_text(value)
    return ""
