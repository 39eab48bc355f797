"""The dd2prom command line (Typer)."""

from __future__ import annotations

import gc
import inspect
import json
import logging
import os
import stat
import sys
import typing
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dd2prom import __version__
from dd2prom.emit.output import OutputRefused
from dd2prom.snapshot import RESOURCE_DIRS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Move monitors, dashboards, SLOs and agent checks from Datadog to Prometheus on Kubernetes.",
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out_console = Console()

STATUS_STYLE = {"exact": "green", "approximate": "yellow", "manual": "magenta", "unsupported": "red", "error": "bold red"}


CRD_DIR_HELP = ("Folder of the prometheus-operator CRD files (monitoring.coreos.com_*.yaml) for strict validation; "
                "default $DD2PROM_CRD_DIR. Without CRDs the strict check is skipped.")


def convert_output_or_exit(directory: Path) -> None:
    """verify and compare read a convert output; anything else is one line, exit 2."""
    if not (directory / "coverage.json").is_file():
        console.print(f"error: {escape(str(directory))} is not a dd2prom convert output (no coverage.json)", soft_wrap=True)
        raise typer.Exit(2)


def crd_dir_or_exit(path: Optional[Path]) -> None:
    """An explicit --crd-dir without CRD files is a usage error (it was silently skipped)."""
    if path is not None and not (path.is_dir() and any(path.glob("monitoring.coreos.com_*.yaml"))):
        console.print(f"error: --crd-dir {escape(str(path))} holds no prometheus-operator CRDs "
                      "(monitoring.coreos.com_*.yaml)", soft_wrap=True)
        raise typer.Exit(2)


def user_mappings(path: Optional[Path]):
    """The shipped mapping tables merged with the user's file; a broken file is one line and exit 2."""
    from dd2prom.convert.queries import mapping

    try:
        return mapping.load_mappings(path)
    except (ValueError, OSError) as exc:
        console.print(f"error: --mappings {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        out_console.print(f"dd2prom {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


# ----------------------------------------------------------------------------- export
@app.command()
def export(
    out: Path = typer.Option(..., "--out", "-o", help="Snapshot folder to write."),
    site: Optional[str] = typer.Option(None, "--site", envvar="DD_SITE", help="Datadog site: datadoghq.com, datadoghq.eu, us3.datadoghq.com, us5.datadoghq.com, ap1.datadoghq.com, ddog-gov.com."),
    api_url: Optional[str] = typer.Option(None, "--api-url", help="Base URL of the API (a proxy or a local test server)."),
    only: Optional[str] = typer.Option(None, "--only", help="Comma-separated kinds (default: all): monitors, dashboards, slos, synthetics, downtimes, metrics, usage."),
    tag: List[str] = typer.Option([], "--tag", help="Only objects carrying this tag (key:value); repeatable."),
    id_file: Optional[Path] = typer.Option(None, "--id-file", help="File of ids to export, one per line."),
    refresh: bool = typer.Option(False, "--refresh", help="Refetch objects already in the snapshot."),
    usage_months: int = typer.Option(3, "--usage-months", min=1, help="Months of usage data to export."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Parallel requests for per-object fetches."),
    from_: List[Path] = typer.Option([], "--from", help="Also read agent check configs, Kubernetes manifests, Helm values, Terraform or datadog-sync-cli folders."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
) -> None:
    """Pull monitors, dashboards, SLOs, synthetics, downtimes, metric metadata and usage into a snapshot folder."""
    from dd2prom.export.command import cli_export

    code = cli_export(out=out, site=site, api_url=api_url, only=only, tags=tag, id_file=id_file,
                      refresh=refresh, usage_months=usage_months, concurrency=concurrency,
                      sources=from_, progress=not no_progress, console=console)
    raise typer.Exit(code)


# ----------------------------------------------------------------------------- convert
@app.command()
def convert(
    snapshot: Path = typer.Argument(..., exists=True, file_okay=False, help="Snapshot folder (from export, or any folder in that layout)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (replaced as a whole when the run succeeds)."),
    namespace: str = typer.Option("monitoring", "--namespace", help="Namespace of the generated Kubernetes objects."),
    release_label: str = typer.Option("kube-prometheus-stack", "--release-label", help="Value of the 'release' label the Prometheus operator selects on (the seed post's chart: prom-op)."),
    group_by_tag: str = typer.Option("team", "--group-by-tag", help="Monitor tag that groups rules into PrometheusRule objects (then team, then service; monitors-unowned without any)."),
    mappings: Optional[Path] = typer.Option(None, "--mappings", exists=True, dir_okay=False, help="Your own mapping table (YAML) extending and overriding the shipped ones."),
    crd_dir: Optional[Path] = typer.Option(None, "--crd-dir", help=CRD_DIR_HELP),
    grafana_folder: str = typer.Option("Datadog", "--grafana-folder", help="Grafana folder of the dashboards (the ConfigMaps' grafana_folder annotation; docs/deploy.md)."),
    blackbox_service_monitors: bool = typer.Option(False, "--blackbox-servicemonitors", help="Also emit the seed post's ServiceMonitor-on-blackbox-exporter objects."),
    blackbox_url: str = typer.Option("", "--blackbox-url", help="host:port of the blackbox exporter the Probes use (default: prometheus-blackbox-exporter.<namespace>.svc:9115)."),
    only: Optional[str] = typer.Option(None, "--only", help="Comma-separated stages (default: all): checks, synthetics, monitors, slos, dashboards, downtimes."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Processes converting dashboards and monitors (0 = one per core, 1 = serial in-process). The output is the same for any value."),
) -> None:
    """Turn a snapshot into PrometheusRules, Alertmanager config, Grafana dashboards and scrape objects."""
    if _KEPT is not None:
        # the process ends after this command (see _keep_until_exit): the cyclic
        # collector stays off from here on. run_convert turns it off for the run;
        # turned back on, its first pass would scan every object the run made (~0.15 s)
        gc.disable()
    from dd2prom.convert import ConvertOptions, run_convert
    from dd2prom.convert.pipeline import COUNTS, STAGES

    opts = ConvertOptions(namespace=namespace, release_label=release_label, group_by_tag=group_by_tag,
                          mappings_file=mappings, crd_dir=crd_dir, grafana_folder=grafana_folder,
                          blackbox_service_monitors=blackbox_service_monitors,
                          blackbox_url=blackbox_url, jobs=jobs)
    stages = {s.strip() for s in only.split(",") if s.strip()} if only else None
    known = [stage for stage, _ in STAGES]
    if stages is not None and (not stages or stages - set(known)):
        console.print(f"error: --only: unknown stage(s) {escape(', '.join(sorted(stages - set(known))) or repr(only))}; "
                      f"choose from {', '.join(known)}", soft_wrap=True)
        raise typer.Exit(2)
    user_mappings(mappings)   # a broken table stops here, not as an error on every monitor
    crd_dir_or_exit(crd_dir)
    if not any((snapshot / d).is_dir() for d in (*RESOURCE_DIRS, "checks")):
        console.print(f"error: {escape(str(snapshot))} holds no Datadog objects (none of "
                      f"{', '.join(f'{d}/' for d in (*RESOURCE_DIRS, 'checks'))}); is it a snapshot folder?", soft_wrap=True)
        raise typer.Exit(2)
    try:
        ctx = run_convert(snapshot, out, opts, only=stages)
    except OutputRefused as exc:
        console.print(f"error: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2)
    except OSError as exc:   # a write failed (full disk, permissions): the run was not committed
        console.print(f"error: could not write the output: {escape(str(exc))}; {escape(str(out))} "
                      "is as it was before this run", soft_wrap=True)
        raise typer.Exit(2)
    counts = ctx.shared.get(COUNTS) or ctx.ledger.counts()
    print_coverage(counts)
    errors = ctx.shared.get("errors", [])
    for e in errors:
        console.print(Text.assemble(("error:", "red"), f" {e}"), highlight=False)   # no markup: YAML errors hold [ ]
    failed = sum(per.get("error", 0) for per in counts.values())
    console.print(f"wrote {out} ({len(ctx.ledger)} items in coverage.json"
                  + (f", {failed} with status error" if failed else "") + ")", markup=False)
    _keep_until_exit(ctx)
    raise typer.Exit(1 if errors or failed else 0)   # README: 1 = some items failed, the rest was written


def print_coverage(counts: dict[str, dict[str, int]]) -> None:
    statuses = ["exact", "approximate", "manual", "unsupported", "error"]
    table = Table(title="coverage")
    table.add_column("kind")
    for s in statuses:
        table.add_column(s, justify="right", style=STATUS_STYLE[s])
    table.add_column("total", justify="right")
    for kind, per in sorted(counts.items()):
        table.add_row(kind, *[str(per.get(s, 0)) for s in statuses], str(sum(per.values())))
    console.print(table)


# ----------------------------------------------------------------------------- translate
@app.command()
def translate(
    query: str = typer.Argument(..., help="A Datadog metric query, e.g. 'avg:system.cpu.user{env:prod} by {host}'."),
    monitor: bool = typer.Option(False, "--monitor", help="Read the query as a monitor query: 'avg(last_5m):... > 90'."),
    as_json: bool = typer.Option(False, "--json", help="Print status, notes, metrics and labels as JSON."),
    mappings: Optional[Path] = typer.Option(None, "--mappings", exists=True, dir_okay=False, help="Your own mapping table (YAML)."),
) -> None:
    """Translate one Datadog query to PromQL."""
    from dd2prom.convert.queries import TranslateContext, translate as do_translate

    ctx = TranslateContext(target="monitor" if monitor else "plain", mappings=user_mappings(mappings))
    result = do_translate(query, monitor=monitor, ctx=ctx)
    if as_json:
        out_console.print_json(json.dumps(result.to_json()))
    else:
        if result.promql:
            print(result.promql)
        console.print(f"status: {result.status.value}")
        for n in result.notes:
            console.print(f"  - {n}", markup=False, highlight=False)
        if result.error:
            console.print(result.error, markup=False, highlight=False)
            if monitor and "(last_" not in query and "(next_" not in query and ".by(" not in query:
                console.print("hint: --monitor reads the monitor form 'avg(last_5m):QUERY > THRESHOLD'; "
                              "drop --monitor for a plain metric query", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if result.status.value == "error" or result.promql is None else 0)


# ----------------------------------------------------------------------------- report
@app.command()
def report(
    snapshot: Path = typer.Argument(..., exists=True, file_okay=False, help="Snapshot folder."),
    converted: Path = typer.Option(..., "--converted", "-c", help="Output folder of dd2prom convert (with coverage.json)."),
    out: Path = typer.Option(Path("reports"), "--out", "-o", help="Folder the report is written into, as OUT/<name>/."),
    name: Optional[str] = typer.Option(None, "--name", help="Report name (default: the snapshot folder's name)."),
    pricing: Optional[Path] = typer.Option(None, "--pricing", help="YAML overriding constants of mappings/pricing.yaml (same shape; docs/report.md)."),
    plan: str = typer.Option("pro", "--plan", help="Datadog plan priced: pro or enterprise (both appear in the comparison table)."),
    hosts: Optional[int] = typer.Option(None, "--hosts", help="Hosts (replaces the snapshot's usage data; needed when it has none)."),
    containers: Optional[int] = typer.Option(None, "--containers", help="Containers (replaces the snapshot's usage data)."),
    custom_metrics: Optional[int] = typer.Option(None, "--custom-metrics", help="Custom metrics (replaces the snapshot's usage data)."),
    mappings: Optional[Path] = typer.Option(None, "--mappings", exists=True, dir_okay=False, help="Your own mapping table (YAML), as convert --mappings takes: the metrics it maps leave the 'metrics without a mapping' table."),
) -> None:
    """Write the migration plan: coverage, work list and the cost comparison."""
    from dd2prom.report import cli_report

    user_mappings(mappings)
    raise typer.Exit(cli_report(snapshot=snapshot, converted=converted, out=out, name=name, pricing=pricing,
                                plan=plan, hosts=hosts, containers=containers, custom_metrics=custom_metrics,
                                mappings=mappings, console=console))


# ----------------------------------------------------------------------------- verify
@app.command()
def verify(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="Output folder of dd2prom convert."),
    crd_dir: Optional[Path] = typer.Option(None, "--crd-dir", help=CRD_DIR_HELP),
) -> None:
    """Check a convert output with promtool, amtool, the blackbox exporter and the CRD schemas."""
    from dd2prom.validate.verify import verify as run_verify

    convert_output_or_exit(directory)
    crd_dir_or_exit(crd_dir)
    results = run_verify(directory, crd_dir)
    failed = False
    for r in results:
        if r.skipped:
            console.print(Text.assemble(("skip", "dim"), f"  {r.name}" + (f" ({'; '.join(r.details)})" if r.details else "")))
            continue
        mark = ("ok  ", "green") if r.ok else ("FAIL", "red")
        console.print(Text.assemble(mark, f"  {r.name} ({r.checked} checked)"))
        failed = failed or not r.ok
        for d in r.details[:50]:   # a passing check may still have advice (e.g. apply --server-side)
            console.print(d, markup=False, highlight=False)
    raise typer.Exit(1 if failed else 0)


# ----------------------------------------------------------------------------- compare
@app.command()
def compare(
    converted: Path = typer.Argument(..., exists=True, file_okay=False, help="Output folder of dd2prom convert."),
    prometheus_url: str = typer.Option(..., "--prometheus-url", help="Base URL of the Prometheus to query."),
    last: str = typer.Option("6h", "--last", help="Time range ending at --to or now, e.g. 30m, 6h, 2d."),
    from_: Optional[str] = typer.Option(None, "--from", help="Start (RFC 3339 or unix seconds)."),
    to: Optional[str] = typer.Option(None, "--to", help="End (RFC 3339 or unix seconds)."),
    only: Optional[str] = typer.Option(None, "--only", help="monitors or widgets."),
    site: Optional[str] = typer.Option(None, "--site", envvar="DD_SITE", help="Datadog site, as for export (keys from DD_API_KEY and DD_APP_KEY)."),
    api_url: Optional[str] = typer.Option(None, "--api-url", help="Base URL of the Datadog API (a proxy or a local test server)."),
    tolerance: float = typer.Option(0.05, "--tolerance", help="Relative error above which an item is flagged."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write compare.json / compare.csv (default: CONVERTED/compare/, where report reads it)."),
    label_map: List[str] = typer.Option([], "--label-map", help="Datadog tag → Prometheus label used to pair series, TAG=LABEL; repeatable."),
    mappings: Optional[Path] = typer.Option(None, "--mappings", exists=True, dir_okay=False, help="Your mapping table (YAML), for its tag → label entries."),
    config: Optional[Path] = typer.Option(None, "--config", exists=True, dir_okay=False, help="YAML with label_map and per-item tolerance/skip (docs/compare.md)."),
    concurrency: int = typer.Option(4, "--concurrency", min=1, help="Items compared at once (queries in flight on each side)."),
) -> None:
    """Check translations against Datadog's own numbers during dual running."""
    from dd2prom.compare import cli_compare

    convert_output_or_exit(converted)
    raise typer.Exit(cli_compare(converted=converted, prometheus_url=prometheus_url, last=last, start=from_, end=to,
                                 only=only, site=site, api_url=api_url, tolerance=tolerance, out=out, console=console,
                                 label_map=label_map, mappings=mappings, config=config,
                                 concurrency=concurrency))


# objects the process keeps until it exits (see _keep_until_exit); None when the
# commands run inside another program (tests, CliRunner), which must not keep them
_KEPT: list | None = None


def _keep_until_exit(obj: object) -> None:
    """The process ends right after this command: releasing a convert run's
    hundreds of thousands of objects one by one, and the collector's passes
    over them at shutdown, cost ~0.3 s at 20,000 monitors for memory the OS
    takes back at once anyway. Keep them referenced, out of the collector.
    The list also holds itself: at exit the interpreter clears every module's
    globals (this one's reference to the list too, which then freed the whole
    run, ~0.25 s), but it never collects a frozen reference cycle."""
    if _KEPT is not None:
        if not _KEPT:
            _KEPT.append(_KEPT)
        _KEPT.append(obj)
        gc.freeze()


# ----------------------------------------------------------------------------- plain invocations
# commands main() may run without typer's own parsing (see plain_call)
PLAIN_COMMANDS: dict[str, Callable[..., None]] = {"convert": convert}


class _NotPlain(Exception):
    """A value typer would check, convert or report otherwise: typer parses."""


def plain_call(args: list[str]) -> dict[str, Any] | None:
    """The arguments of a plain ``convert ...`` command line, or None.

    Why: typer (0.29) coerces every option's value through a pydantic
    TypeAdapter; importing pydantic and building them took ~0.08 s at the start
    of every convert run, with one core idle (no worker forked yet). The
    options are still defined once, by the command's signature: its command
    line is read by the parser typer builds for it, and each value taken as
    its declaration says when it is a plain one (str, bool, a decimal int
    within min/max, a Path passing its exists/file_okay/dir_okay/readable/
    writable checks). Anything else (options before the command, --help, an
    unknown option, a value typer would reject or convert some other way)
    gives None, and typer then parses, helps and reports as ever."""
    fn = PLAIN_COMMANDS.get(args[0]) if args else None
    if fn is None:
        return None
    try:
        command = typer.main.get_command(app).commands[args[0]]   # type: ignore[attr-defined]
        ctx = command.context_class(command, info_name=args[0], **command.context_settings)
        given, rest, _ = command.make_parser(ctx).parse_args(list(args[1:]))
        declared = inspect.signature(fn).parameters
        if rest or not set(given) <= set(declared):   # (--help is in given)
            return None
        hints = typing.get_type_hints(fn)
        return {name: _plain_value(given[name], hints[name], p.default) if name in given else _default(p.default)
                for name, p in declared.items()}
    except Exception:   # _NotPlain, or a typer without these parts: typer parses
        return None


def _default(info: Any) -> Any:
    _plain_declaration(info)
    if info.default is ...:   # required
        raise _NotPlain
    return info.default


def _plain_declaration(info: Any) -> None:
    """Values of options declared with these are typer's to make."""
    if info.callback or info.envvar or getattr(info, "parser", None) or getattr(info, "default_factory", None):
        raise _NotPlain


def _plain_value(raw: Any, annotation: Any, info: Any) -> Any:
    """``raw`` from the command line as typer would pass it (see plain_call)."""
    _plain_declaration(info)
    kinds = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]   # (Optional[X]: X)
    kind = kinds[0] if len(kinds) == 1 else None
    if kind is bool and raw is True:   # a flag
        return True
    if kind is str and isinstance(raw, str):
        return raw
    if kind is int and isinstance(raw, str) and raw.isascii() and raw.isdigit() and str(int(raw)) == raw:
        value = int(raw)
        if (info.min is None or value >= info.min) and (info.max is None or value <= info.max):
            return value
    if kind is Path and isinstance(raw, str) and raw and not (info.resolve_path or info.allow_dash or info.path_type):
        try:
            mode = os.stat(raw).st_mode
        except FileNotFoundError:
            if not info.exists:
                return Path(raw)
        else:
            if ((info.file_okay or not stat.S_ISREG(mode)) and (info.dir_okay or not stat.S_ISDIR(mode))
                    and not (info.readable and not os.access(raw, os.R_OK))
                    and not (info.writable and not os.access(raw, os.W_OK))):
                return Path(raw)
    raise _NotPlain


# what typer passes the app's callback when no option comes before the command
# (--version's callback turns False into None); tests/test_cli_plain.py checks it
PLAIN_APP_OPTIONS: dict[str, Any] = {"verbose": False, "version": None}


def run_plain(fn: Callable[..., None], kwargs: dict[str, Any]) -> None:
    """Run a command as typer would: the app's callback first, an Exit's code
    as the process's."""
    try:
        _main(**PLAIN_APP_OPTIONS)
        fn(**kwargs)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)


def main() -> None:
    global _KEPT
    _KEPT = []
    try:
        call = plain_call(sys.argv[1:])
        if call is None:
            app()
        else:
            run_plain(PLAIN_COMMANDS[sys.argv[1]], call)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
