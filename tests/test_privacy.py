"""Personal data rights: export, forget (with confirmation), and walk-note retention, on
SQLite and PostgreSQL; and, through the real server, the export arriving as files by DM."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlmodel import SQLModel, col, select

from handlers.dispatch import run_button
from handlers.meetings import MeetingRsvp
from handlers.privacy import ForgetAnswer
from handlers.replies import Outcome, Tone
from handlers.schoolyear import today_in_london
from storage import personal_data
from storage.db import Database
from storage.models import LearningWalk, Member, Partnership, Rsvp, RsvpAnswer, WalkWalker
from storage.personal_data import ERASED
from storage.retention import NOTES_REMOVED, remove_old_walk_notes
from tests.conftest import RunningBot
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
from tests.support.slack_requests import block_action

WALK = (f"log {PARTNERSHIP} school: monkfrith date: 5/2/2026 focus: reading "
        "walkers: <@U0BEN00001|ben>, Dee Ray strengths: Secret strengths note "
        "next steps: Share the map owner: <@U0BEN00001|ben> due: 20/3/2026")
NEXT_WEEK = datetime.now(UTC) + timedelta(days=7)


async def seeded(db: Database) -> None:
    await set_up_partnerships(db)
    await ok(db, "walk", WALK)
    await ok(db, "cpd", f"log {PARTNERSHIP} title: SENCO network theme: SENCO date: 4/2/2026",
             BEN)
    await ok(db, "meeting",
             f"schedule {PARTNERSHIP} when: {NEXT_WEEK:%d/%m/%Y} 11:30 to 12:30", ANN)
    await run_button(db, MeetingRsvp(1, RsvpAnswer.GOING), BEN)


def files_of(outcome: Outcome) -> tuple[dict[str, object], list[dict[str, str]]]:
    by_type = {f.mimetype: f.content for f in outcome.files}
    document = json.loads(by_type["application/json"])
    rows = list(csv.DictReader(io.StringIO(by_type["text/csv"].decode())))
    return document, rows


async def test_my_data_lists_everything_held_about_me_and_nothing_else(db: Database) -> None:
    await seeded(db)
    outcome = await ok(db, "partnership", "mydata", BEN)
    assert "Here is everything I hold about you" in outcome.reply.title
    document, rows = files_of(outcome)
    assert document["user_id"] == "U0BEN00001" and document["platform"] == "slack"
    kinds = sorted(r["kind"] for r in rows)
    assert kinds == ["CPD session logged", "action", "learning walk", "meeting reply",
                     "membership"]
    walk = next(r for r in rows if r["kind"] == "learning walk")
    assert walk["your part"] == "walker"
    step = next(r for r in rows if r["kind"] == "action")
    assert (step["your part"], step["status"]) == ("owner", "open")
    assert walk["focus"] == "reading"
    membership = next(r for r in rows if r["kind"] == "membership")
    assert membership["partnership"] == PARTNERSHIP and membership["school"] == "Danegrove"
    assert "Ann Smith" not in json.dumps(document)  # another person's data stays out
    nothing = await ok(db, "partnership", "mydata", replace(CY, workspace="T0OTHER"))
    assert nothing.reply.title == "I hold nothing about you in this workspace."
    assert nothing.files == []


async def test_forget_me_asks_first_and_then_erases_but_keeps_counts(db: Database) -> None:
    await seeded(db)
    walks_before = await count(db, LearningWalk)
    asked = await ok(db, "partnership", "forget me", BEN)
    assert asked.reply.tone is Tone.WARNING and "cannot be undone" in asked.reply.title
    erase, keep = asked.reply.sections[-1].buttons
    assert (erase.label, erase.style, keep.label) == ("Erase my data", "danger", "Keep it")
    assert await count(db, Member) == 3  # nothing yet

    kept = await run_button(db, keep.data, BEN)
    assert kept.reply.title == "Nothing was erased."
    done = await run_button(db, erase.data, BEN)
    assert done.reply.tone is Tone.SUCCESS and "erased" in done.reply.title
    assert done.updated_message is not None
    async with db.session() as session:
        members = (await session.exec(select(Member.user_id))).all()
        (await session.exec(select(LearningWalk))).one()  # the walk stays
        walkers = (await session.exec(select(WalkWalker.name, WalkWalker.user_id))).all()
        rsvp = (await session.exec(select(Rsvp))).one()
    assert "U0BEN00001" not in members
    [step] = await walk_steps(db)
    assert (step.owner_user_id, step.owner_name) == (None, ERASED)
    assert (ERASED, None) in walkers and ("Dee Ray", None) in walkers
    assert rsvp.user_id.startswith("erased:") and rsvp.answer == "going"
    assert await count(db, LearningWalk) == walks_before
    after = await ok(db, "partnership", "mydata", BEN)
    assert after.files == []
    # Ann's own data is untouched.
    ann = await ok(db, "partnership", "mydata", ANN)
    assert any(r["kind"] == "membership" for r in files_of(ann)[1])


async def test_only_the_asker_may_press_erase_and_only_for_a_while(db: Database) -> None:
    await seeded(db)
    erase = (await ok(db, "partnership", "forget me", BEN)).reply.sections[-1].buttons[0]
    stolen = await run_button(db, erase.data, ANN)
    assert stolen.reply.tone is Tone.ERROR and "for the person who asked" in stolen.reply.title
    late = await run_button(db, erase.data,
                            replace(BEN, now=BEN.now + timedelta(minutes=16)))
    assert late.reply.tone is Tone.ERROR and "expired" in late.reply.title
    assert await count(db, Member) == 3


async def test_forget_me_confirm_works_without_buttons(db: Database) -> None:
    await seeded(db)
    done = await ok(db, "partnership", "forget me confirm", BEN)
    assert done.reply.title == "Done: I have erased what I held about you."
    bad = await say(db, "partnership", "forget you", BEN)
    assert bad.reply.tone is Tone.ERROR and "/partnership forget me" in bad.reply.plain_text()


async def test_a_partnership_is_never_left_without_a_lead(db: Database) -> None:
    await seeded(db)
    await ok(db, "partnership", "forget me confirm", ANN)
    async with db.session() as session:
        roles = (await session.exec(select(Member.user_id, Member.access_role).where(
            Member.user_id == "U0BEN00001"))).all()
    assert roles == [("U0BEN00001", "lead")]


async def test_retention_removes_old_notes_and_keeps_the_walk(db: Database) -> None:
    await seeded(db)
    shown = await ok(db, "partnership", f"retention {PARTNERSHIP}", BEN)
    assert "2 years (the default)" in shown.reply.title
    refused = await say(db, "partnership", f"retention {PARTNERSHIP} notes: 1 year", BEN)
    assert refused.reply.tone is Tone.ERROR and "Only a lead" in refused.reply.title
    bad = await say(db, "partnership", f"retention {PARTNERSHIP} notes: forever")
    assert bad.reply.tone is Tone.ERROR and "2 years" in bad.reply.plain_text()
    # Walked on 5 Feb 2026: kept two years, so still there on 1 Feb 2028...
    assert await remove_old_walk_notes(db, datetime(2028, 2, 1, tzinfo=UTC)) == 0
    # ...and gone after a lead shortens it to 18 months, at the next clean-up.
    await ok(db, "partnership", f"retention {PARTNERSHIP} notes: 18 months")
    assert await remove_old_walk_notes(db, datetime(2027, 9, 1, tzinfo=UTC)) == 1
    assert await remove_old_walk_notes(db, datetime(2027, 9, 2, tzinfo=UTC)) == 0  # once
    async with db.session() as session:
        walk = (await session.exec(select(LearningWalk))).one()
        walkers = (await session.exec(select(WalkWalker.name))).all()
    [step] = await walk_steps(db)
    assert (walk.strengths, walk.next_steps, step.owner_name) == (None, None, None)
    assert step.description == NOTES_REMOVED
    assert walk.focus == "reading" and walk.notes_removed_at is not None
    assert set(walkers) == {ERASED}


PERSON_COLUMNS = ("user_id", "created_by", "linked_by", "logged_by", "owner", "added_by",
                  "updated_by", "display_name", "done_by", "by_", "written_by", "approved_by")


def test_every_table_that_names_people_is_covered() -> None:
    naming = {table.name for table in SQLModel.metadata.sorted_tables
              if any(column.name.startswith(PERSON_COLUMNS) for column in table.columns)
              and not table.name.startswith("slack_")}  # tokens: removed on uninstall
    assert naming == personal_data.COVERED


async def test_my_data_arrives_as_files_in_a_direct_message(bot: RunningBot) -> None:
    await bot.ask("/partnership", f"create {PARTNERSHIP}")
    answer = await bot.ask_text("/partnership", "mydata")
    assert "Here is everything I hold about you: 2 records." in answer
    opened = bot.fake.of("conversations.open")
    assert opened[0].body["users"] == "U2147483697"
    await bot.fake.wait_for("files.completeUploadExternal")
    uploads = [upload for _, upload in bot.fake.shared_files()]
    names = sorted(u.filename for u in uploads)
    assert names[0].endswith(".csv") and names[1].endswith(".json")
    document = json.loads(next(u.content for u in uploads if u.filename.endswith(".json")))
    assert document["records"][0]["partnership"] == PARTNERSHIP


async def test_erase_button_through_the_real_server(bot: RunningBot) -> None:
    await bot.ask("/partnership", f"create {PARTNERSHIP}")
    await bot.ask("/partnership", f"join {PARTNERSHIP} school: Monkfrith")
    asked = await bot.ask("/partnership", "forget me")
    erase = next(e for block in asked["blocks"] if block["type"] == "actions"
                 for e in block["elements"] if e["text"]["text"] == "Erase my data")
    await bot.slack.interaction(block_action(ForgetAnswer.kind, erase["value"]))
    confirmed = (await bot.fake.wait_for("chat.postEphemeral"))[0]
    assert "erased what I held about you" in confirmed.body["text"]
    async with bot.db.session() as session:
        assert (await session.exec(select(col(Member.id)))).all() == []


async def test_shortening_retention_says_how_many_notes_go_and_asks_first(db: Database) -> None:
    await set_up_partnerships(db)
    old = today_in_london() - timedelta(days=200)
    await ok(db, "walk", f"log {PARTNERSHIP} school: monkfrith date: {old:%d/%m/%Y} focus: x "
                         "strengths: an old note")
    # A year keeps it: nothing to remove, so no question.
    kept = await ok(db, "partnership", f"retention {PARTNERSHIP} notes: 1 year")
    assert kept.reply.tone is Tone.SUCCESS
    asked = await ok(db, "partnership", f"retention {PARTNERSHIP} notes: 6 months")
    assert asked.reply.tone is Tone.WARNING
    assert "removes the notes of 1 walk at the next daily clean-up" in asked.reply.title
    assert f"retention {PARTNERSHIP} notes: 6 months confirm" in asked.reply.plain_text()
    async with db.session() as session:
        partnership = (await session.exec(select(Partnership).where(
            Partnership.name == PARTNERSHIP))).one()
    assert partnership.notes_retention_days == 365  # not yet
    [confirm] = asked.reply.sections[-1].buttons
    stolen = await run_button(db, confirm.data, BEN)
    assert stolen.reply.tone is Tone.ERROR and "for the lead who asked" in stolen.reply.title
    late = await run_button(db, confirm.data, replace(ANN, now=ANN.now + timedelta(minutes=16)))
    assert late.reply.tone is Tone.ERROR and "expired" in late.reply.title
    done = await run_button(db, confirm.data, ANN)
    assert done.reply.tone is Tone.SUCCESS and "6 months" in done.reply.title
    # Typed, with `confirm`, where there are no buttons.
    typed = await ok(db, "partnership", f"retention {PARTNERSHIP} notes: 3 months confirm")
    assert typed.reply.tone is Tone.SUCCESS and "3 months" in typed.reply.title
