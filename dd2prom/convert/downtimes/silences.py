"""Which alerts a downtime mutes, as matchers, and one-time downtimes as
Alertmanager silences (the JSON array ``amtool silence import`` reads and
the v2 API's ``POST /api/v2/silences`` body, one object at a time).

A scope is a boolean expression over tags; Alertmanager matchers are a
conjunction. A scope is brought to disjunctive normal form and each
conjunction becomes its own silence (or mute route): muting any of them is
muting the disjunction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Iterable

from dd2prom.convert.downtimes.downtime import Downtime, DowntimeError
from dd2prom.convert.downtimes.matchers import MONITOR_LABEL, Matcher, tag_label, tag_matcher
from dd2prom.model import Status

Conjunctions = list[list[Matcher]]
CREATED_BY = "dd2prom"


def _and(left: Conjunctions, right: Conjunctions) -> Conjunctions:
    return [a + b for a in left for b in right]


def _scope_ast_dnf(node: Any) -> Conjunctions:
    """The transpiler's scope AST (Tag, TagIn, ScopeNot, ScopeAnd, ScopeOr) → DNF."""
    kind = type(node).__name__
    if kind == "Tag":
        if node.var or node.key is None:
            raise DowntimeError(f"Scope term {node.value or node.var!r} is not a key:value tag.", Status.UNSUPPORTED)
        return [[]] if node.key == "*" else [[tag_matcher(node.key, node.value)]]
    if kind == "TagIn":
        pattern = "|".join(re.escape(v) for v in node.values)
        return [[Matcher(tag_label(node.key), pattern, regex=True)]]
    if kind == "ScopeNot":
        inner = _scope_ast_dnf(node.item)
        if len(inner) != 1 or len(inner[0]) != 1:
            raise DowntimeError("Only single tags can be negated in a downtime scope.", Status.UNSUPPORTED)
        return [[inner[0][0].negated()]]
    if kind == "ScopeAnd":
        out: Conjunctions = [[]]
        for item in node.items:
            out = _and(out, _scope_ast_dnf(item))
        return out
    if kind == "ScopeOr":
        return [c for item in node.items for c in _scope_ast_dnf(item)]
    raise DowntimeError(f"Unknown scope element {kind}.", Status.UNSUPPORTED)


def _term(text: str) -> list[Matcher]:
    """One v1 scope entry: ``key:value``, ``!key:value`` / ``-key:value``, ``*``."""
    text = text.strip()
    if text in ("", "*"):
        return []
    negate = text[:1] in ("!", "-")
    key, sep, value = text.lstrip("!-").partition(":")
    if not sep:
        raise DowntimeError(f"Scope term {text!r} is not a key:value tag.", Status.UNSUPPORTED)
    m = tag_matcher(key, value)
    return [m.negated() if negate else m]


def scope_dnf(scope: Any) -> Conjunctions:
    """v1 list (every entry must hold) or v2 query string → conjunctions of matchers."""
    if isinstance(scope, list):
        return [[m for entry in scope for m in _term(str(entry))]]
    text = str(scope).strip()
    if text in ("", "*"):
        return [[]]
    try:
        from dd2prom.convert.queries.scope import parse_scope  # the transpiler's scope grammar
    except ImportError:  # pragma: no cover - before the transpiler is present
        if re.search(r"[()]|\bOR\b", text):
            raise DowntimeError(f"Scope {text!r} needs the query transpiler's scope parser.", Status.UNSUPPORTED)
        return [[m for entry in re.split(r"\s+AND\s+|,|\s+", text) for m in _term(entry)]]
    try:
        node = parse_scope(text, 0)
    except Exception as exc:  # the transpiler's syntax error, with its own sentence
        raise DowntimeError(f"Scope {text!r} does not parse: {exc}")
    return [[]] if node is None else _scope_ast_dnf(node)


def monitor_matchers(dt: Downtime, monitor_tags: dict[str, list[str]]) -> tuple[list[Matcher] | None, list[str]]:
    """Matchers selecting the downtime's monitors (None: no monitor to mute)
    and sentences. ``monitor_tags`` = snapshot monitor id → its tags."""
    notes: list[str] = []
    if dt.monitor_id:
        if dt.monitor_id not in monitor_tags:
            notes.append(f"Monitor {dt.monitor_id} is not in the snapshot; the mute matches its alerts once it is "
                         "converted.")
        return [Matcher(MONITOR_LABEL, dt.monitor_id)], notes
    tags = [t for t in dt.monitor_tags if t != "*"]
    if not tags:
        return [Matcher(MONITOR_LABEL, ".+", regex=True)], notes
    ids = sorted((mid for mid, mtags in monitor_tags.items() if all(t in mtags for t in tags)), key=_id_key)
    if not ids:
        notes.append(f"No monitor in the snapshot has all the tags {', '.join(tags)}; nothing to mute.")
        return None, notes
    notes.append(f"Monitor tags {', '.join(tags)} resolved to the monitors {', '.join(ids)} of the snapshot; "
                 "monitors tagged later are not muted.")
    return [Matcher(MONITOR_LABEL, "|".join(re.escape(i) for i in ids), regex=True)], notes


def _id_key(mid: str) -> tuple[int, str]:
    return (int(mid), "") if mid.isdigit() else (1 << 62, mid)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def silences(dt: Downtime, conjunctions: Iterable[list[Matcher]], starts: datetime,
             ends: datetime) -> list[dict[str, Any]]:
    comment = f"Datadog downtime {dt.id}" + (f": {dt.message.strip()}" if dt.message.strip() else "")
    return [{"matchers": [m.silence() for m in ms], "startsAt": _iso(starts), "endsAt": _iso(ends),
             "createdBy": CREATED_BY, "comment": comment[:1000]} for ms in conjunctions]
