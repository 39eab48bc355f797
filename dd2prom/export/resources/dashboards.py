"""Dashboards: GET /api/v1/dashboard (summaries, paged by start/count), then
GET /api/v1/dashboard/{id} for each definition."""

from __future__ import annotations

from datadog_api_client.v1.api.dashboards_api import DashboardsApi

from dd2prom.export.resources.base import Resource


class Dashboards(Resource):
    kind = "dashboards"
    page_size = 100
    detail = True
    lane = "fetch"

    def list_page(self, dd, offset, limit):
        body = dd.call(dd.api(DashboardsApi).list_dashboards, start=offset, count=limit) or {}
        return body.get("dashboards") or []

    def fetch(self, dd, oid, summary):
        return dd.call(dd.api(DashboardsApi).get_dashboard, dashboard_id=oid)
