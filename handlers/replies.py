"""Neutral replies: what the bot says, without saying how a platform shows it.

Text is plain: renderers escape it for their platform. The one piece of inline markup allowed is
a backtick code span (`/partnership help`), which Slack, Teams and a terminal all show sensibly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from handlers.buttons import ButtonData
from handlers.forms import Form


class Tone(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class Visibility(StrEnum):
    # Only the person who asked sees it (Slack ephemeral; Teams and the shell reply privately).
    PRIVATE = "private"
    # Everyone in the conversation sees it.
    PUBLIC = "public"


@dataclass(frozen=True)
class Person:
    """Someone named in a reply. Where `platform` is the one showing the reply and knows the
    user id, the renderer shows a real mention (Slack draws the current name); everywhere else,
    the name. This is the one way a reply mentions anyone: text itself never does."""

    name: str | None
    user_id: str | None = None
    platform: str | None = None

    def plain(self) -> str:
        return self.name or (f"@{self.user_id}" if self.user_id else "someone")


@dataclass(frozen=True)
class Fact:
    """A labelled value, shown as a two-column field where the platform can. `people`, when
    given, are shown before the value ("Ann, Ben" or "Ann, due Friday")."""

    label: str
    value: str = ""
    people: tuple[Person, ...] = ()

    def plain_value(self) -> str:
        return " ".join(part for part in (", ".join(p.plain() for p in self.people),
                                          self.value) if part)


@dataclass(frozen=True)
class Button:
    """A button; pressing it brings `data` back (handlers/buttons.py) to the handler declared
    for its kind."""

    label: str
    data: ButtonData
    style: str | None = None  # "primary" | "danger" | None
    # What to type for the same effect, as a command without its slash ("meeting reply 12
    # going"): where there is nothing to press (the shell), the button says this instead.
    typed: str | None = None


@dataclass(frozen=True)
class Link:
    """A link for the person to open in their browser (a private link to the web pages or a
    file): a link button where the platform has them, the address itself in a terminal."""

    label: str
    url: str


@dataclass
class Section:
    heading: str | None = None
    lines: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    # Where the whole of a long section can be seen (a web page), for a platform that must
    # shorten it to fit a message.
    more_link: str | None = None


@dataclass
class Reply:
    """One message from the bot."""

    title: str
    sections: list[Section] = field(default_factory=list)
    tone: Tone = Tone.INFO
    visibility: Visibility = Visibility.PRIVATE

    @classmethod
    def error(cls, problem: str, *hints: str) -> Reply:
        """A polite refusal: what was wrong, then how to say it right."""
        return cls(title=problem, sections=[Section(lines=list(hints))] if hints else [],
                   tone=Tone.ERROR)

    @classmethod
    def success(cls, title: str, *lines: str) -> Reply:
        return cls(title=title, sections=[Section(lines=list(lines))] if lines else [],
                   tone=Tone.SUCCESS)

    def plain_text(self) -> str:
        """A flat rendering: the fallback text for notifications and the shell."""
        parts = [self.title]
        for section in self.sections:
            if section.heading:
                parts.append(section.heading)
            parts.extend(section.lines)
            parts.extend(f"{fact.label}: {fact.plain_value()}" for fact in section.facts)
        return "\n".join(parts)


@dataclass(frozen=True)
class Attachment:
    """A file to share: a calendar invite with a channel post, a data export with a person."""

    filename: str
    content: bytes
    title: str
    mimetype: str = "text/calendar"


@dataclass(frozen=True)
class ChannelPost:
    """A message the bot should post in a partnership's linked channel(s), beside its reply."""

    partnership_id: int
    reply: Reply
    # Post only in this one linked channel (e.g. the one just linked), not in all of them.
    only_channel: str | None = None
    # Remember where it was posted under this key (e.g. "meeting:12"), to edit it later.
    remember_as: str | None = None
    # Instead of posting, edit the messages remembered under this key.
    edit_of: str | None = None
    # Instead of posting, withdraw (delete) the messages remembered under this key; `reply`
    # then says what was withdrawn, where a platform can only say so.
    withdraw_of: str | None = None
    # Shared with the post (in its thread where the platform has threads).
    attachment: Attachment | None = None
    # Told to the person who asked, once the post (and its file) is out, with `{channels}` the
    # channels it reached: "Posted in {channels} with reply buttons." Said by the delivery, not
    # the handler, so a reply never claims a post that failed.
    confirm: str | None = None


@dataclass(frozen=True)
class Skip:
    """A scheduled message with nothing worth sending this time (a quiet week's digest set to
    send nothing): the outbox records it as skipped, with the reason."""

    reason: str


@dataclass
class Outcome:
    """What a command produced: the reply to the caller and any posts for linked channels."""

    reply: Reply
    channel_posts: list[ChannelPost] = field(default_factory=list)
    # A form for the caller to fill in (the command was given without its fields).
    form: Form | None = None
    # For a button press: the new version of the message the button was on.
    updated_message: Reply | None = None
    # The platform sent this request before and it already ran: answer nothing more.
    repeated: bool = False
    # Files for the caller alone (e.g. their data export): a direct message where possible.
    files: list[Attachment] = field(default_factory=list)
