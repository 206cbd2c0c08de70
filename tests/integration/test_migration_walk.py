"""Upgrades with data: on a database holding the demo network, the last migration downgraded and
applied again, then every migration from the first to the last applied one at a time, with nothing lost.

Generic: the revisions come from the migrations folder, so a new migration is walked without touching
this test. A downgrade drops what its revision added (tables, columns); every other row and column must
come back exactly as it was.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from tests.conftest import ADMIN_URL, ROOT, _admin_exec, _make_app

Snapshot = dict[str, list[dict[str, Any]]]


def revisions() -> list[str]:
    """Every revision, first to last; one line of history (one head)."""
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    return [r.revision for r in reversed(list(script.walk_revisions()))]


class Walker:
    """Migrations and the demo seed run inside one app (one process: a subprocess per step is slow)."""

    def __init__(self, url: str) -> None:
        self.app = _make_app(url, JOBS_MODE="thread")

    def migrate(self, action: str, revision: str = "head") -> None:
        import flask_migrate

        with self.app.app_context():
            getattr(flask_migrate, action)(directory=str(ROOT / "migrations"), revision=revision)

    def seed(self) -> None:
        from core.db import db
        from demo.seed import seed

        with self.app.app_context():
            seed()
            db.session.remove()
        self.settle()

    def settle(self, timeout: float = 60.0) -> None:
        """Wait for the jobs the seed started (run by this app's background thread) to end: a job still
        running while the snapshot is taken finishes later and changes rows the walk compares (seen in CI)."""
        import time

        from sqlalchemy import func, select

        from core.db import db
        from core.models import Job

        deadline = time.monotonic() + timeout
        with self.app.app_context():
            while db.session.scalar(select(func.count()).select_from(Job)
                                    .where(Job.state.in_(("pending", "running")))):
                db.session.remove()
                assert time.monotonic() < deadline, "the demo's jobs did not end"
                time.sleep(0.1)
            db.session.remove()

    def close(self) -> None:
        from core.db import db

        with self.app.app_context():
            db.engine.dispose()


def snapshot(url: str) -> Snapshot:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            return {t: [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{t}"'))] for t in tables}
    finally:
        engine.dispose()


def version(url: str) -> str | None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def same_where_both_have(before: Snapshot, after: Snapshot) -> None:
    """Every table that exists afterwards holds exactly the rows it held before (on the columns it has)."""
    lost = {t for t in after if not after[t] and before.get(t)}
    assert not lost, f"tables emptied: {sorted(lost)}"
    for table in after:
        if table in before:
            # Compare on the columns both sides have: a later revision may add a column (with its default).
            columns = set(after[table][0]) if after[table] else set()
            if before[table]:
                columns &= set(before[table][0])
            mine = sorted(repr(sorted((k, v) for k, v in r.items() if k in columns)) for r in before[table])
            theirs = sorted(repr(sorted((k, v) for k, v in r.items() if k in columns)) for r in after[table])
            assert mine == theirs, f"{table}: rows changed"


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'walk.sqlite3'}"
        return
    name = f"ruamsue_walk_{uuid.uuid4().hex[:8]}"
    _admin_exec(f'CREATE DATABASE "{name}"')
    try:
        yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_migration_applies_on_the_demo_data_and_the_last_one_round_trips(empty_database: str) -> None:
    url, chain = empty_database, revisions()
    walker = Walker(url)
    try:
        walk(walker, url, chain)
    finally:
        walker.close()


def walk(walker: Walker, url: str, chain: list[str]) -> None:
    walker.migrate("upgrade")
    walker.seed()
    full = snapshot(url)
    assert sum(len(rows) for rows in full.values()) > 50, "the demo wrote nothing"

    # The last migration down and up again, on the whole demo.
    if len(chain) > 1:
        walker.migrate("downgrade", chain[-2])
        assert version(url) == chain[-2]
        before_last = snapshot(url)
        same_where_both_have(full, before_last)
        walker.migrate("upgrade")
        assert version(url) == chain[-1]
        again = snapshot(url)
        same_where_both_have(full, {t: again[t] for t in before_last})

    # Back to the first revision: the demo's rows in the tables it has stay.
    walker.migrate("downgrade", chain[0])
    assert version(url) == chain[0]
    at_first = snapshot(url)
    assert any(at_first.values()), "nothing left to migrate"
    same_where_both_have(full, at_first)

    # Every later migration, one at a time, with that data in the database.
    for revision in chain[1:]:
        walker.migrate("upgrade", revision)
        assert version(url) == revision
        same_where_both_have(at_first, snapshot(url))
