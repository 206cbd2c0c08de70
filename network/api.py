"""JSON API of the network: tokens, the network, users, groups. Parse -> service -> dump."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from core.api import ApiResult
from core.auth import api_actor
from core.web import limiter
from network import accounts, services
from network.schemas import (
    GroupPatchArgs,
    GroupSchema,
    NetworkSchema,
    NetworkUpdateSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    TokenRequestSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
)

blp = Blueprint("network_api", __name__, url_prefix="/api/v1", description="Network, users, groups, tokens")


def _account_key() -> str:
    from flask import request

    data = request.get_json(silent=True) or {}
    email = data.get("email") if isinstance(data, dict) else None
    return f"account:{str(email).strip().lower()}" if email else "account:-"


def _login_limit() -> str:
    from flask import current_app

    return str(current_app.config.get("LOGIN_RATE_LIMIT", "10 per minute"))


@blp.route("/tokens")
class Tokens(MethodView):
    # Per address and per account, so neither a botnet on one account nor one phone on many gets far.
    decorators = [limiter.limit(_login_limit), limiter.limit(_login_limit, key_func=_account_key)]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    def post(self, data: dict[str, Any]) -> ApiResult:
        """Trade an e-mail and password for a bearer token."""
        return {"token": services.issue_token(data["email"], data["password"])}


@blp.route("/tokens/current", methods=["DELETE"])
@blp.response(204)
def revoke_current_token() -> ApiResult:
    """Revoke the token this request carries (log out a phone); it answers 401 from then on."""
    from flask import request

    actor = api_actor()
    services.revoke_token(actor, request.environ["ruamsue.api_token_id"])


@blp.route("/network")
class NetworkResource(MethodView):
    @blp.response(200, NetworkSchema)
    def get(self) -> ApiResult:
        return services.get_network(api_actor())

    @blp.arguments(NetworkUpdateSchema)
    @blp.response(200, NetworkSchema)
    def patch(self, data: dict[str, Any]) -> ApiResult:
        return services.update_network(api_actor(), data)


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    def get(self) -> ApiResult:
        return services.list_users(api_actor())

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict[str, Any]) -> ApiResult:
        return services.create_user(api_actor(), data)


class UserInvitationSchema(Schema):
    url = fields.String(metadata={"description": "Opens a page where the user sets a password (one use)"})
    expires_at = fields.AwareDateTime(format="iso")


@blp.route("/users/<int:user_id>/invitation", methods=["POST"])
@blp.response(201, UserInvitationSchema)
def invite_user(user_id: int) -> ApiResult:
    """A one-time link for the user to set a password and log in; it expires (the same link as a reset)."""
    from flask import url_for

    from network import access

    issued = access.issue_link(api_actor(), user_id, "invitation")
    return {"url": url_for("network_views.welcome", token=issued.token, _external=True),
            "expires_at": issued.expires_at}


@blp.route("/groups")
class Groups(MethodView):
    @blp.response(200, GroupSchema(many=True))
    def get(self) -> ApiResult:
        return services.list_groups(api_actor())

    @blp.arguments(GroupSchema)
    @blp.response(201, GroupSchema)
    def post(self, data: dict[str, Any]) -> ApiResult:
        return services.create_group(api_actor(), data)


@blp.route("/groups/<int:group_id>")
class GroupResource(MethodView):
    @blp.response(200, GroupSchema)
    def get(self, group_id: int) -> ApiResult:
        return services.get_group(api_actor(), group_id)

    @blp.arguments(GroupPatchArgs)
    @blp.response(200, GroupSchema)
    def patch(self, data: dict[str, Any], group_id: int) -> ApiResult:
        return services.update_group(api_actor(), group_id, data)


@blp.route("/me/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def change_password(data: dict[str, Any]) -> ApiResult:
    """Change the caller's own password (the current one is required). Every other session and API token
    of the caller ends; the token of this call keeps working."""
    from flask import request

    accounts.change_password(api_actor(), data["current_password"], data["new_password"],
                             keep_token_id=request.environ.get("ruamsue.api_token_id"))
    return None


@blp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@blp.response(201, PasswordResetSchema)
def issue_password_reset(user_id: int) -> ApiResult:
    """A one-time link for the user to set a new password (works once, for 24 hours; earlier links of the
    user stop working). The admin for anyone of the network, the committee for leaders and sellers."""
    from flask import url_for

    token, expires_at = accounts.issue_reset(api_actor(), user_id)
    return {"url": url_for("account_views.password_reset", token=token, _external=True), "expires_at": expires_at}
