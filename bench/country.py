"""Out to a country: one national round combined per supplier by Celery workers, with 2 processes and with 1.

    python -m bench.country --lines 200000          # validation size (about a minute)
    python -m bench.country --lines 5000000         # the national round (several minutes, GBs of disk)

A throwaway database is built by the migrations and filled with COPY: ``--suppliers`` suppliers
(default 10) with ``--offers`` offers (default 200, three price tiers each, every fifth with a minimum),
and as many groups as it takes for each group to order ``--lines-per-group`` of the offers (default
50: 5,000,000 lines are 100,000 groups, the national case of docs/performance.md).

The round is then combined by a real Celery worker (Redis broker, its own queue) through the job's
public entry point only: ``jobs.enqueue("combine_round", {"round_id": ...})``, exactly what closing a
round sends. With jobs on Celery, a round of ``COMBINE_PARTS_MIN_LINES`` lines or more (200,000 by
default; the setting is left as it is) is combined as one ``combine_round_part`` job per supplier, which
the worker's processes share; the coordinating job waits for them and writes the invoices. For each
worker size (``--workers``, default ``2,1``) the round is reset, the worker started, the job sent and
timed to the round being ``combined``; then, before the worker stops, the peak memory (``VmHWM`` of
``/proc/<pid>/status``) of every worker process and of every PostgreSQL backend connected to the
database is read. A backend's peak includes the shared buffers it touched (``shared_buffers`` is
printed beside it), so its private part is bounded by the difference.

Nothing here imports the combine's internals, so a change of its SQL does not break the benchmark.
Needs PostgreSQL (``BENCH_ADMIN_URL``) and Redis (``BENCH_REDIS_URL``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _one(cur: psycopg.Cursor[Any]) -> int:
    row = cur.fetchone()
    assert row is not None
    return int(row[0])


def generate(conn: psycopg.Connection[Any], lines: int, offers: int, suppliers: int, per_group: int) -> dict[str, Any]:
    """A closed national round of ``lines`` order lines; returns its ids and sizes."""
    per_group = min(per_group, offers)
    groups = max(1, -(-lines // per_group))
    cur = conn.cursor()
    cur.execute("INSERT INTO networks (name, timezone, fee_percent, created_at) "
                "VALUES ('country', 'Asia/Bangkok', 1, now()) RETURNING id")
    net = _one(cur)
    cur.execute("INSERT INTO products (network_id, name, unit, category) VALUES (%s, 'urea', 'sack', '') "
                "RETURNING id", (net,))
    product = _one(cur)
    supplier_ids = []
    for i in range(suppliers):
        cur.execute("INSERT INTO suppliers (network_id, name, phone) VALUES (%s, %s, '') RETURNING id",
                    (net, f"Supplier {i}"))
        supplier_ids.append(_one(cur))
    cur.execute("INSERT INTO buying_rounds (network_id, name, state, closes_at, created_at) "
                "VALUES (%s, 'national round', 'closed', now(), now()) RETURNING id", (net,))
    rnd = _one(cur)
    offer_ids = []
    for i in range(offers):
        cur.execute("INSERT INTO offers (round_id, product_id, supplier_id, pack_size, min_quantity, "
                    "reference_price, delivery_fee) VALUES (%s, %s, %s, %s, %s, 50.00, 100.00) RETURNING id",
                    (rnd, product, supplier_ids[i % suppliers], 5 + i % 7, 3000 if i % 5 == 0 else 0))
        offer = _one(cur)
        offer_ids.append(offer)
        cur.execute("INSERT INTO price_tiers (offer_id, min_quantity, unit_price) VALUES "
                    "(%s, 0, 45.00), (%s, 1000, 43.00), (%s, 10000, 41.25)", (offer, offer, offer))
    with cur.copy("COPY groups (network_id, name, kind, district, subdistrict, members, registered_poor_members, "
                  "created_at) FROM STDIN") as copy:
        for g in range(groups):
            copy.write_row((net, f"G{g}", "other", "", "", 20, 5, "2026-11-01 00:00:00+00"))
    cur.execute("SELECT min(id) FROM groups WHERE network_id = %s", (net,))
    first_group = _one(cur)
    with cur.copy("COPY group_orders (round_id, group_id, created_at, updated_at) FROM STDIN") as copy:
        for g in range(groups):
            copy.write_row((rnd, first_group + g, "2026-11-01 00:00:00+00", "2026-11-01 00:00:00+00"))
    cur.execute("SELECT min(id) FROM group_orders WHERE round_id = %s", (rnd,))
    first_order = _one(cur)
    n = 0
    with cur.copy("COPY order_lines (group_order_id, offer_id, quantity, tolerance, placed_at) FROM STDIN") as copy:
        for g in range(groups):
            start = (g * 37) % offers  # each group its own window of consecutive offers
            for k in range(per_group):
                if n >= lines:
                    break
                o = offer_ids[(start + k) % offers]
                copy.write_row((first_order + g, o, 1 + (g * 7 + o) % 23, (g + o) % 4,
                                f"2026-11-01 {(g // 3600) % 24:02d}:{(g // 60) % 60:02d}:{g % 60:02d}+00"))
                n += 1
    conn.commit()
    out: dict[str, Any] = {"round_id": rnd, "groups": groups, "lines": n, "offers": offers, "suppliers": suppliers}
    return out


# Runs in a child with the worker's environment: reset the round, send the combine, wait for it.
_SENDER = """
import json, sys, time
import psycopg
from sqlalchemy import text
from core import create_app, jobs
from core.db import db
rnd = int(sys.argv[1])
app = create_app({"JOBS_MODE": "celery"})
with app.app_context():
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE allocations, invoices, purchase_order_lines, purchase_orders CASCADE")
        conn.execute("DELETE FROM jobs")
        conn.execute("UPDATE buying_rounds SET state = 'closed', combined_at = NULL WHERE id = %s", (rnd,))
        conn.execute("CHECKPOINT")
    start = time.perf_counter()
    job = jobs.enqueue("combine_round", {"round_id": rnd}, dedupe_key=f"combine:{rnd}")
    db.session.commit()
    while True:
        state, result = db.session.execute(text("SELECT state, result FROM jobs WHERE id = :id"),
                                           {"id": job.id}).one()
        db.session.rollback()
        if state in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    assert state == "succeeded", (state, result)
    assert db.session.execute(text("SELECT state FROM buying_rounds WHERE id = :r"), {"r": rnd}).scalar() \\
        == "combined"
    counts = db.session.execute(text(
        "SELECT (SELECT count(*) FROM allocations WHERE round_id = :r), "
        "(SELECT count(*) FROM purchase_orders WHERE round_id = :r), "
        "(SELECT count(*) FROM invoices WHERE round_id = :r), "
        "(SELECT count(*) FROM jobs WHERE kind = 'combine_round_part' AND state = 'succeeded')"), {"r": rnd}).one()
    sizes = db.session.execute(text(
        "SELECT pg_relation_size('allocations'), pg_indexes_size('allocations'), "
        "pg_total_relation_size('order_lines'), pg_total_relation_size('invoices')")).one()
print(json.dumps({"seconds": elapsed, "result": result, "allocations": counts[0], "purchase_orders": counts[1],
                  "invoices": counts[2], "part_jobs": counts[3],
                  "mb": {"allocations": sizes[0] // 2**20, "allocations_key": sizes[1] // 2**20,
                         "order_lines_with_indexes": sizes[2] // 2**20, "invoices": sizes[3] // 2**20}}))
"""


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """The process's descendants (the prefork pool of a Celery worker), from /proc."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _backends(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]


def combine_on_workers(url: str, round_id: int, concurrency: int) -> dict[str, Any]:
    """Start a Celery worker with ``concurrency`` processes, combine the round through it, read peaks."""
    queue = f"ruamsue-country-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS, CELERY_QUEUE=queue,
               RUAMSUE_INSTANCE=tempfile.mkdtemp(prefix="ruamsue-country-"))
    log = Path(env["RUAMSUE_INSTANCE"]) / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", queue, "-c", str(concurrency),
         "--pool", "prefork", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING",
         "-n", f"country-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)  # noqa: SIM115
    try:
        deadline = time.monotonic() + 90
        while len(_children(proc.pid)) < concurrency:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the Celery worker did not start; see {log}")
            time.sleep(0.2)
        time.sleep(1.0)  # the pool's processes are up; let them connect to the broker
        sender = subprocess.run([sys.executable, "-c", _SENDER, str(round_id)], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        if sender.returncode != 0:
            raise RuntimeError(sender.stderr[-3000:])
        out: dict[str, Any] = json.loads(sender.stdout.strip().splitlines()[-1])
        workers = [proc.pid, *_children(proc.pid)]
        out["worker_hwm_kb"] = {pid: _status_kb(pid, "VmHWM") for pid in workers}
        backends = _backends(url)
        out["backend_hwm_kb"] = {pid: _status_kb(pid, "VmHWM") for pid in backends}
        out["backend_anon_kb"] = {pid: _status_kb(pid, "RssAnon") for pid in backends}
        out["concurrency"] = concurrency
        return out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


def run(lines: int, offers: int, suppliers: int, per_group: int, workers: list[int]) -> dict[str, Any]:
    name = f"ruamsue_country_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = f"{ADMIN.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = dict(os.environ, DATABASE_URL=url, RUAMSUE_INSTANCE=tempfile.mkdtemp(prefix="ruamsue-country-"))
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            seeded = generate(conn, lines, offers, suppliers, per_group)
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            shared = conn.execute("SHOW shared_buffers").fetchone()
        seeded["seed_seconds"] = time.perf_counter() - started
        seeded["database_mb_before"] = int(size[0]) // 2**20 if size else 0
        seeded["shared_buffers"] = shared[0] if shared else "?"
        seeded["runs"] = [combine_on_workers(url, seeded["round_id"], n) for n in workers]
        with psycopg.connect(url) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            seeded["database_mb_after"] = int(size[0]) // 2**20 if size else 0
        return seeded
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(result: dict[str, Any]) -> str:
    out = [f"National round: {result['lines']:,} lines, {result['groups']:,} groups, {result['offers']} offers of "
           f"{result['suppliers']} suppliers; seeded in {result['seed_seconds']:.0f} s; database "
           f"{result['database_mb_before']:,} MB before, {result['database_mb_after']:,} MB after "
           f"(shared_buffers {result['shared_buffers']})"]
    for r in result["runs"]:
        worker = r["worker_hwm_kb"]
        backend = r["backend_hwm_kb"]
        out.append(
            f"  {r['concurrency']} worker process{'es' if r['concurrency'] > 1 else ''}: {r['seconds']:8.1f} s  "
            f"({result['lines'] / r['seconds']:,.0f} lines/s; "
            f"{(r['result'] or {}).get('parts', 1)} parts, {r['purchase_orders']} purchase orders, "
            f"{r['allocations']:,} allocations, {r['invoices']:,} invoices)")
        out.append("      peak RSS (VmHWM) of the worker processes: "
                   + ", ".join(f"{kb / 1024:.0f}" for kb in worker.values()) + " MB"
                   + f"; of the {len(backend)} PostgreSQL backends: "
                   + ", ".join(f"{kb / 1024:.0f}" for kb in sorted(backend.values(), reverse=True)) + " MB"
                   + " (private now: " + ", ".join(
                       f"{kb / 1024:.0f}" for kb in sorted(r["backend_anon_kb"].values(), reverse=True)) + " MB)")
    if result["runs"]:
        mb = result["runs"][-1]["mb"]
        out.append(f"  sizes after the combine: allocations {mb['allocations']:,} MB + its key "
                   f"{mb['allocations_key']:,} MB; order lines with their indexes {mb['order_lines_with_indexes']:,} MB; "
                   f"invoices {mb['invoices']:,} MB")
    if len(result["runs"]) == 2:
        a, b = result["runs"]
        out.append(f"  {a['concurrency']} vs {b['concurrency']} processes: x{b['seconds'] / a['seconds']:.2f} "
                   f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000, help="order lines in the round (default 200,000)")
    parser.add_argument("--offers", type=int, default=200)
    parser.add_argument("--suppliers", type=int, default=10)
    parser.add_argument("--lines-per-group", type=int, default=50)
    parser.add_argument("--workers", default="2,1", help="Celery worker process counts, in order (default 2,1)")
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON too")
    args = parser.parse_args(argv)
    if not 1 <= args.lines <= 20_000_000 or args.suppliers < 1 or args.offers < args.suppliers:
        parser.error("1 <= --lines <= 20,000,000 and --offers >= --suppliers >= 1")
    workers = [int(x) for x in args.workers.split(",") if x]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    result = run(args.lines, args.offers, args.suppliers, args.lines_per_group, workers)
    print(report(result))
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
