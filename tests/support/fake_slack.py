"""A local HTTP server standing in for Slack's Web API and for `response_url`s.

It records every call (method, form or JSON body) and answers like Slack does. Tests can script
answers per method (an error, or a 429 with Retry-After) and wait for calls to arrive."""

from __future__ import annotations

import asyncio
import json
import time
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
    # The HTTP status the fake answered with (429 for a scripted rate limit).
    status: int = 200
    # Whether the answer was a success (HTTP 200 and "ok": true).
    succeeded: bool = True
    # When it arrived (wall clock, seconds): for measuring lateness.
    received_at: float = field(default_factory=time.time)


@dataclass
class Upload:
    """A file sent to an upload URL from files.getUploadURLExternal."""

    file_id: str
    filename: str
    content: bytes


@dataclass
class Scripted:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.uploads: dict[str, Upload] = {}
        self._pending_uploads: dict[str, str] = {}  # file id -> filename
        self._file_ids = count(1)
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

    def ok(self, method: str) -> list[Call]:
        """The calls of `method` that were answered with success."""
        return [c for c in self.of(method) if c.succeeded]

    def shared_files(self) -> list[tuple[Call, Upload]]:
        """Each completed upload with its bytes, in order."""
        done = []
        for call in self.of("files.completeUploadExternal"):
            files = call.body.get("files")
            for item in json.loads(files) if isinstance(files, str) else files or []:
                done.append((call, self.uploads[item["id"]]))
        return done

    async def wait_for(self, method: str, n: int = 1, within: float = 5.0) -> list[Call]:
        """Wait until `n` calls of `method` have arrived; return them."""
        await self.wait_until(lambda: len(self.of(method)) >= n, within)
        return self.of(method)

    async def wait_until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(predicate)

    # -- serving ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    async def _record(self, method: str, request: web.Request,
                      scripted: Scripted | None = None) -> Call:
        raw = await request.text()
        if request.content_type == "application/json":
            body = json.loads(raw) if raw else {}
        else:
            body = dict(parse_qsl(raw))
            for key in ("blocks", "view", "attachments"):
                if isinstance(body.get(key), str):
                    body[key] = json.loads(body[key])
        # Some methods (files.getUploadURLExternal, …) send their arguments in the query.
        body = {**dict(request.query), **body}
        call = Call(method, body, dict(request.headers))
        if scripted is not None:
            call.status = scripted.status
            call.succeeded = scripted.status == 200 and bool(scripted.body.get("ok"))
        async with self._arrived:
            self.calls.append(call)
            self._arrived.notify_all()
        return call

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        queue = self.scripts.get(method)
        scripted = queue.pop(0) if queue else None
        call = await self._record(method, request, scripted)
        if scripted is not None:
            return web.json_response(scripted.body, status=scripted.status,
                                     headers=scripted.headers)
        return web.json_response(self._default(method, call.body))

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: takes the raw bytes, as files.slack.com does."""
        file_id = request.match_info["file_id"]
        if file_id not in self._pending_uploads:
            return web.Response(status=404, text="unknown upload")
        content = await request.read()
        async with self._arrived:
            self.uploads[file_id] = Upload(file_id, self._pending_uploads.pop(file_id), content)
            self.calls.append(Call("upload", {"file_id": file_id}, dict(request.headers)))
            self._arrived.notify_all()
        return web.Response(text=f"OK - {len(content)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record("response_url", request)
        return web.Response(text="ok")

    def _default(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Test",
                    "user": "partnership-bot", "team_id": "T0TEST0001", "user_id": BOT_USER_ID,
                    "bot_id": "B0BOT00001"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": body.get("channel", "C0"),
                    "ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._file_ids):09d}"
            self._pending_uploads[file_id] = str(body.get("filename", ""))
            return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}",
                    "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = body.get("files")
            items = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")}
                                          for f in items]}
        return {"ok": True}
