"""Neutral forms and button actions.

A command with no fields may answer with a `Form` to fill in (a Slack modal, a Teams Adaptive Card
form); its submission comes back as `FormValues` to the form's handler, which either succeeds or
raises `FieldErrors` to show next to the fields. Buttons carry an `action_id` and a value back to
an action handler. The platform layers render and collect; the core decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    DATE = "date"  # values come back as ISO dates (YYYY-MM-DD)
    NUMBER = "number"
    SELECT = "select"  # one of `choices`
    MULTI_SELECT = "multi_select"
    USERS = "users"  # people on the platform; values are platform user ids
    USER = "user"  # one person on the platform; the value is their user id
    CHECKBOXES = "checkboxes"  # tick any of `choices`; values are the ticked choices' values


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class FormField:
    # The same key the text command uses ("school", "next steps"), so both share one parser.
    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    hint: str | None = None
    placeholder: str | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    # What the field shows filled in: one value, or several for USERS and MULTI_SELECT (ids).
    initial: str | tuple[str, ...] | None = None
    # Typed without a `name:` key in the text command (e.g. the partnership's name).
    positional: bool = False


@dataclass
class Form:
    form_id: str  # routes the submission, e.g. "walk.log"
    title: str  # short: Slack allows 24 characters
    fields: list[FormField]
    submit_label: str = "Save"
    intro: str | None = None
    # Round-tripped untouched with the submission (e.g. a partnership id).
    context: str = ""


FormValues = dict[str, str | list[str]]


class FieldErrors(Exception):
    """Submitted values that need fixing: field name -> what is wrong and how to put it right."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
