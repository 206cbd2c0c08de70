"""Idempotency-Key on writes a flaky phone connection may repeat: the first response is stored and
replayed; the same key with a different body is refused (422)."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Response, make_response, request
from sqlalchemy import Engine, bindparam, delete, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from core.auth import api_actor
from core.clock import utcnow
from core.db import UTCDateTime, affected, db, is_postgres
from core.errors import Conflict, InvalidInput
from core.models import IdempotencyRecord

IN_PROGRESS = 0
WAIT_SECONDS = 10.0


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.path.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.body, status=record.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(fn: Callable[..., Any] | None = None, *, actor: Callable[[], Any] | None = None) -> Any:
    """``@idempotent`` on the API (the bearer token's user); ``@idempotent(actor=...)`` where the caller
    is someone else (a page's session user). Keys are kept per user.

    The key's record is written in the same transaction as the effect, so they commit together or
    not at all: a request cut off by a crash or a lost database leaves no record behind, and its
    retry with the same key runs afresh instead of waiting forever on a request that no longer runs.
    A second request with the key waits on the unique index until the first's transaction ends."""

    if fn is None:
        return lambda f: idempotent(f, actor=actor)
    actor_of = actor or api_actor

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return fn(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > 200:
            raise InvalidInput("Idempotency-Key must be 1 to 200 characters.",
                               {"Idempotency-Key": ["1 to 200 characters."]})
        user_id = actor_of().id
        request_hash = _request_hash()
        while not _claim(user_id, key, request_hash):
            outcome = _existing(user_id, key, request_hash)
            if isinstance(outcome, Response):
                return outcome
            if outcome == "took_over":
                break
            # "gone": the first request rolled back; this one runs as the first.
        try:
            response = make_response(fn(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            _forget(user_id, key, request_hash)
            raise
        if 200 <= response.status_code < 300:
            # The effect committed durably with the record; only the answer to replay is stored here,
            # without waiting for the disk on PostgreSQL: if the database crashed within the moment
            # before it is flushed, the record stays in progress and a retry is handled as a request
            # cut off after its effect (see _existing), as for a worker killed at this point.
            answer = {"user_id": user_id, "key": key, "status": response.status_code,
                      "body": response.get_data(as_text=True)}
            if _store_answer_alone(answer):
                return response
            statement = _ANSWER_PG if is_postgres() else _ANSWER
            stored = affected(db.session.execute(statement, answer))
            if not stored:
                # The service rolled back its own transaction (and the record with it) yet answered 2xx.
                db.session.add(IdempotencyRecord(
                    user_id=user_id, key=key, method=request.method, path=request.path,
                    request_hash=request_hash, status=response.status_code,
                    body=response.get_data(as_text=True), created_at=utcnow()))
            db.session.commit()
        else:
            # Refusals are not remembered: the same request may succeed once the cause is gone.
            db.session.rollback()
            _forget(user_id, key, request_hash)
        return response

    return wrapper


# Written as text: the same SQL on PostgreSQL and SQLite (3.24+), compiled once.
_CLAIM = text(
    "INSERT INTO idempotency_records (user_id, key, method, path, request_hash, status, body, created_at) "
    "VALUES (:user_id, :key, :method, :path, :request_hash, :status, '', :created_at) "
    "ON CONFLICT (user_id, key) DO NOTHING RETURNING id"
).bindparams(bindparam("created_at", type_=UTCDateTime()))


_ANSWER = text("UPDATE idempotency_records SET status = :status, body = :body WHERE user_id = :user_id AND key = :key")
# The same, with this transaction's commit not waiting for the disk (see the caller).
_ANSWER_PG = text("UPDATE idempotency_records SET status = :status, body = :body WHERE user_id = :user_id "
                  "AND key = :key AND set_config('synchronous_commit', 'off', true) = 'off'")


def _store_answer_alone(answer: dict[str, Any]) -> bool:
    """On PostgreSQL, once the service has committed: the answer stored by one statement that is its own
    transaction (one round trip instead of BEGIN, UPDATE, COMMIT). False when that does not apply (SQLite,
    a transaction still open, a session bound to one connection) or the record is not there (the service
    rolled it back): the caller then stores it in the session as before."""
    bind = db.session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql" or db.session().in_transaction():
        return False
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return affected(conn.execute(_ANSWER_PG, answer)) > 0


def _claim(user_id: int, key: str, request_hash: str) -> bool:
    """Write this request's record, in progress, in the caller's transaction; False if the key exists.

    One ``INSERT ... ON CONFLICT DO NOTHING``: a record of a transaction still in progress makes it
    wait until that transaction ends (then it conflicts if that one committed, inserts if not)."""
    claimed = db.session.execute(_CLAIM, {
        "user_id": user_id, "key": key, "method": request.method, "path": request.path,
        "request_hash": request_hash, "status": IN_PROGRESS, "created_at": utcnow()}).first()
    return claimed is not None


def _forget(user_id: int, key: str, request_hash: str) -> None:
    """Drop this request's record if the service had already committed it (the usual case: it was
    never committed, and the rollback took it away)."""
    try:
        db.session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key,
            IdempotencyRecord.request_hash == request_hash, IdempotencyRecord.status == IN_PROGRESS))
        db.session.commit()
    except SQLAlchemyError:
        # The database went away: whatever the service committed is unknown, the original error stands.
        db.session.rollback()


def _existing(user_id: int, key: str, request_hash: str) -> Response | str:
    """Another request with this key committed first: replay its answer, wait for it, or (when it
    was cut off after its effect committed but before its answer was stored) resolve that."""
    from flask import current_app

    abandoned_after = timedelta(seconds=float(current_app.config.get("IDEMPOTENCY_ABANDONED_AFTER", 60)))
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        record = db.session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
        db.session.rollback()
        if record is None:
            return "gone"
        if record.request_hash != request_hash:
            raise InvalidInput("This Idempotency-Key was used for a different request.",
                               {"Idempotency-Key": ["Already used for a different request."]})
        if record.status != IN_PROGRESS:
            return _replay(record)
        if record.created_at < utcnow() - abandoned_after:
            # Longer than any request may run: the first one died (worker killed, database lost) after
            # its effect committed and before its answer was stored. A PUT or DELETE sets the same state again,
            # so this request takes the key over and runs; a POST must not run twice.
            if request.method not in ("PUT", "DELETE"):
                raise Conflict("The first request with this Idempotency-Key was saved, but its answer was "
                               "lost; look up the result instead of sending it again.")
            took = affected(db.session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.id == record.id, IdempotencyRecord.status == IN_PROGRESS,
                       IdempotencyRecord.created_at == record.created_at)
                .values(created_at=utcnow())))
            if took:
                return "took_over"  # the row is this request's now, in this transaction
            db.session.rollback()
            continue
        if time.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still being processed; try again.")
        time.sleep(0.05)
