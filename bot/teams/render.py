"""Neutral replies, forms and buttons as Adaptive Cards for Microsoft Teams.

Every piece of text goes through `escape`, so a name typed as "<at>Everyone</at>" or "**x**"
shows as typed: it can neither become a mention nor change the formatting. Cards stay under
Teams' payload limit; long sections are cut with "…and N more"."""

from __future__ import annotations

import json
import re
from typing import Any, assert_never

from handlers.forms import FieldKind, Form, FormField, FormValues
from handlers.replies import Button, Link, Reply, Section, Tone

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# 1.5 is what Teams renders on desktop, web and mobile.
CARD_VERSION = "1.5"
# Teams refuses messages over about 28 KB; leave room for the activity around the card.
MAX_CARD_BYTES = 24_000
MAX_ACTIONS_PER_SET = 5
MAX_CHOICES = 100
MAX_SUMMARY = 300

# What a card's submit data carries, so a submission can be told from a typed message.
SUBMIT_KIND = "partnershipBot"
KIND_FORM = "form"
KIND_ACTION = "action"

TONE_MARK = {Tone.SUCCESS: "✅ ", Tone.WARNING: "⚠️ ", Tone.ERROR: "⚠️ ", Tone.INFO: ""}
TONE_COLOR = {Tone.SUCCESS: "Good", Tone.WARNING: "Warning", Tone.ERROR: "Attention",
              Tone.INFO: "Default"}
BUTTON_STYLE = {"primary": "positive", "danger": "destructive"}

Element = dict[str, Any]

_CODE = re.compile(r"`([^`]*)`")
# Markdown that Teams cards read anywhere in a line: emphasis, links, code.
_INLINE = re.compile(r"([\\`*_\[\]])")
# ...and at the start of a line: headings, quotes, list items.
_LINE_MARK = re.compile(r"^(\s*)([#>+\-])(?=\s|$)", re.MULTILINE)
_LINE_NUMBER = re.compile(r"^(\s*\d+)\.(?=\s|$)", re.MULTILINE)
# A zero-width space after "<" keeps text such as "<at>All</at>" from ever being read as a tag
# (a mention), while looking the same; Teams shows HTML entities literally, so no &lt; here.
_TAG_BREAK = "<\u200b"


def _escape_inline(text: str) -> str:
    return _INLINE.sub(r"\\\1", text).replace("<", _TAG_BREAK)


def _escape_line_starts(text: str) -> str:
    return _LINE_NUMBER.sub(r"\1\\.", _LINE_MARK.sub(r"\1\\\2", text))


def escape(text: str) -> str:
    """Plain text made safe for a TextBlock: shown as typed, never formatted or a mention."""
    return _escape_line_starts(_escape_inline(text))


def markdown(text: str) -> str:
    """Neutral text with its `code spans` shown in bold (Teams cards have no inline code)."""
    parts: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        parts.append(_escape_inline(text[last:match.start()]))
        if match.group(1).strip():
            parts.append(f"**{_escape_inline(match.group(1))}**")
        last = match.end()
    parts.append(_escape_inline(text[last:]))
    return _escape_line_starts("".join(parts))


def plain(text: str) -> str:
    """Text for places that show no Markdown (button titles, input labels, notifications)."""
    return _CODE.sub(r"\1", text)


def _text(text: str, **extra: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


# --- replies --------------------------------------------------------------------------------


def _actions(buttons: list[Button]) -> list[Element]:
    sets = []
    for start in range(0, len(buttons), MAX_ACTIONS_PER_SET):
        sets.append({"type": "ActionSet", "actions": [
            {
                "type": "Action.Submit",
                "title": plain(b.label)[:80],
                "data": {SUBMIT_KIND: KIND_ACTION, "actionId": b.data.kind,
                         "value": b.data.pack()},
                **({"style": BUTTON_STYLE[b.style]} if b.style in BUTTON_STYLE else {}),
            }
            for b in buttons[start : start + MAX_ACTIONS_PER_SET]
        ]})
    return sets


def _links(links: list[Link]) -> list[Element]:
    """Links open in the browser (Action.OpenUrl): nothing comes back to the bot."""
    return [{"type": "ActionSet", "actions": [
        {"type": "Action.OpenUrl", "title": plain(link.label)[:80], "url": link.url,
         "style": "positive"} for link in links[start : start + MAX_ACTIONS_PER_SET]]}
        for start in range(0, len(links), MAX_ACTIONS_PER_SET)]


def _section_elements(section: Section, line_limit: int | None) -> list[Element]:
    elements: list[Element] = []
    if section.heading:
        elements.append(_text(markdown(section.heading), weight="Bolder", spacing="Medium"))
    lines = section.lines
    if line_limit is not None and len(lines) > line_limit:
        hidden = len(lines) - line_limit
        lines = [*lines[:line_limit], f"…and {hidden} more"]
    elements.extend(_text(markdown(line), spacing="Small") for line in lines)
    if section.facts:
        elements.append({"type": "FactSet", "facts": [
            {"title": markdown(f.label), "value": markdown(f.plain_value())}
            for f in section.facts
        ]})
    elements.extend(_actions(section.buttons))
    elements.extend(_links(section.links))
    return elements


def _card(body: list[Element]) -> Element:
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }


def _reply_card(reply: Reply, line_limits: list[int | None]) -> Element:
    body = [_text(TONE_MARK[reply.tone] + markdown(reply.title), weight="Bolder",
                  size="Medium", color=TONE_COLOR[reply.tone])]
    for section, limit in zip(reply.sections, line_limits, strict=True):
        body.extend(_section_elements(section, limit))
    return _card(body)


def card_size(card: Element) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def card(reply: Reply) -> Element:
    """The reply as one Adaptive Card, its longest sections cut until it fits Teams' limit."""
    limits: list[int | None] = [None] * len(reply.sections)
    result = _reply_card(reply, limits)
    while card_size(result) > MAX_CARD_BYTES:
        shown = [len(s.lines) if limit is None else limit
                 for s, limit in zip(reply.sections, limits, strict=True)]
        longest = max(range(len(shown)), key=shown.__getitem__, default=None)
        if longest is None or shown[longest] == 0:
            break  # nothing left to cut: facts and buttons are never this large
        limits[longest] = shown[longest] // 2
        result = _reply_card(reply, limits)
    return result


def summary(reply: Reply) -> str:
    """The notification and chat-list preview text."""
    return plain(reply.title)[:MAX_SUMMARY]


# --- forms ----------------------------------------------------------------------------------


def input_id(index: int) -> str:
    # Field names are words ("next steps"); ids stay simple and never collide with our keys.
    return f"field{index}"


def _choices(form_field: FormField) -> list[Element]:
    return [{"title": plain(c.label), "value": c.value} for c in form_field.choices[:MAX_CHOICES]]


def _people_picker(multiple: bool) -> Element:
    """Teams' people picker: values come back as the people's Entra object ids."""
    return {"type": "Input.ChoiceSet", "isMultiSelect": multiple, "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}}


def _input(index: int, form_field: FormField) -> Element:
    element: Element = {"id": input_id(index), "label": plain(form_field.label),
                        "isRequired": form_field.required}
    if form_field.required:
        element["errorMessage"] = f"Please fill in {plain(form_field.label).lower()}."
    match form_field.kind:
        case FieldKind.TEXT | FieldKind.LONG_TEXT:
            element["type"] = "Input.Text"
            element["isMultiline"] = form_field.kind is FieldKind.LONG_TEXT
            if form_field.max_length:
                element["maxLength"] = form_field.max_length
        case FieldKind.DATE:
            element["type"] = "Input.Date"
        case FieldKind.NUMBER:
            element["type"] = "Input.Number"
        case FieldKind.SELECT:
            element.update(type="Input.ChoiceSet", style="compact", isMultiSelect=False,
                           choices=_choices(form_field))
        case FieldKind.MULTI_SELECT:
            element.update(type="Input.ChoiceSet", style="compact", isMultiSelect=True,
                           choices=_choices(form_field))
        case FieldKind.CHECKBOXES:
            # Expanded and multi-select: a tick box for each choice.
            element.update(type="Input.ChoiceSet", style="expanded", isMultiSelect=True,
                           choices=_choices(form_field))
        case FieldKind.USER:
            element.update(_people_picker(multiple=False))
        case FieldKind.USERS:
            element.update(_people_picker(multiple=True))
        case unknown:
            assert_never(unknown)
    if form_field.initial:
        element["value"] = form_field.initial
    if form_field.placeholder and form_field.kind is not FieldKind.DATE:
        element["placeholder"] = plain(form_field.placeholder)
    return element


# Kinds whose values come back as a list (Teams sends them as one comma-separated string).
MULTIPLE_VALUES = (FieldKind.MULTI_SELECT, FieldKind.USERS, FieldKind.CHECKBOXES)


def form_card(form: Form) -> Element:
    """A form as a card with inputs; its submit button carries the form id and context back."""
    body: list[Element] = [_text(markdown(form.title), weight="Bolder", size="Medium")]
    if form.intro:
        body.append(_text(markdown(form.intro), isSubtle=True))
    for index, form_field in enumerate(form.fields):
        body.append(_input(index, form_field))
        if form_field.hint:
            body.append(_text(markdown(form_field.hint), isSubtle=True, size="Small",
                              spacing="None"))
    data = {
        SUBMIT_KIND: KIND_FORM,
        "formId": form.form_id,
        "context": form.context,
        "fields": {input_id(i): f.name for i, f in enumerate(form.fields)},
        "labels": {f.name: plain(f.label) for f in form.fields},
        "multi": [f.name for f in form.fields if f.kind in MULTIPLE_VALUES],
    }
    body.append({"type": "ActionSet", "actions": [
        {"type": "Action.Submit", "title": plain(form.submit_label), "style": "positive",
         "data": data},
    ]})
    return _card(body)


def form_values(submitted: dict[str, Any]) -> FormValues:
    """What the person entered, keyed by field name; empty fields left out, multi-selects
    (sent by Teams as one comma-separated string) split into lists."""
    fields = submitted.get("fields")
    multi = set(submitted.get("multi") or [])
    values: FormValues = {}
    if not isinstance(fields, dict):
        return values
    for key, name in fields.items():
        raw = submitted.get(key)
        if raw is None or not isinstance(name, str):
            continue
        text = str(raw).strip()
        if not text:
            continue
        if name in multi:
            values[name] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            values[name] = text
    return values


def field_errors_reply(errors: dict[str, str], labels: dict[str, str]) -> Reply:
    """Teams cannot mark fields in place after a submit: list what to fix, by label."""
    lines = [f"{labels.get(name, name)}: {problem}" for name, problem in errors.items()]
    return Reply.error("Please fix this and press the button again:" if len(lines) == 1
                       else "Please fix these and press the button again:", *lines)
