"""Adaptive Cards from neutral replies and forms: escaping, tones, limits, form values."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.teams import render
from handlers.forms import Choice, FieldKind, Form, FormField
from handlers.meetings import MeetingRsvp
from handlers.replies import Button, Fact, Reply, Section, Tone
from storage.models import RsvpAnswer


def test_markup_in_names_is_shown_as_typed() -> None:
    assert render.escape("<at>Everyone</at>") == "<\u200bat>Everyone<\u200b/at>"
    assert render.escape("**bold** _it_ [x](https://e.g)") == (
        "\\*\\*bold\\*\\* \\_it\\_ \\[x\\](https://e.g)")
    assert render.escape("- not a list\n1. nor this\n# nor a heading") == (
        "\\- not a list\n1\\. nor this\n\\# nor a heading")
    # Ordinary punctuation is left alone.
    assert render.escape("St Mary's EN4 (Barnet) - 2 schools.") == (
        "St Mary's EN4 (Barnet) - 2 schools.")


@given(st.text())
def test_no_escaped_text_can_open_a_tag(text: str) -> None:
    escaped = render.escape(text)
    assert "<at" not in escaped.lower()
    assert all(escaped[i + 1] == "\u200b" for i, c in enumerate(escaped) if c == "<")


def test_code_spans_become_bold_commands() -> None:
    assert render.markdown("Try `partnership join x_y` now") == (
        "Try **partnership join x\\_y** now")


def test_a_reply_card_has_its_tone_facts_and_buttons() -> None:
    reply = Reply(title="Heads' meeting", tone=Tone.SUCCESS, sections=[
        Section(heading="Details", facts=[Fact("When", "Tue 4 March, 4pm")],
                buttons=[Button("Going", MeetingRsvp(12, RsvpAnswer.GOING), "primary"),
                         Button("Can't come", MeetingRsvp(12, RsvpAnswer.NOT_GOING), "danger")]),
    ])
    card = render.card(reply)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    title = card["body"][0]
    assert title["text"] == "✅ Heads' meeting" and title["color"] == "Good"
    facts = next(e for e in card["body"] if e["type"] == "FactSet")
    assert facts["facts"] == [{"title": "When", "value": "Tue 4 March, 4pm"}]
    actions = next(e for e in card["body"] if e["type"] == "ActionSet")["actions"]
    assert [(a["title"], a.get("style")) for a in actions] == [
        ("Going", "positive"), ("Can't come", "destructive")]
    assert actions[0]["data"] == {"partnershipBot": "action", "actionId": "meeting.rsvp",
                                  "value": "v1:meeting.rsvp:12:going"}
    assert render.summary(reply) == "Heads' meeting"


def test_an_error_is_marked_for_attention() -> None:
    card = render.card(Reply.error("I can't find that.", "Try `partnership list`."))
    assert card["body"][0]["color"] == "Attention"
    assert card["body"][1]["text"] == "Try **partnership list**."


def test_a_long_list_is_cut_to_fit_with_a_count_of_the_rest() -> None:
    lines = [f"School number {n}: a long enough line to take some room" for n in range(2000)]
    reply = Reply(title="Every school", sections=[Section(heading="Schools", lines=lines),
                                                   Section(lines=["The end."])])
    card = render.card(reply)
    assert render.card_size(card) <= render.MAX_CARD_BYTES
    texts = [e["text"] for e in card["body"] if e["type"] == "TextBlock"]
    assert texts[2] == "School number 0: a long enough line to take some room"
    cut = next(t for t in texts if t.startswith("…and "))
    shown = sum(1 for t in texts if t.startswith("School number"))
    assert cut == f"…and {2000 - shown} more"
    assert texts[-1] == "The end."


def test_a_small_reply_is_not_cut() -> None:
    reply = Reply(title="Three", sections=[Section(lines=["a", "b", "c"])])
    assert "more" not in json.dumps(render.card(reply))


def test_many_buttons_are_split_into_sets_teams_can_show() -> None:
    buttons = [Button(f"Option {n}", MeetingRsvp(n, RsvpAnswer.GOING)) for n in range(12)]
    card = render.card(Reply(title="Pick", sections=[Section(buttons=buttons)]))
    sets = [e for e in card["body"] if e["type"] == "ActionSet"]
    assert [len(s["actions"]) for s in sets] == [5, 5, 2]


FORM = Form(
    form_id="walk.log", title="Log a learning walk", submit_label="Save walk",
    intro="What did you see?", context="42",
    fields=[
        FormField("school", "Host school", required=True, placeholder="Monkfrith"),
        FormField("date", "Date", FieldKind.DATE, initial="2026-03-04"),
        FormField("focus", "Focus", FieldKind.SELECT, choices=(
            Choice("Reading", "reading"), Choice("Maths", "maths"))),
        FormField("phases", "Phases", FieldKind.MULTI_SELECT, choices=(
            Choice("Primary", "primary"), Choice("Secondary", "secondary"))),
        FormField("next steps", "Next steps", FieldKind.LONG_TEXT, max_length=3000,
                  hint="One per line"),
        FormField("with", "Who came", FieldKind.USERS),
        FormField("hours", "Hours", FieldKind.NUMBER),
    ],
)


def test_a_form_becomes_inputs_with_a_submit_carrying_its_id_and_context() -> None:
    card = render.form_card(FORM)
    inputs = [e for e in card["body"] if e["type"].startswith("Input.")]
    assert [(i["type"], i["label"]) for i in inputs] == [
        ("Input.Text", "Host school"), ("Input.Date", "Date"), ("Input.ChoiceSet", "Focus"),
        ("Input.ChoiceSet", "Phases"), ("Input.Text", "Next steps"),
        ("Input.ChoiceSet", "Who came"), ("Input.Number", "Hours")]
    school, date, focus, phases, steps, people, _ = inputs
    assert school["isRequired"] and school["errorMessage"] == "Please fill in host school."
    assert school["placeholder"] == "Monkfrith"
    assert date["value"] == "2026-03-04"
    assert focus["choices"] == [{"title": "Reading", "value": "reading"},
                                {"title": "Maths", "value": "maths"}]
    assert not focus["isMultiSelect"] and phases["isMultiSelect"]
    assert steps["isMultiline"] and steps["maxLength"] == 3000
    assert people["choices.data"] == {"type": "Data.Query",
                                      "dataset": "graph.microsoft.com/users"}
    action = card["body"][-1]["actions"][0]
    assert action["title"] == "Save walk"
    assert action["data"]["formId"] == "walk.log" and action["data"]["context"] == "42"


def test_submitted_values_come_back_by_field_name() -> None:
    data = render.form_card(FORM)["body"][-1]["actions"][0]["data"]
    submitted = {**data, "field0": " Monkfrith ", "field1": "2026-03-05", "field2": "maths",
                 "field3": "primary,secondary", "field4": "", "field5": "aad-1,aad-2",
                 "field6": 2.5}
    assert render.form_values(submitted) == {
        "school": "Monkfrith", "date": "2026-03-05", "focus": "maths",
        "phases": ["primary", "secondary"], "with": ["aad-1", "aad-2"], "hours": "2.5"}


def test_field_errors_are_listed_by_label() -> None:
    reply = render.field_errors_reply({"school": "Please name the host school."},
                                      {"school": "Host school"})
    assert reply.tone is Tone.ERROR
    assert reply.sections[0].lines == ["Host school: Please name the host school."]
