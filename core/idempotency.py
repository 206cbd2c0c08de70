"""Idempotency-Key on writes a flaky phone connection may repeat: the first response is stored and
replayed; the same key with a different body is refused (422)."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, make_response, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.auth import api_actor
from core.clock import utcnow
from core.db import db
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


def idempotent(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return fn(*args, **kwargs)
        key = key.strip()
        if not key or len(key) > 200:
            raise InvalidInput("Idempotency-Key must be 1 to 200 characters.",
                               {"Idempotency-Key": ["1 to 200 characters."]})
        actor = api_actor()
        request_hash = _request_hash()
        record = IdempotencyRecord(user_id=actor.id, key=key, method=request.method, path=request.path,
                                   request_hash=request_hash, status=IN_PROGRESS, body="", created_at=utcnow())
        db.session.add(record)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return _existing(actor.id, key, request_hash)
        record_id = record.id
        try:
            response = make_response(fn(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
            db.session.commit()
            raise
        if 200 <= response.status_code < 300:
            db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
                               .values(status=response.status_code, body=response.get_data(as_text=True)))
        else:
            # Refusals are not remembered: the same request may succeed once the cause is gone.
            db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
        db.session.commit()
        return response

    return wrapper


def _existing(user_id: int, key: str, request_hash: str) -> Response:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        record = db.session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
        db.session.rollback()
        if record is None:
            raise Conflict("The first request with this Idempotency-Key failed; send it again with a new key.")
        if record.request_hash != request_hash:
            raise InvalidInput("This Idempotency-Key was used for a different request.",
                               {"Idempotency-Key": ["Already used for a different request."]})
        if record.status != IN_PROGRESS:
            return _replay(record)
        if time.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still being processed; try again.")
        time.sleep(0.05)
