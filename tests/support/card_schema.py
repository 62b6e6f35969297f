"""Adaptive Cards checked against the official schema of the version they declare (1.5, vendored
in tests/support with its licence), with the extensions Teams documents for it allowed: the
card's `msteams` property (full width, mention entities) and the people picker's `choices.data`
(a `Data.Query` on Teams' user directory). Anything newer than 1.5 fails, as it should."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, FormatChecker
from jsonschema.exceptions import best_match

SCHEMA = Path(__file__).parent / "adaptive-card-1.5.schema.json"

# Teams' documented extensions to the 1.5 schema.
MSTEAMS = {
    "type": "object",
    "properties": {
        "width": {"enum": ["Full"]},
        "entities": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": False,
}
PEOPLE_PICKER_DATA = {
    "type": "object",
    "properties": {
        "type": {"enum": ["Data.Query"]},
        "dataset": {"enum": ["graph.microsoft.com/users",
                             "graph.microsoft.com/users?scope=currentContext"]},
    },
    "required": ["type", "dataset"],
    "additionalProperties": False,
}


@cache
def _validator() -> Draft6Validator:
    schema: dict[str, Any] = copy.deepcopy(json.loads(SCHEMA.read_text(encoding="utf-8")))
    definitions = schema["definitions"]
    definitions["AdaptiveCard"]["properties"]["msteams"] = MSTEAMS
    definitions["Input.ChoiceSet"]["properties"]["choices.data"] = PEOPLE_PICKER_DATA
    return Draft6Validator(schema, format_checker=FormatChecker())


def card_problems(card: dict[str, Any]) -> list[str]:
    """What is wrong with the card by the schema of its declared version; [] when nothing."""
    if card.get("version") != "1.5":
        return [f"declares version {card.get('version')!r}; only 1.5 is checked (and used)"]
    errors = list(_validator().iter_errors(card))
    if not errors:
        return []
    # The schema is one big anyOf: name the error deepest in the card, not "not valid".
    error = best_match(errors)
    while error.context:
        error = best_match(error.context)
    where = "/".join(map(str, error.absolute_path)) or "(card)"
    return [f"{where}: {error.message[:300]}"]
