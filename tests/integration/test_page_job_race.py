"""A page that shows a background job's progress, drawn while that job finishes.

The page's script reloads the page only when the job's state changes from the one the page was drawn
with. So a page drawn with the job already done must show what the job wrote; otherwise it says "done"
over the old figures and never moves (seen in CI: the month's rebuild done, the month still shown live).

The interleaving is forced, not hoped for: the test holds the job's row so the real Celery worker cannot
start it, and lets it run to the end at the moment the page has read the data the job writes."""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from tests.conftest import PASSWORD
from tests.integration.pages_helpers import login

pytestmark = pytest.mark.usefixtures("celery_worker")


def _url(app: Any) -> str:
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).replace("postgresql+psycopg://", "postgresql://")


def _job_state(conn: psycopg.Connection[Any], job_id: str) -> str:
    row = conn.execute("SELECT state FROM jobs WHERE id = %s", (job_id,)).fetchone()
    conn.commit()
    assert row is not None
    return str(row[0])


@contextmanager
def _job_held(app: Any, job_id: str) -> Iterator[dict[str, Any]]:
    """The job's row locked (the worker's claim waits on it); ``release()`` lets it run and waits for the end."""
    from core import jobs
    from core.db import db

    holder = psycopg.connect(_url(app))
    watcher = psycopg.connect(_url(app))
    holder.execute("SELECT id FROM jobs WHERE id = %s FOR UPDATE", (job_id,))
    with app.app_context():
        assert jobs.send(app, job_id)  # to the real worker, which now waits on the row
        db.session.remove()
    seen: dict[str, Any] = {"released": False, "state": None}

    def release() -> None:
        if seen["released"]:
            return
        seen["released"] = True
        holder.commit()
        deadline = time.monotonic() + 60
        while _job_state(watcher, job_id) not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the worker did not finish the job"
            time.sleep(0.05)
        seen["state"] = _job_state(watcher, job_id)

    seen["release"] = release
    try:
        yield seen
    finally:
        holder.close()
        watcher.close()


@contextmanager
def _finishing_when_read(app: Any, table: str, held: dict[str, Any]) -> Iterator[None]:
    """The first time the page reads ``table``, the job is let go and run to its end before the page reads on."""
    from core.db import db

    with app.app_context():
        engine = db.engine

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if re.search(rf"\bFROM {table}\b", statement):
            held["release"]()

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", after)


def _get(client: Any, url: str) -> Any:
    """A request as the server answers it: in its own application context (so its own database session),
    not inside the test's, which would hand it the job as the test's session last saw it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(client.get, url).result()


def _drawn_state(html: str) -> str:
    match = re.search(r'data-job-url="[^"]+" data-reload="1" data-state="(\w+)"', html)
    assert match, "the page shows no job"
    return match.group(1)


def _committee(session: Any) -> Any:
    from werkzeug.security import generate_password_hash

    from network.models import Network, User

    network = Network(name=f"Race {uuid.uuid4().hex[:6]}", timezone="Asia/Bangkok", fee_percent=Decimal("0"))
    session.add(network)
    session.flush()
    user = User(network_id=network.id, email=f"committee-{uuid.uuid4().hex[:8]}@example.org", name="Committee",
                role="committee", password_hash=generate_password_hash(PASSWORD), session_version=0, active=True)
    session.add(user)
    session.commit()
    return user


def _drawn_as_the_job_ends(app: Any, monkeypatch: Any, committee: Any, start: Callable[[Any], Any], url: str,
                           table: str, shows_what_it_wrote: Callable[[str], bool]) -> None:
    """The page at ``url`` drawn while the job ``start`` begins ends (released when the page reads ``table``):
    drawn "done", it shows what the job wrote; drawn before the end, the next drawing (the script's reload) does."""
    from core.db import db

    monkeypatch.setitem(app.config, "JOBS_MODE", "manual")  # stored, not sent: _job_held sends it
    with app.app_context():
        job_id = start(db.session.get_one(type(committee), committee.id)).id
        db.session.remove()
    monkeypatch.setitem(app.config, "JOBS_MODE", "celery")
    client = app.test_client()
    login(client, committee)
    address = f"{url}?job={job_id}"
    with _job_held(app, job_id) as held, _finishing_when_read(app, table, held):
        page = _get(client, address)
    assert page.status_code == 200
    assert held["state"] == "succeeded"  # the job did end while the page was being drawn
    html = page.get_data(as_text=True)
    if _drawn_state(html) == "succeeded":
        assert shows_what_it_wrote(html)
    else:
        again = _get(client, address).get_data(as_text=True)
        assert _drawn_state(again) == "succeeded" and shows_what_it_wrote(again)


def test_a_summary_page_drawn_as_its_rebuild_ends_is_never_stuck_on_the_live_month(worker_app, committed, monkeypatch):  # type: ignore[no-untyped-def]
    from core.clock import utcnow
    from reports import periods, services

    committee = _committee(committed)
    local = utcnow().astimezone(periods.zone("Asia/Bangkok"))
    month = periods.label(*periods.add_months(local.year, local.month, -1))  # ended: it can be rebuilt
    _drawn_as_the_job_ends(worker_app, monkeypatch, committee, lambda actor: services.rebuild(actor, month),
                           f"/summaries/{month}", "monthly_summaries",
                           lambda html: 'id="summary-status"' in html and 'id="provisional"' not in html)


def test_a_round_page_drawn_as_its_combine_ends_is_never_stuck_on_the_closed_round(worker_app, committed, monkeypatch):  # type: ignore[no-untyped-def]
    from core.clock import utcnow
    from orders import services
    from orders.models import BuyingRound

    committee = _committee(committed)
    rnd = BuyingRound(network_id=committee.network_id, name="รอบทดสอบ", state="open",
                      closes_at=utcnow() + timedelta(days=1))
    committed.add(rnd)
    committed.commit()
    _drawn_as_the_job_ends(worker_app, monkeypatch, committee, lambda actor: services.close_round(actor, rnd.id),
                           f"/rounds/{rnd.id}", "buying_rounds",
                           lambda html: 'class="badge combined" id="round-state"' in html)
