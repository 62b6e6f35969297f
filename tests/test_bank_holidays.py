"""England and Wales bank holidays: a meeting scheduled on one is warned about, with a command
and a button that move it to the next working day; the weekly digest moves off one to the next
working day (saying why), unless the partnership keeps it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from sqlmodel import col, select

from handlers import digest
from handlers.bankholidays import bank_holiday, is_working_day, next_working_day
from handlers.dates import format_date
from handlers.dispatch import SCHEDULED
from handlers.meetings import MoveOffHoliday
from handlers.replies import ChannelPost
from storage.db import Database
from storage.models import DeliveryStatus, Meeting, ScheduledDelivery
from storage.types import LONDON, utcnow
from tests.conftest import RunningBot, RunningTeamsBot
from tests.support.cards import card_text
from tests.support.fake_connector import REPLY
from tests.support.learning import ANN, PARTNERSHIP, ok, say
from tests.support.slack_requests import block_action
from tests.test_meetings_slack import CHANNEL, command, dumps, linked_partnership, posted
from tests.test_teams_features import linked_partnership as teams_linked_partnership
from tests.test_teams_features import say as teams_say
from tests.test_teams_features import submit_actions


def uk(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


# --- the calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "name"), [
    (date(2026, 8, 31), "Late Summer Bank Holiday"),
    (date(2027, 3, 26), "Good Friday"),
    (date(2027, 3, 29), "Easter Monday"),
    (date(2027, 12, 27), "Christmas Day (observed)"),  # Christmas Day 2027 is a Saturday
    (date(2027, 12, 28), "Boxing Day (observed)"),
    (date(2028, 1, 3), "New Year's Day (observed)"),
])
def test_bank_holidays_are_england_and_wales_weekdays(day: date, name: str) -> None:
    assert bank_holiday(day) == name
    assert not is_working_day(day)


@pytest.mark.parametrize("day", [
    date(2027, 12, 25),  # Christmas Day on a Saturday: the bank holiday is the Monday after
    date(2026, 11, 30),  # St Andrew's Day: a bank holiday in Scotland only
    date(2027, 3, 17),  # St Patrick's Day: Northern Ireland only
    date(2026, 9, 1),
])
def test_other_days_are_not(day: date) -> None:
    assert bank_holiday(day) is None


def test_the_next_working_day_skips_weekends_and_runs_of_holidays() -> None:
    assert next_working_day(date(2026, 8, 31)) == date(2026, 9, 1)
    assert next_working_day(date(2027, 3, 26)) == date(2027, 3, 30)  # Good Friday to Tuesday
    assert next_working_day(date(2027, 12, 27)) == date(2027, 12, 29)


# --- the weekly digest -------------------------------------------------------------------------


async def digest_rows(db: Database) -> list[ScheduledDelivery]:
    async with db.session() as session:
        return list((await session.exec(
            select(ScheduledDelivery).where(ScheduledDelivery.kind == "digest")
            .order_by(col(ScheduledDelivery.id)))).all())


async def linked_at(db: Database, moment: datetime) -> str:
    """A partnership with a channel, created and linked at `moment`: what linking said."""
    ann = replace(ANN, now=moment.astimezone(UTC))
    await ok(db, "partnership", f"create {PARTNERSHIP}", ann)
    linked = await ok(db, "partnership", f"channel {PARTNERSHIP}", ann)
    return linked.reply.plain_text()


@pytest.mark.parametrize(("linked_on", "holiday", "sent_on", "week"), [
    (uk(date(2027, 3, 24)), date(2027, 3, 29), date(2027, 3, 30), "2027-W13"),  # Easter Monday
    (uk(date(2026, 8, 27)), date(2026, 8, 31), date(2026, 9, 1), "2026-W36"),  # late summer
    # On the bank holiday itself, after the regular 08:00: the moved digest is still to come.
    (uk(date(2026, 8, 31), 8, 30), date(2026, 8, 31), date(2026, 9, 1), "2026-W36"),
    # Christmas Day and Boxing Day on a weekend: both substitute days, Monday and Tuesday.
    (uk(date(2027, 12, 22)), date(2027, 12, 27), date(2027, 12, 29), "2027-W52"),
])
async def test_a_monday_digest_on_a_bank_holiday_goes_the_next_working_day(
    db: Database, linked_on: datetime, holiday: date, sent_on: date, week: str
) -> None:
    with time_machine.travel(linked_on, tick=True):
        said = await linked_at(db, utcnow())
        row, = await digest_rows(db)
    moment = f"{format_date(sent_on)} at 08:00 ({format_date(holiday)} is a bank holiday: " \
             f"{bank_holiday(holiday)})"
    assert f"Mondays at 08:00 (UK time), the next on {moment}" in said
    assert (row.dedupe_key, row.status) == (f"digest:1:{week}", DeliveryStatus.PENDING)
    assert row.due_at == uk(sent_on, 8).astimezone(UTC)

    # What goes out then looks back on the week before the holiday, and says why it is late.
    async with db.session() as session:
        made = await SCHEDULED[digest.DIGEST_KIND](json.loads(row.payload), row.due_at, row.due_at,
                                                  session)
    assert isinstance(made, ChannelPost)
    text = made.reply.plain_text()
    first, last = holiday - timedelta(days=7), holiday - timedelta(days=1)
    late = (sent_on - holiday).days
    # (its first digest: what was logged since the week began, "since Monday 22 March")
    assert f"nothing logged since {format_date(first).rsplit(' ', 1)[0]}," in text
    assert last == holiday - timedelta(days=1)
    assert (f"Posted {'a day' if late == 1 else f'{late} days'} late this week: "
            f"{format_date(holiday)} is a bank holiday in England and Wales "
            f"({bank_holiday(holiday)})") in text

    # Once it has gone, the next is the next regular Monday (after 27 December 2027, that is
    # 3 January 2028: New Year's Day's substitute, so Tuesday 4 January).
    async with db.session() as session:
        row.status = DeliveryStatus.SENT
        session.add(row)
    async with db.session() as session:
        assert await digest.plan_due(session, row.due_at + timedelta(minutes=1)) == 1
    following = (await digest_rows(db))[-1]
    monday = holiday + timedelta(days=7)
    expected = monday if bank_holiday(monday) is None else next_working_day(monday)
    assert following.due_at == uk(expected, 8).astimezone(UTC)


async def test_a_partnership_may_keep_its_digest_on_bank_holidays(db: Database) -> None:
    with time_machine.travel(uk(date(2026, 8, 27)), tick=True):
        await linked_at(db, utcnow())
        ann = replace(ANN, now=utcnow())
        kept = await ok(db, "partnership", f"digest {PARTNERSHIP} holidays: keep", ann)
        assert "Next: Monday 31 August 2026 at 08:00" in kept.reply.plain_text()
        assert "When its day is a bank holiday it is posted as usual." \
            in kept.reply.plain_text()
        shown = (await ok(db, "partnership", f"digest {PARTNERSHIP}", ann)).reply.plain_text()
        assert "Bank holidays: posted as usual" in shown
        row = (await digest_rows(db))[-1]
        assert row.due_at == uk(date(2026, 8, 31), 8).astimezone(UTC)

        moved = await ok(db, "partnership", f"digest {PARTNERSHIP} holidays: move", ann)
        assert ("Next: Tuesday 1 September 2026 at 08:00 (Monday 31 August 2026 is a bank "
                "holiday: Late Summer Bank Holiday)") in moved.reply.plain_text()
        shown = (await ok(db, "partnership", f"digest {PARTNERSHIP}", ann)).reply.plain_text()
        assert "Bank holidays: posted the next working day" in shown
        assert "Next: Tuesday 1 September 2026 at 08:00 (Monday 31 August 2026" in shown
        refused = await say(db, "partnership", f"digest {PARTNERSHIP} holidays: sometimes", ann)
        assert "`holidays:` takes `move` or `keep`, not “sometimes”" in refused.reply.title


async def test_a_friday_digest_on_good_friday_goes_after_easter_monday(db: Database) -> None:
    with time_machine.travel(uk(date(2027, 3, 22)), tick=True):
        await linked_at(db, utcnow())
        friday = await ok(db, "partnership", f"digest {PARTNERSHIP} day: Friday time: 3pm",
                          replace(ANN, now=utcnow()))
    assert "Next: Tuesday 30 March 2027 at 15:00" in friday.reply.plain_text()
    rows = {r.dedupe_key: r for r in await digest_rows(db)}
    # Good Friday's week keeps its key: the next Friday's digest is week 13's.
    assert rows["digest:1:2027-W12"].due_at == uk(date(2027, 3, 30), 15).astimezone(UTC)


# --- a meeting on a bank holiday, through Slack -------------------------------------------------


@pytest.mark.time_machine(datetime(2027, 3, 22, 12, 0, tzinfo=LONDON))
async def test_a_meeting_on_a_bank_holiday_is_warned_about_and_moved_with_one_press(
    bot: RunningBot,
) -> None:
    await linked_partnership(bot)
    answer = await command(bot, "schedule East Barnet Area when: 29/3/2027 10:00 to 11:00", 3)
    assert "Scheduled East Barnet Area meeting: Monday 29 March 2027, 10:00–11:00" in answer
    assert ("Monday 29 March 2027 is a bank holiday in England and Wales (Easter Monday): "
            "schools are usually closed.") in answer
    ready = "/meeting move 1 when: 30/3/2027 10:00 to 11:00"
    assert (f"To move it to the same time on the next working day, Tuesday 30 March 2027: "
            f"`{ready}`") in answer
    press = MoveOffHoliday(1, 0, "30/3/2027 10:00 to 11:00").pack()
    assert press in answer and "Move to Tue 30 Mar" in answer

    await bot.slack.interaction(block_action(MoveOffHoliday.kind, press, channel_id=CHANNEL))
    notice, = await posted(bot, "Moved:")
    assert "Tuesday 30 March 2027, 10:00–11:00" in dumps(notice.body)
    async with bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    assert meeting.starts_at == datetime(2027, 3, 30, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert meeting.sequence == 1

    # The same press again is out of date: the meeting has moved since that warning.
    await bot.slack.interaction(block_action(MoveOffHoliday.kind, press, channel_id=CHANNEL))
    refusal = (await bot.fake.wait_for("chat.postEphemeral", 2))[-1]
    assert "has changed since that warning: it is now Tuesday 30 March 2027" \
        in refusal.body["text"]
    async with bot.db.session() as session:
        assert (await session.exec(select(Meeting))).one().sequence == 1


@pytest.mark.time_machine(datetime(2027, 3, 22, 12, 0, tzinfo=LONDON))
async def test_a_meeting_on_a_working_day_has_no_warning(bot: RunningBot) -> None:
    await linked_partnership(bot)
    answer = await command(bot, "schedule East Barnet Area when: 30/3/2027 10:00 to 11:00", 3)
    assert "Scheduled East Barnet Area meeting" in answer
    assert "bank holiday" not in answer and MoveOffHoliday.kind not in answer


@pytest.mark.time_machine(datetime(2027, 3, 22, 12, 0, tzinfo=LONDON))
async def test_in_teams_the_warning_has_the_same_button(teams_bot: RunningTeamsBot) -> None:
    await teams_linked_partnership(teams_bot)
    card = await teams_say(teams_bot,
                           "meeting schedule East Barnet Area when: 29/3/2027 10:00 to 11:00")
    text = card_text(card)
    assert "is a bank holiday in England and Wales (Easter Monday)" in text
    assert "meeting move 1 when: 30/3/2027 10:00 to 11:00" in text
    move = next(a for a in submit_actions(card) if a["title"] == "Move to Tue 30 Mar")
    await teams_bot.teams.post(teams_bot.teams.card_submit(move["data"]))
    await teams_bot.connector.wait_until(
        lambda: any("Moved East Barnet Area meeting" in card_text(c.card)
                    for c in teams_bot.connector.of(REPLY)))
    async with teams_bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    assert meeting.starts_at == datetime(2027, 3, 30, 9, 0, tzinfo=UTC)
