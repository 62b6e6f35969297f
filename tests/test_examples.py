"""Every example the bot prints that holds a date is valid to copy, on every day of a year.

The clock is frozen (time-machine) at the first and the last minute of each of 366 days, a leap
year's worth from 1 September 2027, so the clock-change weekends (31 October 2027, 26 March 2028),
29 February and the year's end are among them. Each day, the help of every command, the examples
in date refusals, the meeting form's placeholder and the README's examples are read back: a
command is parsed as typed, and its date or time must be accepted as a walk's date (not in the
future), a `since:` or a meeting's time (still to come, and no question). The parsers and the
commands' own readers are called directly, for speed; tests/test_dates_slack.py runs the help's
meeting and walk examples through the real handlers (today, and at test.sh's frozen instants).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine

from handlers import examples, meetings
from handlers.context import Caller, Platform
from handlers.dates import DateError, Prefer, parse_date, parse_when
from handlers.dispatch import COMMANDS
from handlers.logbook import LogRequest
from handlers.walk import ListRequest as WalkList
from storage.types import LONDON, utcnow

FIRST_DAY = date(2027, 9, 1)
DAYS = 366
README = Path(__file__).resolve().parent.parent / "README.md"
CODE = re.compile(r"`([^`\n]+)`")
# Words that make a code span an example of a date or time.
DATEISH = re.compile(
    r"[0-9]{1,2}/[0-9]{1,2}|[0-9]{4}-[0-9]{2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|tmrw|yesterday|today|\bweek\b|noon",
    re.I)


def instants() -> Iterator[datetime]:
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        yield datetime.combine(day, time(0, 1), tzinfo=LONDON)
        yield datetime.combine(day, time(23, 59), tzinfo=LONDON)


def caller(platform: Platform = Platform.SLACK) -> Caller:
    return Caller(platform=platform, workspace="T1", user_id="U1", user_name="Ann",
                  channel_id="C1")


def spans(text: str) -> list[str]:
    return CODE.findall(text)


def check_date(text: str, prefer: Prefer, today: date) -> None:
    found = parse_date(text, today, prefer)  # raises, questions included, if not accepted
    if prefer in ("done", "past"):
        assert found <= today, f"{text!r} is in the future on {today}"


def check_when(text: str, now: datetime) -> None:
    parse_when(text, now, LONDON)  # raises on a question, a refusal or a time already gone


def check_command(example: str, who: Caller) -> None:
    """A command example, as typed with its slash (Slack, the shell) or without (Teams)."""
    name, _, rest = example.removeprefix("/").partition(" ")
    command = COMMANDS[name]
    found = command.read(rest, who)
    if found is None:
        return  # help
    _, request = found
    today = examples.today_of(who.now)
    when = getattr(request, "when", None)
    if isinstance(when, str):
        check_when(when, who.now)
    if isinstance(request, LogRequest):
        fields = request.fields
        for field, prefer in (("date", "done"), ("due", "future")):
            value = fields.get(field)
            if isinstance(value, str):
                check_date(value, prefer, today)  # type: ignore[arg-type]
    if isinstance(request, WalkList) and request.since:
        check_date(request.since, "past", today)


def help_examples(who: Caller) -> list[tuple[str, str]]:
    """(the help line, a code span in it) for every command's help."""
    found: list[tuple[str, str]] = []
    for command in COMMANDS.values():
        for line in command.help_reply(who).plain_text().splitlines():
            found.extend((line, span) for span in spans(line))
    return found


def check_help(who: Caller) -> int:
    checked = 0
    today = examples.today_of(who.now)
    for line, span in help_examples(who):
        if span.startswith(("/", *COMMANDS)) and span.split()[0].lstrip("/") in COMMANDS:
            check_command(span, who)
        elif line.startswith("Dates are day first"):
            check_date(span, "done", today)
        elif line.startswith("Times:"):
            check_when(span, who.now)
        elif DATEISH.search(span) and not span.endswith(":"):
            raise AssertionError(f"an example with a date that no check covers: {span!r}")
        else:
            continue
        checked += 1
    return checked


def check_hints(now: datetime) -> int:
    """The examples in refusals: a date that can't be read, for each kind of date field, and a
    meeting time that can't be read or has gone."""
    checked = 0
    today = examples.today_of(now)
    prefers: tuple[Prefer, ...] = ("done", "past", "future", "nearest")
    for prefer in prefers:
        with pytest.raises(DateError) as caught:
            parse_date("blah", today, prefer)
        for span in spans(caught.value.hint):
            check_date(span, "nearest" if prefer == "nearest" else prefer, today)
            checked += 1
    for bad in ("blah", "yesterday 3pm"):
        with pytest.raises(DateError) as caught:
            parse_when(bad, now, LONDON)
        for span in spans(caught.value.hint):
            check_when(span, now)
            checked += 1
    return checked


def check_meeting_form(who: Caller) -> None:
    check_when(meetings.when_example(who), who.now)
    check_when(examples.meeting_when_numeric(examples.today_of(who.now)), who.now)


@functools.cache
def readme_examples() -> tuple[list[str], list[str], list[str]]:
    """The README's commands (without placeholders), its date examples and its time examples."""
    text = README.read_text(encoding="utf-8")
    typed = re.findall(r"^you> (.+)$", text, re.MULTILINE)  # the shell transcript
    commands = [s for s in [*spans(text), *typed]
                if s.split()[0].lstrip("/") in COMMANDS
                and "<" not in s and "…" not in s
                and len(s.split()) > 2]  # "/meeting who" in a sentence names, not shows, it
    dates = text[text.index("- **Dates** are day first"):text.index("- **Themes**")]
    times = text[text.index("Times are written the UK way"):
                 text.index("Only members of a partnership schedule")]

    def keep(found: list[str]) -> list[str]:
        return [s for s in found if not s.endswith((":", ".py")) and not s.startswith("/")]

    return commands, keep(spans(dates)), keep(spans(times))


def check_readme(who: Caller) -> int:
    commands, dates, times = readme_examples()
    today = examples.today_of(who.now)
    for command in commands:
        check_command(command, who)
    for text in dates:
        check_date(text, "done", today)
    for text in times:
        check_when(text, who.now)
    return len(commands) + len(dates) + len(times)


def test_the_readme_has_date_and_time_examples() -> None:
    commands, dates, times = readme_examples()
    assert len(commands) >= 5 and len(dates) >= 8 and len(times) >= 6
    assert any("when:" in c for c in commands) and any("date:" in c for c in commands)


@pytest.mark.clock
def test_every_example_is_valid_today(now: datetime) -> None:
    who = caller()
    assert timedelta(0) <= who.now - now < timedelta(minutes=1)
    assert check_help(who) >= 20
    assert check_hints(who.now) >= 12
    check_meeting_form(who)
    assert check_readme(who) >= 20


def test_every_example_is_valid_on_every_day_of_a_year() -> None:
    days = set()
    for instant in instants():
        with time_machine.travel(instant, tick=False):
            assert examples.today_of(utcnow()) == instant.date()
            # Teams shows commands without the slash: once a day is enough to read them.
            platforms = (Platform.SLACK, Platform.TEAMS) if instant.hour else (Platform.SLACK,)
            for platform in platforms:
                who = caller(platform)
                assert who.now == instant
                check_help(who)
            check_hints(who.now)
            check_meeting_form(who)
            check_readme(who)
        days.add(instant.date())
    assert len(days) == DAYS
    assert {date(2027, 10, 31), date(2028, 2, 29), date(2028, 3, 26), date(2027, 12, 31),
            date(2028, 8, 31)} <= days


def test_a_wrong_example_would_be_caught() -> None:
    """The checks can fail: last year's seed-letter example, and one a day old."""
    now = datetime(2026, 11, 30, 9, tzinfo=LONDON)
    with pytest.raises(DateError):
        check_when("Thursday 5th February 11.30am-12.30pm", now)
    with pytest.raises(DateError):
        check_when("yesterday 3pm", now)
    with pytest.raises(DateError):
        check_date("5 Feb", "done", now.date())
    with pytest.raises(AssertionError):
        check_date("in 2 weeks", "done", now.date())
