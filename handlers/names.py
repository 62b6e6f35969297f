"""Forgiving name matching: "St Mary's EN4", "st. marys  en4" and "ST MARY’S EN4" are one name;
"heath hill" and "The Heath Hill Partnership" find "Heath and Hill Partnership". (Schools have
their own, stricter rules: handlers/schools.py.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from storage.names import name_key

T = TypeVar("T")


@dataclass(frozen=True)
class Match(Generic[T]):
    """The result of looking a name up: one found item, or candidates to offer."""

    found: T | None
    # Several names fit equally well: ask which.
    ambiguous: Sequence[T] = ()
    # Nothing fits: these are close, for "did you mean".
    suggestions: Sequence[T] = ()


# Words a name may have or lack and still be the same name.
FILLER_WORDS = frozenset({"the", "and", "of", "a"})


def match_name(query: str, items: Sequence[T], name_of: Callable[[T], str],
               other_names: Callable[[T], Sequence[str]] | None = None) -> Match[T]:
    """Find `query` among `items`: exact key first, then whole-word prefix, then whole words
    in order, then the same words in any order, filler words ("the", "and") aside.
    `other_names` gives an item's other names (a partnership's short name), tried exactly."""
    key = name_key(query)
    if not key:
        return Match(found=None)
    keyed = [(name_key(name_of(item)), item) for item in items]
    exact = [item for item_key, item in keyed if item_key == key]
    if not exact and other_names is not None:
        exact = [item for item in items if key in {name_key(n) for n in other_names(item)}]
    if len(exact) == 1:
        return Match(found=exact[0])
    if exact:
        return Match(found=None, ambiguous=exact)
    prefix = [item for item_key, item in keyed if item_key.startswith(key + " ")]
    if len(prefix) == 1:
        return Match(found=prefix[0])
    if prefix:
        return Match(found=None, ambiguous=prefix)
    padded = f" {key} "
    inside = [item for item_key, item in keyed if padded in f" {item_key} "]
    if len(inside) == 1:
        return Match(found=inside[0])
    if inside:
        return Match(found=None, ambiguous=inside)
    words = set(key.split()) - FILLER_WORDS
    if words:
        within = [item for item_key, item in keyed if words <= set(item_key.split())]
        if len(within) == 1:
            return Match(found=within[0])
        if within:
            return Match(found=None, ambiguous=within)
    return Match(found=None, suggestions=close_names(key, keyed))


# A "did you mean" needs this much in common (rapidfuzz's 0-100 scale).
SUGGEST_AT = 60.0


def closeness(a: str, b: str, **_: object) -> float:
    """How alike two name keys are: as spelled, or by their shared words ("heath hil" and
    "heath and hill partnership"), whichever is closer; filler words count for nothing."""
    a, b = _without_filler(a), _without_filler(b)
    return max(fuzz.ratio(a, b), fuzz.token_set_ratio(a, b))


def _without_filler(key: str) -> str:
    return " ".join(w for w in key.split() if w not in FILLER_WORDS) or key


def close_names(key: str, keyed: Sequence[tuple[str, T]], limit: int = 3) -> list[T]:
    by_key: dict[str, T] = {}
    for item_key, item in keyed:
        by_key.setdefault(item_key, item)
    close = process.extract(key, list(by_key), scorer=closeness, limit=limit,
                            score_cutoff=SUGGEST_AT)
    return [by_key[k] for k, _, _ in close]
