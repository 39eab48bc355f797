"""A local fake of the Datadog API endpoints ``dd2prom export`` reads.

Serves an organisation (``bench.synth_org.generate``) on 127.0.0.1 with the
real paths, paging parameters and JSON shapes, checks the DD-API-KEY and
DD-APPLICATION-KEY headers, adds latency, enforces a fixed-window rate limit
with Datadog's X-RateLimit-* headers (429 when exceeded), and injects faults:

* ``fail``: {path or path?query: n} → HTTP 500 for the first n requests
* ``rate_limit_once``: [path] → one 429 with X-RateLimit-Reset before serving
* ``poison_monitors``: [id] → any monitor page containing one of them → 500
* ``forbidden``: [path] → 403 (e.g. one dashboard)
* ``stall``: {path: seconds} → the first request sleeps that long (timeouts)
* ``hang``: {route: n} → after n requests on a route (``/api/v1/dashboard/{id}``),
  further ones block until :meth:`FakeDatadog.release` (to kill a client mid-run)
* ``truncate``: {path: n} → the first n answers are 200s whose Content-Length
  promises the whole body but only half of it is sent before the connection closes
* ``cut``: {path: n} → the first n answers are 200s with a body cut mid-JSON
  (Content-Length matches what is sent: only the JSON is broken)
* ``echo_headers``: [path] → 403 whose body echoes the request headers (keys included)
* ``chaos``: {"rate": p, "seed": s, "stall": seconds} → each request, with
  probability p (seeded), gets one of: 500, 429, truncated body, cut body,
  a stall of the given seconds (0: no stalls)

``query``: a function (query, from, to) → body answers ``GET /api/v1/query``
(the timeseries API ``dd2prom compare`` reads), with the same latency, rate
limit and faults as every other path.

Run in-process with :func:`serve` (a context manager) or as a process:
``python -m tests.fakeapi --port P --monitors N --dashboards N [...]``.
``GET /__stats`` returns request counts; ``max_in_flight`` is the most requests
the fake was serving at once.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.synth_org import usage_summary

API_KEY = "fake-api-key-5f0c1e2d3b4a69788796a5b4c3d2e1f0"
APP_KEY = "fake-app-key-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d"

DASHBOARD_SUMMARY_FIELDS = ("id", "title", "description", "layout_type", "url", "is_read_only", "created_at",
                            "modified_at", "author_handle")


@dataclass
class Faults:
    fail: dict[str, int] = field(default_factory=dict)
    rate_limit_once: list[str] = field(default_factory=list)
    poison_monitors: list[int] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    stall: dict[str, float] = field(default_factory=dict)
    hang: dict[str, int] = field(default_factory=dict)
    truncate: dict[str, int] = field(default_factory=dict)
    cut: dict[str, int] = field(default_factory=dict)
    echo_headers: list[str] = field(default_factory=list)
    chaos: dict[str, float] = field(default_factory=dict)


CHAOS = ("500", "429", "truncate", "cut", "stall")


@dataclass
class Broken:
    """A body sent broken: ``truncate`` (short of its Content-Length, then the
    connection closes) or ``cut`` (valid HTTP, invalid JSON)."""

    body: Any
    how: str

    def encode(self) -> tuple[bytes, int]:
        """(bytes to send, Content-Length to announce)."""
        data = json.dumps(self.body).encode()
        half = data[:max(1, len(data) // 2)]
        return half, len(data) if self.how == "truncate" else len(half)


@dataclass
class RateLimit:
    limit: int
    period: float


class FakeDatadog:
    def __init__(self, org: dict[str, list[dict[str, Any]]], *, latency: float = 0.0,
                 rate_limit: RateLimit | None = None, faults: Faults | None = None,
                 api_key: str = API_KEY, app_key: str = APP_KEY,
                 query: Callable[[str, int, int], Any] | None = None):
        self.org = org
        self.query = query
        self.in_flight = self.max_in_flight = 0
        self.latency = latency
        self.rate_limit = rate_limit
        self.faults = faults or Faults()
        self.keys = (api_key, app_key)
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.injected: Counter[str] = Counter()      # chaos faults sent, by kind
        self.window = (0, 0)                       # (window index, requests in it)
        self.fail_left = dict(self.faults.fail)
        self.broken_left = {"truncate": dict(self.faults.truncate), "cut": dict(self.faults.cut)}
        self.chaos = random.Random(self.faults.chaos.get("seed", 0))
        self.limited_once: set[str] = set()
        self.stalled: set[str] = set()
        self.released = threading.Event()
        self.dashboards = {d["id"]: d for d in org.get("dashboards", [])}
        self.tests = {t["public_id"]: t for t in org.get("synthetics", [])}
        self.metrics = {m["metric"]: {k: v for k, v in m.items() if k != "metric"} for m in org.get("metrics", [])}

    # ------------------------------------------------------------------ one request
    def handle(self, method: str, raw_path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(raw_path)
        path, query = url.path, parse_qs(url.query)
        full = f"{path}?{url.query}" if url.query else path
        if path == "/__stats":
            with self.lock:
                return 200, {}, {"requests": dict(self.requests), "total": sum(self.requests.values()),
                                 "statuses": {str(k): v for k, v in self.statuses.items()}}
        route = _route(path)
        with self.lock:
            self.requests[route] += 1
            hang = route in self.faults.hang and self.requests[route] > self.faults.hang[route]
        if hang:
            self.released.wait(120)
            return 503, {}, {"errors": ["released"]}
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            status, extra, body = self._answer(method, path, full, query, headers)
        finally:
            with self.lock:
                self.in_flight -= 1
        with self.lock:
            self.statuses[status] += 1
        return status, extra, body

    def _answer(self, method, path, full, query, headers):
        limit_headers = self._count_rate()
        if limit_headers.get("X-RateLimit-Remaining") == "-1":
            limit_headers["X-RateLimit-Remaining"] = "0"
            return 429, limit_headers, {"errors": ["Rate limit exceeded"]}
        if (headers.get("dd-api-key"), headers.get("dd-application-key")) != self.keys:
            return 403, limit_headers, {"errors": ["Forbidden"]}
        if method != "GET":
            return 405, limit_headers, {"errors": ["Method not allowed"]}
        if path in self.faults.echo_headers:
            return 403, limit_headers, {"errors": [f"Forbidden; request headers: {json.dumps(headers)}"]}
        chaos = self._chaos()
        if chaos == "500":
            return 500, limit_headers, {"errors": ["Internal Server Error (chaos)"]}
        if chaos == "429":
            return 429, {**limit_headers, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}, \
                {"errors": ["Rate limit exceeded (chaos)"]}
        if chaos == "stall":
            time.sleep(self.faults.chaos.get("stall", 0))
        with self.lock:
            for key in (full, path):
                if key in self.faults.rate_limit_once and key not in self.limited_once:
                    self.limited_once.add(key)
                    return 429, {**limit_headers, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}, \
                        {"errors": ["Rate limit exceeded"]}
                if self.fail_left.get(key, 0) > 0:
                    self.fail_left[key] -= 1
                    return 500, limit_headers, {"errors": ["Internal Server Error"]}
            stall = next((self.faults.stall[k] for k in (full, path) if k in self.faults.stall and k not in self.stalled), 0)
            if stall:
                self.stalled.update(k for k in (full, path) if k in self.faults.stall)
        if stall:
            time.sleep(stall)
        if path in self.faults.forbidden:
            return 403, limit_headers, {"errors": ["Forbidden"]}
        status, body = self._route_get(path, query)
        how = chaos if chaos in ("truncate", "cut") else self._broken(full, path)
        if how and status == 200:
            body = Broken(body, how)
        return status, limit_headers, body

    def _broken(self, full: str, path: str) -> str | None:
        """``truncate`` or ``cut`` when one of those faults is due for this request."""
        with self.lock:
            for how, left in self.broken_left.items():
                for key in (full, path):
                    if left.get(key, 0) > 0:
                        left[key] -= 1
                        return how
        return None

    def _chaos(self) -> str | None:
        """The random fault this request gets, if any (``Faults.chaos``)."""
        rate = self.faults.chaos.get("rate", 0)
        if not rate:
            return None
        with self.lock:
            if self.chaos.random() >= rate:
                return None
            kinds = CHAOS if self.faults.chaos.get("stall") else CHAOS[:-1]
            how = self.chaos.choice(kinds)
            self.injected[how] += 1
            return how

    def release(self) -> None:
        """Unblock hung requests and stop hanging new ones."""
        self.faults.hang = {}
        self.released.set()

    def _count_rate(self) -> dict[str, str]:
        if not self.rate_limit:
            return {}
        rl = self.rate_limit
        now = time.time()
        index = int(now // rl.period)
        with self.lock:
            window, used = self.window
            if window != index:
                window, used = index, 0
            used += 1
            self.window = (window, used)
        reset = max(1, math.ceil((index + 1) * rl.period - now))
        remaining = rl.limit - used
        return {"X-RateLimit-Limit": str(rl.limit), "X-RateLimit-Period": str(int(rl.period)),
                "X-RateLimit-Remaining": str(max(-1, remaining)), "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Name": "fake_api"}

    def _route_get(self, path: str, q: dict[str, list[str]]) -> tuple[int, Any]:
        org = self.org
        parts = path.strip("/").split("/")
        if path == "/api/v1/monitor":
            mons = org.get("monitors", [])
            if "page" in q:
                size = _int(q, "page_size", 100)
                page = mons[_int(q, "page", 0) * size:][:size]
            else:
                page = mons
            poison = set(self.faults.poison_monitors)
            if any(m["id"] in poison for m in page):
                return 500, {"errors": ["Internal Server Error"]}
            return 200, page
        if path == "/api/v1/dashboard":
            start, count = _int(q, "start", 0), _int(q, "count", 10**9)
            return 200, {"dashboards": [{k: d.get(k) for k in DASHBOARD_SUMMARY_FIELDS} | {"deleted_at": None}
                                        for d in org.get("dashboards", [])[start:start + count]]}
        if parts[:3] == ["api", "v1", "dashboard"] and len(parts) == 4:
            d = self.dashboards.get(parts[3])
            return (200, d) if d else (404, {"errors": ["Dashboard not found"]})
        if path == "/api/v1/slo":
            offset, limit = _int(q, "offset", 0), _int(q, "limit", 1000)
            slos = org.get("slos", [])
            return 200, {"data": slos[offset:offset + limit], "errors": None,
                         "metadata": {"page": {"total_count": len(slos), "total_filtered_count": len(slos)}}}
        if path == "/api/v1/synthetics/tests":
            size = _int(q, "page_size", 10**9)
            tests = org.get("synthetics", [])[_int(q, "page_number", 0) * size:][:size]
            return 200, {"tests": [{k: v for k, v in t.items() if k != "steps"} for t in tests]}
        if parts[:4] == ["api", "v1", "synthetics", "tests"] and len(parts) == 6:
            t = self.tests.get(parts[5])
            if t and t["type"] == parts[4]:
                return 200, t
            return 404, {"errors": ["Synthetic test not found"]}
        if path == "/api/v2/downtime":
            offset, limit = _int(q, "page[offset]", 0), _int(q, "page[limit]", 30)
            dts = org.get("downtimes", [])
            return 200, {"data": dts[offset:offset + limit],
                         "meta": {"page": {"total_filtered_count": len(dts)}}}
        if parts[:3] == ["api", "v1", "metrics"] and len(parts) == 4:
            meta = self.metrics.get(parts[3])
            return (200, meta) if meta else (404, {"errors": ["Metric not found"]})
        if path == "/api/v1/query" and self.query:
            return 200, self.query(q["query"][0], _int(q, "from", 0), _int(q, "to", 0))
        if path == "/api/v1/usage/summary":
            start, end = q.get("start_month", [""])[0][:7], q.get("end_month", [""])[0][:7]
            months = [m for m in org.get("usage", []) if start <= m["date"][:7] <= (end or "9999")]
            return 200, usage_summary(months)
        return 404, {"errors": [f"no route {path}"]}


def _int(q: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(q[name][0])
    except (KeyError, IndexError, ValueError):
        return default


def _route(path: str) -> str:
    """Request counter key: the path with object ids replaced."""
    parts = path.strip("/").split("/")
    if parts[:3] in (["api", "v1", "dashboard"], ["api", "v1", "metrics"]) and len(parts) == 4:
        return "/" + "/".join(parts[:3]) + "/{id}"
    if parts[:4] == ["api", "v1", "synthetics", "tests"] and len(parts) == 6:
        return "/api/v1/synthetics/tests/{type}/{id}"
    return path


def make_server(fake: FakeDatadog, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, headers, body = fake.handle("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
            if isinstance(body, Broken):
                data, length = body.encode()
                self.close_connection = True
            else:
                data = json.dumps(body).encode()
                length = len(data)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(length))
                for k, v in headers.items():
                    self.send_header(k, v)
                if self.close_connection:
                    # said, as a server that closes must: a client that pooled the
                    # connection would otherwise send its next request into the
                    # closed socket (RemoteDisconnected) when the close had not yet
                    # reached it, which replaced a broken body's error on busy machines
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):   # the client was killed
                self.close_connection = True

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass        # a client killed mid-request: nothing to report

    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


@contextmanager
def serve(fake: FakeDatadog, port: int = 0) -> Iterator[str]:
    """Serve in a background thread; yields the base URL."""
    server = make_server(fake, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
