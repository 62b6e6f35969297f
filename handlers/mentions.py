"""People named in command text, and the chat markup Slack puts into escaped command text.

Slash commands set to `should_escape: true` arrive with `@Ann` as `<@U123|ann>` (or `<@U123>`),
a channel as `<#C123|name>`, `@here` as `<!here>`, a link as `<https://…|label>`, and `&`, `<`
and `>` as entities. Free text is turned back into what the person typed; people fields keep the
user ids, so a walk's owner is a real person rather than a spelling."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.names import name_key, tidy_name
from storage.models import Member

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
# Between names in a list: commas, semicolons, "and", "&".
_NAME_SEPARATORS = re.compile(r"\s*(?:[,;&]|\band\b)\s*", re.IGNORECASE)


def plain_text(text: str) -> str:
    """Text as the person typed it: chat markup turned back into words, entities decoded."""
    text = _USER.sub(lambda m: "@" + (m[2] or m[1]), text)
    text = _CHANNEL.sub(lambda m: "#" + (m[2] or m[1]), text)
    text = _SPECIAL.sub(lambda m: m[2] or "@" + m[1], text)
    text = _LINK.sub(_link_words, text)
    # Last, so an escaped "&lt;@U1&gt;" someone typed stays text and never becomes a mention.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link_words(match: re.Match[str]) -> str:
    url, label = match[1], match[2]
    shown = url.removeprefix("mailto:")
    if not label or label in (shown, url):
        return shown
    return f"{label} ({shown})"


@dataclass(frozen=True)
class PersonRef:
    """Someone named in a command: a platform user (id) or a typed name, or both."""

    user_id: str | None
    name: str | None

    def label(self) -> str:
        return self.name or f"@{self.user_id}"


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


def with_members(people: Sequence[PersonRef], members: Sequence[Member]) -> list[PersonRef]:
    """Fill in what the partnership's members tell us: a mentioned member's display name, and
    the user id of a member named in plain text ("owner: Ann" in the shell)."""
    by_id = {m.user_id: m for m in members}
    by_name: dict[str, Member | None] = {}
    for m in members:
        key = name_key(m.display_name)
        # Two members with one name: the name alone does not say which.
        by_name[key] = None if key in by_name else m
    known: list[PersonRef] = []
    for person in people:
        if person.user_id is not None:
            member = by_id.get(person.user_id)
            known.append(PersonRef(person.user_id,
                                   member.display_name if member else person.name))
            continue
        named = by_name.get(name_key(person.name or ""))
        known.append(PersonRef(named.user_id, named.display_name) if named else person)
    return _once_each(known)
