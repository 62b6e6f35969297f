"""Private links from chat: `/partnership web [<partnership>]` and the "Open in browser" button
sign the asker in to the web pages; "Add to calendar" and "See the chart" hand them a file at a
link of their own; and files meant for one person (their data export) become links where the
platform cannot send a file (Teams).

Sign-in links work once, for 15 minutes, and start an 8-hour browser session; file links last 7
days (an invite, a chart) or one hour and one download (a data export). Links are made in the
command's own transaction, paced per person, and stored only as hashes (storage/web_access.py).
The pages themselves are served by bot/web."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import calendar, digest
from handlers.chart import coverage_png
from handlers.commands import button
from handlers.context import Caller
from handlers.errors import CommandError
from handlers.links import AddToCalendar, OpenInBrowser, OpenReport, SeeTheChart, link
from handlers.logbook import member_partnership
from handlers.lookup import require_member
from handlers.replies import Attachment, Outcome, Reply, Section, Tone
from handlers.schoolyear import school_term
from storage import digests, queries, web_access
from storage.models import MeetingStatus, Partnership
from storage.names import tidy_name
from storage.types import LONDON
from storage.web_access import NewFile, Paced, Person

SIGN_IN_PATH = "/web/signin/"
FILE_PATH = "/web/file/"
INVITE_LASTS = timedelta(days=7)
CHART_LASTS = timedelta(days=7)
PERSONAL_FILE_LASTS = timedelta(hours=1)


@dataclass(frozen=True)
class WebRequest:
    partnership: str  # "" for all of the caller's partnerships


def parse_request(rest: str, caller: Caller) -> WebRequest:
    return WebRequest(tidy_name(rest))


def _person(caller: Caller) -> Person:
    return Person(caller.workspace, caller.platform.value, caller.user_id, caller.user_name)


def _base(caller: Caller) -> str:
    if not caller.web_base:
        raise CommandError.because(
            "The web pages are not set up here, so I can't give you a link.",
            "Whoever runs this bot can set PUBLIC_BASE_URL to the address people reach it at.")
    return caller.web_base


def _clock(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%H:%M}"


def _paced(error: Paced) -> CommandError:
    return CommandError.because(
        "You have asked for a lot of links in the last few minutes.",
        f"Please ask again after {_clock(error.until)}; the links you were given still work "
        "until they expire.")


async def run(request: WebRequest, caller: Caller, session: AsyncSession) -> Outcome:
    """`/partnership web [<partnership>]`."""
    partnership = None
    if request.partnership:
        partnership = await member_partnership(session, caller, request.partnership,
                                               "partnership web {name}")
    return Outcome(await sign_in_reply(session, caller, partnership))


async def sign_in_reply(session: AsyncSession, caller: Caller,
                        partnership: Partnership | None,
                        report: OpenReport | None = None) -> Reply:
    """A sign-in link to the partnership's page (or the person's partnerships); with `report`,
    to its termly report's page for that period and school instead."""
    base = _base(caller)
    try:
        token, expires = await web_access.new_sign_in(
            session, _person(caller), partnership.id if partnership else None, caller.now)
    except Paced as error:
        raise _paced(error) from None
    where = partnership.name if partnership else "your partnerships"
    url = f"{base}{SIGN_IN_PATH}{token}"
    if report is not None:
        where = f"the termly report of {where}"
        url += "?" + urlencode({"open": "report", "from": report.first, "to": report.last,
                                **({"school": str(report.school_id)} if report.school_id
                                   else {})})
    return Reply(title=f"Your private link to {where}, in your browser", sections=[Section(
        lines=[f"It works once, until {_clock(expires)} (15 minutes), and keeps that browser "
               "signed in for 8 hours. It is for you alone: please don't pass it on."],
        links=[link("Open in browser", url)])])


@button(OpenInBrowser)
async def open_in_browser(pressed: OpenInBrowser, caller: Caller,
                          session: AsyncSession) -> Outcome:
    """"Open in browser": a sign-in link for whoever pressed it (the partnership's page, for a
    member of it; all of theirs when the button names none)."""
    partnership = None
    if pressed.partnership_id:
        partnership = await _partnership_by_id(session, caller, pressed.partnership_id)
        await require_member(session, caller, partnership)
    return Outcome(await sign_in_reply(session, caller, partnership))


@button(OpenReport)
async def open_report(pressed: OpenReport, caller: Caller, session: AsyncSession) -> Outcome:
    """"Open the report in your browser", under a report's reply: a sign-in link that lands on
    the report's page, for a member of its partnership."""
    partnership = await _partnership_by_id(session, caller, pressed.partnership_id)
    await require_member(session, caller, partnership)
    return Outcome(await sign_in_reply(session, caller, partnership, pressed))


async def _partnership_by_id(session: AsyncSession, caller: Caller,
                             partnership_id: int) -> Partnership:
    found = await queries.partnership_in(session, caller.workspace, partnership_id)
    if found is None:
        raise CommandError.because("That button is out of date.",
                                   f"{caller.cmd('partnership list')} shows the partnerships.")
    return found


@button(AddToCalendar)
async def add_to_calendar(pressed: AddToCalendar, caller: Caller,
                          session: AsyncSession) -> Outcome:
    """"Add to calendar": the meeting's invite as it stands now, at a link of the presser's
    own (anyone the card was posted to may have it, as anyone in a Slack channel has the file
    shared there)."""
    return Outcome(await _invite(session, caller, pressed.meeting_id))


@button(SeeTheChart)
async def see_the_chart(pressed: SeeTheChart, caller: Caller,
                        session: AsyncSession) -> Outcome:
    """"See the chart": the term's CPD coverage as a picture, for members."""
    return Outcome(await _chart(session, caller, pressed.partnership_id))


async def _invite(session: AsyncSession, caller: Caller, meeting_id: int) -> Reply:
    found = await queries.meeting_in(session, caller.workspace, meeting_id)
    if found is None:
        raise CommandError.because(f"I can't find meeting {meeting_id} any more.",
                                   f"{caller.cmd('meeting list')} shows the upcoming ones.")
    meeting, partnership = found
    assert meeting.id is not None
    file = calendar.invite(meeting, partnership.name, await queries.agenda_of(session,
                                                                              meeting.id),
                           caller.now)
    [(made, url)] = await _file_links(session, caller, [file], INVITE_LASTS, single_use=False)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    what = ("Open it to take the meeting out of your calendar." if cancelled else
            "Open it to add the meeting to your calendar (Outlook, Google, Apple).")
    return Reply(title=made.title, sections=[Section(
        lines=[f"{what} The link is yours and works for 7 days."],
        links=[link("Download the invite (.ics)", url)])])


async def _chart(session: AsyncSession, caller: Caller, partnership_id: int) -> Reply:
    partnership = await _partnership_by_id(session, caller, partnership_id)
    await require_member(session, caller, partnership)
    assert partnership.id is not None
    term = school_term(caller.now.astimezone(LONDON).date())
    coverage = await digests.coverage(session, partnership.id, term.start, term.end)
    grid = digest.coverage_grid(coverage, term, partnership.name)
    if grid is None:
        raise CommandError.because(
            f"No CPD has been logged in {partnership.name} this {term.name}, so there is no "
            "chart yet.", f"{caller.cmd(f'partnership web {partnership.name}')} shows its "
            "pages.")
    png = await asyncio.to_thread(coverage_png, grid)
    file = Attachment(f"cpd-coverage-{term.start:%Y-%m}.png", png,
                      f"CPD coverage in {partnership.name}, {term.name}", "image/png")
    [(made, url)] = await _file_links(session, caller, [file], CHART_LASTS, single_use=False)
    return Reply(title=made.title, sections=[Section(
        lines=["Sessions per theme, and how many each school's staff attended. The link is "
               "yours and works for 7 days."],
        links=[link("See the chart", url)])])


async def _file_links(session: AsyncSession, caller: Caller, files: Sequence[Attachment],
                      lasts: timedelta, single_use: bool) -> list[tuple[Attachment, str]]:
    base = _base(caller)
    try:
        made = await web_access.new_file_links(
            session, _person(caller),
            [NewFile(f.filename, f.title, f.mimetype, f.content) for f in files],
            lasts, single_use, caller.now)
    except Paced as error:
        raise _paced(error) from None
    return [(file, f"{base}{FILE_PATH}{token}") for file, (_, token) in zip(files, made,
                                                                            strict=True)]


async def personal_files(files: Sequence[Attachment], caller: Caller,
                         session: AsyncSession) -> Outcome:
    """Files for the caller alone (their data export), as links that work once, for an hour:
    for platforms that cannot send a person a file."""
    made = await _file_links(session, caller, files, PERSONAL_FILE_LASTS, single_use=True)
    return Outcome(Reply(title="Your files", tone=Tone.INFO, sections=[Section(
        lines=["Each link is yours alone and works once, for one hour."],
        links=[link(f"Download {file.title}", url) for file, url in made])]))
