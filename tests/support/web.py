"""Helpers for the web pages' tests: finding the links the bot hands out in Slack and Teams
answers, and a browser-like HTTP client (cookies, Origin on POST) for the pages."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp

from tests.support.cards import elements
from tests.support.fake_slack import Call

_LINK = re.compile(r"https?://[^\s\"'<>]+/web/(?:signin|file)/[A-Za-z0-9_-]+")


def slack_links(answer: dict[str, Any]) -> list[str]:
    """The link buttons' addresses in a Slack message (Block Kit), in order."""
    return [element["url"] for block in answer.get("blocks") or []
            if block.get("type") == "actions"
            for element in block["elements"] if element.get("url")]


def message_of(call: Call) -> dict[str, Any]:
    """A Web API call's message, its blocks decoded (form-encoded calls carry them as JSON)."""
    blocks = call.body.get("blocks")
    return {**call.body, "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks}


def card_links(card: dict[str, Any]) -> list[str]:
    """The Action.OpenUrl addresses in an Adaptive Card, in order."""
    return [str(node["url"]) for node in elements(card, "Action.OpenUrl")]


def links_in_text(text: str) -> list[str]:
    return _LINK.findall(text)


class Browser:
    """A minimal browser: keeps cookies (for 127.0.0.1 too), follows no redirects by itself,
    and sends an Origin header on POST (and Sec-Fetch-Site when told) as browsers do."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.session.close()

    async def get(self, url: str) -> tuple[int, str, dict[str, str]]:
        async with self.session.get(self._abs(url), allow_redirects=False) as response:
            return response.status, await response.text(errors="replace"), dict(
                response.headers)

    async def get_bytes(self, url: str) -> tuple[int, bytes, dict[str, str]]:
        async with self.session.get(self._abs(url), allow_redirects=False) as response:
            return response.status, await response.read(), dict(response.headers)

    async def post(self, url: str, data: dict[str, str] | None = None,
                   origin: str | None = None,
                   site: str | None = None) -> tuple[int, str, dict[str, str]]:
        headers = {"Origin": origin or self.base}
        if site is not None:
            headers["Sec-Fetch-Site"] = site
        async with self.session.post(self._abs(url), data=data or {}, headers=headers,
                                     allow_redirects=False) as response:
            return response.status, await response.text(errors="replace"), dict(
                response.headers)

    async def sign_in(self, link: str) -> str:
        """Open a sign-in link and press its button; the page it lands on (its path)."""
        status, page, _ = await self.get(link)
        assert status == 200, (status, page)
        assert 'method="post"' in page
        status, _, headers = await self.post(link)
        assert status == 303, status
        return headers["Location"]

    def csrf(self, page: str) -> str:
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert match is not None, "no CSRF token on the page"
        return match[1]

    def _abs(self, url: str) -> str:
        return url if url.startswith("http") else f"{self.base}{url}"
