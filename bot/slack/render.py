"""Neutral replies as Slack Block Kit.

All text passes through `escape`, so a name such as "<!channel>" shows as typed and never pings."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, assert_never

from handlers.context import Platform
from handlers.forms import Choice, FieldKind, Form, FormField, FormValues
from handlers.replies import Fact, Person, Reply, Section, Tone, Visibility

MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_ACTIONS = 25
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_FALLBACK_TEXT = 3000

TONE_MARK = {Tone.SUCCESS: "✅ ", Tone.WARNING: "⚠️ ", Tone.ERROR: "⚠️ ", Tone.INFO: ""}

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters; everything else in mrkdwn is safe to show."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def person(who: Person) -> str:
    """A real mention for a Slack user we know by id; otherwise the escaped name."""
    if who.platform == Platform.SLACK and who.user_id and _SLACK_USER_ID.fullmatch(who.user_id):
        return f"<@{who.user_id}>"
    return escape(who.plain())


def _fact_text(fact: Fact) -> str:
    people = ", ".join(person(p) for p in fact.people)
    return " ".join(part for part in (people, escape(fact.value)) if part)


def _mrkdwn(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line_chunks(lines: list[str], limit: int) -> list[str]:
    """Join lines into as few texts as fit Slack's per-section limit, never splitting a line."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = _cut(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def _section_blocks(section: Section) -> list[Block]:
    blocks: list[Block] = []
    lines = [escape(line) for line in section.lines]
    if section.heading:
        lines.insert(0, f"*{escape(section.heading)}*")
    blocks.extend(_mrkdwn(chunk) for chunk in _line_chunks(lines, MAX_SECTION_TEXT))
    for start in range(0, len(section.facts), MAX_FIELDS):
        blocks.append({
            "type": "section",
            "fields": [
                {"type": "mrkdwn",
                 "text": _cut(f"*{escape(f.label)}*\n{_fact_text(f)}", MAX_FIELD_TEXT)}
                for f in section.facts[start : start + MAX_FIELDS]
            ],
        })
    if section.buttons:
        seen: Counter[str] = Counter()
        elements = []
        for b in section.buttons[:MAX_ACTIONS]:
            kind = b.data.kind
            elements.append({
                "type": "button", "text": {"type": "plain_text", "text": _cut(b.label, 75)},
                "action_id": _unique(kind, seen[kind]), "value": b.data.pack(),
                **({"style": b.style} if b.style else {})})
            seen[kind] += 1
        blocks.append({"type": "actions", "elements": elements})
    if section.links:
        # Link buttons: Slack opens the address (and still reports the press, which the app
        # acknowledges and ignores: see LINK_ACTION).
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": _cut(link.label, 75)},
             "action_id": _unique(LINK_ACTION, n),
             "url": link.url, "style": "primary"}
            for n, link in enumerate(section.links[:MAX_ACTIONS])]})
    return blocks


# Slack wants each action_id unique within its block; buttons sharing one (a meeting's three
# replies) get "#1", "#2" after the second and third, which `action_name` takes off again.
ACTION_COPY = "#"
# The action id of link buttons, which Slack reports though there is nothing to do.
LINK_ACTION = "link"


def _unique(action_id: str, copies_before: int) -> str:
    return action_id if not copies_before else f"{action_id}{ACTION_COPY}{copies_before}"


def action_name(action_id: str) -> str:
    """The core's action id of a pressed button."""
    return action_id.split(ACTION_COPY, 1)[0]


def blocks(reply: Reply, limit: int = MAX_BLOCKS) -> list[Block]:
    result = [_mrkdwn(_cut(f"{TONE_MARK[reply.tone]}*{escape(reply.title)}*", MAX_SECTION_TEXT))]
    for section in reply.sections:
        result.extend(_section_blocks(section))
    if len(result) > limit:
        overflow = {"type": "context", "elements": [
            {"type": "mrkdwn", "text": "…and more than fits in one Slack message."}]}
        result = [*result[: limit - 1], overflow]
    return result


def home_view(reply: Reply) -> dict[str, Any]:
    """The reply as the App Home tab's view (for views.publish)."""
    return {"type": "home", "blocks": blocks(reply, MAX_HOME_BLOCKS)}


def fallback_text(reply: Reply) -> str:
    """The notification text: shown in alerts and by clients that cannot draw blocks."""
    return _cut(escape(reply.title), MAX_FALLBACK_TEXT)


def message(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for `respond()` / `chat.postMessage`."""
    body: dict[str, Any] = {"text": fallback_text(reply), "blocks": blocks(reply)}
    if reply.visibility is Visibility.PUBLIC:
        body["response_type"] = "in_channel"
    else:
        body["response_type"] = "ephemeral"
    return body


# --- forms as modals ------------------------------------------------------------------------

MAX_MODAL_BLOCKS = 100
MAX_OPTIONS = 100
# Slack's own limits on modal text.
MAX_MODAL_TITLE = 24
MAX_LABEL = 2000
MAX_HINT = 2000
VALUE_ACTION = "value"


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit)}


def _option(choice: Choice) -> dict[str, Any]:
    return {"text": _plain(choice.label, 75), "value": choice.value[:150]}


def _several(form_field: FormField) -> tuple[str, ...]:
    initial = form_field.initial
    return (initial,) if isinstance(initial, str) else initial or ()


def _element(form_field: FormField) -> dict[str, Any]:
    element: dict[str, Any]
    match form_field.kind:
        case FieldKind.TEXT | FieldKind.LONG_TEXT:
            element = {"type": "plain_text_input",
                       "multiline": form_field.kind is FieldKind.LONG_TEXT}
            if form_field.max_length:
                element["max_length"] = form_field.max_length
            if form_field.initial:
                element["initial_value"] = form_field.initial
        case FieldKind.DATE:
            element = {"type": "datepicker"}
            if form_field.initial:
                element["initial_date"] = form_field.initial
        case FieldKind.NUMBER:
            element = {"type": "number_input", "is_decimal_allowed": True}
            if form_field.initial:
                element["initial_value"] = form_field.initial
        case FieldKind.SELECT:
            element = {"type": "static_select",
                       "options": [_option(c) for c in form_field.choices[:MAX_OPTIONS]]}
            initial = [c for c in form_field.choices if c.value == form_field.initial]
            if initial:
                element["initial_option"] = _option(initial[0])
        case FieldKind.MULTI_SELECT:
            element = {"type": "multi_static_select",
                       "options": [_option(c) for c in form_field.choices[:MAX_OPTIONS]]}
            chosen = [_option(c) for c in form_field.choices if c.value in _several(form_field)]
            if chosen:
                element["initial_options"] = chosen
        case FieldKind.CHECKBOXES:
            element = {"type": "checkboxes",
                       "options": [_option(c) for c in form_field.choices[:10]]}
        case FieldKind.USER:
            element = {"type": "users_select"}
            if isinstance(form_field.initial, str):
                element["initial_user"] = form_field.initial
        case FieldKind.USERS:
            element = {"type": "multi_users_select"}
            if _several(form_field):
                element["initial_users"] = list(_several(form_field))
        case unknown:
            assert_never(unknown)
    element["action_id"] = VALUE_ACTION
    if form_field.placeholder and form_field.kind not in (FieldKind.DATE, FieldKind.CHECKBOXES):
        element["placeholder"] = _plain(form_field.placeholder, 150)
    return element


def modal(form: Form, channel_id: str | None) -> dict[str, Any]:
    """A Slack modal view for `form`. The channel it was opened from rides in private_metadata
    (view submissions carry no channel) so the confirmation can go back there."""
    view_blocks: list[Block] = []
    if form.intro:
        view_blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _cut(escape(form.intro), MAX_SECTION_TEXT)}]})
    for form_field in form.fields:
        block: Block = {
            "type": "input",
            "block_id": form_field.name,
            "label": _plain(form_field.label, MAX_LABEL),
            "optional": not form_field.required,
            "element": _element(form_field),
        }
        if form_field.hint:
            block["hint"] = _plain(form_field.hint, MAX_HINT)
        view_blocks.append(block)
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "title": _plain(form.title, MAX_MODAL_TITLE),
        "submit": _plain(form.submit_label, MAX_MODAL_TITLE),
        "close": _plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"context": form.context, "channel": channel_id}),
        "blocks": view_blocks[:MAX_MODAL_BLOCKS],
    }


def form_values(view: dict[str, Any]) -> FormValues:
    """What the person entered in a submitted modal, keyed by field name; empty fields left out."""
    values: FormValues = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        state = actions.get(VALUE_ACTION, {})
        value: str | list[str] | None
        match state.get("type"):
            case "datepicker":
                value = state.get("selected_date")
            case "static_select":
                value = (state.get("selected_option") or {}).get("value")
            case "multi_static_select":
                value = [o["value"] for o in state.get("selected_options") or []]
            case "multi_users_select":
                value = list(state.get("selected_users") or [])
            case "users_select":
                value = state.get("selected_user")
            case "checkboxes":
                value = [o["value"] for o in state.get("selected_options") or []]
            case _:
                value = state.get("value")
        if value:
            values[block_id] = value
    return values


def form_metadata(view: dict[str, Any]) -> tuple[str, str | None]:
    """The form's context and the channel it was opened from."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    channel = meta.get("channel")
    return str(meta.get("context") or ""), channel if isinstance(channel, str) else None
