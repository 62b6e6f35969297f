"""A bounded queue for slash commands: at most a few run at once, a limited number wait, and
none waits for ever.

Slack wants an acknowledgement within 3 seconds and accepts the answer on the command's
`response_url` for 30 minutes. Acknowledging at once and working afterwards keeps the first
promise; this keeps the second, and keeps memory flat, when commands arrive faster than the
process can answer them: past `waiting` queued commands a new one is acknowledged with a polite
"busy, nothing was saved, try again in a minute" instead of joining the queue, and a command
that has waited longer than `longest_wait` (the database stalled, say) is told the same rather
than run late. So every command gets an answer, real or "busy", within `longest_wait` plus the
time one command takes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType

from handlers.replies import Reply, Section, Tone

# Commands worked on at once, after their ack: about the database pool's share for commands.
RUNNING = 8
# How long a command may wait for its turn before it is told "busy" instead of being run.
LONGEST_WAIT = 30.0


def busy_reply() -> Reply:
    return Reply(title="I'm busy just now, so nothing was saved.", tone=Tone.WARNING,
                 sections=[Section(lines=["Please try again in a minute."])])


class TooLate(Exception):
    """The command waited longer than the backlog allows: answer "busy", do not run it."""


class Turn:
    """A place in the queue, taken when the command was acknowledged."""

    def __init__(self, backlog: CommandBacklog) -> None:
        self._backlog = backlog
        self._queued_at = backlog.clock()
        self._running = False

    async def __aenter__(self) -> None:
        backlog = self._backlog
        try:
            await backlog.slots.acquire()
        finally:
            backlog.waiting -= 1
        self._running = True
        if backlog.clock() - self._queued_at > backlog.longest_wait:
            self._release()
            raise TooLate

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        self._release()

    def _release(self) -> None:
        if self._running:
            self._running = False
            self._backlog.slots.release()


class CommandBacklog:
    def __init__(self, waiting: int, running: int = RUNNING, longest_wait: float = LONGEST_WAIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = waiting
        self.slots = asyncio.Semaphore(running)
        self.longest_wait = longest_wait
        self.clock = clock
        self.waiting = 0  # acknowledged, not yet running

    def admit(self) -> Turn | None:
        """A place in the queue, or None when it is full (tell the caller "busy" at once). A
        command that can start at once is always admitted."""
        if self.waiting >= self.limit and self.slots.locked():
            return None
        self.waiting += 1
        return Turn(self)
