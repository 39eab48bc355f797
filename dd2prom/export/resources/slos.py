"""Service level objectives: GET /api/v1/slo, paged by offset/limit."""

from __future__ import annotations

from datadog_api_client.v1.api.service_level_objectives_api import (
    ServiceLevelObjectivesApi,
)

from dd2prom.export.resources.base import Resource


class Slos(Resource):
    kind = "slos"
    page_size = 1000

    def list_page(self, dd, offset, limit):
        body = dd.call(dd.api(ServiceLevelObjectivesApi).list_slos, offset=offset, limit=limit) or {}
        return body.get("data") or []
