"""The web pages: signing in and out, your partnerships, and each partnership's overview,
schools, members, CPD coverage, walks, meetings (apologies and minutes) and actions; files at
personal links.

Every partnership page checks membership with the rule the chat commands use
(handlers.lookup.membership), so a page shows exactly what its viewer could ask for in chat;
a walk's notes included, for members only (a walk's next-step action is its notes' words, so it
is shown on the actions page by the same rule). A partnership's pages are listed in SECTIONS.
The termly report is one: drawn from the same `ReportData` as the chat command's files,
printable (A4, the print style sheet every page carries), with the PDF, spreadsheet and CSV to
download."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.web.app import (
    PREFIX,
    PageError,
    Viewer,
    check_post,
    clear_session_cookie,
    config,
    render,
    set_session_cookie,
    signed_in,
    viewer,
)
from handlers import digest
from handlers.calendar import meeting_calendar
from handlers.chart import coverage_png
from handlers.cpd import attendance_words, format_hours
from handlers.dates import TimeRange, format_date, format_time_range
from handlers.lookup import membership
from handlers.meetings import ANSWER_LABELS, Replies, approval_day, timezone_of
from handlers.minutes import Content
from handlers.partnership import KIND_LABELS
from handlers.report_files import (
    CSV_TYPE,
    PDF_TYPE,
    XLSX_TYPE,
    about,
    csv_bytes,
    file_stem,
    key_figures,
    notes,
    pdf,
    period_text,
    report_tables,
    shown,
    xlsx,
)
from handlers.schoolyear import previous_term, school_term, school_year_start, short_date
from storage import actions, digests, learning, queries, reports, web_access, web_pages
from storage.models import (
    AccessRole,
    Action,
    ActionStatus,
    LearningWalk,
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    MinutesStatus,
    Partnership,
    RsvpAnswer,
)
from storage.types import LONDON
from storage.web_access import LinkState

PAGE_SIZE = 50
# The longest CPD period a page covers: long enough for several school years.
LONGEST_PERIOD = timedelta(days=5 * 366)


@dataclass(frozen=True)
class PageLink:
    """One of a partnership's pages, for its navigation."""

    label: str
    path: str  # after /web/p/<id>


SECTIONS = (
    PageLink("Overview", ""),
    PageLink("CPD coverage", "/cpd"),
    PageLink("Learning walks", "/walks"),
    PageLink("Meetings", "/meetings"),
    PageLink("Actions", "/actions"),
    PageLink("Termly report", "/report"),
)


def _int(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise PageError(404, f"There is no such {what}.", "Check the address, or start again "
                        "from the partnership's page.")
    return int(text)


def _page_number(request: web.Request) -> int:
    text = request.query.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise PageError(400, "That page number is not right.", "Use the page's own links.")
    return int(text) - 1


async def _partnership(request: web.Request, session: AsyncSession,
                       who: Viewer) -> Partnership:
    """The partnership in the address, if the viewer is one of its members. Otherwise the same
    refusal whether it exists or not, naming nothing."""
    pid = _int(request.match_info["pid"], "partnership")
    partnership = await queries.partnership_in(session, who.caller.workspace, pid)
    if partnership is None or await membership(session, who.caller, partnership) is None:
        raise PageError(403, "You can't see this page.",
                        "It belongs to a partnership you are not a member of, or to none "
                        "at all.")
    return partnership


def _base(partnership: Partnership) -> str:
    return f"{PREFIX}/p/{partnership.id}"


def _context(partnership: Partnership, current: str) -> dict[str, Any]:
    return {"partnership": partnership, "sections": SECTIONS, "current": current,
            "base": _base(partnership)}


# --- signing in and out ---------------------------------------------------------------------

LINK_PROBLEMS = {
    LinkState.UNKNOWN: (403, "This link is not valid.",
                        "It may have been typed or copied wrongly, or the person it was made "
                        "for asked for their data to be erased."),
    LinkState.FOREIGN: (403, "This is not a sign-in link.",
                        "It looks like a link for something else, pasted in the wrong place."),
    LinkState.USED: (410, "This link has already been used.",
                     "Each link works once, so that no one else can use it after you."),
    LinkState.EXPIRED: (410, "This link has expired.",
                        "Links work for 15 minutes after you ask for them."),
}


def _link_problem(state: LinkState) -> PageError:
    status, title, line = LINK_PROBLEMS[state]
    return PageError(status, title, line, sign_in=True)


async def sign_in_page(request: web.Request) -> web.Response:
    """Opening a link: a page with a button, so link checkers that fetch it don't use it up."""
    token = request.match_info["token"]
    conf = config(request)
    async with conf.db.session() as session:
        state, link = await web_access.sign_in_link(session, token, conf.clock())
    if state is not LinkState.GOOD or link is None:
        raise _link_problem(state)
    return render(request, "signin.html", name=link.user_name, token=token,
                  query=request.query_string, current=await viewer(request))


_QUERY_VALUE = re.compile(r"[0-9-]{1,12}")


async def sign_in(request: web.Request) -> web.StreamResponse:
    """The button: spend the link, start the session, go to the page it was for."""
    await check_post(request, None)
    token = request.match_info["token"]
    conf = config(request)
    async with conf.db.session() as session:
        state, link, cookie = await web_access.use_sign_in(session, token, conf.clock())
    if state is not LinkState.GOOD or link is None or cookie is None:
        raise _link_problem(state)
    target = f"{PREFIX}/p/{link.partnership_id}" if link.partnership_id else f"{PREFIX}/"
    if link.partnership_id and request.query.get("open") == "report":
        # A link from a report's reply lands on that report (dates and school as given; the
        # page checks them). Only this one page of the link's own partnership: no redirect
        # goes anywhere else.
        report = {k: v for k in ("from", "to", "school")
                  if (v := request.query.get(k, "")) and _QUERY_VALUE.fullmatch(v)}
        target += f"/report?{urlencode(report)}" if report else "/report"
    response = _see_other(target)
    set_session_cookie(response, request, cookie)
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    who = await viewer(request)
    if who is not None:
        await check_post(request, who)
        async with config(request).db.session() as session:
            await web_access.end_session(session, who.cookie)
    response = _see_other(f"{PREFIX}/signed-out")
    clear_session_cookie(response, request)
    return response


def _see_other(location: str) -> web.Response:
    """A redirect after a POST, returned (not raised) so the middlewares see it like a page."""
    return web.Response(status=303, headers={"Location": location})


async def signed_out(request: web.Request) -> web.Response:
    return render(request, "signed_out.html")


# --- your partnerships ----------------------------------------------------------------------


async def home(request: web.Request) -> web.Response:
    who = await signed_in(request)
    async with config(request).db.session() as session:
        rows = await web_pages.my_partnerships(session, who.caller.workspace,
                                               who.caller.platform.value, who.caller.user_id)
    return render(request, "home.html", who=who, rows=rows, kinds=KIND_LABELS)


# --- a partnership --------------------------------------------------------------------------


def _school_extras(school: Any) -> str:
    return ", ".join(x for x in (school.designation, school.authority) if x)


async def overview(request: web.Request) -> web.Response:
    who = await signed_in(request)
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        schools = await web_pages.schools_page(session, partnership.id, 0, 10)
        members = await web_pages.members_page(session, partnership.id, 0, 10)
        links = await queries.channel_links(session, partnership.id)
    return render(request, "partnership.html", who=who, schools=schools, members=members,
                  channels=links, kind=KIND_LABELS.get(partnership.kind, partnership.kind),
                  extras=_school_extras, **_context(partnership, ""))


def _pager(request: web.Request, page: int, more: bool) -> dict[str, str | None]:
    def at(n: int) -> str:
        return f"{request.path}?{urlencode({**request.query, 'page': str(n + 1)})}"
    return {"newer": at(page - 1) if page > 0 else None, "older": at(page + 1) if more else None}


async def schools(request: web.Request) -> web.Response:
    who = await signed_in(request)
    page = _page_number(request)
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        found = await web_pages.schools_page(session, partnership.id, page, PAGE_SIZE)
    return render(request, "schools.html", who=who, page=found, number=page + 1,
                  first=page * PAGE_SIZE + 1, pager=_pager(request, page, found.more),
                  extras=_school_extras, **_context(partnership, ""))


async def members(request: web.Request) -> web.Response:
    who = await signed_in(request)
    page = _page_number(request)
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        found = await web_pages.members_page(session, partnership.id, page, PAGE_SIZE)
    return render(request, "members.html", who=who, page=found, number=page + 1,
                  lead=AccessRole.LEAD.value, pager=_pager(request, page, found.more),
                  **_context(partnership, ""))


# --- CPD coverage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    label: str  # "the autumn term 2025", "1 Sep 2025 to 31 Oct 2025"
    words: str  # the same, after "CPD sessions per theme": "in …" or "from … to …"

    def query(self) -> str:
        return urlencode({"from": self.first.isoformat(), "to": self.last.isoformat()})


def _period(request: web.Request, today: date) -> Period:
    term = school_term(today)
    start, end = request.query.get("from"), request.query.get("to")
    if not start and not end:
        return Period(term.start, term.end, f"the {term.name}", f"in the {term.name}")
    try:
        first = date.fromisoformat(start or "")
        last = date.fromisoformat(end or "")
    except ValueError:
        raise PageError(400, "Those dates are not right.",
                        "Choose both dates with the form, or pick one of the periods "
                        "listed.") from None
    if last < first:
        raise PageError(400, "The period ends before it starts.",
                        "Choose a “to” date on or after the “from” date.")
    if last - first > LONGEST_PERIOD:
        raise PageError(400, "That period is longer than five years.",
                        "Choose a shorter period.")
    label = f"{short_date(first)} to {short_date(last)}"
    return Period(first, last, label, f"from {label}")


def _periods(today: date) -> list[Period]:
    this = school_term(today)
    last = previous_term(this)
    year = school_year_start(today)
    return [Period(this.start, this.end, f"This term ({this.name})", ""),
            Period(last.start, last.end, f"Last term ({last.name})", ""),
            Period(year, today, f"This school year (since {short_date(year)})", "")]


async def coverage(request: web.Request) -> web.Response:
    """Sessions and hours per theme, and a page of schools by theme. Every read is bounded by
    the page (50 schools), not by the partnership's size; the heat map, which needs every
    school's attendance, is its own request."""
    who = await signed_in(request)
    today = who.caller.now.astimezone(LONDON).date()
    period = _period(request, today)
    page = _page_number(request)
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        all_themes = await learning.cpd_themes(session, partnership.id)
        totals = await web_pages.theme_totals(session, partnership.id, period.first,
                                              period.last)
        schools = await web_pages.schools_page(session, partnership.id, page, PAGE_SIZE)
        grid = await web_pages.attendance_of(session, partnership.id, period.first,
                                             period.last, [s.id for s in schools.rows if s.id])
    themes = [t for t in all_themes if not t.retired or t.id in totals]
    sessions = sum(t.sessions for t in totals.values())
    return render(
        request, "coverage.html", who=who, period=period, periods=_periods(today),
        themes=themes, totals=totals, sessions=sessions, schools=schools, grid=grid,
        hours=lambda total: format_hours(total.minutes) if total.minutes else "–",
        attendance=lambda total: attendance_words(
            total.sessions - total.without_schools, total.without_schools,
            total.attendees_without_schools),
        first=page * PAGE_SIZE + 1, pager=_pager(request, page, schools.more),
        chart=bool(sessions and schools.total), **_context(partnership, "/cpd"))


async def coverage_chart(request: web.Request) -> web.Response:
    """The heat map of the same period, drawn by the digest's chart code."""
    who = await signed_in(request)
    period = _period(request, who.caller.now.astimezone(LONDON).date())
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        found = await digests.coverage(session, partnership.id, period.first, period.last)
    term = school_term(period.first)
    grid = digest.coverage_grid(found, term, partnership.name, period=period.words)
    if grid is None:
        raise PageError(404, "There is no chart for this period.",
                        "No CPD sessions were logged in it.")
    png = await asyncio.to_thread(coverage_png, grid)
    return web.Response(body=png, content_type="image/png")


# --- learning walks -------------------------------------------------------------------------

_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2})\.(\d{1,12})")


def _walk_cursor(text: str | None) -> tuple[date, int] | None:
    if not text:
        return None
    match = _CURSOR.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return date.fromisoformat(match[1]), int(match[2])
    except ValueError:
        raise PageError(400, "That page address is not right.",
                        "Use the page's own links to move between pages.") from None


@dataclass(frozen=True)
class StepState:
    label: str  # "open", "overdue", "done", ""
    text: str


def step_state(walk: LearningWalk, steps: Sequence[Action], today: date) -> StepState:
    """The state of a walk's next steps (its actions): open, overdue or done."""
    if not steps:
        return StepState("", "none recorded")
    open_ = [a for a in steps if a.status == ActionStatus.OPEN.value]
    if not open_:
        done = [a.closed_at for a in steps if a.closed_at is not None]
        when = f" {short_date(max(done).astimezone(LONDON).date())}" if done else ""
        by = {a.closed_by_name for a in steps if a.closed_by_name}
        return StepState("done", f"done{when}" + (f" by {', '.join(sorted(by))}" if by else ""))
    parts = []
    for a in open_:
        bits = [a.owner_name or ""] if a.owner_name else []
        if a.due_on is not None:
            bits.append(f"due {short_date(a.due_on)}")
        parts.append(", ".join(bits) or "no owner or date")
    overdue = any(a.due_on is not None and a.due_on < today for a in open_)
    return StepState("overdue" if overdue else "open", "; ".join(parts))


async def walks(request: web.Request) -> web.Response:
    who = await signed_in(request)
    today = who.caller.now.astimezone(LONDON).date()
    before = _walk_cursor(request.query.get("before"))
    open_only = request.query.get("steps") == "open"
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        found = await web_pages.walks_page(session, partnership.id, before, open_only,
                                           PAGE_SIZE)
        tally = await learning.walk_counts(session, [partnership.id], None, None, today)
        steps = await actions.actions_of_walks(session, [r[0].id for r in found.rows
                                                         if r[0].id is not None])
    older = None
    if found.more:
        last = found.rows[-1][0]
        older = f"?{urlencode({**request.query, 'before': f'{last.walked_on}.{last.id}'})}"
    return render(request, "walks.html", who=who, rows=found.rows, tally=tally,
                  open_only=open_only, older=older, first_page=before is None,
                  state=lambda w: step_state(w, steps.get(w.id, []), today),
                  short_date=short_date,
                  **_context(partnership, "/walks"))


async def walk_page(request: web.Request) -> web.Response:
    who = await signed_in(request)
    today = who.caller.now.astimezone(LONDON).date()
    walk_id = _int(request.match_info["wid"], "walk")
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        found = await web_pages.walk(session, partnership.id, walk_id)
        if found is None:
            raise PageError(404, "There is no such walk in this partnership.",
                            "Its walks are listed on the Learning walks page.")
        walkers = (await learning.walkers_of(session, [walk_id])).get(walk_id, [])
        steps = await actions.actions_of_walk(session, walk_id)
    walk, school = found
    return render(request, "walk.html", who=who, walk=walk, school=school, walkers=walkers,
                  state=step_state(walk, steps, today), steps=steps,
                  format_date=format_date,
                  removed=walk.notes_removed_at is not None, **_context(partnership, "/walks"))


# --- actions --------------------------------------------------------------------------------

ACTION_FILTERS = {"open": "Open", "overdue": "Overdue", "done": "Done", "mine": "Mine (open)"}


def action_source(row: actions.ActionRow) -> str:
    """Where an action came from: a walk's next step, a meeting's item, or typed in chat."""
    return row.source_label or "typed in chat"


def action_text(row: actions.ActionRow) -> str:
    """The action's words; a walk's next step is the walk's notes, so once the walk's notes are
    removed (retention) they are not shown here either, as on the walk's page."""
    if row.walk is not None and row.walk.notes_removed_at is not None:
        return "(notes removed)"
    return row.action.description


def action_status(row: actions.ActionRow, today: date) -> str:
    a = row.action
    if a.status == ActionStatus.OPEN.value and a.due_on is not None and a.due_on < today:
        return "overdue"
    if a.status != ActionStatus.OPEN.value and a.closed_at is not None:
        by = f" by {a.closed_by_name}" if a.closed_by_name else ""
        return f"{a.status} {short_date(a.closed_at.astimezone(LONDON).date())}{by}"
    return a.status


async def actions_page(request: web.Request) -> web.Response:
    who = await signed_in(request)
    today = who.caller.now.astimezone(LONDON).date()
    show = request.query.get("show", "open")
    if show not in ACTION_FILTERS:
        raise PageError(400, "That list of actions is not one there is.",
                        "Use the page's own links: open, overdue, done or mine.")
    page = _page_number(request)
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        rows = await actions.action_rows(
            session, [partnership.id],
            status=ActionStatus.DONE if show == "done" else ActionStatus.OPEN,
            owner=(who.caller.platform.value, who.caller.user_id) if show == "mine" else None,
            due_before=today if show == "overdue" else None,
            limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
        counts = await actions.action_counts(session, partnership.id, who.caller.now,
                                             who.caller.now, today)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render(request, "actions.html", who=who, rows=rows, show=show,
                  filters=ACTION_FILTERS, overdue=counts.overdue,
                  pager=_pager(request, page, more), source=action_source, text=action_text,
                  state=lambda r: action_status(r, today), short_date=short_date,
                  **_context(partnership, "/actions"))


# --- meetings -------------------------------------------------------------------------------

_MEETING_CURSOR = re.compile(r"(\d{1,12})\.(\d{1,12})")


def _meeting_cursor(text: str | None) -> tuple[datetime, int] | None:
    if not text:
        return None
    match = _MEETING_CURSOR.fullmatch(text)
    if match is None:
        raise PageError(400, "That page address is not right.",
                        "Use the page's own links to move between pages.")
    return datetime.fromtimestamp(int(match[1]), UTC), int(match[2])


def when(meeting: Meeting) -> str:
    return format_time_range(TimeRange(meeting.starts_at, meeting.ends_at),
                             ZoneInfo(meeting.timezone))


async def meetings(request: web.Request) -> web.Response:
    who = await signed_in(request)
    past = request.query.get("show") == "past"
    after = _meeting_cursor(request.query.get("after"))
    now = who.caller.now
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        found = await web_pages.meetings_page(session, partnership.id, now, not past, after,
                                              PAGE_SIZE)
        total = await web_pages.meeting_count(session, partnership.id, now, not past)
    more = None
    if found.more:
        last = found.rows[-1].meeting
        cursor = f"{int(last.starts_at.timestamp())}.{last.id}"
        more = f"?{urlencode({**request.query, 'after': cursor})}"
    return render(request, "meetings.html", who=who, rows=found.rows, total=total, past=past,
                  more=more, first_page=after is None, when=when, replies=_replies,
                  cancelled=MeetingStatus.CANCELLED.value,
                  **_context(partnership, "/meetings"))


def _replies(row: web_pages.MeetingRow) -> str:
    counts = {RsvpAnswer.GOING: row.going, RsvpAnswer.NOT_GOING: row.not_going,
              RsvpAnswer.MAYBE: row.maybe}
    return " · ".join(f"{ANSWER_LABELS[a]}: {n}" for a, n in counts.items())


async def _meeting(request: web.Request, session: AsyncSession,
                   partnership: Partnership) -> Meeting:
    assert partnership.id is not None
    found = await web_pages.meeting(session, partnership.id,
                                    _int(request.match_info["mid"], "meeting"))
    if found is None:
        raise PageError(404, "There is no such meeting in this partnership.",
                        "Its meetings are listed on the Meetings page.")
    return found


@dataclass(frozen=True)
class MinutesVersion:
    """One version of a meeting's minutes, as the page states it."""

    version: int
    approved: bool
    status: str  # "approved by Ann Smith on 5 February 2026" or "draft, not yet approved"


def minutes_version(minutes: MeetingMinutes, meeting: Meeting) -> MinutesVersion:
    approved = minutes.status == MinutesStatus.APPROVED
    return MinutesVersion(minutes.version, approved,
                          f"approved by {minutes.approved_by_name} on "
                          f"{approval_day(minutes, meeting)}" if approved
                          else "draft, not yet approved")


async def meeting_page(request: web.Request) -> web.Response:
    who = await signed_in(request)
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        meeting = await _meeting(request, session, partnership)
        assert meeting.id is not None and partnership.id is not None
        agenda = await queries.agenda_of(session, meeting.id)
        rsvps = await queries.rsvps_of(session, meeting.id)
        replies = Replies.of(await queries.replies_to(session, meeting))
        waiting = await web_pages.not_replied(session, partnership.id, meeting.id, 200)
        versions = await queries.minutes_of(session, meeting.id)
    # Apologies (members' "can't make it", with their reasons) are shown apart from those
    # who have not replied; the other answers as before.
    answers = {a: [r.display_name for r in rsvps if r.answer == a.value]
               for a in ANSWER_LABELS if a != RsvpAnswer.NOT_GOING}
    guests = replies.guests.get(RsvpAnswer.NOT_GOING.value, [])
    latest = versions[0] if versions else None
    return render(request, "meeting.html", who=who, meeting=meeting, agenda=agenda,
                  answers=answers, labels=ANSWER_LABELS, waiting=waiting,
                  apologies=[*replies.apology_lines(), *(f"{g} (guest)" for g in guests)],
                  minutes=Content.of(latest) if latest else None,
                  latest=minutes_version(latest, meeting) if latest else None,
                  written_by=latest.written_by_name if latest else "",
                  earlier=[minutes_version(v, meeting) for v in versions[1:]],
                  when=when(meeting), cancelled=meeting.status == MeetingStatus.CANCELLED,
                  past=meeting.ends_at <= who.caller.now, **_context(partnership, "/meetings"))


async def meeting_invite(request: web.Request) -> web.Response:
    """The meeting's calendar file as it stands (a cancellation once cancelled)."""
    who = await signed_in(request)
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        meeting = await _meeting(request, session, partnership)
        assert meeting.id is not None
        agenda = await queries.agenda_of(session, meeting.id)
    calendar = meeting_calendar(meeting, partnership.name, agenda, who.caller.now)
    local = meeting.starts_at.astimezone(timezone_of(partnership))
    return _download(calendar.to_ical(), "text/calendar",
                     f"meeting-{meeting.id}-{local:%Y-%m-%d}.ics")


# --- the termly report ----------------------------------------------------------------------


def _report_period(request: web.Request, today: date) -> reports.ReportPeriod:
    """The period asked for (this term by default), named as a term where it is one."""
    period = _period(request, today)
    term = school_term(period.first)
    if (term.start, term.end) == (period.first, period.last):
        return reports.ReportPeriod(term.start, term.end, term.name)
    return reports.ReportPeriod(period.first, period.last, period.label)


async def _report(request: web.Request) -> tuple[Viewer, Partnership, reports.ReportData]:
    """The report the address asks for (a period, and perhaps one of the partnership's
    schools), for a member of the partnership."""
    who = await signed_in(request)
    period = _report_period(request, who.caller.now.astimezone(LONDON).date())
    school_text = request.query.get("school", "")
    async with config(request).db.session() as session:
        partnership = await _partnership(request, session, who)
        assert partnership.id is not None
        school = None
        if school_text:
            school = await learning.school_in_partnership(
                session, partnership.id, _int(school_text, "school"))
            if school is None:
                raise PageError(404, "There is no such school in this partnership.",
                                "Choose one of its schools on the report's page.")
        data = await reports.build(session, partnership, school, period, who.caller.now)
    return who, partnership, data


def _report_query(data: reports.ReportData, school_id: str) -> str:
    query = {"from": data.period.first.isoformat(), "to": data.period.last.isoformat()}
    if school_id:
        query["school"] = school_id
    return urlencode(query)


async def report_page(request: web.Request) -> web.Response:
    who, partnership, data = await _report(request)
    today = who.caller.now.astimezone(LONDON).date()
    this = school_term(today)
    terms = [this, previous_term(this), previous_term(previous_term(this))]
    query = _report_query(data, request.query.get("school", ""))
    async with config(request).db.session() as session:
        assert partnership.id is not None
        schools = await queries.schools_of(session, partnership.id)
    return render(request, "report.html", who=who, data=data, tables=report_tables(data),
                  figures=key_figures(data), notes=notes(data), as_of=format_date(data.as_of),
                  made=dict(about(data))["Made"], period=period_text(data), query=query,
                  terms=terms, schools=schools, chosen=request.query.get("school", ""),
                  shown=shown,
                  **_context(partnership, "/report"))


async def report_file(request: web.Request) -> web.Response:
    """The report as a PDF, spreadsheet or CSV, drawn off the event loop."""
    _, _, data = await _report(request)
    kind = request.match_info["kind"]
    draw, mimetype = {"pdf": (pdf, PDF_TYPE), "xlsx": (xlsx, XLSX_TYPE),
                      "csv": (csv_bytes, CSV_TYPE)}[kind]
    content = await asyncio.to_thread(draw, data)
    return _download(content, mimetype, f"{file_stem(data)}.{kind}")


# --- files at personal links ----------------------------------------------------------------

FILE_PROBLEMS = {
    LinkState.UNKNOWN: (403, "This file link is not valid.",
                        "It may have been copied wrongly, or the person it was made for asked "
                        "for their data to be erased."),
    LinkState.FOREIGN: (403, "This is not a file link.",
                        "It looks like a link for something else, pasted in the wrong place."),
    LinkState.USED: (410, "This file has already been downloaded.",
                     "A file with personal data can be downloaded once, so no one else can."),
    LinkState.EXPIRED: (410, "This file link has expired.",
                        "Ask for the file again in chat: a calendar invite or chart link lasts "
                        "7 days, a data export one hour."),
}


async def file_download(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    conf = config(request)
    who = await viewer(request)
    async with conf.db.session() as session:
        state, row = await web_access.take_file(session, token, conf.clock())
        if state is LinkState.GOOD and row is not None and who is not None and (
                who.caller.workspace, who.caller.platform.value, who.caller.user_id) != (
                row.workspace, row.platform, row.user_id):
            # Signed in as someone else: the link was made for another person.
            raise PageError(403, "This file link was made for someone else.",
                            "Ask for your own in chat.")
    if state is not LinkState.GOOD or row is None:
        status, title, line = FILE_PROBLEMS[state]
        raise PageError(status, title, line)
    return _download(row.content, row.mimetype, row.filename)


def _download(content: bytes, mimetype: str, filename: str) -> web.Response:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return web.Response(body=content, content_type=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(filename)}"})


def routes() -> Sequence[web.RouteDef]:
    return [
        web.get("/", home),
        web.get("/signin/{token}", sign_in_page),
        web.post("/signin/{token}", sign_in),
        web.post("/signout", sign_out),
        web.get("/signed-out", signed_out),
        web.get("/file/{token}", file_download),
        web.get("/p/{pid}", overview),
        web.get("/p/{pid}/schools", schools),
        web.get("/p/{pid}/members", members),
        web.get("/p/{pid}/cpd", coverage),
        web.get("/p/{pid}/cpd/chart.png", coverage_chart),
        web.get("/p/{pid}/walks", walks),
        web.get("/p/{pid}/walks/{wid}", walk_page),
        web.get("/p/{pid}/meetings", meetings),
        web.get("/p/{pid}/actions", actions_page),
        web.get(r"/p/{pid}/meetings/{mid:\d+}.ics", meeting_invite),
        web.get("/p/{pid}/meetings/{mid}", meeting_page),
        web.get("/p/{pid}/report", report_page),
        web.get(r"/p/{pid}/report.{kind:pdf|xlsx|csv}", report_file),
    ]
