"""One YAML style for every file dd2prom writes: block style, no aliases,
literal blocks for multi-line strings, keys in the order they were built."""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable

import yaml

from dd2prom.emit import fastyaml


# libyaml's emitter when present: the pure-Python one is slow on large
# literal blocks (dashboard JSON inside ConfigMaps).
_Base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


WIDTH = fastyaml.WIDTH   # PyYAML folds long plain and quoted scalars past this column

_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _literal_ok(data: str) -> bool:
    """Multi-line text that round-trips as a ``|`` literal block, and not one
    kept with ``|+`` (text that ends in an empty line): after those PyYAML ends
    the document with ``...``, and documents assembled from pieces
    (:func:`dump_yaml_items`) must have no end before their last piece. Nor text
    ending in NEL, LS or PS: line breaks to PyYAML, which then writes ``|+`` or
    leaves the block's last line without ``\n`` (the next piece would join it)."""
    return " \n" not in data and _literal_ok_but_line_ends(data)


def _literal_ok_but_line_ends(data: str) -> bool:
    """:func:`_literal_ok` of ``data`` whose lines are known to end in no space
    (in large text that is looked for in one pass over its bytes, see :func:`nest_yaml_utf8`)."""
    return "\n" in data and "\r" not in data and "\t" not in data and not data.endswith((" ", "\n\n")) \
        and data != "\n" and not data.endswith(_OTHER_BREAK_ENDS)


# NEL, LS, PS: line breaks to PyYAML (see _literal_ok)
_OTHER_BREAKS = ("\x85", "\u2028", "\u2029")
_OTHER_BREAK_ENDS = (*_OTHER_BREAKS, *(c + "\n" for c in _OTHER_BREAKS))


def _other_breaks(text: str) -> bool:
    """Whether ``text`` holds a line break other than ``\n`` (see _literal_ok)."""
    return any(c in text for c in _OTHER_BREAKS)


class _Dumper(_Base):  # type: ignore[valid-type,misc]
    """SafeDumper's output, with a direct node builder for plain data.

    PyYAML's representer dispatches every value through several Python calls;
    for the dicts, lists and scalars dd2prom writes (hundreds of MB at scale)
    :meth:`represent_data` builds the same nodes in one recursive function.
    Anything else (floats, other types) goes through the standard representer."""

    def ignore_aliases(self, data: Any) -> bool:  # never emit &anchors / *aliases
        return True

    def represent_data(self, data: Any) -> yaml.Node:
        t = type(data)
        if t is str:
            return yaml.ScalarNode(_STR, data, style="|" if _literal_ok(data) else None)
        if t is dict:
            node = self.represent_data
            return yaml.MappingNode(_MAP, [(node(k), node(v)) for k, v in data.items()], flow_style=False)
        if t is list:
            return yaml.SequenceNode(_SEQ, [self.represent_data(v) for v in data], flow_style=False)
        if t is int:
            return yaml.ScalarNode(_INT, str(data))
        if t is bool:
            return yaml.ScalarNode(_BOOL, "true" if data else "false")
        if data is None:
            return yaml.ScalarNode(_NULL, "null")
        return super().represent_data(data)

    _resolved: dict[tuple, str] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        """The emitter asks, for every scalar, which tag it would resolve to;
        short values (keys, labels, states) repeat: remember their answer."""
        if kind is not yaml.ScalarNode or len(value) > 64:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            if len(self._resolved) > 200_000:
                self._resolved.clear()
            tag = self._resolved[key] = super().resolve(kind, value, implicit)
        return tag


def dump_yaml(obj: Any) -> str:
    text = fastyaml.emit(obj)
    if text is not None:
        return text
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=WIDTH)


def dump_yaml_all(objs: Iterable[Any]) -> str:
    objs = list(objs)
    text = fastyaml.emit_all(objs)
    if text is not None:
        return text
    return yaml.dump_all(objs, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=WIDTH, explicit_start=True)


def nest_yaml(text: str, spaces: int) -> str | None:
    """``text``, what :func:`dump_yaml` wrote for a non-empty dict (or
    :func:`dump_yaml_items` for a list's items), ``spaces`` deeper without dumping
    again (alertmanager.yaml is tens of MB, and its Secret and Helm values hold it
    again; a PrometheusRule holds its rule file's groups). It is what :func:`dump_yaml` writes both for the
    same dict as the value of a key at column ``spaces - 2`` (after ``key:``) and
    for ``text`` as a ``|`` block whose lines start at column ``spaces``: every
    line indented, empty ones (inside ``|`` blocks) left empty.

    None where that may not hold: text that would not be written as a ``|`` block
    (see :func:`_literal_ok`; NEL, LS and PS are line breaks to PyYAML that this
    indents past), a document end marker, or a line that may be folded at the width
    (see :func:`_unfolded`)."""
    if not _nestable(text, spaces):
        return None
    nested = fastyaml.indent_lines(text[:-1] if text.endswith("\n") else text, " " * spaces)
    return nested + "\n" if text.endswith("\n") else nested


def _nestable(text: str, spaces: int, line_ends_known: bool = False) -> bool:
    """Whether :func:`nest_yaml` may indent ``text`` (see there); ``line_ends_known``:
    no line of ``text`` ends in a space (checked by the caller)."""
    return (line_ends_known or " \n" not in text) and _literal_ok_but_line_ends(text) and text[0] not in " \n" \
        and not _other_breaks(text) and not text.endswith("\n...\n") and _unfolded(text, WIDTH - spaces)


def nest_yaml_utf8(text: str, data: bytes, spaces: int) -> list[bytes] | None:
    """:func:`nest_yaml` of ``text`` as UTF-8 (``data``: ``text`` encoded), in
    pieces that join to it, or None. Text without empty lines (alertmanager.yaml,
    tens of MB, written twice more nested) is indented in one pass over its
    bytes, and the result is neither sliced nor joined again (``\n`` is never
    part of a multi-byte UTF-8 character)."""
    # empty lines stay empty: line by line (as does text with a line ending in a space,
    # never nested: both looked for in one pass, two-character searches are slow on YAML's spaces)
    if not text.endswith("\n") or fastyaml.SPACE_OR_BREAK_BREAK.search(data):
        nested = nest_yaml(text, spaces)
        return None if nested is None else [nested.encode("utf-8")]
    if not _nestable(text, spaces, line_ends_known=True):
        return None
    pad = b" " * spaces
    # every line after the pad; the pad the last line break gets is cut off
    return [pad, memoryview(data.replace(b"\n", b"\n" + pad))[:-spaces]]   # type: ignore[list-item]


def unnest_yaml(text: str, spaces: int) -> str | None:
    """The inverse of :func:`nest_yaml` for dumped data: ``text``, what
    :func:`dump_yaml_items` wrote for items ``spaces // 2`` levels deeper, as
    it writes them at their place (each line ``spaces`` fewer columns in; empty
    lines, in ``|`` blocks, stay empty). One pass in C where nesting (empty
    lines left as they are) goes line by line: a PrometheusRule's groups are
    dumped at their depth and the rule file's taken from them.

    None where that may not hold: a line that was or may be folded (see
    :func:`_unfolded`), or a line break other than ``\n`` (NEL, LS, PS)."""
    pad = " " * spaces
    if not text.startswith(pad) or _other_breaks(text) or not _unfolded(text, WIDTH):
        return None
    # (a pattern's search finds a line break quicker than str.replace looks for one followed by spaces)
    return _line_starts(spaces).sub("\n", "\n" + text)[1:]


@functools.lru_cache(maxsize=16)
def _line_starts(spaces: int) -> re.Pattern[str]:
    return re.compile("\n" + " " * spaces)


def _unfolded(text: str, width: int) -> bool:
    """No line was folded and none would be within ``width`` columns. Scalars are
    folded at a space past the width, the rest going on a deeper line; a long line
    without spaces near its end (a regex of ids) is left as it is. A line that long
    holds a whole block of ``width // 2`` characters aligned to a multiple of that:
    only lines around such blocks without a line break are looked at."""
    block = max(width // 2, 1)
    end = 0   # where the last line looked at ends
    for start in range(0, len(text) - block + 1, block):
        if start < end or text.find("\n", start, start + block) != -1:
            continue
        first = text.rfind("\n", 0, start) + 1
        end = _line_end(text, start + block)
        line, following = text[first:end], text[end + 1:_line_end(text, end + 1)]
        if len(line) >= width and (line.find(" ", width - 1) != -1 or
                                   len(following) - len(following.lstrip(" ")) > len(line) - len(line.lstrip(" "))):
            return False
    return True


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end == -1 else end


SLOT = "dd2prom-slot"   # a value standing for YAML text made elsewhere (see split_at_slot)


def split_at_slot(document: Any) -> tuple[str, str]:
    """:func:`dump_yaml` of ``document`` cut where its one :data:`SLOT` value
    stands: text made for that place (:func:`dump_yaml_items` for a list whose
    item is the slot, :func:`nest_yaml` for a mapping value) goes between the
    head and the tail. The head ends with a line break: before the slot's ``-``,
    or after ``key:``."""
    text = dump_yaml(document)
    at = text.find(f" {SLOT}\n")
    if at == -1 or text.find(f" {SLOT}\n", at + 1) != -1:
        raise ValueError("the document must hold the slot value once")
    line = text.rfind("\n", 0, at) + 1
    head = text[:line] if text[line:at].strip() == "-" else text[:at] + "\n"
    return head, text[at + len(SLOT) + 2:]


def dump_yaml_items(items: list[Any], depth: int) -> str:
    """The text :func:`dump_yaml` writes for ``items`` where they are a block
    sequence ``depth`` mappings deep (1: the value of a top-level key, whose
    items sit at column 0; 2: under a key at indent 2...). In block style with
    no aliases an item's text depends only on where it sits, so the texts of
    consecutive slices of a list, joined, are the text of the whole list there:
    a document can be assembled from pieces made in different processes."""
    if not items:
        return ""
    text = fastyaml.emit_items(items, 2 * (depth - 1))   # (the same text, without the keys around)
    if text is not None:
        return text
    wrapped: Any = items
    for _ in range(depth):
        wrapped = {"_": wrapped}
    text = dump_yaml(wrapped)
    prefix = "".join(" " * (2 * level) + "_:\n" for level in range(depth))
    if not text.startswith(prefix) or text.endswith("\n...\n"):
        raise ValueError(f"unexpected YAML for nested items: {text[:80]!r}")
    return text[len(prefix):]


def load_yaml_all(text: str) -> list[Any]:
    return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error as one line ("line 2: did not find expected ','"), for messages about
    files the user wrote; PyYAML's own text spans several lines with a caret."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unreadable"])[0]
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)
