"""Stand-in core handlers for the platform tests: a form that echoes what was filled in, a
button that changes its own message, a button that opens the form, and a command offering both.
The feature tests (walks, CPD, meetings) use the real ones; these pin the platforms' plumbing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.buttons import ButtonData
from handlers.commands import BUTTONS, FORMS, Access, Command
from handlers.context import Caller
from handlers.forms import FieldErrors, FieldKind, Form, FormField, FormValues
from handlers.replies import Attachment, Button, Outcome, Reply, Section

ECHO_FORM = "test.echo"


@dataclass(frozen=True)
class Press(ButtonData, kind="test.press"):
    choice: str


@dataclass(frozen=True)
class AskForm(ButtonData, kind="test.ask"):
    context: str


@dataclass(frozen=True)
class SendFile(ButtonData, kind="test.file"):
    """A button whose result carries a file for the person who pressed it."""


async def send_file(pressed: SendFile, caller: Caller, session: AsyncSession) -> Outcome:
    return Outcome(Reply.success("Here is your file."),
                   files=[Attachment("notes.csv", b"a,b\n1,2\n", "Your notes", "text/csv")])


async def echo_form(values: FormValues, context: str, caller: Caller,
                    session: AsyncSession) -> Outcome:
    if "school" not in values:
        raise FieldErrors({"school": "Please name the host school."})
    people = values.get("people") or []
    assert isinstance(people, list)
    with_people = f" with {' and '.join(people)}" if people else ""
    on = f" on {values['date']}" if "date" in values else ""
    return Outcome(Reply.success(
        f"Saved {values['school']}{on}{with_people} for {caller.user_name} ({context})"))


async def press(pressed: Press, caller: Caller, session: AsyncSession) -> Outcome:
    return Outcome(Reply.success(f"You chose {pressed.choice}"),
                   updated_message=Reply(title=f"1 chose {pressed.choice}"))


async def ask_form(pressed: AskForm, caller: Caller, session: AsyncSession) -> Outcome:
    form = Form(ECHO_FORM, "Log a walk", [
        FormField("school", "Host school", required=True),
        FormField("date", "Date", FieldKind.DATE),
        FormField("people", "Who came", FieldKind.USERS),
    ], context=pressed.context)
    return Outcome(Reply(title="Fill this in"), form=form)


rsvp = Command("rsvp", "A stand-in command offering buttons", "Stand-in")


@rsvp.subcommand("offer", usage="offer", access=Access.ANYONE, default=True)
async def offer_buttons(request: None, caller: Caller, session: AsyncSession) -> Outcome:
    return Outcome(Reply(title="Coming?", sections=[Section(buttons=[
        Button("Going", Press("going"), "primary"),
        Button("Log it", AskForm("7")),
    ])]))


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Declare the stand-ins for one test."""
    from handlers.dispatch import COMMANDS

    monkeypatch.setitem(FORMS, ECHO_FORM, echo_form)
    monkeypatch.setitem(BUTTONS, Press, press)
    monkeypatch.setitem(BUTTONS, AskForm, ask_form)
    monkeypatch.setitem(BUTTONS, SendFile, send_file)
    monkeypatch.setitem(COMMANDS, "rsvp", rsvp)
