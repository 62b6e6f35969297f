"""Examples with dates in them, made for the day they are shown.

Every example the bot prints that holds a date (help, refusals, form placeholders) comes from
here, so it is still valid when someone copies it: a meeting's example is on a Thursday still to
come, its weekday right; a walk's is a day that has passed. tests/test_examples.py holds every one
to that on each day of a year.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handlers.dates import MONTHS, WEEKDAYS, Prefer
from handlers.schoolyear import school_year_start
from storage.types import LONDON

THURSDAY = 3
# A meeting's example avoids the Christmas break, when schools are shut.
_CHRISTMAS = ((12, 20), (1, 3))


def today_of(now: datetime) -> date:
    """The day on a school's wall clock at `now` (aware)."""
    return now.astimezone(LONDON).date()


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _in_christmas(day: date) -> bool:
    (m1, d1), (m2, d2) = _CHRISTMAS
    return (day.month, day.day) >= (m1, d1) or (day.month, day.day) <= (m2, d2)


def meeting_day(today: date) -> date:
    """A Thursday at least a week ahead, outside the Christmas break."""
    day = today + timedelta(days=7 + (THURSDAY - today.weekday()) % 7)
    while _in_christmas(day):
        day += timedelta(days=7)
    return day


def long_date(day: date, year: bool = False) -> str:
    """"Thursday 10th December" as heads write it (with the year if asked)."""
    text = f"{WEEKDAYS[day.weekday()]} {ordinal(day.day)} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def meeting_when(today: date) -> str:
    """The seed letter's way: "Thursday 10th December 11.30am-12.30pm"."""
    return f"{long_date(meeting_day(today))} 11.30am-12.30pm"


def meeting_when_numeric(today: date) -> str:
    """"10/12 11:30 to 12:30"."""
    day = meeting_day(today)
    return f"{day.day}/{day.month} 11:30 to 12:30"


MEETING_RELATIVE = "Thursday week 3pm for 1 hour"
MEETING_SOON = "tomorrow 9am for 90 minutes"


def past_day(today: date) -> date:
    """A day a week ago: a walk or a session that has happened."""
    return today - timedelta(days=7)


def day_first(day: date) -> str:
    """"3/12/2026"."""
    return f"{day.day}/{day.month}/{day.year}"


def date_examples(today: date, prefer: Prefer) -> str:
    """Three ways of writing a date, all valid today for a date that `prefer` wants: "`3/12/2026`,
    `3 Dec` or `Thursday 3rd December`"."""
    day = {"past": past_day(today), "done": past_day(today), "future": meeting_day(today),
           "nearest": today}[prefer]
    return (f"`{day_first(day)}`, `{day.day} {MONTHS[day.month - 1][:3]}` or "
            f"`{long_date(day)}`")


def when_examples(today: date) -> str:
    """Three ways of writing a meeting's date and time, all still to come today."""
    return (f"`{meeting_when(today)}`, `{MEETING_SOON}` or "
            f"`{meeting_when_numeric(today)}`")



def since_example(today: date) -> str:
    """A `since:` that lists this school year's records: "1/9/2026"."""
    return day_first(school_year_start(today))
