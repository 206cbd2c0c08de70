"""Combine generated rounds on PostgreSQL and print each time beside two floors from the same run.

    python -m bench.combine_bench --lines 10000,100000,1000000 [--runs 3] [--workers 1,2]

For each size a throwaway database is built by the migrations and filled with COPY (40 offers of
4 suppliers with three price tiers, one group order of up to 40 lines per group). A fresh child
process then times, over the same rows, the median of ``--runs`` runs of:

* the bare ``SELECT offer_id, sum(quantity) ... GROUP BY offer_id``;
* the PHYSICAL floor: ``INSERT ... SELECT`` of one row per order line, with the allocation's columns,
  into a table with only a primary key (``bench_floor``), committed: writing the rows at all;
* the copy-through ``INSERT INTO allocations SELECT ... FROM order_lines`` (the same rows into the
  real table with its indexes and constraints; shows what the schema itself costs);
* ``orders.combine.combine_round`` (one job: purchase orders, allocations, fee split, invoices);

each into freshly truncated tables after a CHECKPOINT, and prints the child's peak RSS (the
process doing the work, data generation excluded) and the PostgreSQL backend's. Then, unless
``--workers ''``, the same round is combined as one part per supplier by a real Celery worker
(Redis broker) with 1 and with 2 worker processes: time from sending the job to the round being
combined. Needs PostgreSQL (``BENCH_ADMIN_URL``) and, for the workers, Redis (``BENCH_REDIS_URL``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
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
OFFERS = 40
SUPPLIERS = 4
INSTANCE = "/tmp/ruamsue-bench-instance"


def _one(cur: psycopg.Cursor[Any]) -> int:
    """The id a RETURNING or an aggregate just gave."""
    row = cur.fetchone()
    assert row is not None
    return int(row[0])


def _generate(conn: psycopg.Connection[Any], lines: int) -> int:
    groups = max(1, -(-lines // OFFERS))
    cur = conn.cursor()
    cur.execute("INSERT INTO networks (name, timezone, fee_percent, created_at) "
                "VALUES ('bench', 'Asia/Bangkok', 1, now()) RETURNING id")
    net = _one(cur)
    cur.execute("INSERT INTO products (network_id, name, unit, category) VALUES (%s, 'urea', 'sack', '') "
                "RETURNING id", (net,))
    product = _one(cur)
    suppliers = []
    for i in range(SUPPLIERS):
        cur.execute("INSERT INTO suppliers (network_id, name, phone) VALUES (%s, %s, '') RETURNING id",
                    (net, f"S{i}"))
        suppliers.append(_one(cur))
    cur.execute("INSERT INTO buying_rounds (network_id, name, state, closes_at, created_at) "
                "VALUES (%s, 'bench', 'closed', now(), now()) RETURNING id", (net,))
    rnd = _one(cur)
    offers = []
    for i in range(OFFERS):
        # Every third offer has a minimum it does not reach at 10k lines; fees on all.
        cur.execute("INSERT INTO offers (round_id, product_id, supplier_id, pack_size, min_quantity, "
                    "reference_price, delivery_fee) VALUES (%s, %s, %s, %s, %s, 50.00, 100.00) RETURNING id",
                    (rnd, product, suppliers[i % SUPPLIERS], 5 + i % 7, 3000 if i % 3 == 0 else 0))
        offer = _one(cur)
        offers.append(offer)
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
    with cur.copy("COPY order_lines (group_order_id, offer_id, quantity, tolerance, placed_at) FROM STDIN") as copy:
        n = 0
        for g in range(groups):
            for o in offers:
                if n >= lines:
                    break
                # Many equal placed_at seconds, so ties are broken by id too.
                copy.write_row((first_order + g, o, 1 + (g * 7 + o) % 23, (g + o) % 4,
                                f"2026-11-01 {(g // 3600) % 24:02d}:{(g // 60) % 60:02d}:{g % 60:02d}+00"))
                n += 1
    conn.commit()
    return rnd


# The physical floor's table: the allocation's columns, only a primary key.
FLOOR_TABLE = """CREATE TABLE IF NOT EXISTS bench_floor (
    order_line_id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL, group_id INTEGER NOT NULL,
    offer_id INTEGER NOT NULL, purchase_order_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
    ordered_allocation INTEGER NOT NULL, allocated INTEGER NOT NULL, unit_price NUMERIC(12, 2),
    reference_price NUMERIC(12, 2) NOT NULL, alone_price NUMERIC(12, 2) NOT NULL, fee_share NUMERIC(12, 2) NOT NULL,
    amount NUMERIC(12, 2) NOT NULL, savings NUMERIC(12, 2) NOT NULL)"""


# The same floor with the allocation's columns as they are now (money in satang, amount and savings not
# stored): what writing today's rows at all costs. Printed beside the floor above, for honesty.
FLOOR_TABLE_NOW = """CREATE TABLE IF NOT EXISTS bench_floor_now (
    order_line_id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL, group_id INTEGER NOT NULL,
    offer_id INTEGER NOT NULL, purchase_order_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
    ordered_allocation INTEGER NOT NULL, allocated INTEGER NOT NULL, unit_price_satang BIGINT,
    reference_price_satang BIGINT NOT NULL, alone_price_satang BIGINT NOT NULL, fee_share_satang BIGINT NOT NULL)"""


class _Rollback(Exception):
    pass


def _child(url: str, rnd: int, runs: int) -> dict[str, Any]:
    """Runs in a fresh process: floors and combine over the same rows; this process's peak RSS."""
    os.environ["DATABASE_URL"] = url
    os.environ["RUAMSUE_INSTANCE"] = INSTANCE
    from sqlalchemy import text

    from core import create_app
    from core.db import db
    from orders.combine import combine_round

    app = create_app({"JOBS_MODE": "manual"})
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(FLOOR_TABLE)
    conn.execute(FLOOR_TABLE_NOW)

    def reset() -> None:
        conn.execute("TRUNCATE allocations, invoices, purchase_order_lines, purchase_orders CASCADE")
        conn.execute("UPDATE buying_rounds SET state = 'closed', combined_at = NULL WHERE id = %s", (rnd,))
        conn.execute("CHECKPOINT")

    def group_by() -> float:
        start = time.perf_counter()
        conn.execute("SELECT l.offer_id, sum(l.quantity) FROM order_lines l JOIN offers o ON o.id = l.offer_id "
                     "WHERE o.round_id = %s GROUP BY l.offer_id", (rnd,)).fetchall()
        return time.perf_counter() - start

    def physical() -> float:
        conn.execute("TRUNCATE bench_floor")
        conn.execute("CHECKPOINT")
        start = time.perf_counter()
        conn.execute(
            "INSERT INTO bench_floor SELECT l.id, go.round_id, go.group_id, l.offer_id, 1, l.quantity, l.quantity, "
            "l.quantity, 45.00, 50.00, 45.00, 0, 0, 0 FROM order_lines l "
            "JOIN group_orders go ON go.id = l.group_order_id WHERE go.round_id = %s", (rnd,))
        elapsed = time.perf_counter() - start
        conn.execute("TRUNCATE bench_floor")
        return elapsed

    def physical_now() -> float:
        conn.execute("TRUNCATE bench_floor_now")
        conn.execute("CHECKPOINT")
        start = time.perf_counter()
        conn.execute(
            "INSERT INTO bench_floor_now SELECT l.id, go.round_id, go.group_id, l.offer_id, 1, l.quantity, "
            "l.quantity, l.quantity, 4500, 5000, 4500, 0 FROM order_lines l "
            "JOIN group_orders go ON go.id = l.group_order_id WHERE go.round_id = %s", (rnd,))
        elapsed = time.perf_counter() - start
        conn.execute("TRUNCATE bench_floor_now")
        return elapsed

    def copy_through() -> float:
        # A purchase order for the rows to point at (the combine writes its own).
        conn.execute("INSERT INTO purchase_orders (round_id, supplier_id, value, delivery_fee, network_fee, total, "
                     "created_at) SELECT %s, min(id), 0, 0, 0, 0, now() FROM suppliers", (rnd,))
        conn.execute("CHECKPOINT")
        start = time.perf_counter()
        try:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO allocations (order_line_id, round_id, group_id, offer_id, purchase_order_id, "
                    "quantity, ordered_allocation, allocated, unit_price_satang, reference_price_satang, "
                    "alone_price_satang, fee_share_satang) "
                    "SELECT l.id, go.round_id, go.group_id, l.offer_id, po.id, l.quantity, l.quantity, "
                    "l.quantity, 4500, 5000, 4500, 0 FROM order_lines l "
                    "JOIN group_orders go ON go.id = l.group_order_id, "
                    "(SELECT min(id) AS id FROM purchase_orders) po WHERE go.round_id = %s", (rnd,))
                raise _Rollback
        except _Rollback:
            pass
        return time.perf_counter() - start

    backend_pid = 0

    def combine() -> float:
        nonlocal backend_pid
        with app.app_context():
            backend_pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar() or 0
            db.session.rollback()
            start = time.perf_counter()
            combine_round(rnd, parts=False)
            elapsed = time.perf_counter() - start
            db.session.remove()
        return elapsed

    reset()
    combine()  # warm-up: imports, caches, plans
    out: dict[str, list[float]] = {"group_by": [], "physical": [], "physical_now": [], "copy_through": [],
                                   "combine": []}
    for _ in range(runs):
        reset()
        out["group_by"].append(group_by())
        out["physical"].append(physical())
        out["physical_now"].append(physical_now())
        out["copy_through"].append(copy_through())
        reset()
        out["combine"].append(combine())
    backend_kb = 0
    try:
        for line in Path(f"/proc/{backend_pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                backend_kb = int(line.split()[1])
    except OSError:
        pass
    return {**out, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "backend_kb": backend_kb}


def _workers(url: str, rnd: int, concurrency: int, runs: int, warm: int) -> list[float]:
    """Combine as one part per supplier on a real Celery worker with `concurrency` processes.

    ``warm`` runs first are not counted (worth it only where a run is short)."""
    queue = f"ruamsue-bench-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS, CELERY_QUEUE=queue, RUAMSUE_INSTANCE=INSTANCE,
               RUAMSUE_COMBINE_PARTS_MIN_LINES="1")
    log = Path(tempfile.mkdtemp(prefix="ruamsue-bench-")) / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", queue, "-c", str(concurrency),
         "--pool", "prefork", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
         "-n", f"bench-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)  # noqa: SIM115
    times: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log.read_bytes():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the Celery worker did not start; see {log}")
            time.sleep(0.2)
        sender = subprocess.run(
            [sys.executable, "-c", _SENDER, str(rnd), str(runs), str(warm)], cwd=ROOT, env=env, capture_output=True, text=True)
        if sender.returncode != 0:
            raise RuntimeError(sender.stderr[-2000:])
        times = json.loads(sender.stdout.strip().splitlines()[-1])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return times


# Runs in a child with the worker's environment: reset, enqueue the combine job, wait for "combined".
_SENDER = """
import json, sys, time
import psycopg
from sqlalchemy import text
from core import create_app, jobs
from core.db import db
rnd, runs, warm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app = create_app({"JOBS_MODE": "celery"})
times = []
with app.app_context():
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        # Jobs the in-process combine left were never sent (no worker then): nobody will run them.
        conn.execute("DELETE FROM jobs WHERE state = 'pending'")
    for _ in range(runs + warm):
        with psycopg.connect(url, autocommit=True) as conn:
            # The last run's follow-up jobs (the groups' messages) read these tables: truncating under them
            # deadlocks. Wait until every job has ended.
            while conn.execute("SELECT count(*) FROM jobs WHERE state NOT IN ('succeeded', 'failed')").fetchone()[0]:
                time.sleep(0.05)
            conn.execute("TRUNCATE allocations, invoices, purchase_order_lines, purchase_orders CASCADE")
            conn.execute("DELETE FROM jobs")
            conn.execute("UPDATE buying_rounds SET state = 'closed', combined_at = NULL WHERE id = %s", (rnd,))
            conn.execute("CHECKPOINT")
        start = time.perf_counter()
        job = jobs.enqueue("combine_round", {"round_id": rnd}, dedupe_key=f"combine:{rnd}")
        db.session.commit()
        while True:
            state = db.session.execute(text("SELECT state FROM jobs WHERE id = :id"), {"id": job.id}).scalar()
            db.session.rollback()
            if state in ("succeeded", "failed"):
                break
            time.sleep(0.02)
        assert state == "succeeded", state
        assert db.session.execute(text("SELECT state FROM buying_rounds WHERE id = :r"), {"r": rnd}).scalar() \
            == "combined"
        times.append(time.perf_counter() - start)
        db.session.rollback()
print(json.dumps(times[warm:]))
"""


def _bench_size(lines: int, runs: int, workers: list[int]) -> dict[str, Any]:
    name = f"ruamsue_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        env = dict(os.environ, DATABASE_URL=url, RUAMSUE_INSTANCE=INSTANCE)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        with psycopg.connect(url) as conn:
            rnd = _generate(conn, lines)
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
        child = subprocess.run([sys.executable, "-m", "bench.combine_bench", "--child", url, str(rnd), str(runs)],
                               cwd=ROOT, env=env, capture_output=True, text=True)
        if child.returncode != 0:
            raise RuntimeError(child.stderr[-3000:])
        result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
        result["lines"] = lines
        for n in workers:
            result[f"workers_{n}"] = _workers(url, rnd, n, max(1, runs - 1), int(lines <= 100_000))
        return result
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _print(results: list[dict[str, Any]], runs: int, workers: list[int]) -> None:
    print(f"\nCombine benchmark: medians of {runs} runs; floors measured in the same run over the same rows")
    head = (f"{'lines':>9} {'GROUP BY':>9} {'PHYSICAL':>9} {'copy-thr':>9} {'combine':>9} {'ratio':>6} "
            f"{'PHYS-now':>9} {'ratio':>6} {'s/Mline':>8} {'RSS MB':>7} {'PG MB':>6}")
    for n in workers:
        head += f" {f'{n} wkr':>8}"
    print(head)
    for r in results:
        g, p, c, t = (statistics.median(r[k]) for k in ("group_by", "physical", "copy_through", "combine"))
        pn = statistics.median(r["physical_now"])
        row = (f"{r['lines']:>9} {g:>8.3f}s {p:>8.3f}s {c:>8.3f}s {t:>8.3f}s {t / p:>5.2f}x {pn:>8.3f}s {t / pn:>5.2f}x "
               f"{t / r['lines'] * 1e6:>7.2f}s {r['rss_kb'] / 1024:>7.0f} {r['backend_kb'] / 1024:>6.0f}")
        for n in workers:
            row += f" {statistics.median(r[f'workers_{n}']):>7.3f}s"
        print(row)
    if len(results) > 1:
        first, last = results[0], results[-1]
        grow = (statistics.median(last["combine"]) / statistics.median(first["combine"])) / (
            last["lines"] / first["lines"])
        print(f"growth {first['lines']} -> {last['lines']} lines: time per line x{grow:.2f}; "
              f"peak RSS x{last['rss_kb'] / first['rss_kb']:.2f}")
    spread = ", ".join(f"{r['lines']}: combine {min(r['combine']):.3f}-{max(r['combine']):.3f}s, physical "
                       f"{min(r['physical']):.3f}-{max(r['physical']):.3f}s" for r in results)
    print(f"spread of the runs (noise): {spread}; load average {os.getloadavg()[0]:.1f}")
    print("ratio = combine / PHYSICAL floor (target <= 3.0 at 1M lines; the issue's floor: the allocation's 14 "
          "columns as they were, numeric money); PHYS-now = the same floor with today's 12 columns (satang); "
          "RSS = the combining process; "
          "PG MB = its PostgreSQL backend's peak (shared buffers touched included); "
          "N wkr = one part per supplier on a Celery worker with N processes")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(_child(argv[1], int(argv[2]), int(argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", default="10000,100000,1000000", help="comma-separated round sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="Celery worker process counts to compare ('' for none)")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.lines.split(",") if x]
    workers = [int(x) for x in args.workers.split(",") if x]
    results = []
    for lines in sizes:
        started = time.perf_counter()
        results.append(_bench_size(lines, args.runs, workers))
        print(f"[{lines} lines done in {time.perf_counter() - started:.0f}s]", file=sys.stderr, flush=True)
    _print(results, args.runs, workers)


if __name__ == "__main__":
    main()
