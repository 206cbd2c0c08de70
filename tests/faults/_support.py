"""Helpers of the fault tests: their own Redis database and queue, worker and beat processes in their
own process groups (so a test can kill -9 a whole worker), and seeded rounds with leaders' tokens.

The fault tests use Redis database 7, not the main suite's 0: a worker started here with a 10 s
visibility timeout restores *every* unacknowledged message of its Redis database, and must not
re-deliver another test run's long jobs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

import pricing
from tests.conftest import REDIS_URL, ROOT, _instance

FAULT_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/7"
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def new_queue() -> str:
    return f"ruamsue-faults-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def fault_app(database: str, queue: str, env: dict[str, str] | None = None, **overrides: Any):  # type: ignore[no-untyped-def]
    """An app as gunicorn would build it, on the fault tests' Redis database and queue."""
    values = {"DATABASE_URL": database, "REDIS_URL": FAULT_REDIS_URL, "CELERY_QUEUE": queue, **(env or {})}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        from core import create_app

        config: dict[str, Any] = {"TESTING": False, "RATELIMIT_ENABLED": False, "JOBS_MODE": "celery",
                                  "SERVER_NAME": None}
        config.update(overrides)
        return create_app(config)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _env(database: str, queue: str, extra: dict[str, str] | None) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=database, REDIS_URL=FAULT_REDIS_URL, CELERY_QUEUE=queue,
                RUAMSUE_INSTANCE=_instance, **(extra or {}))


def start_worker(database: str, queue: str, log: Path, *, concurrency: int = 1,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wsgi.celery", "worker", "-Q", queue, "-c", str(concurrency),
         "--pool", "prefork", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
         "-n", f"faults-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=_env(database, queue, extra_env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def start_beat(database: str, queue: str, log: Path, schedule: Path, *,
               extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wsgi.celery", "beat", "-s", str(schedule), "-l", "INFO",
         "--pidfile", ""],
        cwd=ROOT, env=_env(database, queue, extra_env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_log(log: Path, text: str, timeout: float = 30.0, count: int = 1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {log} within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    """Stop a worker or beat and everything in its process group."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    try:  # children left behind by a SIGTERM of the master
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def redis_up() -> bool:
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG"


def ensure_redis() -> None:
    if not redis_up():
        os.makedirs("/var/lib/redis", exist_ok=True)
        os.makedirs("/var/log/redis", exist_ok=True)
        subprocess.run(REDIS_START, check=False)
    deadline = time.monotonic() + 30
    while not redis_up():
        if time.monotonic() > deadline:
            raise AssertionError("Redis did not come back")
        time.sleep(0.2)


def pg_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0


def ensure_postgres() -> None:
    if not pg_up():
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"], check=False)
    deadline = time.monotonic() + 60
    while not pg_up():
        if time.monotonic() > deadline:
            raise AssertionError("PostgreSQL did not come back")
        time.sleep(0.2)


# --- data -------------------------------------------------------------------------------------------

def seed_round(session: Any, *, groups: int, offers: int, suppliers: int = 2, with_orders: bool = True,
               closes_at: datetime | None = None, leaders: bool = False, network: Any = None) -> dict[str, Any]:
    """An open round with offers and (optionally) one committed order per group, a committee token and,
    when asked, a leader with a token for each group."""
    from core.auth import hash_token, new_token
    from network.models import ApiToken, Group, Network, User
    from orders.models import BuyingRound, GroupOrder, Offer, OrderLine, PriceTier, Product, Supplier

    tag = uuid.uuid4().hex[:8]
    if network is None:
        network = Network(name=f"Faults {tag}", timezone="Asia/Bangkok", fee_percent=Decimal("1"))
        session.add(network)
        session.flush()
    hashed = generate_password_hash("correct-horse-9", method="pbkdf2:sha256:1000")
    committee = User(network_id=network.id, email=f"c-{tag}@example.org", name="C", role="committee",
                     password_hash=hashed, session_version=0, active=True)
    session.add(committee)
    sups = [Supplier(network_id=network.id, name=f"S{i} {tag}") for i in range(suppliers)]
    prod = Product(network_id=network.id, name=f"P {tag}", unit="kg")
    session.add_all([*sups, prod])
    rnd = BuyingRound(network_id=network.id, name=f"R {tag}", state="open",
                      closes_at=closes_at or datetime.now(timezone.utc) + timedelta(days=1),
                      opened_at=datetime.now(timezone.utc) - timedelta(days=1))
    session.add(rnd)
    session.flush()
    offer_rows = []
    for i in range(offers):
        offer = Offer(round_id=rnd.id, product_id=prod.id, supplier_id=sups[i % suppliers].id, pack_size=7,
                      min_quantity=0, reference_price=Decimal("50.00"), delivery_fee=Decimal("120.00"))
        offer.tiers = [PriceTier(min_quantity=0, unit_price=Decimal("45.00")),
                       PriceTier(min_quantity=1000, unit_price=Decimal("41.50"))]
        session.add(offer)
        offer_rows.append(offer)
    session.flush()
    group_ids = [r[0] for r in session.execute(insert(Group).returning(Group.id), [
        {"network_id": network.id, "name": f"G{i} {tag}", "members": 10, "registered_poor_members": 3,
         "kind": "other", "district": "", "subdistrict": ""} for i in range(groups)])]
    if with_orders:
        now = datetime.now(timezone.utc)
        order_ids = [r[0] for r in session.execute(insert(GroupOrder).returning(GroupOrder.id), [
            {"round_id": rnd.id, "group_id": gid, "created_at": now, "updated_at": now} for gid in group_ids])]
        session.execute(insert(OrderLine), [
            {"group_order_id": oid, "offer_id": offer.id, "quantity": 1 + (oid * 7 + offer.id * 3) % 13,
             "tolerance": (oid + offer.id) % 3, "placed_at": now + timedelta(microseconds=oid)}
            for oid in order_ids for offer in offer_rows])
    tokens: dict[int, dict[str, str]] = {}
    token = new_token()
    session.add(ApiToken(user_id=committee.id, token_hash=hash_token(token)))
    session.flush()
    if leaders:
        user_ids = [r[0] for r in session.execute(insert(User).returning(User.id), [
            {"network_id": network.id, "email": f"l{gid}-{tag}@example.org", "name": f"Leader {gid}",
             "role": "leader", "group_id": gid, "password_hash": hashed, "session_version": 0, "active": True,
             "locale": "th"} for gid in group_ids])]
        for gid, uid in zip(group_ids, user_ids):
            t = new_token()
            session.add(ApiToken(user_id=uid, token_hash=hash_token(t)))
            tokens[gid] = {"Authorization": f"Bearer {t}"}
    session.commit()
    return {"network_id": network.id, "round_id": rnd.id, "offer_ids": [o.id for o in offer_rows],
            "group_ids": group_ids, "supplier_ids": [s.id for s in sups], "committee_email": committee.email,
            "committee": {"Authorization": f"Bearer {token}"}, "leaders": tokens}


def expected_allocations(session: Any, round_id: int) -> dict[int, int]:
    """What ``pricing.allocate`` gives each line of the round (every offer has pack size 7, no minimum)."""
    from orders.models import GroupOrder, OrderLine

    rows = session.execute(
        select(OrderLine.id, OrderLine.offer_id, OrderLine.quantity, OrderLine.tolerance, OrderLine.placed_at)
        .join(GroupOrder, GroupOrder.id == OrderLine.group_order_id).where(GroupOrder.round_id == round_id)).all()
    by_offer: dict[int, list[pricing.Line]] = {}
    for r in rows:
        by_offer.setdefault(r.offer_id, []).append(pricing.Line(r.id, r.quantity, r.tolerance, r.placed_at))
    expected: dict[int, int] = {}
    for lines in by_offer.values():
        pack = pricing.round_to_packs(sum(x.quantity for x in lines), sum(x.tolerance for x in lines), 7, 0)
        expected.update(pricing.allocate(lines, pack.ordered_quantity))
    return expected
