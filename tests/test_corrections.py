"""Putting right what was logged: edit and delete walks and CPD sessions, typed, by button and
by form, with the audit trail, permissions and the channel note kept true, through the core on
SQLite and PostgreSQL (tests/test_corrections_slack.py takes the Slack paths)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.dispatch import run_button, submit_form
from handlers.logbook import DeleteRecord, EditRecord
from handlers.replies import Tone
from handlers.schoolyear import today_in_london
from storage import personal_data
from storage.db import Database
from storage.models import CpdSession, LearningWalk, RecordChange, WalkWalker
from storage.personal_data import ERASED
from tests.support.learning import (
    ANN,
    BEN,
    CY,
    PARTNERSHIP,
    count,
    ok,
    say,
    set_up_partnerships,
    walk_steps,
)

WALK = (f"log {PARTNERSHIP} school: monkfrith date: 5/2/2026 focus: phonics "
        "strengths: Secret strength development: Secret development "
        "next steps: Share plans owner: <@U0BEN00001|ben> due: 20/3/2026")
CPD = f"log {PARTNERSHIP} title: Phonics refresher theme: TA training date: 5/2/2026 hours: 1.5"


@pytest.fixture(autouse=True)
async def partnerships(db: Database) -> None:
    await set_up_partnerships(db)


async def the_walk(db: Database) -> LearningWalk:
    async with db.session() as session:
        return (await session.exec(select(LearningWalk))).one()


async def trail(db: Database) -> list[RecordChange]:
    async with db.session() as session:
        return list((await session.exec(select(RecordChange))).all())


async def test_the_logger_edits_a_walk_and_the_trail_says_who_and_what(db: Database) -> None:
    await ok(db, "walk", WALK)
    edited = await ok(db, "walk", "edit 1 date: 4/2/2026 school: Danegrove focus: reading")
    assert edited.reply.tone is Tone.SUCCESS
    assert edited.reply.title.startswith("Updated learning walk #1 at Monkfrith")
    assert "Changed: school, date, focus." in edited.reply.plain_text()
    walk = await the_walk(db)
    assert (walk.walked_on.day, walk.focus) == (4, "reading")
    assert walk.strengths == "Secret strength"  # what was not given keeps its value
    async with db.session() as session:
        walkers = (await session.exec(select(WalkWalker))).all()
    [step] = await walk_steps(db)
    assert step.owner_user_id == "U0BEN00001" and walkers == []
    [change] = await trail(db)
    assert (change.record_kind, change.record_id, change.action) == ("walk", 1, "edited")
    assert (change.by_user_id, change.by_name) == (ANN.user_id, ANN.user_name)
    assert json.loads(change.changes) == {
        "school": ["Monkfrith", "Danegrove"],
        "date": ["Thursday 5 February 2026", "Wednesday 4 February 2026"],
        "focus": ["phonics", "reading"]}
    # The channel's note is brought up to date where it was posted.
    [note] = edited.channel_posts
    assert note.edit_of == "walk:1:note" and "reading" in note.reply.plain_text()
    shown = (await ok(db, "walk", "show 1")).reply.plain_text()
    today = today_in_london()
    assert f"Edited once, last by Ann Smith on {today.day} " in shown


async def test_notes_are_recorded_as_changed_never_copied(db: Database) -> None:
    await ok(db, "walk", WALK)
    await ok(db, "walk", "edit 1 strengths: New secret development: Other secret "
                         "next steps: New plan")
    await ok(db, "walk", "edit 1 year groups: Y3")
    changes = [json.loads(c.changes) for c in await trail(db)]
    assert changes[0] == {"strengths": "changed", "development": "changed",
                          "next steps": "changed"}
    assert "secret" not in json.dumps(changes).lower()
    assert "Edited twice" in (await ok(db, "walk", "show 1")).reply.plain_text()


async def test_an_edit_is_checked_as_a_log_is_and_saves_nothing_when_wrong(db: Database) -> None:
    await ok(db, "walk", WALK)
    future = today_in_london() + timedelta(days=3)
    bad = await say(db, "walk", f"edit 1 date: {future.day}/{future.month}/{future.year}")
    assert bad.reply.tone is Tone.ERROR and "still to come" in bad.reply.title
    early_due = await say(db, "walk", "edit 1 due: 1/2/2026")
    assert early_due.reply.tone is Tone.ERROR and "before the walk" in early_due.reply.plain_text()
    unknown = await say(db, "walk", "edit 1 school: Hogwarts")
    assert "not one of East Barnet Area's schools" in unknown.reply.title
    assert (await the_walk(db)).walked_on.day == 5
    assert await trail(db) == []


@pytest.mark.parametrize(("text", "said"), [
    ("edit 1 colour: red", "I can't change `colour:` on a walk."),
    ("edit 1", "What should I change on the walk?"),
    ("edit one date: 4/2/2026", "Which walk? Give its number"),
    ("edit 99 focus: x", "I can't find learning walk #99."),
])
async def test_what_cannot_be_edited_is_refused_naming_what_can(db: Database, text: str,
                                                                said: str) -> None:
    await ok(db, "walk", WALK)
    refused = await say(db, "walk", text)
    assert refused.reply.tone is Tone.ERROR and said in refused.reply.plain_text()
    if "colour" in text or text == "edit 1":
        assert "`school:`" in refused.reply.plain_text() and "`due:`" in refused.reply.plain_text()


async def test_only_the_logger_or_a_lead_may_change_a_record(db: Database) -> None:
    await ok(db, "walk", WALK, BEN)  # logged by Ben, a member
    outsider = await say(db, "walk", "edit 1 focus: mine now", CY)
    assert outsider.reply.tone is Tone.ERROR and "Only members of" in outsider.reply.plain_text()
    await ok(db, "walk", "edit 1 focus: Ben's own correction", BEN)
    await ok(db, "walk", "edit 1 focus: the lead's correction", ANN)  # Ann leads
    await ok(db, "walk", "log East Barnet Area school: Danegrove date: 5/2/2026 focus: x")
    member = await say(db, "walk", "edit 2 focus: not his", BEN)
    assert member.reply.tone is Tone.ERROR
    assert "Only a lead of East Barnet Area can change a record someone else logged" \
        in member.reply.title and "Ask Ann Smith" in member.reply.plain_text()
    refused_delete = await say(db, "walk", "delete 2 confirm", BEN)
    assert refused_delete.reply.tone is Tone.ERROR
    assert await count(db, LearningWalk) == 2
    assert len(await trail(db)) == 2


async def test_delete_asks_first_and_then_withdraws_the_note(db: Database) -> None:
    await ok(db, "walk", WALK)
    asked = await ok(db, "walk", "delete 1")
    assert asked.reply.tone is Tone.WARNING and "This cannot be undone" in asked.reply.title
    assert "notes, walkers and next steps" in asked.reply.plain_text()
    assert "/walk delete 1 confirm" in asked.reply.plain_text()
    delete, keep = asked.reply.sections[-1].buttons
    assert await count(db, LearningWalk) == 1  # nothing yet
    kept = await run_button(db, keep.data, ANN)
    assert kept.reply.title == "Nothing was deleted." and await count(db, LearningWalk) == 1
    stolen = await run_button(db, delete.data, BEN)
    assert stolen.reply.tone is Tone.ERROR and "for the person who asked" in stolen.reply.title
    late = await run_button(db, delete.data, replace(ANN, now=ANN.now + timedelta(minutes=16)))
    assert late.reply.tone is Tone.ERROR and "expired" in late.reply.title
    done = await run_button(db, delete.data, ANN)
    assert done.reply.tone is Tone.SUCCESS and done.reply.title.startswith("Deleted learning walk")
    assert [p.withdraw_of for p in done.channel_posts] == ["walk:1:note"]
    assert await count(db, LearningWalk) == 0
    [change] = await trail(db)
    assert change.action == "deleted" and "Secret" not in change.changes
    again = await say(db, "walk", "show 1")
    assert "I can't find learning walk #1" in again.reply.title


async def test_cpd_sessions_are_edited_and_deleted_the_same_way(db: Database) -> None:
    await ok(db, "cpd", CPD)
    edited = await ok(db, "cpd", "edit 1 hours: 2 attendees: Monkfrith, Danegrove "
                                 "theme: SENCO")
    assert "Changed: theme, hours, attendees." in edited.reply.plain_text()
    async with db.session() as session:
        session_row = (await session.exec(select(CpdSession))).one()
    assert session_row.minutes == 120
    shown = (await ok(db, "cpd", "show 1")).reply.plain_text()
    assert "Schools attending: Danegrove, Monkfrith" in shown and "Edited once" in shown
    await ok(db, "cpd", "delete 1 confirm")
    assert await count(db, CpdSession) == 0
    assert [c.action for c in await trail(db)] == ["edited", "deleted"]


async def test_the_edit_button_opens_the_form_filled_in(db: Database) -> None:
    await ok(db, "walk", WALK)
    show = (await ok(db, "walk", "show 1")).reply
    edit = next(b for s in show.sections for b in s.buttons if isinstance(b.data, EditRecord))
    assert any(isinstance(b.data, DeleteRecord) for s in show.sections for b in s.buttons)
    opened = await run_button(db, edit.data, ANN)
    form = opened.form
    assert form is not None and form.form_id == "walk.log.edit"
    initial = {f.name: f.initial for f in form.fields}
    assert initial["date"] == "2026-02-05" and initial["focus"] == "phonics"
    assert initial["owner"] == "U0BEN00001" and initial["strengths"] == "Secret strength"
    assert "partnership" not in initial and "quiet" not in initial
    # Submitted with the focus changed and the strengths box emptied: emptied means cleared.
    values = {name: value for name, value in initial.items()
              if isinstance(value, str) and name not in ("focus", "strengths")}
    values["focus"] = "phonics in Reception"
    result = await submit_form(db, form.form_id, dict(values), form.context, ANN)
    assert result.errors == {} and result.outcome is not None
    walk = await the_walk(db)
    assert (walk.focus, walk.strengths) == ("phonics in Reception", None)
    # A member who did not log it sees no Edit button.
    ben_sees = (await ok(db, "walk", "show 1", BEN)).reply
    assert not [b for s in ben_sees.sections for b in s.buttons
                if isinstance(b.data, EditRecord | DeleteRecord)]


async def test_a_form_edit_with_a_problem_shows_it_beside_the_field(db: Database) -> None:
    await ok(db, "walk", WALK)
    opened = await run_button(db, EditRecord("walk", 1), ANN)
    assert opened.form is not None
    values = {f.name: f.initial for f in opened.form.fields if isinstance(f.initial, str)}
    values["due"] = "2026-01-01"
    result = await submit_form(db, opened.form.form_id, dict(values), opened.form.context, ANN)
    assert list(result.errors) == ["due"] and "before the walk" in result.errors["due"]


async def test_the_trail_is_exported_and_erased_with_the_person(db: Database) -> None:
    await ok(db, "walk", WALK)
    await ok(db, "walk", "edit 1 focus: reading")
    async with db.session() as session:
        person = personal_data.Person(ANN.workspace, ANN.platform.value, ANN.user_id)
        records = await personal_data.export(session, person)
        assert any(r.kind == "record change" and r.fields["fields"] == "focus"
                   for r in records)
        await personal_data.erase(session, person)
    [change] = await trail(db)
    assert (change.by_user_id, change.by_name) == ("", ERASED)
