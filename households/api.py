"""JSON API of households, the round's sheet and household bills. Parse -> service -> dump.

``/sheets/<sheet_token>/...`` answers to the token of a group's sheet link and to nothing else: no bearer token,
rate-limited per address like the supplier's quote link.
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import ApiResult
from core.auth import api_actor
from core.idempotency import idempotent
from core.web import limiter
from households import bills, services, sheets
from households.schemas import (
    FromHouseholdsSchema,
    HouseholdBillsSchema,
    HouseholdInSchema,
    HouseholdLinesSchema,
    HouseholdPatchSchema,
    HouseholdSchema,
    RoundHouseholdsSchema,
    SheetLinesInSchema,
    SheetLinkSchema,
    SheetSchema,
)
from orders.schemas import GroupOrderOutSchema

blp = Blueprint("households_api", __name__, url_prefix="/api/v1", description="Households, sheets, household bills")


def _sheet_limit() -> str:
    return str(current_app.config.get("SHEET_RATE_LIMIT", current_app.config.get("QUOTE_RATE_LIMIT", "30 per minute")))


@blp.route("/groups/<int:group_id>/households")
class GroupHouseholds(MethodView):
    @blp.response(200, HouseholdSchema(many=True))
    def get(self, group_id: int) -> ApiResult:
        """The group's households (the group's leader, the committee, the admin)."""
        return services.list_households(api_actor(), group_id)

    @idempotent
    @blp.arguments(HouseholdInSchema)
    @blp.response(201, HouseholdSchema)
    def post(self, data: dict[str, Any], group_id: int) -> ApiResult:
        """Add a household: a name or house number, registered poor or not, an optional phone. Nothing more."""
        return services.create_household(api_actor(), group_id, data)


@blp.route("/households/<int:household_id>")
class HouseholdResource(MethodView):
    @blp.arguments(HouseholdPatchSchema)
    @blp.response(200, HouseholdSchema)
    def patch(self, data: dict[str, Any], household_id: int) -> ApiResult:
        return services.update_household(api_actor(), household_id, data)

    @blp.response(204)
    def delete(self, household_id: int) -> ApiResult:
        """Delete on request: name and phone erased; past bills stay as "a removed household"."""
        services.remove_household(api_actor(), household_id)
        return None


@blp.route("/rounds/<int:round_id>/groups/<int:group_id>/sheet")
class SheetLink(MethodView):
    @blp.response(201, SheetLinkSchema)
    def post(self, round_id: int, group_id: int) -> ApiResult:
        """A new link for the group's households in this round (the earlier one stops working)."""
        token = sheets.open_sheet(api_actor(), round_id, group_id)
        return {"token": token, "url": url_for("households_views.sheet", sheet_token=token, _external=True)}

    @blp.response(204)
    def delete(self, round_id: int, group_id: int) -> ApiResult:
        sheets.revoke_sheet(api_actor(), round_id, group_id)
        return None


@blp.route("/rounds/<int:round_id>/groups/<int:group_id>/households")
@blp.response(200, RoundHouseholdsSchema)
def round_households(round_id: int, group_id: int) -> ApiResult:
    """Each household's lines, the totals per offer, and the difference from the group's order."""
    return sheets.households_for_round(api_actor(), round_id, group_id)


@blp.route("/rounds/<int:round_id>/orders/<int:group_id>/from-households", methods=["POST"])
@idempotent
@blp.arguments(FromHouseholdsSchema)
@blp.response(200, GroupOrderOutSchema)
def from_households(data: dict[str, Any], round_id: int, group_id: int) -> ApiResult:
    """The group's order replaced by the households' totals (the same rules as PUT)."""
    return sheets.fill_order_from_households(api_actor(), round_id, group_id, data.get("tolerances"))


@blp.route("/rounds/<int:round_id>/groups/<int:group_id>/household-bills")
@blp.response(200, HouseholdBillsSchema)
def household_bills(round_id: int, group_id: int) -> ApiResult:
    """Each household's share of the group's invoice (after the combine; again after a receipt)."""
    return bills.household_bills(api_actor(), round_id, group_id)


@blp.route("/sheets/<string:sheet_token>")
@limiter.limit(_sheet_limit)
@blp.doc(security=[])
@blp.response(200, SheetSchema)
def sheet(sheet_token: str) -> ApiResult:
    """The round, its offers and the group's households' names, by the sheet's link."""
    return sheets.sheet_view(sheet_token)


@blp.route("/sheets/<string:sheet_token>/households/<int:household_id>")
class SheetHousehold(MethodView):
    decorators = [limiter.limit(_sheet_limit)]

    @blp.doc(security=[])
    @blp.response(200, HouseholdLinesSchema)
    def get(self, sheet_token: str, household_id: int) -> ApiResult:
        """That household's lines, and its bill once there is one."""
        return sheets.household_lines(sheet_token, household_id)

    @blp.doc(security=[])
    @blp.arguments(SheetLinesInSchema)
    @blp.response(200, HouseholdLinesSchema)
    def put(self, data: dict[str, Any], sheet_token: str, household_id: int) -> ApiResult:
        """Replace the household's lines until the round closes (409 after). With an ``Idempotency-Key``
        (a phone sending what it kept offline) a repeat gets the first answer and changes nothing."""
        key = request.headers.get("Idempotency-Key")
        digest = hashlib.sha256(request.get_data(cache=True)).hexdigest()
        answer = sheets.replace_household_lines(sheet_token, household_id, data["lines"], key=key, request_hash=digest)
        if answer.pop("replayed", False):
            return answer, 200, {"Idempotent-Replayed": "true"}
        return answer
