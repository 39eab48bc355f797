"""Small pieces of the exporter, table-driven."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from dd2prom.export.command import parse_only, read_id_file
from dd2prom.export.client import RedactingFilter, Redactor, RetryPolicy, site_host
from dd2prom.export.metric_names import object_queries, query_metrics
from dd2prom.export.resources.usage import month_range
from dd2prom.export.runner import _smallest_factor


@pytest.mark.parametrize("site,host", [
    (None, "https://api.datadoghq.com"),
    ("datadoghq.com", "https://api.datadoghq.com"),
    ("datadoghq.eu", "https://api.datadoghq.eu"),
    ("eu", "https://api.datadoghq.eu"),
    ("us3", "https://api.us3.datadoghq.com"),
    ("us5.datadoghq.com", "https://api.us5.datadoghq.com"),
    ("ap1", "https://api.ap1.datadoghq.com"),
    ("ddog-gov.com", "https://api.ddog-gov.com"),
    ("https://app.datadoghq.eu/", "https://api.datadoghq.eu"),
    ("api.us3.datadoghq.com", "https://api.us3.datadoghq.com"),
])
def test_site_host(site, host):
    assert site_host(site)[1] == host


def test_unknown_site():
    with pytest.raises(ValueError, match="unknown Datadog site"):
        site_host("datadoghq.org")


@pytest.mark.parametrize("query,monitor,names", [
    ("avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90", True, {"system.cpu.user"}),
    ("sum:trace.http.request.errors{service:web}.as_count() / sum:trace.http.request.hits{service:web}.as_count()",
     False, {"trace.http.request.errors", "trace.http.request.hits"}),
    ("top(avg:kafka.consumer_lag{$env} by {consumer_group}, 10, 'mean', 'desc')", False, {"kafka.consumer_lag"}),
    ("avg(last_15m):anomalies(avg:nginx.net.request_per_s{*}, 'agile', 2) >= 1", True, {"nginx.net.request_per_s"}),
    ("avg(last_15m):system.load.1{host:pi} > 6", True, {"system.load.1"}),
    ("p99:trace.http.request{service:web}", False, {"trace.http.request"}),
])
def test_query_metrics(query, monitor, names):
    assert query_metrics(query, monitor=monitor) == names


@pytest.mark.parametrize("kind,obj,queries", [
    ("monitors", {"type": "query alert", "query": "avg(last_5m):avg:a{*} > 1"}, ["avg(last_5m):avg:a{*} > 1"]),
    ("monitors", {"type": "log alert", "query": 'logs("x{y}").index("*").last("5m") > 1'}, []),
    ("monitors", {"type": "service check", "query": '"http.can_connect".over("*").last(3)'}, []),
    ("dashboards", {"widgets": [{"definition": {"requests": [{"q": "avg:a{*}"}]}},
                                {"definition": {"type": "group", "widgets": [
                                    {"definition": {"requests": [{"queries": [
                                        {"data_source": "metrics", "query": "sum:b{*}"},
                                        {"data_source": "logs", "query": "c{*}"}]}]}}]}}]},
     ["avg:a{*}", "sum:b{*}"]),
    ("dashboards", {"widgets": [{"definition": {"requests": {"fill": {"q": "avg:h{*} by {host}"}}}}]},
     ["avg:h{*} by {host}"]),
    ("slos", {"query": {"numerator": "sum:good{*}.as_count()", "denominator": "sum:all{*}.as_count()"}},
     ["sum:all{*}.as_count()", "sum:good{*}.as_count()"]),
])
def test_object_queries(kind, obj, queries):
    assert sorted(q for q, _ in object_queries(kind, obj)) == sorted(queries)


@pytest.mark.parametrize("now,months,start,end", [
    (datetime(2026, 11, 27, tzinfo=UTC), 3, (2026, 8), (2026, 10)),
    (datetime(2026, 2, 3, tzinfo=UTC), 3, (2025, 11), (2026, 1)),
    (datetime(2026, 1, 1, tzinfo=UTC), 1, (2025, 12), (2025, 12)),
    (datetime(2026, 1, 1, tzinfo=UTC), 12, (2025, 1), (2025, 12)),
])
def test_month_range(now, months, start, end):
    s, e = month_range(months, now)
    assert (s.year, s.month, s.day) == (*start, 1) and (e.year, e.month, e.day) == (*end, 1)


@pytest.mark.parametrize("n,f", [(1000, 2), (125, 5), (25, 5), (7, 7), (10, 2), (3, 3), (1, 1)])
def test_smallest_factor(n, f):
    assert _smallest_factor(n) == f


def test_redactor_and_log_filter(caplog):
    redact = Redactor("secret-api-key-123", "secret-app-key-456", None, "")
    assert redact("x secret-api-key-123 y secret-app-key-456") == "x *** y ***"
    logger = logging.getLogger("dd2prom.test.redact")
    logger.addFilter(RedactingFilter(redact))
    with caplog.at_level(logging.INFO, logger="dd2prom.test.redact"):
        logger.info("header %s", "secret-api-key-123")
    assert "secret-api-key-123" not in caplog.text and "***" in caplog.text


def test_read_id_file_and_only(tmp_path):
    f = tmp_path / "ids"
    f.write_text("123\n# comment\n abc-def-ghi  # dashboard\n\n")
    assert read_id_file(f) == {"123", "abc-def-ghi"}
    assert parse_only("dashboards, monitors") == ["monitors", "dashboards"]
    assert parse_only(None)[-2:] == ["metrics", "usage"]
    with pytest.raises(ValueError, match="unknown kind"):
        parse_only("monitors,alerts")


def test_retry_policy_from_env(monkeypatch):
    monkeypatch.setenv("DD2PROM_ATTEMPTS", "7")
    monkeypatch.setenv("DD2PROM_RETRY_BASE", "0.25")
    p = RetryPolicy.from_env()
    assert (p.attempts, p.base) == (7, 0.25)
    assert 0.125 <= p.backoff(0) <= 0.25 and p.backoff(30) <= p.max_wait


def test_rate_gate_spends_the_remaining_budget_then_waits():
    import time

    from dd2prom.export.client import RateGate

    gate = RateGate()
    gate.before()                                     # unknown budget: goes
    gate.after({"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "0.3"})
    t0 = time.monotonic()
    gate.before(), gate.before()                      # the two left in this window
    assert time.monotonic() - t0 < 0.1
    gate.after(None), gate.after(None)
    gate.before()                                     # spent: waits for the reset
    assert time.monotonic() - t0 >= 0.25


@pytest.mark.parametrize("status,transient,attempts", [(500, True, 3), (503, True, 3), (403, False, 1), (400, False, 1)])
def test_call_errors_are_redacted_and_retried_by_status(status, transient, attempts):
    from datadog_api_client.exceptions import ApiException

    from dd2prom.export.client import CallError, Datadog

    key = "k3y-that-must-not-leak-0123456789"
    dd = Datadog("http://127.0.0.1:9", key, "app-" + key, policy=RetryPolicy(attempts=3, base=0))
    calls = []

    def fail(**_):
        calls.append(1)
        exc = ApiException(status=status, reason="Nope")
        # a long echo whose key straddles the point where messages are shortened
        exc.body = {"errors": [f"bad key {key}", "x" * 242 + key]}
        raise exc

    with pytest.raises(CallError) as info:
        dd.call(fail)
    assert key[:12] not in str(info.value) and "***" in str(info.value)
    assert (info.value.status, info.value.transient, len(calls)) == (status, transient, attempts)


def test_rate_limits_are_shared_by_name_not_by_endpoint():
    """Datadog limits per X-RateLimit-Name: endpoints under one name share its
    budget; another name is not held up by it."""
    import time

    from dd2prom.export.client import Datadog

    class Resp:
        def __init__(self, name):
            self.data, self.status = b"{}", 200
            self.headers = {"X-RateLimit-Name": name, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0.4"}

        def release_conn(self):
            pass

    def list_a(**_):
        return Resp("shared")

    def list_b(**_):
        return Resp("shared")

    def list_c(**_):
        return Resp("other")

    dd = Datadog("http://127.0.0.1:9", "api-key-xxxx", "app-key-xxxx", policy=RetryPolicy(attempts=1))
    t0 = time.monotonic()
    dd.call(list_a)                  # learns "shared": nothing left for 0.4 s
    dd.call(list_c)                  # another limit: not held up
    assert time.monotonic() - t0 < 0.2
    dd.call(list_b)                  # first call of b: its limit is not known yet
    dd.call(list_b)                  # now known to be "shared": waits for the reset
    assert time.monotonic() - t0 >= 0.35
