"""Typed button payloads: one codec for the value every button carries back.

A button's payload is a small frozen dataclass naming its kind (which routes it) and its
fields, like aiogram's `CallbackData`:

    @dataclass(frozen=True)
    class Rsvp(ButtonData, kind="meeting.rsvp"):
        meeting_id: int
        answer: RsvpAnswer

`Rsvp(12, RsvpAnswer.GOING).pack()` is "v1:meeting.rsvp:12:going"; `decode` reads it back into
an `Rsvp`, or raises `StaleButton` for anything it cannot read (an old format, a changed
payload, a forged value), which the dispatcher answers with the one "out of date" reply.
Fields may be int, str, bool or a StrEnum; text is percent-encoded, so any value round-trips.
"""

from __future__ import annotations

import dataclasses
import typing
from enum import StrEnum
from typing import Any, ClassVar, Self
from urllib.parse import quote, unquote

VERSION = "v1"
SEPARATOR = ":"
# Slack allows 2,000 characters in a button's value; Teams more. Payloads stay far below.
MAX_PACKED = 2000

KINDS: dict[str, type[ButtonData]] = {}


class StaleButton(Exception):
    """A button value that no payload of today's code can read."""


class ButtonData:
    """The base of every button payload; subclasses are frozen dataclasses with a `kind`."""

    kind: ClassVar[str]

    def __init_subclass__(cls, kind: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not kind or SEPARATOR in kind:
            raise TypeError(f"{cls.__name__} needs a kind without {SEPARATOR!r}")
        if kind in KINDS:
            raise TypeError(f"two button payloads share the kind {kind!r}")
        cls.kind = kind
        KINDS[kind] = cls

    def pack(self) -> str:
        parts = [VERSION, self.kind]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            parts.append(quote(_text_of(getattr(self, field.name)), safe=""))
        packed = SEPARATOR.join(parts)
        if len(packed) > MAX_PACKED:
            raise ValueError(f"a {self.kind} button's value is {len(packed)} characters long")
        return packed

    @classmethod
    def from_legacy(cls, value: str) -> Self | None:
        """A value in the format this kind's buttons had before the codec (buttons still
        on messages posted earlier), or None. Kinds with long-lived buttons override it."""
        return None


def _text_of(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"a button field can't hold {type(value).__name__}")


def _value_of(kind: type, text: str) -> object:
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if kind is int:
        digits = text.removeprefix("-")
        if not digits.isdigit() or len(digits) > 18:
            raise ValueError(text)
        return int(text)
    if kind is str:
        return text
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind(text)
    raise TypeError(f"a button field can't hold {kind}")


def unpack(packed: str) -> ButtonData:
    """The payload a packed value names; StaleButton if it is not one of today's."""
    version, _, rest = packed.partition(SEPARATOR)
    kind, _, fields_text = rest.partition(SEPARATOR)
    cls = KINDS.get(kind)
    if version != VERSION or cls is None:
        raise StaleButton(packed[:40])
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    texts = fields_text.split(SEPARATOR) if fields else []
    if not fields and fields_text:
        raise StaleButton(kind)
    if len(texts) != len(fields):
        raise StaleButton(kind)
    try:
        values = {f.name: _value_of(hints[f.name], unquote(t)) for f, t in zip(fields, texts,
                                                                                strict=True)}
    except (ValueError, TypeError):
        raise StaleButton(kind) from None
    return cls(**values)


def decode(value: object, route: str = "") -> ButtonData:
    """A pressed button's payload. `route` is the id the platform sent with it (Slack's
    action_id, Teams' actionId): it names the kind of a button posted before the codec."""
    if not isinstance(value, str):
        raise StaleButton(type(value).__name__)
    if value.startswith(VERSION + SEPARATOR):
        return unpack(value)
    cls = KINDS.get(route)
    legacy = cls.from_legacy(value) if cls is not None else None
    if legacy is None:
        raise StaleButton(route)
    return legacy
