"""`/partnership report <partnership> [term: …] [from: … to: …] [school: …]`: the termly report
for governors and trust boards, for the whole partnership or one of its schools, as a PDF for
the governors' pack, a spreadsheet and a CSV for the person who asked (Slack: in their direct
messages; Teams: private links; the shell: saved in the data folder), with its key figures in
the reply. What it says is read once (storage/reports.py) and drawn by handlers/report_files.py;
the web pages show the same report, printable, with the same three downloads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.dates import DateError, parse_date
from handlers.errors import CommandError
from handlers.links import open_report
from handlers.logbook import date_problem, member_partnership
from handlers.lookup import quoted_list
from handlers.parsing import ParseError, parse_fields
from handlers.replies import Fact, Outcome, Reply, Section
from handlers.report_files import files, hours, hours_text, period_text
from handlers.schools import look_up_school, pick_among
from handlers.schoolyear import TERM_HINT, school_term, short_date, term_named
from storage import queries, reports
from storage.models import Partnership, School
from storage.names import tidy_name
from storage.reports import ReportData, ReportPeriod
from storage.types import LONDON

EXAMPLE = "partnership report East Barnet Area term: autumn 2026"
DATES_EXAMPLE = "partnership report East Barnet Area from: 1/9/2026 to: 30/11/2026"
# The longest period a report covers: several school years, no more.
LONGEST_PERIOD = timedelta(days=5 * 366)


@dataclass(frozen=True)
class ReportRequest:
    partnership: str
    period: ReportPeriod
    school: str | None


def parse_report(rest: str, caller: Caller) -> ReportRequest:
    parsed = parse_fields(rest, ["term", "from", "to", "school"])
    name = tidy_name(parsed.positional)
    if not name:
        raise ParseError("Which partnership's report would you like?",
                         f"Write it like this: {caller.cmd(EXAMPLE)}")
    today = caller.now.astimezone(LONDON).date()
    return ReportRequest(name, read_period(parsed.get("term"), parsed.get("from"),
                                           parsed.get("to"), today, caller),
                         tidy_name(parsed.get("school") or "") or None)


def read_period(term: str | None, first: str | None, last: str | None, today: date,
                caller: Caller) -> ReportPeriod:
    """`term: autumn 2026`, or `from: … [to: …]` (to today when `to:` is left out), or this
    term when neither is given."""
    if term is not None and (first is not None or last is not None):
        raise ParseError("Please give either a term or dates, not both.",
                         f"For example {caller.cmd(EXAMPLE)}, or {caller.cmd(DATES_EXAMPLE)}.")
    if first is None and last is not None:
        raise ParseError("Please say where the period starts, with `from:`.", TERM_HINT)
    if first is None:
        found = term_named(term, today) if term is not None else school_term(today)
        if found is None:
            raise ParseError(f"I don't know the term “{term}”.", TERM_HINT)
        return ReportPeriod(found.start, found.end, found.name)
    start = _day("from", first, today)
    end = _day("to", last, today) if last is not None else today
    if end < start:
        raise ParseError(f"The period ends ({short_date(end)}) before it starts "
                         f"({short_date(start)}).", "Give a `to:` date on or after `from:`.")
    if end - start > LONGEST_PERIOD:
        raise ParseError("That period is longer than five years.",
                         "Give a shorter one, or a term: " + TERM_HINT)
    return ReportPeriod(start, end, f"{short_date(start)} to {short_date(end)}")


def _day(field: str, text: str, today: date) -> date:
    try:
        return parse_date(text, today, "past")
    except DateError as error:
        raise ParseError(*date_problem(field, error)) from None


async def school_in(session: AsyncSession, caller: Caller, partnership: Partnership,
                    typed: str) -> School:
    """The partnership's school `typed` means; otherwise a refusal that says whether it is a
    school outside the partnership, or which of its schools it might be."""
    assert partnership.id is not None
    schools = list(await queries.schools_of(session, partnership.id))
    match = pick_among(typed, schools)
    if match.found is not None:
        return match.found
    listed = (f"Its schools are: {quoted_list([s.name for s in schools[:20]])}."
              if schools else f"{partnership.name} has no schools yet.")
    if match.ambiguous:
        raise CommandError.because(
            f"“{typed}” could be {quoted_list([s.name for s in match.ambiguous])}.",
            "Give more of the school's name.")
    elsewhere = (await look_up_school(session, caller, typed)).found
    if elsewhere is not None:
        raise CommandError.because(
            f"{elsewhere.name} is not one of {partnership.name}'s schools, so it has no part "
            "in its report.", listed)
    if match.suggestions:
        raise CommandError.because(
            f"“{typed}” is not one of {partnership.name}'s schools. Did you mean "
            f"{quoted_list([s.name for s in match.suggestions])}?", listed)
    raise CommandError.because(f"“{typed}” is not one of {partnership.name}'s schools.",
                               listed)


async def run(request: ReportRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await member_partnership(session, caller, request.partnership,
                                           "partnership report {name}")
    school = (await school_in(session, caller, partnership, request.school)
              if request.school else None)
    data = await reports.build(session, partnership, school, request.period, caller.now)
    made = await asyncio.to_thread(files, data)
    return Outcome(summary_reply(data, caller, partnership, school), files=made)


def summary_reply(data: ReportData, caller: Caller, partnership: Partnership,
                  school: School | None) -> Reply:
    total = data.cpd_total
    title = f"Termly report for {data.scope}: {period_text(data)}"
    if data.empty:
        return Reply(title=title, sections=[
            Section(lines=[f"Nothing was recorded for {data.scope} in this period: no CPD "
                           "sessions, learning walks, actions or meetings. The report says "
                           "so, for the record.",
                           _files_line()]),
            *_browser(caller, partnership, data, school)])
    hours_given = hours_text(hours(total.minutes))
    facts = [Fact("CPD sessions", f"{total.sessions:,}"),
             Fact("CPD hours", hours_given + (f" (+{total.without_length} with no length)"
                                               if total.without_length else "")),
             Fact("Learning walks", f"{data.walks:,}"),
             Fact("Actions", f"{data.actions.raised:,} raised, {data.actions.done:,} done, "
                             f"{data.actions.overdue:,} overdue"),
             Fact("Meetings held", f"{len(data.meetings):,}"),
             Fact("Impact notes", f"{len(data.impact):,}")]
    return Reply(title=title, sections=[Section(facts=facts),
                                        Section(lines=[_files_line()]),
                                        *_browser(caller, partnership, data, school)])


def _files_line() -> str:
    return ("For you alone: a PDF laid out for the governors' pack, a spreadsheet (one sheet "
            "per table) and a CSV. Walk notes about staff are never in it.")


def _browser(caller: Caller, partnership: Partnership, data: ReportData,
             school: School | None) -> list[Section]:
    """The report's web page, where the pages are served: the same report, ready to print."""
    if not caller.web_base or partnership.id is None:
        return []
    return [Section(lines=["The partnership's pages have it too, ready to print."],
                    buttons=[open_report(partnership.id, data.period.first.isoformat(),
                                         data.period.last.isoformat(),
                                         school.id if school else None)])]
