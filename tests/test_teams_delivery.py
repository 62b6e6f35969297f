"""Proactive posts to linked Teams channels (the path reminders and digests take), the server
with Slack and Teams side by side, and the Teams endpoint's authentication."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest
from sqlmodel import select

from bot.delivery import Delivery, DeliveryError
from bot.scheduler import OutboxSender
from bot.server import DELIVERY_KEY, build_web_app
from bot.teams.app import TeamsPoster
from handlers.bankholidays import bank_holiday
from handlers.digest import parse_iso_week
from handlers.replies import ChannelPost, Reply, Section, Visibility
from handlers.schoolyear import school_term
from storage.db import Database
from storage.models import ChannelLink, Member, Partnership, ScheduledDelivery
from storage.types import LONDON
from tests.conftest import FakeClock, RunningTeamsBot, serving, teams_settings
from tests.support.fake_connector import REPLY, SEND, FakeConnector
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, SlackClientSim
from tests.support.teams_requests import CHANNEL_ID, TENANT, TeamsClientSim, as_user

DIGEST = Reply(title="East Barnet Area: this week",
               sections=[Section(heading="Coming up", lines=["Heads' meeting, Tue 4 March"])],
               visibility=Visibility.PUBLIC)


async def link_teams_channel(teams_bot: RunningTeamsBot) -> int:
    await teams_bot.teams.say("partnership create East Barnet Area")
    await teams_bot.teams.say("partnership channel East Barnet Area", channel=True)
    await teams_bot.connector.wait_for(SEND)  # the announcement
    await teams_bot.connector.wait_for(REPLY, 2)
    async with teams_bot.db.session() as session:
        partnership = (await session.exec(select(Partnership))).one()
    assert partnership.id is not None
    return partnership.id


async def test_a_digest_reaches_the_linked_teams_channel(teams_bot: RunningTeamsBot) -> None:
    partnership_id = await link_teams_channel(teams_bot)
    before = len(teams_bot.connector.of(SEND))
    problems = await teams_bot.delivery.deliver([ChannelPost(partnership_id, DIGEST)])
    assert problems == []
    post = (await teams_bot.connector.wait_for(SEND, before + 1))[-1]
    assert post.conversation_id == CHANNEL_ID  # a new post in the channel, not a thread reply
    assert not post.targeted
    assert "Authorization" not in post.headers  # anonymous, as for the Emulator
    texts = json.dumps(post.card)
    assert "East Barnet Area: this week" in texts and "Coming up" in texts
    assert post.body["summary"] == "East Barnet Area: this week"


async def test_a_channel_the_bot_was_removed_from_is_reported(
    teams_bot: RunningTeamsBot,
) -> None:
    partnership_id = await link_teams_channel(teams_bot)
    teams_bot.connector.fail(SEND, 403)
    problems = await teams_bot.delivery.deliver([ChannelPost(partnership_id, DIGEST)])
    assert problems == ["I can't post in Heads any more: add Partnership Bot to that team again."]


async def test_teams_asking_to_slow_down_is_retried_after_its_wait(
    teams_bot: RunningTeamsBot,
) -> None:
    partnership_id = await link_teams_channel(teams_bot)
    teams_bot.connector.fail(SEND, 429)
    link, = await teams_bot.delivery.links_for(partnership_id)
    with pytest.raises(DeliveryError) as raised:
        await teams_bot.delivery.post_to(link, DIGEST)
    assert raised.value.hint == "Teams asked me to slow down while posting in Heads."
    assert raised.value.retry_after == 3.0


async def test_a_link_without_a_reference_says_how_to_fix_it(db: Database) -> None:
    link = ChannelLink(id=1, partnership_id=1, platform="teams", channel_id=CHANNEL_ID,
                       channel_name="Heads")
    poster = _poster(db)
    with pytest.raises(DeliveryError, match="no way to post in Heads yet"):
        await poster.post(link, DIGEST)
    link.conversation_ref = "{not json"
    with pytest.raises(DeliveryError, match="My address for Heads is damaged"):
        await poster.post(link, DIGEST)


def _poster(db: Database) -> TeamsPoster:
    from bot.teams.app import connect_teams

    return connect_teams(teams_settings(db.url)).poster


# --- Slack and Teams together --------------------------------------------------------------


class BothPlatforms:
    def __init__(self, slack: SlackClientSim, teams: TeamsClientSim, fake_slack: FakeSlack,
                 connector: FakeConnector, url: str, delivery: Delivery) -> None:
        self.slack = slack
        self.teams = teams
        self.fake_slack = fake_slack
        self.connector = connector
        self.url = url
        self.delivery = delivery


@pytest.fixture
async def both(db: Database, fake_slack: FakeSlack,
               fake_connector: FakeConnector) -> AsyncIterator[tuple[BothPlatforms, Database]]:
    """One server for a Slack team and a Teams tenant that share the workspace "barnet"."""
    settings = teams_settings(
        db.url, slack_bot_token="xoxb-test-token-not-real", slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url, workspace_aliases={"T0001": "barnet", TENANT: "barnet"})
    app = build_web_app(settings, db)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        platforms = BothPlatforms(
            SlackClientSim(session, f"{url}/slack/events", fake_slack.response_url()),
            TeamsClientSim(session, f"{url}/api/messages", fake_connector.service_url),
            fake_slack, fake_connector, url, app[DELIVERY_KEY])
        yield platforms, db


async def test_a_partnership_spans_slack_and_teams_and_posts_to_both(
    both: tuple[BothPlatforms, Database],
) -> None:
    platforms, db = both
    await platforms.slack.command("/partnership", "create East Barnet Area")
    await platforms.fake_slack.wait_for("response_url")  # answered only once it is saved
    await platforms.slack.command("/partnership", "channel East Barnet Area")
    await platforms.fake_slack.wait_for("chat.postMessage")  # the Slack announcement
    # A head on Teams finds the same partnership, joins it and links a Teams channel.
    sam = as_user(platforms.teams.in_channel(
        "partnership join East Barnet Area school: Monkfrith"), "Sam Okafor", "aad-sam")
    await platforms.teams.post(sam)
    await platforms.connector.wait_for(REPLY)
    # Linking a channel is for leads: the Slack lead promotes the Teams head by name.
    await platforms.slack.command("/partnership", "role East Barnet Area @Sam Okafor lead")
    await platforms.fake_slack.wait_for("response_url", 3)
    await platforms.teams.post(as_user(platforms.teams.in_channel(
        "partnership channel East Barnet Area"), "Sam Okafor", "aad-sam"))
    await platforms.connector.wait_for(SEND)
    async with db.session() as session:
        partnership = (await session.exec(select(Partnership))).one()
        members = (await session.exec(select(Member).order_by(Member.platform))).all()
    assert partnership.workspace == "barnet"
    assert [(m.platform, m.user_id) for m in members] == [
        ("slack", "U2147483697"), ("teams", "aad-sam")]
    assert partnership.id is not None
    slack_before = len(platforms.fake_slack.of("chat.postMessage"))
    teams_before = len(platforms.connector.of(SEND))
    problems = await platforms.delivery.deliver([ChannelPost(partnership.id, DIGEST)])
    assert problems == []
    slack_post = (await platforms.fake_slack.wait_for("chat.postMessage", slack_before + 1))[-1]
    assert slack_post.body["channel"] == "C2147483705"
    teams_post = (await platforms.connector.wait_for(SEND, teams_before + 1))[-1]
    assert teams_post.conversation_id == CHANNEL_ID


async def test_the_health_probe_and_both_endpoints_answer(
    both: tuple[BothPlatforms, Database],
) -> None:
    platforms, _ = both
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{platforms.url}/healthz") as response:
            assert response.status == 200
        async with session.post(f"{platforms.url}/slack/events", data=b"") as response:
            assert response.status == 401  # unsigned
    response = await platforms.teams.say("help")
    assert response.status == 202


async def test_teams_alone_serves_no_slack_endpoint(teams_bot: RunningTeamsBot) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{teams_bot.url}/slack/events", data=b"") as response:
            assert response.status == 404
        async with session.get(f"{teams_bot.url}/healthz") as response:
            assert response.status == 200


# --- authentication ---------------------------------------------------------------------------


@pytest.fixture
async def authenticated(sqlite_db: Database,
                        fake_connector: FakeConnector) -> AsyncIterator[TeamsClientSim]:
    """The server with JWT validation on, as in production."""
    settings = teams_settings(
        sqlite_db.url, teams_auth_disabled=False,
        teams_app_id="11111111-2222-4333-8444-555555555555",
        teams_app_password="not-a-real-secret", teams_tenant_id=TENANT)
    async with serving(build_web_app(settings, sqlite_db)) as url, \
            aiohttp.ClientSession() as session:
        yield TeamsClientSim(session, f"{url}/api/messages", fake_connector.service_url)


async def test_a_request_without_a_token_is_refused(
    authenticated: TeamsClientSim, fake_connector: FakeConnector,
) -> None:
    response = await authenticated.say("partnership list")
    assert response.status == 401
    assert fake_connector.calls == []


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"])
async def test_a_request_with_a_bad_token_is_refused(
    authenticated: TeamsClientSim, fake_connector: FakeConnector, header: str,
) -> None:
    response = await authenticated.post(authenticated.personal("partnership list"),
                                        headers={"Authorization": header})
    assert response.status == 401
    assert fake_connector.calls == []


@pytest.mark.clock
async def test_the_weekly_digest_goes_out_to_teams_through_the_outbox(
    teams_bot: RunningTeamsBot, now: datetime,
) -> None:
    """A real digest, built by the outbox when due and posted as an Adaptive Card; Teams has
    no file sharing here, so the chart is behind its "See the chart" button
    (tests/test_web_teams.py) and the text says it all."""
    partnership_id = await link_teams_channel(teams_bot)
    async with teams_bot.db.session() as session:
        row = (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.partnership_id == partnership_id))).one()
    # The session falls in the week the next digest looks back on, and not in the future:
    # the last day of that week, or today when that is still to come (as on a Monday after it
    # went). The week ends the day before the digest's regular day (a Monday, by its key's
    # week), also when a bank holiday moved it to the Tuesday.
    send_day = row.due_at.astimezone(LONDON).date()
    regular = parse_iso_week(row.dedupe_key.rsplit(":", 1)[1])
    assert send_day == regular or bank_holiday(regular) is not None
    held = min(regular - timedelta(days=1), now.astimezone(LONDON).date())
    await teams_bot.teams.say(f"cpd log East Barnet Area title: Phonics refresher theme: TA "
                              f"training date: {held.day}/{held.month}/{held.year}")
    await teams_bot.connector.wait_for(REPLY, 3)
    before = len(teams_bot.connector.of(SEND))
    sender = OutboxSender(teams_bot.db, teams_bot.delivery, FakeClock(row.due_at))
    assert await sender.tick() == 1
    post = (await teams_bot.connector.wait_for(SEND, before + 1))[-1]
    card = json.dumps(post.card, ensure_ascii=False)
    assert "Weekly digest for East Barnet Area" in card
    assert "CPD sessions (1)" in card and "Phonics refresher" in card
    # The coverage is the send day's term; a session held in the term before shows as none yet.
    # It recorded no attendance: no school is counted as absent from it.
    term = school_term(send_day)
    assert ("Teaching assistant development and training: 1 session, attendance not recorded\""
            if school_term(held) == term
            else f"No CPD sessions logged yet this {term.name}.") in card
    assert post.body["summary"].startswith("Weekly digest for East Barnet Area")
    async with teams_bot.db.session() as session:
        sent = (await session.exec(select(ScheduledDelivery).where(
            ScheduledDelivery.id == row.id))).one()
    assert (sent.status, sent.last_error) == ("sent", None)
