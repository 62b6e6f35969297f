"""One entry point per kind of input, for every chat platform: commands (name and text), form
submissions and button actions in; outcomes out. Each runs in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

# home, privacy and web are imported for the buttons they declare (handlers.commands.button).
from handlers import (  # noqa: F401
    cpd,
    digest,
    home,
    meetings,
    minutes,
    nudges,
    partnership,
    privacy,
    walk,
    web,
)
from handlers.buttons import ButtonData, StaleButton, decode
from handlers.commands import BUTTONS, FORMS, Command, RunCommand, button
from handlers.context import Caller
from handlers.errors import CommandError
from handlers.forms import FieldErrors, FormValues
from handlers.parsing import ParseError
from handlers.replies import Attachment, ChannelPost, Outcome, Reply, Section, Skip
from handlers.reply_codec import QUEUED_POST_KIND, render_queued
from storage import dedupe
from storage.db import UNAVAILABLE, Database, NoTimeLeft, value_out_of_range, wrote

log = logging.getLogger(__name__)

# (payload, due_at, now, session) -> the message a due delivery posts (a Reply, or a ChannelPost
# to share a file with it), a Skip when there is nothing worth sending this time, or None when it
# is no longer wanted; the outbox (bot/scheduler.py) calls it when the delivery falls due.
ScheduledRenderer = Callable[[dict[str, Any], datetime, datetime, AsyncSession],
                             Awaitable[Reply | ChannelPost | Skip | None]]
# (session, now) -> how many deliveries it queued: run by every process every few minutes to queue
# recurring deliveries (the weekly digest); safe to run in several processes at once.
Planner = Callable[[AsyncSession, datetime], Awaitable[int]]

# The commands, in the order help lists them.
COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (partnership.partnership, walk.walk, cpd.cpd, meetings.meeting)
}
SCHEDULED: dict[str, ScheduledRenderer] = {
    meetings.REMINDER_KIND: meetings.render_reminder,
    meetings.AGENDA_KIND: meetings.render_agenda_reminder,
    digest.DIGEST_KIND: digest.render_scheduled,
    nudges.NUDGE_KIND: nudges.render_nudge,
    nudges.UNOWNED_KIND: nudges.render_unowned,
    QUEUED_POST_KIND: render_queued,
}
PLANNERS: list[Planner] = [digest.plan_due, nudges.plan_due]


def command_names() -> list[str]:
    return sorted(COMMANDS)


@button(RunCommand)
async def run_chosen(pressed: RunCommand, caller: Caller, session: AsyncSession) -> Outcome:
    """A reading chosen by button: the command runs as if typed, in the press's transaction."""
    found = COMMANDS.get(pressed.command)
    if found is None:
        return Outcome(out_of_date(caller))
    return await found.run(pressed.text, caller, session)


@dataclass
class FormSubmission:
    """A good submission's outcome, or the errors to show beside the fields."""

    outcome: Outcome | None = None
    errors: dict[str, str] = field(default_factory=dict)


async def run_command(db: Database, command: str, text: str, caller: Caller,
                      request_id: str | None = None) -> Outcome:
    """Run one command in one transaction: it is saved whole or not at all. With the platform's
    `request_id`, a retry or replay of a command that already ran is not run again."""
    name = command.strip().lstrip("/").lower()
    found = COMMANDS.get(name)
    if found is None:
        return Outcome(Reply.error(
            f"I don't know the command `{command}`.",
            "I know " + ", ".join(caller.cmd(c) for c in command_names())
            + f". Try {caller.cmd('partnership help')}.",
        ))
    return await _guarded(db, f"/{name}", lambda session: found.run(text, caller, session),
                          request_id=request_id)


async def submit_form(
    db: Database, form_id: str, values: FormValues, context: str, caller: Caller,
    request_id: str | None = None,
) -> FormSubmission:
    handler = FORMS.get(form_id)
    if handler is None:
        log.warning("submission for unknown form %s", form_id)
        return FormSubmission(Outcome(Reply.error(
            "That form is out of date.", "Please start again from the command.")))
    try:
        outcome = await _guarded(db, f"form {form_id}",
                                 lambda session: handler(values, context, caller, session),
                                 reraise=(FieldErrors,), request_id=request_id)
    except FieldErrors as problems:
        return FormSubmission(errors=problems.errors)
    return FormSubmission(outcome)


async def run_action(db: Database, route: str, value: object, caller: Caller,
                     request_id: str | None = None) -> Outcome:
    """A pressed button: `value` is what it carried back (handlers/buttons.py), `route` the
    id the platform sent with it."""
    try:
        pressed = decode(value, route)
    except StaleButton:
        log.info("a button that is out of date: %s", route[:60])
        return Outcome(out_of_date(caller))
    handler = BUTTONS.get(type(pressed))
    if handler is None:
        log.warning("no handler for the button %s", pressed.kind)
        return Outcome(out_of_date(caller))
    return await _guarded(db, f"button {pressed.kind}",
                          lambda session: handler(pressed, caller, session),
                          request_id=request_id)


async def run_button(db: Database, pressed: ButtonData, caller: Caller,
                     request_id: str | None = None) -> Outcome:
    """Press a button whose payload is at hand (the shell, tests): as the platforms do."""
    return await run_action(db, pressed.kind, pressed.pack(), caller, request_id)


def out_of_date(caller: Caller) -> Reply:
    """The one answer to a button today's code cannot read: an old message's, or a forgery."""
    return Reply.error("That button is out of date.",
                       f"Please use the command again; {caller.cmd('partnership help')} lists "
                       "them all.")


async def app_home(db: Database, caller: Caller) -> Reply:
    """The caller's App Home: their partnerships' week at a glance (read-only)."""
    outcome = await _guarded(db, "app home",
                             lambda session: home.build(caller, session))
    return outcome.reply


async def files_by_link(db: Database, caller: Caller, files: list[Attachment]) -> Outcome:
    """Files for the caller alone as private links, for platforms that cannot send a person a
    file: the reply carries a link button for each."""
    return await _guarded(db, "files by link",
                          lambda session: web.personal_files(files, caller, session))


async def _seen(db: Database, request_id: str) -> bool:
    try:
        return await dedupe.seen(db, request_id)
    except UNAVAILABLE:
        return False


def already_done() -> Outcome:
    """The answer to a request the platform sent again after it had run (a retry, a replay)."""
    return Outcome(Reply(title="Already done.", sections=[Section(lines=[
        "I had this request already and did it once, so nothing was repeated."])]),
        repeated=True)


class _Repeated(Exception):
    """The platform sent this request before and it already ran."""


async def _guarded(
    db: Database,
    what: str,
    work: Callable[[AsyncSession], Awaitable[Outcome]],
    reraise: tuple[type[Exception], ...] = (),
    request_id: str | None = None,
) -> Outcome:
    """Run `work` in one transaction, turning every failure into a polite reply. A database
    that does not answer within the command deadline is a failure too (storage/db.py)."""

    async def unit_of_work() -> Outcome:
        async with db.session() as session:
            outcome = await work(session)
            # Only work that writes needs remembering: reading twice is harmless. The claim is
            # in the same transaction, so a repeat that loses it rolls its writes back.
            if request_id is not None and wrote(session) and not await dedupe.claim(
                session, request_id
            ):
                raise _Repeated
            return outcome

    try:
        return await db.within(unit_of_work)
    except _Repeated:
        log.info("skipped a repeated request in %s", what)
        return already_done()
    except reraise:
        raise
    except ParseError as error:
        return Outcome(Reply.error(error.problem, *error.hints))
    except CommandError as error:
        return Outcome(error.reply)
    except IntegrityError:
        if request_id is not None and await _seen(db, request_id):
            # The same request running alongside its retry: the other copy did the work, and
            # this one tripped on what it wrote before reaching the claim.
            log.info("skipped a repeated request in %s (it ran alongside)", what)
            return already_done()
        # Two people made the same change at the same moment; the other one won.
        log.warning("integrity conflict in %s", what)
        return Outcome(Reply.error(
            "Someone else changed the same thing at the same moment, so I saved nothing.",
            "Please look again and repeat your command if it is still needed.",
        ))
    except NoTimeLeft:
        log.warning("no time left to run %s: it waited out its deadline for a turn", what)
        return Outcome(Reply.error("I'm too busy just now, so nothing was saved.",
                                   "Please try again shortly."))
    except UNAVAILABLE as error:
        if value_out_of_range(error):
            log.warning("a value out of range in %s", what)
            return Outcome(Reply.error(
                "Something in that is out of range (a number far too big, perhaps), so I "
                "saved nothing.", "Please check it and try again."))
        # Never the statement or its parameters: they may hold notes about staff.
        log.error("database unavailable in %s (%s)", what, type(error).__name__)
        return Outcome(Reply.error(
            "I can't reach my database just now, so nothing was saved.",
            "Please try again shortly.",
        ))
    except Exception:
        log.exception("unexpected error in %s", what)
        return Outcome(Reply.error(
            "Something went wrong on my side, so nothing was saved.",
            "Please try again; if it keeps happening, tell whoever runs this bot.",
        ))
