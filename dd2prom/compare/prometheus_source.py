"""Prometheus's numbers: ``/api/v1/query_range`` over HTTP (stdlib urllib, POST
form so long expressions fit)."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request

from dd2prom.compare.datadog_source import Series, SourceError
from dd2prom.compare.timerange import parse_duration


class PrometheusSource:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

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
        url = self.base_url + path
        body = urllib.parse.urlencode(params).encode() if params else None
        req = urllib.request.Request(url, data=body, method="POST" if body else "GET")
        if body:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read().decode("utf-8"))
            except ValueError:
                raise SourceError(f"Prometheus answered HTTP {exc.code} for {path}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(f"cannot query Prometheus at {self.base_url}: {exc}") from None
        if payload.get("status") != "success":
            raise SourceError(f"Prometheus: {payload.get('errorType', 'error')}: {payload.get('error', '')}")
        return payload.get("data") or {}

