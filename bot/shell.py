"""A local chat shell: the same commands, on the embedded database, with no chat platform.

Like Errbot's text backend: type `partnership help`, `/partnership list`, and so on. Posts the bot
would make in a linked channel are printed with the channel's name in front."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from bot import render_text
from bot.delivery import Delivery
from bot.presenter import present
from bot.scheduler import OutboxScheduler, OutboxSender
from handlers.context import Caller, Platform
from handlers.dispatch import COMMANDS, command_names, run_command
from handlers.forms import Form
from handlers.replies import Attachment, Reply
from storage.db import Database
from storage.models import ChannelLink
from storage.names import name_key
from storage.types import utcnow

SHELL_WORKSPACE = "local"
SHELL_CHANNEL = "shell"

BANNER = """Partnership Bot shell: type commands as you would in Slack, e.g. `partnership help`.
You are {name}. `quit` (or Ctrl-D) leaves; `as <name>` becomes someone else. Tab completes,
the arrow keys bring back what you typed before.
"""


class ShellPoster:
    """Prints channel posts; shared files (calendar invites) are saved in `files_dir`."""

    def __init__(self, out: TextIO, files_dir: Path | None = None) -> None:
        self.out = out
        self.files_dir = files_dir
        self._posts = itertools.count(1)

    async def post(self, link: ChannelLink, reply: Reply,
                   delivery_key: str | None = None) -> str:
        """Print the post; its number lets a later edit or withdrawal say which it was."""
        ref = f"{next(self._posts)}"
        self._print(link, reply, "")
        return ref

    async def edit(self, link: ChannelLink, message_ref: str, reply: Reply) -> None:
        self._print(link, reply, "(changed) ")

    async def remove(self, link: ChannelLink, message_ref: str) -> None:
        label = link.channel_name or link.channel_id
        print(f"[#{label}] (a message from earlier was withdrawn)", file=self.out)

    def _print(self, link: ChannelLink, reply: Reply, mark: str) -> None:
        label = link.channel_name or link.channel_id
        body = render_text.render(reply).replace("\n", f"\n[#{label}] ")
        print(f"[#{label}] {mark}{body}", file=self.out)

    async def share_file(self, link: ChannelLink, attachment: Attachment,
                         thread_ref: str | None) -> None:
        label = link.channel_name or link.channel_id
        print(f"[#{label}] {await keep_file(self.files_dir, attachment)}", file=self.out)


async def keep_file(files_dir: Path | None, attachment: Attachment) -> str:
    """Save a shared file in `files_dir` (off the event loop); say where, or that it was not."""
    if files_dir is None:
        return f"(file {attachment.filename}, {len(attachment.content):,} bytes)"
    path = files_dir / attachment.filename
    await asyncio.to_thread(_save, path, attachment.content)
    return f"{attachment.title}: saved as {path}"


def _save(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def shell_caller(name: str, web_base: str | None = None) -> Caller:
    """`web_base`: where `partnership-bot web` serves the pages, for `partnership web` links."""
    return Caller(
        platform=Platform.SHELL,
        workspace=SHELL_WORKSPACE,
        user_id=f"local:{name_key(name) or 'you'}",
        user_name=name,
        channel_id=SHELL_CHANNEL,
        channel_name=SHELL_CHANNEL,
        web_base=web_base,
    )


class ShellSurface:
    """The presenter's view of one line typed at the prompt: everything comes back as text.
    No forms in a terminal: a form becomes the list of fields to type instead."""

    request_id = None  # a person typing never sends the same line twice by accident

    def __init__(self, files_dir: Path | None) -> None:
        self.files_dir = files_dir
        self.out: list[str] = []

    async def open_form(self, form: Form) -> bool:
        return False

    async def update_source(self, reply: Reply) -> None:
        """Nothing to update: the shell prints each answer once."""

    async def reply(self, reply: Reply, files: list[Attachment], form: Form | None) -> None:
        self.out.append(render_text.render(reply))
        if form is not None:
            self.out.append(render_text.render_form(form))
        self.out.extend([await keep_file(self.files_dir, f) for f in files])


async def run_line(db: Database, delivery: Delivery, caller: Caller, line: str,
                   files_dir: Path | None = None) -> str:
    """One line typed at the prompt, answered as text; files for the caller go to
    `files_dir`."""
    command, _, text = line.strip().partition(" ")
    command = command.lstrip("/").lower()
    if command in ("help", "?"):
        command, text = "partnership", "help"
    # The caller is kept between lines: the time of asking is now, not when the shell began.
    outcome = await run_command(db, command, text, replace(caller, now=utcnow()))
    surface = ShellSurface(files_dir)
    await present(outcome, surface, delivery)
    return "\n".join(surface.out)


class PipedLines:
    """Lines from a pipe or a file (scripts and tests): read as they come, no prompt."""

    def __init__(self, stdin: TextIO) -> None:
        self.stdin = stdin

    async def read(self, prompt: str) -> str | None:
        line = await asyncio.to_thread(self.stdin.readline)
        return line if line else None


class CommandCompleter(Completer):
    """Tab completes a command's name, then one of its subcommands' names."""

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterator[Completion]:
        words = document.text_before_cursor.lstrip().split(" ")
        if len(words) == 1:
            names = [*command_names(), *SHELL_WORDS]
        elif len(words) == 2:
            command = COMMANDS.get(words[0].lstrip("/").lower())
            names = [n for s in command.subcommands for n in s.names[:1]] + ["help"] \
                if command else []
        else:
            return
        typed = words[-1].lower()
        for name in names:
            if name.startswith(typed.lstrip("/")):
                yield Completion(name, start_position=-len(typed.lstrip("/")))


SHELL_WORDS = ("help", "as", "quit")


class TerminalLines:
    """Lines typed at a terminal: editing, history kept across runs in `history_file`, tab
    completion; what the bot prints meanwhile (a reminder) appears above the prompt."""

    def __init__(self, history_file: Path | None) -> None:
        if history_file is not None:
            history_file.parent.mkdir(parents=True, exist_ok=True)
        history = FileHistory(str(history_file)) if history_file else InMemoryHistory()
        self.session: PromptSession[str] = PromptSession(
            history=history, completer=CommandCompleter(), complete_while_typing=False)

    async def read(self, prompt: str) -> str | None:
        while True:
            try:
                return await self.session.prompt_async(prompt)
            except KeyboardInterrupt:
                continue  # Ctrl-C clears the line, as in a shell
            except EOFError:
                return None


async def run_shell(db: Database, name: str, stdin: TextIO = sys.stdin,
                    stdout: TextIO = sys.stdout, files_dir: Path | None = None,
                    history_file: Path | None = None, web_base: str | None = None) -> None:
    """`files_dir`: where shared files such as calendar invites are saved; `history_file`:
    where a terminal's typed lines are kept between runs; `web_base`: the address of the web
    pages (`partnership-bot web`), for links to them."""
    await db.upgrade()
    interactive = stdin.isatty() and stdout.isatty()
    if not interactive:
        await _converse(db, name, PipedLines(stdin), stdout, files_dir, interactive, web_base)
        return
    lines = TerminalLines(history_file)
    # Everything printed while the prompt waits goes above it, leaving the typed line intact.
    with patch_stdout(raw=True):
        await _converse(db, name, lines, sys.stdout, files_dir, interactive, web_base)


async def _converse(db: Database, name: str, lines: PipedLines | TerminalLines, out: TextIO,
                    files_dir: Path | None, interactive: bool, web_base: str | None) -> None:
    delivery = Delivery(db, {Platform.SHELL.value: ShellPoster(out, files_dir)})
    # Reminders fall due while the shell is open too; they print like any channel post.
    scheduler = OutboxScheduler(OutboxSender(db, delivery))
    scheduler.start()
    caller = shell_caller(name, web_base)
    if interactive:
        print(BANNER.format(name=name), file=out)
        print(f"Commands: {', '.join(command_names())}. Data: {db.url}", file=out)
    while True:
        line = await lines.read(f"{caller.user_name}> ")
        if line is None:
            break
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() in ("quit", "exit", "bye"):
            break
        if line.lower().startswith("as "):
            caller = shell_caller(line[3:].strip() or caller.user_name, web_base)
            print(f"You are now {caller.user_name}.", file=out)
            continue
        print(await run_line(db, delivery, caller, line, files_dir), file=out)
        out.flush()
    await scheduler.stop()
    await db.dispose()
