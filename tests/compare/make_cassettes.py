"""Record the Datadog cassette the end-to-end compare test replays.

    python -m tests.compare.make_cassettes

Serves :func:`synthetic.datadog_answer` on 127.0.0.1, runs every query of the
test through :class:`dd2prom.compare.datadog_source.DatadogSource` (the real
datadog-api-client) under vcrpy, and stores the exchanges as if they had gone
to https://api.datadoghq.com. Key headers are filtered out of the cassette.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import vcr

from tests.compare import synthetic

CASSETTE = Path(__file__).parent / "cassettes" / "datadog_query.yaml"
SITE_URL = "https://api.datadoghq.com"
SECRET_HEADERS = ["DD-API-KEY", "DD-APPLICATION-KEY", "Authorization", "Cookie", "User-Agent"]


class FakeDatadog(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path != "/api/v1/query":
            self.send_error(404)
            return
        body = json.dumps(synthetic.datadog_answer(q["query"][0], int(q["from"][0]), int(q["to"][0]))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def cassette_vcr(record_mode: str) -> vcr.VCR:
    def as_site(request):  # the cassette must not name the recording server
        parts = urllib.parse.urlsplit(request.uri)
        request.uri = SITE_URL + urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
        return request

    def stable(response):  # re-recording the same data gives the same file
        for name in ("Date", "Server"):
            response["headers"].pop(name, None)
        return response

    # when replaying, the Prometheus under test on 127.0.0.1 is reached for real
    return vcr.VCR(record_mode=record_mode, filter_headers=SECRET_HEADERS,
                   ignore_localhost=record_mode == "none",
                   before_record_request=as_site if record_mode != "none" else None,
                   before_record_response=stable,
                   match_on=["method", "scheme", "host", "port", "path", "query"], decode_compressed_response=True)


def main() -> None:
    from dd2prom.compare.datadog_source import DatadogSource

    os.environ.setdefault("DD_API_KEY", "recording-api-key")
    os.environ.setdefault("DD_APP_KEY", "recording-app-key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDatadog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    CASSETTE.unlink(missing_ok=True)
    source = DatadogSource(api_url=f"http://127.0.0.1:{server.server_port}")
    try:
        with cassette_vcr("all").use_cassette(str(CASSETTE)):
            for query in synthetic.datadog_queries():
                source.query(query, *synthetic.RANGE)
    finally:
        source.close()
        server.shutdown()
    text = CASSETTE.read_text()
    assert "recording-api-key" not in text and "recording-app-key" not in text
    assert "127.0.0.1" not in text
    print(f"wrote {CASSETTE} ({len(synthetic.datadog_queries())} queries)")


if __name__ == "__main__":
    main()
