"""POST /api/v1/imports: a spreadsheet of groups, users or households, dry run first (core.imports)."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from core.api import ApiResult
from core.auth import api_actor
from core.errors import InvalidInput, Msg
from core.imports import PLANNED, run_import
from core.tables import MAX_FILE_BYTES

blp = Blueprint("imports_api", __name__, url_prefix="/api/v1", description="Imports from a spreadsheet")


class ImportFormSchema(Schema):
    kind = fields.String(required=True, metadata={"enum": list(PLANNED)})
    dry_run = fields.Boolean(load_default=True, metadata={"description": "true (default): check and count only"})


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8, with or without BOM) or XLSX"})


class RowProblemSchema(Schema):
    row = fields.Integer(metadata={"description": "The row of the file (the header is row 1)"})
    column = fields.String(metadata={"description": "The column's key (see docs/imports.md); empty for the file"})
    message = fields.String()
    code = fields.String()


class ImportResultSchema(Schema):
    kind = fields.String()
    dry_run = fields.Boolean()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    errors = fields.List(fields.Nested(RowProblemSchema))


@blp.route("/imports", methods=["POST"])
@blp.arguments(ImportFormSchema, location="form")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportResultSchema)
@blp.alt_response(422, schema={"oneOf": [{"$ref": "#/components/schemas/ImportResult"},
                                          {"$ref": "#/components/schemas/Error"}]},
                  description="dry_run=false and some rows are bad (the result, nothing written), or the request or "
                              "its file cannot be read (the error shape, the file or field named)")
def post_import(form: dict[str, Any], files: dict[str, Any]) -> ApiResult:
    """Import a spreadsheet; all rows or none. Answers what would be (or was) created, updated, unchanged."""
    upload = files["file"]
    if not hasattr(upload, "read"):
        raise InvalidInput("Send the spreadsheet as a file.", {"file": [Msg("Not a file.", "file_missing")]})
    result = run_import(api_actor(), form["kind"], upload.filename or "", upload.read(MAX_FILE_BYTES + 1), form["dry_run"])
    body = {"kind": result.kind, "dry_run": result.dry_run, "rows": result.rows, "created": result.created,
            "updated": result.updated, "unchanged": result.unchanged,
            "errors": [{"row": p.row, "column": p.column, "message": str(p.message),
                        "code": getattr(p.message, "code", "invalid")} for p in result.errors]}
    if result.errors and not result.dry_run:
        return body, 422
    return body
