"""Commands declared once: each subcommand's names, parse, handler, help and who may run it.

Like errbot's `@botcmd`, a subcommand is declared on the function that handles it:

    walk = Command("walk", "Log learning walks, list them and follow up their next steps", ...)

    @walk.subcommand("done", "close", usage="done <n>", access=Access.MEMBER,
                     parse=parse_walk_number, help=[("walk done 12", "its next steps are done")])
    async def close_next_steps(request: WalkNumber, caller, session) -> Outcome: ...

From the declarations come the help reply, the dispatch, the "unknown subcommand" refusal and
the Slack manifest's usage hint (a test compares it with manifest.yml). Forms and buttons are
declared the same way, on the function that handles their submission or press.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.buttons import ButtonData
from handlers.context import Caller
from handlers.forms import FormValues
from handlers.parsing import ParseError, split_subcommand
from handlers.replies import Button, Outcome, Reply, Section

R = TypeVar("R")
B = TypeVar("B", bound=ButtonData)

# Text for a person, as a constant or made for the caller (commands shown as they type them).
Text = str | Callable[[Caller], str]
Handler = Callable[[R, Caller, AsyncSession], Awaitable[Outcome]]
# (values, the form's round-tripped context, caller, session)
FormHandler = Callable[[FormValues, str, Caller, AsyncSession], Awaitable[Outcome]]
ButtonHandler = Callable[[B, Caller, AsyncSession], Awaitable[Outcome]]


class Access(StrEnum):
    """Who may run a subcommand; the handler enforces it, the access tests hold it to this."""

    ANYONE = "anyone"  # reads nothing private: help, listing names, creating, joining
    SELF = "self"  # only the caller's own data: their export, forgetting them
    MEMBER = "member"  # a partnership's records: its members only
    LEAD = "lead"  # a partnership's settings: its leads only (members may look)


def text_for(text: Text, caller: Caller) -> str:
    return text if isinstance(text, str) else text(caller)


@dataclass(frozen=True)
class HelpLine:
    """One line of help: a command to try, as typed without its slash, and what it does."""

    example: Text
    says: Text = ""

    def render(self, caller: Caller) -> str:
        says = text_for(self.says, caller)
        example = text_for(self.example, caller)
        if not example:  # a note about the subcommand rather than an example
            return says
        return f"{caller.cmd(example)}: {says}" if says else caller.cmd(example)


@dataclass(frozen=True)
class Subcommand:
    command: str
    names: tuple[str, ...]  # the first is its name; the rest are aliases
    usage: str  # its syntax for the usage hint: "done <n>"
    access: Access
    parse: Callable[[str, Caller], Any]
    handle: Handler[Any]
    help: tuple[HelpLine, ...]
    group: str | None  # the help section it is listed under

    @property
    def name(self) -> str:
        return self.names[0]



def _no_arguments(rest: str, caller: Caller) -> None:
    return None


HelpSpec = Sequence[tuple[Text, Text] | HelpLine]


class Command:
    """A slash command (`/walk`) or, in Teams, a command word: its subcommands, in the order
    their help lists them."""

    def __init__(self, name: str, description: str, help_title: str, *,
                 notes: Callable[[Caller], list[str]] | None = None) -> None:
        self.name = name
        self.description = description  # the manifest's one-line description
        self.help_title = help_title
        self.notes = notes
        self.subcommands: list[Subcommand] = []
        self._by_name: dict[str, Subcommand] = {}
        # What an empty command means: its help, or (e.g. `/walk`) a subcommand's form.
        self.default: str = "help"
        # A command that starts with a field rather than a subcommand ("/walk P school: …").
        self._implicit: tuple[str, Callable[[str], bool]] | None = None
        # The help's lines in order, under their section headings.
        self._help: list[tuple[str | None, HelpLine]] = []

    def subcommand(
        self, *names: str, usage: str, access: Access,
        parse: Callable[[str, Caller], R] | None = None,
        help: HelpSpec = (), group: str | None = None, default: bool = False,
        implicit_when: Callable[[str], bool] | None = None,
    ) -> Callable[[Handler[R]], Handler[R]]:
        """Declare the decorated function as the handler of subcommand `names[0]` (and its
        aliases). `parse` turns the text after the subcommand into the handler's request (by
        default, no request: the subcommand takes nothing). `help` lines are (example as
        typed, what it does); none keeps it out of the help. `default`: also what the bare
        command runs. `implicit_when(text)`: also run when the text starts with no subcommand
        but this test holds (the whole text is then its input)."""
        reader = parse or _no_arguments

        def declare(handler: Handler[R]) -> Handler[R]:
            lines = tuple(h if isinstance(h, HelpLine) else HelpLine(*h) for h in help)
            sub = Subcommand(self.name, tuple(names), usage, access, reader, handler, lines,
                             group)
            for name in names:
                if name in self._by_name or name in HELP_WORDS:
                    raise ValueError(f"/{self.name} {name} is declared twice")
                self._by_name[name] = sub
            self.subcommands.append(sub)
            self._help.extend((group, line) for line in lines)
            if default:
                self.default = sub.name
            if implicit_when is not None:
                self._implicit = (sub.name, implicit_when)
            return handler

        return declare

    def see_also(self, group: str, help: HelpSpec) -> None:
        """Help lines that are not this command's own subcommands (pointers to others)."""
        self._help.extend((group, h if isinstance(h, HelpLine) else HelpLine(*h)) for h in help)

    def find(self, name: str) -> Subcommand | None:
        return self._by_name.get(name)

    def read(self, text: str, caller: Caller) -> tuple[Subcommand, Any] | None:
        """The subcommand `text` asks for and its typed request; None when it asks for help.
        ParseError, saying how to write it, when it can't be read."""
        sub_name, rest = split_subcommand(text)
        if sub_name in HELP_WORDS or (not sub_name and self.default == "help"):
            return None
        sub = self._by_name.get(sub_name or self.default)
        if sub is None:
            if self._implicit is None or not self._implicit[1](text):
                raise self.unknown(sub_name, caller)
            sub, rest = self._by_name[self._implicit[0]], text
        return sub, sub.parse(rest, caller)

    async def run(self, text: str, caller: Caller, session: AsyncSession) -> Outcome:
        found = self.read(text, caller)
        if found is None:
            return Outcome(self.help_reply(caller))
        sub, request = found
        return await sub.handle(request, caller, session)

    def unknown(self, sub_name: str, caller: Caller) -> ParseError:
        names = [*(s.name for s in self.subcommands), "help"]
        return ParseError(
            f"I don't know `{sub_name}`.",
            f"I can do: {', '.join(f'`{n}`' for n in names)}. "
            f"{caller.cmd(f'{self.name} help')} shows an example of each.",
        )

    def help_reply(self, caller: Caller) -> Reply:
        """The help, generated from the declarations: each group's examples, then the notes."""
        sections: dict[str | None, Section] = {}
        for group, line in self._help:
            sections.setdefault(group, Section(heading=group)).lines.append(line.render(caller))
        notes = [Section(lines=self.notes(caller))] if self.notes else []
        return Reply(title=self.help_title, sections=[*sections.values(), *notes])

    def usage_hint(self) -> str:
        """The Slack manifest's usage hint: every subcommand's syntax, the bare command's in
        brackets, help last."""
        parts = [f"[{s.usage}]" if s.name == self.default else s.usage
                 for s in self.subcommands]
        return " | ".join([*parts, "help"])


HELP_WORDS = ("help", "?")


# Every form and button declared, found by the id they carry back.
FORMS: dict[str, FormHandler] = {}
BUTTONS: dict[type[ButtonData], ButtonHandler[Any]] = {}


def form(form_id: str) -> Callable[[FormHandler], FormHandler]:
    """Declare the decorated function as what a submitted form `form_id` runs."""

    def declare(handler: FormHandler) -> FormHandler:
        if form_id in FORMS:
            raise ValueError(f"the form {form_id} is declared twice")
        FORMS[form_id] = handler
        return handler

    return declare


def button(payload: type[B]) -> Callable[[ButtonHandler[B]], ButtonHandler[B]]:
    """Declare the decorated function as what pressing a button carrying `payload` runs."""

    def declare(handler: ButtonHandler[B]) -> ButtonHandler[B]:
        if payload in BUTTONS:
            raise ValueError(f"the button {payload.kind} is declared twice")
        BUTTONS[payload] = handler
        return handler

    return declare


@dataclass(frozen=True)
class RunCommand(ButtonData, kind="command.run"):
    """A button that runs a command as if its presser had typed it: one reading of a question
    ("Thursday 3 December or Thursday 10 December?"). It runs with the presser's own rights, so
    it can do nothing they could not type; handlers.dispatch runs it."""

    command: str  # "meeting"
    text: str  # what follows the command: "schedule East Barnet Area when: …"


def choice_buttons(command: str, texts: Sequence[str], labels: Sequence[str]) -> list[Button]:
    """A button for each ready-to-use command (none where one would be too long for a
    button's value: the typed commands beside them still work)."""
    buttons: list[Button] = []
    for text, label in zip(texts, labels, strict=True):
        data = RunCommand(command, text)
        try:
            data.pack()
        except ValueError:
            return []
        buttons.append(Button(label[:75], data, "primary" if not buttons else None))
    return buttons
