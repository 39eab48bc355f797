"""The one way export talks to Datadog: datadog-api-client calls wrapped with
rate-limit waits, retries and secret redaction.

The generated client's models are bypassed on purpose (``preload_content``
off): the snapshot must hold the API's own JSON, field for field, including
fields the client's models do not know yet. Requests, auth headers, paths and
query parameters are still the client's.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from datadog_api_client import ApiClient, Configuration, rest
from datadog_api_client.exceptions import ApiException

log = logging.getLogger("dd2prom.export")

# --site values and the short names people type for them
SITES = {
    "datadoghq.com": "datadoghq.com", "us1": "datadoghq.com", "us": "datadoghq.com",
    "us3.datadoghq.com": "us3.datadoghq.com", "us3": "us3.datadoghq.com",
    "us5.datadoghq.com": "us5.datadoghq.com", "us5": "us5.datadoghq.com",
    "datadoghq.eu": "datadoghq.eu", "eu": "datadoghq.eu", "eu1": "datadoghq.eu",
    "ap1.datadoghq.com": "ap1.datadoghq.com", "ap1": "ap1.datadoghq.com",
    "ddog-gov.com": "ddog-gov.com", "gov": "ddog-gov.com",
}
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})


def site_host(site: str | None) -> tuple[str, str]:
    """(canonical site, API base URL) for a --site value; ValueError when unknown."""
    name = (site or "datadoghq.com").strip().lower().removeprefix("https://").rstrip("/")
    name = name.removeprefix("app.").removeprefix("api.")
    if name not in SITES:
        raise ValueError(f"unknown Datadog site {site!r}; use one of: "
                         + ", ".join(sorted(set(SITES.values()))))
    return SITES[name], f"https://api.{SITES[name]}"


class Redactor:
    """Replaces the API and application keys in any text: error messages,
    log lines and manifest entries all go through it."""

    def __init__(self, *secrets: str | None):
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: Any) -> str:
        text = str(text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


class RedactingFilter(logging.Filter):
    """Logging filter that redacts every record before any handler sees it."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class CallError(Exception):
    """A call that failed for good; ``status`` is the HTTP status (None for
    transport errors) and the message is already redacted."""

    @classmethod
    def wrap(cls, exc: BaseException, redact: Redactor) -> CallError:
        """Any exception as a CallError (a bug or an unexpected answer)."""
        return exc if isinstance(exc, cls) else cls(redact(f"{type(exc).__name__}: {exc}"))

    def __init__(self, message: str, status: int | None = None, *, transient: bool = False):
        super().__init__(message)
        self.status = status
        self.transient = transient     # kept failing on 5xx/timeouts: smaller pages may help


@dataclass
class RetryPolicy:
    """How hard to try. Environment overrides exist so tests and the bench can
    shrink waits: DD2PROM_RETRY_BASE (s), DD2PROM_ATTEMPTS, DD2PROM_TIMEOUT (s)."""

    attempts: int = 4              # tries for 5xx / timeouts before a call fails
    base: float = 0.5              # first back-off; doubles with jitter
    max_wait: float = 30.0         # cap for one back-off
    rate_limit_waits: int = 30     # 429s tolerated for one call
    timeout: float = 60.0          # seconds per request

    @classmethod
    def from_env(cls) -> RetryPolicy:
        p = cls()
        p.attempts = int(os.environ.get("DD2PROM_ATTEMPTS", p.attempts))
        p.base = float(os.environ.get("DD2PROM_RETRY_BASE", p.base))
        p.timeout = float(os.environ.get("DD2PROM_TIMEOUT", p.timeout))
        return p

    def backoff(self, attempt: int) -> float:
        return min(self.max_wait, self.base * (2 ** attempt)) * (0.5 + random.random() / 2)


class RateGate:
    """Shared by all worker threads. Each response's X-RateLimit-Remaining, less
    the requests still in flight, is what may be sent until X-RateLimit-Reset;
    once it is spent, or after a 429, nobody sends until the reset. So the export
    runs at the rate limit instead of into it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.budget: float | None = None       # sends left in this window (None: not known)
        self.window_end = 0.0
        self.in_flight = 0

    def before(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                if now >= self.window_end:
                    self.budget = None
                if self.budget is None or self.budget > 0:
                    if self.budget is not None:
                        self.budget -= 1
                    self.in_flight += 1
                    return
                delay = self.window_end - now
            time.sleep(delay)

    def after(self, headers: Any, limited: bool = False, *, sent_here: bool = True) -> float | None:
        """Account for one finished request; returns the reset wait on a 429
        (None when the response said nothing about the rate limit)."""
        reset = _header_float(headers, "X-RateLimit-Reset")
        remaining = 0.0 if limited else _header_float(headers, "X-RateLimit-Remaining")
        with self.lock:
            self.in_flight -= sent_here
            if reset is None or remaining is None:
                return None
            self.window_end = time.monotonic() + reset
            self.budget = remaining - self.in_flight
        return reset


def _header(headers: Any, name: str) -> str | None:
    """A response header by name, whatever its case (exceptions carry plain dicts)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in dict(headers).items() if k.lower() == name.lower()), None)
    return value


def _header_float(headers: Any, name: str) -> float | None:
    try:
        value = _header(headers, name)
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class _PooledApiClient(ApiClient):
    """ApiClient whose connection pool fits the export's worker count."""

    def __init__(self, configuration: Configuration, pool_size: int):
        self.pool_size = pool_size
        super().__init__(configuration)

    def _build_rest_client(self):
        return rest.RESTClientObject(self.configuration, maxsize=self.pool_size)


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class Datadog:
    """datadog-api-client behind one ``call`` that returns parsed JSON."""

    def __init__(self, base_url: str, api_key: str, app_key: str, *, concurrency: int = 8,
                 policy: RetryPolicy | None = None, redact: Redactor | None = None):
        cfg = Configuration(host=base_url.rstrip("/"))
        cfg.api_key["apiKeyAuth"] = api_key
        cfg.api_key["appKeyAuth"] = app_key
        cfg.preload_content = False          # raw JSON, not the client's models
        cfg.return_http_data_only = True
        # our own retries below; urllib3 must not retry behind our back
        cfg.retry_policy = urllib3.util.Retry(total=0, redirect=0, raise_on_status=False)
        self.policy = policy or RetryPolicy.from_env()
        cfg.request_timeout = self.policy.timeout
        # the workers, plus the other lane's list page and the page loaded ahead
        self.api_client = _PooledApiClient(cfg, pool_size=max(4, concurrency + 2))
        self.api_client.user_agent = f"dd2prom-export ({self.api_client.user_agent})"
        self.gates: dict[str, RateGate] = {}     # one per X-RateLimit-Name (Datadog limits per endpoint)
        self.limit_names: dict[str, str] = {}    # API method → the limit name it reported
        self.gates_lock = threading.Lock()
        self.stats = Stats()
        self.redact = redact or Redactor(api_key, app_key)
        self._apis: dict[type, Any] = {}

    def api(self, cls: type) -> Any:
        """One instance per generated API class (MonitorsApi, DashboardsApi, ...)."""
        if cls not in self._apis:
            self._apis[cls] = cls(self.api_client)
        return self._apis[cls]

    def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """Run ``fn(**kwargs)`` (a generated API method) and return the JSON body.
        429: wait for X-RateLimit-Reset and retry. 5xx, 408, transport errors
        (timeouts, bodies shorter than their Content-Length) and 200s whose
        body is not complete JSON: back off and retry up to ``policy.attempts`` times. Anything else fails
        at once with a :class:`CallError`."""
        failures = limited = 0
        endpoint = getattr(fn, "__name__", "api")
        while True:
            gate = self._gate(self.limit_names.get(endpoint, endpoint))
            gate.before()
            after = lambda headers, limited=False, gate=gate: self._after(gate, endpoint, headers, limited)
            self.stats.add(requests=1)
            try:
                resp = fn(**kwargs)
                body, headers, status = resp.data, resp.headers, resp.status   # a read timeout is retried too
                resp.release_conn()
            except ApiException as exc:
                status = exc.status
                if status == 429:
                    limited += 1
                    self.stats.add(rate_limited=1)
                    if limited > self.policy.rate_limit_waits:
                        after(exc.headers)
                        raise CallError(f"HTTP 429 rate limited {limited} times in a row", 429)
                    if after(exc.headers, limited=True) is None:   # no reset header: back off
                        time.sleep(self.policy.backoff(limited))
                    continue
                after(exc.headers)
                # redacted before it is shortened: a key cut at the limit would escape the redactor
                message = self.redact(f"HTTP {status} {exc.reason or ''}: {_short(self.redact(_text(exc.body)))}".strip())
                if status in RETRY_STATUSES:
                    failures += 1
                    if failures < self.policy.attempts:
                        self._backoff(failures, message)
                        continue
                    raise CallError(f"{message} (after {failures} attempts)", status, transient=True)
                raise CallError(message, status)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                after(None)
                failures += 1
                message = self.redact(f"{type(exc).__name__}: {exc}")
                if failures < self.policy.attempts:
                    self._backoff(failures, message)
                    continue
                raise CallError(f"{message} (after {failures} attempts)", transient=True)
            except BaseException:
                after(None)
                raise
            after(headers)
            try:
                return json.loads(body) if body else None
            except ValueError as exc:
                # a 200 whose body was cut short (a proxy, a dropped connection
                # the length did not catch): transient, and never stored
                failures += 1
                message = f"HTTP {status} with a body that is not complete JSON ({exc})"
                if failures < self.policy.attempts:
                    self._backoff(failures, message)
                    continue
                raise CallError(f"{message} (after {failures} attempts)", status, transient=True)

    def _backoff(self, failures: int, message: str) -> None:
        self.stats.add(retries=1)
        wait = self.policy.backoff(failures - 1)
        log.info("retrying in %.1fs after: %s", wait, message)
        time.sleep(wait)

    def _gate(self, name: str) -> RateGate:
        with self.gates_lock:
            return self.gates.setdefault(name, RateGate())

    def _after(self, gate: RateGate, endpoint: str, headers: Any, limited: bool) -> float | None:
        """Close the request on the gate it went through; its rate-limit headers
        go to the gate of the limit they name (learnt on an endpoint's first call)."""
        name = _header(headers, "X-RateLimit-Name")
        if not name or self.limit_names.get(endpoint) == name:
            return gate.after(headers, limited)
        with self.gates_lock:
            self.limit_names[endpoint] = name
        gate.after(None)
        return self._gate(name).after(headers, limited, sent_here=False)

    def close(self) -> None:
        self.api_client.close()


def _text(body: Any) -> str:
    """An error response's body as one line of text (its ``errors`` when it has them)."""
    if body is None:
        return ""
    if isinstance(body, dict) and "errors" in body:
        body = "; ".join(str(e) for e in body["errors"])
    text = body if isinstance(body, str) else json.dumps(body, sort_keys=True)
    return " ".join(text.split())


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
