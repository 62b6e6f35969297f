"""Reading the Adaptive Cards the bot sent, as a person (or Teams) would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Element = dict[str, Any]


def elements(card: Element, wanted: str | Callable[[Element], bool]) -> list[Element]:
    """Every element of the card (at any depth) of type `wanted`, or for which it is true."""
    matches = wanted if callable(wanted) else (lambda node: node.get("type") == wanted)
    found: list[Element] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if matches(node):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def card_text(card: Element) -> str:
    """Every TextBlock and fact in a card, for asserting on what a person reads."""
    lines: list[str] = []
    for node in elements(card, lambda n: n.get("type") in ("TextBlock", "FactSet")):
        if node["type"] == "TextBlock":
            lines.append(node["text"])
        else:
            lines.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
    return "\n".join(lines)
