"""UK dates and meeting times, read the way headteachers type them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.dates import (
    DateError,
    Prefer,
    TimeRange,
    format_date,
    format_time_range,
    parse_date,
    parse_time_of_day,
    parse_when,
)
from storage.types import LONDON

# A Saturday in the spring term; 5 February 2026 is the following Thursday but three.
TODAY = date(2026, 1, 10)
NOW = datetime(2026, 1, 10, 8, 0, tzinfo=LONDON)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time, for writing expectations the way a reader thinks of them."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


# --- parse_date ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/2/2026", date(2026, 2, 5)),
        ("05/02/26", date(2026, 2, 5)),
        ("5-2-2026", date(2026, 2, 5)),
        ("5.2.2026", date(2026, 2, 5)),
        ("5–2–2026", date(2026, 2, 5)),
        ("5/2", date(2026, 2, 5)),
        ("5 Feb", date(2026, 2, 5)),
        ("5 FEB", date(2026, 2, 5)),
        ("5th Feb.", date(2026, 2, 5)),
        ("5th February 2026", date(2026, 2, 5)),
        ("the 5th of February", date(2026, 2, 5)),
        ("Thursday 5th February", date(2026, 2, 5)),
        ("Thursday, 5 February 2026.", date(2026, 2, 5)),
        ("Thu 5 Feb", date(2026, 2, 5)),
        ("Thurs 5/2/26", date(2026, 2, 5)),
        ("February 5th", date(2026, 2, 5)),
        ("Feb 5 2026", date(2026, 2, 5)),
        ("  5   Sept  ", date(2025, 9, 5)),
        ("2026-02-05", date(2026, 2, 5)),
        ("today", date(2026, 1, 10)),
        ("Yesterday", date(2026, 1, 9)),
        ("tomorrow", date(2026, 1, 11)),
        ("Thursday", date(2026, 1, 15)),
        ("Saturday", date(2026, 1, 10)),
        ("this Friday", date(2026, 1, 16)),
        ("last Thursday", date(2026, 1, 8)),
        ("last Saturday", date(2026, 1, 3)),
        ("next Thursday", date(2026, 1, 15)),
        ("next Saturday", date(2026, 1, 17)),
        ("29 Feb", date(2024, 2, 29)),
        ("29/2/2028", date(2028, 2, 29)),
        ("5 Dec", date(2025, 12, 5)),
    ],
)
def test_parse_date_reads_uk_phrasings(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "today", "prefer", "expected"),
    [
        # A learning walk logged afterwards: last February.
        ("5 Feb", date(2026, 1, 10), "past", date(2025, 2, 5)),
        # A meeting booked after this year's 5 February has gone: next year's.
        ("5 Feb", date(2026, 3, 1), "future", date(2027, 2, 5)),
        ("5 Feb", date(2026, 3, 1), "nearest", date(2026, 2, 5)),
        ("20 Dec", date(2026, 1, 10), "nearest", date(2025, 12, 20)),
        ("20 Dec", date(2026, 1, 10), "future", date(2026, 12, 20)),
        ("5/2", date(2026, 2, 5), "past", date(2026, 2, 5)),
        ("5/2", date(2026, 2, 5), "future", date(2026, 2, 5)),
        ("29 Feb", date(2026, 1, 10), "future", date(2028, 2, 29)),
        ("Thursday", date(2026, 1, 10), "past", date(2026, 1, 8)),
        ("Saturday", date(2026, 1, 10), "past", date(2026, 1, 10)),
        ("next Thursday", date(2026, 1, 10), "past", date(2026, 1, 15)),
    ],
)
def test_parse_date_chooses_the_year_by_preference(
    text: str, today: date, prefer: Prefer, expected: date
) -> None:
    assert parse_date(text, today, prefer) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31/2/2026", "“31/2/2026” is not a real date: February has 28 days in 2026."),
        ("29/2/2026", "February has 28 days in 2026"),
        ("31 Feb", "February has at most 29 days"),
        ("31 April", "April has 30 days"),
        ("32 Jan", "no month has a day 32"),
        ("0/1/2026", "no month has a day 0"),
        ("2/13/2026", "there is no month 13"),
        ("5/2/0206", "the year 206"),
        ("Wednesday 5th February 2026", "5 February 2026 is a Thursday, not a Wednesday"),
        ("Friday 5 Feb", "is a Thursday, not a Friday"),
        ("5th", "needs a month"),
        ("February", "needs a day"),
        ("Febuary 5", "I don't know the month “febuary”"),
        ("blah", "I couldn't read “blah” as a date"),
        ("5.2", "I couldn't read"),
        ("5 Feb 3pm", "I couldn't read"),
        ("next week", "I couldn't read"),
        ("", "I need a date"),
        ("x" * 500, "too long"),
    ],
)
def test_parse_date_refuses_politely(text: str, problem: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date(text, TODAY)
    assert problem in caught.value.problem
    assert "`" in caught.value.hint


def test_a_misspelt_month_is_suggested() -> None:
    with pytest.raises(DateError) as caught:
        parse_date("Febuary 5", TODAY)
    assert caught.value.hint.startswith("Did you mean `February`?")


def test_a_wrong_weekday_names_the_right_one() -> None:
    with pytest.raises(DateError) as caught:
        parse_date("Wednesday 5th February 2026", TODAY)
    assert "`Thursday 5 February 2026`" in caught.value.hint


def test_date_error_is_a_value_error_with_the_problem_as_message() -> None:
    error = DateError("It is wrong.", "Write `this`.")
    assert isinstance(error, ValueError)
    assert str(error) == "It is wrong."


# --- parse_when ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Thursday 5th February 11.30am-12.30pm", at(2026, 2, 5, 11, 30), at(2026, 2, 5, 12, 30)),
        ("Thursday 5 February, 11.30am to 12.30pm",
         at(2026, 2, 5, 11, 30), at(2026, 2, 5, 12, 30)),
        ("5/2 11:30 to 12:30", at(2026, 2, 5, 11, 30), at(2026, 2, 5, 12, 30)),
        ("next Thursday 3pm for 1 hour", at(2026, 1, 15, 15), at(2026, 1, 15, 16)),
        ("tomorrow 9am for 90 minutes", at(2026, 1, 11, 9), at(2026, 1, 11, 10, 30)),
        ("5 Feb 2pm-3.30pm", at(2026, 2, 5, 14), at(2026, 2, 5, 15, 30)),
        ("2026-02-05 14:00-15:00", at(2026, 2, 5, 14), at(2026, 2, 5, 15)),
        ("today 4pm", at(2026, 1, 10, 16), at(2026, 1, 10, 17)),
        ("noon", at(2026, 1, 10, 12), at(2026, 1, 10, 13)),
        ("midday", at(2026, 1, 10, 12), at(2026, 1, 10, 13)),
        ("12 noon to 1pm", at(2026, 1, 10, 12), at(2026, 1, 10, 13)),
        ("9 till 10am", at(2026, 1, 10, 9), at(2026, 1, 10, 10)),
        ("3pm for an hour", at(2026, 1, 10, 15), at(2026, 1, 10, 16)),
        ("4-5pm", at(2026, 1, 10, 16), at(2026, 1, 10, 17)),
        ("11.30 - 12.30", at(2026, 1, 10, 11, 30), at(2026, 1, 10, 12, 30)),
        ("3pm tomorrow", at(2026, 1, 11, 15), at(2026, 1, 11, 16)),
        ("2pm on Thursday 5 February", at(2026, 2, 5, 14), at(2026, 2, 5, 15)),
        ("from 9 till 10am on 5 Feb", at(2026, 2, 5, 9), at(2026, 2, 5, 10)),
        ("Thu 5 Feb 9-10am", at(2026, 2, 5, 9), at(2026, 2, 5, 10)),
        ("5 Feb 2026 at 2pm", at(2026, 2, 5, 14), at(2026, 2, 5, 15)),
        ("Feb 5th 14:00 to 15:30", at(2026, 2, 5, 14), at(2026, 2, 5, 15, 30)),
        ("5/2/26 9am–10am", at(2026, 2, 5, 9), at(2026, 2, 5, 10)),
        ("5 Feb 11-1pm", at(2026, 2, 5, 11), at(2026, 2, 5, 13)),
        ("5 Feb 11am-12:30", at(2026, 2, 5, 11), at(2026, 2, 5, 12, 30)),
        ("5 Feb 12-1", at(2026, 2, 5, 12), at(2026, 2, 5, 13)),
        ("5 Feb 6-7", at(2026, 2, 5, 18), at(2026, 2, 5, 19)),
        ("5 Feb 7-8pm", at(2026, 2, 5, 19), at(2026, 2, 5, 20)),
        ("5 Feb 3.30", at(2026, 2, 5, 15, 30), at(2026, 2, 5, 16, 30)),
        ("5 Feb 07:30", at(2026, 2, 5, 7, 30), at(2026, 2, 5, 8, 30)),
        ("5 Feb 5 p.m.", at(2026, 2, 5, 17), at(2026, 2, 5, 18)),
        ("5 Feb 2pm for 1h30", at(2026, 2, 5, 14), at(2026, 2, 5, 15, 30)),
        ("5 Feb 2pm for half an hour", at(2026, 2, 5, 14), at(2026, 2, 5, 14, 30)),
        ("5 Feb 2pm for an hour and a half", at(2026, 2, 5, 14), at(2026, 2, 5, 15, 30)),
        ("5 Feb 2pm for 1.5 hours", at(2026, 2, 5, 14), at(2026, 2, 5, 15, 30)),
        ("5 Feb 9.30am for 45 mins", at(2026, 2, 5, 9, 30), at(2026, 2, 5, 10, 15)),
        # No year and already gone this year: next year's.
        ("5 Jan 10am", at(2027, 1, 5, 10), at(2027, 1, 5, 11)),
    ],
)
def test_parse_when_reads_uk_phrasings(text: str, start: datetime, end: datetime) -> None:
    assert parse_when(text, NOW, LONDON) == TimeRange(start=start, end=end)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("yesterday 3pm", "That is in the past: Friday 9 January 2026, 15:00"),
        ("today 7am", "That is in the past"),
        ("5 Feb 3pm-2pm", "would end at 14:00, before it starts at 15:00"),
        ("tomorrow 11pm-1am", "would end at 01:00, before it starts at 23:00"),
        ("5 Feb 2pm-2pm", "would start and end at 14:00"),
        ("29 March 2026 01:30", "01:30 on Sunday 29 March 2026 does not exist in Europe/London"),
        ("29 March 1.30am-2.30am", "does not exist"),
        ("25 October 2026 1.30am", "01:30 on Sunday 25 October 2026 happens twice"),
        ("25/10 01:00-02:00", "happens twice"),
        ("5 Feb", "“5 Feb” gives a date, Thursday 5 February 2026, but no start time"),
        ("Thursday", "but no start time"),
        ("5 Feb 25:00", "the 24-hour clock goes from 00:00 to 23:59"),
        ("5 Feb 13pm", "with am or pm the hour goes from 1 to 12"),
        ("5 Feb 0am", "with am or pm the hour goes from 1 to 12"),
        ("5 Feb 11:75", "minutes go up to 59"),
        ("5 Feb 3pm for ages", "how long the meeting lasts: “for ages”"),
        ("5 Feb 3pm for 30 hours", "between 1 minute and 24 hours"),
        ("5 Feb 3pm for 0 minutes", "between 1 minute and 24 hours"),
        ("Wednesday 5 Feb 3pm", "is a Thursday, not a Wednesday"),
        ("31/2 3pm", "February has at most 29 days"),
        ("blursday 3pm", "I couldn't read “blursday” as a date"),
        ("blah", "I couldn't read “blah” as a date and time"),
        ("Thursday 5", "as a date and time"),
        ("", "I need a date and a time"),
    ],
)
def test_parse_when_refuses_politely(text: str, problem: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_when(text, NOW, LONDON)
    assert problem in caught.value.problem
    assert "`" in caught.value.hint


def test_thirteen_pm_suggests_both_ways_of_writing_it() -> None:
    with pytest.raises(DateError) as caught:
        parse_when("5 Feb 13pm", NOW, LONDON)
    assert caught.value.hint == "Write `1pm` or `13:00`."


def test_gmt_time_is_the_same_in_utc() -> None:
    meeting = parse_when("5 Feb 11:30", NOW, LONDON)
    assert meeting.start == datetime(2026, 2, 5, 11, 30, tzinfo=UTC)
    assert meeting.start.utcoffset() == timedelta(0)
    assert format_time_range(meeting, LONDON) == "Thursday 5 February 2026, 11:30–12:30 (GMT)"


def test_bst_time_is_an_hour_behind_in_utc() -> None:
    meeting = parse_when("5 June 11:30", NOW, LONDON)
    assert meeting.start == datetime(2026, 6, 5, 10, 30, tzinfo=UTC)
    assert meeting.end == datetime(2026, 6, 5, 11, 30, tzinfo=UTC)
    assert format_time_range(meeting, LONDON) == "Friday 5 June 2026, 11:30–12:30 (BST)"


def test_results_are_in_utc_whatever_the_zone_of_now() -> None:
    now_in_new_york = NOW.astimezone(ZoneInfo("America/New_York"))
    meeting = parse_when("5 Feb 11:30", now_in_new_york, LONDON)
    assert meeting.start.tzinfo is UTC
    assert meeting.end.tzinfo is UTC


def test_a_meeting_across_the_clocks_going_forward_lasts_real_time() -> None:
    meeting = parse_when("29 March 2026 00:30-03:00", NOW, LONDON)
    assert meeting.end - meeting.start == timedelta(hours=1, minutes=30)
    assert format_time_range(meeting, LONDON) == "Sunday 29 March 2026, 00:30 (GMT)–03:00 (BST)"


def test_a_length_is_real_time_across_the_clocks_going_back() -> None:
    meeting = parse_when("25 October 2026 00:30 for 2 hours", NOW, LONDON)
    assert meeting.end == meeting.start + timedelta(hours=2)
    assert format_time_range(meeting, LONDON) == "Sunday 25 October 2026, 00:30 (BST)–01:30 (GMT)"


def test_the_dst_refusal_offers_a_safe_example() -> None:
    with pytest.raises(DateError) as caught:
        parse_when("25 October 2026 1.30am", NOW, LONDON)
    assert caught.value.hint == "Choose a time outside the change, like `25 Oct 2026 10am`."


def test_a_meeting_starting_now_is_not_in_the_past() -> None:
    assert parse_when("today 8am", NOW, LONDON).start == NOW


def test_the_date_is_local_to_the_zone_not_to_utc() -> None:
    # 23:30 UTC on 9 January is already 10 January in Auckland.
    auckland = ZoneInfo("Pacific/Auckland")
    now = datetime(2026, 1, 9, 23, 30, tzinfo=UTC)
    meeting = parse_when("today 3pm", now, auckland)
    assert meeting.start.astimezone(auckland) == datetime(2026, 1, 10, 15, tzinfo=auckland)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("tomorrow 3pm", datetime(2026, 1, 10, 8), LONDON)


# --- formatting ---------------------------------------------------------------------------------

def test_format_date() -> None:
    assert format_date(date(2026, 2, 5)) == "Thursday 5 February 2026"


def test_format_time_range_over_midnight_shows_both_days() -> None:
    meeting = TimeRange(start=datetime(2026, 2, 5, 23, tzinfo=UTC),
                        end=datetime(2026, 2, 6, 0, 30, tzinfo=UTC))
    assert format_time_range(meeting, LONDON) == (
        "Thursday 5 February 2026, 23:00 (GMT) – Friday 6 February 2026, 00:30 (GMT)"
    )


# --- properties ---------------------------------------------------------------------------------

_WORDS = ["5", "05", "31", "29", "2026", "26", "/", "-", ".", ":", "feb", "february", "thursday",
          "thu", "next", "last", "today", "tomorrow", "3pm", "11.30am", "12:30", "noon", "to",
          "till", "for", "an", "hour", "90", "minutes", "half", "and", "a", "on", "at", "the",
          "th", "of", "am", "pm", "25:00", "13pm", "0", "–", ","]
_PHRASES = st.lists(st.sampled_from(_WORDS), max_size=8).map(" ".join)
_ANY_TEXT = st.one_of(st.text(max_size=60), _PHRASES)


@given(_ANY_TEXT, st.sampled_from(["past", "future", "nearest"]))
def test_parse_date_raises_nothing_but_date_error(text: str, prefer: Prefer) -> None:
    try:
        result = parse_date(text, TODAY, prefer)
    except DateError as error:
        assert error.problem and "`" in error.hint
    else:
        assert isinstance(result, date)


@given(_ANY_TEXT)
def test_parse_when_raises_nothing_but_date_error(text: str) -> None:
    try:
        result = parse_when(text, NOW, LONDON)
    except DateError as error:
        assert error.problem and "`" in error.hint
    else:
        assert result.start >= NOW
        assert result.end > result.start
        assert result.start.utcoffset() == timedelta(0)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)))
def test_formatted_dates_read_back(d: date) -> None:
    assert parse_date(format_date(d), TODAY) == d
    assert parse_date(f"{d.day}/{d.month}/{d.year}", TODAY) == d
    assert parse_date(d.isoformat(), TODAY) == d


def test_times_of_day_at_the_edges() -> None:
    assert parse_time_of_day("8.30am") == time(8, 30)
    assert parse_time_of_day("8:59") == time(8, 59)  # the last minute of the hour
    assert parse_time_of_day("23:59") == time(23, 59)  # the last of the day
    assert parse_time_of_day("00:00") == time(0, 0)
    for wrong in ("8:60", "24:00", "13pm"):
        with pytest.raises(DateError):
            parse_time_of_day(wrong)
