"""Datadog monitor messages → Prometheus annotation templates.

A message is parsed once into parts (text, ``{{value}}``, tag variables,
``{{#is_…}}`` blocks); the parts are then

* resolved per rule state (``alert``/``warn``/``no_data``/``recovery``): the
  state blocks (``is_alert``, ``is_warning``…) are decided statically, because
  each Prometheus rule is one Datadog state;
* written as a Go template (:func:`to_go`) in which every piece of text is
  escaped, so no message can break or change a rule;
* rendered in Python (:func:`render`) exactly as Prometheus would, which the
  generated promtool tests use as their expected annotations;
* searched for @-mentions per state (:func:`mentions`), with the
  ``is_match`` conditions a mention sits under (they become route matchers).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Union

# state blocks decided per rule state; anything else unknown is false + noted
STATE_BLOCKS: dict[str, set[str]] = {
    "is_alert": {"alert"},
    "is_warning": {"warn"},
    "is_no_data": {"no_data"},
    # "<state>_recovery": the recovery of that rule's alert; "recovery": any recovery
    "is_recovery": {"recovery", "alert_recovery", "warn_recovery", "no_data_recovery"},
    "is_alert_recovery": {"recovery", "alert_recovery"},
    "is_warning_recovery": {"recovery", "warn_recovery"},
    "is_no_data_recovery": {"recovery", "no_data_recovery"},
    "is_alert_to_warning": set(),
    "is_warning_to_alert": set(),
    "is_renotify": set(),
}
RUNTIME_BLOCKS = {"is_match": False, "is_exact_match": True}   # name → exact comparison
RECOVERY_BLOCKS = {"is_recovery", "is_alert_recovery", "is_warning_recovery", "is_no_data_recovery"}

_TAG_RE = re.compile(r"\{\{\s*([#^/])\s*([\w.]+)((?:\s+(?:\"[^\"]*\"|'[^']*'|[^\s}]+))*)\s*\}\}"
                     r"|\{\{\s*([^{}#^/][^{}]*?)\s*\}\}")
_ARG_RE = re.compile(r"\"([^\"]*)\"|'([^']*)'|([^\s]+)")
# an @ not preceded by a word character, @ . - /: the look-behind follows the @,
# so the search jumps from @ to @ rather than trying it at every position
MENTION_RE = re.compile(r"@(?<![\w@.\-/]@)([A-Za-z0-9_][\w.+\-]*@[\w\-]+(?:\.[\w\-]+)+|[A-Za-z0-9_][\w.\-]*)")
_TAG_NAME = re.compile(r"[\w.\-/]+")
_RUNBOOK = re.compile(r"runbook|playbook|troubleshoot", re.IGNORECASE)
URL_RE = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)|(https?://[^\s)>\]`'\"]+)")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Value:
    pass


@dataclass(frozen=True)
class Label:
    name: str
    strip_port: bool = False    # Datadog's host is a name; the instance label may end in :port


PORT_RE = ":[0-9]+$"
_PORT = re.compile(PORT_RE)


@dataclass
class Block:
    name: str
    args: tuple[str, ...]
    negated: bool
    children: list[Part] = field(default_factory=list)
    strip_port: bool = False    # is_match on host, read from the instance label without its port


Part = Union[Text, Value, Label, Block]
# condition a mention sits under: (label, exact, values, negated, strip_port)
Condition = tuple[str, bool, tuple[str, ...], bool, bool]


@dataclass
class Variables:
    """How ``{{name}}`` variables resolve: to the value, a label or literal text."""

    labels: Callable[[str], str | None]       # group tag key → label name (None = not a group)
    any_label: Callable[[str], str]           # any tag key → label name
    literals: dict[str, str] = field(default_factory=dict)


def parse(message: str, variables: Variables, notes: list[str]) -> list[Part]:
    """Parse a Datadog message; unbalanced blocks and unknown variables become
    text (escaped later) with a note."""
    if "{{" not in message:   # no tag (most monitor names): one piece of text
        return [Text(message)] if message else []
    root: list[Part] = []
    stack: list[Block] = []
    pos = 0

    def add(p: Part) -> None:
        (stack[-1].children if stack else root).append(p)

    for m in _TAG_RE.finditer(message):
        start, end = m.span()
        if start > pos:
            add(Text(message[pos:start]))
        pos = end
        sigil, name, args, var = m.groups()
        if sigil in ("#", "^"):
            # (most blocks, {{#is_alert}}..., have no arguments to look for)
            block_args = [a or b or c for a, b, c in _ARG_RE.findall(args)] if args else []
            strip = False
            if name in RUNTIME_BLOCKS and block_args:   # first argument: a tag variable → its label
                tag = block_args[0].removesuffix(".name")
                block_args[0] = variables.labels(tag) or variables.any_label(tag)
                strip = tag == "host" and block_args[0] == "instance"
            stack.append(Block(name, tuple(block_args), sigil == "^", strip_port=strip))
        elif sigil == "/":
            if stack and stack[-1].name == name:
                block = stack.pop()
                add(block)
            else:
                notes.append(f"The message closes {{{{/{name}}}}} without opening it; kept as text.")
                add(Text(m.group(0)))
        else:
            add(_variable(var.strip(), m.group(0), variables, notes))
    if pos < len(message):
        add(Text(message[pos:]))
    while stack:  # unclosed blocks: their content stays, as plain text around
        block = stack.pop()
        notes.append(f"The message opens {{{{#{block.name}}}}} without closing it; kept as text.")
        add(Text("{{#" + block.name + "}}"))
        for child in block.children:
            add(child)
    return root


def _variable(var: str, raw: str, variables: Variables, notes: list[str]) -> Part:
    if var == "value":
        return Value()
    if var in variables.literals:
        return Text(variables.literals[var])
    tag, _, attr = var.rpartition(".")
    if attr == "name" and _TAG_NAME.fullmatch(tag):
        label = variables.labels(tag)
        if label is None:
            label = variables.any_label(tag)
            notes.append(f"The message variable {raw} names a tag the monitor does not group by; "
                         f"it shows the {label} label when the series carry it.")
        return Label(label, tag == "host" and label == "instance")
    label = variables.labels(var)
    if label:
        return Label(label, var == "host" and label == "instance")
    notes.append(f"The message variable {raw} has no Prometheus equivalent; kept as text.")
    return Text(raw)


# -- resolution per state --------------------------------------------------------

def resolve(parts: list[Part], state: str, priority: int | None, notes: list[str] | None = None,
            renotify: bool = False) -> list[Part]:
    """Flatten the state blocks for one rule state; runtime blocks stay.
    ``renotify``: the text of a re-notification (``{{#is_renotify}}`` on)."""
    out: list[Part] = []
    for p in parts:
        if not isinstance(p, Block):
            out.append(p)
            continue
        if p.name in RUNTIME_BLOCKS and len(p.args) >= 2:
            out.append(Block(p.name, p.args, p.negated, resolve(p.children, state, priority, notes, renotify),
                             p.strip_port))
            continue
        if p.name == "is_renotify":
            on = renotify
        elif p.name in STATE_BLOCKS:
            on = state in STATE_BLOCKS[p.name]
        elif p.name == "is_priority":
            on = bool(p.args) and priority is not None and p.args[0].upper().lstrip("P") == str(priority)
        else:
            on = False
            if notes is not None:
                notes.append(f"The message block {{{{#{p.name}}}}} is not understood; its text is left out.")
        if on != p.negated:
            out.extend(resolve(p.children, state, priority, notes, renotify))
    return _merge_text(out)


class StateTexts:
    """A message resolved for one state after another (:func:`resolve`, then
    :func:`tidy` and :func:`to_go`). A state changes the outcome only through the
    state blocks the message holds: states alike there (a monitor's warning and
    no-data rules, all its recoveries) share one, made once."""

    def __init__(self, parts: list[Part], priority: int | None) -> None:
        self._parts, self._priority = parts, priority
        self._blocks = sorted({b.name for b in find_blocks(parts, set(STATE_BLOCKS))})
        self._made: dict[tuple[bool, ...], tuple[list[Part], list[str], list[Part], str]] = {}

    def get(self, state: str) -> tuple[list[Part], list[str], list[Part], str]:
        """The resolved parts, the notes :func:`resolve` made, the tidied parts
        and their template. (Shared: callers must not change them.)"""
        key = tuple(state in STATE_BLOCKS[name] for name in self._blocks)
        made = self._made.get(key)
        if made is None:
            notes: list[str] = []
            resolved = resolve(self._parts, state, self._priority, notes)
            tidied = tidy(resolved)
            made = self._made[key] = (resolved, notes, tidied, to_go(tidied))
        return made


TRANSITION_BLOCKS = {"is_alert_to_warning", "is_warning_to_alert"}


def find_blocks(parts: list[Part], names: set[str]) -> list[Block]:
    out: list[Block] = []
    for p in parts:
        if isinstance(p, Block):
            out.extend([p] if p.name in names else [])
            out.extend(find_blocks(p.children, names))
    return out


def has_blocks(parts: list[Part], names: set[str] | None = None) -> bool:
    """Whether ``parts`` hold a block named in ``names`` (None: any block)."""
    return any(isinstance(p, Block) and (names is None or p.name in names or has_blocks(p.children, names))
               for p in parts)


def _merge_text(parts: list[Part]) -> list[Part]:
    out: list[Part] = []
    for p in parts:
        if isinstance(p, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + p.text)
        else:
            out.append(p)
    return out


_TRAILING_BLANKS = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def tidy(parts: list[Part]) -> list[Part]:
    """Trim blank lines left by removed blocks (leading/trailing whitespace, 3+ newlines)."""
    parts = _merge_text(parts)
    out = []
    for i, p in enumerate(parts):
        if isinstance(p, Text):
            t = p.text
            # (the patterns only where they can match: most texts have neither)
            if " \n" in t or "\t\n" in t:
                t = _TRAILING_BLANKS.sub("\n", t)
            if "\n\n\n" in t:
                t = _BLANK_LINES.sub("\n\n", t)
            if i == 0:
                t = t.lstrip()
            if i == len(parts) - 1:
                t = t.rstrip()
            if t:
                out.append(p if t == p.text else Text(t))
        else:
            out.append(p)
    return out


# -- output ------------------------------------------------------------------------

def go_escape(text: str) -> str:
    """Text that Prometheus' template engine prints verbatim."""
    return text.replace("{{", '{{ "{{" }}')


def go_string(s: str) -> str:
    return json.dumps(s)


def regex_escape(s: str) -> str:
    """Escape for Go's RE2 (Prometheus templates, Alertmanager matchers)."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s)


def _go_condition(block: Block) -> str:
    label, values = block.args[0], block.args[1:]
    lbl = f"(index $labels {go_string(label)})"
    if block.strip_port:
        lbl = f"(reReplaceAll {go_string(PORT_RE)} \"\" {lbl})"
    if RUNTIME_BLOCKS[block.name]:
        tests = [f"(eq {lbl} {go_string(v)})" for v in values]
    else:
        tests = [f"(match {go_string(regex_escape(v))} {lbl})" for v in values]
    cond = tests[0] if len(tests) == 1 else "(or " + " ".join(tests) + ")"
    return f"(not {cond})" if block.negated else cond


GO_VALUE = "{{ $value }}"   # the value in a template (text is escaped: it never holds this)


def to_go(parts: list[Part]) -> str:
    out = []
    for p in parts:
        if isinstance(p, Text):
            out.append(go_escape(p.text))
        elif isinstance(p, Value):
            out.append(GO_VALUE)
        elif isinstance(p, Label) and p.strip_port:
            out.append("{{ reReplaceAll " + go_string(PORT_RE) + ' "" $labels.' + p.name + " }}")
        elif isinstance(p, Label):
            out.append("{{ $labels." + p.name + " }}")
        else:
            out.append("{{ if " + _go_condition(p) + " }}" + to_go(p.children) + "{{ end }}")
    return "".join(out)


def _holds(block: Block, labels: dict[str, str]) -> bool:
    have = labels.get(block.args[0], "")
    if block.strip_port:
        have = _PORT.sub("", have)
    exact = RUNTIME_BLOCKS[block.name]
    hit = any((have == v) if exact else (v in have) for v in block.args[1:])
    return hit != block.negated


def render(parts: list[Part], labels: dict[str, str], value: str) -> str:
    """What Prometheus prints for :func:`to_go` of ``parts`` (value already formatted)."""
    if len(parts) == 1 and isinstance(parts[0], Text):   # most annotations are plain text
        return parts[0].text
    out = []
    for p in parts:
        if isinstance(p, Text):
            out.append(p.text)
        elif isinstance(p, Value):
            out.append(value)
        elif isinstance(p, Label):
            out.append(_PORT.sub("", labels.get(p.name, "")) if p.strip_port else labels.get(p.name, ""))
        elif _holds(p, labels):
            out.append(render(p.children, labels, value))
    return "".join(out)


def plain_text(parts: list[Part]) -> str:
    """The text without variables (for alert names)."""
    return "".join(p.text if isinstance(p, Text) else plain_text(p.children) if isinstance(p, Block) else " "
                   for p in parts)


def mentions(parts: list[Part], conditions: tuple[Condition, ...] = ()) -> list[tuple[str, tuple[Condition, ...]]]:
    """@-handles in resolved parts, with the runtime conditions above each."""
    out: list[tuple[str, tuple[Condition, ...]]] = []
    for p in parts:
        if isinstance(p, Text):
            if "@" not in p.text:   # quicker than the pattern's look-behind at every position
                continue
            for m in MENTION_RE.finditer(p.text):
                templated = m.end() == len(p.text) and m.group(1).endswith("-")   # @slack-{{team.name}}
                handle = m.group(1) + "{{…}}" if templated else m.group(1).rstrip(".-")
                entry = (handle, conditions)
                if handle and entry not in out:
                    out.append(entry)
        elif isinstance(p, Block):
            cond = (p.args[0], RUNTIME_BLOCKS[p.name], tuple(p.args[1:]), p.negated, p.strip_port)
            for e in mentions(p.children, conditions + (cond,)):
                if e not in out:
                    out.append(e)
    return out


@functools.lru_cache(maxsize=4096)
def first_link(message: str) -> str | None:
    """The runbook link of a message: a link named like a runbook, else the first link.
    (Remembered: monitors made from one template share their message.)"""
    if "http" not in message:   # every link the pattern finds starts with http(s)://
        return None
    links = []
    for m in URL_RE.finditer(message):
        url = (m.group(2) or m.group(3) or "").rstrip(".,;:")
        if url and "{{" not in url:
            links.append(((m.group(1) or "") + " " + url, url))
    for text, url in links:
        if _RUNBOOK.search(text):
            return url
    return links[0][1] if links else None
