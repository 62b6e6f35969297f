"""The termly report's web page over real HTTP (signed in through a link asked for in Slack): the
page shows the figures the files hold, its three downloads are the report's, membership is
checked by the same rule as every page, and bad addresses get plain pages; on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.web.app import CSP
from handlers.buttons import unpack
from handlers.links import OpenReport
from handlers.schoolyear import previous_term, school_term, today_in_london
from tests.conftest import RunningBot
from tests.support.slack_requests import block_action
from tests.support.web import Browser, message_of, slack_links
from tests.test_web import CHANNEL, ids, set_up

TODAY = today_in_london()
TERM = school_term(TODAY)


@pytest.fixture
async def browser(bot: RunningBot) -> AsyncIterator[Browser]:
    client = Browser(bot.url)
    yield client
    await client.close()


async def signed_in(bot: RunningBot, browser: Browser) -> int:
    """Steve's East Barnet Area with two CPD sessions this term, signed in."""
    await set_up(bot)
    day = max(TERM.start, TODAY - timedelta(days=1))
    for title, hours, attendees in (("Phonics refresher", "1.5", "Monkfrith, Danegrove"),
                                    ("SEND update", "2", "all")):
        await bot.ask("/cpd", f"log East Barnet Area quiet title: {title} theme: SENCO date: "
                      f"{day.day}/{day.month}/{day.year} hours: {hours} host: Danegrove "
                      f"attendees: {attendees} impact: Interventions reviewed every half term")
    [link] = slack_links(await bot.ask("/partnership", "web East Barnet Area"))
    await browser.sign_in(link)
    return (await ids(bot))["East Barnet Area"]


async def test_the_report_page_shows_the_figures_and_offers_the_three_files(
    bot: RunningBot, browser: Browser,
) -> None:
    east = await signed_in(bot, browser)
    status, overview, _ = await browser.get(f"/web/p/{east}")
    assert status == 200 and f'href="/web/p/{east}/report"' in overview

    status, page, headers = await browser.get(f"/web/p/{east}/report")
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    assert "<h1>East Barnet Area</h1>" in page and TERM.name.capitalize() in page
    assert 'media="print"' in page and "<script" not in page
    assert re.search(r"<dt>CPD sessions</dt><dd>2</dd>", page)
    assert re.search(r"<dt>CPD hours</dt><dd>3.5</dd>", page)
    assert "Interventions reviewed every half term" in page
    assert "Secret strengths note" not in page  # the walk's notes, never in the report
    query = f"from={TERM.start.isoformat()}&amp;to={TERM.end.isoformat()}"
    for kind in ("pdf", "xlsx", "csv"):
        assert f'href="/web/p/{east}/report.{kind}?{query}"' in page

    status, content, headers = await browser.get_bytes(
        f"/web/p/{east}/report.pdf?{query.replace('&amp;', '&')}")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert "attachment" in headers["Content-Disposition"]
    text = " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())
    assert "CPD sessions 2" in text and "CPD hours 3.5" in text

    status, content, _ = await browser.get_bytes(f"/web/p/{east}/report.xlsx")
    book = load_workbook(io.BytesIO(content), read_only=True)
    themes = {row[0]: row[1:3] for row in book["CPD by theme"].iter_rows(values_only=True)}
    assert themes["SENCO leadership: impact of interventions"] == (2, 3.5)
    assert themes["Total"] == (2, 3.5)
    schools = {row[0]: row[2:6] for row in book["CPD by school"].iter_rows(values_only=True)}
    assert schools["Danegrove"] == (2, 3.5, 2, 3.5) and schools["Monkfrith"] == (0, 0, 2, 3.5)

    status, content, headers = await browser.get_bytes(f"/web/p/{east}/report.csv")
    assert headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert ["CPD sessions", "2"] in rows and ["CPD hours", "3.5"] in rows


async def test_one_school_and_another_period(bot: RunningBot, browser: Browser) -> None:
    east = await signed_in(bot, browser)
    _, page, _ = await browser.get(f"/web/p/{east}/report")
    monkfrith = re.search(r'<option value="(\d+)">Monkfrith</option>', page)
    assert monkfrith is not None
    status, page, _ = await browser.get(f"/web/p/{east}/report?school={monkfrith[1]}")
    assert status == 200 and "<h1>East Barnet Area: Monkfrith</h1>" in page
    assert f'<option value="{monkfrith[1]}" selected>Monkfrith</option>' in page
    assert "Danegrove</th>" not in page.split('id="cpd-schools"')[1].split("</table>")[0]
    last = previous_term(TERM)
    status, page, _ = await browser.get(
        f"/web/p/{east}/report?from={last.start.isoformat()}&to={last.end.isoformat()}")
    assert status == 200 and last.name.capitalize() in page
    assert "No CPD sessions were logged in this period." in page
    # The walk logged on 5/2/2026 left its next steps open (due 2030): still counted as open.
    assert re.search(r"<th scope=\"row\">Actions open on [^<]+</th><td class=\"num\">1</td>",
                     page)
    status, page, _ = await browser.get(f"/web/p/{east}/report?from=2020-04-01&to=2020-08-31")
    assert status == 200 and "Summer term 2020" in page
    assert "Nothing was recorded for East Barnet Area in this period" in page


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/report?from=2026-13-01&to=2026-12-01", 400, "Those dates are not right"),
    ("/report?from=2026-12-01&to=2026-09-01", 400, "ends before it starts"),
    ("/report?school=999999", 404, "no such school in this partnership"),
    ("/report?school=abc", 404, "There is no such school"),
    ("/report.pdf?school=999999", 404, "no such school in this partnership"),
    ("/report.doc", 404, "There is no such page"),
])
async def test_bad_report_addresses_get_plain_pages(
    bot: RunningBot, browser: Browser, path: str, status: int, says: str,
) -> None:
    east = await signed_in(bot, browser)
    got, page, _ = await browser.get(f"/web/p/{east}{path}")
    assert (got, says in page) == (status, True), page
    assert "Traceback" not in page


async def test_another_partnership_s_report_and_its_files_are_refused(
    bot: RunningBot, browser: Browser,
) -> None:
    await signed_in(bot, browser)
    hendon = (await ids(bot))["Hendon Area"]
    for path in ("/report", "/report.pdf", "/report.xlsx", "/report.csv"):
        status, page, _ = await browser.get(f"/web/p/{hendon}{path}")
        assert status == 403 and "Hendon" not in page and "Sunnyfields" not in page
    # Signed out: no report and no files.
    outsider = Browser(bot.url)
    try:
        status, _, _ = await outsider.get(f"/web/p/{hendon}/report.pdf")
        assert status == 401
    finally:
        await outsider.close()


async def test_the_chat_reply_opens_the_report_s_page(bot: RunningBot, browser: Browser) -> None:
    """With PUBLIC_BASE_URL set, the report's reply has a button that gives a sign-in link
    landing on the same report's page (its period and school)."""
    await set_up(bot)
    answer = await bot.ask("/partnership", "report East Barnet Area school: Danegrove "
                           "from: 1/9/2025 to: 31/8/2026")
    [button] = [e for block in answer["blocks"] if block["type"] == "actions"
                for e in block["elements"]]
    assert button["text"]["text"] == "Open the report in your browser"
    pressed = unpack(button["value"])
    assert isinstance(pressed, OpenReport)
    east = (await ids(bot))["East Barnet Area"]
    assert (pressed.partnership_id, pressed.first, pressed.last) == (
        east, "2025-09-01", "2026-08-31")
    await bot.slack.interaction(block_action(OpenReport.kind, button["value"],
                                             channel_id=CHANNEL))
    told = (await bot.fake.wait_for("chat.postEphemeral"))[-1]
    assert "termly report of East Barnet Area" in told.body["text"]
    [link] = slack_links(message_of(told))
    landed = await browser.sign_in(link)
    assert landed == (f"/web/p/{east}/report?from=2025-09-01&to=2026-08-31"
                      f"&school={pressed.school_id}")
    status, page, _ = await browser.get(landed)
    assert status == 200 and "<h1>East Barnet Area: Danegrove</h1>" in page
    assert "1 Sep 2025 to 31 Aug 2026" in page
    # A made-up landing is not followed: only the report's own page, with dates and a number.
    [other] = slack_links(await bot.ask("/partnership", "web East Barnet Area"))
    elsewhere = Browser(bot.url)
    try:
        landed = await elsewhere.sign_in(f"{other}?open=report&from=//evil.example&to=x")
    finally:
        await elsewhere.close()
    assert landed == f"/web/p/{east}/report"


async def test_someone_outside_the_partnership_cannot_use_the_report_button(
    bot: RunningBot,
) -> None:
    await set_up(bot)
    east = (await ids(bot))["East Barnet Area"]
    value = OpenReport(east, "2026-09-01", "2026-12-31", 0).pack()
    await bot.slack.interaction(block_action(OpenReport.kind, value, user_id="U0HENDON01",
                                             channel_id=CHANNEL))
    told = (await bot.fake.wait_for("chat.postEphemeral"))[-1]
    assert "Only members of East Barnet Area" in told.body["text"]
    assert not slack_links(message_of(told))
