"""The about, privacy and terms pages the Teams app package links to: served by the real
server, plain HTML, and the privacy notice true to what the bot stores (README's table)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest

from bot.legal import ABOUT_PATH, PAGES, PRIVACY_PATH, TERMS_PATH
from bot.server import build_web_app
from storage.db import Database
from tests.conftest import serving, teams_settings

README = Path(__file__).parent.parent / "README.md"


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.extend(value for name, value in attrs if tag == "a" and name == "href"
                          and value)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def read(html: str) -> Text:
    parser = Text()
    parser.feed(html)
    return parser


@pytest.fixture
async def site(sqlite_db: Database) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    async with serving(build_web_app(teams_settings(sqlite_db.url), sqlite_db)) as url, \
            aiohttp.ClientSession() as session:
        yield url, session


@pytest.mark.parametrize(("path", "title"), [(ABOUT_PATH, "Partnership Bot"),
                                             (PRIVACY_PATH, "Privacy notice"),
                                             (TERMS_PATH, "Terms of use")])
async def test_each_page_is_served_as_html(site: tuple[str, aiohttp.ClientSession], path: str,
                                           title: str) -> None:
    url, session = site
    async with session.get(f"{url}{path}") as response:
        assert response.status == 200
        assert response.content_type == "text/html" and response.charset == "utf-8"
        html = await response.text()
    page = read(html)
    assert f"<h1>{title}</h1>" in html
    # Every page links to the other two, and every link on it goes somewhere served.
    assert {ABOUT_PATH, PRIVACY_PATH, TERMS_PATH} <= set(page.links)
    assert set(page.links) <= set(PAGES)
    async with session.head(f"{url}{path}") as response:
        assert response.status == 200


def stored_rows() -> list[str]:
    """The first column of README's "What is stored, and why" table."""
    section = README.read_text(encoding="utf-8").split("## What is stored, and why", 1)[1]
    rows = re.findall(r"^\| ([^|]+) \|", section.split("\n## ", 1)[0], re.MULTILINE)
    return [row.strip() for row in rows if row.strip() not in ("what", "---")]


# For each kind of thing README says is stored, the words the privacy notice says it in.
IN_THE_NOTICE = {
    "partnerships, schools, designations": "Partnerships, schools and their designations",
    "members": "your chat account id, display name, school, job title",
    "linked channels": "Linked channels",
    "personal chats": "Personal chats: in Teams, the address of your personal chat",
    "learning walks": "Learning walks: date, host school, focus, year groups, walkers",
    "actions": "Actions (a walk's next steps among them)",
    "CPD sessions": "CPD sessions: title, theme, date, hours, host, facilitator",
    "meetings": "Meetings, agenda items",
    "Slack installations": "its token, encrypted",
    "request ids": "Ids of recent requests",
    "web sign-in links": "Private links to the web pages and to files",
}


def test_the_privacy_notice_covers_everything_readme_says_is_stored() -> None:
    notice = read(PAGES[PRIVACY_PATH]).text
    rows = stored_rows()
    assert len(rows) == len(IN_THE_NOTICE), rows
    for row in rows:
        key = next((k for k in IN_THE_NOTICE if row.startswith(k)), None)
        assert key is not None, f"README stores {row!r}: say it in the privacy notice"
        assert IN_THE_NOTICE[key] in notice, key
    # And the rights it describes are the commands there are.
    assert "partnership mydata" in notice and "partnership forget me" in notice
    assert "2 years" in notice and "One day" in notice


def test_the_pages_are_short_and_plain() -> None:
    for path, html in PAGES.items():
        words = len(read(html).text.split())
        assert words < 700, (path, words)
        # Nothing run or fetched from elsewhere: no scripts, images or outside stylesheets.
        assert not re.search(r"<(script|img|link|iframe)\b", html), path
