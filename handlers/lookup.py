"""Turning names typed in chat into rows, with "did you mean" and "which one?" when unsure."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.errors import CommandError
from handlers.names import match_name, name_key
from storage import queries
from storage.models import AccessRole, Member, Partnership, School


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
    exact = await queries.partnership_by_key(session, caller.workspace, name_key(query))
    if exact is not None:
        return exact
    everything = await queries.partnerships_in(session, caller.workspace)
    match = match_name(query, everything, lambda p: p.name)
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
    """The school with this name, or None and the close names we know (for "did you mean").

    Raises when the name fits several schools equally well."""
    exact = await queries.school_by_key(session, caller.workspace, name_key(query))
    if exact is not None:
        return exact, []
    everything = await queries.schools_in(session, caller.workspace)
    match = match_name(query, everything, lambda s: s.name)
    if match.found is not None:
        return match.found, []
    if match.ambiguous:
        raise CommandError.because(
            f"“{query}” could be {len(match.ambiguous)} schools: "
            f"{quoted_list([s.name for s in match.ambiguous[:10]])}.",
            "Give the school's full name.",
        )
    return None, list(match.suggestions)


async def membership(
    session: AsyncSession, caller: Caller, partnership: Partnership
) -> Member | None:
    """The one rule for who may see and do a partnership's business, in chat and on the web
    pages alike: a member of it, on the same platform, in its own workspace. None otherwise."""
    assert partnership.id is not None
    if partnership.workspace != caller.workspace:
        return None
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
