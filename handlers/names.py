"""Forgiving name matching: "St Mary's EN4", "st. marys  en4" and "ST MARY’S EN4" are one school."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

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


def match_name(query: str, items: Sequence[T], name_of: Callable[[T], str]) -> Match[T]:
    """Find `query` among `items`: exact key first, then whole-word prefix, then whole words."""
    key = name_key(query)
    if not key:
        return Match(found=None)
    keyed = [(name_key(name_of(item)), item) for item in items]
    exact = [item for item_key, item in keyed if item_key == key]
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
    return Match(found=None, suggestions=close_names(key, keyed))


def close_names(key: str, keyed: Sequence[tuple[str, T]], limit: int = 3) -> list[T]:
    by_key: dict[str, T] = {}
    for item_key, item in keyed:
        by_key.setdefault(item_key, item)
    close = difflib.get_close_matches(key, list(by_key), n=limit, cutoff=0.6)
    return [by_key[k] for k in close]
