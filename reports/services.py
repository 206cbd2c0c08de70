"""The monthly summary: live figures of a month in progress, stored versions, the committee's review, jobs.

Reading never writes. A month that has not ended (in the network's time zone) is computed when asked and
shown as provisional, "as of" the moment it was computed; nothing is stored. After the month ends the beat
builds its version (the final one, even when an earlier version exists from before the month ended). A
change that lands in a month after its version was built (``core.events.month_data_changed``: a late
receipt, a backdated delivery, a payment) makes the month stale and enqueues a rebuild: an unreviewed
version is replaced in place; a reviewed one is never touched, and a new version is written, flagged as
changed since sign-off with the figures that moved. See docs/summaries.md.

The figures themselves are computed by ``reports.figures`` (set-based, in the database).
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import jobs
from core.audit import record
from core.clock import utcnow
from core.db import affected, db
from core.errors import Conflict, Forbidden, InvalidInput, Msg, NotFound
from core.fields import require_int, require_text
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
        if latest is not None and latest.reviewed_at is not None and latest.data == data:
            db.session.commit()
            return latest, False  # signed and nothing moved: no new version
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
    if not _has_ended(network, month):
        raise Conflict(Msg("The month is still in progress; its figures are shown live until it ends.",
                           "month_in_progress"), month=month)
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
        latest = _latest(network.id, month)
        if latest is not None and latest.built_at >= periods.start_of(tz, local.year, local.month):
            continue  # built after the month ended: final (later changes rebuild it through mark_stale)
        # A version built before the month ended (by an older release) is not final: build it again.
        key = f"summary:{network.id}:{month}:v1" if latest is None else f"summary:{network.id}:{month}:final"
        if db.session.scalar(select(Job.id).where(Job.dedupe_key == key)) is not None:
            continue
        jobs.enqueue(SUMMARY_JOB, {"network_id": network.id, "month": month}, network_id=network.id,
                     dedupe_key=key)
        enqueued += 1
    db.session.commit()
    return enqueued


def mark_stale(_sender: object = None, *, network_id: int, at: datetime) -> None:
    """A change landed in a month (``core.events.month_data_changed``): if that month has a stored version,
    enqueue its rebuild in the caller's transaction. A month with none is shown live (or built at its end)."""
    network = db.session.get(Network, network_id)
    if network is None:
        return
    month = periods.month_of(periods.zone(network.timezone), at)
    if _latest(network_id, month) is None:
        return
    prefix = f"summary:{network_id}:{month}:"
    waiting = db.session.scalar(
        select(Job.id).where(Job.kind == SUMMARY_JOB, Job.network_id == network_id, Job.state == "pending",
                             Job.dedupe_key.like(prefix + "%")).limit(1))
    if waiting is not None:
        return  # a build that has not started yet will see this change
    jobs.enqueue(SUMMARY_JOB, {"network_id": network_id, "month": month}, network_id=network_id,
                 dedupe_key=f"{prefix}stale:{uuid.uuid4().hex[:12]}")


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


class FigureChange(TypedDict):
    """A figure that moved since the signed version: the network's (group_id None) or a group's."""

    figure: str
    group_id: int | None
    name: str | None
    before: str | None
    after: str | None


class SummaryView(SummaryFigures):
    """A month's summary as the actor may see it: a stored version with its review, or (provisional) the
    month in progress computed live, stored nowhere."""

    id: int | None
    version: int | None
    built_at: datetime
    reviewed_at: datetime | None
    reviewed_by_id: int | None
    reviewed_by: str | None
    meeting_date: date | None
    attendance: int | None
    notes: str
    versions: list[SummaryVersion]
    provisional: bool
    as_of: datetime
    changed_since_sign_off: bool
    signed_version: int | None
    changes: list[FigureChange]


def _visible(actor: User, figures: Any) -> SummaryView:
    data = cast(SummaryView, dict(figures))
    if not is_committee(actor):
        # A group sees the network's line and its own, never another group's figures.
        data["groups"] = [g for g in data.get("groups", []) if g["group_id"] == actor.group_id]
    return data


_MOVING = ("spend", "baseline", "savings", "fees", "income_gain", "registered_poor_savings", "price_reduction",
           "tier_attainment", "pooling_gain")
_GROUP_MOVING = ("spend", "baseline", "savings", "fees", "income_gain", "registered_poor_savings")


def figure_changes(signed: Mapping[str, Any], now: Mapping[str, Any]) -> list[FigureChange]:
    """The figures that moved between the signed version and this one: the network's, then each group's."""
    was, is_ = signed.get("network", {}), now.get("network", {})
    out = [FigureChange(figure=key, group_id=None, name=None, before=was.get(key), after=is_.get(key))
           for key in _MOVING if was.get(key) != is_.get(key)]
    before = {g["group_id"]: g for g in signed.get("groups", [])}
    after = {g["group_id"]: g for g in now.get("groups", [])}
    for group_id in sorted(set(before) | set(after)):
        b, a = before.get(group_id, {}), after.get(group_id, {})
        for key in _GROUP_MOVING:
            if b.get(key) != a.get(key):
                out.append(FigureChange(figure=key, group_id=group_id, name=a.get("name") or b.get("name"),
                                        before=b.get(key), after=a.get(key)))
    return out


def _present(actor: User, summary: MonthlySummary) -> SummaryView:
    data = _visible(actor, summary.data)
    versions = db.session.execute(
        select(MonthlySummary.version, MonthlySummary.built_at, MonthlySummary.reviewed_at)
        .where(MonthlySummary.network_id == summary.network_id, MonthlySummary.month == summary.month)
        .order_by(MonthlySummary.version)).all()
    signed = max((v for v, _, r in versions if r is not None and v < summary.version), default=None)
    changes: list[FigureChange] = []
    if signed is not None:
        signed_row = db.session.scalar(select(MonthlySummary).where(
            MonthlySummary.network_id == summary.network_id, MonthlySummary.month == summary.month,
            MonthlySummary.version == signed))
        assert signed_row is not None
        changes = figure_changes(_visible(actor, signed_row.data), data)
    reviewer = db.session.get(User, summary.reviewed_by_id) if summary.reviewed_by_id else None
    data.update({
        "id": summary.id, "month": summary.month, "version": summary.version, "built_at": summary.built_at,
        "reviewed_at": summary.reviewed_at, "reviewed_by_id": summary.reviewed_by_id,
        "reviewed_by": reviewer.name if reviewer is not None else None,
        "meeting_date": summary.meeting_date, "attendance": summary.attendance, "notes": summary.notes or "",
        "versions": [SummaryVersion(version=v, built_at=b, reviewed_at=r) for v, b, r in versions],
        "provisional": False, "as_of": summary.built_at,
        "changed_since_sign_off": signed is not None, "signed_version": signed, "changes": changes,
    })
    return data


def _live(actor: User, month: str) -> SummaryView:
    """A month in progress (or ended and not built yet): computed now, stored nowhere."""
    now = utcnow()
    data = _visible(actor, compute_summary(actor.network_id, month))
    data.update({"id": None, "month": month, "version": None, "built_at": now, "reviewed_at": None,
                 "reviewed_by_id": None, "reviewed_by": None, "meeting_date": None, "attendance": None,
                 "notes": "", "versions": [], "provisional": True, "as_of": now,
                 "changed_since_sign_off": False, "signed_version": None, "changes": []})
    return data


def get_summary(actor: User, month: str, version: int | None = None) -> SummaryView:
    """The stored summary as the actor may see it: committee and admin everything; a leader or a
    seller the network line and their own group's line."""
    if not is_committee(actor) and actor.group_id is None:
        raise Forbidden("You see the summary of your own group only.")
    month = _label(month)
    if version is None and _has_begun(actor, month):
        network = db.session.get_one(Network, actor.network_id)
        latest = _latest(actor.network_id, month) if _has_ended(network, month) else None
        # Reading never writes: a month in progress, or ended and not built yet, is computed live.
        return _present(actor, latest) if latest is not None else _live(actor, month)
    return _present(actor, _stored(actor, month, version))


def stored_summary(actor: User, month: str) -> SummaryView | None:
    """The latest stored version, or None; never computes (lists of months, the home page)."""
    if not is_committee(actor) and actor.group_id is None:
        raise Forbidden("You see the summary of your own group only.")
    latest = _latest(actor.network_id, _label(month))
    return _present(actor, latest) if latest is not None else None


def month_in_progress(actor: User, month: str) -> bool:
    network = db.session.get_one(Network, actor.network_id)
    return _has_begun(actor, month) and not _has_ended(network, _label(month))


def _label(month: str) -> str:
    return periods.label(*periods.parse_month(month))


def _has_ended(network: Network, month: str) -> bool:
    tz = periods.zone(network.timezone)
    year, mon = periods.add_months(*periods.parse_month(month), 1)
    return periods.start_of(tz, year, mon) <= utcnow()


def _has_begun(actor: User, month: str) -> bool:
    network = db.session.get_one(Network, actor.network_id)
    tz = periods.zone(network.timezone)
    return periods.start_of(tz, *periods.parse_month(month)) <= utcnow()


def network_today(actor: User) -> date:
    """Today's date where the network is: a meeting at 00:30 on the 1st in Bangkok is on the 1st, although
    the server's UTC clock still reads the last day of the month before."""
    network = db.session.get_one(Network, actor.network_id)
    return utcnow().astimezone(periods.zone(network.timezone)).date()


def review(actor: User, month: str, meeting_date: date, attendance: int, notes: str = "") -> SummaryView:
    """The committee signs the latest version off; from then on it never changes."""
    if not is_committee(actor):
        raise Forbidden("Only the committee reviews the monthly summary.")
    attendance = require_int("attendance", attendance, maximum=100_000)
    notes = require_text("notes", notes, max_length=5000)
    if meeting_date > network_today(actor):
        raise InvalidInput(Msg("The meeting cannot be in the future.", "meeting_in_future"),
                           {"meeting_date": [Msg("In the future.", "in_future")]})
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
