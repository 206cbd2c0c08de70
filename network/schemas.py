"""marshmallow schemas of the network API."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.fields import ID_RANGE, PatchSchema, Percent
from network.models import GROUP_KINDS, ROLES


def _timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Unknown time zone, e.g. Asia/Bangkok.") from exc


class TokenRequestSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Schema):
    token = fields.String()


class NetworkSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(validate=validate.Length(min=1, max=200))
    timezone = fields.String(validate=_timezone)
    fee_percent = Percent()
    promptpay_id = fields.String(allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "Where groups pay the network's invoices: a mobile number (10 digits, 0...), a national "
                       "or tax id (13, check digit verified) or an e-wallet id (15); null or \"\" clears it"})


class NetworkUpdateSchema(NetworkSchema, PatchSchema):
    """PATCH /network: any of the fields (its own name in the OpenAPI document)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)


class UserCreateSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=200))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    group_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID_RANGE)
    phone = fields.String(load_default="", validate=validate.Length(max=32),
                          metadata={"description": "Who to call about the group's orders, e.g. 081-234-5678"})

    @validates_schema
    def _group_for_role(self, data: dict[str, Any], **kwargs: object) -> None:
        if data.get("role") in ("leader", "seller") and not data.get("group_id"):
            raise ValidationError("A leader or seller belongs to one group.", "group_id")


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    group_id = fields.Integer(allow_none=True)
    phone = fields.String()
    active = fields.Boolean()


class GroupSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="cooperative", validate=validate.OneOf(GROUP_KINDS))
    district = fields.String(load_default="", validate=validate.Length(max=100))
    subdistrict = fields.String(load_default="", validate=validate.Length(max=100))
    members = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=1_000_000))
    registered_poor_members = fields.Integer(load_default=0, strict=True,
                                             validate=validate.Range(min=0, max=1_000_000))
    promptpay_id = fields.String(allow_none=True, validate=validate.Length(max=40), metadata={
        "description": "Where the group's households pay their bills (same rules as the network's)"})

    @validates_schema
    def _poor_within_members(self, data: dict[str, Any], partial: bool | None = None, **kwargs: object) -> None:
        if "members" in data and "registered_poor_members" in data:
            if data["registered_poor_members"] > data["members"]:
                raise ValidationError("Cannot be more than the members.", "registered_poor_members")


class GroupPatchArgs(PatchSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.OneOf(GROUP_KINDS))
    district = fields.String(validate=validate.Length(max=100))
    subdistrict = fields.String(validate=validate.Length(max=100))
    members = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000))
    registered_poor_members = fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000))
    promptpay_id = fields.String(allow_none=True, validate=validate.Length(max=40))


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=200), metadata={
        "description": "At least 8 characters, not a common password, not the account's e-mail."})


class PasswordResetSchema(Schema):
    url = fields.String(metadata={"description": "The one-time link, shown this once (only its hash is kept)."})
    expires_at = fields.AwareDateTime(format="iso")
