"""The monthly summary: stored versions, the committee's review, the jobs.

The figures themselves are computed by ``reports.figures`` (set-based, in the database).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import jobs
from core.audit import record
from core.clock import utcnow
from core.db import affected, db
from core.errors import Msg, Conflict, Forbidden, InvalidInput, NotFound
from core.models import Job
from network.models import Network, User
from network.permissions import is_committee
from reports import events, periods
from reports.figures import SummaryFigures, compute_summary
from reports.models import MonthlySummary

SUMMARY_JOB = "build_summary"


# --- stored versions -------------------------------------------------------------------------------

def _latest(network_id: int, month: str, *, lock: bool = False) -> MonthlySummary | None:
    query = (select(MonthlySummary).where(MonthlySummary.network_id == network_id, MonthlySummary.month == month)
             .order_by(MonthlySummary.version.desc()).limit(1))
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def build_summary(network_id: int, month: str) -> tuple[MonthlySummary, bool]:
    """Compute and store the month. Returns (summary, changed). Safe to run twice or in parallel:
    an unreviewed version is replaced in place (or left alone when nothing changed); a reviewed one
    is never touched and the next version is written; (network, month, version) is unique."""
    year, mon = periods.parse_month(month)
    month = periods.label(year, mon)
    data: dict[str, Any] = dict(compute_summary(network_id, month))
    for _ in range(5):
        latest = _latest(network_id, month, lock=True)
        if latest is not None and latest.reviewed_at is None:
            if latest.data == data:
                events.summary_ready(latest)  # once per version: a month that just ended, built unchanged
                db.session.commit()
                return latest, False
            latest.data = data
            latest.built_at = utcnow()
            events.summary_ready(latest)
            db.session.commit()
            return latest, True
        summary = MonthlySummary(network_id=network_id, month=month, data=data, built_at=utcnow(), notes="",
                                 version=1 if latest is None else latest.version + 1)
        try:
            with db.session.begin_nested():
                db.session.add(summary)
        except IntegrityError:
            continue  # a parallel build wrote that version first: look again
        events.summary_ready(summary)
        db.session.commit()
        return summary, True
    raise Conflict(f"Could not store the summary of {month}; try again.")


@jobs.handler(SUMMARY_JOB)
def build_summary_job(network_id: int, month: str) -> dict[str, Any]:
    if db.session.get(Network, network_id) is None:
        raise jobs.PermanentJobError(f"network {network_id} does not exist")
    try:
        summary, changed = build_summary(network_id, month)
    except InvalidInput as exc:
        raise jobs.PermanentJobError(exc.message) from exc
    return {"network_id": network_id, "month": summary.month, "version": summary.version, "changed": changed}


def _next_version(network_id: int, month: str) -> int:
    latest = _latest(network_id, month)
    if latest is None:
        return 1
    return latest.version if latest.reviewed_at is None else latest.version + 1


def rebuild(actor: User, month: str) -> Job:
    """On demand (committee): a job that builds the month. A build already waiting is returned."""
    if not is_committee(actor):
        raise Forbidden("Only the committee rebuilds the monthly summary.")
    year, mon = periods.parse_month(month)
    month = periods.label(year, mon)
    network = db.session.get_one(Network, actor.network_id)
    tz = periods.zone(network.timezone)
    if periods.start_of(tz, year, mon) > utcnow():
        raise InvalidInput("That month has not begun yet.", {"month": [Msg("In the future.", "in_future")]})
    prefix = f"summary:{network.id}:{month}:"
    waiting = db.session.scalar(
        select(Job).where(Job.kind == SUMMARY_JOB, Job.network_id == network.id, Job.state.in_(("pending", "running")),
                          Job.dedupe_key.like(prefix + "%")).order_by(Job.created_at).limit(1))
    if waiting is not None:
        return waiting
    key = f"{prefix}v{_next_version(network.id, month)}:{uuid.uuid4().hex[:12]}"
    job = jobs.enqueue(SUMMARY_JOB, {"network_id": network.id, "month": month}, network_id=network.id,
                       dedupe_key=key)
    record(actor, "summary.rebuild", "monthly_summary", month, None, {"job_id": job.id})
    db.session.commit()
    return job


def enqueue_due_summaries(now: datetime | None = None) -> int:
    """Beat (hourly): in each network whose clock has reached the 1st, build last month's summary
    once. The dedupe key makes repeated beats (or two beat processes) enqueue a single job."""
    now = now or utcnow()
    enqueued = 0
    for network in db.session.scalars(select(Network).order_by(Network.id)):
        tz = periods.zone(network.timezone)
        local = now.astimezone(tz)
        year, mon = periods.add_months(local.year, local.month, -1)
        month = periods.label(year, mon)
        if network.created_at is not None and network.created_at >= periods.start_of(tz, local.year, local.month):
            continue  # the network did not exist last month
        if _latest(network.id, month) is not None:
            continue
        key = f"summary:{network.id}:{month}:v1"
        if db.session.scalar(select(Job.id).where(Job.dedupe_key == key)) is not None:
            continue
        jobs.enqueue(SUMMARY_JOB, {"network_id": network.id, "month": month}, network_id=network.id,
                     dedupe_key=key)
        enqueued += 1
    db.session.commit()
    return enqueued


# --- reading and review ----------------------------------------------------------------------------

def _stored(actor: User, month: str, version: int | None = None) -> MonthlySummary:
    year, mon = periods.parse_month(month)
    month = periods.label(year, mon)
    if version is None:
        summary = _latest(actor.network_id, month)
    else:
        summary = db.session.scalar(select(MonthlySummary).where(
            MonthlySummary.network_id == actor.network_id, MonthlySummary.month == month,
            MonthlySummary.version == version))
    if summary is None:
        raise NotFound(f"No summary of {month} has been built yet.", month=month)
    return summary


class SummaryVersion(TypedDict):
    version: int
    built_at: datetime
    reviewed_at: datetime | None


class SummaryView(SummaryFigures):
    """A stored version of a month's summary as the actor may see it, with its review."""

    id: int
    version: int
    built_at: datetime
    reviewed_at: datetime | None
    reviewed_by_id: int | None
    reviewed_by: str | None
    meeting_date: date | None
    attendance: int | None
    notes: str
    versions: list[SummaryVersion]


def _present(actor: User, summary: MonthlySummary) -> SummaryView:
    data = cast(SummaryView, dict(summary.data))
    if not is_committee(actor):
        # A group sees the network's line and its own, never another group's figures.
        data["groups"] = [g for g in data.get("groups", []) if g["group_id"] == actor.group_id]
    versions = db.session.execute(
        select(MonthlySummary.version, MonthlySummary.built_at, MonthlySummary.reviewed_at)
        .where(MonthlySummary.network_id == summary.network_id, MonthlySummary.month == summary.month)
        .order_by(MonthlySummary.version)).all()
    reviewer = db.session.get(User, summary.reviewed_by_id) if summary.reviewed_by_id else None
    data.update({
        "id": summary.id, "month": summary.month, "version": summary.version, "built_at": summary.built_at,
        "reviewed_at": summary.reviewed_at, "reviewed_by_id": summary.reviewed_by_id,
        "reviewed_by": reviewer.name if reviewer is not None else None,
        "meeting_date": summary.meeting_date, "attendance": summary.attendance, "notes": summary.notes or "",
        "versions": [SummaryVersion(version=v, built_at=b, reviewed_at=r) for v, b, r in versions],
    })
    return data


def get_summary(actor: User, month: str, version: int | None = None) -> SummaryView:
    """The stored summary as the actor may see it: committee and admin everything; a leader or a
    seller the network line and their own group's line."""
    if not is_committee(actor) and actor.group_id is None:
        raise Forbidden("You see the summary of your own group only.")
    if version is None and _latest(actor.network_id, _label(month)) is None and _has_begun(actor, month):
        # The first look at a month builds it (set-based, fast): the meeting never finds an empty page.
        build_summary(actor.network_id, month)
    return _present(actor, _stored(actor, month, version))


def _label(month: str) -> str:
    return periods.label(*periods.parse_month(month))


def _has_begun(actor: User, month: str) -> bool:
    network = db.session.get_one(Network, actor.network_id)
    tz = periods.zone(network.timezone)
    return periods.start_of(tz, *periods.parse_month(month)) <= utcnow()


def review(actor: User, month: str, meeting_date: date, attendance: int, notes: str = "") -> SummaryView:
    """The committee signs the latest version off; from then on it never changes."""
    if not is_committee(actor):
        raise Forbidden("Only the committee reviews the monthly summary.")
    if attendance < 0:
        raise InvalidInput("Attendance cannot be negative.", {"attendance": [Msg("Must be 0 or more.", "must_not_be_negative")]})
    summary = _stored(actor, month)
    if summary.reviewed_at is not None:
        raise Conflict(f"Version {summary.version} of {summary.month} has been reviewed already.",
                       version=summary.version)
    now = utcnow()
    done = affected(db.session.execute(
        update(MonthlySummary).where(MonthlySummary.id == summary.id, MonthlySummary.reviewed_at.is_(None))
        .values(reviewed_at=now, reviewed_by_id=actor.id, meeting_date=meeting_date, attendance=attendance,
                notes=notes or "")
    ))
    if not done:
        db.session.rollback()
        raise Conflict(f"{summary.month} has just been reviewed by someone else.")
    record(actor, "summary.review", "monthly_summary", summary.id, None,
           {"month": summary.month, "version": summary.version, "meeting_date": meeting_date,
            "attendance": attendance, "notes": notes})
    db.session.commit()
    db.session.refresh(summary)
    return _present(actor, summary)
