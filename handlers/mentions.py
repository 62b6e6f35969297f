"""People named in command text.

The core reads mentions in one form, Slack's `<@ID|name>` or `<@ID>`; each platform layer turns
its own into that (Slack sends it as is, with its other markup and entities decoded by the Slack
layer; Teams' `<at>` entities and the shell's text are converted). A mention only says *whom* a
command is about; who is *asking* always comes from the platform's verified request, so a typed
look-alike mention grants nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from storage.models import Member
from storage.names import name_key, tidy_name

_USER = re.compile(r"<@([A-Za-z0-9:._-]+)(?:\|([^<>]*))?>")
# Between names in a list: commas, semicolons, "and", "&".
_NAME_SEPARATORS = re.compile(r"\s*(?:[,;&]|\band\b)\s*", re.IGNORECASE)


def plain_text(text: str) -> str:
    """Text to store and show as typed: each mention written as @name."""
    return _USER.sub(lambda m: "@" + (m[2] or m[1]), text)


@dataclass(frozen=True)
class PersonRef:
    """Someone named in a command: a platform user (id) or a typed name, or both."""

    user_id: str | None
    name: str | None

    def label(self) -> str:
        return self.name or f"@{self.user_id}"


def find_mentions(text: str) -> list[PersonRef]:
    """The mentions in `text`, in order."""
    return [PersonRef(m[1], tidy_name(m[2] or "") or None) for m in _USER.finditer(text)]


def parse_people(text: str) -> list[PersonRef]:
    """Mentions and plain names, in the order given, each once: "<@U1|ann>, Ben Day and Cy"."""
    people: list[PersonRef] = []
    position = 0
    for mention in _USER.finditer(text):
        people.extend(_typed_names(text[position : mention.start()]))
        people.append(PersonRef(mention[1], tidy_name(mention[2] or "") or None))
        position = mention.end()
    people.extend(_typed_names(text[position:]))
    return _once_each(people)


def _typed_names(text: str) -> list[PersonRef]:
    names = (tidy_name(part).lstrip("@").strip() for part in
             _NAME_SEPARATORS.split(plain_text(text)))
    return [PersonRef(None, name) for name in names if name_key(name)]


def _once_each(people: list[PersonRef]) -> list[PersonRef]:
    seen: set[str] = set()
    unique: list[PersonRef] = []
    for person in people:
        key = f"id:{person.user_id}" if person.user_id else f"name:{name_key(person.name or '')}"
        if key not in seen:
            seen.add(key)
            unique.append(person)
    return unique


@dataclass
class Linked:
    """People as typed, linked to the partnership's members where that is certain."""

    people: list[PersonRef]
    # "“Justine” is Justine Elbourne, a member": said back, so a wrong link is seen at once.
    notes: list[str]
    # A name that fits several members, and their names: the person must say which.
    ambiguous: list[tuple[str, list[str]]]


def _name_keys(display_name: str) -> set[str]:
    """What a member may be called by: their whole name, or their first name alone."""
    key = name_key(display_name)
    first = key.split(" ")[0] if key else ""
    return {key, first} - {""}


def link_members(people: Sequence[PersonRef], members: Sequence[Member]) -> Linked:
    """Fill in what the partnership's members tell us: a mentioned member's display name, and
    the member a plain name means (their full name, display name or first name, when exactly
    one member has it: "owner: Justine")."""
    by_id = {m.user_id: m for m in members}
    by_name: dict[str, dict[str, Member]] = {}
    for m in members:
        for key in _name_keys(m.display_name):
            by_name.setdefault(key, {})[m.user_id] = m
    linked = Linked([], [], [])
    for person in people:
        if person.user_id is not None:
            member = by_id.get(person.user_id)
            linked.people.append(PersonRef(person.user_id,
                                           member.display_name if member else person.name))
            continue
        typed = person.name or ""
        fits = list(by_name.get(name_key(typed), {}).values())
        if len(fits) == 1:
            member = fits[0]
            linked.people.append(PersonRef(member.user_id, member.display_name))
            if name_key(member.display_name) != name_key(typed):
                linked.notes.append(f"“{typed}” is {member.display_name}, a member of the "
                                    "partnership.")
            continue
        if len(fits) > 1:
            linked.ambiguous.append((typed, sorted(m.display_name for m in fits)))
        linked.people.append(person)
    linked.people = _once_each(linked.people)
    return linked
