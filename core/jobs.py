"""Background jobs: an outbox row written with the change, handed to a worker only after commit.

``enqueue`` adds a :class:`Job` row to the current transaction. When that transaction commits, the
job is sent to Celery (production) or to a thread of this process (embedded default). If it is never
sent (broker down, process killed between commit and send), ``dispatch_stale`` sends it later.
Handlers are idempotent services, so a job that runs twice changes nothing the second time.
"""
from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.db import db
from core.models import Job

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[..., dict[str, Any] | None]] = {}
# What Celery beat runs in production, run by the embedded scheduler when there is no beat.
PERIODIC: dict[str, Callable[[], object]] = {}


def periodic(name: str, fn: Callable[[], object]) -> None:
    PERIODIC[name] = fn


def handler(kind: str) -> Callable[[Callable[..., dict[str, Any] | None]], Callable[..., dict[str, Any] | None]]:
    def register(fn: Callable[..., dict[str, Any] | None]) -> Callable[..., dict[str, Any] | None]:
        HANDLERS[kind] = fn
        return fn

    return register


class PermanentJobError(Exception):
    """The job can never succeed (its subject is gone or in the wrong state): fail without retrying."""


def enqueue(kind: str, payload: dict[str, Any], *, network_id: int | None = None,
            dedupe_key: str | None = None) -> Job:
    """Add a job to the current transaction; it is dispatched after commit.

    With a ``dedupe_key`` an existing job for the same effect is returned instead (checked by the
    unique constraint under a savepoint, so two racing callers still get one job).
    """
    if dedupe_key is not None:
        existing = db.session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(id=str(uuid.uuid4()), kind=kind, payload=payload, network_id=network_id,
              dedupe_key=dedupe_key, state="pending", attempts=0, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except IntegrityError:
        existing = db.session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        assert existing is not None
        return existing
    db.session.info.setdefault("jobs_after_commit", []).append(job.id)
    return job


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    job_ids = session.info.pop("jobs_after_commit", None)
    if not job_ids:
        return
    # Only the outermost commit publishes: a savepoint release is not the end of the transaction.
    if session.in_nested_transaction():
        session.info["jobs_after_commit"] = job_ids
        return
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        return
    for job_id in job_ids:
        send(app, job_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop("jobs_after_commit", None)


def send(app: Flask, job_id: str) -> bool:
    """Hand a committed job to whoever runs jobs. A broker outage leaves it for the sweep."""
    mode = app.config.get("JOBS_MODE", "thread")
    if mode == "manual":
        return False
    if mode == "thread":
        executor: ThreadPoolExecutor = app.extensions["ruamsue_jobs_executor"]
        executor.submit(_run_in_app, app, job_id)
        return True
    try:
        # This app's own Celery, not the process-wide default a shared_task proxy would pick.
        app.extensions["celery"].send_task("ruamsue.run_job", args=[job_id], retry=False)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep re-sends it
        log.warning("could not send job %s to the broker; the sweep will retry", job_id, exc_info=True)
        return False
    return True


def _run_in_app(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            while run_job(job_id) == "retry":
                pass
        except Exception:  # noqa: BLE001 - recorded on the job row
            log.exception("job %s crashed", job_id)
        finally:
            db.session.remove()


def run_job(job_id: str) -> str:
    """Run one job: claim it, call its handler, record the result. Returns the job's state or 'retry'."""
    max_attempts = int(current_app.config.get("JOB_MAX_ATTEMPTS", 3))
    now = utcnow()
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_(("pending", "running")))
        .values(state="running", attempts=Job.attempts + 1, started_at=now)
        .returning(Job.attempts, Job.kind, Job.payload)
    ).first()
    db.session.commit()
    if claimed is None:
        job = db.session.get(Job, job_id)
        return job.state if job is not None else "missing"
    attempts, kind, payload = claimed
    if attempts > max_attempts:
        # It keeps dying (a worker killed each time): stop looping and say so.
        _finish(job_id, "failed", error=f"gave up after {attempts - 1} attempts")
        return "failed"
    fn = HANDLERS.get(kind)
    if fn is None:
        _finish(job_id, "failed", error=f"no handler for {kind}")
        return "failed"
    try:
        result = fn(**(payload or {}))
    except PermanentJobError as exc:
        db.session.rollback()
        _finish(job_id, "failed", error=str(exc))
        return "failed"
    except Exception:
        db.session.rollback()
        error = traceback.format_exc(limit=5)
        if attempts >= max_attempts:
            _finish(job_id, "failed", error=error)
            return "failed"
        db.session.execute(update(Job).where(Job.id == job_id).values(state="pending", error=error))
        db.session.commit()
        return "retry"
    _finish(job_id, "succeeded", result=result or {})
    return "succeeded"


def _finish(job_id: str, state: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    db.session.execute(
        update(Job).where(Job.id == job_id).values(state=state, result=result, error=error, finished_at=utcnow())
    )
    db.session.commit()


def dispatch_stale(app: Flask, older_than: timedelta = timedelta(seconds=60)) -> int:
    """Re-send pending jobs nobody picked up (broker was down, or the sender died after commit)."""
    cutoff = utcnow() - older_than
    job_ids = db.session.scalars(
        select(Job.id).where(Job.state == "pending", Job.created_at < cutoff).order_by(Job.created_at).limit(500)
    ).all()
    sent = 0
    for job_id in job_ids:
        if send(app, job_id):
            sent += 1
    return sent


def get_job(actor: Any, job_id: str) -> Job:
    """A job as its network sees it; another network's job does not exist."""
    from core.errors import NotFound

    job = db.session.get(Job, job_id)
    if job is None or job.network_id != actor.network_id:
        raise NotFound("No such job.")
    return job


def start_scheduler(app: Flask, interval: float = 60.0) -> None:
    """Embedded default: what Celery beat does in production, from a thread of this process."""
    import threading

    def tick() -> None:
        while True:
            time.sleep(interval)
            with app.app_context():
                for name, fn in [*PERIODIC.items(), ("dispatch_stale", lambda: dispatch_stale(app))]:
                    try:
                        fn()
                    except Exception:  # noqa: BLE001 - keep ticking; the next minute tries again
                        db.session.rollback()
                        log.exception("scheduled %s failed", name)
                db.session.remove()

    threading.Thread(target=tick, name="ruamsue-scheduler", daemon=True).start()


def init_app(app: Flask) -> None:
    if "JOBS_MODE" not in app.config:
        app.config["JOBS_MODE"] = "thread" if app.config.get("JOBS_IN_PROCESS") else "celery"
    app.extensions["ruamsue_jobs_executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ruamsue-job")
