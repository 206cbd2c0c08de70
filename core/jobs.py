"""Background jobs: an outbox row written with the change, handed to a worker only after commit.

``enqueue`` adds a :class:`Job` row to the current transaction. When that transaction commits, the
job is sent to Celery (production) or to a thread of this process (embedded default). If it is never
sent (broker down, process killed between commit and send), ``dispatch_stale`` sends it later.
Handlers are idempotent services, so a job that runs twice changes nothing the second time.
"""
from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, event, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.db import db, is_postgres
from core.logs import job_id_var
from core.metrics import record_job
from core.models import Job

log = logging.getLogger(__name__)

Handler = Callable[..., "dict[str, Any] | None"]
# Job kinds and their handlers (``@handler("kind")``): run by a Celery worker or a thread of this process.
HANDLERS: dict[str, Handler] = {}


@dataclass(frozen=True)
class Periodic:
    """Periodic work: what Celery beat sends in production and the embedded scheduler runs in-process.

    ``fn`` is the service the embedded scheduler calls; ``task`` is the Celery task (in ``tasks/``, the
    Celery edge) beat sends, which calls the same service. ``every`` seconds between runs under beat,
    or hourly at ``minute`` past the hour; ``BEAT_INTERVAL`` overrides both (tests, demos).
    """

    name: str
    fn: Callable[[], object]
    task: str
    every: float = 60.0
    minute: int | None = None

    @property
    def beat_key(self) -> str:
        return self.name.replace("_", "-")


# The one registry of periodic work: both the beat schedule and the embedded scheduler are built from it.
PERIODIC: dict[str, Periodic] = {}


def periodic(name: str, fn: Callable[[], object], *, task: str, every: float = 60.0, minute: int | None = None) -> None:
    """Register periodic work (idempotent: the same name replaces the entry)."""
    PERIODIC[name] = Periodic(name, fn, task, every, minute)


# What a domain does when a job of its kind fails for good: ``fn(payload, reason)``, in a transaction of its
# own that is committed after it (a buying round becomes ``combine_failed`` with the reason, say).
FailureHook = Callable[[dict[str, Any], str], None]
FAILURE_HOOKS: dict[str, FailureHook] = {}


def handler(kind: str, *, on_failure: FailureHook | None = None) -> Callable[[Handler], Handler]:
    """Register the handler of a job kind: ``@handler("combine_round") def combine_round(round_id): ...``."""
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if on_failure is not None:
            FAILURE_HOOKS[kind] = on_failure
        return fn

    return register


def backoff_seconds(attempt: int, app: Flask | None = None) -> float:
    """Exponential back-off with jitter before retry number ``attempt`` (1, 2, ...): a random time between
    half and all of ``JOB_RETRY_BASE`` x 2^(attempt-1), at most ``JOB_RETRY_MAX`` (both in seconds)."""
    config = (app or current_app).config
    base = float(config.get("JOB_RETRY_BASE", 2.0))
    cap = float(config.get("JOB_RETRY_MAX", 60.0))
    ceiling: float = min(cap, base * 2.0 ** max(0, attempt - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


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
        if existing is not None and existing.state == "failed":
            # A failed job is never handed back for its key: it keeps its history under another key, and
            # the same effect is asked for again as a new job.
            existing.dedupe_key = f"{dedupe_key}:failed:{existing.id[:8]}"
            db.session.flush()
        elif existing is not None:
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
        app.extensions["celery"].send_task("ruamsue.run_job", args=[job_id], retry=False, ignore_result=True)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep re-sends it
        log.warning("could not send job %s to the broker; the sweep will retry", job_id, exc_info=True)
        return False
    return True


def _run_in_app(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            if run_job(job_id) == "retry":
                # Back off (exponential, with jitter) without holding the job thread: a timer resubmits it.
                job = db.session.get(Job, job_id)
                delay = backoff_seconds(job.attempts if job is not None else 1, app)
                db.session.rollback()
                executor: ThreadPoolExecutor = app.extensions["ruamsue_jobs_executor"]
                timer = threading.Timer(delay, executor.submit, args=(_run_in_app, app, job_id))
                timer.daemon = True
                timer.start()
        except Exception:  # noqa: BLE001 - recorded on the job row
            log.exception("job %s crashed", job_id)
        finally:
            db.session.remove()


def run_job(job_id: str) -> str:
    """Run one job: claim it, call its handler, record the result. Returns the job's state or 'retry'.

    A lease (a PostgreSQL advisory lock on a connection of its own, which the server drops the moment
    the holding process dies) makes a second delivery of a job that is still being run a no-op: the
    sweep may re-send a job that waits in a long queue, and Redis re-delivers after a worker died.
    """
    lease = _Lease(job_id)
    if not lease.acquire():
        job = db.session.get(Job, job_id)
        state = job.state if job is not None else "missing"
        db.session.rollback()
        return "running" if state == "pending" else state
    try:
        return _run_leased(job_id)
    finally:
        lease.release()


def _run_leased(job_id: str) -> str:
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
        reason = f"gave up after {attempts - 1} attempts"
        _finish(job_id, "failed", error=reason)
        record_job(kind, "failed", 0.0)
        _failed_for_good(kind, payload, f"It was stopped {attempts - 1} times before it could finish.")
        return "failed"
    fn = HANDLERS.get(kind)
    if fn is None:
        _finish(job_id, "failed", error=f"no handler for {kind}")
        record_job(kind, "failed", 0.0)
        return "failed"
    started = time.perf_counter()
    token = job_id_var.set(job_id)
    try:
        outcome = _call(job_id, kind, fn, payload, attempts, max_attempts)
    finally:
        job_id_var.reset(token)
    record_job(kind, outcome, time.perf_counter() - started)
    return outcome


def _call(job_id: str, kind: str, fn: Callable[..., dict[str, Any] | None], payload: dict[str, Any] | None,
          attempts: int, max_attempts: int) -> str:
    try:
        result = fn(**(payload or {}))
    except PermanentJobError as exc:
        db.session.rollback()
        _finish(job_id, "failed", error=str(exc))
        _failed_for_good(kind, payload, str(exc))
        return "failed"
    except Exception as exc:
        db.session.rollback()
        error = traceback.format_exc(limit=5)
        if attempts >= max_attempts:
            _finish(job_id, "failed", error=error)
            _failed_for_good(kind, payload, f"It failed {attempts} times in a row; the last time: {_plain(exc)}")
            return "failed"
        db.session.execute(update(Job).where(Job.id == job_id).values(state="pending", error=error))
        db.session.commit()
        return "retry"
    _finish(job_id, "succeeded", result=result or {})
    return "succeeded"


def _plain(exc: BaseException) -> str:
    """An exception in one line a person can read (no traceback, no SQL)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError):
        return "the database was busy or did not answer in time."
    if isinstance(exc, DBAPIError):
        return "the database refused a change."
    text_ = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text_[:300]


def _failed_for_good(kind: str, payload: dict[str, Any] | None, reason: str) -> None:
    hook = FAILURE_HOOKS.get(kind)
    if hook is None:
        return
    try:
        hook(dict(payload or {}), reason)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the job is failed already; the hook's failure is logged
        db.session.rollback()
        log.exception("the failure hook of %s failed", kind)


class _Lease:
    """Held while a job runs. PostgreSQL: a session advisory lock, released by the server when the
    holder's connection ends (a worker killed with -9 included). Elsewhere (the embedded SQLite
    default, one process): a set of the job ids this process is running."""

    _local: set[str] = set()
    _local_lock = threading.Lock()

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.key = int.from_bytes(hashlib.sha256(job_id.encode()).digest()[:8], "big", signed=True)
        self.conn: Any = None
        self.local = False

    def acquire(self) -> bool:
        engine = db.engine
        if not is_postgres(engine):
            with self._local_lock:
                if self.job_id in self._local:
                    return False
                self._local.add(self.job_id)
                self.local = True
                return True
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception:
            self.conn.invalidate()
            self.conn.close()
            self.conn = None
            raise
        if not got:
            self.conn.close()
            self.conn = None
        return got

    def release(self) -> None:
        if self.local:
            with self._local_lock:
                self._local.discard(self.job_id)
            return
        if self.conn is None:
            return
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:  # noqa: BLE001 - the connection died: the server dropped the lock with it
            self.conn.invalidate()
        finally:
            self.conn.close()
            self.conn = None


def _finish(job_id: str, state: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    db.session.execute(
        update(Job).where(Job.id == job_id).values(state=state, result=result, error=error, finished_at=utcnow())
    )
    db.session.commit()


def dispatch_stale(app: Flask, older_than: timedelta | None = None) -> int:
    """Re-send jobs nobody is running.

    A pending job whose last start (or creation) is older than ``JOB_STALE_AFTER``: the broker was
    down, the sender died after commit, or Redis lost the queued message. A running job older than
    the task time limit: its worker was stopped by the limit (which acknowledges the message) or died
    with the message gone; the attempt counter still turns a job that always dies into ``failed``.
    """
    if older_than is None:
        older_than = timedelta(seconds=float(app.config.get("JOB_STALE_AFTER", 60)))
    now = utcnow()
    cutoff = now - older_than
    time_limit = (app.config.get("CELERY") or {}).get("task_time_limit") or 3600
    dead_cutoff = now - timedelta(seconds=float(time_limit) + 60)
    job_ids = db.session.scalars(
        select(Job.id).where(or_(
            and_(Job.state == "pending", func.coalesce(Job.started_at, Job.created_at) < cutoff),
            and_(Job.state == "running", Job.started_at < dead_cutoff),
        )).order_by(Job.created_at).limit(500)
    ).all()
    db.session.rollback()
    sent = 0
    for job_id in job_ids:
        if send(app, job_id):
            sent += 1
        else:
            break  # the broker is down: the next sweep tries again
    return sent


def get_job(actor: Any, job_id: str) -> Job:
    """A job as its network sees it; another network's job does not exist."""
    from core.errors import NotFound

    job = db.session.get(Job, job_id)
    if job is None or job.network_id != actor.network_id:
        raise NotFound("No such job.")
    return job


def job_of_page(actor: Any, job_id: str | None) -> Job | None:
    """The job a page shows progress for, or None for a missing or foreign one.

    A page that shows a job's outcome must read the job before the data the job writes: the page's
    script reloads only when the state it sees differs from the one the page was drawn with, so a page
    drawn with the job already done must also be drawn with what the job wrote. Read in the other order,
    a job finishing between the two reads leaves a page saying "done" over the old data, for good.
    """
    from core.errors import DomainError

    if not job_id:
        return None
    try:
        return get_job(actor, job_id)
    except DomainError:
        return None


def start_scheduler(app: Flask, interval: float = 60.0) -> None:
    """Embedded default: what Celery beat does in production, from a thread of this process."""
    import threading

    def tick() -> None:
        while True:
            time.sleep(interval)
            with app.app_context():
                for entry in list(PERIODIC.values()):
                    try:
                        entry.fn()
                    except Exception:  # noqa: BLE001 - keep ticking; the next minute tries again
                        db.session.rollback()
                        log.exception("scheduled %s failed", entry.name)
                db.session.remove()

    threading.Thread(target=tick, name="ruamsue-scheduler", daemon=True).start()


def _dispatch_stale_now() -> int:
    return dispatch_stale(current_app._get_current_object())  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    periodic("dispatch_stale_jobs", _dispatch_stale_now, task="ruamsue.dispatch_stale_jobs")
    if "JOBS_MODE" not in app.config:
        app.config["JOBS_MODE"] = "thread" if app.config.get("JOBS_IN_PROCESS") else "celery"
    app.extensions["ruamsue_jobs_executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ruamsue-job")
