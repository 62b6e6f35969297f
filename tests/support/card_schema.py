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

from jsonschema import Draft7Validator, FormatChecker
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


def _by_type(definitions: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
    """An "ImplementationsOf" anyOf (one alternative per element type, each requiring its
    `type`) as the same rule chosen by `type`: equivalent, and far faster to check, since an
    element is checked against its own definition rather than against every one. (Left as it
    is where an alternative has no `type` of its own: TextRun may be a plain string.)"""
    names = {}
    for alternative in choice["anyOf"]:
        reference = alternative["allOf"][0]["$ref"]
        own = definitions[reference.rsplit("/", 1)[1]].get("properties", {}).get("type", {})
        if "enum" not in own:
            return choice
        names[own["enum"][0]] = reference
    return {"required": ["type"], "properties": {"type": {"enum": list(names)}},
            "allOf": [{"if": {"properties": {"type": {"const": name}}},
                       "then": {"$ref": reference}} for name, reference in names.items()]}


@cache
def _validator() -> Draft7Validator:
    schema: dict[str, Any] = copy.deepcopy(json.loads(SCHEMA.read_text(encoding="utf-8")))
    definitions = schema["definitions"]
    for name in [n for n in definitions if n.startswith("ImplementationsOf.")]:
        definitions[name] = _by_type(definitions, definitions[name])
    definitions["AdaptiveCard"]["properties"]["msteams"] = MSTEAMS
    definitions["Input.ChoiceSet"]["properties"]["choices.data"] = PEOPLE_PICKER_DATA
    # Draft 7 for if/then (the rewrite above); the schema's draft-06 keywords mean the same.
    return Draft7Validator(schema, format_checker=FormatChecker())


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
