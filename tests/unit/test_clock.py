"""bot.clock: the fake clock tests move by hand, and the system clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock, SystemClock

PARIS = ZoneInfo("Europe/Paris")


def test_fake_clock_refuses_naive_start() -> None:
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1, 12, 0))


def test_fake_clock_gives_utc_and_stands_still() -> None:
    clock = FakeClock(datetime(2026, 3, 29, 3, 30, tzinfo=PARIS))
    assert clock.now() == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.now() == clock.now()


def test_fake_clock_advances() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(minutes=90))
    assert clock.now() == datetime(2026, 1, 1, 1, 30, tzinfo=UTC)
    clock.advance(timedelta(days=1))
    assert clock.now() == datetime(2026, 1, 2, 1, 30, tzinfo=UTC)


def test_fake_clock_set_converts_to_utc() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.set(datetime(2026, 7, 14, 22, 0, tzinfo=PARIS))
    assert clock.now() == datetime(2026, 7, 14, 20, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_fake_clock_set_refuses_naive() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 1, 12, 0))


def test_system_clock_is_aware_utc_and_current() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
