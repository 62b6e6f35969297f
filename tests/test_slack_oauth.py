"""Many workspaces through the real server: the OAuth install flow against the fake Slack Web API,
tokens encrypted at rest, uninstalls and revocations deleting tokens, and workspaces whose data
never mix."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.config import ConfigError
from bot.delivery import DeliveryError
from bot.slack.app import SlackPoster, slack_client
from bot.slack.oauth import InstalledBotTokens
from handlers.replies import Reply
from storage.db import Database
from storage.models import ChannelLink, Partnership
from storage.slack_oauth import (
    SlackInstallationStore,
    TokenKeyError,
    encrypt_stored_tokens,
    token_cipher,
)
from tests.conftest import RunningBot, oauth_test_settings, serve
from tests.support.fake_slack import CLIENT_ID, FakeSlack, Workspace
from tests.support.slack_oauth import (
    Page,
    come_back,
    install,
    installation_rows,
    start_install,
    stored_tokens,
)
from tests.support.slack_requests import block_action, event_callback
from tests.support.when import day_ahead, uk_long

NORTH = Workspace("T0NORTH001", "Northfield Schools")
SOUTH = Workspace("T0SOUTH001", "Southgate Schools", bot_user_id="U0BOT00002",
                  bot_id="B0BOT00002")
NORTH_TOKEN = "xoxb-1001-2001-northfieldnotarealtoken"
SOUTH_TOKEN = "xoxb-1002-2002-southgatenotarealtoken0"


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Event listeners run after Slack's request is acknowledged: wait for their effect (in
    the database, so there is nothing to wait on but the database itself)."""
    step = 0.02
    for _ in range(int(within / step)):
        if await check():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"not so within {within} s")


async def command(bot: RunningBot, team: Workspace, text: str, **overrides: str) -> str:
    """Run a slash command from `team` (a workspace outside Enterprise Grid); its reply text."""
    return await bot.ask_text("/partnership", text, team_id=team.team_id, enterprise_id=None,
                              enterprise_name=None, **overrides)


async def installed(bot: RunningBot, team: Workspace, token: str) -> None:
    page = await install(bot.slack.session, bot.url, bot.fake, team, token)
    assert page.status == 200, page.text


def assert_our_page(page: Page, title: str, *never: str) -> None:
    """One of our pages: its title, a way back to Slack, safe headers, the state cookie
    cleared, and nothing from the address the browser came back with."""
    assert f"<h1>{title}</h1>" in page.text
    assert "Oops" not in page.text
    assert re.search(r'href="(https://[a-z.]*slack\.com/|slack://)', page.text)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Set-Cookie"].startswith("slack-app-oauth-state=deleted")
    for value in never:
        assert value not in page.text


async def test_slack_can_verify_the_events_address(oauth_bot: RunningBot) -> None:
    """The manifest subscribes to events, so Slack first checks that /slack/events answers its
    documented url_verification challenge."""
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    response = await oauth_bot.slack.event(
        {"token": "not-real", "challenge": challenge, "type": "url_verification"})
    assert response.status == 200
    assert challenge in await response.text()


# -- the install flow ---------------------------------------------------------------------------


async def test_install_sends_the_browser_to_slack_with_our_scopes_and_a_state(
    oauth_bot: RunningBot,
) -> None:
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    url = urlparse(start.authorize_url)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://slack.com/oauth/v2/authorize"
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [
        "commands,chat:write,files:write,im:write,channels:history,groups:history"]
    assert query["redirect_uri"] == [oauth_bot.settings.slack_redirect_uri]
    assert f"slack-app-oauth-state={start.state}" in start.set_cookie
    async with oauth_bot.db.engine.connect() as conn:
        states = (await conn.execute(text("SELECT state FROM slack_oauth_states"))).all()
    assert [s for (s,) in states] == [start.state]


async def test_install_exchanges_the_code_and_the_workspace_can_use_the_bot(
    oauth_bot: RunningBot,
) -> None:
    page = await install(oauth_bot.slack.session, oauth_bot.url, oauth_bot.fake, NORTH,
                         NORTH_TOKEN)
    assert page.status == 200
    assert "Partnership Bot is installed" in page.text
    assert "Northfield Schools" in page.text
    exchange = oauth_bot.fake.of("oauth.v2.access")
    assert len(exchange) == 1
    assert exchange[0].body["code"].startswith("code-T0NORTH001")
    assert exchange[0].body["redirect_uri"] == oauth_bot.settings.slack_redirect_uri
    # The new token is checked with auth.test before it is saved.
    assert [c.token for c in oauth_bot.fake.of("auth.test")] == [NORTH_TOKEN]
    assert await installation_rows(oauth_bot.db, NORTH.team_id) == 2  # installation + bot

    reply = await command(oauth_bot, NORTH, "create Heath and Hill Partnership")
    assert "Created the partnership Heath and Hill Partnership" in reply
    assert oauth_bot.fake.of("auth.test")[-1].token == NORTH_TOKEN
    # The state was used up.
    async with oauth_bot.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM slack_oauth_states")) == 0


async def test_installing_again_replaces_the_workspace_token(oauth_bot: RunningBot) -> None:
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    newer = "xoxb-1001-2001-northfieldreinstalled00"
    await installed(oauth_bot, NORTH, newer)
    await command(oauth_bot, NORTH, "create Heath and Hill Partnership")
    assert oauth_bot.fake.of("auth.test")[-1].token == newer


async def test_a_forged_state_is_refused_before_any_code_is_exchanged(
    oauth_bot: RunningBot,
) -> None:
    oauth_bot.fake.grant("code-forged", NORTH, NORTH_TOKEN)
    # A state we never issued, with a matching cookie: someone else's link.
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"code": "code-forged", "state": "made-up"}, "made-up")
    assert page.status == 401
    assert "This install link has expired" in page.text
    # A real state, but the cookie from another browser is missing.
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"code": "code-forged", "state": start.state}, None)
    assert page.status == 400
    assert oauth_bot.fake.of("oauth.v2.access") == []
    assert await installation_rows(oauth_bot.db, NORTH.team_id) == 0


async def test_a_state_works_once(oauth_bot: RunningBot) -> None:
    oauth_bot.fake.grant("code-1", NORTH, NORTH_TOKEN)
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    params = {"code": "code-1", "state": start.state}
    first = await come_back(oauth_bot.slack.session, oauth_bot.url, params, start.state)
    again = await come_back(oauth_bot.slack.session, oauth_bot.url, params, start.state)
    assert (first.status, again.status) == (200, 401)
    assert len(oauth_bot.fake.of("oauth.v2.access")) == 1


async def test_a_cancelled_install_stores_nothing_and_offers_to_start_again(
    oauth_bot: RunningBot,
) -> None:
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"error": "access_denied", "state": start.state}, start.state)
    assert page.status == 200
    assert_our_page(page, "You cancelled the install", "access_denied", start.state)
    assert "nothing about your workspace was kept" in page.text
    assert 'href="/slack/install"' in page.text
    assert oauth_bot.fake.of("oauth.v2.access") == []


async def test_a_code_slack_rejects_stores_nothing_and_gives_a_reference(
    oauth_bot: RunningBot,
) -> None:
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"code": "never-granted", "state": start.state}, start.state)
    assert page.status == 401
    assert_our_page(page, "The install did not finish", "never-granted", "invalid_code")
    assert re.search(r"quote reference <code>[0-9a-f]{12}</code>", page.text)
    assert len(oauth_bot.fake.of("oauth.v2.access")) == 1
    async with oauth_bot.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM slack_bots")) == 0


async def test_a_workspace_that_never_installed_is_told_how_to(oauth_bot: RunningBot) -> None:
    reply = await command(oauth_bot, NORTH, "list")
    assert "not installed in this workspace" in reply
    assert "https://partnership-bot.example.org/slack/install" in reply
    async with oauth_bot.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM partnership")) == 0


# -- tokens at rest ------------------------------------------------------------------------------


async def test_tokens_are_encrypted_at_rest_and_the_bot_still_uses_the_right_one(
    oauth_bot: RunningBot,
) -> None:
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    raw = await stored_tokens(oauth_bot.db, NORTH.team_id)
    assert len(raw) == 2
    assert all(NORTH_TOKEN not in value and "xoxb" not in value for value in raw)
    key = oauth_bot.settings.token_encryption_key
    assert key is not None
    assert {Fernet(key.encode()).decrypt(v.encode()).decode() for v in raw} == {NORTH_TOKEN}

    await command(oauth_bot, NORTH, "create Heath and Hill Partnership")
    await command(oauth_bot, NORTH, "channel Heath and Hill Partnership",
                  channel_id="C0NORTH001", channel_name="heath-and-hill")
    post = (await oauth_bot.fake.wait_for("chat.postMessage"))[0]
    assert (post.body["channel"], post.token) == ("C0NORTH001", NORTH_TOKEN)


async def test_without_a_key_tokens_are_plain_and_a_warning_says_so(
    db: Database, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with serve(oauth_test_settings(fake_slack, db.url, None), db, fake_slack) as bot:
        warnings = [r.getMessage() for r in caplog.records
                    if "TOKEN_ENCRYPTION_KEY is not set" in r.getMessage()]
        assert len(warnings) == 1
        assert "plain text" in warnings[0]
        await installed(bot, NORTH, NORTH_TOKEN)
        assert set(await stored_tokens(db, NORTH.team_id)) == {NORTH_TOKEN}
        assert "Created" in await command(bot, NORTH, "create Heath and Hill Partnership")


async def test_a_key_can_be_rotated(db: Database) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = SlackInstallationStore(CLIENT_ID, db.engine, token_cipher(old))
    from slack_sdk.oauth.installation_store import Installation

    await before.async_save(Installation(app_id="A0APP00001", team_id=NORTH.team_id,
                                         user_id="U0ADMIN001", bot_token=NORTH_TOKEN,
                                         bot_id="B0BOT00001", bot_user_id="U0BOT00001"))
    # The new key first (it encrypts), the old one after it (it still decrypts).
    after = SlackInstallationStore(CLIENT_ID, db.engine, token_cipher(f"{new},{old}"))
    assert await after.bot_token_for_workspace(NORTH.team_id) == NORTH_TOKEN
    # A store with only an unrelated key cannot read it, and says why in the log.
    stranger = SlackInstallationStore(CLIENT_ID, db.engine, token_cipher(new))
    assert await stranger.bot_token_for_workspace(NORTH.team_id) is None


async def test_tokens_stored_before_a_key_was_set_still_work(db: Database) -> None:
    from slack_sdk.oauth.installation_store import Bot

    plain = SlackInstallationStore(CLIENT_ID, db.engine, None)
    await plain.async_save_bot(Bot(app_id="A0APP00001", team_id=NORTH.team_id,
                                   bot_token=NORTH_TOKEN, bot_id="B0BOT00001",
                                   bot_user_id="U0BOT00001", installed_at=1_700_000_000.0))
    keyed = SlackInstallationStore(CLIENT_ID, db.engine,
                                   token_cipher(Fernet.generate_key().decode()))
    assert await keyed.bot_token_for_workspace(NORTH.team_id) == NORTH_TOKEN


async def test_encrypt_stored_tokens_moves_every_token_to_the_first_key(db: Database) -> None:
    from slack_sdk.oauth.installation_store import Bot

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    for team, token, key in ((NORTH, NORTH_TOKEN, None), (SOUTH, SOUTH_TOKEN, old)):
        store = SlackInstallationStore(CLIENT_ID, db.engine, token_cipher(key))
        await store.async_save_bot(Bot(app_id="A0APP00001", team_id=team.team_id,
                                       bot_token=token, bot_id=team.bot_id,
                                       bot_user_id=team.bot_user_id,
                                       installed_at=1_700_000_000.0))
    unrelated = token_cipher(Fernet.generate_key().decode())
    assert unrelated is not None
    with pytest.raises(TokenKeyError, match="Nothing was changed"):
        await encrypt_stored_tokens(db.engine, unrelated)
    assert await stored_tokens(db, NORTH.team_id) == [NORTH_TOKEN]  # rolled back

    cipher = token_cipher(f"{new},{old}")
    assert cipher is not None
    assert await encrypt_stored_tokens(db.engine, cipher) == 2
    only_new = Fernet(new.encode())
    for team, token in ((NORTH, NORTH_TOKEN), (SOUTH, SOUTH_TOKEN)):
        [raw] = await stored_tokens(db, team.team_id)
        assert only_new.decrypt(raw.encode()).decode() == token


# -- uninstalls and revocations -------------------------------------------------------------------


async def test_uninstall_deletes_that_workspaces_tokens_only(oauth_bot: RunningBot) -> None:
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    await installed(oauth_bot, SOUTH, SOUTH_TOKEN)
    response = await oauth_bot.slack.event(event_callback("app_uninstalled", NORTH.team_id))
    assert response.status == 200

    async def north_gone() -> bool:
        return await installation_rows(oauth_bot.db, NORTH.team_id) == 0

    await eventually(north_gone)
    assert await installation_rows(oauth_bot.db, SOUTH.team_id) == 2
    assert "not installed in this workspace" in await command(oauth_bot, NORTH, "list")
    assert "Created" in await command(oauth_bot, SOUTH, "create Southgate Cluster")


async def test_a_revoked_bot_token_is_deleted(oauth_bot: RunningBot) -> None:
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    await installed(oauth_bot, SOUTH, SOUTH_TOKEN)
    oauth_bot.fake.revoke(NORTH_TOKEN)
    await oauth_bot.slack.event(event_callback("tokens_revoked", NORTH.team_id))

    async def north_gone() -> bool:
        return await stored_tokens(oauth_bot.db, NORTH.team_id) == []

    await eventually(north_gone)
    assert len(await stored_tokens(oauth_bot.db, SOUTH.team_id)) == 2


async def test_revoked_user_tokens_leave_the_bot_token(oauth_bot: RunningBot) -> None:
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    revoked = event_callback("tokens_revoked", NORTH.team_id,
                             tokens={"oauth": ["U0ADMIN001"], "bot": []})
    await oauth_bot.slack.event(revoked)

    async def installer_row_gone() -> bool:
        async with oauth_bot.db.engine.connect() as conn:
            n = await conn.scalar(text("SELECT count(*) FROM slack_installations"))
        return bool(n == 0)

    await eventually(installer_row_gone)
    assert "Created" in await command(oauth_bot, NORTH, "create Heath and Hill Partnership")


async def test_single_workspace_mode_acknowledges_an_uninstall(bot: RunningBot,
                                                               caplog: pytest.LogCaptureFixture,
                                                               ) -> None:
    caplog.set_level(logging.WARNING)
    response = await bot.slack.event(event_callback("app_uninstalled", "T0TEST0001"))
    assert response.status == 200

    async def logged() -> bool:
        return any("uninstalled" in r.getMessage() for r in caplog.records)

    await eventually(logged)


async def test_a_channel_post_for_a_workspace_without_a_token_explains_why(
    db: Database, fake_slack: FakeSlack,
) -> None:
    async with db.session() as session:
        partnership = Partnership(workspace=NORTH.team_id, name="Heath and Hill Partnership",
                                  name_key="heath and hill partnership")
        session.add(partnership)
        await session.flush()
        assert partnership.id is not None
        link = ChannelLink(partnership_id=partnership.id, platform="slack",
                           channel_id="C0NORTH001", channel_name="heath-and-hill")
    settings = oauth_test_settings(fake_slack, db.url, None)
    store = SlackInstallationStore(CLIENT_ID, db.engine, None)
    poster = SlackPoster(slack_client(settings), db, InstalledBotTokens(store))
    with pytest.raises(DeliveryError, match="not installed in that workspace"):
        await poster.post(link, Reply.success("Meeting on Thursday"))
    assert fake_slack.of("chat.postMessage") == []


# -- workspaces never mix ------------------------------------------------------------------------


async def test_two_workspaces_each_use_their_own_token_and_see_only_their_own_data(
    oauth_bot: RunningBot,
) -> None:
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    await installed(oauth_bot, SOUTH, SOUTH_TOKEN)

    await command(oauth_bot, NORTH, "create Heath and Hill Partnership")
    await command(oauth_bot, NORTH, "channel Heath and Hill Partnership",
                  channel_id="C0NORTH001", channel_name="heath-and-hill")
    # The same name in the other workspace is a different partnership.
    assert "Created" in await command(oauth_bot, SOUTH, "create Heath and Hill Partnership")
    await command(oauth_bot, SOUTH, "create Southgate Cluster")
    await command(oauth_bot, SOUTH, "channel Southgate Cluster",
                  channel_id="C0SOUTH001", channel_name="southgate")

    posts = await oauth_bot.fake.wait_for("chat.postMessage", 2)
    assert {(p.body["channel"], p.token) for p in posts} == {
        ("C0NORTH001", NORTH_TOKEN), ("C0SOUTH001", SOUTH_TOKEN)}

    north_list = await command(oauth_bot, NORTH, "list")
    assert "Heath and Hill Partnership" in north_list
    assert "Southgate Cluster" not in north_list
    assert "Southgate Cluster" in await command(oauth_bot, SOUTH, "list")
    # North cannot even learn that South's partnership exists: no "did you mean" either.
    north_info = await command(oauth_bot, NORTH, "info Southgate Cluster")
    assert "I can't find a partnership called “Southgate Cluster”." in north_info
    assert "Did you mean" not in north_info
    # North's channel is not linked to South's partnership of the same name.
    assert "heath-and-hill" not in await command(oauth_bot, SOUTH, "info Heath and Hill")
    assert "heath-and-hill" in await command(oauth_bot, NORTH, "info Heath and Hill")
    # Every request was authorised with its own workspace's token.
    team_of = {NORTH_TOKEN: NORTH.team_id, SOUTH_TOKEN: SOUTH.team_id}
    for call in oauth_bot.fake.of("auth.test"):
        assert call.token in team_of
    async with oauth_bot.db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT workspace, name FROM partnership"))).all()
    assert sorted(rows) == [(NORTH.team_id, "Heath and Hill Partnership"),
                            (SOUTH.team_id, "Heath and Hill Partnership"),
                            (SOUTH.team_id, "Southgate Cluster")]


async def test_interactions_are_answered_with_their_own_workspaces_token(
    oauth_bot: RunningBot,
) -> None:
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    await installed(oauth_bot, SOUTH, SOUTH_TOKEN)
    for n, (team, channel) in enumerate(((NORTH, "C0NORTH001"), (SOUTH, "C0SOUTH001")), 1):
        press = block_action("no.such.action", "x", channel_id=channel)
        press["team"]["id"] = press["user"]["team_id"] = team.team_id
        await oauth_bot.slack.interaction(press)
        await oauth_bot.fake.wait_for("chat.postEphemeral", n)
    answers = oauth_bot.fake.of("chat.postEphemeral")
    assert {(a.body["channel"], a.token) for a in answers} == {
        ("C0NORTH001", NORTH_TOKEN), ("C0SOUTH001", SOUTH_TOKEN)}
    assert all("out of date" in a.body["text"] for a in answers)


# -- our install pages ---------------------------------------------------------------------------


async def test_the_installed_page_links_back_to_the_workspace(oauth_bot: RunningBot) -> None:
    oauth_bot.fake.grant("code-north-1", NORTH, NORTH_TOKEN)
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"code": "code-north-1", "state": start.state}, start.state)
    assert page.status == 200
    assert_our_page(page, "Partnership Bot is installed", "code-north-1", start.state)
    assert "Northfield Schools" in page.text and "/partnership help" in page.text
    assert 'href="slack://app?team=T0NORTH001&amp;id=A0APP00001"' in page.text
    assert 'href="https://app.slack.com/client/T0NORTH001"' in page.text


async def test_a_crafted_error_puts_no_words_on_our_page(oauth_bot: RunningBot) -> None:
    """Anyone can send a link to our address with their own `error` text: it is never shown."""
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    crafted = "Your licence has lapsed. Call 0800 000 000 to renew"
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"error": crafted, "state": start.state}, start.state)
    assert page.status == 400
    assert_our_page(page, "The install did not finish", "licence", "0800", "lapsed")
    assert oauth_bot.fake.of("oauth.v2.access") == []


async def test_an_expired_used_or_other_browsers_link_gets_the_expired_page(
    oauth_bot: RunningBot,
) -> None:
    oauth_bot.fake.grant("code-late", NORTH, NORTH_TOKEN)
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    async with oauth_bot.db.engine.begin() as conn:
        await conn.execute(text("UPDATE slack_oauth_states SET expire_at = :past"),
                           {"past": datetime(2020, 1, 1)})
    params = {"code": "code-late", "state": start.state}
    late = await come_back(oauth_bot.slack.session, oauth_bot.url, params, start.state)
    assert late.status == 401
    assert_our_page(late, "This install link has expired", "code-late", start.state)
    assert "ten minutes" in late.text and 'href="/slack/install"' in late.text
    # Opened in another browser (no state cookie): the same page.
    other = await start_install(oauth_bot.slack.session, oauth_bot.url)
    elsewhere = await come_back(oauth_bot.slack.session, oauth_bot.url,
                                {"code": "code-late", "state": other.state}, None)
    assert elsewhere.status == 400
    assert_our_page(elsewhere, "This install link has expired", other.state)
    assert oauth_bot.fake.of("oauth.v2.access") == []


# -- Enterprise Grid: org-wide installs ------------------------------------------------------------

ORG = {"id": "E0GRID0001", "name": "Barnet Schools Trust"}
GRID = Workspace(ORG["id"], ORG["name"], bot_user_id="U0BOT00003", bot_id="B0BOT00003",
                 enterprise=ORG, org_wide=True)
GRID_TOKEN = "xoxb-3001-4001-gridorgwidenotarealtoken"
# Two workspaces of the org.
GRID_NORTH, GRID_SOUTH = "T0GRIDN001", "T0GRIDS001"


async def grid_ask(bot: RunningBot, command_name: str, text_: str, team_id: str,
                   **overrides: str) -> str:
    """A slash command from a workspace of the org, as Slack sends it under an org-wide
    install: the workspace's team id, the org's enterprise id, is_enterprise_install=true."""
    return await bot.ask_text(command_name, text_, team_id=team_id, enterprise_id=ORG["id"],
                              enterprise_name=ORG["name"], is_enterprise_install="true",
                              **overrides)


def grid_authorizations(payload: dict[str, Any], team_id: str) -> dict[str, Any]:
    """An Events API envelope under an org-wide install: the installation it is for has the
    org's id and no team."""
    payload.update(team_id=team_id, enterprise_id=ORG["id"], authorizations=[
        {"enterprise_id": ORG["id"], "team_id": None, "user_id": GRID.bot_user_id,
         "is_bot": True, "is_enterprise_install": True}])
    return payload


async def test_an_org_wide_install_is_stored_for_the_org(oauth_bot: RunningBot) -> None:
    page = await install(oauth_bot.slack.session, oauth_bot.url, oauth_bot.fake, GRID,
                         GRID_TOKEN)
    assert page.status == 200
    assert_our_page(page, "Partnership Bot is installed for your organisation")
    assert "Barnet Schools Trust" in page.text
    assert ('href="https://example.enterprise.slack.com/manage/organization/apps/profile/'
            'A0APP00001/workspaces/add"') in page.text
    async with oauth_bot.db.engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT enterprise_id, team_id, is_enterprise_install FROM slack_bots"))).all()
    assert [(e, t, bool(i)) for e, t, i in rows] == [(ORG["id"], None, True)]


async def test_commands_and_posts_work_in_every_workspace_of_the_org(
    oauth_bot: RunningBot,
) -> None:
    await installed(oauth_bot, GRID, GRID_TOKEN)
    await installed(oauth_bot, NORTH, NORTH_TOKEN)  # a workspace outside the org
    created = await grid_ask(oauth_bot, "/partnership", "create Barnet Cluster", GRID_NORTH)
    assert "Created the partnership Barnet Cluster" in created
    # The org's partnerships are shared by its workspaces: the other one links its channel.
    linked = await grid_ask(oauth_bot, "/partnership", "channel Barnet Cluster", GRID_SOUTH,
                            channel_id="C0GRIDS001", channel_name="cluster-heads")
    assert "Linked this channel" in linked
    scheduled = await grid_ask(oauth_bot, "/meeting",
                               f"schedule Barnet Cluster when: {uk_long(day_ahead(10))}",
                               GRID_NORTH)
    assert "Posted in #cluster-heads" in scheduled
    assert "not installed" not in scheduled and "can't post" not in scheduled
    posts = await oauth_bot.fake.wait_for("chat.postMessage", 2)
    assert {(p.body["channel"], p.token) for p in posts} == {("C0GRIDS001", GRID_TOKEN)}
    async with oauth_bot.db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT workspace FROM partnership"))).all() == [
            (ORG["id"],)]
    # Every request from the org was authorised with the org's token; the outsider sees
    # nothing of the org's partnerships.
    assert {c.token for c in oauth_bot.fake.of("auth.test")} <= {GRID_TOKEN, NORTH_TOKEN}
    assert "Barnet Cluster" not in await command(oauth_bot, NORTH, "list")


async def test_buttons_and_the_home_tab_under_an_org_wide_install(oauth_bot: RunningBot) -> None:
    await installed(oauth_bot, GRID, GRID_TOKEN)
    # Under an org-wide install an interaction's `team` can be null: the org is what counts.
    press = block_action("no.such.action", "x", channel_id="C0GRIDS001")
    press.update(team=None, is_enterprise_install=True, enterprise=ORG)
    press["user"]["team_id"] = GRID_SOUTH
    await oauth_bot.slack.interaction(press)
    answer = (await oauth_bot.fake.wait_for("chat.postEphemeral"))[0]
    assert (answer.body["channel"], answer.token) == ("C0GRIDS001", GRID_TOKEN)
    assert "out of date" in answer.body["text"]
    await oauth_bot.slack.event(grid_authorizations(
        event_callback("app_home_opened", GRID_NORTH), GRID_NORTH))
    home = (await oauth_bot.fake.wait_for("views.publish"))[0]
    assert home.token == GRID_TOKEN


async def test_uninstalling_from_the_org_deletes_only_the_orgs_tokens(
    oauth_bot: RunningBot,
) -> None:
    await installed(oauth_bot, GRID, GRID_TOKEN)
    await installed(oauth_bot, NORTH, NORTH_TOKEN)
    response = await oauth_bot.slack.event(grid_authorizations(
        event_callback("app_uninstalled", GRID_NORTH), GRID_NORTH))
    assert response.status == 200

    async def org_gone() -> bool:
        async with oauth_bot.db.engine.connect() as conn:
            n = await conn.scalar(text("SELECT count(*) FROM slack_bots WHERE enterprise_id "
                                       "= :e"), {"e": ORG["id"]})
        return bool(n == 0)

    await eventually(org_gone)
    assert await installation_rows(oauth_bot.db, NORTH.team_id) == 2
    reply = await grid_ask(oauth_bot, "/partnership", "list", GRID_NORTH)
    assert "not installed in this workspace" in reply


async def test_an_aliased_workspace_posts_with_its_slack_teams_token(
    db: Database, fake_slack: FakeSlack,
) -> None:
    """A Slack team sharing a workspace name (WORKSPACE_ALIASES) with a Teams tenant: its
    partnerships belong to the shared name, and posts find the team's token through it."""
    settings = dataclasses.replace(
        oauth_test_settings(fake_slack, db.url, Fernet.generate_key().decode()),
        workspace_aliases={NORTH.team_id: "barnet", "tenant-not-real": "barnet"})
    async with serve(settings, db, fake_slack) as bot:
        await installed(bot, NORTH, NORTH_TOKEN)
        await command(bot, NORTH, "create Heath and Hill Partnership")
        linked = await command(bot, NORTH, "channel Heath and Hill Partnership",
                               channel_id="C0NORTH001", channel_name="heath-and-hill")
        assert "not installed" not in linked
        post = (await fake_slack.wait_for("chat.postMessage"))[0]
        assert (post.body["channel"], post.token) == ("C0NORTH001", NORTH_TOKEN)


# -- starting with the wrong key -----------------------------------------------------------------


async def saved_with_key(db: Database, key: str | None) -> None:
    from slack_sdk.oauth.installation_store import Installation

    store = SlackInstallationStore(CLIENT_ID, db.engine, token_cipher(key))
    await store.async_save(Installation(app_id="A0APP00001", team_id=NORTH.team_id,
                                        user_id="U0ADMIN001", bot_token=NORTH_TOKEN,
                                        bot_id="B0BOT00001", bot_user_id="U0BOT00001"))


@pytest.mark.parametrize("configured", ["another key", "no key"])
async def test_the_server_will_not_start_when_stored_tokens_do_not_decrypt(
    db: Database, fake_slack: FakeSlack, configured: str,
) -> None:
    await saved_with_key(db, Fernet.generate_key().decode())
    key = Fernet.generate_key().decode() if configured == "another key" else None
    with pytest.raises(ConfigError) as refused:
        async with serve(oauth_test_settings(fake_slack, db.url, key), db, fake_slack):
            pass
    message = str(refused.value)
    assert "TOKEN_ENCRYPTION_KEY" in message and "\n" not in message
    assert "2 stored Slack token(s)" in message  # the installation's and the bot's


async def test_the_server_starts_with_the_key_or_a_rotation_that_lists_it(
    db: Database, fake_slack: FakeSlack,
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    await saved_with_key(db, None)  # plain, from before a key was set: readable with any
    await saved_with_key(db, old)
    fake_slack.workspaces[NORTH_TOKEN] = NORTH  # Slack knows the token
    for keys in (old, f"{new},{old}"):
        async with serve(oauth_test_settings(fake_slack, db.url, keys), db, fake_slack) as bot:
            assert "Created" in await command(bot, NORTH, "create Heath and Hill " + keys[:4])
