"""``flask backup create`` and ``flask backup restore``: a PostgreSQL dump you can trust.

``create`` writes ``FILE`` (``pg_dump`` custom format) and ``FILE.manifest.json``: when it was taken,
the Alembic revision, the row count of every table and the dump's SHA-256. The counts and the dump
come from one snapshot (``pg_export_snapshot`` + ``pg_dump --snapshot``), so they agree exactly even
while the service keeps writing.

``restore FILE`` checks the manifest and the checksum, refuses a database that is not empty, and
restores all or nothing: ``pg_restore`` writes the dump as SQL, ``psql`` runs it and then compares every
table's row count and the migration revision with the manifest, all in one transaction, so a failed
check (or a failed restore) leaves the target exactly as it was.

The embedded SQLite default has no ``backup`` command of its own: copy the file with SQLite's online
backup (``sqlite3 instance/ruamsue.sqlite3 ".backup copy.sqlite3"``); the commands say so.
Table-generic: nothing here knows a domain's tables.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Connection, make_url, text
from sqlalchemy.engine import URL

FORMAT = "ruamsue-backup/1"
backup_cli = AppGroup("backup", help="Back up the PostgreSQL database, and restore a backup into an empty one.")


class BackupError(click.ClickException):
    """A clear message, exit status 1, no traceback."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    revision: str | None
    tables: dict[str, int]
    dump_sha256: str
    dump_bytes: int
    server_version: str

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "created_at": self.created_at, "alembic_revision": self.revision,
                           "tables": self.tables, "rows": self.rows, "dump_sha256": self.dump_sha256,
                           "dump_bytes": self.dump_bytes, "server_version": self.server_version},
                          indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        if not path.exists():
            raise BackupError(f"The manifest {path} is missing; it is written beside the dump by 'backup create'.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} manifest")
            tables = data["tables"]
            if not isinstance(tables, dict) or not all(
                    isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in tables.items()):
                raise ValueError("tables must map each table name to a row count")
            revision = data["alembic_revision"]
            if revision is not None and not isinstance(revision, str):
                raise ValueError("alembic_revision must be a string")
            return cls(created_at=str(data["created_at"]), revision=revision, tables=tables,
                       dump_sha256=str(data["dump_sha256"]), dump_bytes=int(data["dump_bytes"]),
                       server_version=str(data.get("server_version", "")))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise BackupError(f"The manifest {path} is damaged ({exc}); this backup cannot be checked.") from exc


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def _database_url() -> URL:
    url = make_url(str(current_app.config["SQLALCHEMY_DATABASE_URI"]))
    if url.get_backend_name() != "postgresql":
        raise BackupError(
            "Backups are for PostgreSQL (DATABASE_URL). The embedded SQLite demo is one file: copy it with "
            "sqlite3 instance/ruamsue.sqlite3 \".backup copy.sqlite3\" (see docs/operations.md).")
    return url


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password (which goes in PGPASSWORD, not on a command line)."""
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH; install the PostgreSQL client (Debian: apt-get install postgresql-client).")
    return found


def _tables(conn: Connection) -> list[str]:
    return list(conn.execute(text(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).scalars())


def count_rows(conn: Connection) -> dict[str, int]:
    """Every table of the schema and its exact row count."""
    counts = {}
    for table in _tables(conn):
        quoted = conn.dialect.identifier_preparer.quote(table)
        counts[table] = int(conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())
    return counts


def _revision(conn: Connection, tables: list[str] | dict[str, int]) -> str | None:
    if "alembic_version" not in tables:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Result:
    dump: Path
    manifest: Manifest
    seconds: float


def create(output: Path) -> Result:
    """Dump the database and write its manifest; both from one snapshot."""
    from core.db import db

    url = _database_url()
    pg_dump = _tool("pg_dump")
    if output.exists():
        raise BackupError(f"{output} exists already; choose another --output (a backup is never overwritten).")
    if not output.parent.is_dir():
        raise BackupError(f"The folder {output.parent} does not exist.")
    started = time.perf_counter()
    dsn, env = _libpq(url)
    partial = output.with_name(output.name + ".partial")
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            tables = count_rows(conn)
            revision = _revision(conn, tables)
            server = str(conn.execute(text("SHOW server_version")).scalar_one())
            done = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                                   f"--snapshot={snapshot}", f"--file={partial}", f"--dbname={dsn}"],
                                  env=env, capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    partial.rename(output)
    manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"), revision=revision,
                        tables=tables, dump_sha256=_sha256(output), dump_bytes=output.stat().st_size,
                        server_version=server)
    manifest_path(output).write_text(manifest.to_json(), encoding="utf-8")
    return Result(output, manifest, time.perf_counter() - started)


def restore(dump: Path) -> Result:
    """Restore into the (empty) database of DATABASE_URL and check every table's row count."""
    from core.db import db

    url = _database_url()
    if not dump.is_file():
        raise BackupError(f"{dump} does not exist or is not a file.")
    manifest = Manifest.read(manifest_path(dump))
    if dump.stat().st_size != manifest.dump_bytes or _sha256(dump) != manifest.dump_sha256:
        raise BackupError(f"{dump} is not the file its manifest describes (size or SHA-256 differ): damaged or replaced.")
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    with db.engine.connect() as conn:
        present = _tables(conn)
    if present:
        raise BackupError(
            f"The database {url.database} is not empty ({len(present)} tables, e.g. {', '.join(present[:3])}). "
            "Restore only into a new, empty database (createdb NAME, then DATABASE_URL=.../NAME).")
    started = time.perf_counter()
    dsn, env = _libpq(url)
    done = _restore_checked(pg_restore, psql, dsn, env, dump, manifest)
    if done.returncode != 0:
        raise BackupError(_restore_problem(done.stderr))
    db.engine.dispose()  # the schema changed under any pooled connection
    return Result(dump, manifest, time.perf_counter() - started)


# Run inside the restore's own transaction, after the data: every table's row count and the migration
# revision against the manifest. A difference raises, psql stops, and the transaction (tables and all)
# is rolled back, so the target is exactly as it was and a retry is not refused as "not empty".
_CHECK = """
RESET search_path;
SELECT set_config('ruamsue.tables', :'tables', true), set_config('ruamsue.revision', :'revision', true) \\g /dev/null
DO $ruamsue_check$
DECLARE
    expected jsonb := current_setting('ruamsue.tables')::jsonb;
    revision text := NULLIF(current_setting('ruamsue.revision'), '');
    found jsonb := '{}'::jsonb;
    got text;
    n bigint;
    t text;
    differ text;
BEGIN
    FOR t IN SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() LOOP
        EXECUTE format('SELECT count(*) FROM %I', t) INTO n;
        found := found || jsonb_build_object(t, n);
    END LOOP;
    SELECT string_agg(format('%s: expected %s, found %s', k, COALESCE(expected ->> k, 'none'),
                             COALESCE(found ->> k, 'none')), ', ' ORDER BY k) INTO differ
      FROM (SELECT jsonb_object_keys(expected) AS k UNION SELECT jsonb_object_keys(found)) AS keys
     WHERE (expected -> k) IS DISTINCT FROM (found -> k);
    IF differ IS NOT NULL THEN
        RAISE EXCEPTION 'ruamsue-check: The restored database does not match the manifest: %.', differ;
    END IF;
    IF to_regclass('alembic_version') IS NOT NULL THEN
        EXECUTE 'SELECT max(version_num) FROM alembic_version' INTO got;
    END IF;
    IF got IS DISTINCT FROM revision THEN
        RAISE EXCEPTION 'ruamsue-check: The restored migration revision % is not the manifest''s %.',
            COALESCE(got, 'none'), COALESCE(revision, 'none');
    END IF;
END
$ruamsue_check$;
"""


def _restore_checked(pg_restore: str, psql: str, dsn: str, env: dict[str, str], dump: Path,
                     manifest: Manifest) -> subprocess.CompletedProcess[str]:
    """pg_restore writes the dump as SQL; psql runs it and then the checks, all in one transaction."""
    producer = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    consumer = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
                                 f"--set=tables={json.dumps(manifest.tables)}",
                                 f"--set=revision={manifest.revision or ''}", f"--dbname={dsn}", "--file=-"],
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert producer.stdout is not None and consumer.stdin is not None
    try:
        for block in iter(lambda: producer.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
            consumer.stdin.write(block)
        producer.wait()
        if producer.returncode == 0:
            consumer.stdin.write(_CHECK.encode())
        else:
            # The dump could not be read to its end: stop psql with an error, so nothing is committed.
            consumer.stdin.write(b"SELECT 1/0; -- the dump could not be read to its end\n")
    except BrokenPipeError:
        # psql stopped on an error (its message says why): pg_restore, writing on, gets a broken pipe too.
        producer.stdout.close()
    try:
        consumer.stdin.close()
    except BrokenPipeError:
        pass
    err = consumer.stderr.read() if consumer.stderr else b""
    consumer.wait()
    producer.wait()
    produced = producer.stderr.read().decode(errors="replace") if producer.stderr else ""
    stderr = err.decode(errors="replace").strip()
    if produced.strip():
        stderr += f"\npg_restore: {produced.strip()}"
    return subprocess.CompletedProcess(consumer.args, consumer.returncode or producer.returncode, "", stderr)


def _restore_problem(stderr: str) -> str:
    for line in stderr.splitlines():
        if "ruamsue-check: " in line:
            return line.split("ruamsue-check: ", 1)[1].strip() + " Nothing was restored."
    return f"The restore failed; nothing was restored: {stderr.strip()[-2000:]}"


def _guarded(action: Callable[[], Result]) -> Result:
    """A database that cannot be reached is a clear message, not a traceback."""
    from sqlalchemy.exc import OperationalError

    try:
        return action()
    except OperationalError as exc:
        raise BackupError(f"Cannot reach the database: {str(exc.orig).strip().splitlines()[0]}") from exc


def _summary(result: Result) -> str:
    m = result.manifest
    return (f"{len(m.tables)} tables, {m.rows:,} rows, {m.dump_bytes / 1e6:,.1f} MB, revision {m.revision}, "
            f"{result.seconds:.1f} s")


@backup_cli.command("create")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The dump file (default: ruamsue-YYYYMMDDTHHMMSSZ.dump in the current folder).")
def create_command(output: Path | None) -> None:
    """Dump the database (pg_dump custom format) with a manifest beside it."""
    if output is None:
        output = Path(f"ruamsue-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.dump")
    result = _guarded(lambda: create(output.resolve()))
    click.echo(f"backup written: {result.dump} and {manifest_path(result.dump).name}: {_summary(result)}")


@backup_cli.command("restore")
@click.argument("dump", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(dump: Path) -> None:
    """Restore DUMP into the empty database of DATABASE_URL and check its row counts."""
    result = _guarded(lambda: restore(dump.resolve()))
    click.echo(f"restored {result.dump.name}, counts match the manifest: {_summary(result)}")
    if result.manifest.revision:
        click.echo("If this code is newer than the backup, run: flask --app wsgi db upgrade")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_cli)
