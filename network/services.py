"""Network use cases: one function, one transaction, permissions checked here."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from core.audit import record
from core.auth import hash_token, new_token
from core.clock import utcnow
from core.db import db
from core.errors import Conflict, Forbidden, InvalidInput, Msg, NotAuthenticated, NotFound
from core.events import timezone_changed
from core.fields import SARA_AM_TYPED, require_int, require_phone, require_promptpay_id, require_text
from network import permissions
from network.models import GROUP_KINDS, ApiToken, Group, Network, User
from network.passwords import require_password

# Checked against when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _timezone(field: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{field}: unknown time zone, e.g. Asia/Bangkok.",
                           {field: [Msg("Unknown time zone, e.g. Asia/Bangkok.", "timezone_unknown")]}) from exc
    return value


def create_network(name: str, admin_email: str, admin_password: str, admin_name: str = "Network admin",
                   timezone: str = "Asia/Bangkok") -> Network:
    """The command line's one use case: the same field rules as the API's (``flask network create``)."""
    name = require_text("name", name, max_length=200, required=True)
    timezone = _timezone("timezone", require_text("timezone", timezone, max_length=64, required=True))
    if db.session.scalar(select(Network).where(Network.name == name)) is not None:
        raise Conflict(f"A network named {name!r} exists already.", {"name": [Msg("Already taken.", "taken")]})
    network = Network(name=name, timezone=timezone, fee_percent=Decimal("0"))
    db.session.add(network)
    db.session.flush()
    _add_user(network.id, admin_email, admin_password, admin_name, "admin", None)
    db.session.commit()
    return network


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _add_user(network_id: int, email: str, password: str, name: str, role: str, group_id: int | None) -> User:
    # The API, the page and the CLI alike: the same rules for every way a user is added.
    email = require_text("email", email, max_length=254, required=True).lower()
    if not EMAIL_RE.match(email):
        raise InvalidInput("email: not an e-mail address.", {"email": [Msg("Not an e-mail address.", "email_invalid")]})
    name = require_text("name", name, max_length=200, required=True)
    password = require_password("password", password, email=email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(Msg("That e-mail is already used.", "email_used"), {"email": [Msg("Already used.", "used")]})
    user = User(network_id=network_id, email=email, name=name, role=role, group_id=group_id,
                password_hash=generate_password_hash(password), session_version=0, active=True)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(Msg("That e-mail is already used.", "email_used"), {"email": [Msg("Already used.", "used")]}) from exc
    return user


def email_in_use(email: str) -> bool:
    """Whether an account has this e-mail (the add-user page lists it with the form's other mistakes)."""
    return db.session.scalar(select(User.id).where(User.email == email.strip().lower())) is not None


def authenticate(email: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise NotAuthenticated("Wrong e-mail or password.")
    if not check_password_hash(user.password_hash, password) or not user.active:
        raise NotAuthenticated("Wrong e-mail or password.")
    return user


def issue_token(email: str, password: str) -> str:
    user = authenticate(email, password)
    token = new_token()
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), created_at=utcnow()))
    db.session.commit()
    return token


def revoke_token(actor: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    db.session.commit()


def end_sessions(user: User) -> None:
    """Logout: every session cookie of this user stops working, copies included."""
    db.session.execute(
        cast(Table, User.__table__).update().where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    db.session.commit()


def get_network(actor: User) -> Network:
    return db.session.get_one(Network, actor.network_id)


def update_network(actor: User, changes: dict[str, Any]) -> Network:
    if not permissions.can_manage_network(actor):
        raise Forbidden("Only the network admin changes the network's settings.")
    network = get_network(actor)
    if "promptpay_id" in changes:
        changes = {**changes, "promptpay_id": require_promptpay_id("promptpay_id", changes["promptpay_id"])}
    before = {k: str(getattr(network, k)) for k in changes}
    moved = "timezone" in changes and changes["timezone"] != network.timezone
    for key, value in changes.items():
        setattr(network, key, value)
    if moved:
        db.session.flush()
        timezone_changed(network.id)  # what is kept per month is recomputed in this transaction
    record(actor, "network.update", "network", network.id, before, {k: str(v) for k, v in changes.items()})
    db.session.commit()
    return network


def list_users(actor: User) -> list[User]:
    if not permissions.can_manage_users(actor):
        raise Forbidden("Only the network admin manages users.")
    return list(db.session.scalars(select(User).where(User.network_id == actor.network_id).order_by(User.id)))


def create_user(actor: User, data: dict[str, Any]) -> User:
    if not permissions.can_manage_users(actor):
        raise Forbidden("Only the network admin manages users.")
    group_id = data.get("group_id")
    if group_id is not None:
        get_group(actor, group_id, field="group_id")
    phone = require_phone("phone", data.get("phone") or None) or ""  # the one phone rule (core.fields)
    user = _add_user(actor.network_id, data["email"], data["password"], data["name"], data["role"], group_id)
    user.phone = phone
    db.session.commit()
    return user


def list_groups(actor: User) -> list[Group]:
    return list(db.session.scalars(select(Group).where(Group.network_id == actor.network_id).order_by(Group.name)))


def get_group(actor: User, group_id: int, field: str | None = None) -> Group:
    group = db.session.get(Group, group_id)
    if group is None or group.network_id != actor.network_id:
        if field:
            raise InvalidInput("No such group in this network.", {field: [Msg("No such group.", "no_such_group")]})
        raise NotFound("No such group.")
    return group


_GROUP_TEXT = {"name": (200, True), "district": (100, False), "subdistrict": (100, False)}


def group_values(data: dict[str, Any], current: Group | None = None, *, formula: bool = True) -> dict[str, Any]:
    """A group's fields checked by the one field module, and the rule that registered-poor members are
    some of the members (422 naming the field, on every entry point; ``formula=False`` for a sheet's cells)."""
    values = dict(data)
    for key, (limit, required) in _GROUP_TEXT.items():
        if key in data or current is None:
            values[key] = require_text(key, data.get(key), max_length=limit, required=required, formula=formula)
    if "kind" in data:
        if data["kind"] not in GROUP_KINDS:
            raise InvalidInput("Unknown kind of group.", {"kind": [f"One of {', '.join(GROUP_KINDS)}."]})
    for key in ("members", "registered_poor_members"):
        if key in data or current is None:
            values[key] = require_int(key, data.get(key, 0), maximum=1_000_000)
    if "promptpay_id" in data:
        values["promptpay_id"] = require_promptpay_id("promptpay_id", data["promptpay_id"])
    members = values.get("members", current.members if current is not None else 0)
    poor = values.get("registered_poor_members", current.registered_poor_members if current is not None else 0)
    if poor > members:
        raise InvalidInput(Msg("Registered-poor members cannot outnumber the members.", "poor_exceed_members"),
                           {"registered_poor_members": [Msg("Cannot be more than the members.", "more_than_members")]})
    return values


def _name_taken(exc: IntegrityError) -> Conflict:
    """Only the unique name is a conflict; any other constraint is a bug the checks above missed."""
    if "unique" not in str(exc.orig).lower():
        raise exc
    return Conflict(Msg("A group of that name exists already.", "group_exists"),
                    {"name": [Msg("Already taken.", "taken")]})


def _same_name(network_id: int, name: str, except_id: int | None = None) -> None:
    """The unique name, as it reads: a group stored before the one spelling of sara am (core.fields.thai_text)
    is the same group (the database's unique constraint compares the characters)."""
    query = select(Group.id).where(Group.network_id == network_id,
                                   func.replace(Group.name, SARA_AM_TYPED, "\u0e33") == name)
    if except_id is not None:
        query = query.where(Group.id != except_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Conflict(Msg("A group of that name exists already.", "group_exists"), {"name": [Msg("Already taken.", "taken")]})


def create_group(actor: User, data: dict[str, Any]) -> Group:
    if not permissions.can_create_groups(actor):
        raise Forbidden("Only the network admin adds groups.")
    data = group_values(data)
    _same_name(actor.network_id, data["name"])
    group = Group(network_id=actor.network_id, **data)
    db.session.add(group)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _name_taken(exc) from exc
    record(actor, "group.create", "group", group.id, None, data)
    db.session.commit()
    return group


def update_group(actor: User, group_id: int, changes: dict[str, Any]) -> Group:
    group = get_group(actor, group_id)
    if not permissions.can_edit_group(actor, group):
        raise Forbidden("You may change only your own group.")
    changes = group_values(changes, group)
    if "name" in changes:
        _same_name(group.network_id, changes["name"], group.id)
    before = {k: getattr(group, k) for k in changes}
    for key, value in changes.items():
        setattr(group, key, value)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _name_taken(exc) from exc
    record(actor, "group.update", "group", group.id, before, changes)
    db.session.commit()
    return group
