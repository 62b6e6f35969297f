"""Each person's personal chat with the bot, where a platform needs an address to write to
someone privately (Teams: a conversation reference, kept from the last thing they sent there).
Slack needs none: a direct message goes to the user id itself."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PersonalChat
from storage.types import utcnow


async def remember(session: AsyncSession, workspace: str, platform: str, user_id: str,
                   conversation_ref: str) -> None:
    """Keep (or bring up to date) the person's personal-chat reference, in the caller's
    transaction: one INSERT … ON CONFLICT DO UPDATE, so two activities at once are both fine.
    Nothing is written when it is already the same."""
    known = await reference_of(session, workspace, platform, user_id)
    if known == conversation_ref:
        return
    table = PersonalChat
    insert_for = (postgresql_insert if session.get_bind().dialect.name == "postgresql"
                  else sqlite_insert)
    now = utcnow()
    statement = insert_for(table).values(
        workspace=workspace, platform=platform, user_id=user_id,
        conversation_ref=conversation_ref, updated_at=now)
    await session.exec(statement.on_conflict_do_update(
        index_elements=[col(table.workspace), col(table.platform), col(table.user_id)],
        set_={"conversation_ref": conversation_ref, "updated_at": now}))


async def reference_of(session: AsyncSession, workspace: str, platform: str,
                       user_id: str) -> str | None:
    """The stored reference of the person's personal chat; None if they never wrote there."""
    found = await session.exec(select(PersonalChat.conversation_ref).where(
        PersonalChat.workspace == workspace, PersonalChat.platform == platform,
        PersonalChat.user_id == user_id))
    return found.first()
