"""Quiet hours: when LINE and e-mail wait for the morning. Pure: times in, a time out."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet_hours(local: time, quiet_from: time, quiet_until: time) -> bool:
    """Whether a local wall-clock time falls in [quiet_from, quiet_until); the window may span midnight.
    Equal ends mean no quiet hours."""
    if quiet_from == quiet_until:
        return False
    if quiet_from < quiet_until:
        return quiet_from <= local < quiet_until
    return local >= quiet_from or local < quiet_until


def release_time(now: datetime, timezone: str, quiet_from: time, quiet_until: time) -> datetime:
    """``now`` when messages may go now, else the end of the quiet hours (in UTC, like ``now``)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time().replace(tzinfo=None), quiet_from, quiet_until):
        return now
    day = local.date()
    if quiet_from > quiet_until and local.time().replace(tzinfo=None) >= quiet_from:
        day += timedelta(days=1)
    return datetime.combine(day, quiet_until, tzinfo=zone).astimezone(now.tzinfo)
