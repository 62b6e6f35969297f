"""`/partnership short <partnership> [set: H&H]`: a partnership's short name, which finds it
wherever its name does ("/partnership info H&H")."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.errors import CommandError
from handlers.lookup import find_partnership, require_lead
from handlers.parsing import ParseError, parse_fields
from handlers.replies import Outcome, Reply, Section
from storage import queries
from storage.names import name_key, tidy_name

MAX_SHORT_NAME = 40
_NONE = ("none", "off", "-", "remove", "clear")


@dataclass(frozen=True)
class ShortNameRequest:
    partnership: str
    new: str | None  # None: show it; "": remove it


def parse_short(rest: str, caller: Caller) -> ShortNameRequest:
    example = caller.cmd("partnership short Heath and Hill Partnership set: H&H")
    parsed = parse_fields(rest, ["set"])
    partnership = tidy_name(parsed.positional)
    if not partnership:
        raise ParseError("Please give the partnership's name.", f"Write it like this: {example}")
    new = parsed.fields.get("set")
    if new is None:
        return ShortNameRequest(partnership, None)
    new = tidy_name(new)
    if new.lower() in _NONE:
        return ShortNameRequest(partnership, "")
    if not name_key(new) or len(new) > MAX_SHORT_NAME:
        raise ParseError(f"A short name has letters or digits, at most {MAX_SHORT_NAME} of them.",
                         f"For example {example}")
    return ShortNameRequest(partnership, new)


async def run_short(request: ShortNameRequest, caller: Caller,
                    session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, request.partnership,
                                         example="partnership short {name}")
    if request.new is None:
        if partnership.short_name:
            return Outcome(Reply(title=f"{partnership.name}'s short name is "
                                       f"{partnership.short_name}."))
        return Outcome(Reply(
            title=f"{partnership.name} has no short name yet.",
            sections=[Section(lines=["A lead gives it one with " + caller.cmd(
                f"partnership short {partnership.name} set: <short name>") + "."])]))
    await require_lead(session, caller, partnership, "change its short name")
    if not request.new:
        partnership.short_name = partnership.short_key = None
        session.add(partnership)
        return Outcome(Reply.success(f"{partnership.name} has no short name now."))
    key = name_key(request.new)
    for clash in (await queries.partnership_by_short_key(session, caller.workspace, key),
                  await queries.partnership_by_key(session, caller.workspace, key)):
        if clash is not None and clash.id != partnership.id:
            raise CommandError.because(
                f"“{request.new}” already names {clash.name}.",
                "Choose another short name, so each finds one partnership.")
    partnership.short_name, partnership.short_key = request.new, key
    session.add(partnership)
    return Outcome(Reply.success(
        f"{partnership.name}'s short name is now {request.new}.",
        f"For example {caller.cmd(f'partnership info {request.new}')}."))
