"""JSON API of monthly summaries. Parse -> service -> dump; the services check permissions."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from core import svgchart
from core.api import ApiResult
from core.auth import api_actor
from core.csv_export import CONTENT_TYPE as CSV_TYPE
from core.idempotency import idempotent
from reports import charts, services
from reports.export import summary_csv
from reports.schemas import ReviewSchema, SummaryArgs, SummaryJobSchema, SummarySchema

blp = Blueprint("reports_api", __name__, url_prefix="/api/v1", description="Monthly summaries")


@blp.route("/summaries/<month:month>")
class SummaryResource(MethodView):
    @blp.arguments(SummaryArgs, location="query")
    @blp.response(200, SummarySchema)
    # Both bodies of the 200: JSON, and with ?format=csv the CSV (an alt_response would replace the JSON one).
    @blp.doc(responses={"200": {"description": "The summary; with ?format=csv a CSV file (UTF-8 with BOM)",
                                "content": {"application/json": {"schema": SummarySchema},
                                            "text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args: dict[str, Any], month: str) -> ApiResult:
        summary = services.get_summary(api_actor(), month, args.get("version"))
        if args["format"] == "csv":
            edition = f"v{summary['version']}" if summary["version"] else "provisional"
            return Response(summary_csv(summary), content_type=CSV_TYPE, headers={
                "Content-Disposition": f'attachment; filename="summary-{summary["month"]}-{edition}.csv"',
            })
        return summary

    @idempotent
    @blp.response(202, SummaryJobSchema)
    def post(self, month: str) -> ApiResult:
        job = services.rebuild(api_actor(), month)
        return {"job_id": job.id, "state": job.state}


@blp.route("/summaries/<month:month>/review", methods=["POST"])
@idempotent
@blp.arguments(ReviewSchema)
@blp.response(200, SummarySchema)
def review(data: dict[str, Any], month: str) -> ApiResult:
    return services.review(api_actor(), month, data["meeting_date"], data["attendance"], data.get("notes", ""))


@blp.route("/summaries/<month:month>/charts/<kind>.svg", methods=["GET"])
@blp.doc(responses={"200": {"description": "The chart as SVG, every title, label and value kept as text "
                                           "(committee: the network's; a leader or seller: their own group's). "
                                           "kind is savings, bargaining or groups; ?lang=en for English.",
                            "content": {"image/svg+xml": {"schema": {"type": "string"}}}}})
def chart(month: str, kind: str):  # type: ignore[no-untyped-def]
    svg = charts.chart_for(api_actor(), month, kind)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=300",
                                                            "Content-Security-Policy": svgchart.CSP})
