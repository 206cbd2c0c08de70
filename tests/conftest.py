"""Test harness: a throwaway PostgreSQL database built once per run by the migrations, each test in a
transaction rolled back after it (savepoints), and a real Celery worker on Redis for job tests."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import scoped_session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# pytest imports this file as "conftest"; test modules import it again as "tests.conftest". Two module
# objects would mean two run ids: a live server and a worker started from different copies listened on
# different queues, and a job the live server sent was never received. Both names are one module.
if __name__ != "tests.conftest":
    sys.modules.setdefault("tests.conftest", sys.modules[__name__])
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
TEST_DB = f"ruamsue_test_{RUN_ID}"
QUEUE = f"ruamsue-test-{RUN_ID}"
PASSWORD = "correct-horse-9"

# --- property tests (Hypothesis): reproducible ------------------------------------------------------
# "ci": new examples every run (not derandomized), from one seed per run that the run's header prints,
# so a failure found once is found again with `pytest --hypothesis-seed=<seed>` (and print_blob prints
# the @reproduce_failure line too). No example database: a CI checkout starts empty anyway. Chosen by
# HYPOTHESIS_PROFILE=ci (.ci/run sets it) or by a CI service's CI variable; "default" (Hypothesis' own,
# examples kept in .hypothesis/, which git ignores) elsewhere. Tests that set their own settings
# (deadline=None on PostgreSQL, derandomize=True for the hostile-input sweep) keep them.
hypothesis_settings.register_profile(
    "ci", print_blob=True, derandomize=False, database=None, deadline=timedelta(seconds=1),
    suppress_health_check=[HealthCheck.too_slow])
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)
SEED_VARIABLE = "RUAMSUE_HYPOTHESIS_SEED"  # the controller's seed, inherited by any worker process


def _choose_hypothesis_seed(config: pytest.Config) -> None:
    """In the "ci" profile, one seed for the run unless --hypothesis-seed gave one (pytest_configure)."""
    if HYPOTHESIS_PROFILE != "ci" or config.getoption("hypothesis_seed", None) is not None:
        return
    config.option.hypothesis_seed = os.environ.setdefault(SEED_VARIABLE, str(random.SystemRandom().randrange(2**32)))


def _hypothesis_header(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", None)
    again = f"; again: HYPOTHESIS_PROFILE=ci pytest --hypothesis-seed={seed}" if seed is not None else ""
    return f"hypothesis: profile {HYPOTHESIS_PROFILE!r}, seed {seed if seed is not None else 'random per test'}{again}"


# The browser journeys' live server finds this module (its queue, database and worker) by this name.
sys.modules.setdefault("ruamsue_test_harness", sys.modules[__name__])
_instance = tempfile.mkdtemp(prefix="ruamsue-test-")
os.environ["RUAMSUE_INSTANCE"] = _instance
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)


def _admin_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def pg_url() -> str:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{TEST_DB}"


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """A fresh database, built only by the Alembic migrations."""
    _admin_exec(f'CREATE DATABASE "{TEST_DB}"')
    env = dict(os.environ, DATABASE_URL=pg_url(), RUAMSUE_INSTANCE=_instance)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    yield pg_url()
    from core.db import db

    try:
        db.engine  # noqa: B018 - engines are disposed per app below
    except RuntimeError:
        pass
    _admin_exec(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')


def _make_app(url: str, queue: str = QUEUE, **overrides: Any):  # type: ignore[no-untyped-def]
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["CELERY_QUEUE"] = queue
    try:
        from core import create_app

        # Rate-limit counters live in the shared Redis: keyed by this run, so parallel runs never add up.
        config = {"TESTING": True, "RATELIMIT_ENABLED": False, "JOBS_MODE": "manual", "SERVER_NAME": None,
                  "RATELIMIT_KEY_PREFIX": f"ruamsue-test-{RUN_ID}"}
        config.update(overrides)
        return create_app(config)
    finally:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)


@pytest.fixture(scope="session")
def app(database: str):  # type: ignore[no-untyped-def]
    application = _make_app(database)
    yield application
    from core.db import db

    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app):  # type: ignore[no-untyped-def]
    """Everything a test writes, services' commits included, is rolled back after it."""
    from core.db import db

    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own get_bind() would pick the engine, not this connection.
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app, db_session):  # type: ignore[no-untyped-def]
    return app.test_client()


# --- factories -------------------------------------------------------------------------------------

@pytest.fixture
def make_network(db_session) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from network.models import Network

    def make(name: str | None = None, fee_percent: str = "0", timezone: str = "Asia/Bangkok") -> Network:
        network = Network(name=name or f"Network {uuid.uuid4().hex[:6]}", timezone=timezone,
                          fee_percent=Decimal(fee_percent))
        db_session.add(network)
        db_session.commit()
        return network

    return make


@pytest.fixture
def make_group(db_session) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from network.models import Group

    def make(network: Any, name: str | None = None, members: int = 20, registered_poor_members: int = 5,
             **kw: Any) -> Group:
        group = Group(network_id=network.id, name=name or f"Group {uuid.uuid4().hex[:6]}", members=members,
                      registered_poor_members=registered_poor_members, **kw)
        db_session.add(group)
        db_session.commit()
        return group

    return make


@pytest.fixture
def make_user(db_session) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from werkzeug.security import generate_password_hash

    from network.models import User

    hashed = generate_password_hash(PASSWORD)

    def make(network: Any, role: str = "leader", group: Any = None, email: str | None = None) -> User:
        user = User(network_id=network.id, email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.org",
                    name=f"{role.title()} user", role=role, group_id=group.id if group is not None else None,
                    password_hash=hashed, session_version=0, active=True)
        db_session.add(user)
        db_session.commit()
        return user

    return make


@pytest.fixture
def token_for(db_session) -> Callable[[Any], dict[str, str]]:  # type: ignore[no-untyped-def]
    from core.auth import hash_token, new_token
    from network.models import ApiToken

    def make(user: Any) -> dict[str, str]:
        token = new_token()
        db_session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
        db_session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def make_offer(db_session) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from orders.models import Offer, PriceTier, Product, Supplier

    def make(rnd: Any, *, tiers: list[tuple[int, str]] | None = None, pack_size: int = 1, min_quantity: int = 0,
             reference_price: str = "100.00", delivery_fee: str = "0", supplier: Any = None,
             product: Any = None) -> Offer:
        if supplier is None:
            supplier = Supplier(network_id=rnd.network_id, name=f"Supplier {uuid.uuid4().hex[:6]}")
            db_session.add(supplier)
        if product is None:
            product = Product(network_id=rnd.network_id, name=f"Product {uuid.uuid4().hex[:6]}", unit="kg")
            db_session.add(product)
        db_session.flush()
        offer = Offer(round_id=rnd.id, product_id=product.id, supplier_id=supplier.id, pack_size=pack_size,
                      min_quantity=min_quantity, reference_price=Decimal(reference_price),
                      delivery_fee=Decimal(delivery_fee))
        offer.tiers = [PriceTier(min_quantity=q, unit_price=Decimal(p)) for q, p in (tiers or [(0, "90.00")])]
        db_session.add(offer)
        db_session.commit()
        return offer

    return make


@pytest.fixture
def make_round(db_session) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from orders.models import BuyingRound

    def make(network: Any, *, state: str = "open", closes_in: timedelta = timedelta(days=3),
             name: str | None = None) -> BuyingRound:
        now = datetime.now(UTC)
        rnd = BuyingRound(network_id=network.id, name=name or "Round", state=state, closes_at=now + closes_in,
                          opened_at=now if state != "draft" else None)
        db_session.add(rnd)
        db_session.commit()
        return rnd

    return make


@pytest.fixture
def place_order(db_session) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    """Writes order lines directly, with chosen first-save times, for combine tests."""
    from orders.models import GroupOrder, OrderLine

    def make(rnd: Any, group: Any, lines: list[tuple[Any, int, int]], placed_at: datetime | None = None) -> Any:
        order = GroupOrder(round_id=rnd.id, group_id=group.id)
        db_session.add(order)
        db_session.flush()
        when = placed_at or datetime.now(UTC)
        for offer, quantity, tolerance in lines:
            db_session.add(OrderLine(group_order_id=order.id, offer_id=offer.id, quantity=quantity,
                                     tolerance=tolerance, placed_at=when))
        db_session.commit()
        return order

    return make


# --- a real Celery worker on the real Redis broker -------------------------------------------------

@pytest.fixture(scope="session")
def worker_app(database: str):  # type: ignore[no-untyped-def]
    application = _make_app(database, JOBS_MODE="celery")
    yield application
    from core.db import db

    with application.app_context():
        db.engine.dispose()


def start_worker(database: str, *, concurrency: int = 1, extra_env: dict[str, str] | None = None,
                 log: Path | None = None, queue: str = QUEUE) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATABASE_URL=database, REDIS_URL=REDIS_URL, CELERY_QUEUE=queue,
               RUAMSUE_INSTANCE=_instance, **(extra_env or {}))
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", queue, "-c", str(concurrency),
         "--pool", "prefork", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO",
         "-n", f"test-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc


def wait_for_job(app: Any, job_id: str, timeout: float = 60.0, states: tuple[str, ...] = ("succeeded", "failed")):
    from core.db import db
    from core.models import Job

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            job = db.session.get(Job, job_id)
            if job is not None and job.state in states:
                state = job.state
                db.session.remove()
                return state
            db.session.remove()
            time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish within {timeout}s")


@pytest.fixture(scope="session")
def celery_worker(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    import redis

    redis.Redis.from_url(REDIS_URL).ping()  # fail loudly, not with a hang, when Redis is down
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = start_worker(database, concurrency=2, log=log)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def committed(worker_app):  # type: ignore[no-untyped-def]
    """For tests whose data a worker process must see: real commits, wiped afterwards."""
    from core.db import db

    with worker_app.app_context():
        yield db.session
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in reversed(db.metadata.sorted_tables))
        # A job of a failed test may still be writing; wait for it rather than deadlock with it.
        for attempt in range(10):
            try:
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                break
            except OperationalError:
                if attempt == 9:
                    raise
                time.sleep(1)


# --- the calendar: run the whole suite as if it were another day -----------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--clock", default=None, metavar="ISO-INSTANT",
                     help="Run this pytest process as if the clock read this instant (ticking), e.g. "
                          "2027-01-01T00:00+07:00: finds tests that only pass on some days of the year.")


@pytest.hookimpl(tryfirst=True)  # before Hypothesis' own plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    _choose_hypothesis_seed(config)
    instant = config.getoption("--clock", default=None)
    if instant:
        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(instant), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--clock", default=None):
        skip = pytest.mark.skip(reason="--clock moves this process's clock only; the Celery worker keeps the real one")
        for item in items:
            if "worker" in item.keywords:
                item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> list[str]:
    instant = config.getoption("--clock", default=None)
    return [_hypothesis_header(config), *([f"clock: as if it were {instant}"] if instant else [])]


@pytest.fixture(autouse=True)
def _rate_limits_off() -> None:
    """Flask-Limiter is one object for every app of the process, and an app built without
    ``RATELIMIT_ENABLED`` keeps whatever the last one set: each test starts with limits off, and the tests
    of limits switch them on in their own fixtures (which restore the limiter afterwards)."""
    from core.web import limiter

    limiter.enabled = False
