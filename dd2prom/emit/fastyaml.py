"""A direct writer of the YAML :mod:`dd2prom.emit.yamlio` produces, for plain data.

At scale (20,000 monitors) PyYAML spends most of a conversion in per-node Python
callbacks, even with libyaml's emitter. The documents dd2prom writes are dicts,
lists, short one-line strings, multi-line text and numbers; for those this module
writes, character for character, what PyYAML + libyaml write with yamlio's
settings (block style, indent 2, insertion order, unicode, width 10,000, ``|``
literal blocks for multi-line text). Anything it is not sure about (other types,
long or unusual strings, keys that are not short strings) makes :func:`emit`
return None, and the caller uses PyYAML. ``tests/test_yaml_fast.py`` compares
both writers on every file of converted organisations and on generated data.
Documents of one structure written again and again with other values (the
promtool tests of monitors alike) can be written once as a :func:`template`
and then :func:`fill`-ed with each one's values.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

from yaml import ScalarNode
from yaml.resolver import Resolver

_STR = "tag:yaml.org,2002:str"
# characters libyaml prints as they are (printable, not a line break, no BOM)
_LINE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*\\Z")
_TEXT = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*\\Z")
# a plain scalar may not start with an indicator, nor with ``- ``, ``? ``, ``: ``, ``---``, ``...``
_NOT_FIRST = frozenset("#,[]{}&*!|>'\"%@` ")
WIDTH = 10_000         # yamlio's width: libyaml folds plain scalars at a space past it
_MAX_LINE = 8_000      # shorter one-line scalars can never reach the width
_FOLD = "\0fold"       # _inline's answer for a long plain scalar: fold it where it is written
_MAX_KEY = 100         # libyaml writes keys over 128 characters as complex keys
_resolver = Resolver()
# first characters of the scalars PyYAML may read as something else than a string
# (numbers, booleans, null...); the resolver is not asked about the others
_RESOLVED_FIRST = frozenset(k for k in Resolver.yaml_implicit_resolvers if k)
# a string starting with none of these needs no test of its first characters (most:
# letters, parentheses), one set lookup instead of four tests
_FIRST_TO_CHECK = _NOT_FIRST | _RESOLVED_FIRST | frozenset("-?:.")
_CACHED = 200          # strings up to this long have their answers remembered
_CACHE_MAX = 100_000   # entries per cache before it starts over (caches live for the process)
_inline_cache: dict[str, str | None] = {}
# a one-line string that is written inline → `` text\n``, as it follows ``key:`` or ``-``
# (the common value: a label, a state, a duration; one lookup instead of three)
_line_cache: dict[str, str] = {}
# (multi-line text, indent of its key) → the ``|`` block as written, for short texts
_literal_cache: dict[tuple[str, int], str] = {}
_LITERAL_CACHED, _LITERAL_CACHE_MAX = 1_000, 10_000   # (at most ~20 MB)
# (long one-line string, its column, indent) → `` text\n`` as written: a promtool
# series of thousands of samples recurs in the tests of monitors alike
_long_cache: dict[tuple[str, int, int], str] = {}
_LONG_CACHE_CHARS = 8 << 20    # characters held at most
_long_cached = 0
_key_cache: dict[str, str] = {}     # mapping key → ``key:`` as written
_padded_keys: dict[int, dict[str, str]] = {}   # indent → key → ``key:`` after the indentation
# dicts written as sequence items during one emit: (id, indent) → their slice of
# the output (start, end), or their text once asked for again
_seen: dict[tuple[int, int], tuple[int, int] | str] = {}


class _Unsure(Exception):
    """The document holds something this writer does not reproduce exactly."""


def _inline(s: str) -> str | None:
    """A one-line string as libyaml writes it (plain or single-quoted), :data:`_FOLD`
    for a long plain one (folded at the width, see :func:`_folded`), or None."""
    hit = _inline_cache.get(s, False)
    if hit is not False:
        return hit   # type: ignore[return-value]
    out: str | None
    if not s:
        out = "''"
    elif not _printable(s):
        out = None
    elif (s[0] in _FIRST_TO_CHECK and (
            s[0] in _NOT_FIRST or (s[0] in "-?:" and s[1:2] in ("", " ")) or s.startswith(("---", "..."))
            or (s[0] in _RESOLVED_FIRST and _resolves_other(s)))) \
            or s[-1] in " :" or (":" in s and ": " in s) or ("#" in s and " #" in s):
        # single-quoted scalars fold too, with other rules: long ones are left to PyYAML
        out = None if len(s) > _MAX_LINE and " " in s else "'" + s.replace("'", "''") + "'"
    else:
        out = _FOLD if len(s) > _MAX_LINE and " " in s else s
    if len(s) <= _CACHED:
        if len(_inline_cache) > _CACHE_MAX:
            _inline_cache.clear()
            _line_cache.clear()
        _inline_cache[s] = out
        if out is not None and out is not _FOLD:
            _line_cache[s] = " " + out + "\n"
    return out


def _resolves_other(s: str) -> bool:
    """Whether PyYAML reads plain ``s`` as something else than a string (its first
    character is one of :data:`_RESOLVED_FIRST`). A letter starts only booleans
    and null, words of at most 5 letters: longer text (alert names, summaries)
    needs no resolver."""
    if len(s) > 5 and s[0].isalpha():
        return False
    if s.isdigit() and s.isascii() and (s[0] != "0" or len(s) == 1):
        return True   # a decimal integer (a monitor's id): PyYAML's int pattern, without asking it
    if s[0] in "0123456789" and _NUMBER_OR_TIME.match(s) is None:
        return False  # a digit then a character no int, float or timestamp holds ("100006 cart-api ...")
    return _resolver.resolve(ScalarNode, s, (True, False)) != _STR


# every character PyYAML's int, float and timestamp patterns (the resolvers of a
# string starting with a digit) can match: a string with any other is none of them
_NUMBER_OR_TIME = re.compile(r"[0-9_.eE+\-:bxa-fA-FTtZ \t]*\Z")


def _printable(s: str) -> bool:
    """Every character of one-line ``s`` is one libyaml prints as it is (:data:`_LINE`).
    (For ASCII that is ``isprintable()``; on long text, a promtool series of a
    week of minutes, deleting the printable bytes is several times quicker.
    So, above, is looking for ``:`` and ``#`` before ``": "`` and ``" #"``.)"""
    if not s.isascii():
        return _LINE.match(s) is not None
    if len(s) < 1_000:
        return s.isprintable()
    return not s.encode("ascii").translate(None, _PLAIN_BYTES)   # (no line break in one-line text)


def _literal_ok(s: str) -> bool:
    """yamlio's rule for ``|`` blocks (see yamlio._literal_ok) and what this writer handles."""
    return "\n" in s and not s.endswith((" ", "\n\n")) and " \n" not in s and s[0] not in " \n" \
        and _TEXT.match(s) is not None   # (literal blocks are never folded)


def _literal(s: str, indent: int) -> str:
    """`` |-`` / `` |`` and the text's lines, each non-empty one indented."""
    body = indent_lines(s[:-1] if s.endswith("\n") else s, " " * indent)
    return (" |-\n" if not s.endswith("\n") else " |\n") + body + "\n"


def indent_lines(body: str, pad: str) -> str:
    """Every line of ``body`` after ``pad``; empty lines stay empty."""
    if "\n\n" in body:
        return "\n".join(pad + line if line else "" for line in body.split("\n"))
    return pad + body.replace("\n", "\n" + pad)   # (a dashboard's JSON in its ConfigMap: a million lines)


def _float(x: float) -> str:
    """SafeRepresenter's spelling of a float."""
    if x != x:
        return ".nan"
    if x in (float("inf"), float("-inf")):
        return ".inf" if x > 0 else "-.inf"
    text = repr(x).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def _scalar(value: Any) -> str | None:
    """An inline non-string scalar, or None when ``value`` is not one."""
    t = type(value)
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if value is None:
        return "null"
    if t is float:
        return _float(value)
    return None


def _folded(s: str, column: int, indent: int) -> str:
    """A plain scalar starting at ``column`` as libyaml writes it: a single space
    followed by a non-space, once the line is past the width, becomes a line
    break and ``indent`` spaces. (Spaces before the width are skipped over:
    promtool series of a day of minutes are 10,000 characters long.)"""
    parts = []
    start = 0
    pos = s.find(" ", start + max(0, WIDTH - column + 1))
    while pos != -1:
        if s[pos - 1] != " " and s[pos + 1:pos + 2] not in ("", " "):
            parts.append(s[start:pos])
            parts.append("\n" + " " * indent)
            column = indent
            start = pos + 1
            pos = s.find(" ", start + max(0, WIDTH - column + 1))
        else:
            pos = s.find(" ", pos + 1)
    parts.append(s[start:])
    return "".join(parts)


def _value(value: Any, indent: int, out: list[str], column: int) -> None:
    """A mapping value or sequence item after ``key:`` / ``-`` (no space yet);
    ``indent`` is the indentation of the collection holding it, ``column``
    where the value starts (after the space)."""
    t = type(value)
    if t is str:
        line = _line_cache.get(value)
        if line is not None:
            out.append(line)
        else:
            _string(value, indent, out, column)
        return
    text = _scalar(value)
    if text is not None:
        out.append(" " + text + "\n")
        return
    raise _Unsure


def _string(value: str, indent: int, out: list[str], column: int) -> None:
    """:func:`_value` of a string not in :data:`_line_cache`."""
    if "\n" in value:
        # the same text repeats in a document (an alert's description, expected in several tests)
        key = (value, indent)
        text = _literal_cache.get(key)
        if text is None:
            if not _literal_ok(value):
                raise _Unsure
            text = _literal(value, indent + 2)
            if len(value) <= _LITERAL_CACHED:
                if len(_literal_cache) > _LITERAL_CACHE_MAX:
                    _literal_cache.clear()
                _literal_cache[key] = text
        out.append(text)
        return
    if len(value) > _CACHED:
        out.append(_long(value, column, indent))
        return
    text = _inline(value)   # (a string this short is never folded)
    if text is None:
        raise _Unsure
    out.append(" " + text + "\n")


def _long(value: str, column: int, indent: int) -> str:
    """`` value\n`` for a one-line string longer than :data:`_CACHED`, as
    :func:`_value` writes it, remembered (bounded by :data:`_LONG_CACHE_CHARS`)."""
    global _long_cached
    key = (value, column, indent)
    line = _long_cache.get(key)
    if line is not None:
        return line
    text = _inline(value)
    if text is _FOLD:
        line = " " + _folded(value, column, indent + 2) + "\n"
    elif text is not None:
        line = " " + text + "\n"
    else:
        raise _Unsure
    if _long_cached + len(line) > _LONG_CACHE_CHARS:
        _long_cache.clear()
        _long_cached = 0
    _long_cache[key] = line
    _long_cached += len(line)
    return line


def _key(k: Any) -> str:
    """``key:`` as written, or _Unsure."""
    key = _key_cache.get(k) if type(k) is str else None
    if key is not None:
        return key
    if type(k) is not str or len(k) > _MAX_KEY or "\n" in k:
        raise _Unsure
    inline = _inline(k)
    if inline is None:
        raise _Unsure
    if len(_key_cache) > _CACHE_MAX:
        _key_cache.clear()
    key = _key_cache[k] = inline + ":"
    return key


def _padded_key(k: Any, indent: int, keys: dict[str, str]) -> str:
    """``key:`` after ``indent`` spaces, remembered in ``keys`` (that indent's)."""
    text = " " * indent + _key(k)
    if len(keys) > _CACHE_MAX:
        keys.clear()
    keys[k] = text
    return text


def _mapping(d: dict, indent: int, out: list[str], first_inline: bool) -> None:
    """A block mapping at ``indent``; ``first_inline``: its first key follows ``- ``.
    (The hottest loop of a conversion: the common cases, a key written before
    and a short one-line string value, are looked up whole.)"""
    keys = _padded_keys.get(indent)
    if keys is None:
        keys = _padded_keys[indent] = {}
    append = out.append
    first = len(out)   # (a first key after ``- `` loses its indentation once written, below)
    for k, v in d.items():
        key = keys.get(k)   # (only string keys are ever remembered)
        if key is None:
            key = _padded_key(k, indent, keys)
        append(key)
        if type(v) is str:
            line = _line_cache.get(v)
            if line is not None:
                append(line)
            else:
                _string(v, indent, out, len(key) + 1)
        else:
            _entry(v, indent, out, len(key) + 1)
    if first_inline:   # (its column was the same: ``- `` takes the indentation's place)
        out[first] = out[first][indent:]


def _entry(v: Any, indent: int, out: list[str], column: int) -> None:
    """A value of a mapping at ``indent``, after its key (its column: where the
    value starts); in a :func:`template`, a :class:`Slot`. (:func:`_mapping`
    writes strings itself, the common case.)"""
    t = type(v)
    if t is dict:
        if v:
            out.append("\n")
            _mapping(v, indent + 2, out, False)
        else:
            out.append(" {}\n")
    elif t is list:
        if v:
            out.append("\n")
            _sequence(v, indent, out, False)   # indentless under a key
        else:
            out.append(" []\n")
    elif t is Slot and _slots is not None:
        out.append(f"\0{len(_slots)}\0")   # (no text written holds a NUL: unprintable)
        _slots.append((v.name, indent, column))
    else:
        _value(v, indent, out, column)


def _sequence(items: list, indent: int, out: list[str], first_inline: bool) -> None:
    """A block sequence whose ``-`` sit at ``indent``."""
    dash = " " * indent + "-"
    append = out.append
    first = len(out)
    for v in items:
        append(dash)
        t = type(v)
        if t is dict and v:
            append(" ")
            # the same dict object at the same place is the same text: documents
            # that list one object several times (promtool tests expecting one
            # alert at several times) write it once and copy it
            key = (id(v), indent)
            seen = _seen.get(key)
            if seen is None:
                start = len(out)
                _mapping(v, indent + 2, out, True)
                _seen[key] = (start, len(out))
            elif type(seen) is str:
                append(seen)
            else:
                text = _seen[key] = "".join(out[seen[0]:seen[1]])
                append(text)
        elif t is list and v:
            append(" ")
            _sequence(v, indent + 2, out, True)
        elif t is dict:
            append(" {}\n")
        elif t is list:
            append(" []\n")
        else:
            _value(v, indent, out, indent + 2)
    if first_inline:   # its ``-`` follows the enclosing item's ``- ``
        out[first] = "-"


def _document(obj: Any, out: list[str]) -> None:
    t = type(obj)
    if t is dict and obj:
        _mapping(obj, 0, out, False)
    elif t is list and obj:
        _sequence(obj, 0, out, False)
    else:
        raise _Unsure   # empty or scalar documents: rare, left to PyYAML


def emit(obj: Any) -> str | None:
    """``yamlio.dump_yaml(obj)`` for plain data, or None (use PyYAML)."""
    return emit_all([obj], start="")


def emit_items(items: list[Any], indent: int) -> str | None:
    """The block sequence of non-empty ``items`` as :func:`emit` writes it where its
    ``-`` sit at column ``indent`` (under a key at that column), or None."""
    return _written(lambda out: _sequence(items, indent, out, False))


def emit_all(objs: list[Any], start: str = "---\n") -> str | None:
    """``yamlio.dump_yaml_all(objs)`` (``start`` before each document), or None."""
    def documents(out: list[str]) -> None:
        for obj in objs:
            if start:
                out.append(start)
            _document(obj, out)
    return _written(documents)


class Slot(NamedTuple):
    """A mapping's value left open in a :func:`template`, named."""

    name: str


# a template's pieces: text, or (slot name, indent, column) where a value is written
Template = tuple["str | tuple[str, int, int]", ...]
_slots: list[tuple[str, int, int]] | None = None   # while a template is made: its slots


def template(items: list[Any], indent: int) -> Template | None:
    """:func:`emit_items` of ``items`` whose mappings hold :class:`Slot` values,
    as the text around the slots and each slot's place, for :func:`fill`; or None.
    Documents alike but for some values (the promtool tests of monitors alike:
    their names, series and expected alerts) are then written without walking
    their structure again. A value is written the same wherever it has the same
    indentation and column (a long line folds by column, a ``|`` block indents by
    its key): so the text of ``items`` with the slots' values is that of the
    template filled with them."""
    global _slots
    _slots = []
    try:
        text = emit_items(items, indent)
        slots = _slots
    finally:
        _slots = None
    if text is None:
        return None
    parts = text.split("\0")
    return tuple(slots[int(part)] if i % 2 else part for i, part in enumerate(parts) if part or i % 2)


def fill(pieces: Template, values: dict[str, Any]) -> str | None:
    """A :func:`template`'s text with each slot's value from ``values`` (by its name), or None."""
    def write(out: list[str]) -> None:
        append = out.append
        for piece in pieces:
            if type(piece) is str:
                append(piece)
                continue
            name, indent, column = piece
            _entry(values[name], indent, out, column)
    return _written(write)


def _written(write: Callable[[list[str]], None]) -> str | None:
    """The text ``write`` puts in a list, or None where this writer is not sure of it."""
    out: list[str] = []
    try:
        write(out)
    except (_Unsure, RecursionError):
        return None
    finally:
        _seen.clear()
    return "".join(out)


# bytes a ``|`` block holds as they are: the line break and printable ASCII. Deleting
# them from UTF-8 text leaves its other characters, still valid UTF-8 (the bytes of
# a multi-byte character are never ASCII), for :data:`_TEXT` to look at.
_PLAIN_BYTES = bytes([0x0A, *range(0x20, 0x7F)])
# a line break after a space or another line break: each line break found, then the
# byte before it looked at (one pass; ``in`` is slow on text indented with spaces)
SPACE_OR_BREAK_BREAK = re.compile(rb"\n(?<=[ \n]\n)")


def literal_lines(text: bytes, indent: int) -> bytes | None:
    """The lines of the ``|`` block :func:`emit` writes for ``text`` (UTF-8 ending
    in a line break) as the value of a key at ``indent``, as bytes; None when it
    would not be such a block. For large texts (a dashboard's JSON in its
    ConfigMap): one pass over the bytes instead of several over the string."""
    if not text.endswith(b"\n") or text[0] in b" \n" or SPACE_OR_BREAK_BREAK.search(text):
        return None
    rest = text.translate(None, _PLAIN_BYTES)
    try:
        if rest and _TEXT.match(rest.decode("utf-8")) is None:
            return None
    except UnicodeDecodeError:   # not UTF-8: not text this writer handles
        return None
    pad = b" " * (indent + 2)
    return pad + text[:-1].replace(b"\n", b"\n" + pad) + b"\n"
