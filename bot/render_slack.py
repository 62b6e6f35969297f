"""Neutral replies as Slack Block Kit.

All text passes through `escape`, so a name such as "<!channel>" shows as typed and never pings."""

from __future__ import annotations

from typing import Any

from handlers.replies import Reply, Section, Tone, Visibility

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_FALLBACK_TEXT = 3000

TONE_MARK = {Tone.SUCCESS: "✅ ", Tone.WARNING: "⚠️ ", Tone.ERROR: "⚠️ ", Tone.INFO: ""}

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters; everything else in mrkdwn is safe to show."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
                 "text": _cut(f"*{escape(f.label)}*\n{escape(f.value)}", MAX_FIELD_TEXT)}
                for f in section.facts[start : start + MAX_FIELDS]
            ],
        })
    if section.buttons:
        blocks.append({
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": _cut(b.label, 75)},
                 "action_id": b.action_id, "value": b.value,
                 **({"style": b.style} if b.style else {})}
                for b in section.buttons[:25]
            ],
        })
    return blocks


def blocks(reply: Reply) -> list[Block]:
    result = [_mrkdwn(_cut(f"{TONE_MARK[reply.tone]}*{escape(reply.title)}*", MAX_SECTION_TEXT))]
    for section in reply.sections:
        result.extend(_section_blocks(section))
    if len(result) > MAX_BLOCKS:
        overflow = {"type": "context", "elements": [
            {"type": "mrkdwn", "text": "…and more than fits in one Slack message."}]}
        result = [*result[: MAX_BLOCKS - 1], overflow]
    return result


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
