"""Bot Framework activities, as Teams sends them to the bot's /api/messages, built from the
documented payloads in tests/fixtures/teams."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp

FIXTURES = Path(__file__).parent.parent / "fixtures" / "teams"
BOT_ID = "28:11111111-2222-4333-8444-555555555555"
TENANT = "0f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c"
USER_AAD_ID = "5d7a3c2e-1b4f-4e6a-9c8d-0f1e2d3c4b5a"
CHANNEL_ID = "19:heads0channel0test0id@thread.tacv2"
GROUP_CHAT_ID = "19:meeting0groupchat0test0id@thread.v2"
CARD_ID = "1:1TestCardActivityIdFromTheBotNotReal"


def fixture(name: str) -> dict[str, Any]:
    """A documented activity, with a new id of its own as each activity Teams sends has (the
    bot runs an id once: sending the same dict twice is a replay)."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    data["id"] = f"1:{uuid.uuid4().hex}"
    return data


def as_user(activity: dict[str, Any], name: str, aad_id: str) -> dict[str, Any]:
    activity = copy.deepcopy(activity)
    activity["from"] = {"id": f"29:test-{aad_id}", "name": name, "aadObjectId": aad_id}
    return activity


class TeamsClientSim:
    """Sends what Teams (through the Bot Connector) would send to the bot."""

    def __init__(self, session: aiohttp.ClientSession, messages_url: str,
                 service_url: str) -> None:
        self.session = session
        self.messages_url = messages_url
        self.service_url = service_url

    def personal(self, text: str) -> dict[str, Any]:
        activity = fixture("personal_message.json")
        activity["text"] = text
        return activity

    def in_channel(self, text: str) -> dict[str, Any]:
        """A channel message that @mentions the bot before `text`."""
        activity = fixture("channel_mention.json")
        activity["text"] = f"<at>Partnership Bot</at> {text}"
        return activity

    def in_group_chat(self, text: str) -> dict[str, Any]:
        """A group chat message that @mentions the bot before `text`."""
        activity = fixture("group_chat_mention.json")
        activity["text"] = f"<at>Partnership Bot</at> {text}"
        return activity

    def card_submit(self, value: dict[str, Any]) -> dict[str, Any]:
        activity = fixture("card_submit.json")
        activity["value"] = value
        return activity

    def card_action(self, data: dict[str, Any], verb: str = "",
                    where: str = "channel") -> dict[str, Any]:
        """An Action.Execute pressed on a card (or a card's refresh), as the invoke Teams sends:
        in the channel, the group chat or a personal chat."""
        base = {"channel": "card_submit.json", "group chat": "group_chat_mention.json",
                "personal": "personal_message.json"}[where]
        activity = fixture(base)
        activity.pop("text", None)
        activity.pop("value", None)
        activity.update(type="invoke", name="adaptiveCard/action", replyToId=CARD_ID,
                        value={"action": {"type": "Action.Execute", "verb": verb,
                                          "data": data}, "trigger": "manual"})
        return activity

    async def invoke(self, activity: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Send an invoke; the HTTP status and the invoke response's body."""
        activity = {**activity, "serviceUrl": self.service_url}
        async with self.session.post(self.messages_url, json=activity) as response:
            body = await response.json(content_type=None) if response.status == 200 else {}
            return response.status, body or {}

    async def post(self, activity: dict[str, Any],
                   headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        activity = {**activity, "serviceUrl": self.service_url}
        async with self.session.post(self.messages_url, json=activity,
                                     headers=headers or {}) as response:
            await response.read()
            return response

    async def say(self, text: str, *, channel: bool = False) -> aiohttp.ClientResponse:
        return await self.post(self.in_channel(text) if channel else self.personal(text))
