"""Values shared by every stage of the pipeline.

Every converted item ends up as one :class:`CoverageItem` in the ledger
(``coverage.json``). Every difference between what Datadog meant and what we
emit is a :class:`Note`: a severity and one human sentence (pint style).
"""

from __future__ import annotations

import enum
import operator
from dataclasses import dataclass, field
from typing import Any, Iterator


class Status(str, enum.Enum):
    """How faithfully an item was carried over. Ordered from best to worst."""

    EXACT = "exact"
    APPROXIMATE = "approximate"
    MANUAL = "manual"
    UNSUPPORTED = "unsupported"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @classmethod
    def worst(cls, *statuses: "Status") -> "Status":
        """The least faithful of several statuses (EXACT when none are given).
        (Called for every note of every item: the member and its rank are looked
        up in dicts rather than through ``Status(s)``.)"""
        result, worst_rank = cls.EXACT, 0
        for s in statuses:
            member = _STATUS_MEMBER.get(s) if isinstance(s, str) else None
            if member is None:
                member = cls(s)
            rank = _STATUS_RANK[member]
            if rank > worst_rank:
                result, worst_rank = member, rank
        return result

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


_STATUS_ORDER = [Status.EXACT, Status.APPROXIMATE, Status.MANUAL, Status.UNSUPPORTED, Status.ERROR]
_STATUS_RANK = {s: i for i, s in enumerate(_STATUS_ORDER)}
_STATUS_MEMBER = {s.value: s for s in Status}   # a member or its value → the member
# Status(s).value without the enum machinery, for the hundred thousand rows of coverage.json
_STATUS_VALUE = {s: s.value for s in Status}


def _status_value(status: Status | str) -> str:
    return _STATUS_VALUE.get(status) or Status(status).value


class Severity(str, enum.Enum):
    INFO = "info"          # a fact worth knowing, meaning unchanged
    WARNING = "warning"    # the meaning differs a little (approximate)
    BUG = "bug"            # cannot be carried over (unsupported / manual)
    FATAL = "fatal"        # the input itself is broken (error)


@dataclass(frozen=True)
class Note:
    """One problem or remark: a severity and one human sentence."""

    message: str
    severity: Severity = Severity.WARNING
    position: int | None = None  # character offset in the source query, when known

    def __str__(self) -> str:
        return self.message


KINDS = ("monitor", "dashboard", "widget", "slo", "synthetics", "check", "downtime")
_KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}
_BY_ID = operator.attrgetter("id")
_KEY = operator.attrgetter("kind", "id")   # a row's key in the ledger (its id already a string)


@dataclass
class CoverageItem:
    """One input item and what became of it (one row of coverage.json)."""

    kind: str
    id: str
    name: str = ""
    type: str = ""
    status: Status = Status.EXACT
    notes: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    # free-form extras that later stages use (owner tags, metrics used, translations...)
    extra: dict[str, Any] = field(default_factory=dict)

    def note(self, message: str, status: Status | None = None) -> None:
        """Add a sentence and, optionally, lower the status to at least ``status``."""
        if message and message not in self.notes:
            self.notes.append(message)
        if status is not None:
            self.status = Status.worst(self.status, status)

    def __reduce__(self) -> tuple:
        """Pickled as the constructor's arguments: the rows converted in worker
        processes (a hundred thousand at scale) are unpickled by the parent
        about a third quicker than through the instance's state dict."""
        return CoverageItem, (self.kind, self.id, self.name, self.type, self.status, self.notes, self.outputs,
                              self.extra)

    def to_json(self) -> dict[str, Any]:
        # the extras first: the fields after them win a clash (coverage.json sorts the keys)
        return {
            **self.extra,
            "kind": self.kind,
            "id": str(self.id),
            "name": self.name,
            "type": self.type,
            "status": _status_value(self.status),
            "notes": list(self.notes),
            "outputs": sorted(set(self.outputs)) if len(self.outputs) > 1 else list(self.outputs),
        }


class Ledger:
    """The coverage ledger: every input item exactly once."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], CoverageItem] = {}
        # first row's key → (rows, their coverage.json text made elsewhere): see add_text
        self._texts: dict[tuple[str, str], tuple[list[CoverageItem], Any]] = {}

    def add(self, kind: str, id: Any, name: str = "", type: str = "") -> CoverageItem:
        key = (kind, str(id))
        if key in self._items:
            return self._items[key]
        item = CoverageItem(kind=kind, id=str(id), name=name or "", type=type or "")
        self._items[key] = item
        return item

    def adopt(self, item: CoverageItem) -> CoverageItem:
        """Add an item built elsewhere (another process's ledger); an item
        already present under the same key wins, as with :meth:`add`."""
        return self._items.setdefault((item.kind, item.id), item)

    def adopt_all(self, items: list[CoverageItem]) -> None:
        """:meth:`adopt` for each of ``items`` (a dashboard's widget rows: tens
        of thousands in all, keyed in C)."""
        setdefault = self._items.setdefault
        for key, item in zip(map(_KEY, items), items):
            setdefault(key, item)

    def holds_any(self, items: list[CoverageItem]) -> bool:
        """Whether a row with the key of one of ``items`` is already here."""
        return any(map(self._items.__contains__, map(_KEY, items)))

    def get(self, kind: str, id: Any) -> CoverageItem | None:
        return self._items.get((kind, str(id)))

    def __iter__(self):
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for item in self:
            per = out.setdefault(item.kind, {})
            status = _status_value(item.status)
            per[status] = per.get(status, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {"items": [i.to_json() for i in self.in_order()], "counts": self.counts()}

    def in_order(self) -> list[CoverageItem]:
        """The items as coverage.json lists them: kinds in KINDS order (any
        other kind last), then by id. (Sorted kind by kind, on the id alone: a
        hundred thousand rows.)"""
        by_rank: dict[int, list[CoverageItem]] = {}
        for item in self._items.values():
            rank = _KIND_RANK.get(item.kind, 99)
            rows = by_rank.get(rank)
            if rows is None:
                rows = by_rank[rank] = []
            rows.append(item)
        out: list[CoverageItem] = []
        for rank in sorted(by_rank):
            out += sorted(by_rank[rank], key=_BY_ID)
        return out

    def add_text(self, rows: list[CoverageItem], text: Any) -> None:
        """``rows`` (already here, in :meth:`in_order`'s order) have ``text`` as
        their coverage.json text, made where they were converted: a dashboard
        worker serialises its widgets' rows, in parallel, rather than the
        parent at the end of the run. Only for rows nothing will change: the
        text is used while the same row objects stand together in the order."""
        if rows:
            self._texts[(rows[0].kind, rows[0].id)] = (rows, text)

    def rows_json(self) -> Iterator[Any]:
        """:meth:`in_order`'s rows for coverage.json: each row's ``to_json()``, or
        for rows given a text (:meth:`add_text`) that text, once."""
        texts = self._texts
        rows = self.in_order()
        i, n = 0, len(rows)
        while i < n:
            item = rows[i]
            known = texts.get((item.kind, item.id)) if texts else None
            if known is not None:
                group, text = known
                if len(group) <= n - i and all(map(operator.is_, group, rows[i:i + len(group)])):
                    yield text
                    i += len(group)
                    continue
            yield item.to_json()
            i += 1
