"""Neutral replies, forms and buttons as Adaptive Cards for Microsoft Teams.

Every piece of text goes through `escape`, so a name typed as "<at>Everyone</at>" or "**x**"
shows as typed: it can neither become a mention nor change the formatting. Every card, reply or
form, goes through one size guard (`fit`) that keeps it under Teams' message limit, cutting the
longest lists with "…and N more" (and a link to the whole list where the section has one)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, assert_never

from handlers.forms import Choice, FieldKind, Form, FormField, FormValues
from handlers.replies import Button, Fact, Link, Person, Reply, Section, Tone

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# 1.5 is what Teams renders on desktop, web and mobile; nothing newer is used.
CARD_VERSION = "1.5"
# Teams refuses a bot's message over about 28 KB. Every card goes through one guard (`fit`)
# that keeps it, with the activity around it (ids, names, the summary), under that.
TEAMS_MESSAGE_LIMIT = 28 * 1024
ACTIVITY_ROOM = 2 * 1024
MAX_CARD_BYTES = TEAMS_MESSAGE_LIMIT - ACTIVITY_ROOM
# Once a card must be cut, no one text runs longer than this (characters)...
LONG_TEXT = 2_000
# ...and should that not be enough, than this.
SHORT_TEXT = 300
MAX_ACTIONS_PER_SET = 5
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
            parts.append(f"**{_escape_inline(_command(match.group(1)))}**")
        last = match.end()
    parts.append(_escape_inline(text[last:]))
    return _escape_line_starts("".join(parts))


def plain(text: str) -> str:
    """Text for places that show no Markdown (button titles, input labels, notifications)."""
    return _CODE.sub(lambda m: _command(m.group(1)), text)


# A command in a code span, as the core writes it for a platform with slash commands
# ("`/partnership digest East Barnet`", in a digest that goes to Slack and Teams alike): in
# Teams there are none, so the command is shown as it is typed there, without the slash.
_SLASH_COMMAND = re.compile(r"^/(?=[a-z])")


def _command(text: str) -> str:
    return _SLASH_COMMAND.sub("", text)


def _text(text: str, **extra: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


# --- the size guard -------------------------------------------------------------------------


ListKey = tuple[int, str]  # (section or field index, which list: "lines", "facts", ...)


@dataclass
class Cuts:
    """How much of a card to show: the longest text, and how many items of each cut list."""

    text: int | None = None
    kept: dict[ListKey, int] = field(default_factory=dict)

    def shown(self, key: ListKey, items: Sequence[Any]) -> int:
        return min(len(items), self.kept.get(key, len(items)))

    def clip(self, text: str) -> str:
        if self.text is None or len(text) <= self.text:
            return text
        return text[: self.text - 1].rstrip() + "…"


Content = TypeVar("Content")


def card_size(card: Element) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def fit(content: Content, build: Callable[[Content, Cuts], Element],
        lists: dict[ListKey, tuple[int, int]], too_long: Callable[[], Element],
        limit: int = MAX_CARD_BYTES) -> Element:
    """The one size guard every card goes through: `build` it whole; if it is over `limit`,
    clip long texts, then shorten the heaviest list still shown (by its items' count times
    their typical size, from `lists`: key -> (items, bytes per item)) by about as many items
    as the card is over, until it fits. A card that still cannot fit (it has no lists left to
    cut) becomes `too_long()`."""
    cuts = Cuts()
    card = build(content, cuts)
    size = card_size(card)
    if size <= limit:
        return card
    cuts.text = LONG_TEXT
    card = build(content, cuts)
    while (size := card_size(card)) > limit:
        shown = {key: min(count, cuts.kept.get(key, count)) for key, (count, _) in lists.items()}
        heaviest = max(lists, key=lambda key: shown[key] * lists[key][1], default=None)
        if heaviest is None or shown[heaviest] == 0:
            if cuts.text == SHORT_TEXT:
                return too_long()
            cuts.text = SHORT_TEXT
        else:
            over = -(-(size - limit) // lists[heaviest][1])  # items' worth, rounded up
            cuts.kept[heaviest] = max(0, shown[heaviest] - max(1, over))
        card = build(content, cuts)
    return card


def _more(hidden: int, link: str | None) -> Element:
    """The line that stands for what a cut list leaves out."""
    text = f"…and {hidden} more"
    if link:
        text += f": [see them all]({link})"
    return _text(text, isSubtle=True, spacing="Small")


# --- replies --------------------------------------------------------------------------------


def _actions(buttons: Sequence[Button]) -> list[Element]:
    """Buttons as Universal Actions (Action.Execute): a press comes back as an invoke, which
    answers with the card brought up to date, for everyone who sees it (bot/teams/app.py)."""
    sets = []
    for start in range(0, len(buttons), MAX_ACTIONS_PER_SET):
        sets.append({"type": "ActionSet", "actions": [
            {
                "type": "Action.Execute",
                "title": plain(b.label)[:80],
                "verb": b.data.kind,
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


def _section_elements(index: int, section: Section, cuts: Cuts) -> list[Element]:
    elements: list[Element] = []
    link = section.more_link
    if section.heading:
        elements.append(_text(markdown(cuts.clip(section.heading)), weight="Bolder",
                              spacing="Medium"))
    shown = cuts.shown((index, "lines"), section.lines)
    elements.extend(_text(markdown(cuts.clip(line)), spacing="Small")
                    for line in section.lines[:shown])
    if shown < len(section.lines):
        elements.append(_more(len(section.lines) - shown, link))
    shown = cuts.shown((index, "facts"), section.facts)
    if shown:
        elements.append({"type": "FactSet", "facts": [
            {"title": markdown(cuts.clip(f.label)), "value": _fact_value(f, cuts)}
            for f in section.facts[:shown]
        ]})
    if shown < len(section.facts):
        elements.append(_more(len(section.facts) - shown, link))
    shown = cuts.shown((index, "buttons"), section.buttons)
    elements.extend(_actions(section.buttons[:shown]))
    if shown < len(section.buttons):
        elements.append(_more(len(section.buttons) - shown, link))
    elements.extend(_links(section.links))
    return elements


# --- mentions -------------------------------------------------------------------------------


TEAMS = "teams"


def mention_text(person: Person) -> str | None:
    """How a Teams user named in a reply is written in the card (`<at>name</at>`, with its
    entity beside the body, see `_with_mentions`); None for anyone else (shown by name)."""
    if person.platform != TEAMS or not person.user_id or not person.name:
        return None
    return f"<at>{_escape_inline(person.name)}</at>"


def _fact_value(fact: Fact, cuts: Cuts) -> str:
    people = ", ".join(mention_text(p) or markdown(p.plain()) for p in fact.people)
    value = markdown(cuts.clip(fact.value)) if fact.value else ""
    return " ".join(part for part in (people, value) if part)


def _with_mentions(card: Element, reply: Reply) -> Element:
    """The card with a mention entity for each Teams user named in it, so Teams shows a real
    mention (and tells them); the entity's text is exactly what the card says."""
    shown = json.dumps(card["body"], ensure_ascii=False)
    entities: list[Element] = []
    seen: set[tuple[str, str]] = set()
    for section in reply.sections:
        for fact in section.facts:
            for person in fact.people:
                text = mention_text(person)
                if text is None or person.user_id is None:
                    continue
                if (text, person.user_id) in seen or json.dumps(text)[1:-1] not in shown:
                    continue
                seen.add((text, person.user_id))
                entities.append({"type": "mention", "text": text,
                                 "mentioned": {"id": person.user_id, "name": person.name}})
    if entities:
        card["msteams"] = {**card.get("msteams", {}), "entities": entities}
    return card


def _card(body: list[Element]) -> Element:
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }


# A reply with this many sections is a list of them (meetings, partnerships): cut as a list.
MANY_SECTIONS = 4
SECTIONS: ListKey = (-1, "sections")


def _reply_card(reply: Reply, cuts: Cuts) -> Element:
    body = [_text(TONE_MARK[reply.tone] + markdown(cuts.clip(reply.title)), weight="Bolder",
                  size="Medium", color=TONE_COLOR[reply.tone])]
    shown = cuts.shown(SECTIONS, reply.sections)
    for index, section in enumerate(reply.sections[:shown]):
        body.extend(_section_elements(index, section, cuts))
    if shown < len(reply.sections):
        links = {s.more_link for s in reply.sections if s.more_link}
        body.append(_more(len(reply.sections) - shown, links.pop() if len(links) == 1 else None))
    return _card(body)


def _reply_lists(reply: Reply) -> dict[ListKey, tuple[int, int]]:
    """The lists a reply may be cut in: each section's lines, facts and buttons, and the
    sections themselves when there are many; with the typical size of one item (bytes)."""
    lists: dict[ListKey, tuple[int, int]] = {}
    if len(reply.sections) >= MANY_SECTIONS:
        lists[SECTIONS] = (len(reply.sections),
                           card_size(_reply_card(reply, Cuts())) // len(reply.sections))
    for index, section in enumerate(reply.sections):
        for kind, items, base in (("lines", section.lines, 60), ("facts", section.facts, 40),
                                  ("buttons", section.buttons, 150)):
            if items:
                lists[(index, kind)] = (len(items), base + _average_length(items))
    return lists


def _average_length(items: Sequence[Any]) -> int:
    return sum(len(json.dumps(item, default=repr)) for item in items) // len(items)


def too_long_card() -> Element:
    return _reply_card(Reply.error(
        "That answer is too long to show in Teams.",
        "Ask for less at a time, for example for one partnership."), Cuts())


def card(reply: Reply) -> Element:
    """The reply as one Adaptive Card, through the size guard, with its people mentioned."""
    return _with_mentions(fit(reply, _reply_card, _reply_lists(reply), too_long_card), reply)


# The verb of the home card's refresh: Teams asks for the card again each time it is shown.
HOME_VERB = "home.refresh"
ORIGIN_HOME = "home"


def home_card(reply: Reply, user_id: str | None) -> Element:
    """The person's home (handlers/home.py) as a card that Teams refreshes whenever it is
    opened (`refresh` with an Action.Execute), and whose buttons say they were pressed on it,
    so the answer to one is the home brought up to date."""
    content = card(reply)
    for action in _all_executes(content):
        action["data"]["origin"] = ORIGIN_HOME
    content["refresh"] = {
        "action": {"type": "Action.Execute", "verb": HOME_VERB,
                   "data": {SUBMIT_KIND: ORIGIN_HOME}},
        **({"userIds": [user_id]} if user_id else {}),
    }
    return content


def _all_executes(node: Any) -> list[Element]:
    found: list[Element] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute" and isinstance(node.get("data"), dict):
            found.append(node)
        for value in node.values():
            found.extend(_all_executes(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_all_executes(item))
    return found


def summary(reply: Reply) -> str:
    """The notification and chat-list preview text."""
    return plain(reply.title)[:MAX_SUMMARY]


# --- forms ----------------------------------------------------------------------------------


def input_id(index: int) -> str:
    # Field names are words ("next steps"); ids stay simple and never collide with our keys.
    return f"field{index}"


def _choices(form_field: FormField, shown: int) -> list[Element]:
    return [{"title": plain(c.label), "value": c.value} for c in form_field.choices[:shown]]


def _people_picker(multiple: bool) -> Element:
    """Teams' people picker: values come back as the people's Entra object ids."""
    return {"type": "Input.ChoiceSet", "isMultiSelect": multiple, "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}}


def _input(index: int, form_field: FormField, cuts: Cuts) -> Element:
    shown = cuts.shown((index, "choices"), form_field.choices)
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
                           choices=_choices(form_field, shown))
        case FieldKind.MULTI_SELECT:
            element.update(type="Input.ChoiceSet", style="compact", isMultiSelect=True,
                           choices=_choices(form_field, shown))
        case FieldKind.CHECKBOXES:
            # Expanded and multi-select: a tick box for each choice.
            element.update(type="Input.ChoiceSet", style="expanded", isMultiSelect=True,
                           choices=_choices(form_field, shown))
        case FieldKind.USER:
            element.update(_people_picker(multiple=False))
        case FieldKind.USERS:
            element.update(_people_picker(multiple=True))
        case unknown:
            assert_never(unknown)
    if form_field.initial:
        initial = form_field.initial
        # Choice sets take several values as one comma-separated string.
        element["value"] = initial if isinstance(initial, str) else ",".join(initial)
    if form_field.placeholder and form_field.kind is not FieldKind.DATE:
        element["placeholder"] = plain(form_field.placeholder)
    return element


# Kinds whose values come back as a list (Teams sends them as one comma-separated string).
MULTIPLE_VALUES = (FieldKind.MULTI_SELECT, FieldKind.USERS, FieldKind.CHECKBOXES)


def _form_card(form: Form, cuts: Cuts, errors: dict[str, str] | None = None) -> Element:
    body: list[Element] = [_text(markdown(form.title), weight="Bolder", size="Medium")]
    if errors:
        body.append(_text(TONE_MARK[Tone.ERROR] + ("Please fix this and send it again."
                                                   if len(errors) == 1 else
                                                   "Please fix these and send it again."),
                          color="Attention", weight="Bolder"))
    if form.intro:
        body.append(_text(markdown(cuts.clip(form.intro)), isSubtle=True))
    for index, form_field in enumerate(form.fields):
        body.append(_input(index, form_field, cuts))
        if errors and form_field.name in errors:
            # Beside its field, as a Slack modal shows it.
            body.append(_text(markdown(errors[form_field.name]), color="Attention",
                              size="Small", spacing="None"))
        shown = cuts.shown((index, "choices"), form_field.choices)
        if shown < len(form_field.choices):
            body.append(_text(
                f"Only the first {shown} of {len(form_field.choices)} are listed; to choose "
                "another, type the command with it instead.", isSubtle=True, size="Small",
                spacing="None"))
        if form_field.hint:
            body.append(_text(markdown(cuts.clip(form_field.hint)), isSubtle=True,
                              size="Small", spacing="None"))
    data = {
        SUBMIT_KIND: KIND_FORM,
        "formId": form.form_id,
        "context": form.context,
        "fields": {input_id(i): f.name for i, f in enumerate(form.fields)},
        "labels": {f.name: plain(f.label) for f in form.fields},
        "multi": [f.name for f in form.fields if f.kind in MULTIPLE_VALUES],
        # The form as shown, so that a submission with problems comes back as this card again
        # with each problem beside its field and what was typed kept.
        FORM_SPEC: _spec(form, cuts),
    }
    body.append({"type": "ActionSet", "actions": [
        {"type": "Action.Execute", "title": plain(form.submit_label), "style": "positive",
         "verb": form.form_id, "data": data},
    ]})
    return _card(body)


FORM_SPEC = "form"


def _spec(form: Form, cuts: Cuts) -> Element:
    return {"title": form.title, "submit": form.submit_label, "intro": form.intro,
            "fields": [{"name": f.name, "label": f.label, "kind": f.kind.value,
                        "required": f.required, "hint": f.hint,
                        "placeholder": f.placeholder, "max_length": f.max_length,
                        "choices": [[c.label, c.value] for c in
                                    f.choices[:cuts.shown((index, "choices"), f.choices)]]}
                       for index, f in enumerate(form.fields)]}


def form_card(form: Form, errors: dict[str, str] | None = None) -> Element:
    """A form as a card with inputs, through the size guard (long choice lists are cut, and
    say so); its submit button carries the form id and context back. With `errors`, each
    problem is shown beside its field."""
    lists = {(index, "choices"): (len(f.choices), 80 + 2 * _average_length(f.choices))
             for index, f in enumerate(form.fields) if f.choices}
    return fit(form, lambda shown, cuts: _form_card(shown, cuts, errors), lists, too_long_card)


def form_again(submitted: dict[str, Any]) -> Form | None:
    """The form a submission came from, filled in with what was sent (None if the card did
    not carry its form: one posted before it did, or a forged submission)."""
    spec = submitted.get(FORM_SPEC)
    if not isinstance(spec, dict):
        return None
    values = form_values(submitted)
    try:
        fields = [FormField(
            name=str(f["name"]), label=str(f["label"]), kind=FieldKind(f["kind"]),
            required=bool(f.get("required")), hint=f.get("hint"),
            placeholder=f.get("placeholder"), max_length=f.get("max_length"),
            choices=tuple(Choice(str(label), str(value)) for label, value in f["choices"]),
            initial=_initial(values.get(str(f["name"]))),
        ) for f in spec["fields"]]
        return Form(form_id=str(submitted.get("formId", "")), title=str(spec["title"]),
                    fields=fields, submit_label=str(spec.get("submit") or "Save"),
                    intro=spec.get("intro"), context=str(submitted.get("context", "")))
    except (KeyError, TypeError, ValueError):
        return None


def _initial(value: str | list[str] | None) -> str | tuple[str, ...] | None:
    return tuple(value) if isinstance(value, list) else value


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
