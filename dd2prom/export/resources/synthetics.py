"""Synthetics tests: GET /api/v1/synthetics/tests (paged by page number), then
the full definition of API and browser tests (GET .../tests/api/{id},
.../tests/browser/{id}); other types keep their list entry."""

from __future__ import annotations

from datadog_api_client.v1.api.synthetics_api import SyntheticsApi

from dd2prom.export.resources.base import Resource

DETAIL = {"api": "get_api_test", "browser": "get_browser_test"}


class Synthetics(Resource):
    kind = "synthetics"
    id_field = "public_id"
    page_size = 100
    detail = True
    lane = "fetch"
    list_entry_fallback = True   # list entries are whole tests minus some details

    def list_page(self, dd, offset, limit):
        body = dd.call(dd.api(SyntheticsApi).list_tests, page_size=limit, page_number=offset // limit) or {}
        return body.get("tests") or []

    def fetch(self, dd, oid, summary):
        method = DETAIL.get((summary or {}).get("type"))
        if method is None:
            return summary
        return dd.call(getattr(dd.api(SyntheticsApi), method), public_id=oid)
