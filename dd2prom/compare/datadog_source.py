"""Datadog's own numbers: the v1 timeseries query API (``GET /api/v1/query``)
through datadog-api-client, with the same credentials and site handling as
``dd2prom export``: DD_API_KEY / DD_APP_KEY from the environment, ``--site`` /
DD_SITE, ``--api-url`` for a proxy or a local test server. The keys are only
ever handed to the client; no message here contains them."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("dd2prom.compare")


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


def missing_credentials() -> str | None:
    absent = [k for k in ("DD_API_KEY", "DD_APP_KEY") if not os.environ.get(k)]
    return f"set {' and '.join(absent)} in the environment" if absent else None


def configuration(site: str | None = None, api_url: str | None = None) -> Any:
    """A datadog-api-client Configuration: keys from the environment (read by the
    client itself), the site or a base URL, retries on 429/5xx."""
    from datadog_api_client import Configuration

    config = Configuration(enable_retry=True, max_retries=3)
    if site:
        config.server_variables["site"] = site
    if api_url:
        config.host = api_url.rstrip("/")
    return config


class DatadogSource:
    """Runs metric queries; one API client for the whole comparison."""

    def __init__(self, site: str | None = None, api_url: str | None = None) -> None:
        from datadog_api_client import ApiClient
        from datadog_api_client.v1.api.metrics_api import MetricsApi

        self._client = ApiClient(configuration(site, api_url))
        self._api = MetricsApi(self._client)
        # several items often share a query (a monitor and its dashboard widget):
        # ask Datadog once, its rate limits are tight
        self._cache: dict[tuple[str, int, int], DatadogResult] = {}

    def close(self) -> None:
        self._client.close()

    def query(self, query: str, start: int, end: int) -> DatadogResult:
        key = (query, start, end)
        if key not in self._cache:
            self._cache[key] = self._query(query, start, end)
        return self._cache[key]

    def _query(self, query: str, start: int, end: int) -> DatadogResult:
        import urllib3
        from datadog_api_client.exceptions import ApiException, OpenApiException

        try:
            response = self._api.query_metrics(_from=start, to=end, query=query)
        except ApiException as exc:
            raise SourceError(f"Datadog answered HTTP {exc.status} {exc.reason or ''}: {_short(exc.body)}".strip(),
                              fatal=exc.status in (401, 403)) from None
        except OpenApiException as exc:
            raise SourceError(f"Datadog query failed: {exc.__class__.__name__}: {_short(str(exc))}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # the API cannot be reached at all
            raise SourceError(f"cannot reach the Datadog API: {exc.__class__.__name__}: {_short(str(exc))}",
                              fatal=True) from None
        return parse_response(response.to_dict())


def parse_response(body: dict[str, Any]) -> DatadogResult:
    """Series with their group tags (``tag_set``) and points keyed by the end of
    each rollup bucket, in seconds; null points are left out."""
    if body.get("status") == "error" or body.get("error"):
        raise SourceError(f"Datadog query error: {_short(str(body.get('error') or body))}")
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


def _short(text: Any, limit: int = 300) -> str:
    text = str(text or "").strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
