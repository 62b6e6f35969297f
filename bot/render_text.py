"""Neutral replies as plain text, for the local shell."""

from __future__ import annotations

import re
from typing import assert_never

from handlers.forms import FieldKind, Form, FormField
from handlers.replies import Reply, Tone

_CODE = re.compile(r"`([^`]*)`")
_MARK = {Tone.SUCCESS: "✓ ", Tone.WARNING: "! ", Tone.ERROR: "✗ ", Tone.INFO: ""}


def _plain(text: str) -> str:
    return _CODE.sub(r"\1", text)


def render(reply: Reply) -> str:
    out = [_MARK[reply.tone] + _plain(reply.title)]
    for section in reply.sections:
        if section.heading:
            out.append("")
            out.append(_plain(section.heading))
        width = max((len(f.label) for f in section.facts), default=0)
        out.extend(f"  {f.label.ljust(width)}  {_plain(f.plain_value())}" for f in section.facts)
        out.extend(f"  • {_plain(line)}" for line in section.lines)
        if section.buttons:
            out.append("  [" + "] [".join(b.label for b in section.buttons) + "]")
            typed = [b.typed for b in section.buttons if b.typed]
            if typed:  # nothing to press here: what to type instead
                out.append("  Or type: " + " · ".join(typed))
        # No clicking in a terminal: a link is shown in full, to copy into a browser.
        out.extend(f"  {link.label}: {link.url}" for link in section.links)
    return "\n".join(out)


def _kind_words(kind: FieldKind) -> str | None:
    """What to type for a field of this kind, where its label alone does not say."""
    match kind:
        case FieldKind.DATE:
            return "a date"
        case FieldKind.NUMBER:
            return "a number"
        case FieldKind.USERS:
            return "names or @mentions"
        case FieldKind.USER:
            return "a name or @mention"
        case FieldKind.CHECKBOXES:
            return "add the word to tick it"
        case FieldKind.SELECT:
            return "one of"
        case FieldKind.MULTI_SELECT:
            return "any of, separated by commas"
        case FieldKind.TEXT | FieldKind.LONG_TEXT:
            return None
        case unknown:
            assert_never(unknown)


def render_form(form: Form) -> str:
    """A form where none can be shown: its fields as a usage hint for the text command."""
    out = [f"{form.title}: the fields to type"]
    if form.intro:
        out.append(_plain(form.intro))
    out.extend(_form_field(f) for f in form.fields)
    return "\n".join(out)


def _form_field(form_field: FormField) -> str:
    key = f"<{form_field.name}>" if form_field.positional else f"{form_field.name}:"
    notes = ["required" if form_field.required else "optional"]
    words = _kind_words(form_field.kind)
    if form_field.kind is FieldKind.CHECKBOXES:
        key = " / ".join(c.value for c in form_field.choices)
        notes.append(words or "")
    elif form_field.choices:
        shown = [c.label for c in form_field.choices[:12]]
        more = len(form_field.choices) - len(shown)
        notes.append(f"{words}: " + "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))
    elif words:
        notes.append(words)
    if form_field.max_length:
        notes.append(f"up to {form_field.max_length} characters")
    line = f"  {key}  {form_field.label} ({', '.join(notes)})"
    if form_field.hint:
        line += f"\n      {_plain(form_field.hint)}"
    if isinstance(form_field.initial, str) and form_field.initial.strip():
        # What the form would show filled in (a draft's text, a record being edited).
        filled = " / ".join(form_field.initial.split("\n"))
        line += f"\n      now: {filled if len(filled) <= 200 else filled[:199] + '…'}"
    return line
