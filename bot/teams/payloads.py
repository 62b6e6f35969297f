"""What a Bot Framework activity says about where it comes from and what it asks for, for the
log lines of its request."""

from __future__ import annotations

import re
from typing import Any

from bot.teams.render import SUBMIT_KIND
from handlers.dispatch import command_names

# "<at>Partnership Bot</at> partnership list": the mention before a command in a channel.
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


def log_fields(activity: Any) -> dict[str, str | None]:
    """The platform, the tenant and the command (a known command's name, `card:<id>` for a card
    button or form, or the activity's type); never what was typed after the command."""
    if not isinstance(activity, dict):
        return {"platform": "teams"}
    conversation = activity.get("conversation") or {}
    channel_data = activity.get("channelData") or {}
    tenant = conversation.get("tenantId") or (channel_data.get("tenant") or {}).get("id")
    return {"platform": "teams", "workspace": tenant, "command": _asked(activity)}


def _asked(activity: dict[str, Any]) -> str | None:
    value = activity.get("value")
    if isinstance(value, dict) and value.get(SUBMIT_KIND):
        return f"card:{value.get('actionId') or value.get('formId') or ''}"
    if activity.get("type") != "message":
        kind = activity.get("type")
        return str(kind) if kind else None
    words = _MENTION.sub(" ", str(activity.get("text") or "")).split()
    word = words[0].removeprefix("/").lower() if words else ""
    return word if word in (*command_names(), "help") else "message"
