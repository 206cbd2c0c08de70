"""Upgrades with data: every migration, first to last, applied on a database holding the demo network,
then the last one downgraded and applied again, with nothing lost.

Generic: the revisions come from the migrations folder, so a new migration is walked without touching
this test. A downgrade drops what its revision added (tables, columns); every other row and column must
come back exactly as it was.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from tests.conftest import ADMIN_URL, ROOT, _admin_exec

Snapshot = dict[str, list[dict[str, Any]]]


def revisions() -> list[str]:
    """Every revision, first to last; one line of history (one head)."""
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def flask(url: str, instance: Path, *args: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, RUAMSUE_INSTANCE=str(instance))
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"flask {' '.join(args)}: {done.stderr[-3000:]}"


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


def project(snap: Snapshot, shape: Snapshot) -> dict[str, list[str]]:
    """``snap`` cut down to the tables and columns ``shape`` has, each table's rows in a stable order."""
    out = {}
    for table, rows in shape.items():
        columns = set(rows[0]) if rows else None
        kept = [{k: v for k, v in r.items() if columns is None or k in columns} for r in snap.get(table, [])]
        out[table] = sorted(repr(sorted(r.items())) for r in kept)
    return out


def same_where_both_have(before: Snapshot, after: Snapshot) -> None:
    """Every table that exists afterwards holds exactly the rows it held before (on the columns it has)."""
    lost = {t for t in after if not after[t] and before.get(t)}
    assert not lost, f"tables emptied: {sorted(lost)}"
    mine, theirs = project(before, after), project(after, after)
    for table in after:
        if table in before:
            assert mine[table] == theirs[table], f"{table}: rows changed"


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


def test_every_migration_applies_on_the_demo_data_and_the_last_one_round_trips(
        empty_database: str, tmp_path: Path) -> None:
    url, chain = empty_database, revisions()
    flask(url, tmp_path, "db", "upgrade")
    flask(url, tmp_path, "demo", "seed")
    at_head = snapshot(url)
    assert sum(len(rows) for rows in at_head.values()) > 50, "the demo wrote nothing"

    # Back to the first revision: the demo's rows in the tables it has stay.
    flask(url, tmp_path, "db", "downgrade", chain[0])
    assert version(url) == chain[0]
    at_first = snapshot(url)
    assert any(at_first.values()), "nothing left to migrate"
    same_where_both_have(at_head, at_first)

    # Every later migration, one at a time, on that data.
    for revision in chain[1:]:
        flask(url, tmp_path, "db", "upgrade", revision)
        assert version(url) == revision
        same_where_both_have(at_first, snapshot(url))

    # The demo again on top (whatever the later revisions hold), then the last one down and up again.
    flask(url, tmp_path, "demo", "seed")
    full = snapshot(url)
    if len(chain) > 1:
        flask(url, tmp_path, "db", "downgrade", chain[-2])
        assert version(url) == chain[-2]
        same_where_both_have(full, snapshot(url))
        flask(url, tmp_path, "db", "upgrade")
        assert version(url) == chain[-1]
        kept = snapshot(url)
        same_where_both_have(full, {t: kept[t] for t in kept if t in full})
