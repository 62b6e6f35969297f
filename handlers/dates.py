"""UK dates and meeting times, as headteachers type them in chat.

Dates are day first: "5/2/2026" is 5 February. Times may be 12- or 24-hour. A time with no am/pm
gets a school-day reading: 7 to 11 is morning, 12 is midday and 1 to 6 is afternoon ("3.30" is
15:30), because nobody books a partnership meeting for half past three in the morning. Write
"03:30" for the small hours. Everything here is pure: `today` and `now` come from the caller.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NoReturn
from zoneinfo import ZoneInfo

from handlers.parsing import clean_text

Prefer = Literal["past", "future", "nearest"]

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

DATE_HINT = "Write dates day first, like `5/2/2026`, `5 Feb` or `Thursday 5th February`."
WHEN_HINT = ("Write the date and then the time, like `Thursday 5 February 11.30am-12.30pm`, "
             "`tomorrow 9am for 90 minutes` or `5/2 14:00-15:00`.")
TIME_HINT = "Write times like `2pm`, `2.30pm` or `14:30`."
LENGTH_HINT = "Write the length like `for 1 hour`, `for 90 minutes` or `for an hour and a half`."
FUTURE_HINT = ("Give a date and time still to come, like `tomorrow 3pm` or "
               "`next Thursday 11.30am-12.30pm`.")


class DateError(ValueError):
    """Text that is not a usable date or time; `problem` says what is wrong, `hint` the fix."""

    problem: str
    hint: str

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


@dataclass(frozen=True)
class TimeRange:
    start: datetime  # timezone-aware, in UTC
    end: datetime  # timezone-aware, in UTC


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
_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}

# Longest names first, so "thursday" is tried before "thu".
_WEEKDAY = "|".join(sorted(_WEEKDAY_NUMBERS, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th)?"
_WEEKDAY_ALONE = re.compile(rf"(?:(?P<which>last|next|this|coming)\s+)?(?P<day>{_WEEKDAY})")
_LEADING_WEEKDAY = re.compile(rf"(?P<day>{_WEEKDAY})\.?\s+(?P<rest>.+)")
_ISO = re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})")
_NUMERIC = re.compile(
    r"(?P<d>[0-9]{1,2})(?P<sep>[/.-])(?P<m>[0-9]{1,2})(?:(?P=sep)(?P<y>[0-9]{4}|[0-9]{2}))?"
)
_DAY_MONTH = re.compile(
    rf"(?:the\s+)?(?P<d>[0-9]{{1,2}}){_ORDINAL}\s*(?:of\s+)?(?P<month>[a-z]+)\.?"
    r"(?:\s+(?P<y>[0-9]{4}))?"
)
_MONTH_DAY = re.compile(
    rf"(?P<month>[a-z]+)\.?\s+(?:the\s+)?(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:\s+(?P<y>[0-9]{{4}}))?"
)
_DAY_ONLY = re.compile(rf"(?:the\s+)?[0-9]{{1,2}}{_ORDINAL}")
_MONTH_ONLY = re.compile(r"(?P<month>[a-z]+)\.?(?:\s+[0-9]{4})?")


def parse_date(text: str, today: date, prefer: Prefer = "nearest") -> date:
    """Read a UK date. A date without a year is the one in the past, future or nearest `today`.

    A weekday alone is the coming one, today included ("last" and "next" step back or on), except
    with prefer="past", where it is the latest one on or before today.
    """
    normal = _normalise(_within_length(text))
    if not normal:
        raise DateError("I need a date.", DATE_HINT)
    return _parse_date(normal, text, today, prefer)


def _parse_date(normal: str, shown: str, today: date, prefer: Prefer) -> date:
    if normal in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[normal])
    if match := _WEEKDAY_ALONE.fullmatch(normal):
        return _weekday_near(_WEEKDAY_NUMBERS[match["day"]], match["which"], today, prefer)
    if match := _LEADING_WEEKDAY.fullmatch(normal):
        weekday = _WEEKDAY_NUMBERS[match["day"]]
        found = _calendar_date(match["rest"], shown, today, prefer)
        if found.weekday() != weekday:
            right = WEEKDAYS[found.weekday()]
            raise DateError(
                f"{_quote(shown)} doesn't add up: {found.day} {MONTHS[found.month - 1]} "
                f"{found.year} is a {right}, not a {WEEKDAYS[weekday]}.",
                f"Check the date, or write `{format_date(found)}`.",
            )
        return found
    return _calendar_date(normal, shown, today, prefer)


def _weekday_near(weekday: int, which: str | None, today: date, prefer: Prefer) -> date:
    ahead = (weekday - today.weekday()) % 7  # 0 when today is that day
    behind = (today.weekday() - weekday) % 7
    if which == "last":
        return today - timedelta(days=behind or 7)
    if which == "next":
        # "next Thursday" is the first Thursday after today, never today itself.
        return today + timedelta(days=ahead or 7)
    if which is None and prefer == "past":
        return today - timedelta(days=behind)
    return today + timedelta(days=ahead)


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
        return _real_date(int(match["y"]), month, day, shown)
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
    past = max((d for d in candidates if d <= today), default=None)
    future = min((d for d in candidates if d >= today), default=None)
    if past is None or future is None:
        chosen = past or future
    elif prefer == "past":
        chosen = past
    elif prefer == "future":
        chosen = future
    else:
        chosen = past if today - past < future - today else future
    if chosen is None:
        raise DateError(f"I can't find a year for {_quote(shown)}.", DATE_HINT)
    return chosen


# ---------------------------------------------------------------------------------------------
# Times

_CLOCK = r"(?:(?:12\s*)?(?:noon|midday)|[0-9]{1,2}(?:[:.][0-9]{2})?(?:\s*[ap]m)?)"
_CLOCK_PARTS = re.compile(
    r"(?P<noon>(?:12\s*)?(?:noon|midday))"
    r"|(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?\s*(?P<meridiem>[ap]m)?"
)
_SEPARATOR = r"(?:\s*-\s*|\s+(?:to|till|til|until)\s+)"
_DURATION = (
    r"(?:(?P<half_hour>half\s+an\s+hour)"
    r"|(?P<hours>an?|one|[0-9]{1,2}(?:\.[0-9]{1,2})?)\s*(?:hours?|hrs?|h)"
    r"(?:\s*(?:and\s+)?(?:(?P<and_half>a\s+half)|(?P<extra>[0-9]{1,2})\s*(?:minutes?|mins?|m)?))?"
    r"|(?P<minutes>[0-9]{1,4})\s*(?:minutes?|mins?|m))"
)
_TIMES = (rf"(?:at\s+|from\s+)?(?P<start>{_CLOCK})"
          rf"(?:{_SEPARATOR}(?P<end>{_CLOCK})|\s+for\s+(?P<duration>{_DURATION}))?")
# "Thursday 5 Feb 2pm-3pm": the date part is as short as it can be, and may be absent.
_DATE_THEN_TIMES = re.compile(rf"(?:(?:on\s+)?(?P<date>.*?)\s+)??{_TIMES}")
# "3pm tomorrow", "2pm on Thursday 5 February".
_TIMES_THEN_DATE = re.compile(rf"{_TIMES}\s+(?:on\s+)?(?!for\s)(?P<date>.+)")
_TRAILING_LENGTH = re.compile(r"\sfor\s+(?P<length>.+)$")
_LENGTH = re.compile(_DURATION)


@dataclass(frozen=True)
class _Clock:
    """A time as written; which hour of the day it means may depend on the other end of a range."""

    hour: int
    minute: int
    meridiem: str | None  # "am", "pm" or None
    zero_padded: bool  # "09:00" is 24-hour style, so it is taken as written

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
    start: _Clock
    end: _Clock | None
    length: timedelta | None


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> TimeRange:
    """Read a meeting's date and times, meant in `tz`, as a range in UTC.

    Meetings are in the future: a date without a year goes forward, and no date at all means
    today. A local time the clocks skip or repeat is refused rather than guessed.
    """
    if now.utcoffset() is None:
        raise ValueError("parse_when needs a timezone-aware `now`")
    normal = _normalise(_within_length(text))
    if not normal:
        raise DateError("I need a date and a time for the meeting.", WHEN_HINT)
    today = now.astimezone(tz).date()
    found = _find_times(normal)
    if found is None:
        _explain_missing_time(normal, text, today)
    day = today
    if found.date_text:
        day = _parse_date(found.date_text, found.date_text, today, "future")

    start_time, end_time = _resolve(found.start, found.end)
    start = _to_utc(day, start_time, tz)
    if end_time is None:
        end = start + (found.length or DEFAULT_DURATION)
    elif end_time <= start_time:
        raise _end_not_after_start(start_time, end_time)
    else:
        end = _to_utc(day, end_time, tz)
    if start < now:
        raise DateError(
            f"That is in the past: {format_date(day)}, {start_time:%H:%M} has already gone.",
            FUTURE_HINT,
        )
    return TimeRange(start=start, end=end)


def _find_times(normal: str) -> _Found | None:
    for pattern in (_DATE_THEN_TIMES, _TIMES_THEN_DATE):
        match = pattern.fullmatch(normal)
        if match is None:
            continue
        if match["end"] is None and match["start"].isdigit():
            continue  # a lone number, like the "5" of "Feb 5", is a day rather than a time
        start = _clock(match["start"])
        end = _clock(match["end"]) if match["end"] else None
        return _Found(
            date_text=match["date"] or "",
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
    try:
        day = _parse_date(date_part, shown, today, "future")
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
        return _Clock(12, 0, "pm", zero_padded=False)
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
    return _Clock(hour, minute, meridiem, zero_padded=match["hour"].startswith("0"))


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
        hours = 1.0 if match["hours"] in ("a", "an", "one") else float(match["hours"])
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
_DOTTED_MERIDIEM = re.compile(r"(?<![a-z])([ap])\.m\b\.?")


def _normalise(text: str) -> str:
    """Lower case, one kind of dash, "pm" for "p.m.", commas and a final full stop dropped."""
    text = _DASHES.sub("-", clean_text(text).lower())
    text = _DOTTED_MERIDIEM.sub(r"\1m", text).replace(",", " ")
    return re.sub(r"\s+", " ", text).strip(" .")


def _within_length(text: str) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        raise DateError(f"That is too long to be a date ({len(text):,} characters).", DATE_HINT)
    return text


def _quote(text: str) -> str:
    shown = clean_text(text)
    return f"“{shown[:40]}…”" if len(shown) > 40 else f"“{shown}”"
