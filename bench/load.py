"""Load: 50 group leaders placing and replacing their orders at once against gunicorn on PostgreSQL.

    python -m bench.load [--duration 60] [--leaders 50] [--ping-duration 10] [--workers N] [--threads 8]
    python -m bench.load --duration 10 --ping-duration 5        # quick, for CI

A throwaway database is built by ``flask db upgrade`` and seeded (a network, one group and one leader
with an API token per simulated leader, an open round with 12 offers of 3 suppliers). gunicorn
(gthread workers) serves it on 127.0.0.1. Then, in the same run against the same server:

1. ``GET /ping`` (no database: the floor of this app on this server) from ``--leaders`` keep-alive
   connections for ``--ping-duration`` seconds;
2. every leader, on its own keep-alive connection, sends ``PUT /api/v1/rounds/<id>/orders/<group>``
   with a new random order (1 to 6 lines, random quantities and tolerances) as fast as it is answered,
   for ``--duration`` seconds, and remembers every order acknowledged with 200.

Afterwards each group's order in the database must be exactly the last one acknowledged, and the
error rate must be 0 (any non-200 answer or transport error is an error). Prints req/s and
p50/p95/p99 of both endpoints; exits 1 when an order differs or any request failed.
Needs PostgreSQL (``BENCH_ADMIN_URL``, default postgres@127.0.0.1). Loopback only, bounded duration.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from bench.seed import ROOT, RoundTerms, free_port, seed_open_round, stop_server, throwaway_database

OFFERS = 12
LOAD_ROUND = RoundTerms(network="Load network", round="Load round", supplier="Supplier {i}",
                        product="Product {i}", unit="kg", offers=OFFERS, pack_size=5,
                        reference_price=Decimal("50.00"), delivery_fee=Decimal("100.00"),
                        tiers=((0, Decimal("45.00")), (500, Decimal("42.00"))))


def _seed(leaders: int) -> dict[str, Any]:
    """Seed through the app's own models (DATABASE_URL is set in the environment): the open round and
    one group per leader, each leader with an API token."""
    from sqlalchemy import insert

    from core import create_app
    from core.auth import hash_token, new_token
    from core.db import db
    from network.models import ApiToken, Group, User

    app = create_app({"JOBS_MODE": "manual"})
    with app.app_context():
        network, rnd, offers = seed_open_round(LOAD_ROUND)
        group_ids = [r[0] for r in db.session.execute(insert(Group).returning(Group.id), [
            {"network_id": network.id, "name": f"Group {i}", "members": 20, "registered_poor_members": 4,
             "kind": "other", "district": "", "subdistrict": ""} for i in range(leaders)])]
        user_ids = [r[0] for r in db.session.execute(insert(User).returning(User.id), [
            {"network_id": network.id, "email": f"leader{i}@load.example.org", "name": f"Leader {i}",
             "role": "leader", "group_id": gid, "password_hash": "!", "session_version": 0, "active": True}
            for i, gid in enumerate(group_ids)])]
        tokens = {}
        for gid, uid in zip(group_ids, user_ids):
            token = new_token()
            db.session.add(ApiToken(user_id=uid, token_hash=hash_token(token)))
            tokens[gid] = token
        db.session.commit()
        result = {"round_id": rnd.id, "offer_ids": [offer.id for offer in offers], "tokens": tokens}
        db.engine.dispose()
    return result


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        value = samples[0] if samples else 0.0
        return value, value, value
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], q[98]


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def add(self, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if error:
                self.errors.append(error)


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
             headers: dict[str, str]) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _ping_client(port: int, until: float, stats: Stats) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            status, _ = _request(conn, "GET", "/ping", None, {})
            stats.add(time.perf_counter() - started, None if status == 200 else f"ping {status}")
        except (OSError, http.client.HTTPException) as exc:
            stats.add(time.perf_counter() - started, f"ping {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def _leader(port: int, until: float, round_id: int, group_id: int, token: str, offer_ids: list[int],
            stats: Stats, acknowledged: dict[int, dict[int, tuple[int, int]]], seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    path = f"/api/v1/rounds/{round_id}/orders/{group_id}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while time.monotonic() < until:
        chosen = rng.sample(offer_ids, rng.randint(1, 6))
        lines = [{"offer_id": o, "quantity": rng.randint(1, 400), "tolerance": rng.randint(0, 5)} for o in chosen]
        body = json.dumps({"lines": lines}).encode()
        started = time.perf_counter()
        try:
            status, data = _request(conn, "PUT", path, body, {**headers, "Idempotency-Key": str(uuid.uuid4())})
        except (OSError, http.client.HTTPException) as exc:
            stats.add(time.perf_counter() - started, f"order {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        elapsed = time.perf_counter() - started
        if status != 200:
            stats.add(elapsed, f"order {status}: {data[:200]!r}")
            continue
        answered = {x["offer_id"]: (x["quantity"], x["tolerance"]) for x in json.loads(data)["lines"]}
        sent = {x["offer_id"]: (x["quantity"], x["tolerance"]) for x in lines}
        stats.add(elapsed, None if answered == sent else f"order answered {answered}, sent {sent}")
        acknowledged[group_id] = sent
    conn.close()


def _run_clients(target: Any, count: int, duration: float, *args: Any) -> float:
    until = time.monotonic() + duration
    threads = [threading.Thread(target=target, args=(i, until, *args), daemon=True) for i in range(count)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    return time.monotonic() - started


def _report(name: str, stats: Stats, wall: float) -> str:
    n = len(stats.latencies)
    p50, p95, p99 = _percentiles(stats.latencies)
    return (f"{name:<28} {n:>8} req  {n / wall:>8.1f} req/s  p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
            f"p99 {p99 * 1000:7.1f} ms  errors {len(stats.errors)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of order placing (default 60)")
    parser.add_argument("--ping-duration", type=float, default=10.0, help="seconds of GET /ping (default 10)")
    parser.add_argument("--leaders", type=int, default=50, help="concurrent group leaders (default 50)")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the throwaway database")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 <= args.ping_duration <= 600:
        parser.error("durations are bounded: 0 < --duration <= 600, 0 <= --ping-duration <= 600")

    port = free_port()
    server = None
    with throwaway_database("load", keep=args.keep_db) as env:
        try:
            seeded = _seed(args.leaders)
            log = open(Path(env["RUAMSUE_INSTANCE"]) / "gunicorn.log", "wb")  # noqa: SIM115
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", "gthread", "--threads",
                 str(args.threads), "-b", f"127.0.0.1:{port}", "--keep-alive", "30", "--backlog", "512", "wsgi:app"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + 60
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    if _request(c, "GET", "/readyz", None, {})[0] == 200:
                        break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start; see {log.name}")
                time.sleep(0.3)

            print(f"gunicorn: {args.workers} workers x {args.threads} threads on 127.0.0.1:{port}; "
                  f"{args.leaders} clients; PostgreSQL database {env['DATABASE_URL'].rsplit('/', 1)[1]}")
            ping = Stats()
            ping_wall = _run_clients(lambda i, until, s: _ping_client(port, until, s), args.leaders,
                                     args.ping_duration, ping) if args.ping_duration else 1.0
            orders = Stats()
            acknowledged: dict[int, dict[int, tuple[int, int]]] = {}
            group_ids = list(seeded["tokens"])

            def leader(i: int, until: float) -> None:
                gid = group_ids[i]
                _leader(port, until, seeded["round_id"], gid, seeded["tokens"][gid], seeded["offer_ids"], orders,
                        acknowledged, seed=i)

            orders_wall = _run_clients(leader, args.leaders, args.duration)

            # Every acknowledged order is in the database exactly as last acknowledged.
            with psycopg.connect(env["DATABASE_URL"]) as conn:
                rows = conn.execute(
                    "SELECT o.group_id, l.offer_id, l.quantity, l.tolerance FROM order_lines l "
                    "JOIN group_orders o ON o.id = l.group_order_id WHERE o.round_id = %s", (seeded["round_id"],)).fetchall()
            stored: dict[int, dict[int, tuple[int, int]]] = {}
            for gid, offer_id, quantity, tolerance in rows:
                stored.setdefault(gid, {})[offer_id] = (quantity, tolerance)
            mismatched = [gid for gid in group_ids if stored.get(gid, {}) != acknowledged.get(gid, {})]

            print(_report("GET /ping (floor)", ping, ping_wall))
            print(_report("PUT order (place/replace)", orders, orders_wall))
            total = len(orders.latencies)
            error_rate = len(orders.errors) / total if total else 1.0
            print(f"acknowledged orders checked: {len(acknowledged)} groups, {len(mismatched)} differ from the "
                  f"database; error rate {error_rate:.4%} ({len(orders.errors)} of {total}); ping errors {len(ping.errors)}")
            for error in (orders.errors + ping.errors)[:10]:
                print("  error:", error)
            ok = not mismatched and not orders.errors and not ping.errors and len(acknowledged) == len(group_ids)
            print("RESULT:", "PASS" if ok else "FAIL")
            return 0 if ok else 1
        finally:
            stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
