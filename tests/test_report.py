"""`/partnership report` through the core, on SQLite and PostgreSQL: the termly report's figures
read back from its PDF (pypdf), spreadsheet (openpyxl) and CSV (csv), held against the data and
against `/cpd summary` for the same period; walks without their notes; actions and meetings;
one school; and bad input answered plainly. Slack (signed HTTP) and the shell at the end."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import select

from bot.shell import run_shell
from handlers.replies import Attachment, Outcome, Tone
from handlers.report_files import MOST_LISTED, PDF_TYPE, XLSX_TYPE, csv_bytes, pdf, xlsx
from handlers.schoolyear import previous_term, school_term, term_named, today_in_london
from storage.db import Database
from storage.learning import CpdTally
from storage.models import (
    Meeting,
    MeetingMinutes,
    MinutesStatus,
    Partnership,
    Rsvp,
    RsvpAnswer,
)
from storage.reports import ActionCounts, ReportData, ReportPeriod, SessionLine, day_start
from tests.conftest import RunningBot, RunningTeamsBot
from tests.support.browser import ARTIFACTS
from tests.support.cards import card_text
from tests.support.fake_connector import REPLY
from tests.support.learning import ANN, BEN, CY, PARTNERSHIP, ok, say, set_up_partnerships
from tests.support.web import card_links

TODAY = today_in_london()
TERM = school_term(TODAY)
SINCE = TERM.start


def this_term(days_ago: int) -> date:
    """A day of this term that has already come."""
    return max(TERM.start, TODAY - timedelta(days=days_ago))


def uk(day: date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


async def seed(db: Database) -> None:
    """East Barnet Area: four sessions this term (one with no length, one with a head count,
    one with an impact note), one last term; three walks this term with next steps (one done,
    one overdue, one open) whose notes must never show; a meeting held, with replies."""
    await set_up_partnerships(db)
    for text in (
        f"title: Phonics refresher theme: TA training date: {uk(this_term(3))} hours: 1.5 "
        "host: Monkfrith attendees: Monkfrith, Danegrove impact: TAs now use the same "
        "phonics prompts in every Y1 class; “quick wins” seen within a fortnight.",
        f"title: Reviewing interventions theme: SENCO date: {uk(this_term(2))} hours: 2 "
        "host: Danegrove attendees: all",
        f"title: Lunchtime play leaders theme: lunchtimes date: {uk(this_term(1))} "
        "host: Monkfrith attendees: 24",
        f"title: Phonics follow-up theme: TA training date: {uk(this_term(0))} hours: 45 "
        "minutes attendees: Queenswell",
        f"title: Last term's session theme: middle leadership date: "
        f"{uk(previous_term(TERM).end)} hours: 3 host: Queenswell attendees: all",
    ):
        await ok(db, "cpd", f"log {PARTNERSHIP} quiet {text}")
    past_due = max(TERM.start, TODAY - timedelta(days=1))
    for school, focus, due, day in (
        ("Danegrove", "Reading for pleasure", uk(past_due), this_term(2)),
        ("Monkfrith", "reading for pleasure", uk(TODAY + timedelta(days=40)), this_term(1)),
        ("Danegrove", "Maths talk", uk(TODAY + timedelta(days=60)), this_term(0)),
    ):
        await ok(db, "walk", f"log {PARTNERSHIP} quiet school: {school} date: {uk(day)} "
                 f"focus: {focus} strengths: Secret strengths note development: Secret "
                 f"development note next steps: Secret next step owner: Ben Day due: {due}")
    await ok(db, "walk", "done 3")
    async with db.session() as session:
        east = (await session.exec(select(Partnership).where(
            Partnership.name == PARTNERSHIP))).one()
        # Held this term and over: three hours ago, or (in a term's first hours) at its start.
        start = max(datetime.now(UTC) - timedelta(hours=3), day_start(TERM.start))
        held = Meeting(partnership_id=east.id or 0, uid="held@test", title="Heads' network",
                       starts_at=start, ends_at=start + timedelta(minutes=1),
                       created_by=ANN.user_id)
        session.add(held)
        await session.flush()
        session.add_all([
            Rsvp(meeting_id=held.id or 0, platform="slack", user_id=ANN.user_id,
                 display_name="Ann Smith", answer=RsvpAnswer.GOING.value),
            Rsvp(meeting_id=held.id or 0, platform="slack", user_id=BEN.user_id,
                 display_name="Ben Day", answer=RsvpAnswer.NOT_GOING.value,
                 reason="Ofsted call"),
        ])


@pytest.fixture
async def seeded(db: Database) -> Database:
    await seed(db)
    return db


def file_of(outcome: Outcome, mimetype: str) -> Attachment:
    [found] = [f for f in outcome.files if f.mimetype == mimetype]
    return found


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def sheets(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {name: [tuple(row) for row in book[name].iter_rows(values_only=True)]
            for name in book.sheetnames}


def csv_blocks(content: bytes) -> dict[str, list[list[str]]]:
    """The CSV's tables by title: each block is a title line, headings and rows."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in rows:
        if not row:
            current = None
        elif current is None:
            current = blocks.setdefault(row[0], [])
        else:
            current.append(row)
    return blocks


def by_first(rows: list[tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in rows[1:]}


_MORE = r"(?: \(\+\d+ sessions? with no length given\))?"
_THEME_LINE = re.compile(rf"(.+): (?:(\d+) sessions?, ([\d.]+) hours?{_MORE}|none)")
_SCHOOL_LINE = re.compile(r"(.+): hosted (\d+|none); attended (?:(\d+) sessions?, ([\d.]+) "
                          rf"hours?{_MORE}|none recorded)")


def summary_figures(outcome: Outcome) -> tuple[int, float, dict[str, tuple[int, float]],
                                                dict[str, tuple[int, int, float]]]:
    """`/cpd summary`'s figures, read from its reply."""
    sections = outcome.reply.sections
    facts = {f.label: f.value for s in sections for f in s.facts}
    sessions = int(facts["Sessions"])
    hours = float(facts["Hours"].split()[0])
    themes: dict[str, tuple[int, float]] = {}
    for line in next(s.lines for s in sections if s.heading == "By theme"):
        m = _THEME_LINE.fullmatch(line)
        assert m is not None, line
        themes[m[1]] = (int(m[2] or 0), float(m[3] or 0))
    schools: dict[str, tuple[int, int, float]] = {}
    for line in next(s.lines for s in sections if s.heading == "By school"):
        m = _SCHOOL_LINE.fullmatch(line)
        assert m is not None, line
        schools[m[1]] = (0 if m[2] == "none" else int(m[2]), int(m[3] or 0), float(m[4] or 0))
    return sessions, hours, themes, schools


async def test_the_report_s_figures_equal_cpd_summary_for_the_same_period(
    seeded: Database,
) -> None:
    db = seeded
    summary = await ok(db, "cpd", f"summary {PARTNERSHIP} since: {uk(SINCE)}", BEN)
    sessions, hours, themes, schools = summary_figures(summary)
    # The data as logged: four sessions this term, 4.25 hours (one has no length).
    assert (sessions, hours) == (4, 4.25)
    outcome = await ok(db, "partnership", f"report {PARTNERSHIP} from: {uk(SINCE)}", BEN)
    assert len(outcome.files) == 3

    book = sheets(file_of(outcome, XLSX_TYPE).content)
    summary_sheet = by_first(book["Summary"])
    assert summary_sheet["CPD sessions"][0] == sessions
    assert summary_sheet["CPD hours"][0] == hours
    assert summary_sheet["CPD sessions with no length given"][0] == 1
    assert summary_sheet["Head count (sessions with a head count)"][0] == 24
    by_theme = by_first(book["CPD by theme"])
    assert {t: (row[0], row[1]) for t, row in by_theme.items() if t != "Total"} == themes
    assert by_theme["Total"][:2] == (sessions, hours)
    by_school = by_first(book["CPD by school"])
    assert {s: (row[1], row[3], row[4]) for s, row in by_school.items()} == schools

    text = pdf_text(file_of(outcome, PDF_TYPE).content)
    assert f"CPD sessions {sessions}" in text and "CPD hours 4.25" in text
    for theme, (n, h) in themes.items():
        if n and len(theme) < 45:  # one line in its cell: name, sessions and hours in a row
            assert re.search(rf"{re.escape(theme)} {n} {h:g} \d", text), theme
    assert re.search(rf"Total {sessions} 4.25 1", text)
    assert "Last term's session" not in text

    blocks = csv_blocks(file_of(outcome, "text/csv").content)
    csv_themes = {row[0]: (int(row[1]), float(row[2])) for row in blocks[
        "CPD sessions and hours by theme"][1:] if row[0] != "Total"}
    assert csv_themes == themes
    csv_schools = {row[0]: (int(row[2]), int(row[4]), float(row[5]))
                   for row in blocks["CPD by school: sessions hosted and attended"][1:]}
    assert csv_schools == schools


async def test_walks_are_counted_by_focus_and_school_and_their_notes_never_appear(
    seeded: Database,
) -> None:
    outcome = await ok(seeded, "partnership", f"report {PARTNERSHIP}")
    book = sheets(file_of(outcome, XLSX_TYPE).content)
    assert by_first(book["Walks by focus"]) == {"Reading for pleasure": (2,), "Maths talk": (1,),
                                                "Total": (3,)}
    assert by_first(book["Walks by school"]) == {"Danegrove": (2,), "Monkfrith": (1,),
                                                 "Queenswell": (0,), "Total": (3,)}
    everything = [pdf_text(file_of(outcome, PDF_TYPE).content),
                  str(book), file_of(outcome, "text/csv").content.decode("utf-8-sig"),
                  outcome.reply.plain_text()]
    for text in everything:
        assert "Secret" not in text
    assert "never part of this report" in everything[0]


async def test_actions_and_meetings_with_attendance_and_apologies(seeded: Database) -> None:
    outcome = await ok(seeded, "partnership", f"report {PARTNERSHIP}")
    book = sheets(file_of(outcome, XLSX_TYPE).content)
    actions = by_first(book["Actions"])
    # Raised, done, open, overdue: walk 3 (Danegrove) is done; walk 1 was due yesterday.
    overdue = 1 if TODAY - timedelta(days=1) >= TERM.start else 0
    assert actions["Total"] == (3, 1, 2, overdue)
    assert actions["Danegrove"] == (2, 1, 1, overdue)
    assert actions["Monkfrith"] == (1, 0, 1, 0)
    [heading, meeting] = book["Meetings"]
    assert heading[:5] == ("Date", "Meeting", "Attended", "Apologies", "No reply")
    assert meeting[1:] == ("Heads' network", 1, 1, 0, "Ann Smith", "Ben Day (Ofsted call)",
                           "replies")
    text = pdf_text(file_of(outcome, PDF_TYPE).content)
    assert "Heads' network 1 1 0 Ann Smith Ben Day (Ofsted call) replies" in text
    assert "“quick wins” seen within a fortnight" in text  # the impact section
    facts = {f.label: f.value for s in outcome.reply.sections for f in s.facts}
    assert facts["Actions"] == f"3 raised, 1 done, {overdue} overdue"
    assert facts["Meetings held"] == "1"


async def test_approved_minutes_record_attendance_and_apologies(seeded: Database) -> None:
    """Once a meeting's minutes are approved, the report takes who was present and the
    apologies from them (the latest approved version), not from the replies."""
    async with seeded.session() as session:
        held = (await session.exec(select(Meeting))).one()
        for version, status, present in ((1, MinutesStatus.APPROVED, "Ann Smith"),
                                         (2, MinutesStatus.APPROVED, "Ann Smith\nDr Eve Hart"),
                                         (3, MinutesStatus.DRAFT, "Someone else")):
            session.add(MeetingMinutes(
                meeting_id=held.id or 0, version=version, status=status.value,
                attendees=present, apologies="Ben Day (Ofsted call)\nCy Ng", platform="slack",
                written_by=ANN.user_id, written_by_name="Ann Smith"))
    outcome = await ok(seeded, "partnership", f"report {PARTNERSHIP}")
    [_, meeting] = sheets(file_of(outcome, XLSX_TYPE).content)["Meetings"]
    assert meeting[1:] == ("Heads' network", 2, 2, 0, "Ann Smith, Dr Eve Hart",
                           "Ben Day (Ofsted call), Cy Ng", "approved minutes")
    assert "approved minutes" in pdf_text(file_of(outcome, PDF_TYPE).content)


async def test_one_school_s_report_counts_what_it_hosted_or_attended(seeded: Database) -> None:
    outcome = await ok(seeded, "partnership", f"report {PARTNERSHIP} school: queenswell")
    assert outcome.reply.title.startswith(f"Termly report for Queenswell ({PARTNERSHIP})")
    book = sheets(file_of(outcome, XLSX_TYPE).content)
    # Queenswell: the "all" session and the follow-up it attended; it hosted none this term.
    assert by_first(book["Summary"])["CPD sessions"] == (2,)
    assert by_first(book["CPD by school"]) == {"Queenswell": (None, 0, 0, 2, 2.75)}
    assert by_first(book["Walks by school"]) == {"Queenswell": (0,), "Total": (0,)}
    assert [row[1] for row in book["CPD sessions"][1:]] == ["Reviewing interventions",
                                                            "Phonics follow-up"]
    # Its members' replies only: no member is there for Queenswell (Ben is for Danegrove).
    assert book["Meetings"][1][2:7] == (0, 0, 0, None, None)
    danegrove = sheets(file_of(await ok(seeded, "partnership",
                                        f"report {PARTNERSHIP} school: Danegrove"),
                               XLSX_TYPE).content)
    assert danegrove["Meetings"][1][2:8] == (0, 1, 0, None, "Ben Day (Ofsted call)",
                                             "replies")


async def test_a_period_with_nothing_in_it_gets_a_report_that_says_so(seeded: Database) -> None:
    outcome = await ok(seeded, "partnership", f"report {PARTNERSHIP} term: summer 2020")
    assert "Nothing was recorded for East Barnet Area in this period" in \
        outcome.reply.plain_text()
    text = pdf_text(file_of(outcome, PDF_TYPE).content)
    assert "Nothing was recorded for East Barnet Area in this period" in text
    assert "summer term 2020 (1 Apr 2020 to 31 Aug 2020)" in text
    assert "No CPD sessions were logged in this period." in text


@pytest.mark.parametrize(("text", "problem", "hint"), [
    (f"report {PARTNERSHIP} school: Sunnyfields",
     "Sunnyfields is not one of East Barnet Area's schools", "Danegrove"),
    (f"report {PARTNERSHIP} school: Nowhere Academy",
     "“Nowhere Academy” is not one of East Barnet Area's schools", "Its schools are"),
    (f"report {PARTNERSHIP} term: winter 2026", "I don't know the term “winter 2026”",
     "autumn 2026"),
    (f"report {PARTNERSHIP} term: autumn 2026 from: 1/9/2026", "either a term or dates",
     "from: 1/9/2026 to: 30/11/2026"),
    (f"report {PARTNERSHIP} from: 1/12/2026 to: 1/9/2026", "ends (1 Sep 2026) before it starts",
     "to:"),
    (f"report {PARTNERSHIP} to: 1/9/2026", "where the period starts", "from:"),
    (f"report {PARTNERSHIP} from: 31/2/2026", "In `from:`", "day first"),
    ("report", "Which partnership's report", "term: autumn 2026"),
    ("report Hendon Area", "Only members of Hendon Area", "partnership join"),
])
async def test_bad_input_is_answered_with_what_to_type(
    seeded: Database, text: str, problem: str, hint: str,
) -> None:
    outcome = await say(seeded, "partnership", text)
    assert outcome.reply.tone is Tone.ERROR
    said = outcome.reply.plain_text()
    assert problem in said and hint in said, said
    assert outcome.files == []


async def test_another_partnership_s_member_gets_nothing_of_it(seeded: Database) -> None:
    outcome = await say(seeded, "partnership", f"report {PARTNERSHIP}", CY)
    assert outcome.reply.tone is Tone.ERROR and not outcome.files
    assert "Phonics" not in outcome.reply.plain_text()


def test_term_names() -> None:
    day = date(2026, 11, 30)
    assert term_named("autumn 2026", day) == school_term(date(2026, 9, 1))
    assert term_named("Spring term 2027", day) == school_term(date(2027, 1, 1))
    assert term_named("summer 27", day) == school_term(date(2027, 4, 1))
    assert term_named("this term", day) == school_term(day)
    assert term_named("last term", day) == school_term(date(2026, 8, 31))
    assert term_named("spring", day) == school_term(date(2026, 1, 1))  # its latest begun
    assert term_named("autumn", date(2027, 2, 1)) == school_term(date(2026, 9, 1))
    assert term_named("winter", day) is None
    assert term_named("autumn 2026 please", day) is None


# --- the platforms ------------------------------------------------------------------------------


async def test_in_slack_the_files_arrive_privately_and_the_reply_is_ephemeral(
    bot: RunningBot,
) -> None:
    await bot.ask("/partnership", f"create {PARTNERSHIP}")
    await bot.ask("/partnership", f"join {PARTNERSHIP} school: Monkfrith")
    await bot.ask("/cpd", f"log {PARTNERSHIP} quiet title: Phonics refresher theme: TA training "
                  f"date: {uk(this_term(0))} hours: 1.5 host: Monkfrith attendees: 12")
    answer = await bot.ask("/partnership", f"report {PARTNERSHIP}")
    assert answer["response_type"] == "ephemeral"
    assert f"Termly report for {PARTNERSHIP}" in answer["text"]
    await bot.fake.wait_for("files.completeUploadExternal")
    [opened] = bot.fake.of("conversations.open")
    assert opened.body["users"] == "U2147483697"
    uploads = {u.filename.rsplit(".", 1)[1]: u for _, u in bot.fake.shared_files()}
    assert sorted(uploads) == ["csv", "pdf", "xlsx"]
    assert "CPD hours 1.5" in pdf_text(uploads["pdf"].content)
    assert by_first(sheets(uploads["xlsx"].content)["Summary"])["CPD sessions"] == (1,)
    # Nothing went to the channel.
    assert not bot.fake.of("chat.postMessage")

    refused = await bot.ask("/partnership", f"report {PARTNERSHIP} school: Sunnyfields Primary")
    assert refused["response_type"] == "ephemeral"
    assert "is not one of East Barnet Area's schools" in refused["text"]
    assert len(bot.fake.of("files.completeUploadExternal")) == 1


async def test_in_the_shell_the_files_are_saved_in_the_data_folder(
    sqlite_db: Database, tmp_path: Path,
) -> None:
    typed = io.StringIO(
        f"partnership create {PARTNERSHIP}\n"
        f"partnership join {PARTNERSHIP} school: Monkfrith\n"
        f"cpd log {PARTNERSHIP} title: SEND update theme: SENCO date: {uk(this_term(0))} "
        "hours: 2 host: Monkfrith attendees: all\n"
        f"partnership report {PARTNERSHIP} term: this term\n"
        f"partnership report {PARTNERSHIP} term: next year\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    said = out.getvalue()
    saved = await asyncio.to_thread(lambda: sorted(tmp_path.glob("termly-report-*")))
    assert [p.suffix for p in saved] == [".csv", ".pdf", ".xlsx"]
    for path in saved:
        assert f"saved as {path}" in said
    assert "I don't know the term “next year”" in said
    content = await asyncio.to_thread(saved[2].read_bytes)
    assert by_first(sheets(content)["CPD by school"])["Monkfrith"] == (None, 1, 2, 1, 2)


async def test_the_pdf_s_first_page_as_a_picture(seeded: Database) -> None:
    """For a person to look at (tests/artifacts/report-page-1.png): pdftoppm, where installed."""
    outcome = await ok(seeded, "partnership", f"report {PARTNERSHIP}")
    content = file_of(outcome, PDF_TYPE).content
    assert content.startswith(b"%PDF-")
    assert PdfReader(io.BytesIO(content)).pages[0].mediabox.width == pytest.approx(595.28, 0.1)
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.skip("pdftoppm is not installed (Debian: apt-get install poppler-utils)")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "report.pdf"
    await asyncio.to_thread(pdf.write_bytes, content)
    await asyncio.to_thread(subprocess.run, [tool, "-png", "-r", "80", "-f", "1", "-l", "1",
                                             "-singlefile", str(pdf),
                                             str(ARTIFACTS / "report-page-1")], check=True)
    assert (ARTIFACTS / "report-page-1.png").stat().st_size > 10_000


async def test_in_teams_the_files_come_as_private_links(teams_bot: RunningTeamsBot) -> None:
    """Teams takes no file from a bot: the reply card links to the three files, each at a link
    of the asker's own that works once."""
    for n, text in enumerate((
        f"partnership create {PARTNERSHIP}",
        f"partnership join {PARTNERSHIP} school: Monkfrith",
        f"cpd log {PARTNERSHIP} quiet title: SEND update theme: SENCO date: {uk(this_term(0))} "
        "hours: 2 host: Monkfrith attendees: 9",
        f"partnership report {PARTNERSHIP}",
    ), start=1):
        await teams_bot.teams.say(text)
        await teams_bot.connector.wait_for(REPLY, n)
    card = teams_bot.connector.of(REPLY)[-1].card
    assert f"Termly report for {PARTNERSHIP}" in card_text(card)
    links = [u for u in card_links(card) if "/web/file/" in u]
    assert len(links) == 3
    async with aiohttp.ClientSession() as http:
        got = {}
        for url in links:
            async with http.get(url) as response:
                assert response.status == 200
                got[response.content_type] = await response.read()
            async with http.get(url) as again:
                assert again.status == 410  # once only
    assert "CPD hours 2" in pdf_text(got[PDF_TYPE])
    assert by_first(sheets(got[XLSX_TYPE])["Summary"])["CPD sessions"] == (1,)
    assert ["CPD sessions", "1"] in csv_blocks(got["text/csv"])["Summary"]
    assert teams_bot.connector.problems == []


def test_long_lists_are_cut_in_the_pdf_but_whole_in_the_spreadsheet_and_csv() -> None:
    """A large partnership logs thousands of sessions a term: the PDF lists the first ones and
    says how many more the spreadsheet and CSV hold, which have every one."""
    first = TERM.start
    sessions = [SessionLine(first, f"Session {n}", "SENCO", "Monkfrith", 60, "12")
                for n in range(1, MOST_LISTED + 51)]
    data = ReportData(
        partnership=PARTNERSHIP, school=None,
        period=ReportPeriod(TERM.start, TERM.end, TERM.name), made_at=datetime.now(UTC),
        as_of=TODAY, cpd_total=CpdTally(len(sessions), 60 * len(sessions)), headcount=0,
        headcount_sessions=0, themes=[], schools=[], sessions=sessions, walks=0,
        walks_by_focus=[], walks_by_school=[], actions=ActionCounts(), actions_by_school=[],
        meetings=[], impact=[])
    text = pdf_text(pdf(data))
    assert f"Session {MOST_LISTED} " in text and f"Session {MOST_LISTED + 1} " not in text
    assert "…and 50 more: every one is in the spreadsheet and the CSV." in text
    assert len(sheets(xlsx(data))["CPD sessions"]) == MOST_LISTED + 51
    assert len(csv_blocks(csv_bytes(data))["CPD sessions in the period"]) == MOST_LISTED + 51
