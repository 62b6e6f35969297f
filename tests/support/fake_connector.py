"""A local HTTP server standing in for the Bot Connector service (Teams' `serviceUrl`).

It records what the bot sends (new messages, replies, updates), with the query string and
headers, and answers like the connector does. Tests can script failures and wait for calls.
Every activity is checked as Teams would: under its 28 KB message limit, each Adaptive Card
valid by the schema of the version it declares; what fails is kept in `problems` (the fixture
fails the test on any)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from aiohttp import web

from tests.support.card_schema import card_problems

# Teams refuses a bot's message over about 28 KB.
TEAMS_MESSAGE_LIMIT = 28 * 1024
SEND = "send"  # POST v3/conversations/{id}/activities
REPLY = "reply"  # POST v3/conversations/{id}/activities/{activityId}
UPDATE = "update"  # PUT v3/conversations/{id}/activities/{activityId}


@dataclass
class ConnectorCall:
    kind: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    query: dict[str, str]
    headers: dict[str, str]
    # When it arrived (time.monotonic), to check the pace of posts.
    at: float = field(default_factory=time.monotonic)
    # The id the connector gave the new activity (None when it refused it).
    new_id: str | None = None

    @property
    def card(self) -> dict[str, Any]:
        """The Adaptive Card the bot sent."""
        attachments = self.body.get("attachments") or []
        assert attachments, f"no attachments in {self.body}"
        content: dict[str, Any] = attachments[0]["content"]
        return content

    @property
    def targeted(self) -> bool:
        return self.query.get("isTargetedActivity") == "true"


class FakeConnector:
    def __init__(self) -> None:
        self.calls: list[ConnectorCall] = []
        self.failures: dict[str, list[int]] = {}
        self.problems: list[str] = []
        self._arrived = asyncio.Condition()
        self._ids = count(1)
        self._runner: web.AppRunner | None = None
        self.service_url = ""
        # Answer new posts this many seconds late (after recording them), as a slow service.
        self.delay = 0.0

    def fail(self, kind: str, *statuses: int) -> None:
        """Answer the next calls of `kind` with these error statuses, in order."""
        self.failures.setdefault(kind, []).extend(statuses)

    def of(self, kind: str) -> list[ConnectorCall]:
        return [c for c in self.calls if c.kind == kind]

    async def wait_for(self, kind: str, n: int = 1, within: float = 5.0) -> list[ConnectorCall]:
        await self.wait_until(lambda: len(self.of(kind)) >= n, within)
        return self.of(kind)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(predicate)

    async def quiet(self, for_seconds: float = 0.5, within: float = 20.0) -> None:
        """Wait until no call has arrived for `for_seconds`: for checks that nothing (more) was
        posted, so a post that comes late is still seen."""
        async with asyncio.timeout(within):
            while True:
                seen = len(self.calls)
                await asyncio.sleep(for_seconds)
                if len(self.calls) == seen:
                    return

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}",
                            self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                           self._update)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.service_url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _check(self, kind: str, raw: bytes, body: dict[str, Any]) -> None:
        if len(raw) > TEAMS_MESSAGE_LIMIT:
            self.problems.append(f"{kind}: {len(raw):,} bytes, over Teams' 28 KB limit")
        for attachment in body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                self.problems.extend(f"{kind}: {problem}"
                                     for problem in card_problems(attachment["content"]))

    async def _record(self, kind: str, request: web.Request) -> web.Response:
        raw = await request.read()
        call = ConnectorCall(
            kind=kind,
            conversation_id=request.match_info["conversation"],
            activity_id=request.match_info.get("activity"),
            body=json.loads(raw),
            query=dict(request.query),
            headers=dict(request.headers),
        )
        self._check(kind, raw, call.body)
        async with self._arrived:
            self.calls.append(call)
            self._arrived.notify_all()
        queue = self.failures.get(kind)
        if queue:
            status = queue.pop(0)
            # Like the connector, a 429 says how long to wait.
            headers = {"Retry-After": "3"} if status == 429 else None
            return web.json_response({"error": {"code": "Failed", "message": "scripted"}},
                                     status=status, headers=headers)
        call.new_id = f"1:bot-activity-{next(self._ids)}"
        return web.json_response({"id": call.new_id})

    async def _send(self, request: web.Request) -> web.Response:
        response = await self._record(SEND, request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return response

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._record(REPLY, request)

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(UPDATE, request)
