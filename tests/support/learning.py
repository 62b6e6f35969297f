"""A partnership to log walks and CPD in, through the real commands, for the core tests."""

from __future__ import annotations

from sqlmodel import col, func, select

from handlers.context import Caller, Platform
from handlers.dispatch import run_command
from handlers.replies import Outcome, Tone
from storage.db import Database
from storage.models import Action


def slack_person(name: str, user_id: str, *, workspace: str = "T0001",
                 channel: str | None = "C0HEADS001") -> Caller:
    """A Slack caller with a Slack-shaped user id, so mentions of them parse as Slack's do."""
    return Caller(platform=Platform.SLACK, workspace=workspace, user_id=user_id, user_name=name,
                  channel_id=channel, channel_name="heads" if channel else None)


ANN = slack_person("Ann Smith", "U0ANN00001")  # the lead, for Monkfrith
BEN = slack_person("Ben Day", "U0BEN00001")  # a member, for Danegrove
CY = slack_person("Cy Ng", "U0CY000001")  # in another partnership only
PARTNERSHIP = "East Barnet Area"


async def say(db: Database, command: str, text: str, who: Caller = ANN) -> Outcome:
    return await run_command(db, command, text, who)


async def ok(db: Database, command: str, text: str, who: Caller = ANN) -> Outcome:
    """Run a command that must succeed."""
    outcome = await say(db, command, text, who)
    assert outcome.reply.tone is not Tone.ERROR, outcome.reply.plain_text()
    return outcome


async def set_up_partnerships(db: Database) -> None:
    """East Barnet Area (Ann leads, Ben in it, a linked channel; schools Monkfrith, Danegrove,
    Queenswell) and Hendon Area (Cy, Sunnyfields), in one workspace."""
    await ok(db, "partnership", f"create {PARTNERSHIP}")
    await ok(db, "partnership", f"join {PARTNERSHIP} school: Monkfrith role: headteacher")
    await ok(db, "partnership", f"join {PARTNERSHIP} school: Danegrove", BEN)
    await ok(db, "partnership", f"join {PARTNERSHIP} school: Queenswell", BEN)
    await ok(db, "partnership", f"join {PARTNERSHIP} school: Danegrove", BEN)
    await ok(db, "partnership", f"channel {PARTNERSHIP}")
    await ok(db, "partnership", "create Hendon Area", CY)
    await ok(db, "partnership", "join Hendon Area school: Sunnyfields", CY)


async def count(db: Database, table: type) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def walk_steps(db: Database, walk_id: int | None = None) -> list[Action]:
    """The actions (next steps) of every walk, or of one, in the order they were made."""
    async with db.session() as session:
        query = select(Action).where(col(Action.walk_id).is_not(None))
        if walk_id is not None:
            query = query.where(Action.walk_id == walk_id)
        return list((await session.exec(query.order_by(col(Action.id)))).all())
