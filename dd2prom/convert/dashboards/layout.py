"""Datadog widget positions → Grafana gridPos, groups → rows.

Datadog ``ordered`` dashboards use a 12-column grid (groups have their own
12-column grid inside); ``free`` dashboards place widgets at absolute units.
Grafana uses 24 columns and rows of ~30 px. Widths are scaled to 24 columns;
heights by the same factor times :data:`ROWS_PER_COLUMN` so that widgets keep
their proportions. Scaling uses floor on both edges, which keeps disjoint
widgets disjoint; widgets that still collide (free layouts may overlap) are
pushed down until they fit, as Grafana itself does.

Groups become rows, in order, stacked (Grafana rows are full width, so
side-by-side groups end up one above the other). Ungrouped widgets that come
after a group get a row of their own, otherwise Grafana would fold them into
the group above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

COLUMNS = 24
# A Grafana column is 1/24 of the screen (80 px at 1920 px) and a grid row
# 38 px with its margin: one column width ≈ 2 rows. Datadog's grid cells are
# square, so a 4×2 Datadog timeseries becomes w 8 × h 8 (Grafana's usual size).
ROWS_PER_COLUMN = 2.0
DATADOG_COLUMNS = 12
UNGROUPED_TITLE = "Other widgets"
# Default sizes (Datadog columns x rows) for widgets without a layout (auto reflow).
DEFAULT_SIZES = {"note": (2, 2), "free_text": (2, 1), "image": (2, 2), "query_value": (2, 2),
                 "group": (12, 4), "powerpack": (12, 4)}


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float


def widget_box(widget: dict[str, Any]) -> Box | None:
    layout = widget.get("layout")
    if not isinstance(layout, dict):
        return None
    try:
        return Box(float(layout["x"]), float(layout["y"]), float(layout["width"]), float(layout["height"]))
    except (KeyError, TypeError, ValueError):
        return None


def flow(widgets: list[dict[str, Any]], columns: int = DATADOG_COLUMNS) -> list[Box]:
    """Positions for every widget: its own layout, or (no layout: auto reflow)
    the next free place left to right with the type's default size."""
    boxes, cx, row_h = [], 0.0, 0.0
    own = [widget_box(w) for w in widgets]
    cy = max((b.y + b.h for b in own if b), default=0.0)
    for w, box in zip(widgets, own):
        if box is None:
            definition = w.get("definition")
            wtype = str(definition.get("type") or "") if isinstance(definition, dict) else ""
            width, height = DEFAULT_SIZES.get(wtype, (4, 2))
            if cx + width > columns:
                cx, cy, row_h = 0.0, cy + row_h, 0.0
            box = Box(cx, cy, width, height)
            cx += width
            row_h = max(row_h, height)
        boxes.append(box)
    return boxes


def place(boxes: list[Box], top: int, columns: float) -> list[dict[str, int]]:
    """Grafana gridPos for boxes of one section (a row), starting at row ``top``."""
    fx = COLUMNS / max(columns, 1.0)
    fy = fx * ROWS_PER_COLUMN
    y0 = min((b.y for b in boxes), default=0.0)
    placed: list[tuple[int, int, int, int]] = []   # (x, w, y, h)
    out: list[dict[str, int]] = [{}] * len(boxes)
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i].y, boxes[i].x, i))
    for i in order:
        b = boxes[i]
        x = min(max(math.floor(b.x * fx), 0), COLUMNS - 1)
        w = max(1, min(math.floor((b.x + b.w) * fx) - x, COLUMNS - x))
        y = top + math.floor((b.y - y0) * fy)
        h = max(1, math.floor((b.y - y0 + b.h) * fy) - (y - top))
        moved = True
        while moved:   # below every placed box it overlaps (x, w fixed; y moves down)
            moved = False
            for ox, ow, oy, oh in placed:
                if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                    y = oy + oh
                    moved = True
        placed.append((x, w, y, h))
        out[i] = {"h": h, "w": w, "x": x, "y": y}
    return out


def section_columns(boxes: list[Box], free: bool) -> float:
    """The width the section's coordinates are relative to."""
    right = max((b.x + b.w for b in boxes), default=DATADOG_COLUMNS)
    return right if free else max(DATADOG_COLUMNS, right)


def _expand(children: list[dict[str, Any]], path: str, row_for: Callable[..., Any]
            ) -> list[tuple[dict[str, Any], Box, str]]:
    """A group's widgets with their boxes; a group inside a group (Grafana rows
    do not nest) is replaced by its own widgets, scaled into its box."""
    out = []
    for j, (child, box) in enumerate(zip(children, flow(children))):
        child_path = f"{path}.widgets[{j}]"
        nested = row_for(child, child_path)
        if nested is None:
            out.append((child, box, child_path))
            continue
        inner = _expand(nested[1], child_path, row_for)
        scale = box.w / section_columns([b for _, b, _ in inner], free=False)
        out += [(c, Box(box.x + b.x * scale, box.y + b.y * scale, b.w * scale, b.h * scale), p) for c, b, p in inner]
    return out


def arrange(widgets: list[dict[str, Any]], free: bool,
            panel_for: Callable[[dict[str, Any], str], dict[str, Any]],
            row_for: Callable[[dict[str, Any], str], tuple[dict[str, Any], list[dict[str, Any]]] | None],
            ) -> list[dict[str, Any]]:
    """Grafana's top-level ``panels``: rows and panels with gridPos, no overlaps.

    ``panel_for(widget, path)`` converts a widget; ``row_for(widget, path)``
    returns ``(row panel, child widgets)`` for a container, else None."""
    boxes = flow(widgets)
    order = sorted(range(len(widgets)), key=lambda i: (boxes[i].y, boxes[i].x, i))
    # sections: (row or None, [(widget, box, path)])
    sections: list[tuple[dict[str, Any] | None, list[tuple[dict[str, Any], Box, str]]]] = []
    for i in order:
        path = f"widgets[{i}]"
        container = row_for(widgets[i], path)
        if container is not None:
            row, children = container
            sections.append((row, _expand(children, path, row_for)))
        elif sections and sections[-1][0] is None:
            sections[-1][1].append((widgets[i], boxes[i], path))
        else:
            sections.append((None, [(widgets[i], boxes[i], path)]))

    panels: list[dict[str, Any]] = []
    cursor = 0
    has_rows = any(row is not None for row, _ in sections)
    for index, (row, items) in enumerate(sections):
        if row is None and has_rows and index > 0:
            row = {"type": "row", "title": UNGROUPED_TITLE, "collapsed": False, "panels": []}
        if row is not None:
            row["gridPos"] = {"h": 1, "w": COLUMNS, "x": 0, "y": cursor}
            panels.append(row)
            cursor += 1
        item_boxes = [b for _, b, _ in items]
        positions = place(item_boxes, cursor, section_columns(item_boxes, free))
        children = []
        for (widget, _, path), pos in zip(items, positions):
            p = panel_for(widget, path)
            p["gridPos"] = pos
            children.append(p)
        cursor = max([cursor] + [p["y"] + p["h"] for p in positions])
        if row is not None and row.get("collapsed"):
            row["panels"] = children
        else:
            panels.extend(children)
    return panels


def number_panels(panels: list[dict[str, Any]]) -> None:
    """Unique panel ids, in reading order."""
    n = 0
    for p in panels:
        n += 1
        p["id"] = n
        for child in p.get("panels") or []:
            n += 1
            child["id"] = n
