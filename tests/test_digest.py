"""The weekly digest in the core: its content for a seeded week, its limits, the statements it
costs, quiet weeks, and `/partnership digest` (settings, preview, who may do what)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from bot.slack import render as slack_render
from bot.teams import render as teams_render
from handlers import digest
from handlers.dispatch import SCHEDULED, run_command
from handlers.replies import ChannelPost, Reply, Skip, Tone
from storage.db import Database
from storage.models import DeliveryStatus, Partnership, ScheduledDelivery
from storage.types import LONDON
from tests.support.digest_week import DUE, add_plenty, evening_of, ok_at, seed_week
from tests.support.learning import ANN, BEN, CY, PARTNERSHIP, ok, say, set_up_partnerships

GOLDEN = """\
Weekly digest for East Barnet Area: since Monday 23 February
CPD sessions (2)
Tue 24 Feb 2026 · Phonics refresher · Teaching assistant development and training · at Monkfrith · 1.5 hours
Thu 26 Feb 2026 · Reviewing interventions · SENCO leadership: impact of interventions
Learning walks (2)
Wed 25 Feb 2026 · Monkfrith · focus: progression in foundation subjects
Fri 27 Feb 2026 · Queenswell · focus: maths talk
Schools that joined (1)
Queenswell
Meetings in the next two weeks (1)
Heads' network meeting: Thursday 5 March 2026, 11:30–12:30 (GMT) · Monkfrith · Going: 1 · Can't make it: 0 · Maybe: 1 (meeting 1)
Overdue next steps (2)
Walk #1 at Danegrove: reading for pleasure (action 1): Ann Smith · due 10 Feb 2026 (20 days overdue)
Walk #2 at Monkfrith: progression in foundation subjects (action 2): Ben Day · due 27 Feb 2026 (3 days overdue)
CPD coverage this spring term 2026
Subject leadership: curriculum and progression in foundation subjects: none yet
SENCO leadership: impact of interventions: 1 session, 12 attendees (schools not recorded)
Teaching assistant development and training: 1 session, 2 of 3 schools attended
Middle leadership: none yet
Learning walks and monitoring: none yet
Learning and play at lunchtimes: 1 session, 3 of 3 schools attended
Lists what was logged since Monday 23 February, whatever day it happened on. Posted Mondays at 08:00 (UK time). `/partnership digest East Barnet Area` shows the settings; a lead can change them."""  # noqa: E501

RENDER = SCHEDULED[digest.DIGEST_KIND]


async def due_digest(db: Database, partnership: Partnership,
                     due: datetime = DUE) -> ChannelPost | Skip | Reply | None:
    """What the outbox's renderer makes of the partnership's digest due at `due`."""
    async with db.session() as session:
        return await RENDER({"partnership_id": partnership.id}, due, due, session)


async def test_the_digest_of_a_seeded_week(db: Database) -> None:
    partnership = await seed_week(db)
    made = await due_digest(db, partnership)
    assert isinstance(made, ChannelPost)
    assert made.reply.plain_text() == GOLDEN
    # The owners of overdue steps are people the platform can mention, not just names.
    overdue = next(s for s in made.reply.sections if (s.heading or "").startswith("Overdue"))
    assert [(p.name, p.user_id) for f in overdue.facts for p in f.people] == [
        ("Ann Smith", "U0ANN00001"), ("Ben Day", "U0BEN00001")]
    # The chart: a PNG of the term's coverage, named for the week.
    assert made.attachment is not None
    assert made.attachment.filename == "cpd-coverage-2026-W10.png"
    assert made.attachment.mimetype == "image/png"
    assert made.attachment.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_seeded_week_as_block_kit_and_an_adaptive_card(db: Database) -> None:
    partnership = await seed_week(db)
    made = await due_digest(db, partnership)
    assert isinstance(made, ChannelPost)
    body = slack_render.message(made.reply)
    assert body["response_type"] == "in_channel"
    assert body["text"] == "Weekly digest for East Barnet Area: since Monday 23 February"
    blocks = json.dumps(body["blocks"], ensure_ascii=False)
    assert "<@U0ANN00001> · due 10 Feb 2026 (20 days overdue)" in blocks  # a real mention
    assert "*Meetings in the next two weeks (1)*" in blocks
    card = json.dumps(teams_render.card(made.reply), ensure_ascii=False)
    assert "Ann Smith · due 10 Feb 2026 (20 days overdue)" in card  # Teams shows the name
    assert "Learning and play at lunchtimes: 1 session, 3 of 3 schools attended" in card


def _slack_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """Where a message breaks Slack's documented limits."""
    problems = []
    if len(blocks) > slack_render.MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if len(text) > slack_render.MAX_SECTION_TEXT:
            problems.append(f"a section of {len(text)} characters")
        fields = block.get("fields") or []
        if len(fields) > slack_render.MAX_FIELDS:
            problems.append(f"{len(fields)} fields")
        problems += [f"a field of {len(f['text'])}" for f in fields
                     if len(f["text"]) > slack_render.MAX_FIELD_TEXT]
        if "…and more than fits" in json.dumps(block):
            problems.append("cut short by the renderer")
    return problems


async def test_a_partnership_with_200_of_everything_still_gets_one_valid_message(
    db: Database,
) -> None:
    partnership = await seed_week(db)
    await add_plenty(db, partnership, 200)
    made = await due_digest(db, partnership)
    assert isinstance(made, ChannelPost)
    text = made.reply.plain_text()
    assert "CPD sessions (202)" in text and "Learning walks (202)" in text
    assert "Schools that joined (201)" in text and "Overdue next steps (202)" in text
    assert "Meetings in the next two weeks (201)" in text
    # Each list shows its first few and says how to see the rest.
    assert "…and 194 more: `/cpd list East Barnet Area` lists them." in text
    assert ("…and 194 more: `/walk list East Barnet Area since: 2026-02-23` lists them."
            in text)
    assert "…and 191 more: `/partnership info East Barnet Area` lists them." in text
    assert "…and 193 more: `/meeting list East Barnet Area` lists them." in text
    assert "…and 194 more: `/walk list East Barnet Area` lists them." in text
    assert len(text) < 12_000
    body = slack_render.message(made.reply)
    assert _slack_problems(body["blocks"]) == []
    assert len(body["text"]) <= slack_render.MAX_FALLBACK_TEXT
    card = teams_render.card(made.reply)
    assert teams_render.card_size(card) <= teams_render.MAX_CARD_BYTES
    assert "…and" not in json.dumps(card).replace("…and 19", "")  # nothing cut by Teams
    # The chart shows the schools that attended most, and says the rest are left out.
    assert made.attachment is not None
    grid = digest.coverage_grid((await _data(db, partnership)).coverage,
                                (await _data(db, partnership)).term, partnership.name)
    assert grid is not None and len(grid.schools) == 24
    assert "(179 schools with the fewest not shown)" in grid.title


async def _data(db: Database, partnership: Partnership) -> digest.DigestData:
    async with db.session() as session:
        return await digest.gather(session, partnership, DUE)


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """The SQL statements run on `db` meanwhile."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


async def test_a_digest_costs_the_same_statements_for_a_small_and_a_large_partnership(
    db: Database,
) -> None:
    partnership = await seed_week(db)
    with counting(db) as small:
        await due_digest(db, partnership)
    await add_plenty(db, partnership, 300)
    with counting(db) as large:
        made = await due_digest(db, partnership)
    assert isinstance(made, ChannelPost) and "CPD sessions (302)" in made.reply.plain_text()
    selects = [s for s in small if s.lstrip().upper().startswith("SELECT")]
    assert len(large) == len(small)
    # The partnership and settings, the last digest, six lists, four for coverage.
    assert len(selects) == 12


async def test_the_next_digest_has_what_was_edited_or_deleted_since_and_nothing_again(
    db: Database,
) -> None:
    partnership = await seed_week(db)
    assert partnership.id is not None
    async with db.session() as session:  # the week's digest went out on Monday
        session.add(ScheduledDelivery(
            kind="digest", partnership_id=partnership.id, dedupe_key="digest:1:2026-W10",
            due_at=DUE, next_attempt_at=DUE, status=DeliveryStatus.SENT, sent_at=DUE))
    tuesday = evening_of(DUE.date() + timedelta(days=1))
    await ok_at(db, tuesday, "walk", "edit 2 focus: progression in history")
    await ok_at(db, tuesday, "cpd", "delete 1 confirm")
    made = await due_digest(db, partnership, DUE + timedelta(days=7))
    assert isinstance(made, ChannelPost)
    text = made.reply.plain_text()
    assert text.startswith(
        "Weekly digest for East Barnet Area: week ending Sunday 8 March\n"
        "Learning walks (1)\n"
        "Wed 25 Feb 2026 · Monkfrith · focus: progression in history · edited since the last "
        "digest\n"
        "Deleted (1)\n"
        "CPD session #1, “Phonics refresher” on Tuesday 24 February 2026 (deleted by Ann Smith)\n"
        "Overdue next steps (2)\n")
    assert "CPD sessions (" not in text and "Queenswell" not in text.split("Overdue")[0]
    assert "Lists what was logged since the last digest (Monday 2 March 2026 at 08:00)" in text


async def test_a_quiet_week_sends_a_note_or_nothing(db: Database) -> None:
    await set_up_partnerships(db)
    async with db.session() as session:
        partnership = (await session.exec(select(Partnership)
                                          .where(Partnership.name == PARTNERSHIP))).one()
    made = await due_digest(db, partnership)
    assert isinstance(made, ChannelPost) and made.attachment is None
    assert made.reply.plain_text() == (
        "A quiet week in East Barnet Area: nothing logged since Monday 23 February, no "
        "meetings in the next two weeks, and nothing overdue.")
    await ok(db, "partnership", f"digest {PARTNERSHIP} quiet: skip")
    skipped = await due_digest(db, partnership)
    assert isinstance(skipped, Skip) and "quiet week" in skipped.reason
    await ok(db, "partnership", f"digest {PARTNERSHIP} off")
    assert await due_digest(db, partnership) is None  # turned off meanwhile: dropped


# --- when it is sent --------------------------------------------------------------------------


def test_the_send_time_stays_local_across_the_clock_changes() -> None:
    timing = digest.Timing()
    # Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    spring = digest.next_send(timing, LONDON, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    autumn = digest.next_send(timing, LONDON, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert spring == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert autumn == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 08:00 GMT
    friday = digest.Timing(weekday=4, at=datetime(2026, 1, 1, 16, 30).time())
    assert digest.next_send(friday, LONDON, autumn) == datetime(2026, 10, 30, 16, 30,
                                                                tzinfo=UTC)
    assert digest.iso_week(spring, LONDON) == "2026-W14"
    # Monday 00:30 BST is still Sunday in UTC: the week is the local one.
    assert digest.iso_week(datetime(2026, 3, 29, 23, 30, tzinfo=UTC), LONDON) == "2026-W14"


async def digest_rows(db: Database) -> list[ScheduledDelivery]:
    async with db.session() as session:
        return list((await session.exec(
            select(ScheduledDelivery).where(ScheduledDelivery.kind == "digest")
            .order_by(col(ScheduledDelivery.id)))).all())


async def test_linking_a_channel_queues_the_digest_and_settings_move_it(db: Database) -> None:
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
    ann = replace(ANN, now=now)
    await ok(db, "partnership", f"create {PARTNERSHIP}", ann)
    linked = await ok(db, "partnership", f"channel {PARTNERSHIP}", ann)
    assert ("Its weekly digest will be posted here Mondays at 08:00 (UK time), the next on "
            "Monday 9 March 2026 at 08:00") in linked.reply.plain_text()
    row, = await digest_rows(db)
    assert (row.dedupe_key, row.status) == ("digest:1:2026-W11", DeliveryStatus.PENDING)
    assert row.due_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert row.expires_at == row.due_at + timedelta(days=1)

    changed = await ok(db, "partnership",
                       f"digest {PARTNERSHIP} day: Friday time: 4.30pm quiet: skip", ann)
    assert changed.reply.title == ("The weekly digest of East Barnet Area now comes on Fridays "
                                   "at 16:30 (UK time).")
    assert "Next: Friday 6 March 2026 at 16:30, in #heads." in changed.reply.plain_text()
    assert "In a quiet week it posts nothing at all." in changed.reply.plain_text()
    rows = await digest_rows(db)
    # Friday is in week 10: a new row; the Monday one of week 11 is no longer wanted.
    assert [(r.dedupe_key, r.status) for r in rows] == [
        ("digest:1:2026-W11", "cancelled"), ("digest:1:2026-W10", "pending")]
    assert rows[1].due_at == datetime(2026, 3, 6, 16, 30, tzinfo=UTC)

    # Back to Monday: week 11's cancelled row is wanted again, at the new time.
    await ok(db, "partnership", f"digest {PARTNERSHIP} day: mon time: 07:45", ann)
    rows = await digest_rows(db)
    assert [(r.dedupe_key, r.status, r.due_at.hour, r.due_at.minute) for r in rows] == [
        ("digest:1:2026-W11", "pending", 7, 45), ("digest:1:2026-W10", "cancelled", 16, 30)]

    off = await ok(db, "partnership", f"digest {PARTNERSHIP} off", ann)
    assert off.reply.title == "Turned off the weekly digest of East Barnet Area."
    assert {r.status for r in await digest_rows(db)} == {"cancelled"}
    again = await say(db, "partnership", f"digest {PARTNERSHIP} off", ann)
    assert again.reply.title == "The weekly digest of East Barnet Area is already off."
    on = await ok(db, "partnership", f"digest {PARTNERSHIP} on", ann)
    assert on.reply.title.startswith("The weekly digest of East Barnet Area is back on")
    assert [r.status for r in await digest_rows(db)] == ["pending", "cancelled"]


async def test_a_week_whose_digest_went_out_is_not_sent_again_after_a_change(
    db: Database,
) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday, after this week's digest
    ann = replace(ANN, now=now)
    await ok(db, "partnership", f"create {PARTNERSHIP}", replace(ann, now=now - timedelta(1)))
    await ok(db, "partnership", f"channel {PARTNERSHIP}", replace(ann, now=now - timedelta(1)))
    async with db.session() as session:
        row = (await session.exec(select(ScheduledDelivery))).one()
        assert row.dedupe_key == "digest:1:2026-W10"
        row.status, row.sent_at = DeliveryStatus.SENT.value, now - timedelta(hours=1)
        session.add(row)
    # Thursday of the same week has not come yet, but week 10 has had its digest.
    await ok(db, "partnership", f"digest {PARTNERSHIP} day: Thursday", ann)
    keys = [(r.dedupe_key, r.status, r.due_at) for r in await digest_rows(db)]
    assert keys == [("digest:1:2026-W10", "sent", now - timedelta(hours=1)),
                    ("digest:1:2026-W11", "pending", datetime(2026, 3, 12, 8, 0, tzinfo=UTC))]


async def test_the_planner_queues_digests_once_however_often_it_runs(db: Database) -> None:
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    await set_up_partnerships(db)  # East Barnet Area has a channel; Hendon Area none
    async with db.session() as session:
        rows = (await session.exec(select(ScheduledDelivery))).all()
        for row in rows:  # as if the channel had been linked before digests existed
            await session.delete(row)
    for _ in range(3):
        async with db.session() as session:
            planned = await digest.plan_due(session, now)
        assert planned == (1 if _ == 0 else 0)
    row, = await digest_rows(db)
    assert row.dedupe_key == "digest:1:2026-W11"


# --- /partnership digest ----------------------------------------------------------------------


async def test_settings_are_for_leads_and_previews_for_members(db: Database) -> None:
    await seed_week(db)
    refused = await say(db, "partnership", f"digest {PARTNERSHIP} day: Tuesday", BEN)
    assert refused.reply.tone is Tone.ERROR
    assert refused.reply.title == ("Only a lead of East Barnet Area can change its weekly "
                                   "digest.")
    outsider = await say(db, "partnership", f"digest {PARTNERSHIP} preview", CY)
    assert outsider.reply.title.startswith("Only members of East Barnet Area can do that")
    shown = await ok(db, "partnership", f"digest {PARTNERSHIP}", BEN)
    text = shown.reply.plain_text()
    assert "Status: on" in text and "When: Mondays at 08:00 (UK time)" in text
    assert "Channels: #heads" in text and "Next: " in text


async def test_a_preview_is_the_digest_as_it_stands_for_the_caller_only(db: Database) -> None:
    await seed_week(db)
    monday_morning = replace(BEN, now=DUE - timedelta(hours=2))
    preview = await ok(db, "partnership", f"digest {PARTNERSHIP} preview", monday_morning)
    text = preview.reply.plain_text()
    assert preview.reply.visibility == "private"
    # Exactly the digest due at 08:00, then a line saying it is a preview.
    assert text.startswith(GOLDEN)
    assert text.endswith(
        "Preview, seen only by you. #heads gets this on Monday 2 March 2026 at 08:00, unless "
        "more is logged before then. A chart of the term's CPD coverage goes with it (in the "
        "message's thread in Slack, and behind “See the chart” everywhere).")


async def test_bad_digest_settings_get_a_polite_answer(db: Database) -> None:
    await set_up_partnerships(db)
    cases = {
        f"digest {PARTNERSHIP} day: Funday": "“Funday” is not a day of the week.",
        f"digest {PARTNERSHIP} time: 25:00": "“25:00” is not a time: the 24-hour clock goes",
        f"digest {PARTNERSHIP} time: soon": "I couldn't read “soon” as a time of day.",
        f"digest {PARTNERSHIP} quiet: maybe": "`quiet:` takes `note` or `skip`",
        f"digest {PARTNERSHIP} off day: Monday": "`off` and settings can't go together.",
        "digest": "Which partnership's digest?",
        "digest Nowhere Area": "I can't find a partnership called “Nowhere Area”.",
    }
    for text, problem in cases.items():
        outcome = await say(db, "partnership", text)
        assert outcome.reply.tone is Tone.ERROR, text
        assert outcome.reply.title.startswith(problem), outcome.reply.plain_text()
        assert "`" in outcome.reply.plain_text()  # with an example to copy
    help_text = (await say(db, "partnership", "help")).reply.plain_text()
    assert "/partnership digest East Barnet Area preview" in help_text


async def test_a_digest_before_any_channel_says_how_to_start_it(db: Database) -> None:
    await run_command(db, "partnership", "create Hendon Area", CY)
    outcome = await ok(db, "partnership", "digest Hendon Area time: 9am", CY)
    assert ("Hendon Area has no channel yet, so it will start once a lead links one with "
            "`/partnership channel Hendon Area`.") in outcome.reply.plain_text()
    assert await digest_rows(db) == []
