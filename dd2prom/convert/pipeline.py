"""Runs the conversion stages over a snapshot and writes the output folder."""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
from pathlib import Path
from typing import Callable, Iterator

from dd2prom.convert.context import ConvertContext, ConvertOptions
from dd2prom.emit.output import OutputDir
from dd2prom.model import Status
from dd2prom.snapshot import Snapshot, dumpb_pieces

log = logging.getLogger("dd2prom.convert")

# (stage module under dd2prom.convert, human name). Order matters: synthetics
# before monitors (synthetics alerts point at probes), monitors before slos
# (monitor SLOs read converted alerts), dashboards (widgets name alerts) and
# downtimes (silences name monitors). A stage module with ``start(snapshot,
# ctx)`` starts there and returns a function the pipeline calls after the
# finishers: dashboards convert in workers while the parent runs the serial
# stages and finishers (nothing after them reads what they write).
STAGES = [
    ("checks", "agent checks"),
    ("synthetics", "synthetics tests"),
    ("monitors", "monitors"),
    ("dashboards", "dashboards"),
    ("slos", "SLOs"),
    ("downtimes", "downtimes"),
]


def run_convert(snapshot_dir: Path | str, out: Path | str, options: ConvertOptions | None = None,
                only: set[str] | None = None) -> ConvertContext:
    """Convert a snapshot; returns the context (ledger included) after the
    output folder has been swapped into place."""
    snapshot = Snapshot.open(snapshot_dir)
    options = options or ConvertOptions()
    # the run holds millions of long-lived objects (ledger rows, routes, rules,
    # documents being written) and makes almost no reference cycles (about
    # 10,000 objects at full scale): the cyclic garbage collector would only
    # rescan the live objects (~0.5 CPU-s). It is off for the run, in the worker
    # processes too (they inherit it); the few cycles wait for it after the run.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(snapshot, out, options, only)
    finally:
        if enabled:
            gc.enable()


def _run(snapshot: Snapshot, out: Path | str, options: ConvertOptions, only: set[str] | None) -> ConvertContext:
    with OutputDir(out, background=True) as outdir:
        ctx = ConvertContext(snapshot=snapshot, out=outdir, options=options)
        later: list[tuple[str, str, Callable[[], None]]] = []
        for stage, human in STAGES:
            if only and stage not in only:
                continue
            module = importlib.import_module(f"dd2prom.convert.{stage}")
            start = getattr(module, "start", None)
            with _stage_errors(ctx, stage, human):
                if start is None:
                    module.run(snapshot, ctx)
                else:
                    later.append((stage, human, start(snapshot, ctx)))
        ctx.run_finishers()
        for stage, human, finish in later:
            with _stage_errors(ctx, stage, human):
                finish()
        outdir.write_kustomization()
        write_coverage(outdir, ctx)
        outdir.commit()
    return ctx


@contextlib.contextmanager
def _stage_errors(ctx: ConvertContext, stage: str, human: str) -> Iterator[None]:
    """A broken stage must not lose the other stages: its error goes to coverage.json."""
    try:
        yield
    except Exception as exc:
        log.exception("stage %s failed", stage)
        ctx.shared.setdefault("errors", []).append(f"{human}: {exc.__class__.__name__}: {exc}")


COVERAGE = "coverage.json"
COVERAGE_PIECE = 5_000   # rows of coverage.json serialised at a time (~5 MB)
COUNTS = "coverage_counts"   # ctx.shared: coverage.json's counts (kind -> status -> items)


def write_coverage(out: OutputDir, ctx: ConvertContext) -> None:
    """coverage.json, the bytes of :func:`coverage_document` made and written a
    piece at a time: the output folder's writer thread writes a piece (tens of
    MB in all, with the other core idle at the end of a run) while the next
    rows are serialised."""
    # (kept for the caller's summary too: the ledger is counted once, at the end of the run)
    counts = ctx.shared[COUNTS] = ctx.ledger.counts()
    head = {"counts": counts, **_about_run(ctx)}
    rows = ctx.ledger.rows_json()
    try:
        out.write_pieces(COVERAGE, dumpb_pieces(head, "items", rows, COVERAGE_PIECE))
    except TypeError:   # a value orjson refuses: the whole document, as dumpb writes it
        out.write_json(COVERAGE, coverage_document(ctx))


def coverage_document(ctx: ConvertContext) -> dict:
    return {**ctx.ledger.to_json(), **_about_run(ctx)}


def _about_run(ctx: ConvertContext) -> dict:
    """coverage.json's fields besides the ledger's rows and counts."""
    return {"snapshot": str(ctx.snapshot.root), "errors": list(ctx.shared.get("errors", []))}


def record_unreadable(ctx: ConvertContext, kind: str, obj) -> bool:
    """Ledger entry for a snapshot file that is not valid JSON or not an object.
    Returns True when the object was recorded as an error (caller skips it)."""
    if obj.error is None and isinstance(obj.data, dict):
        return False
    item = ctx.ledger.add(kind, obj.id, name=obj.path.name, type="?")
    item.note(obj.error or f"{obj.path.name}: expected a JSON object, found {type(obj.data).__name__}", Status.ERROR)
    return True
