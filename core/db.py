"""The database handle: SQLAlchemy 2 typed models with a constraint naming convention."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Engine,
    MetaData,
    Numeric,
    Result,
    TypeDecorator,
    event,
    literal_column,
    type_coerce,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ColumnElement

# Named constraints so Alembic can alter and drop them on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Numeric(12, 2) that always hands back a Decimal quantised to the satang."""

    impl = Numeric(12, 2)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(Decimal("0.01"))

    def process_result_value(self, value: object, dialect: object) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal("0.01"))


def satang_to_baht(satang: Any) -> ColumnElement[Decimal]:
    """An integer count of satang read back as baht: exact ``numeric`` on PostgreSQL (bigint × 0.01),
    on SQLite the double nearest it, which ``Money`` rounds to the satang it came from."""
    return type_coerce(satang * literal_column("0.01", Numeric(12, 2)), Money())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base, engine_options={})

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds ``db.Model`` from ``Base`` at run time, which mypy cannot follow; to mypy a
    # model is a plain typed ``Base`` subclass. Models subclass ``Model``: ``class Offer(Model): ...``.
    Model = Base
else:
    Model = db.Model


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a CursorResult, which has the count)."""
    return cast("CursorResult[Any]", result).rowcount


def is_postgres(bind: Engine | Connection | None = None) -> bool:
    """Whether this session (or ``bind``) talks to PostgreSQL (production) rather than SQLite (the embedded
    default): the one dialect check, for the statements written twice (locks, upserts, exact sums)."""
    return (bind if bind is not None else db.session.get_bind()).dialect.name == "postgresql"


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection with a round trip before handing it out, but only when it has sat in
    the pool longer than ``idle_seconds`` (``pool_pre_ping`` checks every checkout: a round trip and
    ≈ 0.1 ms of CPU on every request).

    What this keeps: a database restarted while the app was quiet is noticed at checkout, the dead
    connection is replaced, and the request runs. A connection used within the last ``idle_seconds``
    is handed out unchecked: if the database went away in that moment, the request gets a clean 503
    (``core._init_resilience``), as the requests in flight at the restart do anyway, and SQLAlchemy then
    discards every connection of the pool opened before the failure, so the next requests reconnect.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["ruamsue_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("ruamsue_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # a new connection, or one in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - the pool replaces the connection and tries again
            raise DisconnectionError(f"the pooled connection is gone: {exc}") from exc
