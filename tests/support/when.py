"""Meeting times relative to today, written the way UK heads write them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from handlers.dates import MONTHS, WEEKDAYS
from handlers.schoolyear import today_in_london
from storage.types import LONDON, utcnow


def day_ahead(days: int, now: datetime | None = None) -> date:
    """The date `days` after today in London."""
    return ((now or utcnow()).astimezone(LONDON) + timedelta(days=days)).date()


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def uk_long(day: date, times: str = "11.30am-12.30pm") -> str:
    """"Thursday 5th February 11.30am-12.30pm", with the year when it is not this year's."""
    year = f" {day.year}" if day.year != today_in_london().year else ""
    return f"{WEEKDAYS[day.weekday()]} {ordinal(day.day)} {MONTHS[day.month - 1]}{year} {times}"


def uk_short(day: date, times: str = "11:30 to 12:30") -> str:
    """"5/2/2027 11:30 to 12:30"."""
    return f"{day.day}/{day.month}/{day.year} {times}"


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def day_before(start: datetime) -> datetime:
    """When a "1 day before" reminder of a meeting starting at `start` is due: the same time on
    the school's clock the day before, in UTC. Across a clock change that is 23 or 25 hours
    before, not 24."""
    local = start.astimezone(LONDON)
    earlier = datetime.combine(local.date() - timedelta(days=1), local.time(), tzinfo=LONDON)
    return earlier.astimezone(UTC)
