"""JSON API of requests for quotation. Parse -> service -> dump; the services check permissions.

``/quotes/<token>`` answers to the token of a supplier's private link and to nothing else: no bearer
token, rate-limited per address like the login.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from core.api import ApiResult
from core.auth import api_actor
from core.fields import ID_RANGE, Money
from core.idempotency import idempotent
from core.web import limiter
from quotes import award, services
from quotes.schemas import (
    AwardInSchema,
    AwardOutSchema,
    ComparisonSchema,
    QuoteInSchema,
    QuoteSchema,
    RfqCreateSchema,
    RfqSchema,
    SupplierViewSchema,
)

blp = Blueprint("quotes_api", __name__, url_prefix="/api/v1", description="Requests for quotation and quotes")


def _quote_limit() -> str:
    return str(current_app.config.get("QUOTE_RATE_LIMIT", "30 per minute"))


class SuggestArgs(Schema):
    product_id = fields.List(fields.Integer(strict=False, validate=ID_RANGE), load_default=list,
                             metadata={"description": "repeat for each product: ?product_id=1&product_id=2"})


class SuggestionSchema(Schema):
    product_id = fields.Integer()
    quantity = fields.Integer(allow_none=True)
    reference_price = Money(allow_none=True)


@blp.route("/rfqs")
class Rfqs(MethodView):
    @blp.response(200, RfqSchema(many=True))
    def get(self) -> ApiResult:
        """The network's requests for quotation, newest first."""
        return services.list_rfqs(api_actor())

    @idempotent
    @blp.arguments(RfqCreateSchema)
    @blp.response(201, RfqSchema)
    def post(self, data: services.RfqInput) -> ApiResult:
        """Ask suppliers for quotations. The answer carries each supplier's private-link token, once."""
        return services.create_rfq(api_actor(), data)


@blp.route("/rfqs/suggestions")
@blp.arguments(SuggestArgs, location="query")
@blp.response(200, SuggestionSchema(many=True))
def suggestions(args: dict[str, Any]) -> ApiResult:
    """Suggested quantity (mean of the groups' orders in the product's last rounds) and reference price."""
    return services.suggest_items(api_actor(), args["product_id"][:500])


@blp.route("/rfqs/<int:rfq_id>")
@blp.response(200, RfqSchema)
def get_rfq(rfq_id: int) -> ApiResult:
    return services.get_rfq(api_actor(), rfq_id)


@blp.route("/rfqs/<int:rfq_id>/comparison")
@blp.response(200, ComparisonSchema)
def comparison(rfq_id: int) -> ApiResult:
    """Every quote at the expected quantity; the best award (proven optimal), the cheapest per product
    and the best single supplier, each with what it costs more than the best (``saving_of_best``)."""
    return award.comparison(api_actor(), rfq_id)


@blp.route("/rfqs/<int:rfq_id>/award", methods=["POST"])
@idempotent
@blp.arguments(AwardInSchema)
@blp.response(201, AwardOutSchema)
def award_rfq(data: dict[str, Any], rfq_id: int) -> ApiResult:
    """Award the request (the best award unless ``lines`` are given) and create its draft buying round."""
    return award.award(api_actor(), rfq_id, data.get("closes_at"), data.get("lines"))


@blp.route("/quotes/<string:token>")
class QuoteByToken(MethodView):
    decorators = [limiter.limit(_quote_limit)]

    @blp.doc(security=[])
    @blp.response(200, SupplierViewSchema)
    def get(self, token: str) -> ApiResult:
        """The request as the invited supplier sees it, and its quote so far (null before the first)."""
        return services.supplier_view(token)

    @blp.doc(security=[])
    @blp.arguments(QuoteInSchema)
    @blp.response(200, QuoteSchema)
    def put(self, data: services.QuoteInput, token: str) -> ApiResult:
        """Replace the supplier's quote: until the closing time, never after the award (409)."""
        return services.submit_quote(token, data)
