"""Datadog tags as label matchers, in the one text form PromQL selectors and
Alertmanager matchers share (``name="value"``), and as silence matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from dd2prom.convert.monitors.rules import MONITOR_LABEL, STATE_LABEL  # noqa: F401 (re-exported)
from dd2prom.convert.monitors.spec import label_name


def tag_label(key: str) -> str:
    """The Prometheus label a Datadog tag key becomes: the same function the
    monitors' rules use, so matchers hit the labels those rules carry."""
    return label_name(key.strip())


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

    def negated(self) -> "Matcher":
        return Matcher(self.name, self.value, self.regex, not self.equal)


def tag_matcher(key: str, value: str | None, equal: bool = True) -> Matcher:
    """``key:value`` (``*`` wildcards allowed) → a matcher; a bare tag (no
    value) means "has that label"."""
    label = tag_label(key)
    if value is None or value == "*":
        return Matcher(label, ".+", True, equal)
    if "*" in value or "?" in value:
        pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
        return Matcher(label, pattern, True, equal)
    return Matcher(label, value, False, equal)


def tag_matchers(pairs: Iterable[Iterable[str]]) -> list[Matcher]:
    """``[("host", "a"), ("env", "prod")]`` → matchers, all of which must hold."""
    out = []
    for pair in pairs:
        key, value = list(pair)
        out.append(tag_matcher(key.strip(), value.strip()))
    return out


def tag_labels(tags: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """``key:value`` tags as alert labels (first value of a key wins; keys
    that would overwrite ``reserved`` labels are left out)."""
    taken = set(reserved)
    out: dict[str, str] = {}
    for tag in tags:
        key, sep, value = str(tag).partition(":")
        label = tag_label(key) if sep and value else ""
        if label and label not in taken and label not in out and not label.startswith("__"):
            out[label] = value
    return out
