"""File writes handed to a background thread.

Creating a file on a journaling file system can block for a journal commit
while the kernel writes back what the run wrote before (at full scale convert
writes 800 MB; single ``open`` calls then take milliseconds). Python releases
the GIL during those system calls, so a thread that does the writes lets the
converting thread go on meanwhile.

One thread per writer (an output folder has its own; worker processes share
one for their scratch files), operations in the order they were asked for (an
append after a write, a rename after the write of its source). A failed
operation (a full disk, say) fails the writer: the operations after it are
dropped and :meth:`Writer.flush` raises the first failure, every time it is
called. Callers flush before anything depends on the files being on disk
(renaming the output folder into place, handing a worker's files to the
parent), so a run that lost a write is never committed. The failure is not
raised into whatever item happens to write next: that item did nothing wrong.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import deque
from pathlib import Path
from typing import Callable, Union

#: text waiting to be written, at most (bounds the memory the queue holds)
MAX_PENDING = 32 << 20
_LINES_BUFFER = 1 << 20   # the file's buffer when a list of texts is written

#: what a write takes: text, UTF-8 bytes, or a list of those written one after the other
Data = Union[str, bytes, memoryview, list]


def _size(data: Data) -> int:
    return sum(map(len, data)) if isinstance(data, list) else len(data)


class Writer:
    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._ops: deque[tuple[Callable[..., None], tuple, int]] = deque()
        self._cond = threading.Condition()
        self._pending = 0          # bytes (characters) queued, not yet written
        self._max = max_pending
        self._busy = False         # the thread is running an operation
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- operations ------------------------------------------------------------
    def write(self, path: Path | str, data: Data, append: bool = False) -> None:
        self._put(_write, (path, data, append), _size(data))

    def replace(self, src: Path | str, dst: Path | str) -> None:
        self._put(os.replace, (src, dst), 0)

    def unlink(self, path: Path) -> None:
        self._put(_unlink, (path,), 0)

    def remove_folder(self, path: Path | str) -> None:
        self._put(_remove_folder, (path,), 0)

    def flush(self, clear: bool = False) -> None:
        """Wait until every operation asked for is done; raise the first that
        failed. ``clear``: forget the failure once raised (a worker whose chunk
        is then converted again elsewhere)."""
        with self._cond:
            while self._ops or self._busy:
                self._cond.wait()
            if self._error is not None:
                error = self._error
                if clear:
                    self._error = None
                raise error

    def close(self) -> None:
        """Flush, then end the thread (a later operation starts a new one)."""
        try:
            self.flush()
        finally:
            with self._cond:
                if self._thread is not None:
                    self._ops.append((_STOP, (), 0))
                    self._cond.notify_all()
                    self._thread = None

    # -- the thread ------------------------------------------------------------
    def _put(self, fn: Callable[..., None], args: tuple, size: int) -> None:
        with self._cond:
            while self._pending and self._pending + size > self._max and self._error is None:
                self._cond.wait()
            if self._error is not None:
                return   # the writer failed: flush raises that, nothing more is written
            self._ops.append((fn, args, size))
            self._pending += size
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dd2prom-writer", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._ops:
                    self._cond.wait()
                fn, args, size = self._ops.popleft()
                if fn is _STOP:
                    self._cond.notify_all()   # a flush may wait for the queue to empty
                    return
                self._busy = True
            try:
                if self._error is None:   # after a failure, later operations are dropped
                    fn(*args)
            except BaseException as exc:   # raised by flush
                self._error = exc
            finally:
                with self._cond:
                    self._busy = False
                    self._pending -= size
                    self._cond.notify_all()


def _STOP() -> None:
    """The operation that ends a writer's thread (see :meth:`Writer.close`)."""


def _write(path: Path | str, data: Data, append: bool) -> None:
    if isinstance(data, list):
        # pieces (text or bytes, mixed) written one after the other through a
        # large buffer rather than joined first: hundreds of MB of rule files are
        # never copied into new strings (whose fresh pages the kernel would have
        # to fault in and zero)
        with open(path, "ab" if append else "wb", buffering=_LINES_BUFFER) as f:
            f.writelines(piece.encode("utf-8") if type(piece) is str else piece for piece in data)
    elif isinstance(data, str):
        with open(path, "a" if append else "w", encoding="utf-8") as f:
            f.write(data)
    else:
        with open(path, "ab" if append else "wb") as f:
            f.write(data)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_folder(path: Path | str) -> None:
    shutil.rmtree(path, ignore_errors=True)


class Immediate:
    """A :class:`Writer` that does each operation at once (for callers that read
    the files back while they write)."""

    def write(self, path: Path | str, data: Data, append: bool = False) -> None:
        _write(path, data, append)

    def replace(self, src: Path | str, dst: Path | str) -> None:
        os.replace(src, dst)

    def unlink(self, path: Path) -> None:
        _unlink(path)

    def remove_folder(self, path: Path | str) -> None:
        _remove_folder(path)

    def flush(self, clear: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


IMMEDIATE = Immediate()
_PROCESS: tuple[int, Writer] | None = None   # (pid, its writer)


def writer() -> Writer:
    """This process's writer, for the scratch files of worker processes (a
    forked worker makes its own: the parent's thread does not exist in it). An
    output folder has a writer of its own (:class:`~dd2prom.emit.output.OutputDir`)."""
    global _PROCESS
    if _PROCESS is None or _PROCESS[0] != os.getpid():
        _PROCESS = (os.getpid(), Writer())
    return _PROCESS[1]
