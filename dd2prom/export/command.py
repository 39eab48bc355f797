"""The ``dd2prom export`` command (:func:`cli_export`) and its library entry
point (:func:`export`): Datadog API → snapshot folder, with the console view."""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from dd2prom.export.client import Datadog, RedactingFilter, Redactor, site_host
from dd2prom.export.resources import RESOURCES
from dd2prom.export.runner import ExportOptions, Progress, Runner

__all__ = ["ExportOptions", "cli_export", "export"]


def read_id_file(path: Path) -> set[str]:
    """One id per line; blank lines and ``#`` comments ignored."""
    ids = set()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--id-file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.add(line)
    return ids


def parse_only(only: str | None) -> list[str]:
    if not only:
        return list(RESOURCES)
    wanted = [k.strip() for k in only.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in RESOURCES]
    if unknown:
        raise ValueError(f"--only: unknown kind(s) {', '.join(unknown)}; choose from {', '.join(RESOURCES)}")
    return [k for k in RESOURCES if k in wanted]        # export order is fixed


class RichProgressView(Progress):
    """One bar per resource type on the console (stderr)."""

    def __init__(self, console: Console):
        self.bars = RichProgress(TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgressView:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def start(self, kind: str) -> None:
        self.tasks[kind] = self.bars.add_task(kind, total=None)

    def total(self, kind: str, n: int) -> None:
        self.bars.update(self.tasks[kind], total=n, completed=0)

    def advance(self, kind: str, n: int = 1) -> None:
        self.bars.advance(self.tasks[kind], n)

    def done(self, kind: str) -> None:
        task = next(t for t in self.bars.tasks if t.id == self.tasks[kind])
        self.bars.update(task.id, total=task.completed)


def export(options: ExportOptions, *, site: str | None, api_url: str | None, api_key: str, app_key: str,
           progress: Progress | None = None, extra_errors: list[str] = ()) -> dict[str, Any]:
    """Run an export (library entry point) and return its manifest."""
    site_name, base_url = site_host(site)
    base_url = (api_url or base_url).rstrip("/")
    dd = Datadog(base_url, api_key, app_key, concurrency=options.concurrency)
    runner = Runner(dd, options, site=site_name, base_url=base_url, progress=progress)
    runner.errors.extend({"kind": "checks", "id": None, "operation": "import", "status": None,
                          "message": dd.redact(m)} for m in extra_errors)
    try:
        return runner.run()
    finally:
        dd.close()


def cli_export(*, out: Path, site: str | None, api_url: str | None, only: str | None, tags: list[str],
               id_file: Path | None, refresh: bool, usage_months: int, concurrency: int,
               sources: list[Path], progress: bool, console: Console) -> int:
    """The ``dd2prom export`` command; returns the exit code (0 ok, 1 some
    objects failed, 2 bad usage)."""
    api_key = os.environ.get("DD_API_KEY", "")
    app_key = os.environ.get("DD_APP_KEY") or os.environ.get("DD_APPLICATION_KEY", "")
    redact = Redactor(api_key, app_key)
    _redact_logs(redact)
    try:
        kinds = parse_only(only)
        site_host(site)
        ids = read_id_file(id_file) if id_file else None
        if Path(out).exists() and not Path(out).is_dir():
            raise ValueError(f"--out {out} is a file, not a snapshot folder")
    except (ValueError, OSError) as exc:
        say(console, "error:", "red", redact(exc))
        return 2
    if not (api_key and app_key):
        if not sources:
            console.print("[red]error:[/red] set DD_API_KEY and DD_APP_KEY (application key) in the environment")
            return 2
        console.print("[yellow]DD_API_KEY/DD_APP_KEY not set: only reading the --from sources[/yellow]")
        kinds = []

    source_errors = import_from(sources, out) if sources else []
    options = ExportOptions(out=out, kinds=kinds, tags=list(tags), ids=ids, refresh=refresh,
                            usage_months=usage_months, concurrency=concurrency,
                            page_size=int(os.environ["DD2PROM_PAGE_SIZE"]) if os.environ.get("DD2PROM_PAGE_SIZE") else None)
    view = RichProgressView(console) if progress and kinds else None
    with view or nullcontext():
        manifest = export(options, site=site, api_url=api_url, api_key=api_key, app_key=app_key,
                          progress=view, extra_errors=source_errors)
    print_summary(manifest, console)
    return 1 if manifest["errors"] else 0


def import_from(sources: list[Path], out: Path) -> list[str]:
    """--from: agent check configs, manifests, Helm values, Terraform, sync-cli folders."""
    try:
        from dd2prom.export.sources import import_sources
    except ImportError as exc:
        return [f"--from is not available in this build (dd2prom.export.sources: {exc})"]
    return list(import_sources([Path(p) for p in sources], Path(out)))


def print_summary(manifest: dict[str, Any], console: Console) -> None:
    """The table at the end; unchanged and stale counts are in manifest.json."""
    from_api = bool(manifest.get("run"))      # False: only --from sources were read (no keys, no request)
    title = f"export from {manifest.get('api_url')}" if from_api else "import of the --from sources (no API request)"
    table = Table(title=Text(title), box=box.SIMPLE_HEAD)
    columns = ["listed", "fetched", "kept", "written", "errors", "seconds"]
    table.add_column("kind", no_wrap=True)
    for c in columns:
        table.add_column(c, justify="right", no_wrap=True, style="red" if c == "errors" else None)
    table.add_column("files", justify="right", no_wrap=True)
    for kind, run in manifest.get("run", {}).items():
        table.add_row(kind, *[str(run.get(c, 0)) for c in columns], str(manifest["counts"].get(kind, 0)))
    if "checks" in manifest["counts"]:        # --from: files only
        table.add_row("checks", *["" for _ in columns], str(manifest["counts"]["checks"]))
    console.print(table)
    req = manifest.get("requests", {})
    if from_api:
        console.print(f"{req.get('total', 0)} requests, {req.get('retries', 0)} retries, "
                      f"{req.get('rate_limited', 0)} rate-limited (429)")
    for e in manifest.get("errors", [])[:50]:
        where = f"{e['kind']}/{e['id']}" if e.get("id") else e["kind"]
        say(console, "error", "red", f"{where} ({e['operation']}): {e['message']}")
    if len(manifest.get("errors", [])) > 50:
        console.print(f"... {len(manifest['errors']) - 50} more errors in manifest.json")
    for w in manifest.get("warnings", [])[:20]:
        where = f"{w['kind']}/{w['id']}" if w.get("id") else w["kind"]
        say(console, "warning", "yellow", f"{where}: {w['message']}")


def say(console: Console, label: str, style: str, text: object) -> None:
    """A styled label, then text printed as it is: error sentences carry remote
    and user text (YAML errors, API messages) whose square brackets and
    backslashes rich markup would eat or alter."""
    console.print(Text.assemble((label, style), " ", str(text)), highlight=False, soft_wrap=True)   # one line, as other commands


def _redact_logs(redact: Redactor) -> None:
    """Keys never reach a log line, whoever logs (datadog-api-client, urllib3, us)."""
    root = logging.getLogger()
    handlers = root.handlers or []
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(redact))
