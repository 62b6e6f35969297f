"""Requests to the bot signed the way Slack signs them, built from Slack's documented payloads."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

FIXTURES = Path(__file__).parent.parent / "fixtures" / "slack"
SIGNING_SECRET = "test-signing-secret-not-real"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def signed_headers(body: str, *, secret: str = SIGNING_SECRET,
                   timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


class SlackClientSim:
    """Sends what Slack would send to the bot's /slack/events endpoint."""

    def __init__(self, session: aiohttp.ClientSession, events_url: str,
                 response_url: str) -> None:
        self.session = session
        self.events_url = events_url
        self.response_url = response_url

    def command_body(self, command: str, text: str, **overrides: str) -> str:
        payload = fixture("slash_command.json")
        payload.update(command=command, text=text, response_url=self.response_url)
        payload.update(overrides)
        return urlencode(payload)

    async def post(self, body: str, headers: dict[str, str]) -> aiohttp.ClientResponse:
        async with self.session.post(self.events_url, data=body.encode(),
                                     headers=headers) as response:
            await response.read()
            return response

    async def command(self, command: str, text: str, **overrides: str) -> aiohttp.ClientResponse:
        body = self.command_body(command, text, **overrides)
        return await self.post(body, signed_headers(body))
