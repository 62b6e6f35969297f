"""Turning names typed in chat into rows, with "did you mean" and "which one?" when unsure."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.errors import CommandError
from handlers.names import match_name
from handlers.schools import ambiguity_error, look_up_school
from storage import queries
from storage.models import AccessRole, Member, Partnership, School
from storage.names import name_key


def quoted_list(names: list[str]) -> str:
    return ", ".join(f"“{n}”" for n in names)


async def find_partnership(
    session: AsyncSession, caller: Caller, query: str, example: str = "partnership info {name}"
) -> Partnership:
    """The partnership `query` names. `example` is the command to suggest, with {name} in it."""
    query = query.strip()
    if not query:
        raise CommandError.because(
            "Which partnership? Give its name.",
            f"For example {caller.cmd('partnership info East Barnet Area')}; "
            f"{caller.cmd('partnership list')} shows them all.",
        )
    key = name_key(query)
    exact = await queries.partnership_and_membership(session, caller.workspace, key,
                                                     caller.platform, caller.user_id)
    if exact is not None:
        partnership, membership = exact
        _remember_membership(session, caller, partnership, membership)
        return partnership
    short = await queries.partnership_by_short_key(session, caller.workspace, key)
    if short is not None:
        return short
    everything = await queries.partnerships_in(session, caller.workspace)
    match = match_name(query, everything, lambda p: p.name,
                       lambda p: [p.short_name] if p.short_name else [])
    if match.found is not None:
        return match.found
    if match.ambiguous:
        names = [p.name for p in match.ambiguous]
        raise CommandError.because(
            f"“{query}” could be {len(names)} partnerships: {quoted_list(names[:10])}"
            + (f" and {len(names) - 10} more." if len(names) > 10 else "."),
            "Type a little more of the name, for example "
            f"{caller.cmd(example.format(name=names[0]))}.",
        )
    if match.suggestions:
        best = match.suggestions[0].name
        raise CommandError.because(
            f"I can't find a partnership called “{query}”. "
            f"Did you mean {quoted_list([p.name for p in match.suggestions])}?",
            f"For example {caller.cmd(example.format(name=best))}.",
        )
    raise CommandError.because(
        f"I can't find a partnership called “{query}”.",
        f"{caller.cmd('partnership list')} shows every partnership; "
        f"{caller.cmd('partnership create ' + query)} starts a new one.",
    )


async def find_school(
    session: AsyncSession, caller: Caller, query: str
) -> tuple[School | None, list[School]]:
    """The school with this name (or URN), or None and the close names we know (for "did you
    mean"). Raises when the name fits several schools equally well."""
    lookup = await look_up_school(session, caller, query)
    if lookup.ambiguous:
        raise ambiguity_error(lookup, caller, "walk list school: {school}")
    return lookup.found, list(lookup.suggestions)


_MEMBERSHIPS = "memberships"


def _remember_membership(session: AsyncSession, caller: Caller, partnership: Partnership,
                         membership: Member | None) -> None:
    """Keep the membership read with the partnership, for `require_member` in the same unit of
    work: most commands find a partnership and then check the caller belongs to it."""
    known = session.info.setdefault(_MEMBERSHIPS, {})
    known[(partnership.id, caller.platform, caller.user_id)] = membership


def _known_membership(session: AsyncSession, caller: Caller,
                      partnership: Partnership) -> tuple[bool, Member | None]:
    """(True, the membership) when it was read earlier in this unit of work and has not changed
    since (a membership added or deleted meanwhile is read again)."""
    key = (partnership.id, caller.platform, caller.user_id)
    known: dict[tuple[int | None, str, str], Member | None] = session.info.get(_MEMBERSHIPS, {})
    if key not in known:
        return False, None
    membership = known[key]
    sync = session.sync_session
    if membership is not None:
        return membership not in sync.deleted, membership
    added = any(isinstance(o, Member) and (o.partnership_id, o.platform, o.user_id) == key
                for o in sync.new)
    return not added, None


async def membership(
    session: AsyncSession, caller: Caller, partnership: Partnership
) -> Member | None:
    """The one rule for who may see and do a partnership's business, in chat and on the web
    pages alike: a member of it, on the same platform, in its own workspace. None otherwise."""
    assert partnership.id is not None
    if partnership.workspace != caller.workspace:
        return None
    known, found = _known_membership(session, caller, partnership)
    if known:
        return found
    return await queries.member(session, partnership.id, caller.platform, caller.user_id)


async def require_member(
    session: AsyncSession, caller: Caller, partnership: Partnership
) -> Member:
    found = await membership(session, caller, partnership)
    if found is None:
        raise CommandError.because(
            f"Only members of {partnership.name} can do that, and you are not one yet.",
            f"Join on behalf of your school with "
            f"{caller.cmd(f'partnership join {partnership.name} school: <your school>')}.",
        )
    return found


async def require_lead(
    session: AsyncSession, caller: Caller, partnership: Partnership, doing: str
) -> Member:
    """The caller's membership if they lead `partnership`; otherwise a refusal naming the leads.

    `doing` completes "Only a lead of X can …", e.g. "link a channel"."""
    found = await require_member(session, caller, partnership)
    if found.access_role == AccessRole.LEAD:
        return found
    assert partnership.id is not None
    leads = [m.display_name for m, _ in await queries.members_of(session, partnership.id)
             if m.access_role == AccessRole.LEAD]
    who = f"Ask {' or '.join(leads)}." if leads else "It has no lead at the moment."
    raise CommandError.because(f"Only a lead of {partnership.name} can {doing}.", who)
