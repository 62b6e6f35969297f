"""Minutes (issue 15.3): a form prefilled from the replies and the agenda, saved as a draft by
its writer and shared with the members, approved by a lead at the next meeting, read-only after
(a change makes a new version, kept); with the refusals that write nothing. Over signed Slack
HTTP, Teams activities and the shell."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.shell import run_shell
from handlers.minutes import ReadMinutes
from storage import personal_data
from storage.db import Database
from storage.models import Meeting, MeetingMinutes
from tests.conftest import RunningBot, RunningTeamsBot
from tests.support.cards import card_text, elements
from tests.support.fake_connector import SEND, UPDATE
from tests.support.slack_requests import view_submission
from tests.support.when import day_ahead, uk_short
from tests.test_meeting_agenda import BEN, other
from tests.test_meeting_replies import card_actions, teams_say, updated_with
from tests.test_meetings_slack import CHANNEL, command, dumps, linked_partnership, posted


async def set_times(db: Database, meeting_id: int, starts: datetime) -> None:
    """Move a meeting in time directly (the commands refuse the past): an hour long."""
    async with db.session() as session:
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.starts_at, meeting.ends_at = starts, starts + timedelta(hours=1)
        session.add(meeting)
        await session.commit()


async def versions(db: Database) -> list[MeetingMinutes]:
    async with db.session() as session:
        return list((await session.exec(select(MeetingMinutes).order_by(
            col(MeetingMinutes.id)))).all())


NOW = datetime.now(UTC)


async def held_meeting_and_the_next(bot: RunningBot) -> None:
    """Meeting 1 (Steve going, Ben's apologies, an agenda item) held two days ago; meeting 2
    in five days."""
    await linked_partnership(bot)
    await other(bot, "/partnership", "join East Barnet Area school: Monkfrith", 3, **BEN)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(3))} "
                       "agenda: Budget", 4)
    await command(bot, "reply 1 going", 5)
    await command(bot, "reply 1 apologies: Ofsted call", 6, **BEN)
    await command(bot, f"schedule East Barnet Area when: {uk_short(day_ahead(5))}", 7)
    await set_times(bot.db, 1, NOW - timedelta(days=2))


async def test_minutes_from_the_form_to_approval(bot: RunningBot) -> None:
    await held_meeting_and_the_next(bot)
    await bot.slack.command("/meeting", "minutes 1", channel_id=CHANNEL)
    view = (await bot.fake.wait_for("views.open"))[0].body["view"]
    assert view["callback_id"] == "meeting.minutes"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["attendees"]["element"]["initial_value"] == "Steve"
    assert inputs["apologies"]["element"]["initial_value"] == "Ben (Ofsted call)"
    labels = [b["label"]["text"] for b in inputs.values()]
    assert labels[2:] == ["1. Minutes of the last meeting: notes", "1. Decisions",
                          "2. Matters arising: notes", "2. Decisions",
                          "3. Budget: notes", "3. Decisions"]

    def state(**values: str) -> dict[str, Any]:
        return {key: {"type": "plain_text_input", "value": value}
                for key, value in values.items()}

    too_long = await bot.slack.interaction_json(view_submission(
        "meeting.minutes", state(attendees="Steve", **{"item 3 notes": "x" * 2001}),
        view["private_metadata"]))
    assert too_long["response_action"] == "errors" and "item 3 notes" in too_long["errors"]
    assert await versions(bot.db) == []

    await bot.slack.interaction(view_submission("meeting.minutes", state(
        attendees="Steve\nAnn Smith", apologies="Ben (Ofsted call)",
        **{"item 3 notes": "Spending is on track", "item 3 decisions": "Budget agreed"}),
        view["private_metadata"]))
    note = (await posted(bot, "Draft minutes of East Barnet Area meeting"))[0]
    assert note.body["channel"] == CHANNEL
    assert f"v1:{ReadMinutes.kind}:1" in dumps(note.body["blocks"])
    assert "Spending" not in dumps(note.body["blocks"])  # the channel is told, not shown
    draft, = await versions(bot.db)
    assert (draft.version, draft.status, draft.written_by_name) == (1, "draft", "Steve")
    assert draft.attendees == "Steve\nAnn Smith"
    items = json.loads(draft.items)
    assert items[2] == {"title": "Budget", "notes": "Spending is on track",
                        "decisions": "Budget agreed"}

    # Members read the draft; it is Steve's to change (or a lead's), not Ben's.
    shown = await command(bot, "minutes 1 show", 8, **BEN)
    assert "Draft minutes of East Barnet Area meeting" in shown
    assert "Ben (Ofsted call)" in shown and "Decisions: Budget agreed" in shown
    refused = await command(bot, "minutes 1 item 3 notes: Mine now", 9, **BEN)
    assert "are Steve's to change" in refused
    outsider = await command(bot, "minutes 1 show", 10, user_id="U0OUTSIDE1",
                             user_name="Olive")
    assert "Only members of East Barnet Area can see its meetings" in outsider

    # Approval: leads only, for a meeting held, at the next meeting, once.
    not_lead = await command(bot, "minutes 1 approve", 11, **BEN)
    assert "Only a lead of East Barnet Area can approve minutes" in not_lead
    too_soon = await command(bot, "minutes 1 approve", 12)
    assert "are approved at the next meeting" in too_soon
    not_held = await command(bot, "minutes 2 approve", 13)
    assert "has not been held yet" in not_held
    not_yet = await command(bot, "minutes 2", 14)
    assert "has not taken place yet" in not_yet
    assert [(v.version, v.status, v.approved_by) for v in await versions(bot.db)] == [
        (1, "draft", None)]

    await set_times(bot.db, 2, NOW - timedelta(minutes=10))  # the next meeting has begun
    approved = await command(bot, "minutes 1 approve", 15)
    assert "Approved the minutes of East Barnet Area meeting (version 1)" in approved
    await posted(bot, "Minutes of East Barnet Area meeting")
    first, = await versions(bot.db)
    assert (first.status, first.approved_by_name) == ("approved", "Steve")
    assert first.approved_at is not None
    twice = await command(bot, "minutes 1 approve", 16)
    assert "were approved already, by Steve on" in twice
    assert (await versions(bot.db))[0].approved_at == first.approved_at

    # Read-only after: a change makes version 2, and version 1 is kept as it was.
    changed = await command(bot, "minutes 1 item 3 decisions: Budget agreed, with a review",
                            17)
    assert "Saved the draft minutes of East Barnet Area meeting (version 2)" in changed
    one, two = await versions(bot.db)
    assert json.loads(one.items)[2]["decisions"] == "Budget agreed"
    assert (two.version, two.status) == (2, "draft")
    assert json.loads(two.items)[2]["decisions"] == "Budget agreed, with a review"
    shown = await command(bot, "minutes 1 show", 18)
    assert "Earlier versions (kept)" in shown and "Version 1: approved by Steve" in shown
    # The next meeting's agenda says where they stand.
    agenda = await command(bot, "agenda 2", 19)
    assert "(meeting 1): draft minutes (version 2, by Steve) to approve" in agenda
    bad_item = await command(bot, "minutes 1 item 9 notes: nowhere", 20)
    assert "there is no item 9" in bad_item
    assert len(await versions(bot.db)) == 2


def as_filled_in(submit: dict[str, Any], inputs: Any) -> dict[str, Any]:
    """What Teams sends for a submit: its data and every input's value as the card shows it
    (prefilled values included)."""
    data = dict(submit["data"])
    data.update({node["id"]: node["value"] for node in inputs if node.get("value")})
    return data


async def test_minutes_in_teams(teams_bot: RunningTeamsBot) -> None:
    await teams_say(teams_bot, "partnership create East Barnet Area")
    await teams_say(teams_bot, "partnership channel East Barnet Area", channel=True)
    await teams_bot.connector.wait_for(SEND)
    await teams_say(teams_bot, f"meeting schedule East Barnet Area when: "
                               f"{uk_short(day_ahead(2))} agenda: Budget")
    await teams_say(teams_bot, "meeting reply 1 yes")
    await set_times(teams_bot.db, 1, NOW - timedelta(days=1))
    form = await teams_say(teams_bot, "meeting minutes 1")
    assert "Jo Whitfield" in json.dumps(form)  # present, from the replies
    [submit] = card_actions(form)
    fields = {n.get("label"): n for n in elements(form, lambda n: n.get("type") == "Input.Text")}
    data = as_filled_in(submit, fields.values())
    data[fields["3. Budget: notes"]["id"]] = "On track"
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    await updated_with(teams_bot, "Saved the draft minutes of East Barnet Area meeting "
                                  "(version 1)")
    draft, = await versions(teams_bot.db)
    assert json.loads(draft.items)[2]["notes"] == "On track" and draft.platform == "teams"
    # One item's form alone: the other parts stay as they are.
    one = await teams_say(teams_bot, "meeting minutes 1 item 3")
    boxes = {n.get("label"): n for n in elements(one, lambda n: n.get("type") == "Input.Text")}
    assert list(boxes) == ["3. Budget: notes", "3. Decisions"]
    assert boxes["3. Budget: notes"]["value"] == "On track"
    [submit] = card_actions(one)
    data = as_filled_in(submit, boxes.values())
    data[boxes["3. Budget: notes"]["id"]] = "On track"
    data[boxes["3. Decisions"]["id"]] = "Agreed"
    updates = len(teams_bot.connector.of(UPDATE))
    activity = teams_bot.teams.card_submit(data)
    activity["replyToId"] = "1:TheSecondFormCardNotReal"  # a card of its own, as in Teams
    await teams_bot.teams.post(activity)
    await teams_bot.connector.wait_for(UPDATE, updates + 1)
    draft, = await versions(teams_bot.db)
    assert json.loads(draft.items)[2] == {"title": "Budget", "notes": "On track",
                                          "decisions": "Agreed"}
    assert draft.attendees == "Jo Whitfield"
    refused = card_text(await teams_say(teams_bot, "meeting minutes 1 approve"))
    assert "approved at the next meeting" in refused
    assert (await versions(teams_bot.db))[0].status == "draft"


async def test_minutes_in_the_shell(sqlite_db: Database, tmp_path: Path) -> None:
    setup = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership channel East Barnet Area\n"
        f"meeting schedule East Barnet Area when: {uk_short(day_ahead(2))} agenda: Budget\n"
        "meeting reply 1 apologies: Ofsted call\n"
        f"meeting schedule East Barnet Area when: {uk_short(day_ahead(4))}\n"
    )
    await run_shell(sqlite_db, "Ann", stdin=setup, stdout=io.StringIO(), files_dir=tmp_path)
    await set_times(sqlite_db, 1, NOW - timedelta(days=1))
    await set_times(sqlite_db, 2, NOW - timedelta(minutes=5))
    typed = io.StringIO(
        "meeting minutes 1\n"
        "meeting minutes 1 item 3 notes: On track item 3 decisions: Agreed\n"
        "meeting minutes 1 show\n"
        "as Olive\n"
        "meeting minutes 1 approve\n"
        "as Ann\n"
        "meeting minutes 1 approve\n"
        "meeting minutes 1 approve\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    text = out.getvalue()
    assert "Minutes: the fields to type" in text
    assert "now: Ann (Ofsted call)" in text  # the form's prefilled apologies
    assert "item 3 notes:  3. Budget: notes" in text
    assert "✓ Saved the draft minutes of East Barnet Area meeting (version 1)" in text
    assert "[#shell] Draft minutes of East Barnet Area meeting" in text
    assert "Decisions: Agreed" in text
    assert "Only members of East Barnet Area can do that" in text
    assert "✓ Approved the minutes of East Barnet Area meeting (version 1)" in text
    assert "were approved already" in text
    row, = await versions(sqlite_db)
    assert (row.status, row.approved_by_name) == ("approved", "Ann")
    # What Ann wrote and approved is in her data, and forgetting her keeps the minutes
    # without her name.
    ann = personal_data.Person("local", "shell", "local:ann")
    async with sqlite_db.session() as session:
        records = [r for r in await personal_data.export(session, ann)
                   if r.kind == "meeting minutes"]
        assert [(r.fields["wrote"], r.fields["status"]) for r in records] == [
            ("yes", "approved")]
        assert records[0].fields["approved"]
        await personal_data.erase(session, ann)
        await session.commit()
    row, = await versions(sqlite_db)
    assert (row.written_by, row.written_by_name, row.approved_by, row.approved_by_name) == (
        "", personal_data.ERASED, "", personal_data.ERASED)
    assert json.loads(row.items)[2]["decisions"] == "Agreed"
