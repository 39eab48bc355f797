"""The shared Alertmanager builder: valid for amtool, routes reach receivers, mutes apply."""

from __future__ import annotations

import subprocess

import pytest

from dd2prom.emit.alertmanager import AlertmanagerConfig, matcher_list
from dd2prom.emit.yamlio import dump_yaml, nest_yaml
from tests.support import require_binary


def build() -> AlertmanagerConfig:
    am = AlertmanagerConfig()
    am.add_receiver("slack-ops", slack_configs=[{"api_url_file": am.secret_file("slack-ops", "api_url", "m1"),
                                                 "channel": "#ops", "send_resolved": True}])
    am.add_receiver("pagerduty-db", pagerduty_configs=[{"routing_key_file": am.secret_file("pagerduty-db", "routing_key")}])
    mon = am.add_route({"dd_monitor_id": "1"}, "default", group_by=["alertname", "host"], repeat_interval="1h")
    mon["routes"] = [am.route(None, "slack-ops", continue_=True),
                     am.route({"severity": "critical"}, "pagerduty-db", continue_=True)]
    am.add_inhibit_rule({"severity": "critical"}, {"severity": "warning"}, equal=["alertname", "host"])
    am.add_time_interval("dt-1", [{"weekdays": ["saturday", "sunday"]}])
    am.mute_route({"host": "db-1"}, "dt-1")
    am.mute_route({"dd_monitor_id": "2"}, "dt-1")
    return am


def test_amtool_accepts_and_routes(tmp_path):
    require_binary("amtool")
    am = build()
    text = dump_yaml(am.to_dict())
    f = tmp_path / "am.yaml"
    f.write_text(text)
    check = subprocess.run(["amtool", "check-config", str(f)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for labels, want in [
        (["dd_monitor_id=1", "severity=critical"], "slack-ops,pagerduty-db"),
        (["dd_monitor_id=1", "severity=warning"], "slack-ops"),
        (["dd_monitor_id=3", "severity=warning"], "default"),
    ]:
        r = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={f}", *labels],
                           capture_output=True, text=True)
        assert r.stdout.strip() == want, (labels, r.stdout, r.stderr)


def test_mutes_sit_on_leaf_routes_that_can_match():
    doc = build().to_dict()
    mon = doc["route"]["routes"][0]
    slack, pd = mon["routes"]
    # the monitor-2 mute can never match under dd_monitor_id="1"
    assert slack["routes"] == [{"matchers": ['host="db-1"'], "mute_time_intervals": ["dt-1"]}]
    assert pd["routes"] == slack["routes"]
    # alerts caught by no route are muted at the root too
    assert {"matchers": ['dd_monitor_id="2"'], "mute_time_intervals": ["dt-1"]} in doc["route"]["routes"]


def test_mutes_with_the_same_matchers_share_one_route():
    # the second mute's own child route would never be reached: it joins the first
    am = build()
    am.add_time_interval("dt-2", [{"weekdays": ["sunday"]}])
    am.mute_route({"host": "db-1"}, "dt-2")
    slack = am.to_dict()["route"]["routes"][0]["routes"][0]
    assert slack["routes"] == [{"matchers": ['host="db-1"'], "mute_time_intervals": ["dt-1", "dt-2"]}]


def test_required_secrets_lists_mounts():
    req = build().required_secrets()
    assert req["alertmanagerSpec"]["secrets"] == ["pagerduty-db", "slack-ops"]


@pytest.mark.parametrize("bad", [
    lambda am: am.add_route({"a": "b"}, "nobody"),
    lambda am: am.mute_route({"a": "b"}, "no-such-interval"),
])
def test_inconsistent_config_is_refused(bad):
    am = AlertmanagerConfig()
    bad(am)
    with pytest.raises(ValueError):
        am.to_dict()


def test_matchers_are_quoted_and_checked():
    assert matcher_list({"name": 'a"b'}) == ['name="a\\"b"']
    with pytest.raises(ValueError):
        matcher_list(["not a matcher"])


@pytest.mark.parametrize("long_text", [None, "word " * 3000])   # a line past the width: dumped again
@pytest.mark.parametrize("secrets", [True, False])
def test_secret_and_helm_values_hold_the_config_as_dumped(tmp_path, long_text, secrets):
    from dd2prom.emit.alertmanager import CONFIG_SECRET_OUTPUT, HELM_VALUES_OUTPUT
    from dd2prom.emit.output import OutputDir
    am = build() if secrets else AlertmanagerConfig()
    if long_text:
        am.add_receiver("hook", webhook_configs=[{"url": "http://x.invalid/", "text": long_text}])
    am.add_receiver("multi-line", slack_configs=[{"text": "first\n\n  indented\nlast\n"}])
    with OutputDir(tmp_path / "out") as out:
        am.write(out)
        config = am.to_dict()
        text = dump_yaml(config)
        assert (nest_yaml(text, 4) is None) == bool(long_text)
        assert (out.root / CONFIG_SECRET_OUTPUT).read_text() == dump_yaml(am.config_secret("monitoring", text))
        assert (out.root / HELM_VALUES_OUTPUT).read_text() == dump_yaml(am.helm_values(config))


def test_equal_muted_leaves_are_one_object_written_as_before():
    # one state route per monitor: equal leaves become one dict (the YAML writer
    # writes it once); the text is what separate copies write
    import json
    am = build()
    for mid in ("3", "4"):
        route = am.add_route({"dd_monitor_id": mid}, "default")
        route["routes"] = [am.route(None, "slack-ops", continue_=True)]
    am.add_time_interval("dt-3", [{"weekdays": ["monday"]}])
    am.mute_route(['dd_monitor_id=~"3|4|5"', 'env="prod"'], "dt-3")
    doc = am.to_dict()
    leaf3, leaf4 = (r["routes"][0] for r in doc["route"]["routes"][1:3])
    assert leaf3 is leaf4 and {"matchers": ['env="prod"'], "mute_time_intervals": ["dt-3"]} in leaf3["routes"]
    assert dump_yaml(doc) == dump_yaml(json.loads(json.dumps(doc)))   # (no object shared)


@pytest.mark.parametrize("matcher, groups", [
    ('a="b"', ("a", "=", "b")),
    (' a =~ "x\\\\"', ("a", "=~", "x\\\\")),
    ('a!="b\\"c"', ("a", "!=", 'b\\"c')),
    ('a=""', ("a", "=", "")),
    ('a="b\\"', None),        # the closing quote is escaped
    ('a="b"c"', None),        # an unescaped quote inside
    ('a="b\\\n"', None),      # an escaped line break
    ('1a="b"', None),
])
def test_matcher_syntax(matcher, groups):
    from dd2prom.emit.alertmanager import _MATCHER_RE
    found = _MATCHER_RE.match(matcher)
    assert (found.groups() if found else None) == groups
