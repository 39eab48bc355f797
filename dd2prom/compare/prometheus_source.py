"""Prometheus's numbers: ``/api/v1/query_range`` over HTTP (stdlib urllib, POST
form so long expressions fit). Thread-safe: compare's workers share one source.

Answers a query front end (Thanos, Mimir, a proxy) gives when it is busy or
restarting (429, 408, 5xx, a read timeout) are retried with export's retry
policy and back-off (``DD2PROM_ATTEMPTS``, ``DD2PROM_RETRY_BASE``,
``DD2PROM_TIMEOUT``); a 429's ``Retry-After`` is honoured. Not retried: a
query Prometheus itself stopped at its ``--query.timeout`` (``errorType``
``timeout``: it would run as long again), bad queries (400, 422) and a refused
connection (the up-front :meth:`PrometheusSource.check` reports that once).
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request

from dd2prom.compare.datadog_source import Series, SourceError
from dd2prom.compare.timerange import parse_duration
from dd2prom.export.client import RETRY_STATUSES, RetryPolicy

log = logging.getLogger("dd2prom.compare")


class _Retry(Exception):
    """A transient failure of one request: ``wait`` seconds (None: back off)."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class PrometheusSource:
    def __init__(self, base_url: str, policy: RetryPolicy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy.from_env()

    def check(self) -> None:
        """Fail once, up front, when Prometheus cannot be queried at all."""
        try:
            self._get("/api/v1/status/buildinfo", {})
        except SourceError as exc:
            raise SourceError(str(exc), fatal=True) from None

    def scrape_interval(self, default: int = 15) -> int:
        """The global scrape interval (Grafana's $__rate_interval uses it)."""
        try:
            data = self._get("/api/v1/status/config", {})
            import yaml

            cfg = yaml.safe_load(data.get("yaml") or "") or {}
            return parse_duration(str(cfg.get("global", {}).get("scrape_interval", f"{default}s"))) or default
        except (SourceError, ValueError, AttributeError, ImportError):
            return default

    def query_range(self, expr: str, start: int, end: int, step: int) -> list[Series]:
        data = self._get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
        if data.get("resultType") != "matrix":
            raise SourceError(f"Prometheus returned a {data.get('resultType')}, not a range of series")
        out = []
        for s in data.get("result") or []:
            labels = {k: v for k, v in (s.get("metric") or {}).items() if k != "__name__"}
            points = {}
            for ts, value in s.get("values") or []:
                v = float(value)
                if not math.isnan(v):
                    points[int(round(float(ts)))] = v
            out.append(Series(labels, points))
        return out

    def _get(self, path: str, params: dict) -> dict:
        failures = 0
        while True:
            try:
                return self._get_once(path, params)
            except _Retry as retry:
                failures += 1
                if failures >= self.policy.attempts:
                    raise SourceError(f"{retry} (after {failures} attempts)") from None
                wait = retry.wait if retry.wait is not None else self.policy.backoff(failures - 1)
                log.info("retrying in %.1fs after: %s", wait, retry)
                time.sleep(min(wait, self.policy.max_wait))

    def _get_once(self, path: str, params: dict) -> dict:
        url = self.base_url + path
        body = urllib.parse.urlencode(params).encode() if params else None
        req = urllib.request.Request(url, data=body, method="POST" if body else "GET")
        if body:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=self.policy.timeout) as resp:
                payload = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read().decode("utf-8"))
            except (ValueError, OSError):
                payload = None
            transient = exc.code == 429 or exc.code in RETRY_STATUSES
            if transient and not (isinstance(payload, dict) and payload.get("errorType") == "timeout"):
                raise _Retry(f"Prometheus answered HTTP {exc.code} for {path}", _retry_after(exc.headers)) from None
            if not isinstance(payload, dict):
                raise SourceError(f"Prometheus answered HTTP {exc.code} for {path}") from None
        except TimeoutError as exc:      # the read timed out: a busy front end
            raise _Retry(f"Prometheus at {self.base_url} did not answer {path} in {self.policy.timeout:g} s") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(f"cannot query Prometheus at {self.base_url}: {exc}") from None
        if payload.get("status") != "success":
            raise SourceError(f"Prometheus: {payload.get('errorType', 'error')}: {payload.get('error', '')}")
        return payload.get("data") or {}



def _retry_after(headers: object) -> float | None:
    """A 429's Retry-After in seconds (the HTTP-date form is rare on APIs: back off instead)."""
    try:
        return max(0.0, float(headers.get("Retry-After")))     # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return None
