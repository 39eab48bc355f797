"""Downtimes: both API shapes, silences a real Alertmanager accepts, time
intervals amtool accepts, expired/canceled ones skipped, the rest noted."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from dd2prom.convert import downtimes
from dd2prom.convert.context import ConvertContext, ConvertOptions
from dd2prom.convert.downtimes import schedules, silences
from dd2prom.convert.downtimes.downtime import DowntimeError, Recurrence, parse_rrule
from dd2prom.emit.output import OutputDir
from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.model import Status
from dd2prom.snapshot import Snapshot
from tests.slos import fixtures as F
from tests.support import free_port, require_binary, running

NOW = datetime.fromtimestamp(F.NOW_EPOCH, UTC)
V2A, V2B, V2C = (f"00000000-0000-0000-0000-00000000000{c}" for c in "abc")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dt")
    snap = Snapshot.open(F.write_snapshot(tmp / "snap", [], F.PLAIN_MONITORS, F.DOWNTIMES))
    out = OutputDir(tmp / "out")
    ctx = ConvertContext(snapshot=snap, out=out, options=ConvertOptions())
    ctx.shared["now"] = NOW
    downtimes.run(snap, ctx)
    ctx.run_finishers()
    out.commit()
    return ctx, tmp / "out"


def test_every_downtime_in_ledger(converted):
    ctx, _ = converted
    got = {i.id: (i.type, i.status, bool(i.extra.get("skipped"))) for i in ctx.ledger if i.kind == "downtime"}
    assert got == {
        "1": ("one-time", Status.EXACT, False),
        "2": ("one-time", Status.EXACT, True),          # expired
        "3": ("recurring", Status.APPROXIMATE, False),  # starts tomorrow
        "31": ("occurrence", Status.EXACT, True),       # the current occurrence of 3
        "4": ("recurring", Status.UNSUPPORTED, False),  # every 2 weeks
        "5": ("one-time", Status.EXACT, True),          # canceled
        "6": ("recurring", Status.EXACT, True),         # recurrence ended
        "7": ("?", Status.ERROR, False),
        V2A: ("one-time", Status.APPROXIMATE, False),   # open-ended
        V2B: ("recurring", Status.EXACT, False),
        V2C: ("one-time", Status.EXACT, True),
    }
    assert ctx.ledger.get("downtime", "7").name == "Broken"


def test_notification_options_are_noted(tmp_path):
    dt = dict(F.DOWNTIMES[0], id=99, mute_first_recovery_notification=True)
    v2 = {"data": {"id": "v2x", "type": "downtime", "attributes": {
        "scope": "*", "monitor_identifier": {"monitor_id": 101}, "notify_end_states": [],
        "schedule": {"start": "2026-12-04T11:00:00Z", "end": "2026-12-04T13:00:00Z"}}}}
    snap = Snapshot.open(F.write_snapshot(tmp_path / "snap", [], F.PLAIN_MONITORS, [dt, v2]))
    out = OutputDir(tmp_path / "out")
    ctx = ConvertContext(snapshot=snap, out=out, options=ConvertOptions())
    ctx.shared["now"] = NOW
    downtimes.run(snap, ctx)
    assert "mute_first_recovery_notification" in ctx.ledger.get("downtime", "99").notes[0]
    assert ctx.ledger.get("downtime", "v2x").status is Status.APPROXIMATE
    out.abort()


def test_terraform_shapes(tmp_path):
    """What `dd2prom export --from-terraform` writes: datadog_downtime (v1 fields, no id) and
    datadog_downtime_schedule (v2 attributes, no id; a recurrence without start starts now)."""
    tf_v1 = {"scope": ["env:prod"], "monitor_id": 101, "start": F.NOW_EPOCH + 3600, "end": F.NOW_EPOCH + 7200,
             "timezone": "UTC"}
    tf_v2 = {"type": "downtime", "attributes": {
        "scope": "env:prod", "monitor_identifier": {"monitor_tags": ["team:core"]},
        "schedule": {"recurrences": [{"duration": "1h", "rrule": "FREQ=DAILY"}], "timezone": "UTC"}}}
    snap = Snapshot.open(F.write_snapshot(tmp_path / "snap", [], F.PLAIN_MONITORS, [tf_v1, tf_v2]))
    out = OutputDir(tmp_path / "out")
    ctx = ConvertContext(snapshot=snap, out=out, options=ConvertOptions())
    ctx.shared["now"] = NOW
    downtimes.run(snap, ctx)
    v1, v2 = ctx.ledger.get("downtime", "0"), ctx.ledger.get("downtime", "1")
    assert (v1.type, v1.status, v1.outputs) == ("one-time", Status.EXACT, ["alertmanager/silences/0.json"])
    assert (v2.type, v2.status) == ("recurring", Status.EXACT)
    am = ctx.shared["alertmanager"]
    assert am.time_intervals["downtime-1"] == [
        {"times": [{"start_time": "12:00", "end_time": "13:00"}], "location": "UTC"}]
    out.abort()


def test_silence_files(converted):
    _, out = converted
    assert sorted(p.name for p in (out / "alertmanager/silences").iterdir()) == sorted(["1.json", f"{V2A}.json"])
    (s,) = json.loads((out / "alertmanager/silences/1.json").read_text())
    assert s["startsAt"] == "2026-12-04T11:00:00Z" and s["endsAt"] == "2026-12-04T14:00:00Z"
    assert {(m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in s["matchers"]} == {
        ("env", "prod", False, True), ("dd_monitor_id", "101", False, True)}
    (s,) = json.loads((out / f"alertmanager/silences/{V2A}.json").read_text())
    got = {(m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in s["matchers"]}
    assert ("service", "api", False, False) in got


def test_time_intervals_and_mute_routes(converted):
    _, out = converted
    doc = load_yaml_all((out / "alertmanager/alertmanager.yaml").read_text())[0]
    intervals = {t["name"]: t["time_intervals"] for t in doc["time_intervals"]}
    assert intervals["downtime-3"] == [
        {"times": [{"start_time": "22:00", "end_time": "24:00"}], "weekdays": ["saturday", "sunday"],
         "location": "Europe/Berlin"},
        {"times": [{"start_time": "00:00", "end_time": "08:00"}], "weekdays": ["sunday", "monday"],
         "location": "Europe/Berlin"}]
    assert intervals[f"downtime-{V2B}"] == [
        {"times": [{"start_time": "03:00", "end_time": "05:00"}], "weekdays": ["monday"], "days_of_month": ["1:7"],
         "location": "America/New_York"}]
    mutes = {tuple(r["matchers"]): r["mute_time_intervals"] for r in doc["route"]["routes"]}
    assert mutes[('dd_monitor_id=~"101|102"',)] == ["downtime-3"]


def test_amtool_accepts_config(converted):
    require_binary("amtool")
    _, out = converted
    r = subprocess.run(["amtool", "check-config", str(out / "alertmanager/alertmanager.yaml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.e2e
def test_real_alertmanager_accepts_silences(converted, tmp_path):
    exe = require_binary("prometheus-alertmanager")
    require_binary("amtool")
    _, out = converted
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [exe, f"--config.file={out / 'alertmanager/alertmanager.yaml'}", f"--storage.path={tmp_path}",
           f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]
    files = sorted((out / "alertmanager/silences").glob("*.json"))
    with running(cmd, f"{url}/-/ready", tmp_path / "am.log"):
        # the v2 API, one silence at a time
        for s in json.loads(files[0].read_text()):
            req = urllib.request.Request(f"{url}/api/v2/silences", data=json.dumps(s).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.status == 200 and json.loads(resp.read())["silenceID"]
        # amtool's bulk import, the other files
        r = subprocess.run(["amtool", "silence", "import", f"--alertmanager.url={url}", *map(str, files[1:])],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        with urllib.request.urlopen(f"{url}/api/v2/silences", timeout=10) as resp:
            stored = [s for s in json.loads(resp.read()) if s["status"]["state"] in ("active", "pending")]
    # pending: the fixtures' "now" may lie ahead of the machine's clock
    assert len(stored) == sum(len(json.loads(f.read_text())) for f in files)
    assert {s["createdBy"] for s in stored} == {"dd2prom"}


def _rec(rule: str, start: str, duration_h: float, tz: str = "UTC") -> Recurrence:
    return parse_rrule(rule, datetime.fromisoformat(start), timedelta(hours=duration_h), tz)


@pytest.mark.parametrize("rule,start,hours,expected", [
    ("FREQ=DAILY", "2026-01-01T09:30:00", 1, [{"times": [{"start_time": "09:30", "end_time": "10:30"}]}]),
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "2026-01-01T00:00:00", 24,
     [{"weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"]}]),
    ("FREQ=WEEKLY", "2026-01-02T23:00:00", 2,   # a Friday
     [{"times": [{"start_time": "23:00", "end_time": "24:00"}], "weekdays": ["friday"]},
      {"times": [{"start_time": "00:00", "end_time": "01:00"}], "weekdays": ["saturday"]}]),
    ("FREQ=MONTHLY;BYMONTHDAY=15", "2026-01-15T01:00:00", 1,
     [{"times": [{"start_time": "01:00", "end_time": "02:00"}], "days_of_month": ["15"]}]),
    ("FREQ=MONTHLY;BYDAY=-1FR", "2026-01-30T18:00:00", 2,
     [{"times": [{"start_time": "18:00", "end_time": "20:00"}], "weekdays": ["friday"], "days_of_month": ["-7:-1"]}]),
    ("FREQ=YEARLY", "2025-12-24T00:00:00", 48,
     [{"months": ["12"], "days_of_month": ["24"]}, {"months": ["12"], "days_of_month": ["25"]}]),
])
def test_recurrence_to_time_intervals(rule, start, hours, expected):
    intervals, _, status = schedules.time_intervals(_rec(rule, start, hours), NOW)
    assert [{k: v for k, v in i.items() if k != "location"} for i in intervals] == expected
    assert status is Status.EXACT


@pytest.mark.parametrize("rule,start,hours,status", [
    ("FREQ=WEEKLY;INTERVAL=2", "2026-01-01T00:00:00", 1, Status.UNSUPPORTED),
    ("FREQ=DAILY;BYHOUR=3", "2026-01-01T00:00:00", 1, Status.UNSUPPORTED),
    ("FREQ=MONTHLY;BYDAY=5MO", "2026-01-01T00:00:00", 1, Status.UNSUPPORTED),
])
def test_inexpressible_recurrences(rule, start, hours, status):
    with pytest.raises(DowntimeError) as err:
        schedules.time_intervals(_rec(rule, start, hours), NOW)
    assert err.value.status is status


def test_month_end_crossing_is_noted():
    rec = _rec("FREQ=MONTHLY;BYMONTHDAY=28", "2026-01-28T20:00:00", 8)
    intervals, notes, status = schedules.time_intervals(rec, NOW)
    assert status is Status.APPROXIMATE and len(intervals) == 1 and "month's end" in notes[0]


@pytest.mark.parametrize("scope,expected", [
    (["*"], [[]]),
    (["env:prod", "host:web-*"], [['env="prod"', 'instance=~"web-.*(:[0-9]+)?"']]),
    (["!env:dev"], [['env!="dev"']]),
    ("*", [[]]),
    ("env:prod AND service:(web OR api)", [['env="prod"', 'service=~"web|api"']]),
    ("env:prod OR kube_namespace:shop", [['env="prod"'], ['namespace="shop"']]),
    ("env:staging -service:api", [['env="staging"', 'service!="api"']]),
])
def test_scope_to_matchers(scope, expected):
    assert [[m.text() for m in c] for c in silences.scope_dnf(scope)] == expected


@pytest.mark.parametrize("scope", ["env:", "NOT (env:a OR", "service:(web AND api)"])
def test_bad_scopes_are_unsupported(scope):
    with pytest.raises(DowntimeError) as err:
        silences.scope_dnf(scope)
    assert err.value.status is Status.UNSUPPORTED


def test_verify_checks_silences(converted, tmp_path):
    from dd2prom.validate.verify import check_silences

    _, out = converted
    assert check_silences(out).ok and check_silences(out).checked == 2
    bad = tmp_path / "alertmanager/silences"
    bad.mkdir(parents=True)
    (bad / "x.json").write_text(json.dumps([{"matchers": [{"name": "env", "value": ".*", "isRegex": True}],
                                             "startsAt": "2026-01-02T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z",
                                             "createdBy": "me", "comment": "c"}]))
    res = check_silences(tmp_path)
    assert not res.ok and len(res.details) == 2


@pytest.mark.parametrize("tags, ids", [
    (["team:a"], ["2", "10", "x"]),                  # numeric ids by value, others after them
    (["team:a", "env:prod"], ["10", "x"]),
    (["env:prod", "team:a"], ["10", "x"]),
    (["team:a", "nope:1"], []),
    (["env:prod"], ["10", "11", "x"]),
])
def test_monitor_tags_resolve_in_id_order(tags, ids):
    index = silences.TagIndex({"x": ["team:a", "env:prod"], "10": ["team:a", "env:prod", "team:a"],
                               "2": ["team:a"], "11": ["env:prod"]})
    assert index.tagged(tags) == ids
    assert "2" in index and "3" not in index
