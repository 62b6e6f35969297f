"""The web pages in a real browser: headless Chromium (Debian's, through Playwright) against the
real server, with the link asked for in Slack by a signed request.

One browser for the whole run (session-scoped, on the session's event loop, which this module's
tests and fixtures share). Screenshots of the main pages at phone and desktop widths, and
axe-core's accessibility report, are written to tests/artifacts/ (git-ignored). Skipped, with
the reason shown, where there is no Chromium or Playwright."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
import pytest_asyncio
from pypdf import PdfReader
from sqlmodel import col, select

from bot.server import build_web_app
from handlers.meetings import MeetingRsvp
from handlers.schoolyear import school_term, today_in_london
from storage.db import Database
from storage.models import Meeting, MeetingMinutes, Partnership, RsvpAnswer
from tests.conftest import RunningBot, free_port, serving
from tests.conftest import test_settings as slack_settings
from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    axe_violations,
    browser_reason,
    describe,
)
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SlackClientSim, block_action
from tests.support.web import slack_links

REASON = browser_reason()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""),
              pytest.mark.asyncio(loop_scope="session")]

CHANNEL = "C0HEADS001"
# Every image on the page has arrived (the heat map is drawn on request, and loads lazily).
IMAGES_LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
BEN = {"user_id": "U0BEN00001", "user_name": "Ben Day"}
CY = {"user_id": "U0CY000001", "user_name": "Cy Ng"}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def served(tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The real server (Slack and the pages) on SQLite, its Web API calls to a fake Slack."""
    import aiohttp

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await db.upgrade()
    fake = FakeSlack()
    await fake.start()
    port = free_port()
    settings = replace(slack_settings(fake, db.url), public_base_url=f"http://127.0.0.1:{port}")
    app = build_web_app(settings, db)
    async with serving(app, port) as url, aiohttp.ClientSession() as session:
        sim = SlackClientSim(session, f"{url}/slack/events", fake.response_url())
        from bot.server import SCHEDULER_KEY

        yield RunningBot(url, db, sim, fake, settings, app[SCHEDULER_KEY])
    await fake.stop()
    await db.dispose()


async def seed(bot: RunningBot) -> dict[str, int]:
    """Through signed slash commands: East Barnet Area (Steve leads; Ben; four schools, a
    linked channel, CPD this term, walks with next steps, two meetings with replies) and
    Hendon Area (Cy's, not Steve's)."""
    today = datetime.now(UTC)
    ask = bot.ask
    await ask("/partnership", "create East Barnet Area type: structured")
    await ask("/partnership", "join East Barnet Area school: Monkfrith role: headteacher")
    for school in ("Danegrove", "Queenswell", "Cunningham Hill Infant"):
        await ask("/partnership", f"join East Barnet Area school: {school}", **BEN)
    await ask("/partnership", "channel East Barnet Area", channel_id=CHANNEL,
              channel_name="heads")
    for title, theme, who in (("Phonics refresher", "TA training", "Monkfrith, Danegrove"),
                              ("Reviewing interventions", "SENCO", "all"),
                              ("Lunchtime play leaders", "lunchtimes", "Queenswell")):
        await ask("/cpd", f"log East Barnet Area quiet title: {title} theme: {theme} "
                  f"date: {today:%d/%m/%Y} hours: 1.5 host: Monkfrith attendees: {who}")
    for ago, school, focus, due in ((40, "Danegrove", "reading for pleasure", -10),
                                    (10, "Queenswell", "maths talk", 30),
                                    (20, "Monkfrith", "progression in foundation subjects", 60)):
        walked, due_on = today - timedelta(days=ago), today + timedelta(days=due)
        logged = await ask("/walk", f"log East Barnet Area quiet school: {school} "
                           f"date: {walked:%d/%m/%Y} focus: {focus} strengths: Clear routines "
                           "next steps: Share the approach at the next heads' meeting "
                           f"owner: Ben Day due: {due_on:%d/%m/%Y}")
        assert "Logged learning walk" in logged["text"], logged["text"]
    week = today + timedelta(days=7)
    await ask("/meeting", f"schedule East Barnet Area when: {week:%d/%m/%Y} 11:30 to 12:30 "
              "where: Monkfrith title: Heads' network meeting agenda: Welcome; SEND update; "
              "Learning walk findings")
    await ask("/meeting", f"schedule East Barnet Area when: {week + timedelta(days=21):%d/%m/%Y}"
              " 14:00 to 15:00 where: Danegrove title: Spring planning")
    for user_id, name, answer in ((BEN["user_id"], BEN["user_name"], "going"),
                                  ("U2147483697", "Steve", "maybe")):
        pressed = block_action(MeetingRsvp.kind, MeetingRsvp(1, RsvpAnswer(answer)).pack(),
                               user_id=user_id, channel_id=CHANNEL)
        pressed["user"].update(username=name, name=name)
        await bot.slack.interaction(pressed)
    await bot.fake.wait_for("chat.update", 2)
    await ask("/partnership", "create Hendon Area", **CY)
    await ask("/partnership", "join Hendon Area school: Sunnyfields", **CY)
    async with bot.db.session() as session:
        rows = (await session.exec(select(Partnership))).all()
    return {p.name: p.id or 0 for p in rows}


async def test_a_head_opens_the_link_sees_coverage_downloads_the_invite_and_signs_out(
    served: RunningBot, chromium: Any, tmp_path: Path,
) -> None:
    ids = await seed(served)
    east, hendon = ids["East Barnet Area"], ids["Hendon Area"]
    answer = await served.ask("/partnership", "web East Barnet Area")
    [link] = slack_links(answer)
    context = await chromium.new_context(viewport=DESKTOP, accept_downloads=True,
                                           locale="en-GB")
    page = await context.new_page()

    response = await page.goto(link)
    assert response is not None and response.status == 200
    await page.get_by_role("button", name="Continue as Steve").click()
    await page.wait_for_url(f"**/web/p/{east}")
    assert await page.get_by_role("heading", level=1).inner_text() == "East Barnet Area"
    assert await page.get_by_role("rowheader", name="Danegrove").count() >= 1

    # Keyboard: the first Tab reaches the skip link, which moves focus to the main content.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to main content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"

    await page.get_by_role("link", name="CPD coverage").click()
    await page.wait_for_url(f"**/web/p/{east}/cpd")
    chart = page.get_by_role("img", name="Heat map of CPD sessions", exact=False)
    await chart.scroll_into_view_if_needed()
    await page.wait_for_function(IMAGES_LOADED, timeout=30_000)
    assert await chart.evaluate("img => img.naturalWidth > 400")
    assert await page.get_by_role("rowheader", name="Queenswell").count() == 1

    await page.get_by_role("link", name="Meetings").click()
    await page.get_by_role("link", name="Heads' network meeting").click()
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Add to calendar (.ics)").click()
    download = await waiting.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    event = icalendar.Calendar.from_ical(saved.read_bytes()).walk("VEVENT")[0]
    async with served.db.session() as session:
        meeting = (await session.exec(select(Meeting).where(
            Meeting.title == "Heads' network meeting"))).one()
    assert str(event["UID"]) == meeting.uid and str(event["SUMMARY"]) == meeting.title
    assert event.decoded("DTSTART") == meeting.starts_at

    # The link a second time: refused, saying how to get a new one.
    response = await page.goto(link)
    assert response is not None and response.status == 410
    assert "already been used" in await page.content()
    await page.get_by_role("heading", name="How to get a new link").wait_for()
    # Another partnership's page: refused, naming nothing of it.
    response = await page.goto(f"{served.url}/web/p/{hendon}")
    assert response is not None and response.status == 403
    body = await page.locator("body").inner_text()
    assert "Hendon" not in body and "Sunnyfields" not in body

    await page.goto(f"{served.url}/web/")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/web/signed-out")
    response = await page.goto(f"{served.url}/web/p/{east}")
    assert response is not None and response.status == 401
    await context.close()


async def test_a_head_opens_the_termly_report_downloads_its_pdf_and_prints_it_on_a4(
    served: RunningBot, chromium: Any, tmp_path: Path,
) -> None:
    ids = await seed(served)
    east = ids["East Barnet Area"]
    [link] = slack_links(await served.ask("/partnership", "web East Barnet Area"))
    context = await chromium.new_context(viewport=DESKTOP, accept_downloads=True,
                                         locale="en-GB")
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Continue as Steve").click()
    await page.wait_for_url(f"**/web/p/{east}")
    await page.get_by_role("link", name="Termly report").click()
    await page.wait_for_url(f"**/web/p/{east}/report")
    assert await page.get_by_role("heading", level=1).inner_text() == "East Barnet Area"
    sessions = page.get_by_role("definition").first
    assert await sessions.inner_text() == "3"  # CPD sessions: the three seeded this term

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Download PDF").click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    reader = PdfReader(saved)
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    term = school_term(today_in_london())
    walks = sum(today_in_london() - timedelta(days=ago) >= term.start for ago in (40, 10, 20))
    assert "CPD sessions 3" in text and "CPD hours 4.5" in text
    assert f"Learning walks {walks}" in text  # the seeded walks that fall in this term
    assert "Clear routines" not in text  # a walk's notes: never in the report

    # Printed from the browser: A4 pages (595 x 842 points), without the downloads or the form.
    await page.emulate_media(media="print")
    assert not await page.get_by_role("link", name="Download PDF").is_visible()
    assert not await page.get_by_role("button", name="Show").is_visible()
    as_printed = await page.pdf(prefer_css_page_size=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-printed.pdf").write_bytes(as_printed)  # to look at
    printed = PdfReader(io.BytesIO(as_printed))
    box = printed.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert "Download PDF" not in printed.pages[0].extract_text()
    await context.close()


async def test_the_csp_stops_a_script_that_gets_into_a_page(
    served: RunningBot, chromium: Any,
) -> None:
    await seed(served)
    [link] = slack_links(await served.ask("/partnership", "web"))
    context = await chromium.new_context(viewport=DESKTOP, locale="en-GB")
    page = await context.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Continue as Steve").click()
    await page.wait_for_url("**/web/")
    blocked = await page.evaluate("""() => new Promise(resolve => {
        document.addEventListener('securitypolicyviolation',
                                  e => resolve(e.violatedDirective), {once: true});
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.appendChild(script);
        setTimeout(() => resolve(window.injected ? 'ran' : 'no event'), 2000);
    })""")
    assert blocked.startswith("script-src")
    assert await page.evaluate("window.injected === undefined")
    await context.close()


PAGES = (("partnerships", "/web/"), ("partnership", "/web/p/{east}"),
         ("schools", "/web/p/{east}/schools"), ("members", "/web/p/{east}/members"),
         ("coverage", "/web/p/{east}/cpd"), ("walks", "/web/p/{east}/walks"),
         ("walk", "/web/p/{east}/walks/1"), ("meetings", "/web/p/{east}/meetings"),
         ("meeting", "/web/p/{east}/meetings/{meeting}"), ("report", "/web/p/{east}/report"),
         ("actions", "/web/p/{east}/actions"),
         ("meeting-minutes", "/web/p/{east}/meetings/{second}"),
         ("refused", "/web/p/{hendon}"))


async def test_screenshots_at_phone_and_desktop_widths_and_no_axe_violations(
    served: RunningBot, chromium: Any,
) -> None:
    ids = await seed(served)
    async with served.db.session() as session:
        meeting = (await session.exec(select(Meeting))).first()
    assert meeting is not None
    # The second meeting has an apology with its reason and minutes in two versions.
    async with served.db.session() as session:
        first, second_meeting = (await session.exec(select(Meeting).order_by(
            col(Meeting.starts_at)))).all()
    assert first.id != second_meeting.id and second_meeting.id is not None
    second = second_meeting.id
    await served.ask("/meeting", f"reply {second} apologies: Ofsted call", **BEN)
    async with served.db.session() as session:
        session.add_all([MeetingMinutes(
            meeting_id=second, version=version, status=status, attendees="Steve",
            apologies="Ben Day (Ofsted call)", platform="slack", written_by="U2147483697",
            written_by_name="Steve", approved_by_name="Ben Day" if approved else None,
            approved_at=datetime.now(UTC) if approved else None,
            items='[{"title": "Spring planning", "notes": "Dates agreed", '
                  '"decisions": "Share the calendar"}]')
            for version, status, approved in ((1, "approved", True), (2, "draft", False))])
        await session.commit()
    fill = {"east": ids["East Barnet Area"], "hendon": ids["Hendon Area"],
            "meeting": meeting.id, "second": second}
    ARTIFACTS.mkdir(exist_ok=True)
    report: dict[str, list[dict[str, Any]]] = {}
    for width, viewport, mobile in (("phone", PHONE, True), ("desktop", DESKTOP, False)):
        [link] = slack_links(await served.ask("/partnership", "web"))
        context = await chromium.new_context(viewport=viewport, is_mobile=mobile,
                                             has_touch=mobile, device_scale_factor=1,
                                             locale="en-GB")
        page = await context.new_page()
        await page.goto(link)
        await page.screenshot(path=ARTIFACTS / f"signin-{width}.png", full_page=True)
        report[f"signin-{width}"] = await axe_violations(page)
        await page.get_by_role("button", name="Continue as Steve").click()
        await page.wait_for_url("**/web/")
        for name, path in PAGES:
            await page.goto(served.url + path.format(**fill))
            await page.wait_for_load_state("load")
            for image in await page.locator("img").all():  # lazily loaded: bring them in
                await image.scroll_into_view_if_needed()
            await page.wait_for_function(IMAGES_LOADED, timeout=30_000)
            await page.screenshot(path=ARTIFACTS / f"{name}-{width}.png", full_page=True)
            report[f"{name}-{width}"] = await axe_violations(page)
        await context.close()
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(
        {page: json.loads(describe(v)) for page, v in report.items()}, indent=2))
    found = {page: v for page, v in report.items() if v}
    assert not found, "\n".join(f"{page}: {describe(v)}" for page, v in found.items())


async def test_axe_does_find_violations_where_there_are_some(chromium: Any) -> None:
    """The check above can fail: on a page with known faults axe reports them."""
    context = await chromium.new_context()
    page = await context.new_page()
    await page.set_content("<html><body><img src='x.png'><a href='#'></a>"
                           "<p style='color:#bbb;background:#fff'>faint</p></body></html>")
    found = {v["id"] for v in await axe_violations(page)}
    assert {"image-alt", "html-has-lang", "link-name", "color-contrast"} <= found
    await context.close()
