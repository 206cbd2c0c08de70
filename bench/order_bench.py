"""Placing an order in-process: ``PUT /api/v1/rounds/<id>/orders/<group>`` through the whole Flask app.

    python -m bench.order_bench [--requests 2000] [--leaders 20]

A throwaway PostgreSQL database is built by the migrations and seeded as ``bench.load`` does (one
group, leader and API token per leader, an open round of 12 offers). The app runs in this process
(no HTTP server): each request goes through routing, the bearer token, the Idempotency-Key, the
schema, the service and the JSON answer, exactly as under gunicorn. Printed beside it, measured in
the same run:

* ``GET /ping`` in-process: the framework's own floor (routing, request and response objects);
* the SQL round-trip floor: the same number of bare ``SELECT 1`` round trips as the PUT issues
  statements, plus its commits, on one connection;

and the number of SQL statements one PUT issues (SQLAlchemy's ``before_cursor_execute``).
"""
from __future__ import annotations

import argparse
import os
import random
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


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p95_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000 if len(samples) > 1 else samples[0] * 1000


def run(db_url: str, requests: int, leaders: int, profile: bool = False) -> dict[str, Any]:
    from sqlalchemy import event

    from bench.load import _seed
    from core import create_app
    from core.db import db

    seeded = _seed(leaders)
    app = create_app({"JOBS_MODE": "manual", "RATELIMIT_ENABLED": False})
    client = app.test_client()
    rng = random.Random(7)
    groups = list(seeded["tokens"])
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    cpu: list[float] = []

    def put(i: int) -> float:
        gid = groups[i % len(groups)]
        chosen = rng.sample(seeded["offer_ids"], rng.randint(1, 6))
        body = {"lines": [{"offer_id": o, "quantity": rng.randint(1, 400), "tolerance": rng.randint(0, 5)}
                          for o in chosen]}
        headers = {"Authorization": f"Bearer {seeded['tokens'][gid]}", "Idempotency-Key": uuid.uuid4().hex}
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.put(f"/api/v1/rounds/{seeded['round_id']}/orders/{gid}", json=body, headers=headers)
        elapsed = time.perf_counter() - start
        cpu.append(time.process_time() - start_cpu)
        if response.status_code != 200:
            raise RuntimeError(f"PUT answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
        got = {(x["offer_id"], x["quantity"], x["tolerance"]) for x in response.get_json()["lines"]}
        if got != {(x["offer_id"], x["quantity"], x["tolerance"]) for x in body["lines"]}:
            raise RuntimeError("PUT answered a different order than it was sent")
        return elapsed

    def ping() -> float:
        start = time.perf_counter()
        response = client.get("/ping")
        elapsed = time.perf_counter() - start
        assert response.status_code == 200
        return elapsed

    for i in range(200):  # warm-up: imports, caches, statement cache, pool
        put(i)
        ping()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    put(0)
    event.remove(engine, "before_cursor_execute", count)
    per_put = list(statements)
    commits = 2  # the service's transaction and the Idempotency-Key record's answer
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for i in range(300):
            put(i)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "tottime"))
        stats.print_stats(int(os.environ.get("PROFILE_N", "25")))
    cpu.clear()
    put_times, ping_times, floor_times = [], [], []
    with psycopg.connect(db_url) as conn:
        backends_before = _backend_cpu(conn)
        for i in range(requests):
            put_times.append(put(i))
            ping_times.append(ping())
            start = time.perf_counter()
            for _ in range(len(per_put)):
                conn.execute("SELECT 1").fetchall()
            for _ in range(commits):
                conn.commit()
            floor_times.append(time.perf_counter() - start)
        backends_after = _backend_cpu(conn)
    pg_cpu = sum(t - backends_before.get(pid, 0.0) for pid, t in backends_after.items())
    return {"put": put_times, "ping": ping_times, "sql_floor": floor_times, "statements": per_put, "cpu": cpu,
            "pg_cpu_per_put": pg_cpu / requests if backends_after else None}


def _backend_cpu(conn: psycopg.Connection[Any]) -> dict[int, float]:
    """CPU seconds (user + system) so far of the app's PostgreSQL backends (every backend of this
    database but the floor's own), from /proc: PostgreSQL runs on this machine."""
    pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND pid <> pg_backend_pid()").fetchall()]
    conn.commit()
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--leaders", type=int, default=20)
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one PUT")
    parser.add_argument("--profile", action="store_true", help="cProfile 300 PUTs first")
    args = parser.parse_args(argv)
    name = f"ruamsue_order_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = f"{ADMIN.rsplit('/', 1)[0]}/{name}"
    instance = tempfile.mkdtemp(prefix="ruamsue-order-bench-")
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = dict(os.environ, DATABASE_URL=url, RUAMSUE_INSTANCE=instance)
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        os.environ.update({"DATABASE_URL": url, "RUAMSUE_INSTANCE": instance, "RATELIMIT_ENABLED": "0"})
        os.environ.pop("REDIS_URL", None)
        result = run(url, args.requests, args.leaders, args.profile)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    put, ping, floor = result["put"], result["ping"], result["sql_floor"]
    n = len(result["statements"])
    print(f"PUT order in-process, {len(put)} requests (medians; p95 in brackets), load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  PUT /api/v1/rounds/<id>/orders/<group>  {_median_ms(put):6.2f} ms  [{_p95_ms(put):6.2f}]  "
          f"{n} SQL statements (target <= 6 statements, <= 3 ms)")
    print(f"  of which CPU of this process                 {_median_ms(result['cpu']):6.2f} ms")
    if result["pg_cpu_per_put"] is not None:
        print(f"  CPU of its PostgreSQL backend (with the floor's SELECT 1s excluded) "
              f"{result['pg_cpu_per_put'] * 1000:6.2f} ms")
    print(f"  floor: GET /ping in-process             {_median_ms(ping):6.2f} ms  [{_p95_ms(ping):6.2f}]")
    print(f"  floor: {n} x SELECT 1 + 2 commits          {_median_ms(floor):6.2f} ms  [{_p95_ms(floor):6.2f}]")
    print(f"  PUT / (ping + SQL floor): {statistics.median(put) / (statistics.median(ping) + statistics.median(floor)):.2f}x")
    if args.show_sql:
        for statement in result["statements"]:
            print("  ---", " ".join(statement.split())[:300])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
