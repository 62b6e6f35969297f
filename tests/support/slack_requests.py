"""Requests to the bot signed the way Slack signs them, built from Slack's documented payloads."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

FIXTURES = Path(__file__).parent.parent / "fixtures" / "slack"
SIGNING_SECRET = "test-signing-secret-not-real"
_triggers = itertools.count(1000)


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

    def command_body(self, command: str, text: str, **overrides: str | None) -> str:
        """Slack's documented slash command payload; an override of None leaves that field
        out (e.g. `enterprise_id=None` for a workspace outside Enterprise Grid)."""
        payload = fixture("slash_command.json")
        # Each invocation has its own trigger id and response_url, as in Slack.
        trigger = new_trigger_id()
        payload.update(command=command, text=text, trigger_id=trigger,
                       response_url=f"{self.response_url}-{trigger.split('.')[0]}")
        payload.update(overrides)
        return urlencode({k: v for k, v in payload.items() if v is not None})

    async def post(self, body: str, headers: dict[str, str]) -> aiohttp.ClientResponse:
        async with self.session.post(self.events_url, data=body.encode(),
                                     headers=headers) as response:
            await response.read()
            return response

    async def command(self, command: str, text: str,
                      **overrides: str | None) -> aiohttp.ClientResponse:
        body = self.command_body(command, text, **overrides)
        return await self.post(body, signed_headers(body))

    async def event(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        """Send an Events API request as Slack does: the JSON envelope, signed."""
        body = json.dumps(payload)
        headers = signed_headers(body)
        headers["Content-Type"] = "application/json"
        return await self.post(body, headers)

    async def interaction(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        """Send an interaction payload (block_actions, view_submission) as Slack does: a form
        field `payload` holding the JSON."""
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, signed_headers(body))

    async def interaction_json(self, payload: dict[str, Any]) -> Any:
        """Like `interaction`, returning the bot's JSON answer (e.g. a modal's field errors)."""
        body = urlencode({"payload": json.dumps(payload)})
        async with self.session.post(self.events_url, data=body.encode(),
                                     headers=signed_headers(body)) as response:
            assert response.status == 200, response.status
            text = await response.text()
            return json.loads(text) if text else None


def new_trigger_id() -> str:
    return f"{next(_triggers)}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def event_callback(name: str, team_id: str, **event: Any) -> dict[str, Any]:
    """Slack's documented event_callback envelope (tests/fixtures/slack/<name>.json) for this
    workspace, with a fresh event id as each event has."""
    payload = fixture(f"{name}.json")
    payload["team_id"] = team_id
    payload["event_id"] = f"Ev{uuid.uuid4().hex[:10].upper()}"
    payload["event"].update(event)
    return payload


def view_submission(callback_id: str, values: dict[str, dict[str, Any]],
                    private_metadata: str = "", user_id: str | None = None) -> dict[str, Any]:
    """Slack's documented view_submission payload with this form's state.

    `values` maps block id to the element state, e.g. {"school": {"type": "plain_text_input",
    "value": "Monkfrith"}}."""
    payload = fixture("view_submission.json")
    payload["trigger_id"] = new_trigger_id()
    payload["view"]["callback_id"] = callback_id
    payload["view"]["private_metadata"] = private_metadata
    payload["view"]["state"] = {"values": {b: {"value": s} for b, s in values.items()}}
    if user_id:
        payload["user"]["id"] = user_id
    return payload


def block_action(action_id: str, value: str, user_id: str | None = None,
                 channel_id: str | None = None, message_ts: str | None = None) -> dict[str, Any]:
    """Slack's documented block_actions payload for one button press."""
    payload = fixture("block_actions.json")
    payload["trigger_id"] = new_trigger_id()
    payload["actions"][0].update(action_id=action_id, value=value)
    if user_id:
        payload["user"]["id"] = user_id
    if channel_id:
        payload["container"]["channel_id"] = channel_id
        payload["channel"]["id"] = channel_id
    if message_ts:
        payload["container"]["message_ts"] = message_ts
        payload["message"]["ts"] = message_ts
    return payload
