"""Who is asking, from where: the only platform facts the core needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from storage.names import tidy_name
from storage.types import utcnow


class Platform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    SHELL = "shell"


@dataclass(frozen=True)
class Caller:
    platform: Platform
    # Slack team id, Teams tenant id, or "local" for the shell: every query is scoped by it.
    workspace: str
    user_id: str
    user_name: str
    channel_id: str | None = None
    channel_name: str | None = None
    # What the platform needs, beyond the channel id, to post in this channel later (Teams: the
    # conversation reference as JSON); stored when the channel is linked to a partnership.
    channel_ref: str | None = None
    # When they asked (aware, UTC): "next Thursday" and "in the past" are read against it.
    now: datetime = field(default_factory=utcnow)
    # Where people reach the bot's web pages (PUBLIC_BASE_URL, no trailing slash), for the
    # private links the core hands out; None where no pages are served.
    web_base: str | None = None

    def __post_init__(self) -> None:
        # The platform's display name is stored and shown beside others': tidied like any name
        # (no bidi overrides or zero-width look-alikes); the user id if nothing is left.
        object.__setattr__(self, "user_name", tidy_name(self.user_name) or self.user_id)

    @property
    def command_prefix(self) -> str:
        """How commands are typed: slash commands in Slack and the shell, plain words in Teams."""
        return "" if self.platform is Platform.TEAMS else "/"

    def cmd(self, text: str) -> str:
        """A command example as this caller would type it, as a code span."""
        return f"`{self.command_prefix}{text}`"
