"""JSON API of the marketplace. Parse -> service -> dump; the services check permissions."""
from __future__ import annotations

import json
import math
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import ApiResult
from core.auth import api_actor
from core.idempotency import idempotent
from market import services
from market.schemas import (
    DeliverSchema,
    ListingCreateSchema,
    ListingListArgs,
    ListingPatchSchema,
    ListingSchema,
    PurchaseCreateSchema,
    PurchaseListArgs,
    PurchaseSchema,
)

blp = Blueprint("market_api", __name__, url_prefix="/api/v1", description="Marketplace: listings and purchases")


def _page_headers(page: services.Page) -> dict[str, str]:
    """The list stays a plain JSON array; paging is in X-Pagination (as flask-smorest does it)."""
    total_pages = max(1, math.ceil(page.total / page.per_page))
    info = {"total": page.total, "total_pages": total_pages, "page": page.page, "per_page": page.per_page,
            "first_page": 1, "last_page": total_pages}
    if page.page > 1:
        info["previous_page"] = min(page.page - 1, total_pages)
    if page.page < total_pages:
        info["next_page"] = page.page + 1
    return {"X-Pagination": json.dumps(info), "X-Total-Count": str(page.total)}


@blp.route("/listings")
class Listings(MethodView):
    @blp.arguments(ListingListArgs, location="query")
    @blp.response(200, ListingSchema(many=True), headers={"X-Pagination": {"schema": {"type": "string"}}})
    def get(self, args: dict[str, Any]) -> ApiResult:
        """Browse the network's listings: filter by category, district, seller group, stock, text."""
        page = services.list_listings(api_actor(), args)
        return page.items, _page_headers(page)

    @idempotent
    @blp.arguments(ListingCreateSchema)
    @blp.response(201, ListingSchema)
    def post(self, data: dict[str, Any]) -> ApiResult:
        """List goods for the network (a group's seller or leader)."""
        return services.create_listing(api_actor(), data)


@blp.route("/listings/<int:listing_id>")
class ListingResource(MethodView):
    @blp.response(200, ListingSchema)
    def get(self, listing_id: int) -> ApiResult:
        return services.get_listing(api_actor(), listing_id)

    @blp.arguments(ListingPatchSchema)
    @blp.response(200, ListingSchema)
    def patch(self, data: dict[str, Any], listing_id: int) -> ApiResult:
        """Edit, pause (state=paused), close (state=closed), or set the stock."""
        return services.update_listing(api_actor(), listing_id, data)


@blp.route("/listings/<int:listing_id>/purchases", methods=["POST"])
@idempotent
@blp.arguments(PurchaseCreateSchema)
@blp.response(201, PurchaseSchema)
@blp.alt_response(409, description="Out of stock: error.available says how many are left")
def purchase(data: dict[str, Any], listing_id: int) -> ApiResult:
    """A group leader buys for their group; 409 out_of_stock when fewer are left than asked."""
    return services.place_purchase(api_actor(), listing_id, data["group_id"], data["quantity"])


@blp.route("/purchases")
@blp.arguments(PurchaseListArgs, location="query")
@blp.response(200, PurchaseSchema(many=True), headers={"X-Pagination": {"schema": {"type": "string"}}})
def purchases(args: dict[str, Any]) -> ApiResult:
    """My group's purchases, as buyer or seller; the committee sees the whole network."""
    page = services.list_purchases(api_actor(), args)
    return page.items, _page_headers(page)


@blp.route("/purchases/<int:purchase_id>")
@blp.response(200, PurchaseSchema)
def purchase_detail(purchase_id: int) -> ApiResult:
    return services.get_purchase(api_actor(), purchase_id)


@blp.route("/purchases/<int:purchase_id>/confirm", methods=["POST"])
@idempotent
@blp.response(200, PurchaseSchema)
def confirm(purchase_id: int) -> ApiResult:
    return services.confirm_purchase(api_actor(), purchase_id)


@blp.route("/purchases/<int:purchase_id>/deliver", methods=["POST"])
@idempotent
@blp.arguments(DeliverSchema)
@blp.response(200, PurchaseSchema)
def deliver(data: dict[str, Any], purchase_id: int) -> ApiResult:
    """Record the hand-over; optional delivered_at (ISO 8601 with offset, not in the future)."""
    return services.deliver_purchase(api_actor(), purchase_id, data.get("delivered_at"))


@blp.route("/purchases/<int:purchase_id>/cancel", methods=["POST"])
@idempotent
@blp.response(200, PurchaseSchema)
def cancel(purchase_id: int) -> ApiResult:
    """Buyer or seller, before delivery; the stock goes back exactly once."""
    return services.cancel_purchase(api_actor(), purchase_id)
