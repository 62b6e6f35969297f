"""Today in England, and the school year's terms, for the commands that report by term."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
