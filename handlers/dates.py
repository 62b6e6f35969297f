"""UK dates and meeting times, as headteachers type them in chat.

Dates are day first: "5/2/2026" is 5 February. Times may be 12- or 24-hour. A time with no am/pm
gets a school-day reading: 7 to 11 is morning, 12 is midday and 1 to 6 is afternoon ("3.30" is
15:30), because nobody books a partnership meeting for half past three in the morning, and the
result says so (`TimeRange.notes`). Write "03:30" for the small hours. Everything here is pure:
`today` and `now` come from the caller.

Nothing is guessed silently. A phrase with two plausible readings ("next Thursday" on a Monday)
raises `Ambiguous`, carrying each reading as text that reads back unambiguously; so does a
weekday that does not match its date ("Thursday 5 February" when that is a Friday).
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NoReturn
from zoneinfo import ZoneInfo

from handlers.parsing import clean_text

# "done": something that has happened (a walk, a CPD session): without a year, the latest such
# date not in the future; but when this year's is still to come and nearer, it is refused rather
# than moved a year back.
Prefer = Literal["past", "future", "nearest", "done"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

# A meeting given only a start time lasts this long.
DEFAULT_DURATION = timedelta(hours=1)
LONGEST_MEETING = timedelta(hours=24)
# Years outside these are typos ("5/2/0206") far more often than real dates.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
# Longer text is not a date; refusing it early also keeps the patterns below quick.
MAX_TEXT_LENGTH = 200

# Hints with examples of dates are made for the day they are shown (handlers/examples.py): the
# public functions fill these in, so an example is never already gone, nor a weekday wrong.
DATE_HINT = "Write dates day first, like {dates}."
WHEN_HINT = "Write the date and then the time, like {whens}."
TIME_HINT = "Write times like `2pm`, `2.30pm` or `14:30`."
LENGTH_HINT = "Write the length like `for 1 hour`, `for 90 minutes` or `for an hour and a half`."
FUTURE_HINT = "Give a date and time still to come, like {whens}."


class DateError(ValueError):
    """Text that is not a usable date or time; `problem` says what is wrong, `hint` the fix."""

    problem: str
    hint: str

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


class Ambiguous(DateError):
    """Text with more than one plausible reading. `choices` are the readings as text to use
    instead of what was typed (each reads back as exactly one date), `days` their dates."""

    choices: tuple[str, ...]
    days: tuple[date, ...]

    def __init__(self, problem: str, hint: str, days: tuple[date, ...],
                 choices: tuple[str, ...] | None = None) -> None:
        super().__init__(problem, hint)
        self.days = days
        self.choices = choices if choices is not None else tuple(format_date(d) for d in days)

    def with_choices(self, choices: tuple[str, ...]) -> Ambiguous:
        """The same question, its readings written as `choices` (e.g. with the times added)."""
        return Ambiguous(self.problem, _either(choices), self.days, choices)


def _either(choices: tuple[str, ...]) -> str:
    quoted = [f"`{c}`" for c in choices]
    listed = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
    return f"Which did you mean? Write {listed}."


@dataclass(frozen=True)
class TimeRange:
    start: datetime  # timezone-aware, in UTC
    end: datetime  # timezone-aware, in UTC
    # What was assumed in reading it ("4" as 16:00, one hour long), to tell the person.
    notes: tuple[str, ...] = field(default=(), compare=False)


def format_date(d: date) -> str:
    """"Thursday 5 February 2026", in English whatever the server's locale."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


def format_time_range(r: TimeRange, tz: ZoneInfo) -> str:
    """"Thursday 5 February 2026, 11:30–12:30 (GMT)", in the local time of `tz`."""
    start, end = r.start.astimezone(tz), r.end.astimezone(tz)
    if start.date() != end.date():
        return (f"{format_date(start.date())}, {start:%H:%M} ({start.tzname()}) – "
                f"{format_date(end.date())}, {end:%H:%M} ({end.tzname()})")
    if start.tzname() != end.tzname():
        # The clocks change during the meeting: label each end with its own zone.
        return (f"{format_date(start.date())}, {start:%H:%M} ({start.tzname()})–"
                f"{end:%H:%M} ({end.tzname()})")
    return f"{format_date(start.date())}, {start:%H:%M}–{end:%H:%M} ({start.tzname()})"


# ---------------------------------------------------------------------------------------------
# Dates

_WEEKDAY_NUMBERS = {
    **{name.lower(): number for number, name in enumerate(WEEKDAYS)},
    **{name[:3].lower(): number for number, name in enumerate(WEEKDAYS)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}
_MONTH_NUMBERS = {
    **{name.lower(): number for number, name in enumerate(MONTHS, start=1)},
    **{name[:3].lower(): number for number, name in enumerate(MONTHS, start=1)},
    "sept": 9,
}
_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "tmrw": 1, "tmw": 1, "tomorow": 1, "tommorow": 1,
                  "yesterday": -1}

# Longest names first, so "thursday" is tried before "thu".
_WEEKDAY = "|".join(sorted(_WEEKDAY_NUMBERS, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th)?"
# A year: "2027", or "'27" with an apostrophe.
_YEAR = r"(?P<y>[0-9]{4}|'[0-9]{2})"
_WEEKDAY_ALONE = re.compile(rf"(?:(?P<which>last|next|this|coming)\s+)?(?P<day>{_WEEKDAY})")
_WEEKDAY_WEEK = re.compile(rf"(?P<day>{_WEEKDAY})\s+week")
_LEADING_WEEKDAY = re.compile(rf"(?P<day>{_WEEKDAY})\.?\s+(?:the\s+)?(?P<rest>.+)")
_WEEK_COMMENCING = re.compile(r"(?:w/c|wc|w/b|week\s+(?:commencing|beginning|starting))\s+"
                              r"(?:mon(?:day)?\s+)?(?P<rest>.+)")
_END_OF = re.compile(r"(?:the\s+)?end\s+of\s+(?:the\s+)?(?P<what>.+)")
_COUNT = r"(?P<n>[0-9]{1,3}|an?|one|two|three|four|five|six)"
_UNIT = r"(?P<unit>days?|weeks?|fortnights?)"
_IN_PERIOD = re.compile(rf"in\s+{_COUNT}\s+{_UNIT}(?:\s+time)?")
_PERIOD_AGO = re.compile(rf"{_COUNT}\s+{_UNIT}\s+ago")
_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_UNIT_DAYS = {"d": 1, "w": 7, "f": 14}
_ISO = re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})")
_NUMERIC = re.compile(
    r"(?P<d>[0-9]{1,2})(?P<sep>[/.-])(?P<m>[0-9]{1,2})(?:(?P=sep)(?P<y>[0-9]{4}|[0-9]{2}))?"
)
_DAY_MONTH = re.compile(
    rf"(?:the\s+)?(?P<d>[0-9]{{1,2}}){_ORDINAL}\s*(?:of\s+)?(?P<month>[a-z]+)\.?"
    rf"(?:\s+{_YEAR})?"
)
_MONTH_DAY = re.compile(
    rf"(?P<month>[a-z]+)\.?\s+(?:the\s+)?(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:\s+{_YEAR})?"
)
_DAY_ONLY = re.compile(rf"(?:the\s+)?[0-9]{{1,2}}{_ORDINAL}")
_MONTH_ONLY = re.compile(r"(?P<month>[a-z]+)\.?(?:\s+[0-9]{4})?")


def parse_date(text: str, today: date, prefer: Prefer = "nearest") -> date:
    """Read a UK date. A date without a year is the one in the past, future or nearest `today`.

    A weekday alone is the coming one, today included ("last" and "next" step back or on), except
    with prefer="past" or "done", where it is the latest one on or before today. `Ambiguous` when
    the text has two plausible readings; DateError when it has none.
    """
    try:
        normal = _normalise(_within_length(text))
        if not normal:
            raise DateError("I need a date.", DATE_HINT)
        return _parse_date(normal, text, today, prefer)
    except DateError as error:
        raise _with_examples(error, today, prefer) from None


def _parse_date(normal: str, shown: str, today: date, prefer: Prefer) -> date:
    if normal in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[normal])
    if match := _WEEKDAY_ALONE.fullmatch(normal):
        return _weekday_near(_WEEKDAY_NUMBERS[match["day"]], match["which"], today, prefer,
                             shown)
    if match := _WEEKDAY_WEEK.fullmatch(normal):
        # "Thursday week": a week after "Thursday" (said on a Thursday: a week today).
        ahead = (_WEEKDAY_NUMBERS[match["day"]] - today.weekday()) % 7
        return today + timedelta(days=ahead + 7)
    if match := _IN_PERIOD.fullmatch(normal):
        return today + timedelta(days=_period_days(match))
    if match := _PERIOD_AGO.fullmatch(normal):
        return today - timedelta(days=_period_days(match))
    if match := _WEEK_COMMENCING.fullmatch(normal):
        # The week that starts on a Monday: the date must be a Monday.
        return _check_weekday(0, _calendar_date(match["rest"], shown, today, prefer), shown,
                              today, prefer)
    if match := _END_OF.fullmatch(normal):
        return _end_of(match["what"], shown, today, prefer)
    if match := _LEADING_WEEKDAY.fullmatch(normal):
        weekday = _WEEKDAY_NUMBERS[match["day"]]
        found = _calendar_date(match["rest"], shown, today, prefer)
        return _check_weekday(weekday, found, shown, today, prefer)
    return _calendar_date(normal, shown, today, prefer)


def _period_days(match: re.Match[str]) -> int:
    count = _COUNT_WORDS.get(match["n"]) or int(match["n"])
    return count * _UNIT_DAYS[match["unit"][0]]


def _check_weekday(weekday: int, found: date, shown: str, today: date, prefer: Prefer) -> date:
    """`found`, if it is that weekday; if not, a question: that weekday nearest the date, or the
    date itself ("Thursday 4 February 2027 or Friday 5 February 2027?")."""
    if found.weekday() == weekday:
        return found
    before = found - timedelta(days=(found.weekday() - weekday) % 7)
    after = found + timedelta(days=(weekday - found.weekday()) % 7)
    nearest = before if found - before <= after - found else after
    if prefer == "future" and nearest < today:
        nearest = after
    elif prefer == "done" and nearest > today:
        nearest = before
    right = WEEKDAYS[found.weekday()]
    days = tuple(sorted((nearest, found)))
    return _ask(f"{_quote(shown)} doesn't add up: {found.day} {MONTHS[found.month - 1]} "
                f"{found.year} is a {right}, not a {WEEKDAYS[weekday]}.", days)


def _day_month(d: date) -> str:
    """"Thursday 3 December"."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]}"


def _ask(problem: str, days: tuple[date, ...]) -> NoReturn:
    choices = tuple(format_date(d) for d in days)
    raise Ambiguous(problem, _either(choices), days, choices)


def _weekday_near(weekday: int, which: str | None, today: date, prefer: Prefer,
                  shown: str) -> date:
    ahead = (weekday - today.weekday()) % 7  # 0 when today is that day
    behind = (today.weekday() - weekday) % 7
    if which == "last":
        return today - timedelta(days=behind or 7)
    if which == "next":
        # "next Thursday" is the first Thursday after today, never today itself. Said early in
        # the week, before that day, it may also mean the one in next week: ask.
        coming = today + timedelta(days=ahead or 7)
        if ahead and weekday > today.weekday() and prefer not in ("past", "done"):
            later = coming + timedelta(days=7)
            _ask(f"{_quote(shown)} could mean {_day_month(coming)} (this week) or "
                 f"{_day_month(later)} (next week).", (coming, later))
        return coming
    if which is None and prefer in ("past", "done"):
        return today - timedelta(days=behind)
    return today + timedelta(days=ahead)


def _end_of(what: str, shown: str, today: date, prefer: Prefer) -> date:
    """"end of term" (this school term's last day, handlers/schoolyear.py), "end of January",
    "end of the month"."""
    from handlers.schoolyear import school_term

    words = what.removeprefix("this ").strip()
    if words in ("term", "the term", "school term"):
        return school_term(today).end
    if words in ("month", "the month"):
        return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    if words in ("week", "the week"):
        return today + timedelta(days=(4 - today.weekday()) % 7)  # Friday
    month = _month_number(words.removesuffix("."), shown)
    ends = [date(y, month, calendar.monthrange(y, month)[1])
            for y in range(today.year - 1, today.year + 2)]
    return _pick(ends, shown, today, prefer)


def _calendar_date(normal: str, shown: str, today: date, prefer: Prefer) -> date:
    if match := _ISO.fullmatch(normal):
        return _real_date(int(match["y"]), int(match["m"]), int(match["d"]), shown)
    # "5.2" and "5-2" without a year look too much like times ("11.30") or ranges ("4-5").
    if (match := _NUMERIC.fullmatch(normal)) and (match["y"] or match["sep"] == "/"):
        day, month = int(match["d"]), int(match["m"])
        if match["y"] is None:
            return _choose_year(day, month, shown, today, prefer)
        year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
        return _real_date(year, month, day, shown)
    if _DAY_ONLY.fullmatch(normal):
        raise DateError(f"{_quote(shown)} needs a month too.", DATE_HINT)
    if match := _DAY_MONTH.fullmatch(normal) or _MONTH_DAY.fullmatch(normal):
        day, month = int(match["d"]), _month_number(match["month"], shown)
        if match["y"] is None:
            return _choose_year(day, month, shown, today, prefer)
        written = match["y"]
        year = 2000 + int(written[1:]) if written.startswith("'") else int(written)
        return _real_date(year, month, day, shown)
    if (match := _MONTH_ONLY.fullmatch(normal)) and match["month"] in _MONTH_NUMBERS:
        raise DateError(f"{_quote(shown)} needs a day too.", DATE_HINT)
    raise DateError(f"I couldn't read {_quote(shown)} as a date.", DATE_HINT)


def _month_number(word: str, shown: str) -> int:
    if word in _MONTH_NUMBERS:
        return _MONTH_NUMBERS[word]
    close = difflib.get_close_matches(word, [m.lower() for m in MONTHS], n=1, cutoff=0.7)
    hint = f"Did you mean `{close[0].title()}`? {DATE_HINT}" if close else DATE_HINT
    raise DateError(f"I don't know the month “{word}” in {_quote(shown)}.", hint)


def _real_date(year: int, month: int, day: int, shown: str) -> date:
    """The date, or a DateError saying which part cannot be right."""
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise DateError(f"I can't use the year {year} in {_quote(shown)}.", DATE_HINT)
    _check_month_and_day(month, day, shown, year)
    return date(year, month, day)


def _check_month_and_day(month: int, day: int, shown: str, year: int | None) -> None:
    if not 1 <= month <= 12 and 1 <= month <= 31 and 1 <= day <= 12:
        raise DateError(
            f"{_quote(shown)} is not a real date: there is no month {month}. It looks month "
            "first (American), but I read dates day first.",
            f"Write it day first: `{month}/{day}`. " + DATE_HINT,
        )
    if not 1 <= month <= 12:
        raise DateError(
            f"{_quote(shown)} is not a real date: there is no month {month}. "
            "I read dates day first, so `2/13` would be the 2nd of the 13th month.",
            DATE_HINT,
        )
    if not 1 <= day <= 31:
        raise DateError(f"{_quote(shown)} is not a real date: no month has a day {day}.", DATE_HINT)
    # Without a year, 29 February is possible: 2000 was a leap year.
    most = calendar.monthrange(2000 if year is None else year, month)[1]
    if day > most:
        if month != 2:
            detail = f"has {most} days"
        elif year is None:
            detail = "has at most 29 days"
        else:
            detail = f"has {most} days in {year}"
        raise DateError(
            f"{_quote(shown)} is not a real date: {MONTHS[month - 1]} {detail}.", DATE_HINT
        )


def _choose_year(day: int, month: int, shown: str, today: date, prefer: Prefer) -> date:
    """The day and month in the year that `prefer` asks for; 29 February skips to a leap year."""
    _check_month_and_day(month, day, shown, None)
    years = range(max(today.year - 8, 1), min(today.year + 8, 9999) + 1)
    candidates = [date(y, month, day) for y in years if day <= calendar.monthrange(y, month)[1]]
    return _pick(candidates, shown, today, prefer)


def _pick(candidates: list[date], shown: str, today: date, prefer: Prefer) -> date:
    """The candidate date that `prefer` asks for."""
    past = max((d for d in candidates if d <= today), default=None)
    future = min((d for d in candidates if d >= today), default=None)
    if prefer == "done" and past is not None and future is not None \
            and future - today < today - past:
        # Typed for something that has happened, but this year's is still to come: the year
        # before is a guess the person has not seen, so say so rather than take it.
        raise DateError(
            f"{_quote(shown)} is still to come ({format_date(future)}), and I don't move a "
            "date a year back without asking.",
            f"If you meant {format_date(past)}, write `{past.day}/{past.month}/{past.year}`; "
            "otherwise give a date that has passed, like {dates}.",
        )
    if past is None or future is None:
        chosen = past or future
    elif prefer in ("past", "done"):
        chosen = past
    elif prefer == "future":
        chosen = future
    else:
        chosen = past if today - past < future - today else future
    if chosen is None:
        raise DateError(f"I can't find a year for {_quote(shown)}.", DATE_HINT)
    return chosen


def _with_examples(error: DateError, today: date, prefer: Prefer) -> DateError:
    """The error with its hint's examples made for `today` (handlers/examples.py)."""
    from handlers import examples

    if "{" not in error.hint:
        return error
    hint = (error.hint.replace("{dates}", examples.date_examples(today, prefer))
            .replace("{whens}", examples.when_examples(today)))
    if isinstance(error, Ambiguous):
        return Ambiguous(error.problem, hint, error.days, error.choices)
    return DateError(error.problem, hint)


# ---------------------------------------------------------------------------------------------
# Times

_CLOCK = (r"(?:(?:12\s*)?(?:noon|midday)|[0-9]{1,2}(?:[:.][0-9]{2})?(?:\s*[ap]m)?"
          r"|[0-2][0-9][0-5][0-9])")
_CLOCK_PARTS = re.compile(
    r"(?P<noon>(?:12\s*)?(?:noon|midday))"
    r"|(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?\s*(?P<meridiem>[ap]m)?"
    r"|(?P<hour4>[0-2][0-9])(?P<minute4>[0-5][0-9])"
)
_SEPARATOR = r"(?:\s*-\s*|\s+(?:to|till|til|until|and)\s+)"
_DURATION = (
    r"(?:(?P<half_hour>half\s+an\s+hour)"
    r"|(?P<hours>an?|one|two|three|[0-9]{1,2}(?:\.[0-9]{1,2})?)\s*(?:hours?|hrs?|h)"
    r"(?:\s*(?:and\s+)?(?:(?P<and_half>a\s+half)|(?P<extra>[0-9]{1,2})\s*(?:minutes?|mins?|m)?))?"
    r"|(?P<minutes>[0-9]{1,4})\s*(?:minutes?|mins?|m))"
)
_TIMES = (rf"(?:(?P<at>at|from|between)\s+)?(?P<start>{_CLOCK})"
          rf"(?:{_SEPARATOR}(?P<end>{_CLOCK})|\s+for\s+(?P<duration>{_DURATION}))?")
# "Thursday 5 Feb 2pm-3pm": the date part is as short as it can be, and may be absent.
_DATE_THEN_TIMES = re.compile(rf"(?:(?:on\s+)?(?P<date>.*?)\s+)??{_TIMES}")
# "3pm tomorrow", "2pm on Thursday 5 February".
_TIMES_THEN_DATE = re.compile(rf"{_TIMES}\s+(?:on\s+)?(?!for\s)(?P<date>.+)")
# Spoken times: "half 3" (half past three), "quarter to 4", "4 o'clock".
_SPOKEN_TIMES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\bhalf\s+(?:past\s+)?([0-9]{1,2})(?![0-9:.])"), lambda m: f"{m[1]}:30"),
    (re.compile(r"\bquarter\s+past\s+([0-9]{1,2})(?![0-9:.])"), lambda m: f"{m[1]}:15"),
    (re.compile(r"\bquarter\s+to\s+([0-9]{1,2})(?![0-9:.])"),
     lambda m: f"{(int(m[1]) - 2) % 12 + 1}:45" if 1 <= int(m[1]) <= 12 else m[0]),
    (re.compile(r"\b([0-9]{1,2})\s*o'?\s*clock\b"), lambda m: m[1]),
)
# Four digits without "at" in this range are a year ("5 Feb 2027"), not a time.
_LIKE_A_YEAR = range(1900, 2200)
_TRAILING_LENGTH = re.compile(r"(?:^|\s)for\s+(?P<length>.+)$")
_LENGTH = re.compile(_DURATION)


@dataclass(frozen=True)
class _Clock:
    """A time as written; which hour of the day it means may depend on the other end of a range."""

    hour: int
    minute: int
    meridiem: str | None  # "am", "pm" or None
    zero_padded: bool  # "09:00" is 24-hour style, so it is taken as written
    text: str = ""  # as written

    @property
    def guessed(self) -> bool:
        """Whether it could be morning or afternoon, so school hours decided."""
        return len(self.options()) > 1

    def options(self, like: str | None = None) -> list[time]:
        """The times this could mean, likeliest first; `like` is the other end's am or pm."""
        if self.meridiem:
            return [self._at(self.meridiem)]
        if self.hour == 0 or self.hour > 12 or self.zero_padded:
            return [time(self.hour, self.minute)]
        am, pm = self._at("am"), self._at("pm")
        if like is not None:
            return [am, pm] if like == "am" else [pm, am]
        return [am, pm] if 7 <= self.hour <= 11 else [pm, am]

    def _at(self, meridiem: str) -> time:
        return time(self.hour % 12 + (12 if meridiem == "pm" else 0), self.minute)


@dataclass(frozen=True)
class _Found:
    date_text: str
    times_text: str  # the rest, as normalised: "3pm for 1 hour"
    start: _Clock
    end: _Clock | None
    length: timedelta | None


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> TimeRange:
    """Read a meeting's date and times, meant in `tz`, as a range in UTC.

    Meetings are in the future: a date without a year goes forward, and no date at all means
    today. A local time the clocks skip or repeat is refused rather than guessed; a phrase with
    two readings raises `Ambiguous`, its choices the whole text with each reading. What was
    assumed (school hours for a bare hour, one hour's length) is in the result's notes.
    """
    if now.utcoffset() is None:
        raise ValueError("parse_when needs a timezone-aware `now`")
    today = now.astimezone(tz).date()
    try:
        return _parse_when(text, now, today, tz)
    except DateError as error:
        raise _with_examples(error, today, "future") from None


def _parse_when(text: str, now: datetime, today: date, tz: ZoneInfo) -> TimeRange:
    normal = _normalise(_within_length(text))
    if not normal:
        raise DateError("I need a date and a time for the meeting.", WHEN_HINT)
    for pattern, spoken in _SPOKEN_TIMES:
        normal = pattern.sub(spoken, normal)
    found = _find_times(normal)
    if found is None:
        _explain_missing_time(normal, text, today)
    day = today
    if found.date_text:
        # Quoted as typed where it can be found ("Thursday 5th February", not lower case).
        at = text.lower().find(found.date_text)
        shown = text[at:at + len(found.date_text)] if at >= 0 else found.date_text
        try:
            day = _parse_date(found.date_text, shown, today, "future")
        except Ambiguous as question:
            raise question.with_choices(tuple(f"{choice} {found.times_text}"
                                              for choice in question.choices)) from None

    start_time, end_time = _resolve(found.start, found.end)
    start = _to_utc(day, start_time, tz)
    notes = []
    guessed = [(c, t) for c, t in ((found.start, start_time), (found.end, end_time))
               if c is not None and t is not None and c.guessed
               and not (found.start.meridiem or (found.end and found.end.meridiem))]
    if guessed:
        read = " and ".join(f"“{c.text}” as {t:%H:%M}" for c, t in guessed)
        notes.append(f"I read {read}: without am or pm, I take times in school hours "
                     "(7am to 7pm). Add am or pm to change it.")
    if end_time is None:
        end = start + (found.length or DEFAULT_DURATION)
        if found.length is None:
            later = (datetime.combine(day, start_time) + timedelta(minutes=90)).time()
            notes.append(f"No end time was given, so I assumed one hour, till "
                         f"{end.astimezone(tz):%H:%M}: write `{spoken_time(start_time)}-"
                         f"{spoken_time(later)}` or `{spoken_time(start_time)} for 90 minutes` "
                         "to change it.")
    elif end_time <= start_time:
        raise _end_not_after_start(start_time, end_time)
    else:
        end = _to_utc(day, end_time, tz)
    if start < now:
        raise DateError(
            f"That is in the past: {format_date(day)}, {start_time:%H:%M} has already gone.",
            FUTURE_HINT,
        )
    return TimeRange(start=start, end=end, notes=tuple(notes))


def spoken_time(at: time) -> str:
    """"4pm", "11.30am", "12pm": a time as heads write it, read back the same by this module."""
    hour = at.hour % 12 or 12
    minutes = f".{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{'am' if at.hour < 12 else 'pm'}"


def _find_times(normal: str) -> _Found | None:
    for pattern in (_DATE_THEN_TIMES, _TIMES_THEN_DATE):
        match = pattern.fullmatch(normal)
        if match is None:
            continue
        lone = match["start"]
        if match["end"] is None and not match["at"] and (
                (lone.isdigit() and len(lone) <= 2)
                or (lone.isdigit() and int(lone) in _LIKE_A_YEAR)):
            # A lone number, like the "5" of "Feb 5" or the "2027" of "5 Feb 2027", is part of
            # the date rather than a time; "at 5" is a time.
            continue
        start = _clock(match["start"])
        end = _clock(match["end"]) if match["end"] else None
        date_text = match["date"] or ""
        if pattern is _DATE_THEN_TIMES:
            times_text = normal[match.end("date"):] if match["date"] else normal
        else:
            times_text = normal[:match.start("date")].removesuffix(" on ")
        return _Found(
            date_text=date_text,
            times_text=times_text.strip(),
            start=start,
            end=end,
            length=_length(match) if match["duration"] else None,
        )
    return None


def _explain_missing_time(normal: str, shown: str, today: date) -> NoReturn:
    """No time was found: say whether the length, the time or everything was unreadable."""
    length = _TRAILING_LENGTH.search(normal)
    if length and not _LENGTH.fullmatch(length["length"]):
        raise DateError(
            f"I couldn't read how long the meeting lasts: “for {length['length']}”.", LENGTH_HINT
        )
    date_part = normal[: length.start()] if length else normal
    if length and not date_part:
        raise DateError(f"{_quote(shown)} gives the length, but not when the meeting starts.",
                        f"Add the day and time first, like `tomorrow 2pm {normal}`.")
    try:
        day = _parse_date(date_part, shown, today, "future")
    except Ambiguous as question:
        day = question.days[0]
    except DateError:
        raise DateError(f"I couldn't read {_quote(shown)} as a date and time.", WHEN_HINT) from None
    example = f"{day.day} {MONTHS[day.month - 1][:3]}"
    raise DateError(
        f"{_quote(shown)} gives a date, {format_date(day)}, but no start time.",
        f"Add the time, like `{example} 2pm-3pm` or `{example} 2pm for 1 hour`.",
    )


def _clock(text: str) -> _Clock:
    """Read and check one time; `text` has already matched _CLOCK."""
    match = _CLOCK_PARTS.fullmatch(text)
    assert match is not None
    if match["noon"]:
        return _Clock(12, 0, "pm", zero_padded=False, text=text)
    if match["hour4"]:
        hour, minute = int(match["hour4"]), int(match["minute4"])
        if hour > 23:
            raise DateError(f"“{text}” is not a time: the 24-hour clock goes from 00:00 to "
                            "23:59.", TIME_HINT)
        return _Clock(hour, minute, None, zero_padded=True, text=text)
    hour, minute, meridiem = int(match["hour"]), int(match["minute"] or 0), match["meridiem"]
    if minute > 59:
        raise DateError(f"“{text}” is not a time: minutes go up to 59.", TIME_HINT)
    if meridiem and not 1 <= hour <= 12:
        example = f"Write `{hour - 12}{meridiem}` or `{hour}:00`." if 12 < hour < 24 else TIME_HINT
        raise DateError(f"“{text}” is not a time: with am or pm the hour goes from 1 to 12.",
                        example)
    if hour > 23:
        raise DateError(f"“{text}” is not a time: the 24-hour clock goes from 00:00 to 23:59.",
                        TIME_HINT)
    return _Clock(hour, minute, meridiem, zero_padded=match["hour"].startswith("0"), text=text)


def parse_time_of_day(text: str) -> time:
    """One time of day, like `8am`, `8.30am`, `08:00` or `17:45` (a bare `8` is 8am)."""
    normal = _normalise(_within_length(text))
    if not re.fullmatch(_CLOCK, normal):
        raise DateError(f"I couldn't read {_quote(text)} as a time of day.", TIME_HINT)
    return _clock(normal).options()[0]


def parse_weekday(text: str) -> int | None:
    """Monday is 0: "Monday", "mon", "Tues", "Mondays"; None if it is not a day of the week."""
    word = _normalise(text).removesuffix("s") if len(text.strip()) > 4 else _normalise(text)
    return _WEEKDAY_NUMBERS.get(word.rstrip("."))


def _length(match: re.Match[str]) -> timedelta:
    if match["half_hour"]:
        minutes = 30
    elif match["minutes"]:
        minutes = int(match["minutes"])
    else:
        words = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0}
        hours = words.get(match["hours"]) or float(match["hours"])
        minutes = round(hours * 60) + (30 if match["and_half"] else int(match["extra"] or 0))
    length = timedelta(minutes=minutes)
    if not timedelta(0) < length <= LONGEST_MEETING:
        raise DateError(
            f"“for {match['duration']}” is not a length I can book: a meeting lasts between "
            "1 minute and 24 hours.",
            LENGTH_HINT,
        )
    return length


def _resolve(start: _Clock, end: _Clock | None) -> tuple[time, time | None]:
    """Settle am or pm: a bare end of a range takes the other end's, when that keeps it in order.

    "9 till 10am" is 9am to 10am, "4-5pm" is 4pm to 5pm, and "11-1pm" is 11am to 1pm.
    """
    if end is None:
        return start.options()[0], None
    pairs = [(s, e) for s in start.options(end.meridiem) for e in end.options(start.meridiem)]
    return next(((s, e) for s, e in pairs if s < e), pairs[0])


def _end_not_after_start(start: time, end: time) -> DateError:
    hint = "Give the start time first, like `11.30am-12.30pm`, or a length, like `2pm for 1 hour`."
    if start == end:
        return DateError(f"The meeting would start and end at {start:%H:%M}.", hint)
    return DateError(
        f"The meeting would end at {end:%H:%M}, before it starts at {start:%H:%M}. "
        "A meeting has to finish on the day it starts.",
        hint,
    )


def _to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local time, refusing times the clocks skip or go through twice."""
    local = datetime.combine(day, at, tzinfo=tz)
    example = f"`{day.day} {MONTHS[day.month - 1][:3]} {day.year} 10am`"
    round_trip = local.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise DateError(
            f"{at:%H:%M} on {format_date(day)} does not exist in {tz}: the clocks go forward "
            "past it.",
            f"Choose a time after the change, like {example}.",
        )
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        raise DateError(
            f"{at:%H:%M} on {format_date(day)} happens twice in {tz}, because the clocks go back "
            "then, so I can't tell which you mean.",
            f"Choose a time outside the change, like {example}.",
        )
    return local.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Text

_DASHES = re.compile(r"[‐‑‒–—−]")
_APOSTROPHES = re.compile(r"[‘’`´]")
_DOTTED_MERIDIEM = re.compile(r"(?<![a-z])([ap])\.m\b\.?")


def _normalise(text: str) -> str:
    """Lower case, one kind of dash, "pm" for "p.m.", commas and a final full stop dropped."""
    text = _APOSTROPHES.sub("'", _DASHES.sub("-", clean_text(text).lower()))
    text = _DOTTED_MERIDIEM.sub(r"\1m", text).replace(",", " ")
    return re.sub(r"\s+", " ", text).strip(" .")


def _within_length(text: str) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        raise DateError(f"That is too long to be a date ({len(text):,} characters).", DATE_HINT)
    return text


def _quote(text: str) -> str:
    shown = clean_text(text)
    return f"“{shown[:40]}…”" if len(shown) > 40 else f"“{shown}”"
