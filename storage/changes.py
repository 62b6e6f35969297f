"""The audit trail of logged records: every edit and deletion of a walk or CPD session, with
who made it and when (storage.models.RecordChange)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ChangeAction, RecordChange


def add(session: AsyncSession, *, partnership_id: int, kind: str, record_id: int,
        action: ChangeAction, changes: Mapping[str, object], platform: str, user_id: str,
        name: str) -> None:
    """Note a change in the session's transaction: it is kept only if the change is."""
    session.add(RecordChange(
        partnership_id=partnership_id, record_kind=kind, record_id=record_id,
        action=action.value, changes=json.dumps(changes, ensure_ascii=False), platform=platform,
        by_user_id=user_id, by_name=name))


async def history(session: AsyncSession, kind: str, record_id: int) -> Sequence[RecordChange]:
    """A record's changes, oldest first."""
    result = await session.exec(
        select(RecordChange).where(RecordChange.record_kind == kind,
                                   RecordChange.record_id == record_id)
        .order_by(col(RecordChange.id)))
    return result.all()
