"""CPD attendance as it was given (a head count, the schools, the people who came, or several),
and coverage that counts schools only where schools were given: in /cpd, the digest, the chart
and the personal data export; on SQLite and PostgreSQL, over signed Slack HTTP, Teams and the
shell."""

from __future__ import annotations

import io
import json

from sqlmodel import select

from bot.shell import run_shell
from handlers import digest
from handlers.replies import Tone
from handlers.schoolyear import school_term, today_in_london
from storage import digests, personal_data
from storage.db import Database
from storage.models import CpdAttendee, CpdSession, Partnership
from storage.personal_data import ERASED
from tests.conftest import RunningBot, RunningTeamsBot
from tests.support.cards import card_text
from tests.support.learning import ANN, BEN, PARTNERSHIP, ok, say, set_up_partnerships
from tests.test_learning_slack import Chat, shown
from tests.test_teams_features import inputs, linked_partnership
from tests.test_teams_features import say as teams_say

TODAY = today_in_london()
DAY = f"{TODAY.day}/{TODAY.month}/{TODAY.year}"
LOG = f"log {PARTNERSHIP} quiet title: Interventions theme: SENCO date: {DAY}"


async def _coverage(db: Database) -> list[str]:
    async with db.session() as session:
        partnership = (await session.exec(select(Partnership).where(
            Partnership.name == PARTNERSHIP))).one()
        assert partnership.id is not None
        term = school_term(TODAY)
        found = await digests.coverage(session, partnership.id, term.start, term.end)
    return digest.coverage_lines(found, term)


async def test_a_head_count_alone_is_never_shown_as_schools_absent(db: Database) -> None:
    await set_up_partnerships(db)
    await ok(db, "cpd", LOG + " attendees: 14")
    lines = await _coverage(db)
    assert "SENCO leadership: impact of interventions: 1 session, 14 attendees (schools not " \
           "recorded)" in lines
    assert not any("0 of 3" in line or "No CPD attended yet" in line for line in lines)
    summary = (await ok(db, "cpd", f"summary {PARTNERSHIP}")).reply
    facts = {f.label: f.value for f in summary.sections[0].facts}
    assert facts["Attendance"] == "14 attendees (schools not recorded)"
    assert "Head count" not in summary.plain_text()


async def test_schools_people_and_a_head_count_together(db: Database) -> None:
    await set_up_partnerships(db)
    logged = await ok(db, "cpd", LOG + " attendees: 20, Monkfrith and Danegrove "
                                       "people: <@U0BEN00001|ben>, Dee Ray")
    facts = {f.label: f for f in logged.reply.sections[0].facts}
    assert facts["Attendees"].value == "20"
    assert facts["Schools attending"].value == "Danegrove, Monkfrith"
    assert [(p.name, p.user_id) for p in facts["People attending"].people] == [
        ("Ben Day", "U0BEN00001"), ("Dee Ray", None)]
    # A second session on the same theme with only names: counted as attendees, not schools.
    await ok(db, "cpd", LOG + " people: Ann, Cy Ng, Dee Ray")
    lines = await _coverage(db)
    assert ("SENCO leadership: impact of interventions: 2 sessions, 2 of 3 schools attended; "
            "3 attendees at 1 session (schools not recorded)") in lines
    assert ("No CPD attended yet this term: Queenswell (at 1 session the schools were not "
            "recorded).") in lines
    summary = (await ok(db, "cpd", f"summary {PARTNERSHIP}")).reply
    assert {f.label: f.value for f in summary.sections[0].facts}["Attendance"] == (
        "schools recorded at 1 session; 3 attendees at 1 session (schools not recorded)")
    # The chart cannot draw attendees without schools: it says so beneath the grid.
    async with db.session() as session:
        partnership = (await session.exec(select(Partnership).where(
            Partnership.name == PARTNERSHIP))).one()
        assert partnership.id is not None
        data = await digest.gather(session, partnership, ANN.now)
    grid = digest.coverage_grid(data.coverage, data.term, PARTNERSHIP)
    assert grid is not None
    assert grid.notes == ("SENCO leadership: impact of interventions: 3 attendees at 1 session "
                          "(schools not recorded)",)
    assert (await digest.chart(data)) is not None  # drawn with its notes
    # Editing keeps what is not changed; the audit trail shows attendance as given.
    await ok(db, "cpd", "edit 1 attendees: 24, Monkfrith")
    shown_again = (await ok(db, "cpd", "show 1")).reply.plain_text()
    assert "Attendees: 24" in shown_again and "Schools attending: Monkfrith" in shown_again
    assert "People attending: Ben Day, Dee Ray" in shown_again


async def test_attendance_mistakes_get_polite_answers(db: Database) -> None:
    await set_up_partnerships(db)
    two = await say(db, "cpd", LOG + " attendees: 14, Monkfrith, 12")
    assert two.reply.tone is Tone.ERROR and "Please give one head count" in \
        two.reply.plain_text()
    huge = await say(db, "cpd", LOG + " attendees: 20000")
    assert huge.reply.tone is Tone.ERROR and "20,000 is not a head count" in \
        huge.reply.plain_text()
    async with db.session() as session:
        assert (await session.exec(select(CpdSession))).all() == []  # never half a record


async def test_the_export_and_erasure_cover_the_people_who_came(db: Database) -> None:
    await set_up_partnerships(db)
    await ok(db, "cpd", LOG + " attendees: 14 people: <@U0BEN00001|ben>")
    async with db.session() as session:
        records = await personal_data.export(session, personal_data.Person(
            "T0001", "slack", BEN.user_id))
    attended = [r for r in records if r.kind == "CPD session attended"]
    assert len(attended) == 1
    assert attended[0].fields["your part"] == "attended"
    assert attended[0].fields["attendance"] == ("14 attendees; 1 person named (schools not "
                                                "recorded)")
    await ok(db, "partnership", "forget me confirm", BEN)
    async with db.session() as session:
        people = (await session.exec(select(CpdAttendee))).all()
    assert [(p.user_id, p.name) for p in people] == [(None, ERASED)]
    lines = await _coverage(db)  # the count stays
    assert any("1 session, 14 attendees (schools not recorded)" in line for line in lines)


async def test_attendance_over_signed_slack_http(bot: RunningBot) -> None:
    chat = Chat(bot)
    await chat.say("/partnership", f"create {PARTNERSHIP}")
    await chat.say("/partnership", f"join {PARTNERSHIP} school: Monkfrith")
    await chat.say("/partnership", f"join {PARTNERSHIP} school: Danegrove",
                   user_id="U0BEN00001", user_name="ben")
    logged = await chat.say("/cpd", LOG + " attendees: 14")
    assert "Attendees" in shown(logged) and "14" in shown(logged)
    summary = await chat.say("/cpd", f"summary {PARTNERSHIP}")
    assert "14 attendees (schools not recorded)" in shown(summary)
    assert "Head count" not in shown(summary)
    preview = await chat.say("/partnership", f"digest {PARTNERSHIP} preview")
    assert ("SENCO leadership: impact of interventions: 1 session, 14 attendees (schools not "
            "recorded)") in json.dumps(preview, ensure_ascii=False)
    assert "0 of 2 schools" not in json.dumps(preview)


async def test_attendance_in_the_shell(sqlite_db: Database) -> None:
    typed = io.StringIO(
        f"partnership create {PARTNERSHIP}\n"
        f"partnership join {PARTNERSHIP} school: Monkfrith new: yes\n"
        f"cpd {LOG} attendees: 14\n"
        f"cpd summary {PARTNERSHIP}\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out)
    text = out.getvalue()
    assert "  Attendees  14\n" in text
    assert "  Attendance  14 attendees (schools not recorded)\n" in text
    assert "Head count" not in text


async def test_attendance_in_teams(teams_bot: RunningTeamsBot) -> None:
    await linked_partnership(teams_bot)
    form = await teams_say(teams_bot, "cpd")
    assert "People who came" in inputs(form)  # the form asks for people too
    logged = await teams_say(teams_bot, f"cpd {LOG} attendees: 14, Monkfrith people: Dee Ray")
    text = card_text(logged)
    assert "Attendees" in text and "14" in text and "Dee Ray" in text
    summary = card_text(await teams_say(teams_bot, f"cpd summary {PARTNERSHIP}"))
    assert "schools recorded at 1 session" in summary
    await teams_say(teams_bot, f"cpd {LOG} attendees: 9")
    summary = card_text(await teams_say(teams_bot, f"cpd summary {PARTNERSHIP}"))
    assert ("schools recorded at 1 session; 9 attendees at 1 session (schools not recorded)"
            in summary)
