"""JSON API of buying rounds. Parse -> service -> dump; the services check permissions."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from core.api import ApiResult
from core.auth import api_actor
from core.errors import NotFound
from core.idempotency import idempotent
from orders import cancellations, delivery, paying, reads, services
from orders.invoices import list_invoices, record_payment
from orders.schemas import (
    CancellationInSchema,
    CancellationSchema,
    GroupOrderInSchema,
    GroupOrderOutSchema,
    InvoiceDetailSchema,
    InvoiceSchema,
    JobStartedSchema,
    ListArgs,
    OfferCreateSchema,
    OfferSchema,
    PaymentInSchema,
    PaymentSchema,
    ProductSchema,
    PurchaseOrderSchema,
    ReceiptSchema,
    RoundCreateSchema,
    RoundListSchema,
    RoundSchema,
    SupplierSchema,
)

blp = Blueprint("orders_api", __name__, url_prefix="/api/v1", description="Buying rounds and orders")


@blp.route("/suppliers")
class Suppliers(MethodView):
    @blp.response(200, SupplierSchema(many=True))
    def get(self) -> ApiResult:
        return services.list_suppliers(api_actor())

    @blp.arguments(SupplierSchema)
    @blp.response(201, SupplierSchema)
    def post(self, data: dict[str, Any]) -> ApiResult:
        return services.create_supplier(api_actor(), data)


@blp.route("/products")
class Products(MethodView):
    @blp.response(200, ProductSchema(many=True))
    def get(self) -> ApiResult:
        return services.list_products(api_actor())

    @blp.arguments(ProductSchema)
    @blp.response(201, ProductSchema)
    def post(self, data: dict[str, Any]) -> ApiResult:
        return services.create_product(api_actor(), data)


@blp.route("/rounds")
class Rounds(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, RoundListSchema(many=True))
    def get(self, args: dict[str, Any]) -> ApiResult:
        return services.list_rounds(api_actor(), args.get("state"))

    @blp.arguments(RoundCreateSchema)
    @blp.response(201, RoundSchema)
    def post(self, data: dict[str, Any]) -> ApiResult:
        actor = api_actor()
        rnd = services.create_round(actor, data["name"], data["closes_at"])
        return services.load_round(actor, rnd.id)


@blp.route("/rounds/<int:round_id>")
class RoundResource(MethodView):
    @blp.response(200, RoundSchema)
    def get(self, round_id: int) -> ApiResult:
        return services.load_round(api_actor(), round_id)


@blp.route("/rounds/<int:round_id>/offers")
class Offers(MethodView):
    @blp.response(200, OfferSchema(many=True))
    def get(self, round_id: int) -> ApiResult:
        """The round's offers."""
        return services.load_round(api_actor(), round_id).offers

    @idempotent
    @blp.arguments(OfferCreateSchema)
    @blp.response(201, OfferSchema)
    def post(self, data: dict[str, Any], round_id: int) -> ApiResult:
        return services.add_offer(api_actor(), round_id, data)


@blp.route("/rounds/<int:round_id>/open", methods=["POST"])
@blp.response(200, RoundSchema)
def open_round(round_id: int) -> ApiResult:
    actor = api_actor()
    services.open_round(actor, round_id)
    return services.load_round(actor, round_id)


@blp.route("/rounds/<int:round_id>/close", methods=["POST"])
@blp.response(202, JobStartedSchema)
def close_round(round_id: int) -> ApiResult:
    job = services.close_round(api_actor(), round_id)
    return {"job_id": job.id, "state": job.state}


@blp.route("/rounds/<int:round_id>/combine", methods=["POST"])
@blp.response(202, JobStartedSchema)
def combine_round(round_id: int):  # type: ignore[no-untyped-def]
    """Start the combine again after it failed (committee). Idempotent: a waiting, running or finished
    combine is returned; a failed job is never handed back."""
    job = services.retry_combine(api_actor(), round_id)
    return {"job_id": job.id, "state": job.state}


@blp.route("/rounds/<int:round_id>/orders/<int:group_id>")
class GroupOrderResource(MethodView):
    @blp.response(200, GroupOrderOutSchema)
    def get(self, round_id: int, group_id: int) -> ApiResult:
        return services.get_group_order(api_actor(), round_id, group_id)

    @idempotent
    @blp.arguments(GroupOrderInSchema())  # an instance: a class is instantiated on every request
    @blp.response(200, GroupOrderOutSchema)
    def put(self, data: dict[str, Any], round_id: int, group_id: int) -> ApiResult:
        """Replace the group's order with these lines. No lines over an order that has lines is refused
        (422): withdrawing the whole order is its own action, ``DELETE``."""
        return services.replace_group_order(api_actor(), round_id, group_id, data["lines"])

    @idempotent
    @blp.response(200, GroupOrderOutSchema)
    def delete(self, round_id: int, group_id: int) -> ApiResult:
        """Withdraw the group's whole order in this round (until the deadline). Repeating it changes nothing."""
        return services.withdraw_group_order(api_actor(), round_id, group_id)


@blp.route("/rounds/<int:round_id>/purchase-orders")
@blp.response(200, PurchaseOrderSchema(many=True))
def purchase_orders(round_id: int) -> ApiResult:
    return reads.purchase_orders(api_actor(), round_id)


@blp.route("/purchase-orders/<int:purchase_order_id>/receipt", methods=["POST"])
@idempotent
@blp.arguments(ReceiptSchema)
@blp.response(200, PurchaseOrderSchema)
def receipt(data: dict[str, Any], purchase_order_id: int) -> ApiResult:
    actor = api_actor()
    result = delivery.record_receipt(actor, purchase_order_id, data["lines"], data.get("received_at"))
    return reads.purchase_order(actor, result["purchase_order_id"])


@blp.route("/rounds/<int:round_id>/invoices")
@blp.response(200, InvoiceSchema(many=True))
def invoices(round_id: int) -> ApiResult:
    return list_invoices(api_actor(), round_id)


@blp.route("/invoices/<int:invoice_id>/payments", methods=["POST"])
@idempotent
@blp.arguments(PaymentInSchema)
@blp.response(201, PaymentSchema)
def payments(data: dict[str, Any], invoice_id: int) -> ApiResult:
    return record_payment(api_actor(), invoice_id, data["amount"], data.get("note", ""), data.get("method"),
                          data.get("slip"))


@blp.route("/payments/<int:payment_id>/cancel", methods=["POST"])
@idempotent
@blp.arguments(CancellationInSchema)
@blp.response(201, CancellationSchema)
def cancel_payment(data: dict[str, Any], payment_id: int) -> ApiResult:
    """Cancel a receipt by a new numbered document (committee); the invoice is owed the amount again."""
    return cancellations.cancel_payment(api_actor(), payment_id, data["reason"])


@blp.route("/invoices/<int:invoice_id>")
@blp.response(200, InvoiceDetailSchema)
def invoice(invoice_id: int) -> ApiResult:
    """An invoice: what is due (also in Thai words), the PromptPay payload to pay it, and its receipts."""
    return paying.invoice_detail(api_actor(), invoice_id)


@blp.route("/invoices/<int:invoice_id>/promptpay.svg", methods=["GET"])
@blp.doc(responses={"200": {"description": "The PromptPay QR of the amount due, drawn as SVG on the server",
                            "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
                    "404": {"description": "No such invoice, nothing due, or the network has no PromptPay id"}})
def invoice_qr(invoice_id: int):  # type: ignore[no-untyped-def]
    svg = paying.invoice_qr(api_actor(), invoice_id)
    if svg is None:
        raise NotFound("Nothing to pay by PromptPay: the invoice is paid or the network has no PromptPay id.")
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, no-cache"})
