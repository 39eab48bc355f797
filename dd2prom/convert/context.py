"""What every conversion stage is given."""

from __future__ import annotations

import contextlib
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from dd2prom.convert.queries.types import TranslateContext
from dd2prom.emit.output import OutputDir
from dd2prom.model import CoverageItem, Ledger, Status
from dd2prom.snapshot import Snapshot

log = logging.getLogger("dd2prom.convert")


@dataclass
class ConvertOptions:
    namespace: str = "monitoring"
    # labels kube-prometheus-stack's ruleSelector / serviceMonitorSelector need
    release_label: str = "kube-prometheus-stack"
    # monitor tag used to group rules into PrometheusRule objects (team, service, ...)
    group_by_tag: str = "team"
    mappings_file: Path | None = None
    crd_dir: Path | None = None
    grafana_folder: str = "Datadog"
    blackbox_service_monitors: bool = False   # the seed post's ServiceMonitor-on-blackbox pattern
    # the prometheus-blackbox-exporter chart's Service (release named prometheus-blackbox-exporter);
    # empty: that Service in ``namespace``
    blackbox_url: str = ""
    # processes converting independent items (dashboards, monitors); 0 = one per core, 1 = serial
    jobs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConvertContext:
    snapshot: Snapshot
    out: OutputDir
    options: ConvertOptions
    ledger: Ledger = field(default_factory=Ledger)
    # stage-to-stage facts, e.g. synthetics public_id → probe labels, rule groups...
    shared: dict[str, Any] = field(default_factory=dict)
    _finishers: list[tuple[str, Callable[["ConvertContext"], None]]] = field(default_factory=list)
    _translate_ctx: dict[str, TranslateContext] = field(default_factory=dict)

    def translate_context(self, target: str = "plain", **overrides: Any) -> TranslateContext:
        """A TranslateContext with the snapshot's metric metadata and the user's mappings."""
        base = self._translate_ctx.get("base")
        if base is None:
            from dd2prom.convert.queries import mapping as _mapping  # lazy: heavy tables

            base = TranslateContext(metric_metadata=self.snapshot.metric_metadata(),
                                    mappings=_mapping.load_mappings(self.options.mappings_file))
            self._translate_ctx["base"] = base
        kwargs = dict(base.__dict__)
        kwargs.update(target=target, **overrides)
        return TranslateContext(**kwargs)

    def on_finish(self, name: str, fn: Callable[["ConvertContext"], None]) -> None:
        if all(n != name for n, _ in self._finishers):
            self._finishers.append((name, fn))

    def run_finishers(self) -> None:
        for name, fn in self._finishers:
            try:
                fn(self)
            except Exception as exc:  # a finisher failing must not lose the rest
                log.error("finishing step %s failed: %s", name, exc)
                self.shared.setdefault("errors", []).append(f"{name}: {exc}")

    @contextlib.contextmanager
    def guard(self, item: CoverageItem) -> Iterator[CoverageItem]:
        """Convert one item; any exception becomes status error on that item
        (with the files it wrote removed) and the run goes on."""
        mark = self.out.mark()
        try:
            yield item
        except Exception as exc:
            for rel in self.out.written_since(mark):
                self.out.remove(rel)
            item.outputs.clear()
            item.status = Status.ERROR
            item.note(f"Conversion failed: {exc.__class__.__name__}: {exc}")
            log.debug("conversion of %s %s failed\n%s", item.kind, item.id, traceback.format_exc())
