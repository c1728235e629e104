"""Time: an injectable clock, so tests can move time and nothing calls ``datetime.now``
directly, and the local day in the service's zone.

Times are stored in UTC. "Today", "08:00" and a report's period are days in one zone,
``Settings.timezone`` (Europe/London unless set): ``core.bootstrap.Container`` hands it to each
unit of work as ``uow.zone``, and to the faces' translators, so the web app, the bot and core
always agree on what day it is. The helpers here take the zone; none assumes London.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# Settings.timezone's default, for a unit of work built without a container (tests, benches).
DEFAULT_ZONE = ZoneInfo("Europe/London")


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The date in ``zone`` at the aware instant ``moment``."""
    return moment.astimezone(zone).date()


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``at`` o'clock in ``zone`` on ``day``, as an aware datetime (convert with ``astimezone``)."""
    return datetime.combine(day, at, tzinfo=zone)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Midnight to midnight in ``zone`` on ``day`` (23 or 25 hours long on a clock-change day)."""
    return local_moment(day, time(0), zone), local_moment(day + timedelta(days=1), time(0), zone)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests and deterministic seeding."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta
