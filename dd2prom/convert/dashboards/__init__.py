"""Stage: dashboards → Grafana dashboards (grafana/dashboards/<uid>.json) and the
ConfigMaps kube-prometheus-stack's Grafana sidecar loads (grafana/configmaps/<uid>.yaml).

Layout of this package (one guess finds where a thing is converted):
``dashboard.py`` (one dashboard), ``widgets/`` (one module per widget family,
``widgets/__init__.py`` maps each Datadog widget type to its converter),
``requests.py`` (queries → PromQL targets), ``layout.py`` (positions, groups →
rows), ``variables.py`` (template variables), ``units.py``, ``thresholds.py``
(markers, conditional formats), ``sidecar.py`` (the ConfigMap).
"""

from __future__ import annotations

import contextlib
import operator
from typing import Callable, Iterable

from dd2prom.convert import parallel
from dd2prom.convert.context import ConvertContext
from dd2prom.convert.dashboards import sidecar
from dd2prom.convert.dashboards.dashboard import DashboardConverter
from dd2prom.convert.pipeline import record_unreadable
from dd2prom.model import CoverageItem, Status
from dd2prom.snapshot import ItemsText, Snapshot, dumpb, items_text

KIND = "dashboard"


def run(snapshot: Snapshot, ctx: ConvertContext) -> None:
    start(snapshot, ctx)()


def start(snapshot: Snapshot, ctx: ConvertContext) -> Callable[[], None]:
    """Dashboards convert independently (see :mod:`dd2prom.convert.parallel`):
    the workers start now and the returned function applies their results.
    Dashboards read only facts the checks, synthetics and monitors stages
    leave (``service_checks``, ``monitor_alerts``), so the pipeline starts them
    right after monitors and applies them last, while the parent runs the
    serial stages in between. Only the Grafana uid must be unique across them:
    a dashboard whose uid is already taken (or whose ledger rows clash) is
    converted again, against the run's context, exactly as a serial run would."""
    results = parallel.convert_items(ctx, _convert_file, snapshot.paths("dashboards"), ahead=True)

    def finish() -> None:
        taken = ctx.shared.setdefault("dashboard_uids", set())
        with contextlib.closing(results):
            for path, result in results:
                uid, rows_text = result.value if result.error is None else (None, None)
                if result.error or uid in taken or parallel.clashes(ctx, result):
                    convert_object(ctx, snapshot.load("dashboards", path))
                    continue
                parallel.apply(ctx, result)
                if uid:
                    taken.add(uid)
                if rows_text is not None:
                    ctx.ledger.add_text(_widget_rows(result.items), rows_text)
    return finish


def _convert_file(ictx: ConvertContext, path) -> tuple[str | None, ItemsText | None]:
    """One dashboard file in an item context; returns the uid it took and its
    widget rows' coverage.json text (made here, in parallel: nothing changes
    the rows after this; see Ledger.add_text)."""
    ictx.shared["dashboard_uids"] = set()
    convert_object(ictx, ictx.snapshot.load("dashboards", path))
    try:
        # (as bytes: it crosses to the parent, which a memoryview cannot)
        rows_text = ItemsText(bytes(items_text([row.to_json() for row in _widget_rows(ictx.ledger)]).text))
    except TypeError:   # a value orjson refuses: the parent writes coverage.json another way
        rows_text = None
    return next(iter(ictx.shared["dashboard_uids"]), None), rows_text


def _widget_rows(items: Iterable[CoverageItem]) -> list[CoverageItem]:
    """A dashboard's widget rows, in coverage.json's order."""
    return sorted((item for item in items if item.kind == "widget"), key=operator.attrgetter("id"))


def convert_object(ctx: ConvertContext, obj) -> None:
    if record_unreadable(ctx, KIND, obj):
        return
    data = obj.data
    item = ctx.ledger.add(KIND, obj.id, name=str(data.get("title") or data.get("name") or ""),
                          type=str(data.get("layout_type") or ""))
    converter = None
    with ctx.guard(item):
        try:
            converter = DashboardConverter(ctx, obj.id, data)
            convert_one(ctx, converter, item)
        except Exception as exc:
            for w in converter.widget_items if converter else []:
                w.status = Status.ERROR
                w.note(f"The dashboard could not be converted ({exc.__class__.__name__}).")
            raise


def convert_one(ctx: ConvertContext, converter: DashboardConverter, item) -> None:
    dashboard = converter.build()
    converter.summarize(item)
    uid = dashboard["uid"]
    data = dumpb(dashboard)   # UTF-8, written as it is to both files
    item.outputs.append(ctx.out.write_text(f"grafana/dashboards/{uid}.json", data))
    fits, sentence = sidecar.size_problem(data)
    if sentence:
        item.note(sentence, None if fits else Status.MANUAL)
    if fits:
        cm = sidecar.configmap_yaml(uid, data, namespace=ctx.options.namespace, folder=ctx.options.grafana_folder,
                                    source=f"datadog dashboard {converter.id}")
        item.outputs.append(ctx.out.write_text(f"grafana/configmaps/{uid}.yaml", cm, k8s=True))
