"""note, free_text, image, iframe → Grafana text panel.

Notes and free text are Markdown in both tools. An image becomes a Markdown
image; an iframe an HTML iframe (Grafana renders it only when its
``disable_sanitize_html`` setting allows, hence approximate).
"""

from __future__ import annotations

import html
from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, text_panel
from dd2prom.model import Status


def note(wc: WidgetContext) -> dict[str, Any]:
    return text_panel(wc, wc.text(wc.definition.get("content")))


def free_text(wc: WidgetContext) -> dict[str, Any]:
    return text_panel(wc, wc.text(wc.definition.get("text")))


def image(wc: WidgetContext) -> dict[str, Any]:
    url = str(wc.definition.get("url") or "")
    alt = wc.text(wc.definition.get("title") or "image")
    return text_panel(wc, f"![{alt}]({url})")


def iframe(wc: WidgetContext) -> dict[str, Any]:
    url = html.escape(str(wc.definition.get("url") or ""), quote=True)
    wc.note("Grafana shows iframes in text panels only when its disable_sanitize_html setting is on.",
            Status.APPROXIMATE)
    return text_panel(wc, f'<iframe src="{url}" width="100%" height="100%" frameborder="0"></iframe>', mode="html")
