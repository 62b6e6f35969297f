"""Refusals the core raises; the dispatcher turns them into polite replies."""

from __future__ import annotations

from handlers.replies import Reply


class CommandError(Exception):
    """The command was understood but cannot be done; `reply` says why and what to do instead."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.title)
        self.reply = reply

    @classmethod
    def because(cls, problem: str, *hints: str) -> CommandError:
        return cls(Reply.error(problem, *hints))
