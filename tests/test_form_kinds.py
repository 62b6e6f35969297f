"""Every kind of form field, through every renderer (Slack modal, Teams card, the shell's
text), and what a person fills in read back as the core expects it. A kind added to FieldKind
without a case in a renderer fails mypy (assert_never); without a case here it fails this."""

from __future__ import annotations

from typing import Any

import pytest

from bot import render_text
from bot.slack import render as slack
from bot.teams import render as teams
from handlers.forms import Choice, FieldKind, Form, FormField, FormValues

CHOICES = (Choice("Monkfrith", "1"), Choice("Danegrove", "2"))

# For each kind: the field, what Slack's view state holds once filled in, what Teams sends for
# the input, and the value the core reads back.
CASES: dict[FieldKind, tuple[FormField, dict[str, Any], str, str | list[str]]] = {
    FieldKind.TEXT: (FormField("focus", "Focus"),
                     {"type": "plain_text_input", "value": "reading"}, "reading", "reading"),
    FieldKind.LONG_TEXT: (FormField("notes", "Notes", FieldKind.LONG_TEXT),
                          {"type": "plain_text_input", "value": "a\nb"}, "a\nb", "a\nb"),
    FieldKind.DATE: (FormField("date", "Date", FieldKind.DATE),
                     {"type": "datepicker", "selected_date": "2026-02-05"}, "2026-02-05",
                     "2026-02-05"),
    FieldKind.NUMBER: (FormField("hours", "Hours", FieldKind.NUMBER),
                       {"type": "number_input", "value": "1.5"}, "1.5", "1.5"),
    FieldKind.SELECT: (FormField("school", "School", FieldKind.SELECT, choices=CHOICES),
                       {"type": "static_select", "selected_option": {"value": "2"}}, "2", "2"),
    FieldKind.MULTI_SELECT: (
        FormField("schools", "Schools", FieldKind.MULTI_SELECT, choices=CHOICES),
        {"type": "multi_static_select", "selected_options": [{"value": "1"}, {"value": "2"}]},
        "1,2", ["1", "2"]),
    FieldKind.USERS: (FormField("walkers", "Walkers", FieldKind.USERS),
                      {"type": "multi_users_select", "selected_users": ["U1", "U2"]},
                      "aad-1,aad-2", ["U1", "U2"]),
    FieldKind.USER: (FormField("owner", "Owner", FieldKind.USER),
                     {"type": "users_select", "selected_user": "U1"}, "aad-1", "U1"),
    FieldKind.CHECKBOXES: (
        FormField("quiet", "Channel note", FieldKind.CHECKBOXES,
                  choices=(Choice("Don't post a note", "quiet"),)),
        {"type": "checkboxes", "selected_options": [{"value": "quiet"}]}, "quiet", ["quiet"]),
}


def test_every_kind_has_a_case() -> None:
    assert set(CASES) == set(FieldKind)


@pytest.mark.parametrize("kind", list(FieldKind))
def test_slack_renders_the_kind_and_reads_it_back(kind: FieldKind) -> None:
    field, state, _, expected = CASES[kind]
    view = slack.modal(Form("test.kinds", "Kinds", [field]), "C1")
    [block] = view["blocks"]
    element_types = {FieldKind.TEXT: "plain_text_input", FieldKind.LONG_TEXT: "plain_text_input",
                     FieldKind.DATE: "datepicker", FieldKind.NUMBER: "number_input",
                     FieldKind.SELECT: "static_select",
                     FieldKind.MULTI_SELECT: "multi_static_select",
                     FieldKind.USERS: "multi_users_select", FieldKind.USER: "users_select",
                     FieldKind.CHECKBOXES: "checkboxes"}
    assert block["element"]["type"] == element_types[kind] == state["type"]
    submitted = {"state": {"values": {field.name: {slack.VALUE_ACTION: state}}}}
    assert slack.form_values(submitted) == {field.name: expected}


@pytest.mark.parametrize("kind", list(FieldKind))
def test_teams_renders_the_kind_and_reads_it_back(kind: FieldKind) -> None:
    field, _, sent, expected = CASES[kind]
    card = teams.form_card(Form("test.kinds", "Kinds", [field]))
    [element] = [e for e in card["body"] if str(e.get("type", "")).startswith("Input.")]
    people = kind in (FieldKind.USER, FieldKind.USERS)
    assert ("choices.data" in element) is people  # only people fields search the directory
    if kind in (FieldKind.SELECT, FieldKind.MULTI_SELECT, FieldKind.CHECKBOXES, FieldKind.USER,
                FieldKind.USERS):
        assert element["type"] == "Input.ChoiceSet"
        assert element["isMultiSelect"] is (kind in (FieldKind.MULTI_SELECT,
                                                     FieldKind.CHECKBOXES, FieldKind.USERS))
    if kind is FieldKind.CHECKBOXES:
        assert element["style"] == "expanded"
        assert element["choices"] == [{"title": "Don't post a note", "value": "quiet"}]
    data = dict(next(e for e in card["body"] if e["type"] == "ActionSet")["actions"][0]["data"])
    data[element["id"]] = sent
    values: FormValues = teams.form_values(data)
    if people:  # Teams answers with directory ids, not Slack's
        expected = ["aad-1", "aad-2"] if kind is FieldKind.USERS else "aad-1"
    assert values == {field.name: expected}


@pytest.mark.parametrize("kind", list(FieldKind))
def test_the_shell_says_how_to_type_the_kind(kind: FieldKind) -> None:
    field = CASES[kind][0]
    text = render_text.render_form(Form("test.kinds", "Kinds", [field]))
    line = text.splitlines()[1]
    if kind is FieldKind.CHECKBOXES:
        assert line.strip().startswith("quiet ") and "add the word to tick it" in line
    else:
        assert line.strip().startswith(f"{field.name}:")
    if field.choices and kind is not FieldKind.CHECKBOXES:
        assert "Monkfrith; Danegrove" in line
