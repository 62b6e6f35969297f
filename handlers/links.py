"""Buttons that lead out of chat: to the web pages ("Open in browser") and to files ("Add to
calendar", "See the chart"). Pressing one gives the presser a private link of their own
(handlers/web.py makes it and declares what each press runs).

Kept apart from handlers/web.py so that any command's reply can carry these buttons without
importing what makes the links."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.buttons import ButtonData
from handlers.replies import Button, Link


@dataclass(frozen=True)
class OpenInBrowser(ButtonData, kind="web.open"):
    partnership_id: int  # 0: all of the presser's partnerships


@dataclass(frozen=True)
class OpenReport(ButtonData, kind="web.report"):
    """Open the termly report's page: a partnership's, for a period and perhaps one school."""

    partnership_id: int
    first: str  # ISO dates
    last: str
    school_id: int  # 0: the whole partnership


@dataclass(frozen=True)
class AddToCalendar(ButtonData, kind="web.invite"):
    meeting_id: int


@dataclass(frozen=True)
class SeeTheChart(ButtonData, kind="web.chart"):
    partnership_id: int


def open_in_browser(partnership_id: int | None = None) -> Button:
    return Button("Open in browser", OpenInBrowser(partnership_id or 0))


def open_report(partnership_id: int, first: str, last: str, school_id: int | None) -> Button:
    return Button("Open the report in your browser",
                  OpenReport(partnership_id, first, last, school_id or 0))


def add_to_calendar(meeting_id: int, label: str = "Add to calendar") -> Button:
    return Button(label, AddToCalendar(meeting_id))


def see_the_chart(partnership_id: int) -> Button:
    return Button("See the chart", SeeTheChart(partnership_id))


def link(label: str, url: str) -> Link:
    return Link(label, url)
