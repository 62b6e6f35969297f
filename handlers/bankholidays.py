"""Bank holidays in England and Wales, for the meeting warning and the weekly digest's day.

The dates come from the `holidays` package's England list, which mirrors gov.uk's
(https://www.gov.uk/bank-holidays): a bank holiday is a weekday on it. When Christmas Day or New
Year's Day falls at a weekend, gov.uk's bank holiday is the weekday "substitute day" after it, and
so is ours: the weekend date itself is not a bank holiday (no school day is lost on it)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

SATURDAY = 5
REGION = "England and Wales"


@cache
def _england(year: int) -> dict[date, str]:
    # One year's list at a time, cached: the package computes them (Easter, substitutes).
    listed = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return {day: str(name) for day, name in listed.items()}


def bank_holiday(day: date) -> str | None:
    """The bank holiday's name ("Easter Monday", "Christmas Day (observed)") if `day` is one
    in England and Wales, else None."""
    if day.weekday() >= SATURDAY:
        return None
    return _england(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday."""
    return day.weekday() < SATURDAY and bank_holiday(day) is None


def next_working_day(day: date) -> date:
    """The first working day after `day`."""
    following = day + timedelta(days=1)
    while not is_working_day(following):
        following += timedelta(days=1)
    return following
