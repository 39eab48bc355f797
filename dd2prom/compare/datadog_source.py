"""Datadog's own numbers: the v1 timeseries query API (``GET /api/v1/query``)
through datadog-api-client, with export's client and so its credentials and
site handling: DD_API_KEY / DD_APP_KEY from the environment, ``--site`` /
DD_SITE, ``--api-url`` for a proxy or a local test server. The keys are only
ever handed to the client; error messages are redacted."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


class SourceError(Exception):
    """A query one side could not answer (the message is safe to print).
    ``fatal``: no other query can succeed either (bad keys, unreachable server)."""

    def __init__(self, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclass
class Series:
    """One series from either side: its group labels and ``{timestamp: value}``.
    Datadog's timestamps are moved to the *end* of their rollup bucket so they
    line up with Prometheus's evaluation instants."""

    labels: dict[str, str]
    points: dict[int, float] = field(default_factory=dict)


@dataclass
class DatadogResult:
    series: list[Series]
    interval: int | None          # rollup interval Datadog chose (seconds)
    tag_groups: list[str]         # Datadog tags the series are grouped by
    raw_tag_sets: list[list[str]]


def credentials() -> tuple[str, str]:
    """(API key, application key) from the environment, read as export reads them."""
    return os.environ.get("DD_API_KEY", ""), os.environ.get("DD_APP_KEY") or os.environ.get("DD_APPLICATION_KEY", "")


def missing_credentials() -> str | None:
    api_key, app_key = credentials()
    absent = [name for name, value in (("DD_API_KEY", api_key), ("DD_APP_KEY", app_key)) if not value]
    return f"set {' and '.join(absent)} in the environment" if absent else None


class DatadogSource:
    """Runs metric queries through export's Datadog client (site names, rate-limit
    waits, retries, key redaction); one client for the whole comparison, shared
    by compare's worker threads (``concurrency``: how many may query at once, which
    sizes the connection pool; the client's rate gate is shared by all of them)."""

    def __init__(self, site: str | None = None, api_url: str | None = None, concurrency: int = 1) -> None:
        from datadog_api_client.v1.api.metrics_api import MetricsApi

        from dd2prom.export.client import Datadog, Redactor, site_host

        _, base_url = site_host(site)        # ValueError for an unknown site
        api_key, app_key = credentials()
        self._dd = Datadog(api_url or base_url, api_key, app_key, concurrency=concurrency, redact=Redactor(api_key, app_key))
        self._dd.api_client.user_agent = self._dd.api_client.user_agent.replace("dd2prom-export", "dd2prom-compare", 1)
        self._query_metrics = self._dd.api(MetricsApi).query_metrics
        # several items often share a query (a monitor and its dashboard widget):
        # ask Datadog once, its rate limits are tight. A future per query, so a
        # thread asking for a query another one is already running waits for that
        # answer (or its failure: a query that failed after the client's retries
        # fails the same way for every item that shares it, as in a serial run
        # that asked again, without spending the rate limit on it twice)
        self._cache: dict[tuple[str, int, int], Future[DatadogResult]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._dd.close()

    def query(self, query: str, start: int, end: int) -> DatadogResult:
        key = (query, start, end)
        with self._lock:
            future, owner = self._cache.get(key), False
            if future is None:
                future = self._cache[key] = Future()
                owner = True
        if owner:
            try:
                future.set_result(self._query(query, start, end))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def _query(self, query: str, start: int, end: int) -> DatadogResult:
        from dd2prom.export.client import CallError

        try:
            body = self._dd.call(self._query_metrics, _from=start, to=end, query=query)
        except CallError as exc:  # already redacted; keys refused or API unreachable end the run
            raise SourceError(str(exc), fatal=exc.status in (401, 403) or exc.status is None) from None
        return parse_response(body if isinstance(body, dict) else {})


def parse_response(body: dict[str, Any]) -> DatadogResult:
    """Series with their group tags (``tag_set``) and points keyed by the end of
    each rollup bucket, in seconds; null points are left out."""
    if body.get("status") == "error" or body.get("error"):
        raise SourceError(f"query error: {str(body.get('error') or body)[:300]}")
    series: list[Series] = []
    intervals: list[int] = []
    tag_sets: list[list[str]] = []
    for s in body.get("series") or []:
        interval = int(s.get("interval") or 0)
        if interval:
            intervals.append(interval)
        tags = [str(t) for t in s.get("tag_set") or []]
        tag_sets.append(tags)
        labels = {}
        for tag in tags:
            key, _, value = tag.partition(":")
            labels[key] = value
        points = {}
        for point in s.get("pointlist") or []:
            if not isinstance(point, (list, tuple)) or len(point) < 2 or point[1] is None:
                continue
            points[int(round(float(point[0]) / 1000.0)) + interval] = float(point[1])
        series.append(Series(labels, points))
    groups = [str(g) for g in body.get("group_by") or []]
    return DatadogResult(series, min(intervals) if intervals else None, groups, tag_sets)


