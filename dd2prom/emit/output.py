"""The convert output folder, written through a staging folder.

All files go to ``<out>.dd2prom-staging-*`` first; :meth:`OutputDir.commit`
swaps it into place. A crash before that leaves the previous output intact
and no partial files behind (the staging folder is removed). With
``background=True`` (convert) the writes happen on a background thread
(:mod:`dd2prom.emit.writer`), in order; :meth:`OutputDir.flush` and
:meth:`OutputDir.commit` wait for them."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from dd2prom.emit.writer import IMMEDIATE, Writer
from dd2prom.emit.yamlio import dump_yaml, dump_yaml_all
from dd2prom.snapshot import dumpb


class OutputRefused(Exception):
    """The output path holds something dd2prom did not write: replacing it
    would lose the user's files."""


def ensure_replaceable(final: Path, marker: str) -> None:
    """Refuse to replace ``final`` unless it is absent, an empty folder, or a
    folder an earlier run wrote (it holds ``marker``)."""
    if not final.exists() and not final.is_symlink():
        return
    if not final.is_dir() or final.is_symlink():
        raise OutputRefused(f"{final} exists and is not a folder; choose another output path")
    if (final / marker).exists() or not any(final.iterdir()):
        return
    raise OutputRefused(f"{final} is a folder dd2prom did not write (it has no {marker}) and would be replaced "
                        "as a whole; choose a new or empty folder")


class OutputDir:
    def __init__(self, out: Path | str, marker: str = "coverage.json", background: bool = False):
        """``marker``: the file an earlier run of the same command leaves in the
        folder; only such a folder (or an empty one) is replaced. ``background``:
        write on a background thread (files are on disk after :meth:`flush`)."""
        self.final = Path(out).resolve()
        ensure_replaceable(self.final, marker)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.dd2prom-staging-", dir=self.final.parent))
        # relative paths of files holding Kubernetes objects (a dict used as an
        # ordered set: membership tests stay O(1) with tens of thousands of files)
        self.k8s_files: dict[str, None] = {}
        # relative path → sequence number of its first write (see :meth:`mark`)
        self.written: dict[str, int] = {}
        self._writes = 0
        self._dirs: set[str] = set()   # folders made, relative
        self._committed = False
        # its own writer: a write this folder lost fails this folder's run only
        self._io = Writer() if background else IMMEDIATE

    # -- writing -------------------------------------------------------------
    def flush(self) -> None:
        """Wait for the writes asked for so far; raise the first that failed."""
        self._io.flush()

    def path(self, rel: str) -> Path:
        return Path(self._file(rel))

    def _file(self, rel: str) -> str:
        """:meth:`path` as a string, what the writes use (ten thousand files:
        string operations rather than pathlib's parsing, about 5 µs a file)."""
        rel = rel.lstrip("/")
        if ".." in rel and ".." in rel.split("/"):
            raise ValueError(f"output path escapes the output folder: {rel}")
        folder = rel.rpartition("/")[0]
        if folder not in self._dirs:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            self._dirs.add(folder)
        return f"{os.fspath(self.root)}/{rel}"

    def write_text(self, rel: str, text: str | bytes, *, k8s: bool = False) -> str:
        """``text`` (or UTF-8 bytes) to ``rel``; ``k8s``: a Kubernetes object's YAML,
        listed in kustomization.yaml."""
        self._io.write(self._file(rel), text)
        if k8s:
            self.k8s_files[rel] = None
        return self._record(rel)

    def append_text(self, rel: str, text: str | list[str | bytes]) -> str:
        """Add to a file written in pieces (created by the first call); a list
        of texts (or UTF-8 bytes) is written one after the other (not joined
        into one more copy)."""
        self._io.write(self._file(rel), text, append=True)
        return self._record(rel)

    def write_pieces(self, rel: str, pieces: Iterable[str | bytes]) -> str:
        """Write a file made in pieces, each handed to the writer as it comes:
        a file of tens of MB is written while its next piece is made. (A failure
        between pieces leaves a partial file: writing ``rel`` again replaces it.)"""
        path, append = self._file(rel), False
        for piece in pieces:
            self._io.write(path, piece, append=append)
            append = True
        if not append:   # no pieces: an empty file
            self._io.write(path, "")
        return self._record(rel)

    def adopt(self, rel: str, finished: Path | str) -> str:
        """Move a finished file (written elsewhere in the staging folder's file
        system, e.g. by a worker process) to ``rel``."""
        self._io.replace(finished, self._file(rel))
        return self._record(rel)

    def discard(self, folder: Path | str) -> None:
        """Remove a scratch folder inside the staging folder once the operations
        asked before are done (e.g. the moves out of it), without waiting for them.
        (Should the writer have failed, the folder goes with the staging folder.)"""
        self._io.remove_folder(folder)

    def _record(self, rel: str) -> str:
        if rel not in self.written:
            self.written[rel] = self._writes
            self._writes += 1
        return rel

    def mark(self) -> int:
        """A position in the write history: :meth:`written_since` lists the
        files first written after it (what a failed item must take back)."""
        return self._writes

    def written_since(self, mark: int) -> list[str]:
        return [rel for rel, seq in self.written.items() if seq >= mark]

    def write_json(self, rel: str, data: Any) -> str:
        self._io.write(self._file(rel), dumpb(data))
        return self._record(rel)

    def write_yaml(self, rel: str, data: Any) -> str:
        return self.write_text(rel, dump_yaml(data))

    def write_k8s(self, rel: str, objects: dict[str, Any] | Iterable[dict[str, Any]]) -> str:
        """Write one Kubernetes object, or several as a multi-document YAML file,
        and list the file in kustomization.yaml."""
        return self.write_k8s_text(rel, dump_yaml(objects) if isinstance(objects, dict) else dump_yaml_all(objects))

    def write_k8s_text(self, rel: str, text: str) -> str:
        """:meth:`write_k8s` for objects already written as YAML text."""
        return self.write_text(rel, text, k8s=True)

    def remove(self, rel: str) -> None:
        self._io.unlink(self.root / rel)
        self.written.pop(rel, None)
        self.k8s_files.pop(rel, None)

    # -- finishing -----------------------------------------------------------
    def write_kustomization(self) -> None:
        self.write_yaml("kustomization.yaml", {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": sorted(self.k8s_files),
        })

    def commit(self) -> Path:
        """Swap the staging folder into place; the old output is removed."""
        if self._committed:
            return self.final
        self._io.close()
        backup = None
        if self.final.exists():
            backup = self.final.with_name(f".{self.final.name}.dd2prom-old-{os.getpid()}")
            os.replace(self.final, backup)
        os.replace(self.root, self.final)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        self._committed = True
        self.root = self.final
        return self.final

    def abort(self) -> None:
        if not self._committed:
            try:
                self._io.close()   # nothing may still be writing into the folder removed now
            except Exception:   # noqa: BLE001 - the run already failed; its files go anyway
                pass
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "OutputDir":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
