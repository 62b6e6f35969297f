"""Reads of schools for lookups, each on an index: by URN, by name key (and the names merged
away), by the name's own words (`match_key`), and by a word index for "did you mean"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, func, insert, or_, union
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import (
    Member,
    Partnership,
    PartnershipSchool,
    School,
    SchoolAlias,
    SchoolWord,
    school_words,
)
from storage.school_names import COMMON_WORDS, acronym, is_initials

# At most this many schools are scored for a "did you mean" (the scan stops there).
NEAR_LIMIT = 400


async def by_urn(session: AsyncSession, workspace: str, urn: int) -> School | None:
    result = await session.exec(
        select(School).where(School.workspace == workspace, School.urn == urn))
    return result.first()


async def by_urns(session: AsyncSession, workspace: str, urns: Sequence[int]) -> list[School]:
    if not urns:
        return []
    result = await session.exec(select(School).where(
        School.workspace == workspace, col(School.urn).in_(list(urns))).order_by(
        col(School.urn)))
    return list(result.all())


async def by_name_key(session: AsyncSession, workspace: str, key: str) -> list[School]:
    """Schools with this name key, or known by it before a merge or a rename."""
    return await _schools_with_ids(session, key, union(
        select(School.id).where(School.workspace == workspace, School.name_key == key),
        select(SchoolAlias.school_id).where(SchoolAlias.workspace == workspace,
                                            SchoolAlias.name_key == key)))


async def by_core(session: AsyncSession, workspace: str, core: Sequence[str]) -> list[School]:
    """Schools whose own words are the query's, start with them ("cunningham" ->
    "cunningham hill"), or are a start of them ("st marys barnet" -> "st marys"): equalities
    and a range on the (workspace, match_key) index."""
    if not core:
        return []
    text = " ".join(core)
    starts = [" ".join(core[:n]) for n in range(1, len(core) + 1)]
    return await _schools_with_ids(session, None, union(
        select(School.id).where(School.workspace == workspace,
                                col(School.match_key).in_(starts)),
        _capped(select(School.id).where(School.workspace == workspace,
                                        col(School.match_key) >= text + " ",
                                        col(School.match_key) < text + " \uffff"))))


async def near(session: AsyncSession, workspace: str, core: Sequence[str]) -> list[School]:
    """Candidates for "did you mean", from the word index: schools with a word of the query,
    or a word starting with its first three letters (a typo further on), or stored by the
    query's initials. Common words ("St", "Hill") are used only when there is nothing else."""
    if not core:
        return []
    words = [w for w in core if w not in COMMON_WORDS] or list(core)
    by_word: list[ColumnElement[bool]] = [col(SchoolWord.word).in_(words)]
    for stem in {w[:3] for w in words if len(w) >= 4}:
        by_word.append((col(SchoolWord.word) >= stem) & (col(SchoolWord.word) < stem + "\uffff"))
    found = [
        _capped(select(SchoolWord.school_id).where(SchoolWord.workspace == workspace,
                                                   or_(*by_word))),
        # "Queen Elizabeth's Boys" stored by its initials ("QE Boys")...
        select(School.id).where(School.workspace == workspace,
                                School.match_key == acronym(core)),
    ]
    if is_initials(core[0]):  # ...and "QE Boys" stored in full.
        found.append(_capped(select(School.id).where(
            School.workspace == workspace, col(School.match_key) >= core[0][0],
            col(School.match_key) < core[0][0] + "\uffff",
            col(School.match_key).like("% ".join(core[0]) + "%"))))
    return await _schools_with_ids(session, None, union(*found))


def _capped(query: SelectOfScalar[Any]) -> SelectOfScalar[Any]:
    """`query`, at most NEAR_LIMIT rows, as a part of a union (SQLite takes no LIMIT on a part
    itself, only inside a subquery)."""
    capped = query.limit(NEAR_LIMIT).subquery()
    return select(capped.c[0])


async def _schools_with_ids(session: AsyncSession, key: str | None,
                            ids: CompoundSelect[tuple[int | None]]) -> list[School]:
    """The schools whose ids a union of indexed reads gives (one statement; a union rather than
    OR, so that each part keeps its index on PostgreSQL too), those named `key` first."""
    query = select(School).where(col(School.id).in_(ids))
    if key is not None:
        query = query.order_by(col(School.name_key) != key, col(School.id))
    result = await session.exec(query.limit(NEAR_LIMIT))
    return list(result.all())


async def insert_schools(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add many schools at once (an import), with their word index: rows as for `School`, with
    `name_key` and `match_key` given."""
    if not rows:
        return
    connection = await session.connection()
    inserted = await connection.execute(
        insert(School).returning(col(School.id), col(School.workspace), col(School.match_key),
                                 sort_by_parameter_order=True), list(rows))
    words = [w for school_id, workspace, key in inserted.all() if school_id is not None
             for w in school_words(school_id, workspace, key)]
    if words:
        await connection.execute(insert(SchoolWord), words)


async def near_urns(session: AsyncSession, workspace: str, urn: int,
                    limit: int = 3) -> list[School]:
    """Schools whose URN is nearest `urn` (a mistyped digit is usually near): for the reply to
    a URN the register does not have."""
    below = await session.exec(select(School).where(
        School.workspace == workspace, col(School.urn) < urn).order_by(
        col(School.urn).desc()).limit(limit))
    above = await session.exec(select(School).where(
        School.workspace == workspace, col(School.urn) > urn).order_by(
        col(School.urn)).limit(limit))
    nearest = sorted([*below.all(), *above.all()], key=lambda s: abs((s.urn or 0) - urn))
    return nearest[:limit]


async def register_loaded(session: AsyncSession, workspace: str) -> bool:
    """Whether any school here came from the register (has a URN)."""
    result = await session.exec(select(School.id).where(
        School.workspace == workspace, col(School.urn).is_not(None)).limit(1))
    return result.first() is not None


async def partnerships_of(session: AsyncSession,
                          school_ids: Sequence[int]) -> dict[int, list[Partnership]]:
    """The partnerships each school is in, by name."""
    if not school_ids:
        return {}
    result = await session.exec(
        select(PartnershipSchool.school_id, Partnership)
        .join(Partnership, col(Partnership.id) == PartnershipSchool.partnership_id)
        .where(col(PartnershipSchool.school_id).in_(list(school_ids)))
        .order_by(col(Partnership.name)))
    found: dict[int, list[Partnership]] = defaultdict(list)
    for school_id, partnership in result.all():
        found[school_id].append(partnership)
    return found


async def school_ids_of(session: AsyncSession, partnership_id: int) -> set[int]:
    result = await session.exec(select(PartnershipSchool.school_id).where(
        PartnershipSchool.partnership_id == partnership_id))
    return set(result.all())


async def authorities_near(session: AsyncSession, workspace: str, platform: str, user_id: str,
                           partnership_id: int | None) -> set[str]:
    """The local authorities of the caller's schools, or else of the partnership's: the
    caller's own authority, for ranking schools."""
    mine = await session.exec(
        select(School.authority).join(Member, col(Member.school_id) == School.id)
        .join(Partnership, col(Partnership.id) == Member.partnership_id)
        .where(Partnership.workspace == workspace, Member.platform == platform,
               Member.user_id == user_id, col(School.authority).is_not(None)).distinct())
    authorities = {a for a in mine.all() if a}
    if not authorities and partnership_id is not None:
        theirs = await session.exec(
            select(School.authority, func.count()).join(
                PartnershipSchool, col(PartnershipSchool.school_id) == School.id)
            .where(PartnershipSchool.partnership_id == partnership_id,
                   col(School.authority).is_not(None))
            .group_by(col(School.authority)).order_by(func.count().desc()).limit(1))
        authorities = {a for a, _ in theirs.all() if a}
    return authorities
