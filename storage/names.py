"""How names are keyed for storage: "St Mary's EN4", "st. marys  en4" and "ST MARY’S EN4" have
one key. The keys are stored (and indexed) beside the names, so they are defined here, below
every layer that reads or writes them."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"['’‘`´.]")
_NON_WORD = re.compile(r"[^\w]+")


def name_key(name: str) -> str:
    """The comparison key of a name: case, accents, spacing, punctuation and invisible
    formatting characters folded away."""
    text = unicodedata.normalize("NFKD", _without_format_characters(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _APOSTROPHES.sub("", text)  # "st. mary's" -> "st marys", not "st mary s"
    text = text.replace("&", " and ")
    return " ".join(_NON_WORD.sub(" ", text).split())


def tidy_name(name: str) -> str:
    """A name as we store and show it: the user's spelling, outer and doubled spaces removed,
    and no invisible formatting characters (bidirectional overrides, zero-width spaces and
    joiners...), so no name can pass for another or reverse the text shown after it."""
    return " ".join(_without_format_characters(name).split())


def _without_format_characters(text: str) -> str:
    """Text without Unicode format characters (category Cf: every bidi control, zero-width
    character and soft hyphen), which have no place in a person's or a school's name."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
