"""Quiet hours: pure times in, a time out."""
from __future__ import annotations

from datetime import UTC, datetime, time

from notifications.quiet import in_quiet_hours, release_time

NIGHT = (time(21, 0), time(7, 0))


def test_window_spanning_midnight():
    assert in_quiet_hours(time(21, 0), *NIGHT)
    assert in_quiet_hours(time(23, 59), *NIGHT)
    assert in_quiet_hours(time(0, 0), *NIGHT)
    assert in_quiet_hours(time(6, 59), *NIGHT)
    assert not in_quiet_hours(time(7, 0), *NIGHT)
    assert not in_quiet_hours(time(20, 59), *NIGHT)


def test_window_within_a_day_and_no_window():
    assert in_quiet_hours(time(13, 0), time(12, 0), time(14, 0))
    assert not in_quiet_hours(time(14, 0), time(12, 0), time(14, 0))
    assert not in_quiet_hours(time(3, 0), time(0, 0), time(0, 0))


def test_release_is_the_next_morning_in_the_networks_zone():
    evening = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # 22:30 Bangkok
    assert release_time(evening, "Asia/Bangkok", *NIGHT) == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    small_hours = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # 03:00 Bangkok, the 3rd
    assert release_time(small_hours, "Asia/Bangkok", *NIGHT) == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    day = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 Bangkok
    assert release_time(day, "Asia/Bangkok", *NIGHT) == day
    # The same moment is night in Bangkok but daytime in London.
    assert release_time(evening, "Europe/London", *NIGHT) == evening
