"""The web pages over real HTTP: links asked for in Slack (signed requests to the real server),
signing in, sessions, CSRF, security headers, membership on every page, bad links, files at
personal links, and forget me ending sessions; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

import icalendar
import pytest
from sqlmodel import select

from bot.config import Settings
from bot.delivery import Delivery
from bot.server import SCHEDULER_KEY, build_web_app
from bot.shell import run_line, shell_caller
from bot.slack.render import LINK_ACTION
from bot.web.app import CSP
from handlers.links import AddToCalendar, OpenInBrowser
from storage import web_access
from storage.actions import new_action
from storage.db import Database
from storage.models import (
    Action,
    FileLink,
    Meeting,
    MeetingMinutes,
    Partnership,
    WebLink,
    WebSession,
)
from storage.retention import housekeeping
from tests.conftest import FakeClock, RunningBot, free_port, serving
from tests.conftest import test_settings as slack_settings
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import block_action
from tests.support.web import Browser, links_in_text, message_of, slack_links

CHANNEL = "C0HEADS001"
STEVE = "U2147483697"  # the user in Slack's documented payloads
OTHER = "U0OTHER0001"
NEXT_WEEK = datetime.now(UTC) + timedelta(days=7)


async def set_up(bot: RunningBot) -> None:
    """Steve leads East Barnet Area (two schools, a linked channel, a meeting, a walk);
    someone else leads Hendon Area, which Steve is not in."""
    await bot.ask("/partnership", "create East Barnet Area")
    await bot.ask("/partnership", "join East Barnet Area school: Monkfrith role: headteacher")
    await bot.ask("/partnership", "join East Barnet Area school: Danegrove", user_id=OTHER,
                  user_name="Ben Day")
    await bot.ask("/partnership", "channel East Barnet Area", channel_id=CHANNEL,
                  channel_name="heads")
    await bot.ask("/walk", "log East Barnet Area school: Danegrove date: 5/2/2026 focus: reading "
                  "strengths: Secret strengths note next steps: Share the map due: 20/3/2030")
    await bot.ask("/meeting", f"schedule East Barnet Area when: {NEXT_WEEK:%d/%m/%Y} 11:30 to "
                  "12:30 where: Monkfrith agenda: Welcome; SEND update")
    await bot.ask("/partnership", "create Hendon Area", user_id="U0HENDON01", user_name="Cy Ng")
    await bot.ask("/partnership", "join Hendon Area school: Sunnyfields", user_id="U0HENDON01",
                  user_name="Cy Ng")


async def ids(bot: RunningBot) -> dict[str, int]:
    async with bot.db.session() as session:
        rows = (await session.exec(select(Partnership))).all()
    return {p.name: p.id or 0 for p in rows}


async def link_for(bot: RunningBot, text: str = "web", **overrides: str) -> str:
    answer = await bot.ask("/partnership", text, **overrides)
    [link] = slack_links(answer)
    return link


@pytest.fixture
async def browser(bot: RunningBot) -> AsyncIterator[Browser]:
    client = Browser(bot.url)
    yield client
    await client.close()


async def test_a_link_from_slack_signs_in_once_and_shows_only_my_partnerships(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    answer = await bot.ask("/partnership", "web East Barnet Area")
    assert answer["response_type"] == "ephemeral"
    assert "works once" in str(answer["blocks"])
    [link] = slack_links(answer)
    assert link.startswith(f"{bot.url}/web/signin/s_")
    partnership = (await ids(bot))["East Barnet Area"]

    landed = await browser.sign_in(link)
    assert landed == f"/web/p/{partnership}"
    cookie = next(c for c in browser.session.cookie_jar if c.key == "pb_session")
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/web"
    assert not cookie["secure"]  # plain http here; https turns it on (see below)
    assert int(cookie["max-age"]) == 8 * 3600

    status, page, headers = await browser.get(landed)
    assert status == 200
    assert "<h1>East Barnet Area</h1>" in page and "Danegrove" in page and "Ben Day" in page
    assert "#heads (slack)" in page
    assert headers["Content-Security-Policy"] == CSP
    assert "script-src" not in CSP and "'unsafe-inline'" not in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert "<script" not in page

    status, page, _ = await browser.get("/web/")
    assert "East Barnet Area" in page and "Hendon Area" not in page

    # The link again: refused, and a plain page says how to get a new one.
    status, page, _ = await browser.get(link)
    assert status == 410 and "already been used" in page and "/partnership web" in page
    status, page, _ = await browser.post(link)
    assert status == 410
    # Only the hash is stored.
    async with bot.db.session() as session:
        stored = (await session.exec(select(WebLink))).one()
    token = urlparse(link).path.rsplit("/", 1)[1]
    assert stored.token_hash == web_access.token_hash(token) and token not in stored.token_hash


async def test_altered_foreign_and_unknown_links_get_plain_refusals(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    link = await link_for(bot)
    altered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    status, page, headers = await browser.get(altered)
    assert status == 403 and "not valid" in page and "Traceback" not in page
    assert headers["Content-Security-Policy"] == CSP
    file_token = link.replace("/signin/s_", "/signin/f_")
    status, page, _ = await browser.get(file_token)
    assert status == 403 and "not a sign-in link" in page
    for nonsense in ("/web/signin/%00%ff", "/web/signin/" + "x" * 5000, "/web/file/../../etc"):
        status, page, _ = await browser.get(nonsense)
        assert status in (403, 404) and "Traceback" not in page, nonsense
    # Not signed in: every page asks for a link, and says how.
    status, page, _ = await browser.get("/web/")
    assert status == 401 and "How to get a new link" in page
    status, page, _ = await browser.get("/web/p/1/walks")
    assert status == 401


async def test_an_expired_link_is_refused(db: Database, fake_slack: FakeSlack) -> None:
    clock = FakeClock()
    port = free_port()
    settings = replace(slack_settings(fake_slack, db.url),
                       public_base_url=f"http://127.0.0.1:{port}")
    app = build_web_app(settings, db, clock=clock)
    async with serving(app, port) as url:
        browser = Browser(url)
        async with db.session() as session:
            token, _ = await web_access.new_sign_in(
                session, web_access.Person("T1", "slack", "U1", "Ann"), None, clock())
        clock.advance(timedelta(minutes=16))
        status, page, _ = await browser.get(f"/web/signin/{token}")
        assert status == 410 and "expired" in page and "15 minutes" in page
        await browser.close()


async def test_another_partnerships_pages_are_refused_naming_nothing(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    found = await ids(bot)
    await browser.sign_in(await link_for(bot))
    for path in ("", "/schools", "/members", "/cpd", "/cpd/chart.png", "/walks", "/walks/1",
                 "/meetings", "/meetings/1", "/meetings/1.ics", "/actions",
                 "/actions?show=done"):
        status, page, _ = await browser.get(f"/web/p/{found['Hendon Area']}{path}")
        assert status == 403, path
        assert "Hendon" not in page and "Sunnyfields" not in page and "Cy Ng" not in page
    # A partnership that does not exist gets the very same answer.
    status, page, _ = await browser.get("/web/p/99999")
    assert status == 403 and "see this page." in page
    # A member's own walk, notes and all; a walk of another partnership is not found.
    east = found["East Barnet Area"]
    status, page, _ = await browser.get(f"/web/p/{east}/walks/1")
    assert status == 200 and "Secret strengths note" in page and "Share the map" in page
    async with bot.db.session() as session:
        await session.exec(select(Partnership))  # the walk belongs to East Barnet Area only
    status, _, _ = await browser.get(f"/web/p/{east}/walks/2")
    assert status == 404


async def test_a_member_who_leaves_loses_the_pages_at_once(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    east = (await ids(bot))["East Barnet Area"]
    await browser.sign_in(await link_for(bot, "web", user_id=OTHER, user_name="Ben Day"))
    assert (await browser.get(f"/web/p/{east}/walks"))[0] == 200
    await bot.ask("/partnership", "leave East Barnet Area", user_id=OTHER, user_name="Ben Day")
    status, page, _ = await browser.get(f"/web/p/{east}/walks")
    assert status == 403 and "Secret" not in page


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    await browser.sign_in(await link_for(bot))
    _, page, _ = await browser.get("/web/")
    status, refused, _ = await browser.post("/web/signout", {"csrf": "0" * 64})
    assert status == 403 and "expired" in refused
    status, refused, _ = await browser.post("/web/signout", {"csrf": browser.csrf(page)},
                                            origin="https://evil.example")
    assert status == 403 and "another site" in refused
    status, refused, _ = await browser.post("/web/signout", {"csrf": browser.csrf(page)},
                                            origin="null", site="cross-site")
    assert status == 403 and "another site" in refused
    assert (await browser.get("/web/"))[0] == 200  # still signed in
    status, _, headers = await browser.post("/web/signout", {"csrf": browser.csrf(page)})
    assert status == 303 and headers["Location"] == "/web/signed-out"
    async with bot.db.session() as session:
        assert (await session.exec(select(WebSession))).all() == []
    assert (await browser.get("/web/"))[0] == 401


async def test_forget_me_ends_every_session_and_link(bot: RunningBot, browser: Browser) -> None:
    await set_up(bot)
    await browser.sign_in(await link_for(bot))
    spare = await link_for(bot)
    await bot.ask("/partnership", "forget me confirm")
    assert (await browser.get("/web/"))[0] == 401
    status, page, _ = await browser.get(spare)
    assert status == 403 and "not valid" in page
    async with bot.db.session() as session:
        for table in (WebLink, WebSession, FileLink):
            assert (await session.exec(select(table))).all() == []


async def test_links_are_paced_per_person(bot: RunningBot) -> None:
    await bot.ask("/partnership", "create East Barnet Area")
    for _ in range(web_access.SIGN_INS_PER_WINDOW):
        await link_for(bot)
    answer = await bot.ask_text("/partnership", "web")
    assert "a lot of links" in answer and "ask again after" in answer
    # Someone else is not held back.
    assert await link_for(bot, user_id=OTHER, user_name="Ben Day")


async def test_the_pages_show_the_partnership_cpd_walks_and_meetings(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    await bot.ask("/cpd", "log East Barnet Area title: Phonics refresher theme: TA training "
                  f"date: {datetime.now(UTC):%d/%m/%Y} attendees: Monkfrith, Danegrove")
    east = (await ids(bot))["East Barnet Area"]
    await browser.sign_in(await link_for(bot, "web East Barnet Area"))
    status, page, _ = await browser.get(f"/web/p/{east}/cpd")
    assert status == 200 and "1 CPD session in this period" in page
    assert 'alt="Heat map of CPD sessions' in page
    assert "Teaching assistant development and training" in page
    assert page.count('<td class="num hit">1</td>') == 2  # Monkfrith and Danegrove went
    assert "<td>schools recorded at 1 session</td>" in page
    # A head count alone is shown as given, not as schools that stayed away.
    await bot.ask("/cpd", "log East Barnet Area quiet title: Interventions theme: SENCO "
                  f"date: {datetime.now(UTC):%d/%m/%Y} attendees: 14")
    status, page, _ = await browser.get(f"/web/p/{east}/cpd")
    assert "<td>14 attendees (schools not recorded)</td>" in page
    status, png, headers = await browser.get_bytes(f"/web/p/{east}/cpd/chart.png")
    assert status == 200 and png.startswith(b"\x89PNG") and headers["Content-Type"] == "image/png"
    status, page, _ = await browser.get(f"/web/p/{east}/cpd?from=2026-13-01&to=x")
    assert status == 400 and "not right" in page
    status, page, _ = await browser.get(f"/web/p/{east}/schools")
    assert status == 200 and "Monkfrith" in page and "Danegrove" in page
    status, page, _ = await browser.get(f"/web/p/{east}/members?page=1")
    assert status == 200 and "Ben Day" in page and "Headteacher" in page
    status, page, _ = await browser.get(f"/web/p/{east}/members?page=0")
    assert status == 400 and "page number" in page
    status, page, _ = await browser.get(f"/web/p/{east}/walks")
    assert "#1" in page and "Danegrove" in page and "open" in page
    status, page, _ = await browser.get(f"/web/p/{east}/walks?steps=open")
    assert status == 200 and "reading" in page
    status, page, _ = await browser.get(f"/web/p/{east}/walks?before=garbage")
    assert status == 400
    status, page, _ = await browser.get(f"/web/p/{east}/meetings")
    assert "East Barnet Area meeting" in page and "Going: 0" in page
    async with bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    status, page, _ = await browser.get(f"/web/p/{east}/meetings/{meeting.id}")
    assert "SEND update" in page and "Yet to reply (2)" in page
    status, ics, headers = await browser.get_bytes(f"/web/p/{east}/meetings/{meeting.id}.ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert "attachment" in headers["Content-Disposition"]
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["UID"]) == meeting.uid and str(event["LOCATION"]) == "Monkfrith"


async def test_the_actions_page_lists_open_overdue_done_and_mine(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    await bot.ask("/partnership", f"action East Barnet Area order the new readers "
                  f"owner: <@{STEVE}|steve> due: {NEXT_WEEK:%d/%m/%Y}")
    await bot.ask("/partnership", f"action East Barnet Area book the hall "
                  f"owner: <@{OTHER}|ben> due: {NEXT_WEEK:%d/%m/%Y}")
    await bot.ask("/partnership", f"action East Barnet Area send the survey "
                  f"owner: <@{OTHER}|ben> due: {NEXT_WEEK:%d/%m/%Y}")
    async with bot.db.session() as session:
        rows = {a.description: a for a in (await session.exec(select(Action))).all()}
        overdue, done = rows["book the hall"], rows["send the survey"]
        overdue.due_on = date(2026, 1, 5)
        done.status, done.closed_at, done.closed_by_name = "done", datetime.now(UTC), "Ben Day"
        session.add_all([overdue, done])
        await session.commit()
    east = (await ids(bot))["East Barnet Area"]
    await browser.sign_in(await link_for(bot, "web East Barnet Area"))
    status, page, _ = await browser.get(f"/web/p/{east}/actions")
    assert status == 200 and 'aria-current="page">Actions</a>' in page
    # Open: the walk's next step (its words, for members), typed ones, the overdue one.
    assert "Share the map" in page and "walk #1 at Danegrove" in page
    assert "order the new readers" in page and "typed in chat" in page
    assert "book the hall" in page and "overdue" in page and "send the survey" not in page
    assert '<th scope="col">Owner</th>' in page
    status, page, _ = await browser.get(f"/web/p/{east}/actions?show=overdue")
    assert "book the hall" in page and "order the new readers" not in page
    status, page, _ = await browser.get(f"/web/p/{east}/actions?show=done")
    assert "send the survey" in page and "by Ben Day" in page and "book the hall" not in page
    status, page, _ = await browser.get(f"/web/p/{east}/actions?show=mine")
    assert "order the new readers" in page and "book the hall" not in page
    status, page, _ = await browser.get(f"/web/p/{east}/actions?show=everything")
    assert status == 400
    status, page, _ = await browser.get(f"/web/p/{east}/actions?page=2")
    assert status == 200 and "No open actions" in page
    # 50 a page, soonest due first; the next page holds the rest.
    async with bot.db.session() as session:
        session.add_all([new_action(east, f"later task {n:02}", "slack", owner_user_id=OTHER,
                                    owner_name="Ben Day", owner_school_id=None,
                                    due_on=date(2031, 1, 1 + n % 28), created_by_user_id=STEVE,
                                    created_by_name="Steve") for n in range(50)])
        await session.commit()
    status, page, _ = await browser.get(f"/web/p/{east}/actions")
    assert page.count('<th scope="row">') == 50 and 'rel="next"' in page
    assert "book the hall" in page and "Share the map" in page  # due soonest
    status, page, _ = await browser.get(f"/web/p/{east}/actions?page=2")
    assert page.count('<th scope="row">') == 3 and 'rel="prev"' in page
    assert "later task" in page and "book the hall" not in page


async def test_the_meeting_page_shows_apologies_apart_and_the_latest_minutes(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    async with bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    await bot.ask("/meeting", f"reply {meeting.id} apologies: Ofsted call", user_id=OTHER,
                  user_name="Ben Day")
    east = (await ids(bot))["East Barnet Area"]
    await browser.sign_in(await link_for(bot, "web East Barnet Area"))
    status, page, _ = await browser.get(f"/web/p/{east}/meetings/{meeting.id}")
    assert status == 200 and "Apologies (1)" in page and "Ben Day (Ofsted call)" in page
    waiting = page[page.index("Yet to reply (1)"):]
    assert "Steve" in waiting[:200] and "Ben Day" not in waiting[:200]
    assert "No minutes yet" in page
    approved_at = datetime(2026, 2, 9, 16, 0, tzinfo=UTC)
    async with bot.db.session() as session:
        assert meeting.id is not None
        session.add_all([
            MeetingMinutes(meeting_id=meeting.id, version=1, status="approved",
                           attendees="Steve", apologies="Ben Day (Ofsted call)",
                           items='[{"title": "Budget", "notes": "On track", "decisions": ""}]',
                           platform="slack", written_by=STEVE, written_by_name="Steve",
                           approved_by=OTHER, approved_by_name="Ben Day",
                           approved_at=approved_at),
            MeetingMinutes(meeting_id=meeting.id, version=2, status="draft",
                           attendees="Steve\nAnn Smith", apologies="Ben Day (Ofsted call)",
                           items='[{"title": "Budget", "notes": "Spending agreed", '
                                 '"decisions": "Budget <b>agreed</b>"}]',
                           platform="slack", written_by=STEVE, written_by_name="Steve")])
        await session.commit()
    status, page, _ = await browser.get(f"/web/p/{east}/meetings/{meeting.id}")
    assert "2: draft, not yet approved" in page and "<li>Ann Smith</li>" in page
    assert "Spending agreed" in page and "Budget &lt;b&gt;agreed&lt;/b&gt;" in page
    assert "Version 1: approved by Ben Day on Monday 9 February 2026" in page
    assert "On track" not in page  # only the latest version's words
    # Another partnership's meeting page is refused, naming nothing.
    await bot.ask("/meeting", f"schedule Hendon Area when: {NEXT_WEEK:%d/%m/%Y} 9:00 to "
                  "10:00", user_id="U0HENDON01", user_name="Cy Ng")
    async with bot.db.session() as session:
        theirs = (await session.exec(select(Meeting).where(Meeting.id != meeting.id))).one()
    status, page, _ = await browser.get(f"/web/p/{(await ids(bot))['Hendon Area']}"
                                        f"/meetings/{theirs.id}")
    assert status == 403 and "Hendon" not in page and "Cy Ng" not in page


async def test_open_in_browser_and_add_to_calendar_buttons_give_personal_links(
    bot: RunningBot, browser: Browser,
) -> None:
    await set_up(bot)
    info = await bot.ask_text("/partnership", "info East Barnet Area")
    east = (await ids(bot))["East Barnet Area"]
    assert OpenInBrowser(east).pack() in info
    await bot.slack.interaction(block_action(OpenInBrowser.kind, OpenInBrowser(east).pack(),
                                             channel_id=CHANNEL))
    told = (await bot.fake.wait_for("chat.postEphemeral"))[-1]
    [link] = slack_links(message_of(told))
    assert (await browser.sign_in(link)) == f"/web/p/{east}"

    async with bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    card = bot.fake.of("chat.postMessage")
    assert meeting.id is not None
    invite = AddToCalendar(meeting.id).pack()
    assert any(invite in str(c.body.get("blocks")) for c in card)
    await bot.slack.interaction(block_action(AddToCalendar.kind, invite, user_id=OTHER,
                                             channel_id=CHANNEL))
    told = (await bot.fake.wait_for("chat.postEphemeral", 2))[-1]
    [file_link] = slack_links(message_of(told))
    assert "/web/file/f_" in file_link
    # Not single-use: a calendar app may fetch it twice.
    other = Browser(bot.url)
    for _ in range(2):
        status, ics, headers = await other.get_bytes(file_link)
        assert status == 200 and headers["Content-Type"].startswith("text/calendar")
        assert icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]["UID"] == meeting.uid
    await other.close()
    # Made for Ben: Steve's signed-in browser is refused it.
    status, page, _ = await browser.get(file_link)
    assert status == 403 and "made for someone else" in page


async def test_https_base_makes_the_cookie_secure(db: Database, fake_slack: FakeSlack) -> None:
    port = free_port()
    settings = replace(slack_settings(fake_slack, db.url),
                       public_base_url="https://partnership-bot.example.org")
    app = build_web_app(settings, db)
    async with serving(app, port) as url:
        async with db.session() as session:
            token, _ = await web_access.new_sign_in(
                session, web_access.Person("T1", "slack", "U1", "Ann"), None,
                datetime.now(UTC))
        browser = Browser(url)
        status, _, headers = await browser.post(f"/web/signin/{token}",
                                                origin="https://partnership-bot.example.org")
        assert status == 303
        assert "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
        await browser.close()


async def test_the_shell_links_open_the_pages_served_alone(sqlite_db: Database) -> None:
    """`partnership-bot web` (the pages alone, no outbox) beside the local shell."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = replace(teams_free_settings(sqlite_db.url), public_base_url=base)
    app = build_web_app(settings, sqlite_db, send=False)
    async with serving(app, port) as url:
        delivery = Delivery(sqlite_db, {})
        ann = shell_caller("Ann", base)
        await run_line(sqlite_db, delivery, ann, "partnership create Heath and Hill")
        await run_line(sqlite_db, delivery, ann, "partnership join Heath and Hill school: Oak")
        said = await run_line(sqlite_db, delivery, ann, "partnership web heath and hill")
        assert "Open in browser: http://127.0.0.1" in said
        [link] = links_in_text(said)
        browser = Browser(url)
        landed = await browser.sign_in(link)
        status, page, _ = await browser.get(landed)
        assert status == 200 and "Heath and Hill" in page and "Oak" in page
        await browser.close()
        nobody = await run_line(sqlite_db, delivery, shell_caller("Bo", None), "partnership web")
        assert "not set up here" in nobody and "PUBLIC_BASE_URL" in nobody
    assert app[SCHEDULER_KEY].ticks == 0  # no outbox: the shell runs its own


def teams_free_settings(url: str) -> Settings:
    return Settings(database_url=url, port=0, host="127.0.0.1", slack_bot_token=None,
                    slack_signing_secret=None, slack_app_token=None,
                    slack_api_url="http://127.0.0.1:9/")


async def test_housekeeping_deletes_what_has_expired(db: Database) -> None:
    person = web_access.Person("T1", "slack", "U1", "Ann")
    now = datetime.now(UTC)
    async with db.session() as session:
        await web_access.new_sign_in(session, person, None, now)
        await web_access.new_file_links(
            session, person, [web_access.NewFile("a.ics", "A", "text/calendar", b"x")],
            timedelta(days=7), False, now)
    await housekeeping(db, now + timedelta(hours=1))
    async with db.session() as session:
        assert (await session.exec(select(WebLink))).all() == []
        assert len((await session.exec(select(FileLink))).all()) == 1
    await housekeeping(db, now + timedelta(days=8))
    async with db.session() as session:
        assert (await session.exec(select(FileLink))).all() == []


async def test_open_in_browser_on_the_home_tab_sends_the_link_by_direct_message(
    bot: RunningBot,
) -> None:
    await set_up(bot)
    pressed = block_action(OpenInBrowser.kind, OpenInBrowser(0).pack())
    pressed.pop("channel", None)
    pressed["container"] = {"type": "view", "view_id": "V0HOME0001"}
    pressed["view"] = {"type": "home", "id": "V0HOME0001"}
    before = len(bot.fake.of("chat.postMessage"))
    await bot.slack.interaction(pressed)
    dm = await bot.fake.wait_for("chat.postMessage", before + 1)
    [link] = slack_links(message_of(dm[-1]))
    assert dm[-1].body["channel"] == STEVE and "/web/signin/s_" in link
    await bot.fake.wait_for("views.publish")


async def test_info_offers_the_browser_only_to_members(bot: RunningBot) -> None:
    await set_up(bot)
    mine = await bot.ask_text("/partnership", "info East Barnet Area")
    theirs = await bot.ask_text("/partnership", "info Hendon Area")
    assert OpenInBrowser.kind in mine and OpenInBrowser.kind not in theirs


async def test_a_press_of_a_link_button_is_acknowledged_and_nothing_more(
    bot: RunningBot,
) -> None:
    """Slack reports a press of a link button too; it opened the address, nothing else to do."""
    await set_up(bot)
    pressed = block_action(LINK_ACTION, "", channel_id=CHANNEL)
    pressed["actions"][0]["url"] = f"{bot.url}/web/signin/s_whatever"
    before = len(bot.fake.calls)
    response = await bot.slack.interaction(pressed)
    assert response.status == 200
    await asyncio.sleep(0.3)
    assert [c.method for c in bot.fake.calls[before:]] == []
