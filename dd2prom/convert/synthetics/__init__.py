"""Stage: synthetics API tests → blackbox-exporter modules + Probe resources.

Each test becomes a module (blackbox/blackbox.yml), a Probe scraping it every
``tick_every`` seconds (or the seed post's ServiceMonitor on the exporter with
--blackbox-servicemonitors), and, for response-time and certificate assertions,
a PrometheusRule at prometheus/rules/synthetics-<name>.yaml. The probe's labels
go to ``ctx.shared["probes"][public_id]`` for the monitors stage, which turns
synthetics alert monitors into rules on ``probe_success``."""

from __future__ import annotations

from typing import Any

from dd2prom.convert.checks import blackbox
from dd2prom.convert.checks.common import number, tag_relabelings, unique_name
from dd2prom.convert.context import ConvertContext
from dd2prom.convert.pipeline import record_unreadable
from dd2prom.convert.synthetics.modules import BUILDERS, UNSUPPORTED, Unsupported
from dd2prom.model import CoverageItem, Status
from dd2prom.snapshot import Snapshot

KIND = "synthetics"
DEFAULT_TIMEOUT = 60  # seconds: Datadog's default for API tests


def run(snapshot: Snapshot, ctx: ConvertContext) -> None:
    for obj in snapshot.iter("synthetics"):
        if record_unreadable(ctx, KIND, obj):
            continue
        test = obj.data
        subtype = str(test.get("subtype") or ("http" if test.get("type") == "api" else ""))
        ttype = str(test.get("type") or "api")
        item = ctx.ledger.add(KIND, obj.id, name=str(test.get("name") or ""),
                              type=subtype if ttype == "api" else ttype)
        item.extra.update(exporter="blackbox-exporter", scrape_object="none",
                          tags=list(test.get("tags") or []))
        with ctx.guard(item):
            convert_test(ctx, item, obj.id, test)


def convert_test(ctx: ConvertContext, item: CoverageItem, public_id: str, test: dict[str, Any]) -> None:
    ttype = str(test.get("type") or "api")
    subtype = str(test.get("subtype") or "http")
    kind = ttype if ttype != "api" else subtype
    if kind in UNSUPPORTED or ttype not in ("api",):
        item.note(UNSUPPORTED.get(kind, f"{ttype} tests have no blackbox-exporter counterpart."), Status.UNSUPPORTED)
        item.extra["exporter"] = ""
        return
    if kind not in BUILDERS:
        item.note(f"API test subtype {subtype!r} has no blackbox-exporter prober.", Status.UNSUPPORTED)
        return
    opts = test.get("options") or {}
    if test.get("status") == "paused":
        item.note("The test is paused in Datadog; converted anyway (delete the Probe to keep it off).")
    try:
        built = BUILDERS[kind](test, item)
    except Unsupported as exc:
        item.note(f"Not convertible: {exc}.", Status.UNSUPPORTED)
        return
    tick = max(1, int(number(opts.get("tick_every")) or 300))
    req = (test.get("config") or {}).get("request") or {}
    timeout = number(req.get("timeout")) or DEFAULT_TIMEOUT
    if timeout > tick - 1:
        if number(req.get("timeout")):
            item.note(f"The request timeout ({timeout:g}s) is cut to {max(1, tick - 1)}s to fit the probe "
                      "interval.", Status.APPROXIMATE)
        timeout = max(1, tick - 1)
    module = {"prober": built.prober, "timeout": blackbox.seconds(timeout), **built.module}
    mod = blackbox.register_module(ctx, f"synthetics_{kind}", module)
    name = unique_name(ctx, f"synthetics-{test.get('name') or public_id}")
    labels = {"synthetics_test_id": public_id,
              **{r["targetLabel"]: r["replacement"] for r in tag_relabelings({"instance": test}, item)}}
    job = f"synthetics-{public_id}"
    probe = blackbox.write_probe(ctx, item, name, job, built.target, mod, f"{tick}s", labels,
                                 scrape_timeout=timeout + 1)
    ctx.shared.setdefault("probes", {})[public_id] = probe
    _locations(item, test)
    retry = opts.get("retry") or {}
    if (number(retry.get("count")) or 0) > 0:
        item.note(f"Datadog retried a failed run {retry['count']} time(s) ({retry.get('interval', 300)} ms apart) "
                  "before counting it as failed; a failed probe counts at once (alerts can use `for:`).",
                  Status.APPROXIMATE)
    for_seconds = max(0, int(number(opts.get("min_failure_duration")) or 0))
    blackbox.probe_rules(ctx, item, name,  # unique, starts with synthetics-
                         str(test.get("name") or public_id), probe, max_duration=built.max_duration,
                         cert_days=built.cert_days, for_seconds=for_seconds,
                         extra_labels={"synthetics_test_id": public_id})
    if built.max_duration is not None or built.cert_days:
        item.note("Response-time and certificate assertions are alert rules on probe_duration_seconds / "
                  "probe_ssl_earliest_cert_expiry (prometheus/rules/synthetics-*.yaml); the test's own alert "
                  "(probe_success) comes from its monitor.")


def _locations(item: CoverageItem, test: dict[str, Any]) -> None:
    locations = [str(x) for x in test.get("locations") or []]
    opts = test.get("options") or {}
    if not locations:
        return
    private = [x for x in locations if x.startswith("pl:")]
    managed = [x for x in locations if not x.startswith("pl:")]
    if managed:
        min_failed = int(number(opts.get("min_location_failed")) or 1)
        msg = (f"Datadog ran the test from {len(managed)} managed location(s) and alerted when {min_failed} "
               "failed; the probe runs from the cluster's blackbox exporter only (one vantage point, "
               "inside the network).")
        item.note(msg, Status.APPROXIMATE if len(managed) > 1 and min_failed > 1 else None)
    if private:
        item.note(f"Private location(s) {', '.join(private)}: run the blackbox exporter there.")
