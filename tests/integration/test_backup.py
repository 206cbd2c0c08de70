"""Backups proven by a restore: the demo network after a combined round, a delivery, sales and a
reviewed summary is dumped, restored into a new database, and found again row for row."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import select

from tests.conftest import ADMIN_URL, ROOT, _admin_exec, _instance, _make_app

# What a treasurer would look for after a restore, compared row for row.
COMPARED = ("purchase_orders", "purchase_order_lines", "allocations", "invoices", "market_purchases",
            "monthly_summaries", "audit_events")


def _url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def flask(url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RUAMSUE_INSTANCE=_instance)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if url:
        env["DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def rows(url: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, str]]:
    names = {k: f"ruamsue_backup_{k}_{uuid.uuid4().hex[:8]}" for k in ("source", "target", "spare")}
    for name in names.values():
        _admin_exec(f'CREATE DATABASE "{name}"')
    try:
        yield {k: _url(v) for k, v in names.items()}
    finally:
        for name in names.values():
            _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def backup(databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo network on the source database, with its summary reviewed, dumped."""
    source = databases["source"]
    for step in (("db", "upgrade"), ("demo", "seed")):
        done = flask(source, *step)
        assert done.returncode == 0, done.stderr[-2000:]
    app = _make_app(source)
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"email": "committee@ruamsue.demo", "password": "ruamsue-demo"})
    assert token.status_code == 201, token.get_data(as_text=True)
    committee = {"Authorization": f"Bearer {token.json['token']}"}
    with psycopg.connect(source) as conn:
        received = conn.execute("SELECT max(received_at) FROM purchase_orders").fetchone()
    assert received is not None and received[0] is not None, "the demo has no delivery"
    local = received[0].astimezone(ZoneInfo("Asia/Bangkok"))
    month = f"{local.year:04d}-{local.month:02d}"
    # Reading never stores, whatever the day: the demo summarises last month as the month-end job does,
    # so the delivery month may be stored already or not; a read must leave the stored months as they were.
    stored = rows(source, "monthly_summaries")
    summary = client.get(f"/api/v1/summaries/{month}", headers=committee)
    assert summary.status_code == 200, summary.get_data(as_text=True)
    assert rows(source, "monthly_summaries") == stored
    with psycopg.connect(source) as conn:
        kept = conn.execute("SELECT count(*) FROM monthly_summaries WHERE month = %s", (month,)).fetchone()
    assert kept is not None and summary.json["provisional"] is (kept[0] == 0)
    with app.app_context():
        from core.db import db as database
        from network.models import Network
        from reports.services import build_summary

        network = database.session.scalars(select(Network)).one()
        build_summary(network.id, month)
    reviewed = client.post(f"/api/v1/summaries/{month}/review", headers=committee, json={
        "meeting_date": (local + timedelta(days=3)).date().isoformat(), "attendance": 17,
        "notes": "รับรองสรุปยอดก่อนสำรองข้อมูล"})
    assert reviewed.status_code == 200, reviewed.get_data(as_text=True)
    from core.db import db

    with app.app_context():
        db.engine.dispose()
    dump = tmp_path_factory.mktemp("backup") / "ruamsue.dump"
    made = flask(source, "backup", "create", "--output", str(dump))
    assert made.returncode == 0, made.stderr[-2000:]
    return {"dump": dump, "output": made.stdout, "month": month, "source": source}


def test_restore_finds_the_same_orders_invoices_and_summaries(databases: dict[str, str], backup: dict[str, Any]) -> None:
    import json

    manifest = json.loads(Path(str(backup["dump"]) + ".manifest.json").read_text())
    assert manifest["format"] == "ruamsue-backup/1" and manifest["alembic_revision"]
    source, target = databases["source"], databases["target"]
    for table in COMPARED:
        assert manifest["tables"][table] == len(rows(source, table)) > 0, table
    done = flask(target, "backup", "restore", str(backup["dump"]))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "counts match the manifest" in done.stdout
    print(f"\n{backup['output'].strip()}\n{done.stdout.strip()}")
    for table in COMPARED:
        assert rows(target, table) == rows(source, table), table
    summaries = rows(target, "monthly_summaries")
    with psycopg.connect(target) as conn:
        reviewed = conn.execute("SELECT month, attendance, reviewed_at IS NOT NULL FROM monthly_summaries "
                                "WHERE reviewed_at IS NOT NULL").fetchall()
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert summaries and len(reviewed) == 1 and reviewed[0][1] == 17
    assert version is not None and version[0] == manifest["alembic_revision"]
    # The restored database serves: the committee reads the same reviewed summary over the API.
    app = _make_app(target)
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"email": "committee@ruamsue.demo", "password": "ruamsue-demo"})
    assert token.status_code == 201
    got = client.get(f"/api/v1/summaries/{backup['month']}", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert got.status_code == 200 and got.json["reviewed_at"] is not None and got.json["attendance"] == 17
    from core.db import db

    with app.app_context():
        db.engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(databases: dict[str, str], backup: dict[str, Any]) -> None:
    before = rows(databases["source"], "invoices")
    done = flask(databases["source"], "backup", "restore", str(backup["dump"]))
    assert done.returncode == 1
    assert "is not empty" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert rows(databases["source"], "invoices") == before


def _cli(url: str | None, *args: str) -> Any:
    if url is None:
        app = _make_app("sqlite:///" + str(Path(_instance) / "backup-test.sqlite3"))
    else:
        app = _make_app(url)
    result = app.test_cli_runner().invoke(args=list(args))
    from core.db import db

    with app.app_context():
        db.engine.dispose()
    # A clear message and a non-zero status: click's own exit, never an exception with a traceback.
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def test_bad_input_is_a_clear_error(databases: dict[str, str], backup: dict[str, Any], tmp_path: Path) -> None:
    spare = databases["spare"]
    missing = _cli(spare, "backup", "restore", str(tmp_path / "nothing.dump"))
    assert "does not exist" in missing.output

    copy = tmp_path / "copy.dump"
    shutil.copy(backup["dump"], copy)
    assert "manifest" in _cli(spare, "backup", "restore", str(copy)).output and "missing" in \
        _cli(spare, "backup", "restore", str(copy)).output
    manifest = Path(str(copy) + ".manifest.json")
    manifest.write_text('{"format": "ruamsue-backup/1", "tables": ')
    assert "is damaged" in _cli(spare, "backup", "restore", str(copy)).output
    manifest.write_text('{"format": "ruamsue-backup/1", "tables": {"invoices": "many"}}')
    assert "is damaged" in _cli(spare, "backup", "restore", str(copy)).output

    shutil.copy(str(backup["dump"]) + ".manifest.json", manifest)
    with copy.open("r+b") as f:  # one byte changed in the middle of the dump
        f.seek(copy.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert "not the file its manifest describes" in _cli(spare, "backup", "restore", str(copy)).output

    exists = _cli(databases["source"], "backup", "create", "--output", str(backup["dump"]))
    assert "exists already" in exists.output
    gone = _cli(_url("ruamsue_backup_no_such_database"), "backup", "restore", str(backup["dump"]))
    assert "Cannot reach the database" in gone.output
    sqlite = _cli(None, "backup", "create")
    assert "PostgreSQL" in sqlite.output and ".backup" in sqlite.output
    with psycopg.connect(spare) as conn:  # nothing of all that reached the spare database
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


@pytest.mark.parametrize("tamper", ["counts", "revision"])
def test_a_failed_check_leaves_the_target_as_it_was(backup: dict[str, Any], tmp_path: Path, tamper: str) -> None:
    """A manifest that the restored data does not match: exit 1, and the target is still empty, so the
    retry with the right manifest is not refused as "not empty"."""
    import json

    name = f"ruamsue_backup_retry_{uuid.uuid4().hex[:8]}"
    _admin_exec(f'CREATE DATABASE "{name}"')
    try:
        target = _url(name)
        copy = tmp_path / "copy.dump"
        shutil.copy(backup["dump"], copy)
        manifest = json.loads(Path(str(backup["dump"]) + ".manifest.json").read_text())
        wrong = dict(manifest)
        if tamper == "counts":
            wrong["tables"] = dict(manifest["tables"], invoices=manifest["tables"]["invoices"] + 1)
        else:
            wrong["alembic_revision"] = "not_this_one"
        Path(str(copy) + ".manifest.json").write_text(json.dumps(wrong))
        failed = flask(target, "backup", "restore", str(copy))
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "Traceback" not in failed.stderr and ("invoices" in failed.stderr or "revision" in failed.stderr)
        with psycopg.connect(target) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
        Path(str(copy) + ".manifest.json").write_text(json.dumps(manifest))
        retried = flask(target, "backup", "restore", str(copy))
        assert retried.returncode == 0, retried.stderr[-2000:]
        assert rows(target, "invoices") == rows(backup_source(backup), "invoices")
    finally:
        _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backup_source(backup: dict[str, Any]) -> str:
    return str(backup["source"])
