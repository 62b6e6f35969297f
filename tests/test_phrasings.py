"""The phrasings heads use for dates and meeting times, with what each must mean (issue 11).

Read on Monday 30 November 2026 at 09:00 in London unless a row says otherwise. A row expects a
meeting time (`at`), a date (`on`), a question with its readings (`ask`), or a refusal whose
problem says why (`refused`). Every reading a question offers must itself read back as exactly
one time, so choosing it settles the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pytest

from handlers.dates import Ambiguous, DateError, Prefer, parse_date, parse_when
from storage.types import LONDON

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)


@dataclass(frozen=True)
class At:
    day: date
    start: time
    end: time


@dataclass(frozen=True)
class On:
    day: date


@dataclass(frozen=True)
class Ask:
    problem: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    problem: str


Expected = At | On | Ask | Refused


def at(month: int, day: int, start: str, end: str, year: int = 2026) -> At:
    return At(date(year, month, day), time.fromisoformat(start), time.fromisoformat(end))


def on(year: int, month: int, day: int) -> On:
    return On(date(year, month, day))


def ask(problem: str, *choices: str) -> Ask:
    return Ask(problem, choices)


THIS_OR_NEXT = "could mean Thursday 3 December (this week) or Thursday 10 December (next week)"

# (what is typed, what it must mean) for a meeting's `when:`.
WHEN_TABLE: list[tuple[str, Expected]] = [
    # The seed letter's phrasing: 5 February 2027 is a Friday, so it asks, with the nearest
    # Thursday and the date itself.
    ("Thursday 5th February between 11.30am and 12.30pm", ask(
        "“Thursday 5th February” doesn't add up: 5 February 2027 is a Friday, not a Thursday",
        "Thursday 4 February 2027 between 11.30am and 12.30pm",
        "Friday 5 February 2027 between 11.30am and 12.30pm")),
    ("Thursday 4th February between 11.30am and 12.30pm", at(2, 4, "11:30", "12:30", 2027)),
    ("Friday 5th February 11.30am-12.30pm", at(2, 5, "11:30", "12:30", 2027)),
    ("Thursday 5th February 2026 11.30am-12.30pm", Refused("That is in the past")),
    # Ranges
    ("between 11.30am and 12.30pm", at(11, 30, "11:30", "12:30")),
    ("tomorrow between 2 and 3", at(12, 1, "14:00", "15:00")),
    ("from 4 to 5.30pm", at(11, 30, "16:00", "17:30")),
    ("tomorrow from 4 to 5.30pm", at(12, 1, "16:00", "17:30")),
    ("4pm till 5", at(11, 30, "16:00", "17:00")),
    ("Wednesday 4pm till 5", at(12, 2, "16:00", "17:00")),
    ("11.30-12.30", at(11, 30, "11:30", "12:30")),
    ("Friday 11.30-12.30", at(12, 4, "11:30", "12:30")),
    ("9am for 2 hours", at(11, 30, "09:00", "11:00")),
    ("tomorrow 9am for 2 hours", at(12, 1, "09:00", "11:00")),
    ("tomorrow 2pm for 90 minutes", at(12, 1, "14:00", "15:30")),
    ("tomorrow 2pm for half an hour", at(12, 1, "14:00", "14:30")),
    ("tomorrow 2pm for an hour and a half", at(12, 1, "14:00", "15:30")),
    ("tomorrow 2pm for 1.5 hours", at(12, 1, "14:00", "15:30")),
    ("tomorrow 2pm for two hours", at(12, 1, "14:00", "16:00")),
    ("tomorrow 9.30am for 45 mins", at(12, 1, "09:30", "10:15")),
    ("tomorrow 12 noon to 1pm", at(12, 1, "12:00", "13:00")),
    ("tomorrow 9 till 10am", at(12, 1, "09:00", "10:00")),
    ("tomorrow 11-1pm", at(12, 1, "11:00", "13:00")),
    ("tomorrow 6-7", at(12, 1, "18:00", "19:00")),
    # "at" and spoken times; a bare hour is in school hours
    ("tomorrow at 9", at(12, 1, "09:00", "10:00")),
    ("tomorrow at 4", at(12, 1, "16:00", "17:00")),
    ("at 4", at(11, 30, "16:00", "17:00")),
    ("Thu 10 Dec at 4", at(12, 10, "16:00", "17:00")),
    ("Wed 10 Dec at 4", ask("10 December 2026 is a Thursday, not a Wednesday",
                            "Wednesday 9 December 2026 at 4", "Thursday 10 December 2026 at 4")),
    ("tmrw 9am", at(12, 1, "09:00", "10:00")),
    ("tmw 9am", at(12, 1, "09:00", "10:00")),
    ("Thursday at half 3", at(12, 3, "15:30", "16:30")),
    ("Thursday at half past 3", at(12, 3, "15:30", "16:30")),
    ("Friday quarter to 4", at(12, 4, "15:45", "16:45")),
    ("Friday at quarter to 4pm", at(12, 4, "15:45", "16:45")),
    ("tomorrow quarter past 10", at(12, 1, "10:15", "11:15")),
    ("tomorrow at 10 o'clock", at(12, 1, "10:00", "11:00")),
    ("tomorrow 1530", at(12, 1, "15:30", "16:30")),
    ("Friday at 1530", at(12, 4, "15:30", "16:30")),
    ("tomorrow 0930-1030", at(12, 1, "09:30", "10:30")),
    ("tomorrow 07:30", at(12, 1, "07:30", "08:30")),
    ("tomorrow 5 p.m.", at(12, 1, "17:00", "18:00")),
    ("3pm tomorrow", at(12, 1, "15:00", "16:00")),
    ("noon tomorrow", at(12, 1, "12:00", "13:00")),
    ("tomorrow midday", at(12, 1, "12:00", "13:00")),
    ("2pm on Friday 4 December", at(12, 4, "14:00", "15:00")),
    # Relative days
    ("today 4pm", at(11, 30, "16:00", "17:00")),
    ("next Thursday 3pm", ask(THIS_OR_NEXT,
                              "Thursday 3 December 2026 3pm", "Thursday 10 December 2026 3pm")),
    ("3pm next Thursday", ask(THIS_OR_NEXT,
                              "Thursday 3 December 2026 3pm", "Thursday 10 December 2026 3pm")),
    ("next Sunday 10am", ask("“next Sunday” could mean Sunday 6 December (this week) or "
                             "Sunday 13 December",
                             "Sunday 6 December 2026 10am", "Sunday 13 December 2026 10am")),
    ("next Monday 3pm", at(12, 7, "15:00", "16:00")),
    ("this Thursday 3pm", at(12, 3, "15:00", "16:00")),
    ("Thursday 3pm", at(12, 3, "15:00", "16:00")),
    ("Thursday week 3pm", at(12, 10, "15:00", "16:00")),
    ("Monday week 10am", at(12, 7, "10:00", "11:00")),
    ("in 2 weeks 3pm", at(12, 14, "15:00", "16:00")),
    ("in a fortnight 3pm", at(12, 14, "15:00", "16:00")),
    ("in 3 days 10am", at(12, 3, "10:00", "11:00")),
    ("end of January 10am", at(1, 31, "10:00", "11:00", 2027)),
    ("end of term 2pm", at(12, 31, "14:00", "15:00")),
    ("w/c 8 Feb 9am", at(2, 8, "09:00", "10:00", 2027)),
    ("w/c 9 Feb 9am", ask("9 February 2027 is a Tuesday, not a Monday",
                          "Monday 8 February 2027 9am", "Tuesday 9 February 2027 9am")),
    # Years
    ("5/2/27 2pm-3pm", at(2, 5, "14:00", "15:00", 2027)),
    ("5 Feb '27 2pm-3pm", at(2, 5, "14:00", "15:00", 2027)),
    ("5 Feb ’27 2pm-3pm", at(2, 5, "14:00", "15:00", 2027)),
    ("2027-02-05 14:00-15:00", at(2, 5, "14:00", "15:00", 2027)),
    ("Friday 5 February 2027 2pm", at(2, 5, "14:00", "15:00", 2027)),
    ("5/2 14:00-15:00", at(2, 5, "14:00", "15:00", 2027)),
    # Refused, with the reason
    ("31/02 3pm", Refused("February has at most 29 days")),
    ("31/2/2027 3pm", Refused("February has 28 days in 2027")),
    ("12/25 3pm", Refused("It looks month first (American)")),
    ("28 March 2027 01:30", Refused("does not exist in Europe/London")),
    ("31 October 2027 1.30am", Refused("happens twice")),
    ("yesterday 3pm", Refused("That is in the past")),
    ("today 8am", Refused("That is in the past")),
    ("tomorrow 3pm-2pm", Refused("before it starts")),
    ("tomorrow 3pm for ages", Refused("how long the meeting lasts")),
    ("tomorrow 13pm", Refused("with am or pm the hour goes from 1 to 12")),
    ("tomorrow 25:00", Refused("the 24-hour clock goes from 00:00 to 23:59")),
    ("tomorrow 2400", Refused("the 24-hour clock goes from 00:00 to 23:59")),
    ("4", Refused("as a date and time")),
    ("for 90 minutes", Refused("“for 90 minutes” gives the length, but not when the meeting "
                               "starts")),
    ("1530", at(11, 30, "15:30", "16:30")),
    ("quarter to 4", at(11, 30, "15:45", "16:45")),
    ("5 Feb 2027", Refused("gives a date, Friday 5 February 2027, but no start time")),
    ("next Thursday", Refused("but no start time")),
    ("blah", Refused("I couldn't read “blah” as a date and time")),
    ("", Refused("I need a date and a time")),
]

# (what is typed, for what, what it must mean) for a date field: a walk's or a session's date
# ("done"), a due date ("future"), a `since:` ("past").
DATE_TABLE: list[tuple[str, Prefer, Expected]] = [
    # Logged for something that has happened, a date nearer ahead than behind is refused
    # (not moved a year back without saying); one nearer behind is last time's.
    ("3/12", "done", Refused("“3/12” is still to come (Thursday 3 December 2026), and I don't "
                             "move a date a year back")),
    ("3/12/2025", "done", on(2025, 12, 3)),
    ("27/11", "done", on(2026, 11, 27)),
    ("5 Feb", "done", Refused("is still to come (Friday 5 February 2027)")),
    ("Thursday 5th February", "done", Refused("is still to come (Friday 5 February 2027)")),
    ("5 Aug", "done", on(2026, 8, 5)),
    ("yesterday", "done", on(2026, 11, 29)),
    ("last Thursday", "done", on(2026, 11, 26)),
    ("Thursday", "done", on(2026, 11, 26)),
    ("2 weeks ago", "done", on(2026, 11, 16)),
    ("today", "done", on(2026, 11, 30)),
    ("end of January", "done", Refused("is still to come (Sunday 31 January 2027)")),
    ("end of term", "future", on(2026, 12, 31)),
    ("end of the month", "future", on(2026, 11, 30)),
    ("w/c 8 Feb", "future", on(2027, 2, 8)),
    ("w/c 9 Feb", "future", ask("9 February 2027 is a Tuesday, not a Monday",
                                "Monday 8 February 2027", "Tuesday 9 February 2027")),
    ("in 2 weeks", "future", on(2026, 12, 14)),
    ("next Thursday", "future", ask(THIS_OR_NEXT,
                                    "Thursday 3 December 2026", "Thursday 10 December 2026")),
    ("Thursday week", "future", on(2026, 12, 10)),
    ("tmrw", "future", on(2026, 12, 1)),
    ("5/2/27", "nearest", on(2027, 2, 5)),
    ("5 Feb '27", "nearest", on(2027, 2, 5)),
    ("2027-02-05", "nearest", on(2027, 2, 5)),
    ("Friday 5 Feb 2027", "nearest", on(2027, 2, 5)),
    ("31/02", "nearest", Refused("February has at most 29 days")),
    ("12/25", "nearest", Refused("there is no month 25")),
    ("1/9/2026", "past", on(2026, 9, 1)),
]

# Dates read on other days.
OTHER_DATES: list[tuple[date, str, Prefer, Expected]] = [
    # A walk in December logged in January: last year's, without asking.
    (date(2026, 1, 10), "20 Dec", "done", on(2025, 12, 20)),
    (date(2026, 1, 10), "Thursday 5th February", "done",
     Refused("is still to come (Thursday 5 February 2026)")),
    (date(2026, 3, 1), "5 Feb", "future", on(2027, 2, 5)),
]

# Rows read on other days: the same words may mean something else, or stop being a question.
OTHER_DAYS: list[tuple[datetime, str, Expected]] = [
    # On a Thursday "next Thursday" is a week today; on a Friday or a Sunday, the coming one.
    (datetime(2026, 12, 3, 9, tzinfo=LONDON), "next Thursday 3pm", at(12, 10, "15:00", "16:00")),
    (datetime(2026, 12, 4, 9, tzinfo=LONDON), "next Thursday 3pm", at(12, 10, "15:00", "16:00")),
    (datetime(2026, 12, 6, 23, 59, tzinfo=LONDON), "next Thursday 3pm",
     at(12, 10, "15:00", "16:00")),
    (datetime(2026, 12, 3, 9, tzinfo=LONDON), "Thursday week 3pm", at(12, 10, "15:00", "16:00")),
    # In January 2026, 5 February was a Thursday: the seed letter read as written.
    (datetime(2026, 1, 10, 8, tzinfo=LONDON), "Thursday 5th February between 11.30am and "
     "12.30pm", at(2, 5, "11:30", "12:30")),
    # Spring term, and a date across the year's end.
    (datetime(2027, 1, 20, 9, tzinfo=LONDON), "end of term 2pm", at(3, 31, "14:00", "15:00", 2027)),
    (datetime(2026, 12, 30, 9, tzinfo=LONDON), "5/1 10am", at(1, 5, "10:00", "11:00", 2027)),
    # 29 February exists in 2028.
    (datetime(2028, 2, 28, 9, tzinfo=LONDON), "tomorrow 10am", at(2, 29, "10:00", "11:00", 2028)),
]


def _meeting(text: str, now: datetime) -> Expected:
    try:
        found = parse_when(text, now, LONDON)
    except Ambiguous as question:
        return Ask(question.problem, question.choices)
    except DateError as error:
        return Refused(error.problem)
    start, end = found.start.astimezone(LONDON), found.end.astimezone(LONDON)
    assert start.date() == end.date()
    return At(start.date(), start.time(), end.time())


def _date(text: str, prefer: Prefer, today: date) -> Expected:
    try:
        return On(parse_date(text, today, prefer))
    except Ambiguous as question:
        return Ask(question.problem, question.choices)
    except DateError as error:
        return Refused(error.problem)


def _matches(got: Expected, expected: Expected) -> bool:
    """Questions and refusals match on part of their problem (and a question on its readings);
    times and dates exactly."""
    if isinstance(expected, Ask) and isinstance(got, Ask):
        return expected.problem in got.problem and got.choices == expected.choices
    if isinstance(expected, Refused) and isinstance(got, Refused):
        return expected.problem in got.problem
    return got == expected


def test_the_table_is_big_enough() -> None:
    assert len(WHEN_TABLE) + len(DATE_TABLE) + len(OTHER_DATES) + len(OTHER_DAYS) >= 80


def test_the_refusal_offers_last_years_date_to_type() -> None:
    with pytest.raises(DateError) as caught:
        parse_date("3/12", MONDAY.date(), "done")
    assert caught.value.hint.startswith("If you meant Wednesday 3 December 2025, write "
                                        "`3/12/2025`; otherwise give a date that has passed, "
                                        "like `23/11/2026`")
    assert parse_date("3/12/2025", MONDAY.date(), "done") == date(2025, 12, 3)


@pytest.mark.parametrize(("today", "text", "prefer", "expected"), OTHER_DATES)
def test_dates_on_other_days(today: date, text: str, prefer: Prefer, expected: Expected) -> None:
    got = _date(text, prefer, today)
    assert _matches(got, expected), got


@pytest.mark.parametrize(("text", "expected"), WHEN_TABLE)
def test_meeting_times_on_a_monday(text: str, expected: Expected) -> None:
    got = _meeting(text, MONDAY)
    assert _matches(got, expected), got


@pytest.mark.parametrize(("text", "prefer", "expected"), DATE_TABLE)
def test_dates_on_a_monday(text: str, prefer: Prefer, expected: Expected) -> None:
    got = _date(text, prefer, MONDAY.date())
    assert _matches(got, expected), got


@pytest.mark.parametrize(("now", "text", "expected"), OTHER_DAYS)
def test_meeting_times_on_other_days(now: datetime, text: str, expected: Expected) -> None:
    got = _meeting(text, now)
    assert _matches(got, expected), got


@pytest.mark.parametrize("text", [t for t, e in WHEN_TABLE if isinstance(e, Ask)])
def test_each_reading_offered_reads_back_as_itself(text: str) -> None:
    with pytest.raises(Ambiguous) as caught:
        parse_when(text, MONDAY, LONDON)
    question = caught.value
    assert len(set(question.choices)) == len(question.choices) >= 2
    for choice, day in zip(question.choices, question.days, strict=True):
        found = parse_when(choice, MONDAY, LONDON)
        assert found.start.astimezone(LONDON).date() == day
        assert f"`{choice}`" in question.hint


@pytest.mark.parametrize(("text", "note"), [
    ("at 4", "I read “4” as 16:00: without am or pm, I take times in school hours"),
    ("tomorrow at 9", "I read “9” as 09:00"),
    ("11.30-12.30", "“11.30” as 11:30 and “12.30” as 12:30"),
    ("tmrw 9am", "No end time was given, so I assumed one hour, till 10:00: write `9am-10.30am`"),
    ("tomorrow at 4", "assumed one hour, till 17:00: write `4pm-5.30pm` or `4pm for 90 minutes`"),
])
def test_what_was_assumed_is_said(text: str, note: str) -> None:
    notes = parse_when(text, MONDAY, LONDON).notes
    assert any(note in n for n in notes), notes


@pytest.mark.parametrize("text", ["tomorrow 9am-10am", "tomorrow 2pm for 1 hour", "4-5pm"])
def test_nothing_is_said_when_nothing_was_assumed(text: str) -> None:
    assert parse_when(text, MONDAY, LONDON).notes == ()


@pytest.mark.parametrize("text", ["tomorrow 4-5.30pm", "tomorrow 9am-10.30am",
                                  "tomorrow 4pm for 90 minutes", "tomorrow 2pm for 90 minutes"])
def test_the_suggested_changes_read_back(text: str) -> None:
    assert parse_when(text, MONDAY, LONDON).notes == ()
