"""The export runner: the part every resource type shares.

* Paged lists are walked page by page. A page that keeps failing after the
  client's retries is split into smaller pages (down to single objects), so
  one object the API cannot serialise costs that object, not its page.
* Per-object fetches run on a bounded thread pool; a failure (403, 5xx after
  retries) is recorded for that object and the rest goes on.
* Every file is written atomically. A state file (``.export-state.json``,
  itself atomic) checkpoints each list's position, so a rerun after a crash or
  ``kill -9`` continues where it stopped; objects already on disk and
  unchanged (same ``modified_at``) are not fetched again unless ``--refresh``.
  Files the API no longer lists are reported, never deleted.
  Objects that failed last time (the previous manifest's errors) are retried.
* Everything ends in ``manifest.json``: counts, errors and warnings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dd2prom import __version__
from dd2prom.export.client import CallError, Datadog
from dd2prom.export.resources import RESOURCES, Resource
from dd2prom.snapshot import atomic_write_json, atomic_write_text, dumps, safe_filename

STATE_DIR = ".export-state"           # <kind>.json checkpoints of an unfinished run
MANIFEST = "manifest.json"
ISOLATION_BUDGET = 50      # single objects a list may lose before the list is given up


@dataclass
class ExportOptions:
    out: Path
    kinds: list[str] = field(default_factory=lambda: list(RESOURCES))
    tags: list[str] = field(default_factory=list)
    ids: set[str] | None = None
    refresh: bool = False
    usage_months: int = 3
    concurrency: int = 8
    page_size: int | None = None      # override every list's page size (tests, tuning)

    def fingerprint(self) -> str:
        """What must match for a rerun to resume the state file."""
        text = json.dumps([self.kinds, sorted(self.tags), sorted(self.ids or []), self.ids is None,
                           self.usage_months, self.page_size])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def filtered(self) -> bool:
        return bool(self.tags) or self.ids is not None


@dataclass
class KindReport:
    listed: int = 0       # objects the list returned (after --id-file/--tag)
    fetched: int = 0      # objects fetched one by one
    written: int = 0      # files created or changed
    unchanged: int = 0    # fetched, identical to the file already there
    kept: int = 0         # already on disk and current: not fetched again
    stale: int = 0        # files the list did not return (deleted in Datadog, or from --from)
    errors: int = 0
    seconds: float = 0.0


class Progress:
    """What the runner tells the user while it runs (no-op by default)."""

    def start(self, kind: str) -> None: ...
    def total(self, kind: str, n: int) -> None: ...
    def advance(self, kind: str, n: int = 1) -> None: ...
    def done(self, kind: str) -> None: ...


class Runner:
    def __init__(self, dd: Datadog, options: ExportOptions, *, site: str, base_url: str,
                 progress: Progress | None = None):
        self.dd = dd
        self.options = options
        self.out = Path(options.out)
        self.site, self.base_url = site, base_url
        self.progress = progress or Progress()
        self.reports: dict[str, KindReport] = {}
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.state: dict[str, dict[str, Any]] = {}     # kind → its checkpoint
        self.retry_ids: set[tuple[str, str]] = set()
        self.stopping = threading.Event()
        self.manifest_lock = threading.Lock()
        self.started = _now()

    # ------------------------------------------------------------------ run
    def run(self) -> dict[str, Any]:
        """Export every requested kind. Two lanes run side by side, since they
        are bound by different things: lists written as they come (monitors,
        SLOs, downtimes, usage: disk and CPU) and per-object fetches
        (dashboards, synthetics: latency and the rate limit). Metric metadata
        comes last: it needs the queries of the objects exported before.
        ``--concurrency 1`` runs everything in sequence."""
        self.started = _now()
        self.out.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temp_files()
        self._load_previous_run()
        for kind in self.options.kinds:
            self.reports[kind] = KindReport()
            self.progress.start(kind)
        lanes = [[k for k in self.options.kinds if RESOURCES[k].lane == lane] for lane in ("write", "fetch", "after")]
        results: list[bool] = []
        with ThreadPoolExecutor(max_workers=2 if self.options.concurrency > 1 else 1) as pool:
            futures = [pool.submit(self._run_lane, lane) for lane in lanes[:2] if lane]
            try:
                results += [f.result() for f in futures]
            except BaseException:
                self.stopping.set()            # Ctrl-C: lanes stop at their next step
                raise
        results.append(self._run_lane(lanes[2]))
        manifest = self._write_manifest(complete=all(results))
        os.sync()                  # the whole snapshot reaches the disk once, at the end
        shutil.rmtree(self.out / STATE_DIR, ignore_errors=True)
        return manifest

    def _run_lane(self, kinds: list[str]) -> bool:
        complete = True
        for kind in kinds:
            t0 = time.monotonic()
            try:
                finished = self._export(RESOURCES[kind])
            except Exception as exc:       # the whole list failed (401/403, ...): next kind
                self.error(kind, None, "list", CallError.wrap(exc, self.dd.redact))
                finished = False
            complete &= finished
            self.reports[kind].seconds = round(time.monotonic() - t0, 2)
            self.progress.done(kind)
            self._write_manifest(complete=False)
        return complete

    def _export(self, res: Resource) -> bool:
        st = self.state.setdefault(res.kind, {})
        if st.get("complete"):
            return True
        if res.page_size:
            finished = self._list(res, st)
            targets = [(oid, entry) for oid, entry in st["seen"].items() if self._wanted_before_fetch(res, oid, entry)]
        else:
            finished = True
            targets = list(res.targets(self))
        if res.detail or not res.page_size:
            finished &= self._fetch_all(res, targets)
        if finished and res.page_size and not self.options.filtered:
            self._report_stale(res, st["seen"])
        st["complete"] = finished
        self._save_state(res.kind)
        return finished

    # ------------------------------------------------------------------ lists
    def _list(self, res: Resource, st: dict[str, Any]) -> bool:
        """Walk the list from the checkpoint; list entries are written right away
        when they are the objects. False when part of the list was lost."""
        size = self.options.page_size or res.page_size
        if st.get("page_size") != size or st.get("lost"):
            # a list that lost objects in an earlier run (finished or killed) is
            # walked again from the start: they may be listable now, and this run
            # must name them if not
            st.update(page_size=size, offset=0, seen={}, listed=False, lost=0)
        if st["listed"]:
            return st["lost"] == 0
        report = self.reports[res.kind]
        budget = [ISOLATION_BUDGET - st["lost"]]
        previous: str | None = None                          # id of the last object of the page before
        with ThreadPoolExecutor(max_workers=1) as ahead:     # next page loads while this one is written
            page = ahead.submit(self._range, res, st["offset"], size, budget)
            while True:
                if self.stopping.is_set():
                    raise KeyboardInterrupt
                offset = st["offset"]
                placed, lost, end = page.result()
                more = not end and budget[0] > 0
                if more:
                    page = ahead.submit(self._range, res, offset + size, size, budget)
                items = [obj for _, obj in placed]
                self._record_lost(res, lost, placed, offset, previous)
                previous = res.object_id(items[-1]) if items and isinstance(items[-1], dict) else previous
                for obj in items:
                    if not isinstance(obj, dict):
                        continue
                    oid = res.object_id(obj)
                    if not self._selected_ids(oid):
                        continue
                    if res.detail:
                        st["seen"][oid] = obj
                        continue
                    st["seen"][oid] = None
                    if self._tags_match(res, obj):
                        report.listed += 1
                        self._store(res, oid, obj)
                self.progress.advance(res.kind, len(items))
                st["offset"] = offset + size
                st["lost"] = ISOLATION_BUDGET - budget[0]
                if not more:
                    break
                self._save_state(res.kind)
        if budget[0] <= 0:
            self.error(res.kind, None, "list", CallError(
                f"gave up listing after {ISOLATION_BUDGET} objects could not be fetched; the rest of the list is missing"))
        st["listed"] = True
        self._save_state(res.kind)
        return st["lost"] == 0

    def _range(self, res: Resource, offset: int, size: int,
               budget: list[int]) -> tuple[list[tuple[int, Any]], list[tuple[int, CallError]], bool]:
        """Objects [offset, offset+size) with their positions, the positions that
        could not be listed, and whether the list ended there. A page that still
        fails after retries (5xx, timeouts) is split into smaller pages, down to
        single objects."""
        try:
            page = res.list_page(self.dd, offset, size)
            return list(enumerate(page, offset)), [], len(page) < size
        except Exception as exc:
            exc = CallError.wrap(exc, self.dd.redact)
            if not exc.transient:
                raise exc from None             # 401/403/400: smaller pages will not help
            if size == 1:
                budget[0] -= 1
                return [], [(offset, exc)], False
        sub = size // _smallest_factor(size)
        placed: list[tuple[int, Any]] = []
        lost: list[tuple[int, CallError]] = []
        for start in range(offset, offset + size, sub):
            got, failed, end = self._range(res, start, sub, budget)
            placed += got
            lost += failed
            if end or budget[0] <= 0:
                return placed, lost, end
        return placed, lost, False

    def _record_lost(self, res: Resource, lost: list[tuple[int, CallError]], placed: list[tuple[int, Any]],
                     start: int, previous: str | None) -> None:
        """One error per object a list could not return, named by its neighbours
        (the API cannot say which object it failed to serialise)."""
        ids = {pos: res.object_id(obj) for pos, obj in placed if isinstance(obj, dict)}
        for pos, exc in lost:
            before = previous if pos == start else ids.get(pos - 1)
            after = ids.get(pos + 1)
            where = " and ".join(f"{side} {oid}" for side, oid in (("after", before), ("before", after)) if oid)
            message = f"the object at list position {pos}{f' ({where})' if where else ''} could not be listed: {exc}"
            self.error(res.kind, f"offset {pos}", "list", CallError(message, exc.status))

    # ------------------------------------------------------------------ fetches
    def _fetch_all(self, res: Resource, targets: list[tuple[str, Any]]) -> bool:
        report = self.reports[res.kind]
        pending = []
        for oid, summary in targets:
            if self._current(res, oid, summary):
                report.kept += 1
            else:
                pending.append((oid, summary))
        report.listed = report.listed or len(targets)
        self.progress.total(res.kind, len(targets))
        self.progress.advance(res.kind, report.kept)
        ok = True
        with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            futures = [pool.submit(self._fetch_one, res, oid, summary) for oid, summary in pending]
            try:
                for future in as_completed(futures):
                    ok &= future.result()
                    self.progress.advance(res.kind)
            except BaseException:            # Ctrl-C: do not wait for the queue
                for future in futures:
                    future.cancel()
                raise
        return ok

    def _fetch_one(self, res: Resource, oid: str, summary: Any) -> bool:
        """Fetch and store one object; False when it failed (recorded)."""
        report = self.reports[res.kind]
        if self.stopping.is_set():
            return False
        try:
            obj = res.fetch(self.dd, oid, summary)
        except Exception as exc:           # this object only; the rest goes on
            exc = CallError.wrap(exc, self.dd.redact)
            if exc.status == 404:
                self.warn(res.kind, oid, "fetch", "not found (HTTP 404): deleted during the export, or no metadata")
                return True
            self.error(res.kind, oid, "fetch", exc)
            if res.list_entry_fallback and isinstance(summary, dict):
                # the list entry beats nothing; retried next run, even if this one
                # is killed before its manifest names the error: the state says so first
                with self.lock:
                    self.state[res.kind].setdefault("fallback", []).append(oid)
                    self._save_state(res.kind)
                self._store(res, oid, summary)
            return False
        with self.lock:
            report.fetched += 1
        if res.page_size and not self._tags_match(res, obj):
            return True
        self._store(res, oid, obj)
        return True

    # ------------------------------------------------------------------ files
    def path(self, kind: str, oid: str) -> Path:
        return self.out / kind / f"{safe_filename(oid)}.json"

    def _store(self, res: Resource, oid: str, obj: Any) -> None:
        path = self.path(res.kind, oid)
        text = dumps(obj)
        report = self.reports[res.kind]
        try:
            if path.read_text(encoding="utf-8") == text:
                with self.lock:
                    report.unchanged += 1
                return
        except (OSError, UnicodeDecodeError):
            pass
        atomic_write_text(path, text, fsync=False)   # one os.sync() at the end instead
        with self.lock:
            report.written += 1

    def _current(self, res: Resource, oid: str, summary: Any) -> bool:
        """Is the copy on disk good enough to skip fetching it?"""
        if self.options.refresh or res.always_fetch or (res.kind, oid) in self.retry_ids:
            return False
        if oid in self.state.get(res.kind, {}).get("fallback", ()):
            return False          # a list entry kept when its fetch failed
        path = self.path(res.kind, oid)
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return summary is None or res.version(summary) == res.version(stored)

    def _report_stale(self, res: Resource, seen: dict[str, Any]) -> None:
        """Files the complete, unfiltered list did not return are kept (they may
        come from --from sources) and reported, never deleted silently."""
        keep = {f"{safe_filename(oid)}.json" for oid in seen}
        stale = sorted(p.stem for p in (self.out / res.kind).glob("*.json") if p.name not in keep)
        if stale:
            self.reports[res.kind].stale = len(stale)
            shown = ", ".join(stale[:10]) + (f" and {len(stale) - 10} more" if len(stale) > 10 else "")
            self.warn(res.kind, None, "list", f"{len(stale)} file(s) in the snapshot were not returned by Datadog "
                      f"(deleted there, or imported with --from): {shown}; kept")

    def _drop_unreadable(self, kind: str) -> bool:
        """Object files are written without an fsync each (a kill never leaves a
        partial file, but a power loss can leave an empty one): on resume,
        unreadable files are removed; True when there were any."""
        dropped = False
        for path in (self.out / kind).glob("*.json"):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                path.unlink(missing_ok=True)
                dropped = True
        return dropped

    def _remove_stale_temp_files(self) -> None:
        """Temp files a killed run left behind (atomic writes never finished)."""
        for path in self.out.rglob(".*.tmp"):
            path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ filters
    def _selected_ids(self, oid: str) -> bool:
        return self.options.ids is None or oid in self.options.ids

    def _tags_match(self, res: Resource, obj: Any) -> bool:
        if not self.options.tags or not res.tagged or not isinstance(obj, dict):
            return True
        tags = set(res.tags(obj))
        return all(t in tags for t in self.options.tags)

    def _wanted_before_fetch(self, res: Resource, oid: str, entry: Any) -> bool:
        """Tag filter on a list entry when it carries tags (synthetics); dashboards'
        list entries have none, so they are filtered after the fetch."""
        if isinstance(entry, dict) and "tags" in entry:
            return self._tags_match(res, entry)
        return True

    # ------------------------------------------------------------------ state
    def _load_previous_run(self) -> None:
        """Checkpoints of an interrupted run with the same options (and the
        previous manifest's failed objects, to retry them)."""
        fingerprint = self.options.fingerprint()
        self.state = {}
        for kind in self.options.kinds:
            try:
                st = json.loads((self.out / STATE_DIR / f"{kind}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not self.options.refresh and st.pop("fingerprint", None) == fingerprint and not self._drop_unreadable(kind):
                self.state[kind] = st        # else: list that kind again from the start
        try:
            previous = json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))
            self.retry_ids = {(e.get("kind"), e.get("id")) for e in previous.get("errors", []) if e.get("id")}
        except (OSError, ValueError, AttributeError):
            self.retry_ids = set()

    def _save_state(self, kind: str) -> None:
        # no fsync: on ext4 it commits the journal and slows every file creation
        # around it tenfold; a state lost to a power cut only means relisting
        atomic_write_json(self.out / STATE_DIR / f"{kind}.json",
                          {**self.state[kind], "fingerprint": self.options.fingerprint()}, fsync=False)

    # ------------------------------------------------------------------ records
    def error(self, kind: str, oid: str | None, operation: str, exc: CallError) -> None:
        entry = {"kind": kind, "id": oid, "operation": operation,
                 "status": getattr(exc, "status", None), "message": _clip(self.dd.redact(str(exc)))}
        with self.lock:
            self.errors.append(entry)
            self.reports[kind].errors += 1

    def warn(self, kind: str, oid: str | None, operation: str, message: str) -> None:
        with self.lock:
            self.warnings.append({"kind": kind, "id": oid, "operation": operation,
                                  "message": self.dd.redact(message)})

    def counts(self) -> dict[str, int]:
        """Files per kind in the snapshot (checks/: every file, any depth)."""
        counts = {kind: len(list((self.out / kind).glob("*.json")))
                  for kind in RESOURCES if (self.out / kind).is_dir()}
        if (self.out / "checks").is_dir():
            counts["checks"] = sum(1 for p in (self.out / "checks").rglob("*") if p.is_file())
        return counts

    def _write_manifest(self, *, complete: bool) -> dict[str, Any]:
        key = lambda e: (e["kind"], str(e["id"]), e["operation"])
        with self.lock:
            errors, warnings = sorted(self.errors, key=key), sorted(self.warnings, key=key)
            reports = {kind: asdict(r) for kind, r in self.reports.items()}
        manifest = {
            "tool": {"name": "dd2prom", "version": __version__},
            "site": self.site,
            "api_url": self.base_url,
            "started_at": self.started,
            "time": _now(),
            "complete": complete and not errors,
            "options": {"only": self.options.kinds, "tags": self.options.tags,
                        "ids": len(self.options.ids) if self.options.ids is not None else None,
                        "refresh": self.options.refresh, "usage_months": self.options.usage_months},
            "counts": self.counts(),
            "run": reports,
            "requests": {"total": self.dd.stats.requests, "retries": self.dd.stats.retries,
                         "rate_limited": self.dd.stats.rate_limited},
            "errors": errors,
            "warnings": warnings,
        }
        with self.manifest_lock:          # the two lanes both report progress here
            atomic_write_json(self.out / MANIFEST, manifest, fsync=False)
        return manifest


def _smallest_factor(n: int) -> int:
    for f in range(2, int(n ** 0.5) + 1):
        if n % f == 0:
            return f
    return n


def _clip(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
