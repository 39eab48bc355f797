"""Datadog tags as label matchers, in the one text form PromQL selectors and
Alertmanager matchers share (``name="value"``), and as silence matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from dd2prom.convert.monitors.rules import MONITOR_LABEL, STATE_LABEL  # noqa: F401 (re-exported)
from dd2prom.convert.monitors.spec import label_name


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    regex: bool = False
    equal: bool = True

    @property
    def op(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (self.regex, self.equal)]

    def text(self) -> str:
        return f'{self.name}{self.op}"{_escape(self.value)}"'

    def silence(self) -> dict[str, Any]:
        """The matcher of an Alertmanager v2 API silence."""
        return {"name": self.name, "value": self.value, "isRegex": self.regex, "isEqual": self.equal}


# ``key:(a OR b)`` (search syntax of v2 downtime scopes) → ``key IN (a,b)`` (query scope syntax)
_KEY_OR = re.compile(r"([\w.\-/@]+):\(\s*([^()]*?)\s*\)")


def _key_or(m: re.Match) -> str:
    values = re.split(r"\s+OR\s+", m.group(2))
    if any(not v or re.search(r"\s", v) for v in values):
        raise ValueError(f"{m.group(0)!r}: only OR lists of values are supported inside a tag's parentheses")
    return f"{m.group(1)} IN ({','.join(values)})"


def _check_terms(node: Any) -> None:
    """Reject what the scope grammar reads but a mute cannot mean (``key:`` with no value)."""
    for child in getattr(node, "items", ()) or ([node.item] if hasattr(node, "item") else []):
        _check_terms(child)
    if type(node).__name__ == "Tag" and node.value == "":
        raise ValueError(f"tag {node.key!r} has an empty value")


def scope_matchers(text: str, mappings: Any = None) -> list[list[Matcher]]:
    """A Datadog scope (``env:prod,!host:web-*``, ``env:prod AND service:(a OR b)``)
    → conjunctions of matchers (any of them selects), with the transpiler's
    grammar and tag → label mapping (``host`` → ``instance`` with any port, …).
    Raises ValueError with a sentence."""
    from dd2prom.convert.queries import scope_conjunctions
    from dd2prom.convert.queries.lexer import QuerySyntaxError
    from dd2prom.convert.queries.promql_text import Unsupported
    from dd2prom.convert.queries.scope import parse_scope
    from dd2prom.convert.queries.types import TranslateContext

    text = _KEY_OR.sub(_key_or, text.strip())
    try:
        node = parse_scope(text, 0)
        if node is None:
            return [[]]
        _check_terms(node)
        conj = scope_conjunctions(node, mappings=mappings, ctx=TranslateContext(target="monitor"))
    except QuerySyntaxError as exc:
        raise ValueError(f"scope {text!r} does not parse: {exc.message}") from None
    except Unsupported as exc:
        raise ValueError(str(exc)) from None
    if any(label == "__name__" for c in conj for label, _, _ in c):
        raise ValueError("a negated '*' selects nothing")
    return [[Matcher(label, value, op in ("=~", "!~"), op in ("=", "=~")) for label, op, value in c] for c in conj]


def tag_labels(tags: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """``key:value`` tags as alert labels (first value of a key wins; keys
    that would overwrite ``reserved`` labels are left out)."""
    taken = set(reserved)
    out: dict[str, str] = {}
    for tag in tags:
        key, sep, value = str(tag).partition(":")
        label = label_name(key.strip()) if sep and value else ""
        if label and label not in taken and label not in out and not label.startswith("__"):
            out[label] = value
    return out
