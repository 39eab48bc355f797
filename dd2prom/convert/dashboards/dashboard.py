"""One Datadog dashboard → one Grafana dashboard (dict) and its coverage rows."""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.dashboards import layout, variables
from dd2prom.convert.dashboards.panel import WidgetContext, dicts, explain_panel, strings
from dd2prom.convert.dashboards.widgets import convert_widget, group
from dd2prom.convert.queries.types import Translation
from dd2prom.emit.k8s import dns_name
from dd2prom.model import CoverageItem, Status

log = logging.getLogger("dd2prom.convert.dashboards")

SCHEMA_VERSION = 39
DATADOG_ID = re.compile(r"^[a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3}$")


def grafana_uid(dashboard_id: str) -> str:
    """Stable Grafana uid (≤ 40 characters, also a valid Kubernetes name)."""
    return dns_name(str(dashboard_id), max_len=40, prefix="dd-")


def describe(item: CoverageItem) -> str:
    """A panel's description (its tooltip in Grafana): where it came from and,
    when it differs, how."""
    text = f"Converted from Datadog {item.type or 'unknown'} widget {item.id.split('/', 1)[1]} ({item.status.value})."
    return " ".join([text] + item.notes)


class DashboardConverter:
    """Converts one dashboard; every widget (nested ones too) gets a coverage row."""

    def __init__(self, ctx: ConvertContext, dashboard_id: str, data: dict[str, Any]):
        self.ctx = ctx
        self.id = str(dashboard_id)
        self.data = data
        self.names = variables.grafana_names(data.get("template_variables"))
        # every panel query built on a translation is parsed (requests.py, change.py):
        # the transpiler need not parse the translation on its own as well; the
        # converters only read the translations, so they share the memo's
        self.tctx = ctx.translate_context("dashboard", template_variables=dict(self.names),
                                          template_variable_tags=variables.tags(data.get("template_variables")),
                                          check=False, copy_results=False)
        self.translations: list[Translation] = []
        self.widget_items: list[CoverageItem] = []
        self.notes: list[str] = []
        self.split_variables: dict[str, str] = {}
        # two ids that differ only in characters a uid cannot hold would collide: keep both
        taken = ctx.shared.setdefault("dashboard_uids", set())
        self.uid = grafana_uid(self.id)
        n = 1
        while self.uid in taken:
            n += 1
            self.uid = grafana_uid(f"{self.id}-{n}")
        taken.add(self.uid)

    # -- widgets ---------------------------------------------------------------
    def _item(self, widget: dict[str, Any], path: str) -> tuple[CoverageItem, WidgetContext]:
        definition = widget.get("definition") if isinstance(widget.get("definition"), dict) else {}
        wid = widget.get("id")
        key = f"{self.id}/{wid}" if wid not in (None, "") else f"{self.id}/{path}"
        if self.ctx.ledger.get("widget", key) is not None:   # duplicate widget id: fall back to the path
            key = f"{self.id}/{path}"
        item = self.ctx.ledger.add("widget", key, name=str(definition.get("title") or ""),
                                   type=str(definition.get("type") or ""))
        item.extra["dashboard"] = self.id
        self.widget_items.append(item)
        wc = WidgetContext(widget=widget, item=item, translate_ctx=self.tctx, variables=self.names,
                           translations=self.translations, shared=self.ctx.shared,
                           split_variables=self.split_variables)
        return item, wc

    def panel_for(self, widget: dict[str, Any], path: str) -> dict[str, Any]:
        item, wc = self._item(widget, path)
        try:
            p = convert_widget(wc)
        except Exception as exc:  # one broken widget must not lose the dashboard
            log.debug("widget %s failed", item.id, exc_info=True)
            item.extra.pop("promql", None)
            item.extra.pop("queries", None)
            p = explain_panel(wc, "The widget could not be converted (its JSON is not what Datadog writes, or a bug): "
                                  f"{exc.__class__.__name__}: {exc}", Status.ERROR)
        p["description"] = describe(item)
        return p

    def row_for(self, widget: dict[str, Any], path: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        definition = widget.get("definition") if isinstance(widget.get("definition"), dict) else {}
        if definition.get("type") not in group.CONTAINERS:
            return None
        item, wc = self._item(widget, path)
        if path.count("widgets[") > 1:
            item.note("A group inside a group: Grafana rows do not nest, so its widgets are placed in the outer row.")
        return group.row(wc), group.children(definition)

    # -- dashboard -------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        d = self.data
        free = d.get("layout_type") == "free"
        widgets = dicts(d.get("widgets"))
        panels = layout.arrange(widgets, free, self.panel_for, self.row_for)
        layout.number_panels(panels)
        templating, notes = variables.build(d.get("template_variables"), self.names, self.tctx, self.translations,
                                           self.split_variables)
        self.notes += notes
        if d.get("reflow_type") == "auto":
            self.notes.append("Datadog re-flows this dashboard's widgets to the screen width; Grafana keeps the "
                              "positions computed here.")
        if d.get("restricted_roles"):
            self.notes.append("Datadog restricted who may edit this dashboard; set the Grafana folder's "
                              "permissions to match.")
        presets = [p.get("name") for p in dicts(d.get("template_variable_presets"))]
        title = str(d.get("title") or self.id)
        description = str(d.get("description") or "").strip()
        if presets:
            self.notes.append(f"Saved views ({', '.join(map(str, presets))}) have no Grafana equivalent; "
                              "they are listed in the description.")
            description += "\n\nDatadog saved views: " + ", ".join(map(str, presets))
        dashboard: dict[str, Any] = {
            "uid": self.uid,
            "title": title,
            "description": (description + f"\n\nConverted from Datadog dashboard {self.id} by dd2prom.").strip(),
            "tags": sorted(set(strings(d.get("tags"))) | {"datadog"}),
            "editable": not d.get("is_read_only", False),
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "time": {"from": "now-1h", "to": "now"},
            "timezone": "browser",
            "refresh": "",
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "links": self._links(),
            "annotations": {"list": []},
            "templating": {"list": templating},
            "panels": panels,
        }
        return dashboard

    def _links(self) -> list[dict[str, Any]]:
        url = self.data.get("url")
        site = str(self.ctx.snapshot.manifest.get("site") or "datadoghq.com")
        if isinstance(url, str) and url.startswith("/"):
            url = f"https://app.{site}{url}"
        elif not isinstance(url, str) and DATADOG_ID.match(self.id):
            url = f"https://app.{site}/dashboard/{self.id}"
        if not isinstance(url, str) or not url.startswith("http"):
            return []
        return [{"title": "Datadog original", "type": "link", "url": url, "icon": "external link",
                 "tooltip": f"The Datadog dashboard {self.id} this one was converted from",
                 "asDropdown": False, "includeVars": False, "keepTime": False, "tags": [], "targetBlank": True}]

    # -- coverage --------------------------------------------------------------
    def summarize(self, item: CoverageItem) -> None:
        """The dashboard's row: exact when every widget is, approximate when some
        differ, manual when no widget could be carried over as is."""
        counts = Counter(w.status.value for w in self.widget_items)
        carried = counts["exact"] + counts["approximate"]
        if self.widget_items and carried == 0:
            item.note("No widget could be carried over.", Status.MANUAL)
        elif carried < len(self.widget_items) or counts["approximate"]:
            item.note("", Status.APPROXIMATE)
        item.note("Widgets: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + "."
                  if counts else "The dashboard has no widgets.")
        for sentence in self.notes:
            item.note(sentence)
        item.extra["widgets"] = dict(sorted(counts.items()))
        item.extra["metrics"] = sorted({m for t in self.translations for m in t.metrics})
        item.extra["author"] = str(self.data.get("author_handle") or self.data.get("author_name") or "")
        item.extra["uid"] = self.uid
        types = Counter(w.type for w in self.widget_items)
        item.extra["widget_types"] = dict(sorted(types.items()))

