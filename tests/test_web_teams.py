"""Teams gets every file Slack gets, by link: the meeting card's "Add to calendar", the digest's
"See the chart" and the `mydata` export come as private links to the real server's /web/file/,
and no card claims an attachment it does not carry."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import icalendar
from sqlmodel import select

from bot.scheduler import OutboxSender
from handlers.schoolyear import school_term
from storage.models import Meeting, ScheduledDelivery
from storage.types import LONDON
from tests.conftest import RunningTeamsBot
from tests.support.cards import card_text
from tests.support.fake_connector import REPLY, SEND
from tests.support.web import Browser, card_links
from tests.test_teams_features import linked_partnership, say, submit_actions

NEXT_WEEK = datetime.now(UTC) + timedelta(days=7)


async def press(bot: RunningTeamsBot, action: dict[str, object]) -> dict[str, object]:
    """Press a card's button; the card the bot answers with."""
    before = len(bot.connector.of(REPLY))
    await bot.teams.post(bot.teams.card_submit(action["data"]))  # type: ignore[arg-type]
    answer: dict[str, object] = (await bot.connector.wait_for(REPLY, before + 1))[before].card
    return answer


async def test_the_meeting_card_carries_a_working_calendar_link(
    teams_bot: RunningTeamsBot,
) -> None:
    await linked_partnership(teams_bot)
    await say(teams_bot, f"meeting schedule East Barnet Area when: {NEXT_WEEK:%d/%m/%Y} "
                         "11:30 to 12:30 where: Monkfrith")
    meeting_card = (await teams_bot.connector.wait_for(SEND, 2))[1].card
    text = card_text(meeting_card)
    assert "comes with this message" not in text and "attached" not in text
    assert "“Add to calendar” gives you the invite" in text
    add = next(a for a in submit_actions(meeting_card) if a["title"] == "Add to calendar")
    answer = await press(teams_bot, add)
    [link] = card_links(answer)
    assert link.startswith(f"{teams_bot.url}/web/file/f_")
    assert "works for 7 days" in card_text(answer)
    browser = Browser(teams_bot.url)
    status, ics, headers = await browser.get_bytes(link)
    await browser.close()
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    async with teams_bot.db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["UID"]) == meeting.uid and str(event["LOCATION"]) == "Monkfrith"


async def test_mydata_in_teams_is_a_link_that_works_once(teams_bot: RunningTeamsBot) -> None:
    await linked_partnership(teams_bot)
    answer = await say(teams_bot, "partnership mydata")
    text = card_text(answer)
    assert "Here is everything I hold about you" in text
    assert "kind,partnership" not in text  # no longer pasted into the card
    links = card_links(answer)
    assert len(links) == 2 and all("/web/file/f_" in link for link in links)
    browser = Browser(teams_bot.url)
    by_type = {}
    for link in links:
        status, body, headers = await browser.get_bytes(link)
        assert status == 200, status
        by_type[headers["Content-Type"].split(";")[0]] = body
        assert "attachment" in headers["Content-Disposition"]
    document = json.loads(by_type["application/json"])
    assert document["platform"] == "teams"
    rows = list(csv.DictReader(io.StringIO(by_type["text/csv"].decode())))
    assert any(r["kind"] == "membership" for r in rows)
    status, page, _ = await browser.get(links[0])
    assert status == 410 and "already been downloaded" in page
    await browser.close()


async def test_the_digest_in_teams_links_its_chart(teams_bot: RunningTeamsBot) -> None:
    await linked_partnership(teams_bot)
    async with teams_bot.db.session() as session:
        due = (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.kind == "digest"))).one().due_at
    # Held in the week the digest looks back on, and not in the future (as in
    # test_teams_delivery): the digest's last day, or today when that is still to come.
    send_day = due.astimezone(LONDON).date()
    today = datetime.now(LONDON).date()
    held = min(send_day - timedelta(days=1), today)
    await say(teams_bot, "cpd log East Barnet Area title: Phonics theme: TA training "
                         f"date: {held.day}/{held.month}/{held.year} attendees: Monkfrith")
    before = len(teams_bot.connector.of(SEND))
    sender = OutboxSender(teams_bot.db, teams_bot.delivery, clock=lambda: due)
    assert await sender.tick() >= 1
    posted = (await teams_bot.connector.wait_for(SEND, before + 1))[before:]
    digest = next(p.card for p in posted if "Weekly digest" in card_text(p.card))
    titles = [a["title"] for a in submit_actions(digest)]
    assert "Open in browser" in titles
    # The chart is of the term's CPD: there is one when the session is in the send day's term
    # (a digest sent on the first Monday of a term looks back on the one before).
    assert ("See the chart" in titles) == (school_term(held) == school_term(send_day))
    if "See the chart" in titles and school_term(today) == school_term(held):
        chart = next(a for a in submit_actions(digest) if a["title"] == "See the chart")
        answer = await press(teams_bot, chart)
        [link] = card_links(answer)
        browser = Browser(teams_bot.url)
        status, png, _ = await browser.get_bytes(link)
        await browser.close()
        assert status == 200 and png.startswith(b"\x89PNG")
    opened = await press(teams_bot, next(a for a in submit_actions(digest)
                                         if a["title"] == "Open in browser"))
    [sign_in] = card_links(opened)
    assert "/web/signin/s_" in sign_in
