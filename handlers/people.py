"""People named in commands.

The core reads mentions in Slack's form, `<@ID|name>` or `<@ID>`; each platform layer turns its
own mentions into that (Slack sends it as is, Teams' `<at>` entities and the shell's `@name` are
converted). A mention only says *whom* a command is about; who is *asking* always comes from the
platform's verified request, so a typed look-alike mention grants nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

MENTION = re.compile(r"<@([A-Za-z0-9:._-]+)(?:\|([^<>]*))?>")


@dataclass(frozen=True)
class PersonRef:
    user_id: str | None  # None for a plain typed name
    name: str


def mention(user_id: str, name: str | None = None) -> str:
    return f"<@{user_id}|{name}>" if name else f"<@{user_id}>"


def find_mentions(text: str) -> list[PersonRef]:
    return [PersonRef(m.group(1), (m.group(2) or "").strip() or m.group(1))
            for m in MENTION.finditer(text)]


def parse_people(text: str) -> list[PersonRef]:
    """A list of people: mentions and/or plain names separated by commas, semicolons or "and"."""
    people = find_mentions(text)
    rest = MENTION.sub(",", text)
    for part in re.split(r"\s*(?:,|;|\band\b|&)\s*", rest):
        name = " ".join(part.split())
        if name:
            people.append(PersonRef(None, name.lstrip("@")))
    return people


def without_mentions(text: str) -> str:
    """Mentions replaced by the names they carry: for storing or showing as plain text."""
    return MENTION.sub(lambda m: (m.group(2) or m.group(1)).strip(), text)
