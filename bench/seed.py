"""What the served benchmarks (``bench/load.py``, ``bench/mobile.py``) share: a throwaway PostgreSQL
database migrated by the app's own command, an open round seeded through the app's models, a free port
and a gunicorn stopped cleanly."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_database(name: str, *, keep: bool = False, **settings: str) -> Iterator[dict[str, str]]:
    """A new database, migrated; yields the environment of the server (jobs in-process, no rate limit).

    This process's environment points at it too, so seeding through the app's models writes there.
    Dropped afterwards unless ``keep``."""
    db_name = f"ruamsue_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    db_url = f"{ADMIN.rsplit('/', 1)[0]}/{db_name}"
    instance = tempfile.mkdtemp(prefix=f"ruamsue-{name}-")
    env = dict(os.environ, DATABASE_URL=db_url, RUAMSUE_INSTANCE=instance, SECRET_KEY=uuid.uuid4().hex,
               RATELIMIT_ENABLED="0", **settings)
    env.pop("REDIS_URL", None)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        os.environ.update({"DATABASE_URL": db_url, "RUAMSUE_INSTANCE": instance})
        os.environ.pop("REDIS_URL", None)
        yield env
    finally:
        if not keep:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def stop_server(server: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the server's process group, SIGKILL if it has not stopped within 20 s."""
    if server is not None and server.poll() is None:
        os.killpg(server.pid, 15)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)


@dataclass(frozen=True)
class RoundTerms:
    """The seeded offers: one per product, spread over three suppliers, two price tiers each."""

    network: str
    round: str
    supplier: str  # "{i}" is the supplier's number
    product: str  # "{i}" is the product's number
    unit: str
    offers: int
    pack_size: int
    reference_price: Decimal
    delivery_fee: Decimal
    tiers: tuple[tuple[int, Decimal], tuple[int, Decimal]]


def seed_open_round(terms: RoundTerms) -> tuple[Any, Any, list[Any]]:
    """A network with an open round closing in two days (inside an app context, not committed):
    returns (network, round, offers)."""
    from core.db import db
    from network.models import Network
    from orders.models import BuyingRound, Offer, PriceTier, Product, Supplier

    network = Network(name=terms.network, timezone="Asia/Bangkok", fee_percent=Decimal("1"))
    db.session.add(network)
    db.session.flush()
    suppliers = [Supplier(network_id=network.id, name=terms.supplier.format(i=i)) for i in range(3)]
    products = [Product(network_id=network.id, name=terms.product.format(i=i), unit=terms.unit)
                for i in range(terms.offers)]
    db.session.add_all([*suppliers, *products])
    now = datetime.now(UTC)
    rnd = BuyingRound(network_id=network.id, name=terms.round, state="open", opened_at=now,
                      closes_at=now + timedelta(days=2))
    db.session.add(rnd)
    db.session.flush()
    offers = []
    for i, product in enumerate(products):
        offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=suppliers[i % 3].id,
                      pack_size=terms.pack_size, min_quantity=0, reference_price=terms.reference_price,
                      delivery_fee=terms.delivery_fee)
        offer.tiers = [PriceTier(min_quantity=q, unit_price=p) for q, p in terms.tiers]
        offers.append(offer)
    db.session.add_all(offers)
    db.session.flush()
    return network, rnd, offers
