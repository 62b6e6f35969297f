"""Personal data rights from chat: see what is held about you, erase it, and how long walk
notes are kept. `/partnership mydata`, `/partnership forget me`, `/partnership retention`."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import nudges
from handlers.buttons import ButtonData
from handlers.commands import button
from handlers.context import Caller
from handlers.errors import CommandError
from handlers.lookup import find_partnership, require_lead, require_member
from handlers.parsing import ParseError
from handlers.replies import Attachment, Button, Outcome, Reply, Section, Tone
from storage import personal_data
from storage import retention as retention_store
from storage.models import DEFAULT_NOTES_RETENTION_DAYS, Partnership
from storage.personal_data import Person, Record
from storage.types import LONDON

# How long the "Erase my data" button stays good for.
CONFIRM_WITHIN = timedelta(minutes=15)
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 30, 3650


@dataclass(frozen=True)
class ForgetAnswer(ButtonData, kind="privacy.forget"):
    """"Erase my data" (for the person who asked, when they asked) or "Keep it"."""

    erase: bool
    user_id: str = ""
    issued: int = 0  # when it was asked, in seconds since 1970


@dataclass(frozen=True)
class ForgetRequest:
    confirmed: bool  # typed "forget me confirm" (where there are no buttons, as in the shell)


@dataclass(frozen=True)
class RetentionRequest:
    partnership: str
    days: int | None  # None: show it
    confirmed: bool = False  # typed `confirm`: shortening may remove notes


@dataclass(frozen=True)
class ConfirmRetention(ButtonData, kind="privacy.retention"):
    """"Remove them" after a lead is told how many walks' notes a shorter period removes."""

    partnership_id: int
    days: int
    user_id: str
    issued: int  # when it was asked, in seconds since 1970


def parse_forget(rest: str, caller: Caller) -> ForgetRequest:
    words = rest.lower().split()
    if words[:1] != ["me"] or words[1:] not in ([], ["confirm"]):
        raise ParseError("To erase what I hold about you, say `forget me`.",
                         f"Write it like this: {caller.cmd('partnership forget me')}")
    return ForgetRequest(confirmed=words[1:] == ["confirm"])


_PERIOD = re.compile(r"^(\d{1,4})\s*(day|days|week|weeks|month|months|year|years)$")
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def parse_period(text: str, caller: Caller, partnership: str) -> int:
    """"2 years", "18 months", "400 days" as days."""
    match = _PERIOD.match(" ".join(text.lower().split()))
    example = caller.cmd(f"partnership retention {partnership} notes: 2 years")
    if not match:
        raise ParseError(f"“{text}” is not a period I can read.",
                         f"Give a number and days, weeks, months or years: {example}")
    days = int(match[1]) * _UNIT_DAYS[match[2].rstrip("s")]
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise ParseError("Walk notes are kept between 30 days and 10 years.",
                         f"For example {example}")
    return days


def _person(caller: Caller) -> Person:
    return Person(caller.workspace, caller.platform.value, caller.user_id)


def _describe(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return f"{years} year{'s' if years != 1 else ''}"
    if days % 30 == 0:
        return f"{days // 30} months"
    return f"{days} days"


def export_files(caller: Caller, records: list[Record]) -> list[Attachment]:
    """The export as JSON (complete, structured) and CSV (for a spreadsheet)."""
    stem = f"partnership-bot-my-data-{caller.now:%Y-%m-%d}"
    document = {
        "exported_at": caller.now.isoformat(),
        "workspace": caller.workspace,
        "platform": caller.platform.value,
        "user_id": caller.user_id,
        "records": [{"kind": r.kind, **r.fields} for r in records],
    }
    columns = ["kind", *dict.fromkeys(k for r in records for k in r.fields)]
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    for record in records:
        writer.writerow({"kind": record.kind, **record.fields})
    return [
        Attachment(f"{stem}.json", json.dumps(document, indent=2, ensure_ascii=False).encode(),
                   "Your data (JSON)", "application/json"),
        Attachment(f"{stem}.csv", table.getvalue().encode(), "Your data (CSV)", "text/csv"),
    ]


def _counts(records: list[Record]) -> list[str]:
    kinds: dict[str, int] = {}
    for record in records:
        kinds[record.kind] = kinds.get(record.kind, 0) + 1
    return [f"{kind}: {n}" for kind, n in kinds.items()]


async def my_data(request: None, caller: Caller, session: AsyncSession) -> Outcome:
    records = await personal_data.export(session, _person(caller))
    if not records:
        return Outcome(Reply(title="I hold nothing about you in this workspace."))
    return Outcome(
        Reply(title=f"Here is everything I hold about you: {len(records)} "
                    f"record{'s' if len(records) != 1 else ''}.",
              sections=[Section(lines=_counts(records)),
                        Section(lines=["For you alone, as JSON and CSV files. "
                                       f"{caller.cmd('partnership forget me')} erases it."])]),
        files=export_files(caller, records),
    )


async def forget_me(request: ForgetRequest, caller: Caller, session: AsyncSession) -> Outcome:
    if request.confirmed:
        return await _erase(caller, session)
    records = await personal_data.export(session, _person(caller))
    if not records:
        return Outcome(Reply(title="I hold nothing about you in this workspace."))
    issued = int(caller.now.timestamp())
    return Outcome(Reply(
        title="Erase what I hold about you? This cannot be undone.",
        tone=Tone.WARNING,
        sections=[
            Section(lines=_counts(records)),
            Section(lines=[
                "You will leave your partnerships. Walks and CPD sessions stay, so each "
                "partnership's counts still add up, but your name and account are taken off them.",
                f"No buttons here? Type {caller.cmd('partnership forget me confirm')}.",
            ], buttons=[
                Button("Erase my data", ForgetAnswer(True, caller.user_id, issued), "danger"),
                Button("Keep it", ForgetAnswer(False)),
            ]),
        ],
    ))


@button(ForgetAnswer)
async def confirm_forget(answer: ForgetAnswer, caller: Caller,
                         session: AsyncSession) -> Outcome:
    """The "Erase my data" / "Keep it" buttons."""
    if not answer.erase:
        return Outcome(Reply(title="Nothing was erased."),
                       updated_message=Reply(title="Kept: nothing was erased."))
    ask_again = caller.cmd("partnership forget me")
    if answer.user_id != caller.user_id:
        raise CommandError.because("This button is for the person who asked to be forgotten.",
                                   f"To erase your own data, use {ask_again}.")
    if caller.now.timestamp() - answer.issued > CONFIRM_WITHIN.total_seconds():
        raise CommandError.because("That confirmation has expired, so nothing was erased.",
                                   f"Ask again with {ask_again}.")
    outcome = await _erase(caller, session)
    outcome.updated_message = Reply(title="Erased, as asked.")
    return outcome


async def _erase(caller: Caller, session: AsyncSession) -> Outcome:
    # Their open actions lose their owner: each partnership's leads are told, privately.
    left = await personal_data.open_actions_left_without_owner(session, _person(caller))
    changed = await personal_data.erase(session, _person(caller))
    if left:
        await nudges.tell_leads_of_unowned(session, caller.now, left,
                                           (caller.platform, caller.user_id))
    told = ([f"{len(left)} open action{'s' if len(left) != 1 else ''} you owned "
             f"{'have' if len(left) != 1 else 'has'} no owner now: the partnership's leads "
             "were told, so they can give each to someone else."] if left else [])
    return Outcome(Reply.success(
        "Done: I have erased what I held about you.",
        f"{changed} record{'s' if changed != 1 else ''} changed. You are no longer in any "
        "partnership here; join again any time.", *told,
    ))


async def retention(request: RetentionRequest, caller: Caller,
                    session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, request.partnership,
                                         example="partnership retention {name}")
    if request.days is None:
        await require_member(session, caller, partnership)
        default = (" (the default)" if partnership.notes_retention_days
                   == DEFAULT_NOTES_RETENTION_DAYS else "")
        return Outcome(Reply(
            title=f"{partnership.name} keeps learning walk notes for "
                  f"{_describe(partnership.notes_retention_days)}{default}.",
            sections=[Section(lines=[
                "After that a daily job removes what was seen, the next steps and who walked; "
                "the date, school and focus stay for the partnership's counts.",
                "Leads change it with "
                + caller.cmd(f"partnership retention {partnership.name} notes: 18 months") + ".",
            ])]))
    await require_lead(session, caller, partnership, "change how long notes are kept")
    assert partnership.id is not None
    if request.days < partnership.notes_retention_days and not request.confirmed:
        cutoff = caller.now.astimezone(LONDON).date() - timedelta(days=request.days)
        doomed = await retention_store.notes_older_than(session, partnership.id, cutoff)
        if doomed:
            return _ask_to_shorten(partnership, request.days, doomed, caller)
    return _set_retention(partnership, request.days, session)


def _ask_to_shorten(partnership: Partnership, days: int, doomed: int, caller: Caller) -> Outcome:
    assert partnership.id is not None
    walks = f"{doomed} walk{'s' if doomed != 1 else ''}"
    typed = caller.cmd(f"partnership retention {partnership.name} notes: {_describe(days)} "
                       "confirm")
    return Outcome(Reply(
        title=f"Keeping notes for {_describe(days)} removes the notes of {walks} at the next "
              "daily clean-up. Go ahead?", tone=Tone.WARNING,
        sections=[Section(lines=[
            "What was seen, the next steps and who walked go for good; the dates, schools and "
            "focuses stay for the partnership's counts. Nothing changes until you confirm.",
            f"No buttons here? Type {typed}.",
        ], buttons=[Button("Remove them", ConfirmRetention(
            partnership.id, days, caller.user_id, int(caller.now.timestamp())), "danger")])]))


def _set_retention(partnership: Partnership, days: int, session: AsyncSession) -> Outcome:
    partnership.notes_retention_days = days
    session.add(partnership)
    return Outcome(Reply.success(
        f"{partnership.name} now keeps learning walk notes for {_describe(days)}.",
        "Older notes are removed at the next daily clean-up."))


@button(ConfirmRetention)
async def confirm_retention(pressed: ConfirmRetention, caller: Caller,
                            session: AsyncSession) -> Outcome:
    partnership = await session.get(Partnership, pressed.partnership_id)
    if partnership is None or partnership.workspace != caller.workspace:
        raise CommandError.because("That partnership is no longer here.",
                                   f"{caller.cmd('partnership list')} shows them.")
    again = caller.cmd(f"partnership retention {partnership.name} notes: "
                       f"{_describe(pressed.days)}")
    if pressed.user_id != caller.user_id:
        raise CommandError.because("This button is for the lead who asked.",
                                   f"To change it yourself, use {again}.")
    if caller.now.timestamp() - pressed.issued > CONFIRM_WITHIN.total_seconds():
        raise CommandError.because("That confirmation has expired, so nothing changed.",
                                   f"Ask again with {again}.")
    await require_lead(session, caller, partnership, "change how long notes are kept")
    outcome = _set_retention(partnership, pressed.days, session)
    outcome.updated_message = Reply(title=f"Confirmed: notes are kept for "
                                          f"{_describe(pressed.days)}.")
    return outcome
