"""Connecting a user's LINE without typing a LINE user id: a one-time code sent to the network's LINE
official account, and what the bot does with the webhook's events (follow, unfollow, a text message).

One function, one use case, one transaction. The webhook view verifies LINE's signature before calling
anything here, and sends the returned answer with LINE's reply API after the transaction commits.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from core.clock import utcnow
from core.db import db, is_postgres
from core.errors import NotAuthenticated
from network.models import User
from notifications.models import LineLinkCode, LineLinkFailure, NotificationSettings

CODE_DIGITS = 8
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# What the bot says, in Thai: the people who read it are the network's leaders.
SAY_LINKED = "เชื่อมต่อ LINE กับบัญชี {name} ในรวมซื้อแล้ว จากนี้จะได้รับการแจ้งเตือนทาง LINE นี้"
SAY_WRONG = "ไม่พบรหัสนี้ กรุณาตรวจรหัส 8 หลักในหน้าตั้งค่าการแจ้งเตือนของรวมซื้ออีกครั้ง ยังไม่ได้เชื่อมต่อบัญชีใด"
SAY_EXPIRED = "รหัสนี้หมดอายุแล้ว (ใช้ได้ 15 นาที) กรุณาขอรหัสใหม่ในหน้าตั้งค่าการแจ้งเตือน ยังไม่ได้เชื่อมต่อบัญชีใด"
SAY_USED = "รหัสนี้ถูกใช้ไปแล้ว กรุณาขอรหัสใหม่ในหน้าตั้งค่าการแจ้งเตือน ยังไม่ได้เชื่อมต่อบัญชีใด"
SAY_SLOW = "ส่งรหัสผิดหลายครั้งเกินไป กรุณารอ {minutes} นาทีแล้วส่งรหัสใหม่อีกครั้ง ยังไม่ได้เชื่อมต่อบัญชีใด"
SAY_HOW = ("สวัสดีค่ะ นี่คือบัญชี LINE ของเครือข่ายรวมซื้อ หากต้องการรับการแจ้งเตือนทาง LINE "
           "ให้เปิดหน้าตั้งค่าการแจ้งเตือนในรวมซื้อ กดขอรหัส แล้วส่งรหัส 8 หลักมาที่นี่")
SAY_KNOWN = "LINE นี้เชื่อมต่อกับบัญชี {name} ในรวมซื้ออยู่แล้ว การแจ้งเตือนจะส่งมาที่นี่"
SAY_BACK = "ยินดีต้อนรับกลับค่ะ เปิดการแจ้งเตือนทาง LINE ให้บัญชี {name} อีกครั้งแล้ว"


@dataclass(frozen=True)
class LinkCode:
    code: str
    expires_at: datetime


def code_hash(code: str) -> str:
    return hashlib.sha256(f"ruamsue-line-link:{code}".encode()).hexdigest()


def normalise(text: str) -> str | None:
    """The code in a message, if the message is one: Thai digits read as digits, spaces and dashes ignored."""
    compact = "".join(text.translate(THAI_DIGITS).split()).replace("-", "")
    return compact if compact.isascii() and compact.isdigit() and 4 <= len(compact) <= 12 else None


def new_code(actor: User) -> LinkCode:
    """A fresh code for the caller; an older unused one stops working (only the newest is on the screen)."""
    now = utcnow()
    expires = now + timedelta(minutes=int(current_app.config.get("LINE_LINK_CODE_MINUTES", 15)))
    db.session.execute(update(LineLinkCode).where(LineLinkCode.user_id == actor.id, LineLinkCode.used_at.is_(None),
                                                  LineLinkCode.expires_at > now).values(expires_at=now))
    while True:
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        if db.session.scalar(select(LineLinkCode.id).where(LineLinkCode.code_hash == code_hash(code))) is None:
            break
    db.session.add(LineLinkCode(user_id=actor.id, code_hash=code_hash(code), created_at=now, expires_at=expires))
    db.session.commit()
    return LinkCode(code, expires)


def friend_links(code: str | None = None) -> dict[str, str]:
    """LINE's own links to the official account: add it as a friend; open its chat with the code typed in."""
    basic_id = str(current_app.config.get("LINE_BOT_BASIC_ID") or "").strip()
    if not basic_id:
        return {}
    if not basic_id.startswith("@"):
        basic_id = "@" + basic_id
    links = {"add_friend_url": f"https://line.me/R/ti/p/{quote(basic_id)}"}
    if code:
        links["send_code_url"] = f"https://line.me/R/oaMessage/{quote(basic_id)}/?{quote(code)}"
    return links


def _user_of(line_user_id: str) -> tuple[NotificationSettings, User] | None:
    row = db.session.execute(select(NotificationSettings, User).join(User, User.id == NotificationSettings.user_id)
                             .where(NotificationSettings.line_user_id == line_user_id)).first()
    return None if row is None else (row[0], row[1])


def connect(user_id: int, line_user_id: str) -> None:
    """Link ``line_user_id`` to the user and switch LINE on (in the caller's transaction). The LINE
    account leaves any other user it was linked to: one LINE account, one user."""
    now = utcnow()
    if is_postgres():
        # Two users connecting one LINE account at once: each would clear it from the others as of its own
        # snapshot and both would claim it (a unique-key failure). One at a time per account, and the
        # statement below, run after the wait, sees the one before: the last to connect keeps it.
        key = int.from_bytes(hashlib.sha256(b"line:" + line_user_id.encode()).digest()[:8], "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    db.session.execute(update(NotificationSettings)
                       .where(NotificationSettings.line_user_id == line_user_id, NotificationSettings.user_id != user_id)
                       .values(line=False, line_user_id=None, updated_at=now))
    db.session.flush()
    row = db.session.get(NotificationSettings, user_id)
    if row is None:
        row = NotificationSettings(user_id=user_id, email=True)
        db.session.add(row)
    row.line = True
    row.line_user_id = line_user_id
    row.line_blocked_at = None
    row.updated_at = now


def _insert(model: type[LineLinkFailure]) -> Any:
    if is_postgres():
        return postgresql.insert(model)
    return sqlite.insert(model)


def _failures(line_user_id: str, now: datetime) -> LineLinkFailure:
    window = timedelta(minutes=int(current_app.config.get("LINE_LINK_WINDOW_MINUTES", 15)))
    # The row made if missing (two first tries at once cannot both insert it), then locked: counts add up.
    db.session.execute(_insert(LineLinkFailure).values(line_user_id=line_user_id, failures=0, window_started_at=now)
                       .on_conflict_do_nothing(index_elements=["line_user_id"]))
    row = db.session.get_one(LineLinkFailure, line_user_id, with_for_update=True, populate_existing=True)
    if row.window_started_at + window <= now:
        row.failures, row.window_started_at = 0, now
    return row


def message(line_user_id: str, text: str) -> str:
    """A text from a LINE user: a link code connects them; anything else gets a word on how to connect."""
    now = utcnow()
    code = normalise(text)
    if code is None:
        known = _user_of(line_user_id)
        db.session.rollback()
        return SAY_KNOWN.format(name=known[1].name) if known else SAY_HOW
    counter = _failures(line_user_id, now)
    limit = int(current_app.config.get("LINE_LINK_MAX_FAILURES", 5))
    if counter.failures >= limit:
        window = timedelta(minutes=int(current_app.config.get("LINE_LINK_WINDOW_MINUTES", 15)))
        left = max(1, int(((counter.window_started_at + window) - now).total_seconds() + 59) // 60)
        db.session.commit()
        return SAY_SLOW.format(minutes=f"{left:,}")
    found = db.session.execute(
        update(LineLinkCode)
        .where(LineLinkCode.code_hash == code_hash(code), LineLinkCode.used_at.is_(None), LineLinkCode.expires_at > now)
        .values(used_at=now, used_by=line_user_id).returning(LineLinkCode.user_id)).scalar()
    if found is None:
        stored = db.session.scalar(select(LineLinkCode).where(LineLinkCode.code_hash == code_hash(code)))
        if stored is not None and stored.used_by == line_user_id:
            # LINE delivered the same message again (a redelivery): the link was made the first time.
            user = db.session.get_one(User, stored.user_id)
            db.session.rollback()
            return SAY_LINKED.format(name=user.name)
        counter.failures += 1
        db.session.commit()
        if stored is None:
            return SAY_WRONG
        return SAY_USED if stored.used_at is not None else SAY_EXPIRED
    user = db.session.get_one(User, found)
    connect(user.id, line_user_id)
    db.session.delete(counter)
    db.session.commit()
    return SAY_LINKED.format(name=user.name)


def follow(line_user_id: str) -> str:
    """Added as a friend (again): a connected user whose LINE was switched off by a block hears on LINE again."""
    known = _user_of(line_user_id)
    if known is None:
        db.session.rollback()
        return SAY_HOW
    settings, user = known
    if settings.line_blocked_at is not None:  # off because of the block, not because the user chose so
        settings.line, settings.line_blocked_at, settings.updated_at = True, None, utcnow()
    db.session.commit()
    return SAY_BACK.format(name=user.name)


def unfollow(line_user_id: str) -> None:
    """Blocked or unfriended: LINE off for that user (messages stay in the app), pending LINE messages dropped."""
    from notifications.sending import switch_line_off

    known = _user_of(line_user_id)
    if known is None:
        db.session.rollback()
        return
    settings, user = known
    switch_line_off(user.id, user.network_id, "The user blocked the LINE account.")
    db.session.commit()


def user_for_login(line_user_id: str) -> User:
    """The active user a LINE account is connected to (LINE Login). A LINE account connected to nobody
    signs nobody in, and no account is ever made for it: the group's leader or the admin adds people."""
    known = _user_of(line_user_id)
    db.session.rollback()
    if known is None or not known[1].active:
        raise NotAuthenticated("This LINE account is not connected to a user.")
    return known[1]


def connect_by_login(actor: User, line_user_id: str) -> None:
    """The signed-in user proved with LINE Login that this LINE account is theirs: connect it."""
    connect(actor.id, line_user_id)
    db.session.commit()


def accept_invitation(token_hash: str, line_user_id: str) -> User:
    """An invitation (or reset) link opened with LINE Login instead of a password: the link is used once
    (network.access: its other links, older sessions and API tokens end) and this LINE account is connected
    to the link's user, in one transaction. Returns the user to log in; NotFound if the link no longer works."""
    from network import access

    user = access.use_by_hash(token_hash, "line")
    connect(user.id, line_user_id)
    db.session.commit()
    db.session.refresh(user)
    return user


def is_live(actor: User, code: str) -> bool:
    """Whether the caller's code can still be used (not used, not expired, not replaced)."""
    live = db.session.scalar(select(LineLinkCode.id).where(
        LineLinkCode.user_id == actor.id, LineLinkCode.code_hash == code_hash(code), LineLinkCode.used_at.is_(None),
        LineLinkCode.expires_at > utcnow())) is not None
    db.session.rollback()
    return live
