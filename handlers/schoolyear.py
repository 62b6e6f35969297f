"""Today in England, and the school year's terms, for the commands that report by term."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from storage.types import LONDON, utcnow

# Not strftime("%b"): that follows the server's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def today_in_london() -> date:
    """The date on a school's wall clock, whatever the server's time zone."""
    return utcnow().astimezone(LONDON).date()


@dataclass(frozen=True)
class Term:
    name: str  # "autumn term 2025"
    start: date
    end: date  # inclusive

    def label(self) -> str:
        return f"{self.name} ({short_date(self.start)} to {short_date(self.end)})"


def school_term(day: date) -> Term:
    """The school term `day` falls in, by fixed calendar boundaries.

    Real term dates differ by school and year (Easter moves the spring/summer break; half terms
    and INSET days vary), so this is an approximation every school shares: autumn is 1 September
    to 31 December, spring 1 January to 31 March, summer 1 April to 31 August. Holidays fall in
    the term they follow or precede, which is what "this term" means to a head looking back."""
    if day.month >= 9:
        return Term(f"autumn term {day.year}", date(day.year, 9, 1), date(day.year, 12, 31))
    if day.month <= 3:
        return Term(f"spring term {day.year}", date(day.year, 1, 1), date(day.year, 3, 31))
    return Term(f"summer term {day.year}", date(day.year, 4, 1), date(day.year, 8, 31))


def school_year_start(day: date) -> date:
    """1 September of the school year `day` falls in."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def school_year_label(day: date) -> str:
    """ "2025–26" for any day from 1 September 2025 to 31 August 2026."""
    start = school_year_start(day).year
    return f"{start}–{(start + 1) % 100:02d}"


def short_date(day: date) -> str:
    """A compact date for list lines: "5 Feb 2026"."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


TERM_SEASONS = ("autumn", "spring", "summer")
TERM_HINT = ("Name a term like `autumn 2026`, `spring 2027` or `summer term 2027` (or `this "
             "term`, `last term`), or give dates: `from: 1/9/2026 to: 30/11/2026`.")
_TERM_WORDS = re.compile(r"(?:the\s+)?(?P<season>autumn|fall|spring|summer)(?:\s+term)?"
                         r"(?:\s+(?P<year>\d{4}|\d{2}))?")
_SEASON_MONTH = {"autumn": 9, "fall": 9, "spring": 1, "summer": 4}


def previous_term(term: Term) -> Term:
    return school_term(term.start - timedelta(days=1))


def term_named(text: str, today: date) -> Term | None:
    """The term `text` names: "autumn 2026", "spring term 2027", "summer 27", "this term",
    "last term", or a season alone (its latest term that has begun). None if it names none.

    A term's year is the calendar year it falls in, as `school_term` names it: the spring term
    of the 2026–27 school year is "spring 2027"."""
    words = " ".join(text.lower().replace("-", " ").split())
    if words in ("this term", "this", "current term", "term"):
        return school_term(today)
    if words in ("last term", "last", "previous term"):
        return previous_term(school_term(today))
    match = _TERM_WORDS.fullmatch(words)
    if match is None:
        return None
    month = _SEASON_MONTH[match["season"]]
    if match["year"] is None:
        year = today.year if today.month >= month else today.year - 1
    else:
        year = int(match["year"])
        year += 2000 if year < 100 else 0
    return school_term(date(year, month, 1))
