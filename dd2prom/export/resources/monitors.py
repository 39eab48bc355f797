"""Monitors: GET /api/v1/monitor, paged by page index; the list entries are complete."""

from __future__ import annotations

from datadog_api_client.v1.api.monitors_api import MonitorsApi

from dd2prom.export.resources.base import Resource


class Monitors(Resource):
    kind = "monitors"
    page_size = 1000

    def list_page(self, dd, offset, limit):
        return dd.call(dd.api(MonitorsApi).list_monitors, page=offset // limit, page_size=limit) or []
