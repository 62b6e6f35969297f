"""One seeded week for digest tests, logged through the real commands on a frozen clock (each
record on the day it happened): East Barnet Area's week of Monday 23 February to Sunday 1 March
2026, whose digest is due on Monday 2 March at 08:00."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from sqlalchemy import update
from sqlmodel import col, select

from handlers.context import Caller
from handlers.dispatch import run_button
from handlers.meetings import MeetingRsvp
from handlers.replies import Outcome
from storage.db import Database
from storage.models import (
    Action,
    CpdAttendance,
    CpdSession,
    CpdTheme,
    LearningWalk,
    Meeting,
    Partnership,
    PartnershipSchool,
    Rsvp,
    RsvpAnswer,
    School,
)
from storage.types import LONDON
from tests.support.learning import ANN, BEN, CY, PARTNERSHIP, ok, set_up_partnerships

DUE = datetime(2026, 3, 2, 8, 0, tzinfo=LONDON).astimezone(UTC)
# When the meetings were booked and answered.
BOOKED = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)


def evening_of(day: date) -> datetime:
    """17:00 UK time on `day`: when a record of that day is logged in the seeded week."""
    return datetime.combine(day, time(17, 0), tzinfo=LONDON).astimezone(UTC)


async def ok_at(db: Database, moment: datetime, command: str, text: str,
                who: Caller = ANN) -> Outcome:
    """Run a command that must succeed, on a clock frozen at `moment`: the record's logging
    time, and "today" for its checks."""
    with time_machine.travel(moment, tick=False):
        return await ok(db, command, text, replace(who, now=moment))


async def seed_week(db: Database) -> Partnership:
    """The partnerships of tests/support/learning.py, and in East Barnet Area's week: two CPD
    sessions, one walk, Queenswell joining; before it, a session and an older walk; after it,
    two meetings (one within two weeks, with replies); and next steps overdue and not. Each
    record is logged on the evening of the day it happened."""
    with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), tick=False):
        await set_up_partnerships(db)
    cpd = f"log {PARTNERSHIP} quiet "
    await ok_at(db, evening_of(date(2026, 2, 24)), "cpd",
                cpd + "title: Phonics refresher theme: TA training date: 24/2/2026 "
                "hours: 1.5 host: Monkfrith attendees: Monkfrith, Danegrove")
    await ok_at(db, evening_of(date(2026, 2, 26)), "cpd",
                cpd + "title: Reviewing interventions theme: SENCO date: 26/2/2026 "
                "attendees: 12", BEN)
    await ok_at(db, evening_of(date(2026, 2, 10)), "cpd",
                cpd + "title: Lunchtime play leaders theme: lunchtimes "
                "date: 10/2/2026 hours: 1 attendees: all")
    await ok_at(db, evening_of(date(2026, 2, 25)), "cpd",
                "log Hendon Area quiet title: Not ours theme: middle leadership "
                "date: 25/2/2026", CY)
    walk = f"log {PARTNERSHIP} quiet "
    await ok_at(db, evening_of(date(2026, 1, 20)), "walk",
                walk + "school: Danegrove date: 20/1/2026 focus: reading for pleasure "
                "next steps: Share the reading spine owner: Ann Smith due: 10/2/2026")
    await ok_at(db, evening_of(date(2026, 2, 25)), "walk",
                walk + "school: Monkfrith date: 25/2/2026 focus: progression in "
                "foundation subjects next steps: Map the skills owner: Ben Day "
                "due: 27/2/2026")
    await ok_at(db, evening_of(date(2026, 2, 27)), "walk",
                walk + "school: Queenswell date: 27/2/2026 focus: maths talk "
                "next steps: Try talk frames due: 20/3/2026", BEN)
    booked_by_ann, booked_by_ben = replace(ANN, now=BOOKED), replace(BEN, now=BOOKED)
    await ok(db, "meeting", f"schedule {PARTNERSHIP} when: 5/3/2026 11:30 to 12:30 "
                            "where: Monkfrith title: Heads' network meeting", booked_by_ann)
    await ok(db, "meeting", f"schedule {PARTNERSHIP} when: 26/3/2026 14:00 to 15:00 "
                            "title: Spring review", booked_by_ann)
    await run_button(db, MeetingRsvp(1, RsvpAnswer.GOING), booked_by_ann)
    await run_button(db, MeetingRsvp(1, RsvpAnswer.MAYBE), booked_by_ben)
    await _joined(db, "Queenswell", datetime(2026, 2, 27, 10, 0, tzinfo=UTC))
    for school in ("Monkfrith", "Danegrove", "Sunnyfields"):
        await _joined(db, school, datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    async with db.session() as session:
        return (await session.exec(select(Partnership)
                                   .where(Partnership.name == PARTNERSHIP))).one()


async def _joined(db: Database, school: str, when: datetime) -> None:
    async with db.session() as session:
        school_id = (await session.exec(select(School.id).where(School.name == school))).one()
        await session.exec(update(PartnershipSchool)
                           .where(col(PartnershipSchool.school_id) == school_id)
                           .values(joined_at=when))


async def add_plenty(db: Database, partnership: Partnership, n: int) -> None:
    """`n` more of everything in the seeded week: schools joining, CPD sessions (each attended
    by its host), walks with overdue next steps, and meetings within two weeks, each with a
    reply: a partnership far bigger than the digest shows."""
    assert partnership.id is not None
    pid = partnership.id
    week = [date(2026, 2, 23) + timedelta(days=k % 7) for k in range(n)]
    async with db.session() as session:
        theme_ids = [t for t in (await session.exec(
            select(CpdTheme.id).where(CpdTheme.partnership_id == pid))).all() if t is not None]
        schools = [School(workspace=partnership.workspace, name=f"Extra School {k:03d}",
                          name_key=f"extra school {k:03d}") for k in range(n)]
        session.add_all(schools)
        await session.flush()
        session.add_all(PartnershipSchool(partnership_id=pid, school_id=s.id or 0,
                                          joined_at=datetime(2026, 2, 24, 9, 0, tzinfo=UTC))
                        for s in schools)
        sessions = [CpdSession(partnership_id=pid, theme_id=theme_ids[k % len(theme_ids)],
                               title=f"Extra session {k:03d}", held_on=week[k], minutes=60,
                               host_school_id=schools[k].id, platform="slack",
                               created_at=evening_of(week[k]),
                               logged_by_user_id=ANN.user_id, logged_by_name=ANN.user_name)
                    for k in range(n)]
        walks = [LearningWalk(partnership_id=pid, host_school_id=schools[k].id or 0,
                              walked_on=week[k], focus=f"Extra focus {k:03d}",
                              next_steps="Follow up", platform="slack",
                              logged_by_user_id=ANN.user_id, logged_by_name=ANN.user_name,
                              created_at=evening_of(week[k]))
                 for k in range(n)]
        starts = [DUE + timedelta(hours=1 + k) for k in range(n)]
        meetings = [Meeting(partnership_id=pid, uid=f"extra-{k}@test", title=f"Extra {k:03d}",
                            starts_at=start, ends_at=start + timedelta(hours=1),
                            created_by=ANN.user_id) for k, start in enumerate(starts)]
        session.add_all([*sessions, *walks, *meetings])
        await session.flush()
        session.add_all(CpdAttendance(session_id=c.id or 0, school_id=c.host_school_id or 0)
                        for c in sessions)
        session.add_all(Action(partnership_id=pid, description="Follow up", platform="slack",
                               owner_user_id=BEN.user_id, owner_name="Ben Day",
                               due_on=date(2026, 2, 1), source="walk", walk_id=w.id,
                               created_by_user_id=ANN.user_id, created_by_name=ANN.user_name)
                        for w in walks)
        session.add_all(Rsvp(meeting_id=m.id or 0, platform="slack", user_id=BEN.user_id,
                             display_name=BEN.user_name, answer="going") for m in meetings)
