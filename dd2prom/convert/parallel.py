"""Convert independent items (one dashboard, one monitor) on every core.

A stage hands :func:`convert_items` a module-level function ``fn(ictx, item)``
and its inputs (snapshot paths, specs...). Each call gets an *item context*:
the stage's context with a fresh :class:`~dd2prom.model.Ledger` and a
:class:`RecordingOutput` that keeps written files (in memory, or in a worker as
scratch files in the staging folder that the parent renames). What the call
produced comes back as an :class:`ItemResult` of plain data (ledger rows, files
to write, ``fn``'s return value), in input order, and the stage applies it to
the real context with :func:`apply`. Serial runs (``jobs=1``) go through the
same item contexts in-process, so a parallel run writes byte-identical output.

Workers are forked when the stage starts, so they see the context (options,
mappings, ``ctx.shared`` facts from earlier stages) as it is then; what a call
changes in ``ctx.shared`` stays in its item context, so item functions return
shared facts in their value and the stage applies them in order. An exception
escaping ``fn`` becomes that item's :attr:`ItemResult.error`; the rest converts.
``fn`` gets its input as a copy (unpickled, in a worker or in-process).
At most a few chunks per worker are in flight, so results are not all held in
memory at once.
"""

from __future__ import annotations

import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import tempfile
import traceback
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence, TypeVar

try:
    import fcntl
except ImportError:   # not on Windows (workers need fork anyway)
    fcntl = None  # type: ignore[assignment]

from dd2prom.convert.context import ConvertContext
from dd2prom.emit.writer import writer
from dd2prom.emit.yamlio import dump_yaml, dump_yaml_all
from dd2prom.model import CoverageItem
from dd2prom.snapshot import batches, dumps

log = logging.getLogger("dd2prom.convert")

T = TypeVar("T")
CHUNK = 16            # items per task: amortises pickling without starving a core
MIN_PARALLEL = 2 * CHUNK   # fewer inputs than this convert in-process (forking costs more)
IN_FLIGHT_PER_JOB = 4  # tasks queued per worker (bounds memory held in results)
PIPE_SIZE = 1 << 20    # bytes the results pipe holds (Linux's default limit for any user)


class File(NamedTuple):
    """One output file of an item: its text, or (from a worker) the scratch file
    holding it, which :func:`apply` moves into place."""

    rel: str
    text: str | bytes | None   # (a dashboard's JSON and ConfigMap are bytes)
    k8s: bool = False          # a Kubernetes object (listed in kustomization.yaml)
    spilled: str | None = None


class RecordingOutput:
    """The part of :class:`~dd2prom.emit.output.OutputDir` a stage writes through,
    keeping the files (in write order) for the parent to apply: in memory, or in
    worker processes as scratch files in ``spill_dir`` (inside the staging folder,
    so the parent only renames them and no text crosses between processes)."""

    def __init__(self, spill_dir: Path | None = None) -> None:
        self.files: dict[str, File] = {}
        self.written: dict[str, int] = {}
        self._writes = 0
        self._spill_dir = spill_dir

    def write_text(self, rel: str, text: str | bytes, *, k8s: bool = False) -> str:
        self._drop(rel)   # a rewrite moves the file last, as its final content
        if self._spill_dir is None:
            self.files[rel] = File(rel, text, k8s)
        else:
            scratch = self._spill_dir / f"{os.getpid()}-{next(_SCRATCH)}"
            writer().write(scratch, text)
            self.files[rel] = File(rel, None, k8s, str(scratch))
        if rel not in self.written:
            self.written[rel] = self._writes
            self._writes += 1
        return rel

    def write_json(self, rel: str, data: Any) -> str:
        return self.write_text(rel, dumps(data))

    def write_yaml(self, rel: str, data: Any) -> str:
        return self.write_text(rel, dump_yaml(data))

    def write_k8s(self, rel: str, objects: Any) -> str:
        text = dump_yaml(objects) if isinstance(objects, dict) else dump_yaml_all(objects)
        return self.write_text(rel, text, k8s=True)

    def _drop(self, rel: str) -> None:
        old = self.files.pop(rel, None)
        if old is not None and old.spilled:
            writer().unlink(Path(old.spilled))

    def remove(self, rel: str) -> None:
        self._drop(rel)
        self.written.pop(rel, None)

    def mark(self) -> int:
        return self._writes

    def written_since(self, mark: int) -> list[str]:
        return [rel for rel, seq in self.written.items() if seq >= mark]


@dataclass
class ItemResult:
    """What converting one input produced, as plain (picklable) data."""

    value: Any = None
    items: list[CoverageItem] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    error: str | None = None   # an exception that escaped the item function


def item_context(ctx: ConvertContext, spill_dir: Path | None = None) -> ConvertContext:
    """The context one item is converted in (see the module docstring)."""
    ictx = ConvertContext(snapshot=ctx.snapshot, out=RecordingOutput(spill_dir), options=ctx.options,  # type: ignore[arg-type]
                          shared=dict(ctx.shared))
    ictx._translate_ctx = ctx._translate_ctx   # share the loaded mapping tables
    return ictx


def run_item(fn: Callable[[ConvertContext, T], Any], ctx: ConvertContext, item: T,
             spill_dir: Path | None = None, copy: bool = False) -> ItemResult:
    """``copy``: ``fn`` gets a copy of ``item``, as a worker would (it may change
    it); an input too deep to copy (RecursionError) is then this item's error."""
    ictx = item_context(ctx, spill_dir)
    try:
        value = fn(ictx, _copy(item) if copy else item)
    except Exception as exc:
        log.debug("item conversion failed\n%s", traceback.format_exc())
        return ItemResult(error=f"{exc.__class__.__name__}: {exc}")
    out: RecordingOutput = ictx.out   # type: ignore[assignment]
    return ItemResult(value=value, items=list(ictx.ledger),
                      files=list(out.files.values()))


def apply(ctx: ConvertContext, result: ItemResult) -> None:
    """Add an item's ledger rows and files to the run (in the order produced)."""
    ctx.ledger.adopt_all(result.items)
    for f in result.files:
        if f.spilled:
            ctx.out.adopt(f.rel, f.spilled)
        else:
            ctx.out.write_text(f.rel, f.text or "")
        if f.k8s:
            ctx.out.k8s_files[f.rel] = None


def clashes(ctx: ConvertContext, result: ItemResult) -> bool:
    """True when the item's ledger rows collide with rows already in the run
    (duplicate ids): the stage then converts it again against the real context."""
    return ctx.ledger.holds_any(result.items)


def jobs_for(ctx: ConvertContext) -> int:
    jobs = ctx.options.jobs or os.cpu_count() or 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1   # workers inherit the context by forking; elsewhere stay serial
    return max(1, jobs)


# -- the worker side ------------------------------------------------------------
_WORK: tuple[Callable, ConvertContext, Path] | None = None
_SCRATCH = itertools.count()


def _run_chunk(chunk: Sequence[Any]) -> list[ItemResult]:
    assert _WORK is not None
    fn, ctx, spill_dir = _WORK
    results = [run_item(fn, ctx, item, spill_dir) for item in chunk]
    # the scratch files are complete before the parent renames them; a failed
    # write fails the chunk (the parent converts it again) and not this worker
    writer().flush(clear=True)
    return results


def convert_items(ctx: ConvertContext, fn: Callable[[ConvertContext, T], Any],
                  inputs: Iterable[T], chunk: int | None = None,
                  ahead: bool = False) -> Iterator[tuple[T, ItemResult]]:
    """``(input, result)`` for every input, in input order; on ``ctx.options.jobs``
    processes (default: one per core). ``inputs`` may be a generator: it is read
    as tasks are queued, so the caller's work producing them overlaps the
    workers'. ``fn`` must be a module-level function;
    ``chunk``: inputs per task (default :data:`CHUNK`; 1 for heavy items).
    Apply (or drop) each result before iterating on: workers' scratch files are
    removed when the iteration ends (or the iterator is closed).

    ``ahead``: fork the workers and hand them every input now, so they convert
    while the caller does other work before iterating (results wait in memory
    instead of :data:`IN_FLIGHT_PER_JOB` bounding them). ``fn`` then sees
    ``ctx.shared`` as it is now; serial runs convert when iterated, so the
    caller must not change what ``fn`` reads in between."""
    jobs = jobs_for(ctx)
    size = chunk or CHUNK
    todo = iter(inputs)
    enough = min(MIN_PARALLEL, 2 * size)   # fewer inputs: not worth forking
    head = list(itertools.islice(todo, enough))
    if jobs == 1 or len(head) < enough:
        return _serial(ctx, fn, itertools.chain(head, todo))
    chunks: Iterable[list[T]] = batches(itertools.chain(head, todo), size)
    if ahead:
        chunks = list(chunks)
    results = _parallel(ctx, fn, chunks, jobs, len(chunks) if ahead else jobs * IN_FLIGHT_PER_JOB)  # type: ignore[arg-type]
    next(results)   # forks the workers and queues the first tasks
    return results


def _serial(ctx: ConvertContext, fn: Callable[[ConvertContext, T], Any],
            inputs: Iterable[T]) -> Iterator[tuple[T, ItemResult]]:
    for item in inputs:
        yield item, run_item(fn, ctx, item, copy=True)


def _widen_result_pipe(pool: ProcessPoolExecutor) -> None:
    """Let a worker hand over a chunk's results (often a few hundred kB) without
    waiting: the results pipe holds 64 kB by default, so a worker stood blocked
    in the write until the parent, busy applying earlier results, had read it
    (~15% of the monitor workers' time). Best effort: Linux only, and the pool's
    pipe is a private attribute of concurrent.futures."""
    reader = getattr(getattr(pool, "_result_queue", None), "_reader", None)
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl else None
    if reader is None or setpipe is None:
        return
    try:
        fcntl.fcntl(reader.fileno(), setpipe, PIPE_SIZE)
    except OSError:   # above /proc/sys/fs/pipe-max-size, or not a pipe
        pass


def _copy(item: T) -> T:
    """The input as a worker gets it: through pickle (also several times quicker
    than copy.deepcopy)."""
    return pickle.loads(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))


def _parallel(ctx: ConvertContext, fn: Callable[[ConvertContext, T], Any], chunks: Iterable[list[T]],
              jobs: int, in_flight: int) -> Iterator[Any]:
    """First yields None once the workers run and the first ``in_flight``
    tasks are queued, then ``(input, result)`` pairs."""
    global _WORK
    spill_dir = Path(tempfile.mkdtemp(prefix=".dd2prom-parts-", dir=ctx.out.root))
    _WORK = (fn, ctx, spill_dir)
    # the workers' garbage collector would write to every inherited object's
    # header, copying the parent's pages into each worker: keep them out of it
    gc.freeze()
    pool: ProcessPoolExecutor | None = None
    idle = False   # every chunk is done: the workers have nothing left but to exit
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
        _widen_result_pipe(pool)
        pending: deque[tuple[list[T], Future]] = deque()
        todo = iter(chunks)
        for chunk in todo:
            pending.append((chunk, pool.submit(_run_chunk, chunk)))
            if len(pending) >= in_flight:
                break
        yield None
        while pending:
            chunk, future = pending.popleft()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(_run_chunk, nxt)))
            try:
                results = future.result()
            except Exception as exc:   # a worker died (e.g. out of memory) or the chunk
                # could not be pickled (an input nested too deep): redo these here
                log.warning("worker failed (%s); converting %d items in-process", exc, len(chunk))
                results = [run_item(fn, ctx, item, copy=True) for item in chunk]
                # the future holds the exception, whose traceback holds this frame: a
                # cycle that would keep the run alive (the collector is off, see pipeline)
                del future
            yield from zip(chunk, results)
        idle = True
    finally:
        # idle workers exit while the parent goes on: waiting for them (the kernel
        # freeing what each holds) was serial time between stages and at the end of
        # the run. A caller that stops early waits: a chunk may still be writing
        # scratch files into the folder removed below.
        if pool is not None:
            pool.shutdown(wait=not idle, cancel_futures=True)
        gc.unfreeze()
        _WORK = None
        # with scratch files of items not applied; after the output folder's moves
        # out of it still queued (an emptied folder of thousands of entries takes
        # 10-60 ms to remove at full scale: the parent does not wait for that either)
        ctx.out.discard(spill_dir)
