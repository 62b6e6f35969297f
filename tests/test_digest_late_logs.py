"""The digest reports the week's logging: records logged late (on Monday, for the Wednesday
before) go in the next digest with their own dates, and in no digest after it. Driven over
signed Slack HTTP and the real outbox, on a frozen clock (time-machine) for the logging and the
outbox's own clock for the sending."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import time_machine

from storage.db import Database
from storage.types import LONDON
from tests.conftest import FakeClock, RunningBot, running_bot
from tests.support.fake_slack import Call, FakeSlack
from tests.test_outbox import sender

IDLE = 10.0**8
PARTNERSHIP = "East Barnet Area"
BEN = {"user_id": "U0BEN00001", "user_name": "ben"}
HEADS = {"channel_id": "C0HEADS001", "channel_name": "heads"}


def uk(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime(2026, month, day).date(), time(hour, minute),
                            tzinfo=LONDON).astimezone(UTC)


def _texts(node: Any) -> Iterator[str]:
    """Every text a reader sees in Block Kit, in order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def read(post: Call | dict[str, Any]) -> str:
    body = post.body if isinstance(post, Call) else post
    return "\n".join(_texts(body.get("blocks", [])))


def digests(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.ok("chat.postMessage")
            if str(c.body.get("text", "")).startswith(("Weekly digest", "A quiet week"))]


async def send_digest(bot: RunningBot, due: datetime,
                      traveller: time_machine.Traveller) -> Call:
    """Move the clock to `due` and let an outbox sender (as another bot process would run)
    post what is due there: that week's digest, over HTTP to the fake Slack."""
    before = len(digests(bot.fake))
    traveller.move_to(due)
    async with sender(bot.db.url, bot.fake, FakeClock(due)) as outbox_sender:
        assert await outbox_sender.tick() == 1
    assert len(digests(bot.fake)) == before + 1
    return digests(bot.fake)[-1]


WEEK_ENDING_29_NOV = """\
*CPD sessions (1)*
Wed 25 Nov 2026 · Phonics refresher · Teaching assistant development and training · 1.5 hours"""

LATE = """\
*Weekly digest for East Barnet Area: week ending Sunday 6 December*
*CPD sessions (1)*
Wed 25 Nov 2026 · Reviewing interventions · SENCO leadership: impact of interventions
*Learning walks (2)*
Wed 25 Nov 2026 · Monkfrith · focus: progression in foundation subjects
Wed 25 Nov 2026 · Danegrove · focus: reading for pleasure
Nothing this week: new schools, meetings in the next two weeks, overdue next steps."""


async def test_late_logs_go_in_the_next_digest_with_their_own_dates_and_never_twice(
    db: Database, fake_slack: FakeSlack,
) -> None:
    # The server's own outbox stays put (its clock never reaches a digest, and it polls too
    # seldom to notice the clock jump): the digests go out through `send_digest`.
    with time_machine.travel(uk(16, 11, 9), tick=True) as traveller:
        async with running_bot(db, fake_slack, FakeClock(uk(16, 11, 9)), IDLE) as bot:
            await bot.ask("/partnership", f"create {PARTNERSHIP}")
            await bot.ask("/partnership", f"join {PARTNERSHIP} school: Monkfrith")
            await bot.ask("/partnership", f"join {PARTNERSHIP} school: Danegrove", **BEN)
            linked = await bot.ask("/partnership", f"channel {PARTNERSHIP}", **HEADS)
            assert "the next on Monday 23 November 2026 at 08:00" in read(linked) \
                + linked["text"]

            # Monday 23 November: the first digest, with the schools that joined.
            first = await send_digest(bot, uk(23, 11, 8), traveller)
            assert first.body["text"] == ("Weekly digest for East Barnet Area: since Monday "
                                          "16 November")
            assert "*Schools that joined (2)*\nMonkfrith\nDanegrove" in read(first)

            # Wednesday: a session logged the day it happened.
            traveller.move_to(uk(25, 11, 17))
            await bot.ask("/cpd", f"log {PARTNERSHIP} quiet title: Phonics refresher "
                                  "theme: TA training date: 25/11/2026 hours: 1.5")
            on_time = await send_digest(bot, uk(30, 11, 8), traveller)
            assert on_time.body["text"] == ("Weekly digest for East Barnet Area: week ending "
                                            "Sunday 29 November")
            assert WEEK_ENDING_29_NOV in read(on_time)

            # Monday, after the digest went: Wednesday's walks and another session, late.
            traveller.move_to(uk(30, 11, 10))
            await bot.ask("/walk", f"log {PARTNERSHIP} quiet school: Monkfrith date: 25/11/2026 "
                                   "focus: progression in foundation subjects")
            await bot.ask("/walk", f"log {PARTNERSHIP} quiet school: Danegrove date: "
                                   "Wednesday 25 November focus: reading for pleasure", **BEN)
            await bot.ask("/cpd", f"log {PARTNERSHIP} quiet title: Reviewing interventions "
                                  "theme: SENCO date: 25/11/2026", **BEN)

            # The preview says what the next digest will: the late logs, with their dates.
            preview = await bot.ask("/partnership", f"digest {PARTNERSHIP} preview", **BEN)
            assert read(preview).startswith(LATE)
            assert "Phonics refresher" not in read(preview)

            late = await send_digest(bot, uk(7, 12, 8), traveller)
            assert read(late).startswith(LATE)
            assert "Phonics refresher" not in read(late)  # it went out last week

            # The week after: nothing of it again.
            after = await send_digest(bot, uk(14, 12, 8), traveller)
            assert after.body["text"] == (
                "A quiet week in East Barnet Area: nothing logged since the last digest "
                "(Monday 7 December 2026 at 08:00), no meetings in the next two weeks, and "
                "nothing overdue.")
    sent = [c.body["text"] for c in digests(fake_slack)]
    assert len(sent) == 4, json.dumps(sent, indent=1)
