"""The one membership rule (handlers/lookup.py) within one unit of work: the membership read
with the partnership is reused, but one added or deleted since is read again, and it holds
only in the partnership's own workspace, for the same person on the same platform."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import select

from handlers.context import Platform
from handlers.lookup import find_partnership, membership
from storage.db import Database
from storage.models import Member
from tests.support.learning import ANN, BEN, CY, PARTNERSHIP, set_up_partnerships


async def test_a_membership_deleted_or_added_in_the_same_unit_of_work_is_seen(
    db: Database,
) -> None:
    await set_up_partnerships(db)
    async with db.session() as session:
        partnership = await find_partnership(session, BEN, PARTNERSHIP)  # remembers Ben's
        found = await membership(session, BEN, partnership)
        assert found is not None and found.user_id == BEN.user_id
        await session.delete(found)  # Ben leaves, in this same unit of work
        assert await membership(session, BEN, partnership) is None
        await session.rollback()
    async with db.session() as session:
        partnership = await find_partnership(session, CY, PARTNERSHIP)  # remembers: not one
        assert await membership(session, CY, partnership) is None
        assert partnership.id is not None
        session.add(Member(partnership_id=partnership.id, platform=CY.platform,
                           user_id=CY.user_id, display_name=CY.user_name))
        joined = await membership(session, CY, partnership)  # Cy joined meanwhile
        assert joined is not None and joined.user_id == CY.user_id
        # Someone else's joining does not make Ann's remembered membership unknown.
        assert await membership(session, ANN, partnership) is not None


async def test_membership_holds_only_for_the_same_person_platform_and_workspace(
    db: Database,
) -> None:
    await set_up_partnerships(db)
    async with db.session() as session:
        partnership = await find_partnership(session, ANN, PARTNERSHIP)
        assert await membership(session, ANN, partnership) is not None
        assert await membership(session, replace(ANN, workspace="T0OTHER"), partnership) is None
        assert await membership(session, replace(ANN, user_id="U0ANN00002"), partnership) is None
        teams_ann = replace(ANN, platform=Platform.TEAMS)
        assert await membership(session, teams_ann, partnership) is None
        members = (await session.exec(select(Member))).all()
        assert len(members) == 3  # Ann and Ben here, Cy in Hendon Area: nothing was added
