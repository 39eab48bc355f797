"""The snapshot folder: what `dd2prom export` writes and `dd2prom convert` reads.

Layout (one object per file, the API's own JSON shape, sorted keys, indent 2)::

    manifest.json                 optional on input
    monitors/<id>.json
    dashboards/<id>.json
    slos/<id>.json
    synthetics/<public_id>.json
    downtimes/<id>.json
    metrics/<metric name>.json    metadata: type, unit, per_unit, integration
    usage/*.json
    checks/...                    agent check configs and Kubernetes manifests

The corpus in ../shared/corpus has this layout without a manifest and with
file names instead of ids; an object's id is its ``id`` field (``public_id``
for synthetics) or, when absent, its file name without ``.json``.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, TypeVar

try:
    import orjson
    _ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib still works
    orjson = None

T = TypeVar("T")

RESOURCE_DIRS = ("monitors", "dashboards", "slos", "synthetics", "downtimes")
ID_FIELD = {"synthetics": "public_id"}


def dumps(obj: Any) -> str:
    """The one JSON serialisation used for every snapshot and output file:
    sorted keys, indent 2, UTF-8 (diff-friendly and deterministic).

    orjson writes the same text as ``json.dumps(indent=2, sort_keys=True,
    ensure_ascii=False)`` about 20x faster (the stdlib's C encoder does not
    indent), except for a few float spellings (``1e-05`` → ``0.00001``,
    ``1e+16`` → ``1e16``) and NaN (``null``, which is valid JSON). What
    orjson refuses goes through the stdlib."""
    return dumpb(obj).decode("utf-8")


def dumpb(obj: Any) -> bytes:
    """:func:`dumps` as UTF-8 bytes (large files are written without a text copy)."""
    if orjson is not None:
        try:
            return orjson.dumps(obj, option=_ORJSON_OPTIONS)
        except TypeError:   # orjson.JSONEncodeError is a TypeError
            pass
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def dumpb_pieces(document: dict[str, Any], key: str, items: Iterable[Any], size: int) -> Iterator[bytes | memoryview]:
    """:func:`dumpb` of ``document`` with ``document[key]`` the list of
    ``items``, in pieces that join to the same bytes: the items are taken and
    serialised ``size`` at a time, so a large file (coverage.json, 90 MB at
    scale) is written while it is made and is never whole in memory.

    An item may also be an :class:`ItemsText`: items serialised elsewhere by
    :func:`items_text`, copied as they are.

    Raises TypeError where orjson refuses a value (:func:`dumpb` would fall
    back to the standard library, whose text differs): the caller writes the
    whole document instead."""
    if orjson is None:   # pragma: no cover - orjson is a dependency
        yield dumpb({**document, key: list(items)})
        return
    # the document around one item: each piece of items goes where it stands
    text, slot = orjson.dumps({**document, key: [_PIECE_SLOT]}, option=_ORJSON_OPTIONS), orjson.dumps(_PIECE_SLOT)
    head, _, tail = text.partition(slot)
    if text.count(slot) != 1:   # the placeholder's text elsewhere in the document: written whole
        items = list(items)
        if any(type(item) is ItemsText for item in items):
            raise TypeError("the document holds the items' placeholder")
        yield dumpb({**document, key: items})
        return
    separator = head
    for given, run in itertools.groupby(items, key=lambda item: type(item) is ItemsText):
        # items serialised `size` at a time; texts given together written together
        # (thousands of small ones, a dashboard's rows each)
        for piece in (_joined(run) if given else (items_text(batch).text for batch in batches(run, size))):
            if piece:
                yield separator
                yield piece
                separator = _BETWEEN_ITEMS
    if separator is head:   # no items
        yield dumpb({**document, key: []})
        return
    yield tail


class ItemsText(NamedTuple):
    """Items of a list that is a top-level key's value, as orjson writes them
    there (see :func:`dumpb_pieces`)."""

    text: bytes | memoryview


_BETWEEN_ITEMS = b",\n    "
_TEXTS_HELD = 4 << 20   # bytes of given texts joined into one piece at most
_ITEMS_START, _ITEMS_END = b'{\n  "_": [\n    ', b"\n  ]\n}"


def batches(values: Iterator[T], size: int) -> Iterator[list[T]]:
    """``values`` as lists of ``size`` (the last one shorter)."""
    while batch := list(itertools.islice(values, size)):
        yield batch


def _joined(texts: Iterable[ItemsText]) -> Iterator[bytes]:
    """Consecutive texts joined, into pieces of about :data:`_TEXTS_HELD` bytes."""
    held: list[bytes | memoryview] = []
    size = 0
    for item in texts:
        if item.text:
            held.append(item.text)
            size += len(item.text)
        if size >= _TEXTS_HELD:
            yield _BETWEEN_ITEMS.join(held)
            held, size = [], 0
    if held:
        yield _BETWEEN_ITEMS.join(held)


def items_text(values: list[Any]) -> ItemsText:
    """``values`` as :func:`dumpb_pieces` writes them (TypeError where orjson refuses one)."""
    if not values:
        return ItemsText(b"")
    text = orjson.dumps({"_": values}, option=_ORJSON_OPTIONS & ~orjson.OPT_APPEND_NEWLINE)
    if not (text.startswith(_ITEMS_START) and text.endswith(_ITEMS_END)):   # pragma: no cover - orjson's layout
        raise TypeError("unexpected layout of serialised items")
    return ItemsText(memoryview(text)[len(_ITEMS_START):-len(_ITEMS_END)])   # (the piece's MBs not copied again)


_PIECE_SLOT = "dd2prom-items"


def atomic_write_text(path: Path | str, text: str, *, fsync: bool = True) -> None:
    """Write ``text`` so that ``path`` is either the old file or the whole new one.
    ``fsync=False`` skips the flush to disk (still atomic for readers and across a
    killed process); bulk writers then call ``os.sync()`` at their checkpoints."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; snapshot and output files are ordinary files
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: Path | str, obj: Any, *, fsync: bool = True) -> None:
    atomic_write_text(path, dumps(obj), fsync=fsync)


def safe_filename(name: str) -> str:
    """A file name for an id or metric name (no path separators, no leading dot)."""
    cleaned = "".join(c if c.isalnum() or c in "._-:@" else "_" for c in str(name))
    cleaned = cleaned.lstrip(".") or "_"
    return cleaned[:200]


@dataclass
class SnapshotObject:
    kind: str            # folder name: monitors, dashboards, ...
    id: str
    path: Path
    data: Any            # parsed JSON (dict normally; anything if the file is odd)
    error: str | None = None  # set when the file could not be read as JSON


@dataclass
class Snapshot:
    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path | str) -> "Snapshot":
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"snapshot folder {root} does not exist")
        manifest: dict[str, Any] = {}
        mpath = root / "manifest.json"
        if mpath.is_file():
            try:
                manifest = json.loads(mpath.read_text(encoding="utf-8"))
            except ValueError:
                manifest = {}
        return cls(root=root, manifest=manifest)

    def iter(self, kind: str) -> Iterator[SnapshotObject]:
        """Every object of a kind, in file-name order. Unreadable files come back
        with ``error`` set so the caller can record them; they never raise."""
        for path in self.paths(kind):
            yield self.load(kind, path)

    def paths(self, kind: str) -> list[Path]:
        """The files of a kind, in the order :meth:`iter` reads them (for
        stages that hand the reading to worker processes)."""
        folder = self.root / kind
        if not folder.is_dir():
            return []
        # (in one folder the names decide the order; compared as strings, not paths: 15x quicker)
        return sorted(folder.glob("*.json"), key=lambda p: p.name)

    @staticmethod
    def load(kind: str, path: Path) -> SnapshotObject:
        """One object file (never raises on bad content, see :meth:`iter`)."""
        stem = path.stem
        try:
            data = _loads(_read(path))
        except (ValueError, UnicodeDecodeError) as exc:
            return SnapshotObject(kind, stem, path, None, error=f"{path.name}: not valid JSON ({exc})")
        oid = stem
        if isinstance(data, dict):
            value = data.get(ID_FIELD.get(kind, "id"))
            if value not in (None, ""):
                oid = str(value)
        return SnapshotObject(kind, oid, path, data)

    def monitors(self) -> Iterator[SnapshotObject]:
        return self.iter("monitors")

    def dashboards(self) -> Iterator[SnapshotObject]:
        return self.iter("dashboards")

    def slos(self) -> Iterator[SnapshotObject]:
        return self.iter("slos")

    def synthetics(self) -> Iterator[SnapshotObject]:
        return self.iter("synthetics")

    def downtimes(self) -> Iterator[SnapshotObject]:
        return self.iter("downtimes")

    def metric_metadata(self) -> dict[str, dict[str, Any]]:
        """metrics/<name>.json → {name: metadata}. The metric name is the file's
        ``metric`` field when present, else the file name."""
        out: dict[str, dict[str, Any]] = {}
        for obj in self.iter("metrics"):
            if isinstance(obj.data, dict):
                name = obj.data.get("metric") or obj.path.stem
                out[name] = obj.data
        return out

    def usage(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for obj in self.iter("usage"):
            out[obj.path.stem] = obj.data
        return out

    @property
    def checks_dir(self) -> Path:
        return self.root / "checks"


def _read(path: Path) -> bytes:
    """The file's bytes, unbuffered (tens of thousands of small files: no
    buffer object per file, one read sized by fstat)."""
    with open(path, "rb", buffering=0) as f:
        return f.readall()


def _loads(raw: bytes) -> Any:
    """JSON from bytes: orjson (several times quicker on 20,000 monitors), and
    the standard library for what orjson refuses but Python's json reads
    (NaN, numbers beyond a double, lone surrogates) and for its error message."""
    if orjson is not None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf-8"))
