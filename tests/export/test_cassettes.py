"""Replay of our own recorded fault scenarios (tests/export/cassettes, recorded
against the fake Datadog API by tests/export/scenarios.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dd2prom.snapshot import Snapshot
from tests.export.scenarios import CASSETTES, SCENARIOS, org, run
from tests.fakeapi import API_KEY, APP_KEY

ORG = org()
ID = {"synthetics": "public_id"}


def replay(name: str, tmp_path: Path) -> tuple[dict, Path]:
    out = tmp_path / name
    return run(name, out, "http://127.0.0.1:9", "none"), out


def expected(kind: str, skip: set = frozenset()) -> dict[str, dict]:
    return {str(o[ID.get(kind, "id")]): o for o in ORG[kind] if str(o[ID.get(kind, "id")]) not in skip}


def exported(out: Path, kind: str) -> dict[str, dict]:
    return {o.id: o.data for o in Snapshot.open(out).iter(kind)}


def test_paging_over_several_pages(tmp_path):
    manifest, out = replay("paging", tmp_path)
    assert manifest["errors"] == [] and manifest["complete"]
    for kind in SCENARIOS["paging"].kinds:
        assert exported(out, kind) == expected(kind), kind
    # pages of 3: 25 monitors → 9; 4 dashboards → 2 + 4 definitions; 7 SLOs → 3;
    # 6 tests → 3 (the last one empty) + 6 details; 7 downtimes → 3
    assert manifest["requests"]["total"] == 9 + (2 + 4) + 3 + (3 + 6) + 3


def test_rate_limit_waits_for_reset(tmp_path):
    manifest, out = replay("rate_limit", tmp_path)
    assert manifest["errors"] == []
    assert manifest["requests"]["rate_limited"] == 1
    assert exported(out, "monitors") == expected("monitors")


def test_server_error_then_success(tmp_path):
    manifest, out = replay("server_error", tmp_path)
    assert manifest["errors"] == [] and manifest["requests"]["retries"] == 1
    assert exported(out, "dashboards") == expected("dashboards")


def test_poisoned_page_is_isolated(tmp_path):
    manifest, out = replay("poisoned_page", tmp_path)
    poisoned = str(ORG["monitors"][12]["id"])
    assert exported(out, "monitors") == expected("monitors", {poisoned})
    [error] = manifest["errors"]
    assert error["kind"] == "monitors" and error["id"] == "offset 12" and error["status"] == 500
    neighbours = f"after {ORG['monitors'][11]['id']} and before {ORG['monitors'][13]['id']}"
    assert neighbours in error["message"]
    assert not manifest["complete"]


def test_forbidden_dashboard_is_recorded_and_skipped(tmp_path):
    manifest, out = replay("forbidden_dashboard", tmp_path)
    forbidden = ORG["dashboards"][2]["id"]
    assert exported(out, "dashboards") == expected("dashboards", {forbidden})
    assert [(e["id"], e["status"]) for e in manifest["errors"]] == [(forbidden, 403)]


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.stem)
def test_no_key_in_cassettes(path):
    text = path.read_text(encoding="utf-8")
    assert API_KEY not in text and APP_KEY not in text
    assert "dd-api-key" not in text.lower() and "dd-application-key" not in text.lower()


def test_every_scenario_has_a_cassette():
    assert {p.stem for p in CASSETTES.glob("*.yaml")} == set(SCENARIOS)


def test_manifest_is_valid_json_with_contract_fields(tmp_path):
    manifest, out = replay("forbidden_dashboard", tmp_path)
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == manifest
    for key in ("site", "time", "tool", "counts", "errors"):
        assert key in on_disk
