"""Mutated SLOs, SLO alert monitors and downtimes (missing fields, wrong types,
huge strings, unicode): each converts or is an error of its own; every input
is in coverage.json and every file written parses, with valid PromQL."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings

from dd2prom.convert.context import ConvertContext, ConvertOptions
from dd2prom.convert import downtimes, monitors, slos
from dd2prom.convert.pipeline import coverage_document
from dd2prom.emit.output import OutputDir
from dd2prom.snapshot import Snapshot, atomic_write_json
from tests.fuzz.test_convert_fuzz import _assert_valid_output, mutated
from tests.slos import fixtures as F

FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FUZZ
@given(slo=mutated(F.METRIC_SLO), mon_slo=mutated(F.MONITOR_SLO), slice_slo=mutated(F.TIME_SLICE_SLO),
       burn=mutated(F.BURN_MONITOR), v1=mutated(F.DOWNTIMES[2]), v2=mutated(F.DOWNTIMES[-2]))
def test_mutated_slos_and_downtimes_convert_or_error_per_item(tmp_path_factory, slo, mon_slo, slice_slo, burn, v1, v2):
    root = tmp_path_factory.mktemp("fuzz")
    snap = root / "snap"
    for kind, name, obj in (("slos", "a", slo), ("slos", "b", mon_slo), ("slos", "c", slice_slo),
                            ("monitors", "5001", burn), ("monitors", "101", F.PLAIN_MONITORS[0]),
                            ("downtimes", "v1", v1), ("downtimes", "v2", v2)):
        atomic_write_json(snap / kind / f"{name}.json", obj)
    snapshot = Snapshot.open(snap)
    with OutputDir(root / "out") as out:
        ctx = ConvertContext(snapshot=snapshot, out=out, options=ConvertOptions())
        ctx.shared["now"] = datetime.fromtimestamp(F.NOW_EPOCH, UTC)
        try:  # the monitors stage is not under test here; the pipeline isolates its failures too
            monitors.run(snapshot, ctx)
        except Exception as exc:
            ctx.shared.setdefault("monitor stage", []).append(exc)
        slos.run(snapshot, ctx)            # a crash of these stages fails the test
        downtimes.run(snapshot, ctx)
        ctx.run_finishers()
        assert not ctx.shared.get("errors"), ctx.shared["errors"]   # finishers
        out.write_kustomization()
        out.write_json("coverage.json", coverage_document(ctx))
        out.commit()
    expected = {(kind, o.id) for kind, folder in (("slo", "slos"), ("downtime", "downtimes"))
                for o in snapshot.iter(folder)}
    _assert_valid_output(root / "out", expected)
