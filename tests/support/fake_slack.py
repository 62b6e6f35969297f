"""A local HTTP server standing in for Slack's Web API and for `response_url`s.

It records every call (method, form or JSON body) and answers like Slack does. Tests can script
answers per method (an error, or a 429 with Retry-After) and wait for calls to arrive."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "U0BOT00001"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    path: str = ""


@dataclass
class Scripted:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.scripts: dict[str, list[Scripted]] = {}
        self._arrived = asyncio.Condition()
        self._ts = count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- scripting ----------------------------------------------------------------------------

    def answer(self, method: str, *answers: Scripted) -> None:
        """Answer the next calls of `method` with these, in order; then the default again."""
        self.scripts.setdefault(method, []).extend(answers)

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base_url}response/{name}"

    # -- reading ------------------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, n: int = 1, within: float = 5.0) -> list[Call]:
        """Wait until `n` calls of `method` have arrived; return them."""
        await self.wait_until(lambda: len(self.of(method)) >= n, within)
        return self.of(method)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(predicate)

    # -- serving ------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/count/{method}", self._count)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    def answer_to(self, response_url: str) -> list[Call]:
        """What the bot sent to one response_url."""
        path = response_url.removeprefix(self.base_url.rstrip("/"))
        return [c for c in self.calls if c.method == "response_url" and c.path == path]

    async def _record(self, method: str, request: web.Request) -> None:
        raw = await request.text()
        if request.content_type == "application/json":
            body = json.loads(raw) if raw else {}
        else:
            body = dict(parse_qsl(raw))
            for key in ("blocks", "view", "attachments"):
                if isinstance(body.get(key), str):
                    body[key] = json.loads(body[key])
        async with self._arrived:
            self.calls.append(Call(method, body, dict(request.headers), request.path))
            self._arrived.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        await self._record(method, request)
        queue = self.scripts.get(method)
        if queue:
            scripted = queue.pop(0)
            return web.json_response(scripted.body, status=scripted.status,
                                     headers=scripted.headers)
        return web.json_response(self._default(method))

    async def _count(self, request: web.Request) -> web.Response:
        """How many calls of a method arrived: for a load generator in another process."""
        return web.json_response({"count": len(self.of(request.match_info["method"]))})

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record("response_url", request)
        return web.Response(text="ok")

    def _default(self, method: str) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Test",
                    "user": "partnership-bot", "team_id": "T0TEST0001", "user_id": BOT_USER_ID,
                    "bot_id": "B0BOT00001"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": "C0", "ts": f"1700000000.{next(self._ts):06d}"}
        return {"ok": True}


async def serve_forever(port: int) -> None:
    fake = FakeSlack()
    await fake.start(port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    # A stand-alone fake for benchmarks: `python -m tests.support.fake_slack PORT`.
    import sys

    asyncio.run(serve_forever(int(sys.argv[1])))
