"""Installing the bot in a workspace the way an admin does it in a browser, against the running
server and the fake Slack, and reading what the database then holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import aiohttp
from sqlalchemy import text

from storage.db import Database
from tests.support.fake_slack import FakeSlack, Workspace

STATE_COOKIE = "slack-app-oauth-state"


@dataclass
class Page:
    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class InstallStart:
    authorize_url: str
    state: str
    set_cookie: str


async def start_install(session: aiohttp.ClientSession, bot_url: str) -> InstallStart:
    """Open /slack/install: the bot sends the browser on to Slack with a state (and a cookie)."""
    async with session.get(f"{bot_url}/slack/install", allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        location = response.headers["Location"]
        set_cookie = response.headers["Set-Cookie"]
    state = parse_qs(urlparse(location).query)["state"][0]
    return InstallStart(location, state, set_cookie)


async def come_back(session: aiohttp.ClientSession, bot_url: str, params: dict[str, str],
                    cookie_state: str | None) -> Page:
    """Slack sends the browser back to /slack/oauth_redirect with these query parameters."""
    headers = {"Cookie": f"{STATE_COOKIE}={cookie_state}"} if cookie_state else {}
    async with session.get(f"{bot_url}/slack/oauth_redirect", params=params, headers=headers,
                           allow_redirects=False) as response:
        return Page(response.status, await response.text(), dict(response.headers))


async def install(session: aiohttp.ClientSession, bot_url: str, fake: FakeSlack,
                  workspace: Workspace, bot_token: str) -> Page:
    """The whole flow: start, approve in Slack (which grants a code), come back."""
    code = f"code-{workspace.team_id}-{bot_token[-6:]}"
    fake.grant(code, workspace, bot_token)
    start = await start_install(session, bot_url)
    return await come_back(session, bot_url, {"code": code, "state": start.state}, start.state)


async def stored_tokens(db: Database, team_id: str) -> list[str]:
    """Every token column's raw value for the workspace, as the database holds it."""
    values: list[str] = []
    async with db.engine.connect() as conn:
        for table in ("slack_bots", "slack_installations"):
            rows = await conn.execute(
                text(f"SELECT * FROM {table} WHERE team_id = :team"), {"team": team_id}
            )
            for row in rows.mappings():
                values += [str(row[c]) for c in row if c.endswith("token") and row[c]]
    return values


async def installation_rows(db: Database, team_id: str) -> int:
    async with db.engine.connect() as conn:
        bots = await conn.scalar(text("SELECT count(*) FROM slack_bots WHERE team_id = :t"),
                                 {"t": team_id})
        installs = await conn.scalar(
            text("SELECT count(*) FROM slack_installations WHERE team_id = :t"), {"t": team_id})
    return int(bots or 0) + int(installs or 0)
