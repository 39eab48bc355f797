"""Downtimes: GET /api/v2/downtime (paged by page[offset]/page[limit]); each
file is one JSON:API ``data`` entry (``id``, ``type``, ``attributes``,
``relationships``). Downtimes carry no tags, so --tag does not filter them."""

from __future__ import annotations

from datadog_api_client.v2.api.downtimes_api import DowntimesApi

from dd2prom.export.resources.base import Resource


class Downtimes(Resource):
    kind = "downtimes"
    page_size = 100
    tagged = False

    def list_page(self, dd, offset, limit):
        body = dd.call(dd.api(DowntimesApi).list_downtimes, page_offset=offset, page_limit=limit) or {}
        return body.get("data") or []
