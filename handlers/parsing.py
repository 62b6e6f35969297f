"""Command text into words and `field: value` pairs.

A command reads `<subcommand> <positional words> key: value key two: value`. Only the field names a
subcommand knows split the text, so colons inside values ("11:30", "https://…", "note: see") stay
put; a word that looks like a misspelt field name ("scool:") is reported rather than swallowed.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Slack allows 4,000 characters in a slash command's text; Teams more. Anything longer is refused.
MAX_COMMAND_LENGTH = 4000


class ParseError(Exception):
    """The text could not be read as the command asked for; the message says how to fix it."""

    def __init__(self, problem: str, *hints: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hints = hints


class FieldProblem(ParseError):
    """A problem with one named field, so a form can show it beside that field."""

    def __init__(self, field: str, problem: str, *hints: str) -> None:
        super().__init__(problem, *hints)
        self.field = field


def check_length(label: str, value: str | None, limit: int, field: str | None = None) -> None:
    """Refuse text longer than `limit`, naming the field (`field`, or the label) it is in."""
    if value is not None and len(value) > limit:
        raise FieldProblem(field or label, f"The {label} is {len(value)} characters long; "
                           f"the most is {limit}.", f"Please shorten the {label}.")


@dataclass
class Parsed:
    positional: str
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        value = self.fields.get(key)
        return value if value else None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean_text(text: str) -> str:
    """Normalise what a chat client sends: NFC, smart quotes kept, control characters dropped."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def unknown_subcommand(sub: str, subcommands: Iterable[str], help_example: str) -> ParseError:
    """The refusal for a subcommand a command does not have; `help_example` is the help command
    as the caller types it, e.g. "`/walk help`"."""
    return ParseError(
        f"I don't know `{sub}`.",
        f"I can do: {', '.join(f'`{s}`' for s in subcommands)}. "
        f"{help_example} shows an example of each.",
    )


def split_subcommand(text: str) -> tuple[str, str]:
    text = clean_text(text)
    if not text:
        return "", ""
    head, _, rest = text.partition(" ")
    return head.lower(), rest.strip()


def parse_fields(text: str, known: Iterable[str]) -> Parsed:
    """Split `text` into the words before the first known field and the fields' values."""
    keys = sorted({k.lower() for k in known}, key=len, reverse=True)
    if len(text) > MAX_COMMAND_LENGTH:
        raise ParseError(
            f"That message is {len(text):,} characters long; the most I can read is "
            f"{MAX_COMMAND_LENGTH:,}.",
            "Shorten the longer fields and send it again.",
        )
    if not keys:
        return Parsed(positional=text.strip())
    pattern = re.compile(
        r"(?:(?<=\s)|^)(" + "|".join(re.escape(k) for k in keys) + r")\s*:(?=\s|$)",
        re.IGNORECASE,
    )
    matches = list(pattern.finditer(text))
    positional = text[: matches[0].start()] if matches else text
    _reject_misspelt_field(positional, keys)
    fields: dict[str, str] = {}
    for index, match in enumerate(matches):
        key = re.sub(r"\s+", " ", match.group(1).lower())
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].strip()
        if key in fields:
            raise ParseError(
                f"`{key}:` is given twice.", f"Give `{key}:` once, with a single value."
            )
        fields[key] = value
    return Parsed(positional=positional.strip(), fields=fields)


_COLON = re.compile(r":(?=\s|$)")


def _reject_misspelt_field(positional: str, keys: list[str]) -> None:
    """Catch `scool: X` before "scool: X" becomes part of a partnership's name."""
    for colon in _COLON.finditer(positional):
        words = positional[: colon.start()].lower().split()
        # Field names are one or two words ("school", "next steps").
        for candidate in (" ".join(words[-2:]), words[-1] if words else ""):
            if not candidate.replace(" ", "").isalpha():
                continue
            close = difflib.get_close_matches(candidate, keys, n=1, cutoff=0.75)
            if close:
                raise ParseError(
                    f"I don't know the field `{candidate}:`.",
                    f"Did you mean `{close[0]}:`? Fields I know here: "
                    + ", ".join(f"`{k}:`" for k in sorted(keys)) + ".",
                )
