"""Many workspaces through the real server: the OAuth install flow against the fake Slack Web API,
tokens encrypted at rest, uninstalls and revocations deleting tokens, and workspaces whose data
never mix."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

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
    come_back,
    install,
    installation_rows,
    start_install,
    stored_tokens,
)
from tests.support.slack_requests import block_action, event_callback

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
    assert query["scope"] == ["commands,chat:write,files:write,im:write"]
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


async def test_a_cancelled_install_stores_nothing(oauth_bot: RunningBot) -> None:
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"error": "access_denied", "state": start.state}, start.state)
    assert page.status == 200
    assert "You cancelled the install" in page.text
    assert "access_denied" not in page.text
    assert oauth_bot.fake.of("oauth.v2.access") == []


async def test_a_code_slack_rejects_stores_nothing(oauth_bot: RunningBot) -> None:
    start = await start_install(oauth_bot.slack.session, oauth_bot.url)
    page = await come_back(oauth_bot.slack.session, oauth_bot.url,
                           {"code": "never-granted", "state": start.state}, start.state)
    assert page.status == 401
    assert "The install did not finish" in page.text
    assert "invalid_code" not in page.text and "never-granted" not in page.text
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
