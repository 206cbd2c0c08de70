"""GET /api/v1/jobs/<id>: how a background job is doing."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from core import jobs
from core.api import ApiResult
from core.auth import api_actor

blp = Blueprint("jobs_api", __name__, url_prefix="/api/v1", description="Background jobs")


class JobSchema(Schema):
    id = fields.String()
    kind = fields.String()
    state = fields.String(metadata={"enum": ["pending", "running", "succeeded", "failed"]})
    attempts = fields.Integer()
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    finished_at = fields.AwareDateTime(format="iso", allow_none=True)


@blp.route("/jobs/<job_id>")
class JobResource(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id: str) -> ApiResult:
        return jobs.get_job(api_actor(), job_id)
