"""Table-driven tests of the pieces: reading the ledger, time ranges, alignment,
relative error, rolling windows and alert decisions, writing back."""

from __future__ import annotations

import json
import re

import pytest

from dd2prom.compare import ledger, parse_label_map
from dd2prom.compare.align import align, group_tags, label_for_tag
from dd2prom.compare.datadog_source import Series, SourceError, parse_response
from dd2prom.compare.metrics import decision_stats, relative_error, rolling, value_stats
from dd2prom.compare.timerange import default_step, parse_duration, resolve_range
from dd2prom.snapshot import atomic_write_json


@pytest.mark.parametrize("text, seconds", [
    ("90s", 90), ("5m", 300), ("1h30m", 5400), ("6h", 21600), ("2d", 172800), ("1w", 604800),
    ("", None), ("5", None), ("5x", None), ("m5", None),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("last, start, end, expected", [
    ("6h", None, None, (1000 - 21600, 1000)),
    ("1h", None, "5000", (1400, 5000)),
    (None, "100", "200", (100, 200)),
    ("6h", "2026-11-20T00:00:00Z", "2026-11-20T01:00:00+00:00", (1795132800, 1795136400)),
    ("6h", "2026-11-20T00:00:00", "1795136400", (1795132800, 1795136400)),  # naive times are UTC
])
def test_resolve_range(last, start, end, expected):
    assert resolve_range(last, start, end, now=1000) == expected


@pytest.mark.parametrize("last, start, end", [("6x", None, None), ("6h", "200", "100"), ("6h", "yesterday", None)])
def test_resolve_range_rejects(last, start, end):
    with pytest.raises(ValueError):
        resolve_range(last, start, end, now=1000)


def test_default_step():
    assert default_step(0, 3600) == 60 and default_step(0, 7 * 86400) == 2016 // 60 * 60


MON = {"kind": "monitor", "id": "1", "name": "n", "type": "query alert"}


@pytest.mark.parametrize("item, skip, fields", [
    ({**MON, "query": "avg(last_5m):avg:cpu{env:prod} by {host} > 90", "promql": "avg by (host) (x) > 90"},
     None, {"datadog_query": "avg:cpu{env:prod} by {host}", "promql": "avg by (host) (x)",
            "alert_promql": "avg by (host) (x) > 90"}),
    # extra nested under "extra", threshold from thresholds.critical, parenthesised left side
    ({**MON, "extra": {"query": "max(last_1h):sum:a{*}.as_count() >= 1e3", "promql": "(sum(increase(a[1h]))) >= 1000",
                       "thresholds": {"critical": 1000}}},
     None, {"datadog_query": "sum:a{*}.as_count()", "promql": "sum(increase(a[1h]))"}),
    ({**MON, "query": "avg(last_5m):avg:cpu{*} < -1.5", "promql": "avg(x) < bool -1.5"}, None, {"promql": "avg(x)"}),
    ({**MON, "query": "avg(last_5m):avg:cpu{*} > 1", "promql": "avg(x) > avg(y)"}, "value side", {}),
    ({**MON, "type": "service check", "query": "x", "promql": "y"}, "service check", {}),
    ({**MON, "promql": "x > 1"}, "no Datadog query", {}),
    ({**MON, "query": "avg(last_5m):avg:cpu{*} > 1"}, "no PromQL", {}),
    ({**MON, "query": "pct_change(avg(last_5m),last_5m):avg:cpu{*} > 1", "promql": "x > 1"}, "not of the form", {}),
    ({**MON, "query": "avg(last_5q):avg:cpu{*} > 1", "promql": "x > 1"}, "unknown monitor window", {}),
    ({**MON, "query": "avg(last_4h):anomalies(avg:cpu{*}, 'basic', 2) >= 1", "promql": "x >= 1"}, "anomalies()", {}),
    # "bool" makes every series come back: as an alert it always fires, which the decisions show
    ({**MON, "query": "avg(last_5m):avg:cpu{*} > 1", "promql": "avg(x) > bool 1"}, None, {"promql": "avg(x)"}),
])
def test_monitor_targets(item, skip, fields):
    t = ledger.monitor_target(item)
    if skip:
        assert skip in t.skip
    else:
        assert t.skip is None
        for k, v in fields.items():
            assert getattr(t, k) == v


def test_monitor_spec():
    t = ledger.monitor_target({**MON, "query": "sum(last_1h):sum:a{*} by {x}.as_count() >= 5",
                                "promql": "x >= 5", "thresholds": {"critical": 7, "warning": 3}})
    assert (t.monitor.time_aggregation, t.monitor.window_seconds, t.monitor.comparator, t.monitor.threshold) == \
        ("sum", 3600, ">=", 7.0)


W = {"kind": "widget", "id": "d/1", "name": "w"}


@pytest.mark.parametrize("item, expected", [
    ({**W, "queries": ["avg:a{$env,service:x} by {host}"], "promql": ['avg by (host) (a{env=~"$env",service="x"})']},
     [("avg:a{service:x} by {host}", 'avg by (host) (a{env=~".*",service="x"})', None)]),
    ({**W, "queries": ["sum:a{$env}.as_count()", "query1 / query2"], "promql": ["sum(increase(a[$__interval]))", "x"]},
     [("sum:a{*}.as_count()", "sum(increase(a[$__interval]))", None), (None, None, "not a Datadog metric query")]),
    ({**W, "queries": ["avg:a{*}"], "promql": ['a{host="$host",pod=~"${pod:regex}"}']},
     [("avg:a{*}", 'a{host=~".*",pod=~".*"}', None)]),
    ({**W, "queries": ["avg:a{*}"], "promql": ["topk($n, a)"]}, [(None, None, "Grafana variables")]),
    ({**W, "queries": ["avg:a{*}", "avg:b{*}"], "promql": ["a"]}, [("avg:a{*}", "a", None), (None, None, "no PromQL")]),
    ({**W}, [(None, None, "no Datadog queries")]),
    ({**W, "queries": ["forecast(avg:a{*}, 'linear', 1)"], "promql": ["predict_linear(a[1h], 3600)"]},
     [(None, None, "forecast()")]),
    ({**W, "type": "change", "queries": ["avg:a{*}"], "promql": ["a - a offset 1d"]}, [(None, None, "change widget")]),
    ({**W, "queries": "avg:a{*}", "promql": "a"}, [("avg:a{*}", "a", None)]),
])
def test_widget_targets(item, expected):
    got = list(ledger.widget_targets(item))
    assert len(got) == len(expected)
    for t, (dd, prom, skip) in zip(got, expected):
        if skip:
            assert skip in t.skip
        else:
            assert (t.datadog_query, t.promql, t.skip) == (dd, prom, None)


def test_with_step():
    expr = "rate(a[$__rate_interval]) + increase(b[${__interval}]) + c[$__range]"
    assert ledger.with_step(expr, 60, 15, 3600) == "rate(a[75s]) + increase(b[60s]) + c[3600s]"
    assert "60s" in ledger.with_step("rate(a[$__rate_interval])", 15, 15, 60)


def test_targets_only_and_odd_items():
    cov = {"items": [MON | {"query": "avg(last_5m):avg:a{*} > 1", "promql": "a > 1"}, {**W, "queries": ["avg:a{*}"], "promql": ["a"]},
                     "junk", {"kind": "slo", "id": "s"}]}
    assert [t.kind for t in ledger.targets(cov)] == ["monitor", "widget"]
    assert [t.kind for t in ledger.targets(cov, "widgets")] == ["widget"]


@pytest.mark.parametrize("query, tags", [
    ("avg:a{*} by {host,env}", ["host", "env"]),
    ("sum:a{x:y} by {service}.as_count() / sum:b{*} by {service,pod}", ["service", "pod"]),
    ("avg:a{*}", []),
])
def test_group_tags(query, tags):
    assert group_tags(query) == tags


def test_label_for_tag():
    assert label_for_tag("kube_namespace", {"kube_namespace": "namespace"}) == "namespace"
    assert label_for_tag("host") == "instance"                      # the shipped tables
    assert label_for_tag("host", {"host": "node"}) == "node"        # --label-map first
    assert label_for_tag("availability-zone") == "availability_zone"
    assert label_for_tag("1x") == "_1x"


def S(labels, points):  # noqa: N802 - short constructor for tables
    return Series(labels, points)


def test_align_pairs_missing_and_ambiguous():
    dd = [S({"host": "A"}, {}), S({"host": "b"}, {}), S({"host": "c"}, {})]
    # the mapping tables turn host into instance, which carries a port in Prometheus
    prom = [S({"instance": "a:9100", "pod": "1"}, {}), S({"instance": "b:9100", "pod": "1"}, {}),
            S({"instance": "b:9100", "pod": "2"}, {}), S({"instance": "d"}, {})]
    al = align(dd, prom, ["host"])
    assert [k for k, _, _ in al.pairs] == [(("instance", "a"),), (("instance", "b"),)]
    assert al.datadog_only == [(("instance", "c"),)]
    assert al.prometheus_only == [(("instance", "d"),)]
    assert al.ambiguous == [(("instance", "b"),)]


def test_align_with_label_map_and_no_groups():
    al = align([S({"kube_namespace": "x"}, {})], [S({"namespace": "x", "job": "j"}, {})], ["kube_namespace"],
               {"kube_namespace": "namespace"})
    assert len(al.pairs) == 1 and al.label_names == ["namespace"]
    al = align([S({}, {})], [S({"job": "j"}, {})], [])
    assert len(al.pairs) == 1


@pytest.mark.parametrize("p, d, err", [
    (1.0, 1.0, 0.0), (0.0, 0.0, 0.0), (110.0, 100.0, 10 / 110), (100.0, 110.0, 10 / 110),
    (0.0, 5.0, 1.0), (-1.0, 1.0, 2.0), (1e-15, 0.0, 0.0),
])
def test_relative_error(p, d, err):
    assert relative_error(p, d) == pytest.approx(err)


def test_relative_error_near_the_bottom_of_a_series():
    k = (("h", "a"),)
    st = value_stats([(k, S({}, {60: 100.0, 120: 0.5}), S({}, {60: 100.0, 120: 0.6}))])
    assert st.max == pytest.approx(0.1 / 1.0)          # against 1% of 100, not against 0.6
    assert relative_error(0.6, 0.5, floor=1.0) == pytest.approx(0.1)


def test_value_stats():
    pairs = [((("h", "a"),), S({}, {60: 1.0, 120: 2.0, 180: 4.0}), S({}, {60: 1.0, 120: 2.2, 240: 9.0}))]
    st = value_stats(pairs)
    assert (st.compared, st.missing_in_prometheus, st.missing_in_datadog) == (2, 1, 1)
    assert st.max == pytest.approx(0.2 / 2.2) and st.worst_at == 120 and st.worst_series == '{h="a"}'
    assert st.median == pytest.approx(0.1 / 2.2)


@pytest.mark.parametrize("agg, expected", [
    ("avg", {180: 2.0, 240: 3.0, 300: 4.0}),
    ("sum", {180: 6.0, 240: 9.0, 300: 12.0}),
    ("max", {180: 3.0, 240: 4.0, 300: 5.0}),
    ("min", {180: 1.0, 240: 2.0, 300: 3.0}),
    ("last", {180: 3.0, 240: 4.0, 300: 5.0}),
])
def test_rolling(agg, expected):
    # buckets ending at 60..300, window 3 buckets: the first full window ends at 180
    points = {60: 1.0, 120: 2.0, 180: 3.0, 240: 4.0, 300: 5.0}
    assert rolling(points, 180, agg, 60) == expected


def test_rolling_with_gap_keeps_window_in_time():
    assert rolling({60: 1.0, 120: 2.0, 300: 9.0}, 120, "avg", 60) == {120: 1.5, 300: 9.0}


def test_decisions():
    k1, k2, k3 = (("h", "a"),), (("h", "b"),), (("h", "c"),)
    dd = {k1: {60: 5.0, 120: 15.0, 180: 15.0}, k2: {60: 1.0, 120: 1.0, 180: 1.0}}
    fired = {k1: {120}, k3: {180}}
    st = decision_stats(dd, fired, ">", 10)
    # k1: agree at 60 and 120, Datadog alone at 180; k2 agrees 3 times; k3: Prometheus alone at 180
    assert (st.steps, st.agree, st.only_datadog, st.only_prometheus) == (7, 5, 1, 1)
    assert (st.fired_datadog, st.fired_prometheus, st.first_disagreement) == (2, 2, 180)
    assert st.at_crossings == 0 and st.never_in_datadog == ['{h="c"}'] and st.never_in_prometheus == []


def test_decisions_a_step_late_at_a_crossing_is_timing():
    k = (("h", "a"),)
    dd = {k: {60: 1.0, 120: 1.0, 180: 20.0, 240: 20.0, 300: 20.0}}
    st = decision_stats(dd, {k: {240, 300}}, ">", 10)
    assert (st.steps, st.agree, st.at_crossings, st.disagreement) == (5, 4, 1, 0.0)
    st = decision_stats(dd, {}, ">", 10)               # never fires in Prometheus
    assert st.never_in_prometheus == ['{h="a"}'] and st.disagreement == pytest.approx(2 / 5)


def test_one_wrong_series_among_many():
    good = [((("h", str(i)),), S({}, {60: 1.0, 120: 1.0}), S({}, {60: 1.0, 120: 1.0})) for i in range(9)]
    bad = [((("h", "x"),), S({}, {60: 1.0, 120: 1.0}), S({}, {60: 2.0, 120: 2.0}))]
    st = value_stats(good + bad)
    assert st.median == 0.0 and st.worst_series_median == 0.5 and st.worst_median_series == '{h="x"}'


def test_parse_response():
    body = {"status": "ok", "group_by": ["host"], "series": [
        {"interval": 20, "tag_set": ["host:a", "novalue"], "pointlist": [[1000.0, 1.5], [21000.0, None], [41000.0, 2]]},
    ]}
    res = parse_response(body)
    assert res.interval == 20 and res.tag_groups == ["host"]
    assert res.series[0].labels == {"host": "a", "novalue": ""}
    assert res.series[0].points == {21: 1.5, 61: 2.0}
    with pytest.raises(SourceError):
        parse_response({"status": "error", "error": "bad query"})


def test_label_map_option():
    assert parse_label_map(["host=instance", " a = b "]) == {"host": "instance", "a": "b"}
    with pytest.raises(ValueError):
        parse_label_map(["host"])


def _row(id_, verdict, headline="h."):
    return {"kind": "monitor", "id": id_, "query_index": 0, "verdict": verdict, "headline": headline,
            "relative_error": None, "series": None, "decisions": None}


def test_flag_items_is_rerunnable(tmp_path):
    items = [{"kind": "monitor", "id": i, "status": s, "notes": ["kept"]} for i, s in
             [("1", "exact"), ("2", "exact"), ("3", "manual"), ("4", "exact")]]
    atomic_write_json(tmp_path / "coverage.json", {"items": items, "counts": {}})
    rows = [_row("1", "diverges", "Values differ."), _row("2", "match"), _row("3", "missing"), _row("4", "skipped")]
    assert ledger.flag_items(tmp_path, rows, "compare/compare.json") == 2
    got = {i["id"]: i for i in json.loads((tmp_path / "coverage.json").read_text())["items"]}
    assert got["1"]["status"] == "approximate" and got["1"]["notes"] == ["kept", "compare: Values differ."]
    assert got["2"]["status"] == "exact" and got["2"]["compare"]["verdict"] == "match"
    assert got["3"]["status"] == "manual"           # never raised by compare
    assert "compare" not in got["4"]
    # the translation was fixed: a second run restores the status and drops the note
    ledger.flag_items(tmp_path, [_row("1", "match")], "compare/compare.json")
    got = {i["id"]: i for i in json.loads((tmp_path / "coverage.json").read_text())["items"]}
    assert got["1"]["status"] == "exact" and got["1"]["notes"] == ["kept"]


@pytest.mark.parametrize("query, metric", [
    ("avg:system.cpu.user{env:prod} by {host}", "system.cpu.user"),
    ("sum:a.b{*}.as_count() / sum:c{*}", "a.b"),
    ("query1", None),
])
def test_first_metric(query, metric):
    from dd2prom.compare.align import first_metric

    assert first_metric(query) == metric


@pytest.mark.parametrize("status, fatal", [(403, True), (400, False)])
def test_datadog_http_errors(status, fatal, monkeypatch):
    """A real HTTP exchange with a local server: bad keys stop the run, a bad
    query fails only its item; the key never appears in the message."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from dd2prom.compare.datadog_source import DatadogSource

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps({"errors": ["Forbidden" if status == 403 else "bad query"]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    monkeypatch.setenv("DD_API_KEY", "secret-api-key")
    monkeypatch.setenv("DD_APP_KEY", "secret-app-key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    source = DatadogSource(api_url=f"http://127.0.0.1:{server.server_port}/")
    try:
        with pytest.raises(SourceError) as info:
            source.query("avg:a{*}", 0, 60)
    finally:
        source.close()
        server.shutdown()
    assert info.value.fatal is fatal and f"HTTP {status}" in str(info.value)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("text, error", [
    ("label_map: {host: node}\nitems:\n  '1': {tolerance: 0.2}\n  d/2: {skip: noisy}\n", None),
    ("", None),
    ("items: [1]", "items must map"),
    ("items: {'1': {tolerance: -1}}", "tolerance must be a number"),
    ("items: {'1': {tolerance: yes}}", "tolerance must be a number"),
    ("items: {'1': {window: 5m}}", "takes 'tolerance' and/or 'skip'"),
    ("label_map: {host: 3}", "label_map must map"),
    ("tolerance: 0.1", "expected a mapping"),
    ("items: {a: [}", "not valid YAML"),
])
def test_config(tmp_path, text, error):
    from dd2prom.compare.config import load_config

    path = tmp_path / "compare.yaml"
    path.write_text(text)
    if error:
        with pytest.raises(ValueError, match=re.escape(error)):
            load_config(path)
    else:
        cfg = load_config(path)
        if text:
            assert cfg.label_map == {"host": "node"} and cfg.tolerances == {"1": 0.2} and cfg.skips == {"d/2": "noisy"}


class StubDatadog:
    def __init__(self, result=None, error=None):
        self.result, self.error, self.queries = result, error, []

    def query(self, query, start, end):
        self.queries.append(query)
        if self.error:
            raise self.error
        return self.result


class StubPrometheus:
    def __init__(self, series=(), error=None):
        self.series, self.error, self.calls = list(series), error, []

    def query_range(self, expr, start, end, step):
        self.calls.append((expr, start, end, step))
        if self.error:
            raise self.error
        return [Series(dict(s.labels), dict(s.points)) for s in self.series]


def _dd(series, interval=60, groups=("host",)):
    from dd2prom.compare.datadog_source import DatadogResult

    return DatadogResult(series, interval, list(groups), [])


WIDGET = {"kind": "widget", "id": "d/1", "name": "w", "queries": ["avg:a{*} by {name}"], "promql": ["avg by (name) (a)"]}


@pytest.mark.parametrize("dd, prom, verdict, words", [
    (StubDatadog(_dd([S({"name": "x"}, {120: 1.0})])), StubPrometheus(error=SourceError("bad_data: parse error")),
     "error", "Prometheus: bad_data"),
    (StubDatadog(error=SourceError("HTTP 400 Bad Request: bad query")), StubPrometheus(), "error", "Datadog: HTTP 400"),
    (StubDatadog(_dd([])), StubPrometheus(), "no_data", "Neither"),
    (StubDatadog(_dd([])), StubPrometheus([S({"name": "x"}, {120: 1.0})]), "missing", "Datadog returns no series"),
    # the PromQL keeps a label Datadog aggregates away
    (StubDatadog(_dd([S({"name": "x"}, {120: 1.0})])),
     StubPrometheus([S({"name": "x", "pod": "1"}, {105: 1.0}), S({"name": "x", "pod": "2"}, {105: 1.0})]),
     "diverges", "keeps labels"),
])
def test_compare_target_paths(dd, prom, verdict, words):
    from dd2prom.compare.run import Options, compare_target

    t = next(ledger.widget_targets(WIDGET))
    row = compare_target(t, dd, prom, Options(0, 3600))
    assert row["verdict"] == verdict and words in row["headline"], row["headline"]


def test_fatal_errors_stop_the_run():
    from dd2prom.compare.run import Options, compare_target

    t = next(ledger.widget_targets(WIDGET))
    with pytest.raises(SourceError):
        compare_target(t, StubDatadog(error=SourceError("HTTP 403 Forbidden", fatal=True)), StubPrometheus(),
                       Options(0, 3600))


def test_prometheus_grid_follows_datadogs_buckets():
    """Datadog's buckets start at 60 s multiples after --from; Prometheus is asked
    on the same grid, from the first to the last bucket. An instant PromQL is
    averaged over the bucket's samples, evaluated one scrape interval before
    the bucket's end (then moved back onto it)."""
    from dd2prom.compare.run import Options, compare_target

    t = next(ledger.widget_targets(WIDGET))
    dd = StubDatadog(_dd([S({"name": "x"}, {1080: 1.0, 1140: 2.0})]))      # bucket ends
    prom = StubPrometheus([S({"name": "x"}, {1065: 1.0, 1125: 2.0})])
    row = compare_target(t, dd, prom, Options(1000, 1200))
    assert prom.calls == [("avg_over_time((avg by (name) (a))[59s:15s])", 1065, 1125, 60)]
    assert row["verdict"] == "match" and row["points"]["compared"] == 2


@pytest.mark.parametrize("query, step, expected", [
    ("avg:a{*}", 60, ("avg_over_time((a)[59s:15s])", 15)),
    ("max:a{*}.rollup(max, 120)", 120, ("max_over_time((a)[119s:15s])", 15)),
    ("avg:a{*}", 15, ("a", 7)),              # one sample per bucket: the instant value at its middle
])
def test_bucket_expr(query, step, expected):
    from dd2prom.compare.run import bucket_expr

    assert bucket_expr("a", query, step, 15) == expected


def _scripted_server(answers):
    """A local HTTP server answering each request with the next (status,
    headers, JSON body) of ``answers``; returns (server, requests served)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    served = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, headers, body = answers[min(len(served), len(answers) - 1)]
            served.append(status)
            data = json.dumps(body).encode()
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server, served


_OK = (200, {}, {"status": "success", "data": {"resultType": "matrix", "result": [
    {"metric": {"__name__": "a", "job": "x"}, "values": [[60, "1.5"]]}]}})
_BUSY = (503, {}, "upstream busy")         # a front end's answer, not Prometheus JSON


@pytest.mark.parametrize("answers, served, error", [
    ([_BUSY, (502, {}, "bad gateway"), _OK], [503, 502, 200], None),
    ([(429, {"Retry-After": "0"}, {"status": "error", "error": "too many outstanding requests"}), _OK], [429, 200], None),
    ([_BUSY], [503] * 4, "HTTP 503 for /api/v1/query_range (after 4 attempts)"),
    # Prometheus stopped the query at its --query.timeout: it would run as long again
    ([(503, {}, {"status": "error", "errorType": "timeout", "error": "query timed out"}), _OK], [503],
     "timeout: query timed out"),
    ([(400, {}, {"status": "error", "errorType": "bad_data", "error": "parse error"}), _OK], [400], "bad_data"),
])
def test_prometheus_retries_transient_answers(answers, served, error):
    from dd2prom.compare.prometheus_source import PrometheusSource
    from dd2prom.export.client import RetryPolicy

    server, requests = _scripted_server(answers)
    prom = PrometheusSource(f"http://127.0.0.1:{server.server_port}", RetryPolicy(attempts=4, base=0.001, timeout=5))
    try:
        if error:
            with pytest.raises(SourceError, match=re.escape(error)):
                prom.query_range("a", 0, 60, 60)
        else:
            assert [(s.labels, s.points) for s in prom.query_range("a", 0, 60, 60)] == [({"job": "x"}, {60: 1.5})]
    finally:
        server.shutdown()
    assert requests == served


class SlowDatadog(StubDatadog):
    """Answers later the earlier the query comes in the list: finishing order is
    the reverse of the targets' order. Counts the queries running at once."""

    def __init__(self, results):
        super().__init__()
        self.results, self.running, self.most = results, 0, 0
        import threading

        self.lock = threading.Lock()

    def query(self, query, start, end):
        import time

        with self.lock:
            self.queries.append(query)
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02 * (len(self.results) - list(self.results).index(query)))
        with self.lock:
            self.running -= 1
        if isinstance(self.results[query], Exception):
            raise self.results[query]
        return self.results[query]


def _widget_targets(n):
    item = {"kind": "widget", "id": "d/1", "name": "w", "queries": [f"avg:m{i}{{*}} by {{name}}" for i in range(n)],
            "promql": ["avg by (name) (a)"] * n}
    return list(ledger.widget_targets(item))


def test_compare_targets_keeps_the_targets_order():
    from dd2prom.compare.run import Options, compare_targets

    targets = _widget_targets(6)
    dd = SlowDatadog({t.datadog_query: _dd([S({"name": str(i)}, {120: 1.0})]) for i, t in enumerate(targets)})
    prom = StubPrometheus([S({"name": "3"}, {105: 1.0})])
    done = []
    rows = compare_targets(targets, dd, prom, Options(0, 3600), 4, lambda: done.append(1))
    assert [r["query_index"] for r in rows] == list(range(6)) and len(done) == 6
    assert [r["verdict"] for r in rows] == ["missing"] * 3 + ["match"] + ["missing"] * 2
    assert dd.most == 4                     # bounded by the pool, and it overlapped
    serial = compare_targets(targets, SlowDatadog(dd.results), prom, Options(0, 3600), 1)
    assert serial == rows


def test_compare_targets_stops_at_a_fatal_error():
    from dd2prom.compare.run import Options, compare_targets

    targets = _widget_targets(12)
    results = {t.datadog_query: _dd([]) for t in targets}
    results[targets[0].datadog_query] = SourceError("HTTP 403 Forbidden", fatal=True)
    dd = SlowDatadog(results)
    with pytest.raises(SourceError, match="403"):
        compare_targets(targets, dd, StubPrometheus(), Options(0, 3600), 2)
    assert len(dd.queries) < 12             # the queue was cancelled
