"""`/meeting` through the core, on SQLite and PostgreSQL: checks, permissions, workspaces,
settings, the form, and what reminders say."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, func, select

from handlers.context import Caller
from handlers.dispatch import SCHEDULED, run_action, run_button, run_command, submit_form
from handlers.meetings import MeetingRsvp, describe_reminders, parse_reminders, split_agenda
from handlers.parsing import ParseError
from handlers.replies import Outcome, Reply, Tone
from storage.db import Database
from storage.models import AgendaItem, Meeting, RsvpAnswer, ScheduledDelivery
from tests.support.shell_caller import caller
from tests.support.when import day_ahead, day_before, london, uk_long, uk_short

ANN = caller("Ann", channel="C0HEADS001")  # creates the partnership: its lead
BEN = caller("Ben", channel="C0HEADS001")  # a member
OLIVE = caller("Olive")  # not a member
ZED = caller("Zed", workspace="T0OTHER01")  # another workspace


async def say(db: Database, text: str, who: Caller = ANN, now: datetime | None = None) -> Outcome:
    command, _, rest = text.partition(" ")
    return await run_command(db, command, rest, replace(who, now=now or datetime.now(UTC)))


async def setup(db: Database) -> None:
    await say(db, "partnership create East Barnet Area")
    await say(db, "partnership channel East Barnet Area")
    await say(db, "partnership join East Barnet Area school: Monkfrith", BEN)


async def count(db: Database, table: type) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def reminder_keys(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = (await session.exec(select(ScheduledDelivery)
                                   .where(ScheduledDelivery.kind == "reminder"))).all()
    return {r.dedupe_key: r.status for r in rows}


def when(days: int, times: str = "11:30 to 12:30") -> str:
    return uk_short(day_ahead(days), times)


async def test_help_shows_every_subcommand(db: Database) -> None:
    for text in ("meeting", "meeting help"):
        body = (await say(db, text)).reply.plain_text()
        for sub in ("schedule", "list", "who", "agenda", "move", "cancel", "settings"):
            assert f"/meeting {sub}" in body


async def test_schedule_stores_utc_and_queues_both_reminders(db: Database) -> None:
    await setup(db)
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    outcome = await say(db, "meeting schedule east barnet when: Thursday 2nd July 11.30am-12.30pm"
                            " where: Monkfrith agenda: 1. Welcome; 2) Data; ; - AOB", now=now)
    assert outcome.reply.tone is Tone.SUCCESS
    assert "Thursday 2 July 2026, 11:30–12:30 (BST)" in outcome.reply.title
    async with db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
        items = (await session.exec(select(AgendaItem)
                                    .order_by(col(AgendaItem.position)))).all()
    assert meeting.starts_at == datetime(2026, 7, 2, 10, 30, tzinfo=UTC)  # BST is UTC+1
    assert meeting.timezone == "Europe/London"
    assert [i.text for i in items] == ["Welcome", "Data", "AOB"]
    assert await reminder_keys(db) == {"reminder:1:1440:0": "pending",
                                       "reminder:1:60:0": "pending"}
    post, = outcome.channel_posts
    assert post.remember_as == "meeting:1" and post.attachment is not None
    assert post.attachment.filename == "meeting-1-2026-07-02.ics"


async def test_a_meeting_too_soon_for_a_reminder_says_so(db: Database) -> None:
    await setup(db)
    soon = datetime.now(UTC) + timedelta(hours=3)
    local = soon.astimezone(london(day_ahead(0), 0).tzinfo)
    text = f"meeting schedule East Barnet Area when: {local:%d/%m/%Y %H:%M} for 30 minutes"
    outcome = await say(db, text)
    assert "Reminders: 1 hour before. (Too late for the one 1 day before.)" in \
        outcome.reply.plain_text()
    assert list(await reminder_keys(db)) == ["reminder:1:60:0"]


@pytest.mark.parametrize(("text", "problem", "hint"), [
    ("meeting schedule East Barnet Area", None, None),  # no fields: the form
    ("meeting schedule East Barnet Area where: Monkfrith", "Please say when the meeting is",
     "when: Thursday "),
    ("meeting schedule when: tomorrow 3pm", "Which partnership is the meeting for?",
     "/meeting schedule East Barnet Area when:"),
    ("meeting schedule East Barnet Area when: 31/2 10am", "31", "day first"),
    ("meeting schedule East Barnet Area when: yesterday 10am", "in the past", "still to come"),
    ("meeting schedule East Barnet Area when: tomorrow 3pm-2pm", "before it starts",
     "11.30am-12.30pm"),
    ("meeting schedule East Barnet Area when: tomorrow 3pm title: " + "x" * 201,
     "The title is 201 characters long", "shorten"),
    ("meeting schedule Nowhere Area when: tomorrow 3pm", "can't find a partnership", None),
    ("meeting who twelve", "“twelve” is not a meeting number", "/meeting who 12"),
    ("meeting move 1", "Please say when the meeting moves to", "/meeting move 1 when:"),
    ("meeting frobnicate", "I don't know `frobnicate`", "/meeting help"),
])
async def test_bad_input_is_refused_with_an_example(db: Database, text: str, problem: str | None,
                                                    hint: str | None) -> None:
    await setup(db)
    outcome = await say(db, text)
    if problem is None:
        assert outcome.form is not None and outcome.form.form_id == "meeting.schedule"
        return
    body = outcome.reply.plain_text()
    assert outcome.reply.tone is Tone.ERROR
    assert problem in body
    if hint is not None:
        assert hint.lower() in body.lower()
    assert await count(db, Meeting) == 0


async def test_the_schedule_form_lists_only_the_callers_partnerships(db: Database) -> None:
    await setup(db)
    await say(db, "partnership create Heath and Hill", OLIVE)
    form = (await say(db, "meeting schedule", BEN)).form
    assert form is not None
    choices = [c.value for f in form.fields if f.name == "partnership" for c in f.choices]
    assert choices == ["East Barnet Area"]
    refused = await say(db, "meeting schedule", caller("Nobody"))
    assert refused.form is None and "you are in none" in refused.reply.title


async def test_form_problems_are_shown_beside_their_fields(db: Database) -> None:
    await setup(db)
    bad = await submit_form(db, "meeting.schedule",
                            {"partnership": "East Barnet Area", "when": "soonish"}, "", BEN)
    assert list(bad.errors) == ["when"] and "couldn't read" in bad.errors["when"]
    outsider = await submit_form(db, "meeting.schedule",
                                 {"partnership": "East Barnet Area", "when": when(2)}, "", OLIVE)
    assert "Only members" in outsider.errors["partnership"]
    good = await submit_form(db, "meeting.schedule",
                             {"partnership": "East Barnet Area", "when": when(2),
                              "agenda": "Welcome\nBudgets"}, "", BEN)
    assert good.outcome is not None and good.outcome.reply.tone is Tone.SUCCESS
    assert await count(db, AgendaItem) == 2


async def test_meetings_are_private_to_their_workspace(db: Database) -> None:
    await setup(db)
    await say(db, f"meeting schedule East Barnet Area when: {when(4)}")
    listed = (await say(db, "meeting list", ZED)).reply
    assert "not in a partnership yet" in listed.title
    assert "East Barnet Area meeting" not in listed.plain_text()
    for text in ("meeting who 1", "meeting cancel 1", "meeting agenda 1"):
        assert "can't find meeting 1" in (await say(db, text, ZED)).reply.title
    refused = await run_button(db, MeetingRsvp(1, RsvpAnswer.GOING), ZED)
    assert "can't find meeting 1" in refused.reply.title


async def test_list_shows_upcoming_meetings_soonest_first(db: Database) -> None:
    await setup(db)
    await say(db, f"meeting schedule East Barnet Area when: {when(9)} title: Later")
    await say(db, f"meeting schedule East Barnet Area when: {when(2)} title: Sooner "
                  "where: https://meet.example.org/heads")
    await say(db, f"meeting schedule East Barnet Area when: {when(5)} title: Dropped")
    await say(db, "meeting cancel 3")
    listed = (await say(db, "meeting list", BEN)).reply
    assert listed.title == "2 meetings coming up for your partnerships"
    lines = listed.sections[0].lines
    assert lines[0].startswith("2: Sooner (East Barnet Area)") and "meet.example.org" in lines[0]
    assert lines[1].startswith("1: Later")
    assert (await say(db, "meeting list east barnet", BEN)).reply.title.startswith("2 meetings")
    # Not for non-members: see tests/test_meetings_members_only.py.
    assert "Only members of East Barnet Area" in (
        await say(db, "meeting list east barnet", OLIVE)).reply.title


async def test_rsvp_answers_replace_each_other_and_count(db: Database) -> None:
    await setup(db)
    await say(db, f"meeting schedule East Barnet Area when: {when(3)}")
    await run_button(db, MeetingRsvp(1, RsvpAnswer.GOING), BEN)
    await run_button(db, MeetingRsvp(1, RsvpAnswer.MAYBE), OLIVE)  # a guest may answer too
    outcome = await run_button(db, MeetingRsvp(1, RsvpAnswer.NOT_GOING), BEN)
    assert outcome.updated_message is not None
    card = outcome.updated_message.plain_text()
    # Olive is in no partnership: her reply is shown apart and not counted.
    assert "Going: 0 · Can't make it: 1 · Maybe: 0" in card
    assert "Guests, not in East Barnet Area (not counted): Maybe: Olive" in card
    who = (await say(db, "meeting who 1")).reply.plain_text()
    assert "Members yet to reply (1)\nAnn" in who
    assert "Guests, not in East Barnet Area (1, not counted above)\nMaybe: Olive" in who
    stale = await run_action(db, "meeting.rsvp", "1:sideways", BEN)
    assert "out of date" in stale.reply.title


async def test_no_replies_or_changes_once_a_meeting_is_over(db: Database) -> None:
    await setup(db)
    await say(db, f"meeting schedule East Barnet Area when: {when(1)}")
    later = datetime.now(UTC) + timedelta(days=3)
    for text in ("meeting cancel 1", f"meeting move 1 when: {when(5)}",
                 "meeting agenda 1 add: Late item"):
        reply = (await say(db, text, now=later)).reply
        assert "has already taken place" in reply.title, text
    action = await run_button(db, MeetingRsvp(1, RsvpAnswer.GOING), replace(BEN, now=later))
    assert "has already taken place" in action.reply.title


async def test_agenda_items_are_added_in_order_by_members_only(db: Database) -> None:
    await setup(db)
    await say(db, f"meeting schedule East Barnet Area when: {when(3)} agenda: Welcome")
    added = await say(db, "meeting agenda 1 add: Learning walk findings", BEN)
    assert added.reply.title.startswith("Added item 2 to the agenda")
    post, = added.channel_posts
    assert post.edit_of == "meeting:1" and "2. Learning walk findings" in post.reply.plain_text()
    assert "Only members" in (await say(db, "meeting agenda 1 add: Mine", OLIVE)).reply.title
    shown = (await say(db, "meeting agenda #1", BEN)).reply.plain_text()
    assert "1. Welcome\n2. Learning walk findings" in shown
    refused = (await say(db, "meeting agenda #1", OLIVE)).reply.plain_text()
    assert "Only members of East Barnet Area can see its meetings" in refused
    assert "Welcome" not in refused


async def test_only_leads_change_settings_and_upcoming_reminders_follow(db: Database) -> None:
    await setup(db)
    await say(db, f"meeting schedule East Barnet Area when: {when(10)}")
    refused = await say(db, "meeting settings East Barnet Area reminders: 2 days", BEN)
    assert refused.reply.title == "Only a lead of East Barnet Area can change its meeting " \
                                  "settings."
    changed = await say(db, "meeting settings East Barnet Area reminders: 2 days, 30 mins")
    assert "Reminders: 2 days and 30 minutes before, for the 1 upcoming meeting too." in \
        changed.reply.plain_text()
    assert await reminder_keys(db) == {
        "reminder:1:1440:0": "cancelled", "reminder:1:60:0": "cancelled",
        "reminder:1:2880:0": "pending", "reminder:1:30:0": "pending"}
    await say(db, "meeting settings East Barnet Area reminders: none")
    assert set((await reminder_keys(db)).values()) == {"cancelled"}
    shown = (await say(db, "meeting settings East Barnet Area", BEN)).reply.plain_text()
    assert "Reminders: no reminders" in shown


async def test_a_partnership_time_zone_applies_to_new_meetings(db: Database) -> None:
    await setup(db)
    bad = await say(db, "meeting settings East Barnet Area timezone: Mars/Olympus")
    assert "I don't know the time zone" in bad.reply.title
    await say(db, "meeting settings East Barnet Area timezone: Europe/Helsinki")
    now = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    outcome = await say(db, "meeting schedule East Barnet Area when: 5/2/2026 11:30 to 12:30",
                        now=now)
    assert "(EET)" in outcome.reply.title
    async with db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    assert meeting.starts_at == datetime(2026, 2, 5, 9, 30, tzinfo=UTC)  # Helsinki is UTC+2


async def test_a_reminder_says_when_what_and_who(db: Database) -> None:
    await setup(db)
    day = day_ahead(4)
    await say(db, f"meeting schedule East Barnet Area when: {uk_long(day, '2pm-3pm')} "
                  "where: Monkfrith agenda: Welcome")
    await run_button(db, MeetingRsvp(1, RsvpAnswer.GOING), BEN)
    start = london(day, 14).astimezone(UTC)
    render = SCHEDULED["reminder"]
    payload = {"meeting_id": 1, "minutes_before": 1440, "sequence": 0}
    async with db.session() as session:
        on_time = await render(payload, day_before(start), day_before(start),
                               session)
        late = await render(payload, day_before(start), start - timedelta(hours=3),
                            session)
        moved = await render({**payload, "sequence": 1}, start, start, session)
    assert isinstance(on_time, Reply) and isinstance(late, Reply)
    assert on_time.title == "Reminder: East Barnet Area meeting is tomorrow at 14:00"
    text = on_time.plain_text()
    assert "Where: Monkfrith" in text and "1. Welcome" in text
    assert "Going: 1 · Can't make it: 0 · Maybe: 0 · Yet to reply: 1" in text
    assert late.title == "Reminder: East Barnet Area meeting is today at 14:00 (delayed)"
    assert moved is None  # a reminder for an older version of the meeting


def test_reminder_offsets_are_read_the_way_people_write_them() -> None:
    c = ANN
    assert parse_reminders("1 day, 1 hour", c) == (1440, 60)
    assert parse_reminders("2 days and 30 minutes", c) == (2880, 30)
    assert parse_reminders("a week; 1 hr; 15 mins before", c) == (10080, 60, 15)
    assert parse_reminders("1h + 1 hour", c) == (60,)
    assert parse_reminders("none", c) == ()
    for bad in ("soon", "1 fortnight", "1 minute", "5 weeks", "1m, 2h, 3h, 4h, 5h, 6h"):
        with pytest.raises(ParseError):
            parse_reminders(bad, c)
    assert describe_reminders((1440, 90)) == "1 day and 1 hour 30 minutes before"
    assert split_agenda("1. Welcome\n2) Data; - AOB;;") == ("Welcome", "Data", "AOB")


async def test_a_day_before_stays_at_the_same_local_time_across_a_clock_change(
    db: Database,
) -> None:
    await setup(db)
    now = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    # Clocks go forward at 01:00 on Sunday 29 March 2026, between the two reminders' days.
    await say(db, "meeting schedule East Barnet Area when: Sunday 29 March 10am-11am", now=now)
    async with db.session() as session:
        rows = {r.dedupe_key: r.due_at for r in (await session.exec(
            select(ScheduledDelivery).where(ScheduledDelivery.kind == "reminder"))).all()}
    # 10:00 GMT on the Saturday (24 hours before would be 09:00), then 09:00 BST on the day.
    assert rows["reminder:1:1440:0"] == datetime(2026, 3, 28, 10, 0, tzinfo=UTC)
    assert rows["reminder:1:60:0"] == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


@pytest.mark.clock
async def test_a_form_time_with_two_readings_is_asked_beside_the_field(db: Database,
                                                                       now: datetime) -> None:
    await setup(db)
    day = day_ahead(9, now)
    wrong = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
             "Sunday")[(day.weekday() + 1) % 7]
    asked = await submit_form(db, "meeting.schedule",
                              {"partnership": "East Barnet Area",
                               "when": f"{wrong} {day.day}/{day.month} 2pm-3pm"}, "", BEN)
    assert list(asked.errors) == ["when"]
    assert "Which did you mean?" in asked.errors["when"] and "`" not in asked.errors["when"]
    assert await count(db, Meeting) == 0
