"""A local HTTP server standing in for Slack's Web API and for `response_url`s.

It records every call (method, form or JSON body, and the token it carried) and answers like
Slack does. Tests can script answers per method (an error, or a 429 with Retry-After) and wait
for calls to arrive.

Like Slack, it knows which workspace each bot token belongs to: `auth.test` answers for the
token's own workspace, and a call with an unknown or revoked token gets `invalid_auth` /
`token_revoked`. `grant(code, ...)` sets up an install: `oauth.v2.access` with that code (and
the app's client id and secret) answers with a new workspace's bot token.

Like Slack, it keeps each channel's messages (with their message metadata) and serves them
from `conversations.history`; `delay(method, seconds)` makes it answer a method late, as a slow
Slack does (the message is in the channel from the moment the call arrives)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "U0BOT00001"
DEFAULT_BOT_TOKEN = "xoxb-test-token-not-real"
DEFAULT_TEAM_ID = "T0TEST0001"
# The app's credentials as Slack knows them (for oauth.v2.access).
CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "client-secret-not-real"
OAUTH_V2_ACCESS = Path(__file__).parent.parent / "fixtures" / "slack" / "oauth_v2_access.json"


@dataclass(frozen=True)
class Workspace:
    """A Slack workspace the fake knows a bot token for; with `org_wide`, an Enterprise Grid
    org that installed the app for all its workspaces (`team_id` is then the org's id, as
    auth.test reports it)."""

    team_id: str
    team_name: str
    bot_user_id: str = BOT_USER_ID
    bot_id: str = "B0BOT00001"
    enterprise: dict[str, str] | None = None
    org_wide: bool = False


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    path: str = ""
    # The HTTP status the fake answered with (429 for a scripted rate limit).
    status: int = 200
    # Whether the answer was a success (HTTP 200 and "ok": true).
    succeeded: bool = True
    # When it arrived (wall clock, seconds): for measuring lateness.
    received_at: float = field(default_factory=time.time)

    @property
    def token(self) -> str | None:
        """The token the call was made with (Authorization header, or a `token` field)."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer "):]
        token = self.body.get("token")
        return str(token) if token else None


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
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.workspaces: dict[str, Workspace] = {
            DEFAULT_BOT_TOKEN: Workspace(DEFAULT_TEAM_ID, "Test")
        }
        self.revoked: set[str] = set()
        self._grants: dict[str, tuple[str, Workspace]] = {}
        # Each channel's messages, oldest first, as conversations.history shows them.
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.delays: dict[str, float] = {}
        self._last_ts = 0.0

    # -- scripting ----------------------------------------------------------------------------

    def answer(self, method: str, *answers: Scripted) -> None:
        """Answer the next calls of `method` with these, in order; then the default again."""
        self.scripts.setdefault(method, []).extend(answers)

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base_url}response/{name}"

    def grant(self, code: str, workspace: Workspace, bot_token: str) -> None:
        """An installer approved the app in `workspace`: `oauth.v2.access` with `code` (once)
        answers with `bot_token`, which then works in that workspace."""
        self._grants[code] = (bot_token, workspace)

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call of `method` `seconds` late (after acting on it)."""
        self.delays[method] = seconds

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

    async def quiet(self, for_seconds: float = 0.5, within: float = 20.0) -> None:
        """Wait until no call has arrived for `for_seconds`: for checks that nothing (more) was
        posted, so a post that comes late is still seen."""
        async with asyncio.timeout(within):
            while True:
                seen = len(self.calls)
                await asyncio.sleep(for_seconds)
                if len(self.calls) == seen:
                    return

    # -- serving ------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/count/{method}", self._count)
        app.router.add_post("/upload/{file_id}", self._upload)
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
            for key in ("blocks", "view", "attachments", "metadata"):
                if isinstance(body.get(key), str):
                    body[key] = json.loads(body[key])
        # Some methods (files.getUploadURLExternal, …) send their arguments in the query.
        body = {**dict(request.query), **body}
        async with self._arrived:
            self.calls.append(Call(method, body, dict(request.headers), request.path))
            self._arrived.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        await self._record(method, request)
        call = self.calls[-1]
        # From here to the answer nothing awaits, so no waiter sees the call half judged.
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_v2_access(call))
        problem = self._token_problem(call.token)
        if problem is not None:
            call.succeeded = False
            return web.json_response({"ok": False, "error": problem})
        queue = self.scripts.get(method)
        if queue:
            scripted = queue.pop(0)
            call.status = scripted.status
            call.succeeded = scripted.status == 200 and bool(scripted.body.get("ok"))
            return web.json_response(scripted.body, status=scripted.status,
                                     headers=scripted.headers)
        answer = self._default(method, self.workspaces[call.token or ""], call.body)
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        return web.json_response(answer)

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: takes the raw bytes, as files.slack.com does."""
        file_id = request.match_info["file_id"]
        if file_id not in self._pending_uploads:
            return web.Response(status=404, text="unknown upload")
        content = await request.read()
        async with self._arrived:
            self.uploads[file_id] = Upload(file_id, self._pending_uploads.pop(file_id), content)
            self.calls.append(Call("upload", {"file_id": file_id}, dict(request.headers),
                                   request.path))
            self._arrived.notify_all()
        return web.Response(text=f"OK - {len(content)}")

    def _token_problem(self, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        if token in self.revoked:
            return "token_revoked"
        if token not in self.workspaces:
            return "invalid_auth"
        return None

    def _oauth_v2_access(self, call: Call) -> dict[str, Any]:
        """Slack's documented answer (tests/fixtures/slack/oauth_v2_access.json) for a granted
        code, after checking the app's credentials (HTTP Basic, or form fields)."""
        client_id, client_secret = call.body.get("client_id"), call.body.get("client_secret")
        auth = call.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != CLIENT_ID:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != CLIENT_SECRET:
            return {"ok": False, "error": "bad_client_secret"}
        granted = self._grants.pop(str(call.body.get("code")), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}
        bot_token, workspace = granted
        self.workspaces[bot_token] = workspace
        answer: dict[str, Any] = json.loads(OAUTH_V2_ACCESS.read_text(encoding="utf-8"))
        answer.update(access_token=bot_token, bot_user_id=workspace.bot_user_id,
                      enterprise=workspace.enterprise,
                      team={"id": workspace.team_id, "name": workspace.team_name})
        if workspace.org_wide:
            # Slack's answer for an org-wide install: the org, and no team.
            answer.update(team=None, is_enterprise_install=True)
        return answer

    async def _count(self, request: web.Request) -> web.Response:
        """How many calls of a method arrived: for a load generator in another process."""
        return web.json_response({"count": len(self.of(request.match_info["method"]))})

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record("response_url", request)
        return web.Response(text="ok")

    def _default(self, method: str, workspace: Workspace,
                 body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            url = ("https://example.enterprise.slack.com/" if workspace.org_wide
                   else "https://example.slack.com/")
            return {"ok": True, "url": url, "team": workspace.team_name,
                    "user": "partnership-bot", "team_id": workspace.team_id,
                    "user_id": workspace.bot_user_id, "bot_id": workspace.bot_id,
                    "enterprise_id": (workspace.enterprise or {}).get("id"),
                    "is_enterprise_install": workspace.org_wide}
        if method == "chat.postMessage":
            channel = str(body.get("channel", "C0"))
            message = {"type": "message", "ts": self._new_ts(), "text": body.get("text", ""),
                       "bot_id": workspace.bot_id, "metadata": body.get("metadata")}
            self.history.setdefault(channel, []).append(message)
            return {"ok": True, "channel": channel, "ts": message["ts"]}
        if method == "conversations.history":
            return self._conversation_history(body)
        if method == "conversations.open":
            # The documented answer: the direct-message channel with the user(s).
            return {"ok": True, "channel": {"id": f"D0{str(body.get('users', ''))[-8:]}"}}
        if method in ("chat.update", "chat.delete"):
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


    def _new_ts(self) -> str:
        """A message timestamp as Slack makes them: the time, unique within the channel."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _conversation_history(self, query: dict[str, Any]) -> dict[str, Any]:
        """Newest first, after `oldest`, `limit` a page, with a cursor to the next page; the
        messages' metadata only with `include_all_metadata`."""
        channel = str(query.get("channel", ""))
        oldest = float(query.get("oldest") or 0)
        limit = int(query.get("limit") or 100)
        start = int(query.get("cursor") or 0)
        with_metadata = str(query.get("include_all_metadata", "")).lower() in ("1", "true")
        newest_first = [m for m in reversed(self.history.get(channel, []))
                        if float(m["ts"]) > oldest]
        page = newest_first[start:start + limit]
        messages = [{k: v for k, v in m.items()
                     if v is not None and (k != "metadata" or with_metadata)} for m in page]
        more = start + limit < len(newest_first)
        return {"ok": True, "messages": messages, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


async def serve_forever(port: int) -> None:
    fake = FakeSlack()
    await fake.start(port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    # A stand-alone fake for benchmarks: `python -m tests.support.fake_slack PORT`.
    import sys

    asyncio.run(serve_forever(int(sys.argv[1])))
