"""The Slack layer through the real server: signed requests in, Web API calls out."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

from cryptography.fernet import Fernet

from storage.db import Database
from tests.conftest import RunningBot, oauth_test_settings, serve
from tests.support.fake_slack import CLIENT_SECRET, FakeSlack, Scripted, Workspace
from tests.support.logs import TEXT_RECORD, captured_logs
from tests.support.slack_oauth import come_back, start_install
from tests.support.slack_requests import (
    SIGNING_SECRET,
    block_action,
    event_callback,
    signed_headers,
    view_submission,
)
from tests.support.teams_requests import TENANT, TeamsClientSim
from tests.test_learning_slack import text_input, walk_state

NORTH = Workspace("T0NORTH001", "Northfield Schools")
NORTH_TOKEN = "xoxb-1001-2001-northfieldnotarealtoken"
TEAMS_APP_ID = "11111111-2222-4333-8444-555555555555"
TEAMS_PASSWORD = "teams-app-password-not-real-0123"


async def test_healthz_answers_when_database_is_up(bot: RunningBot) -> None:
    async with bot.slack.session.get(f"{bot.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_signed_command_is_acknowledged_then_answered(bot: RunningBot) -> None:
    answer = await bot.ask("/partnership", "create East Barnet Area")
    assert answer["response_type"] == "ephemeral"
    assert "Created the partnership East Barnet Area" in answer["text"]
    assert answer["blocks"][0]["type"] == "section"


async def test_wrongly_signed_request_is_refused(bot: RunningBot) -> None:
    body = bot.slack.command_body("/partnership", "list")
    response = await bot.slack.post(body, signed_headers(body, secret="not-the-secret"))
    assert response.status == 401
    assert bot.fake.of("response_url") == []


async def test_stale_timestamp_is_refused(bot: RunningBot) -> None:
    body = bot.slack.command_body("/partnership", "list")
    headers = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    response = await bot.slack.post(body, headers)
    assert response.status == 401


async def test_unsigned_request_is_refused(bot: RunningBot) -> None:
    body = bot.slack.command_body("/partnership", "list")
    response = await bot.slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 401


async def test_every_subcommand_over_http(bot: RunningBot) -> None:
    steps = [
        ("create East Barnet Area type: structured", "Created the partnership"),
        ("join east barnet area school: St. Mary's EN4 role: headteacher",
         "East Barnet Area for St. Mary"),
        ("list", "East Barnet Area: structured, 1 school"),
        ("info East Barnet", "St. Mary"),
        ("leave East Barnet Area", "You have left East Barnet Area"),
        ("", "Partnership Bot"),
        ("help", "/partnership join"),
    ]
    for text, expected in steps:
        assert expected in await bot.ask_text("/partnership", text), text


async def test_bad_input_gets_an_ephemeral_explanation(bot: RunningBot) -> None:
    answer = await bot.ask("/partnership", "frobnicate")
    assert answer["response_type"] == "ephemeral"
    assert "I don't know `frobnicate`" in answer["text"]
    assert "/partnership help" in str(answer["blocks"])


async def test_linking_a_channel_announces_it_there(bot: RunningBot) -> None:
    await bot.ask("/partnership", "create Heath and Hill Partnership")
    linked = await bot.ask_text("/partnership", "channel heath and hill partnership",
                                channel_id="C0HEATH001", channel_name="heath-and-hill")
    assert "Linked this channel" in linked
    posts = bot.fake.of("chat.postMessage")
    assert posts[0].body["channel"] == "C0HEATH001"
    assert "now linked to Heath and Hill Partnership" in posts[0].body["text"]
    info = await bot.ask_text("/partnership", "info Heath and Hill")
    assert "#heath-and-hill (slack)" in info


async def test_channel_the_bot_is_not_in_gets_an_invite_hint(bot: RunningBot) -> None:
    bot.fake.answer("chat.postMessage", Scripted(body={"ok": False, "error": "not_in_channel"}))
    await bot.ask("/partnership", "create Heath and Hill Partnership")
    text = await bot.ask_text("/partnership", "channel Heath and Hill Partnership",
                              channel_id="C0PRIVATE1", channel_name="private-heads")
    assert "/invite @Partnership Bot" in text


async def test_mention_smuggled_into_a_name_is_shown_not_sent(bot: RunningBot) -> None:
    # Typed "<!channel>" arrives escaped (should_escape); a real @channel arrives as <!channel>.
    first = await bot.ask("/partnership", "create &lt;!channel&gt; Area")
    assert "<!channel>" not in str(first)
    assert "&lt;!channel&gt; Area" in first["text"]
    second = await bot.ask("/partnership", "create <!channel> Group")
    assert "<!channel>" not in str(second) and "@channel Group" in second["text"]


async def test_direct_message_cannot_be_linked(bot: RunningBot) -> None:
    await bot.ask("/partnership", "create Heath and Hill Partnership")
    text = await bot.ask_text("/partnership", "channel Heath and Hill Partnership",
                              channel_id="D0DIRECT01", channel_name="directmessage")
    assert "from inside it" in text
    await bot.fake.quiet()  # a late post would show
    assert bot.fake.of("chat.postMessage") == []


async def test_escaped_command_text_is_decoded_and_mentions_kept(bot: RunningBot) -> None:
    created = await bot.ask_text("/partnership", "create Heath &amp; Hill")
    assert "Created the partnership Heath &amp; Hill" in created
    await bot.ask("/partnership", "join Heath &amp; Hill school: Bernards Heath",
                  user_id="U0BEN00001", user_name="ben")
    promoted = await bot.ask_text("/partnership", "role Heath &amp; Hill <@U0BEN00001|ben> lead")
    assert "ben is now a lead of Heath &amp; Hill." in promoted


async def test_a_replayed_retry_never_creates_a_second_record(bot: RunningBot) -> None:
    body = bot.slack.command_body("/partnership", "create East Barnet Area")
    first = await bot.slack.post(body, signed_headers(body))
    retry = await bot.slack.post(body, {**signed_headers(body), "X-Slack-Retry-Num": "1",
                                        "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status == 200 and retry.status == 200
    # Commands run after their ack: wait for the create's answer before listing.
    await bot.fake.wait_until(lambda: any("Created" in c.body["text"]
                                          for c in bot.fake.of("response_url")), within=20)
    listing = await bot.ask_text("/partnership", "list")
    assert "1 partnership " in listing
    created = [c for c in bot.fake.of("response_url") if "Created" in c.body["text"]]
    assert len(created) == 1


async def test_a_channel_ping_in_a_school_name_is_rendered_harmless(bot: RunningBot) -> None:
    await bot.ask("/partnership", "create Heath and Hill")
    joined = await bot.ask("/partnership", "join Heath and Hill school: &lt;!channel&gt; Infant "
                           "new: yes")
    info = await bot.ask("/partnership", "info Heath and Hill")
    for answer in (joined, info):
        assert "<!channel>" not in json.dumps(answer)
    assert "&lt;!channel&gt; Infant" in json.dumps(info["blocks"])


async def test_logs_carry_no_secrets_tokens_or_notes(db: Database,
                                                      fake_slack: FakeSlack) -> None:
    """A scripted run through the real server, serving many Slack workspaces and Teams (with
    its token checks on), logged at DEBUG with the access log on, as JSON and as text: installs
    (one good, one refused with a newline in its code, one cancelled, forged and reused
    states), commands, a form, link use, a refused Teams JWT and errors. No token, secret,
    code, state, link token, JWT or walk note appears in any line; every line is one record;
    and the lines of a request carry its id, platform, workspace and command."""
    key = Fernet.generate_key().decode()
    settings = dataclasses.replace(
        oauth_test_settings(fake_slack, db.url, key), teams_app_id=TEAMS_APP_ID,
        teams_app_password=TEAMS_PASSWORD, teams_tenant_id=TENANT)
    code = "4724469134.4644010092847.232b4e6d82c333b53c3d5f2ea6a8c3d7"
    newline_code = "4724469134.1.x\n2026-01-01 00:00:00,000 CRITICAL root: forged record"
    link_token, link_sig = "Zx9_Qm2-Lp7wRt4YvB1cNe8KdJ3sHf6G", "c2lnbmF0dXJlLW5vdC1yZWFs"
    jwt = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJub3QtcmVhbCIsImlzcyI6Im5vdCJ9."
           "bm90LWEtcmVhbC1zaWduYXR1cmUtYXQtYWxs")
    notes = ["SECRET-NOTE-TEXT", "PRIVATE-STEP", "FORM-NOTE-TEXT", "FORGED-BODY-NOTE",
             "TEAMS-NOTE-TEXT", "BUTTON-VALUE-NOTE"]
    states: list[str] = []
    with captured_logs(known_secrets=settings.secrets) as logs:
        async with serve(settings, db, fake_slack) as bot:
            session, url = bot.slack.session, bot.url

            async def back(params: dict[str, str], cookie: bool = True) -> int:
                start = await start_install(session, url)
                states.append(start.state)
                page = await come_back(session, url, {**params, "state": start.state},
                                       start.state if cookie else None)
                return page.status

            # Installs: good, refused with a newline in the code, cancelled, other browser.
            fake_slack.grant(code, NORTH, NORTH_TOKEN)
            assert await back({"code": code}) == 200
            assert await back({"code": newline_code}) == 401
            assert await back({"error": "access_denied"}) == 200
            assert await back({"code": code}, cookie=False) == 400
            # A forged state; a used one.
            assert (await come_back(session, url, {"code": code, "state": "forged-state-1a2b3c"},
                                    "forged-state-1a2b3c")).status == 401
            assert (await come_back(session, url, {"code": code, "state": states[0]},
                                    states[0])).status == 401

            # Commands, a walk with notes, a channel Slack refuses to post in.
            fake_slack.answer("chat.postMessage",
                              Scripted(body={"ok": False, "error": "not_in_channel"}))
            north = {"team_id": NORTH.team_id, "enterprise_id": None, "enterprise_name": None}
            await bot.ask("/partnership", "create East Barnet Area", **north)
            await bot.ask("/partnership", "join East Barnet Area school: Monkfrith", **north)
            await bot.ask("/partnership", "join East Barnet Area school: Danegrove",
                          user_id="U0BEN00001", user_name="ben", **north)
            await bot.ask("/partnership", "channel East Barnet Area", channel_id="C0HEADS001",
                          channel_name="heads", **north)
            await bot.ask("/walk", "log East Barnet Area school: Monkfrith date: 5/2/2026 "
                          "focus: reading strengths: SECRET-NOTE-TEXT next steps: PRIVATE-STEP",
                          **north)
            # The walk form, submitted with notes.
            await bot.slack.command("/walk", "log", **north)
            view = (await fake_slack.wait_for("views.open"))[0].body["view"]
            form = view_submission("walk.log", walk_state(view, strengths=text_input(
                "FORM-NOTE-TEXT")), view["private_metadata"])
            form["team"]["id"] = form["user"]["team_id"] = form["view"]["team_id"] = (
                NORTH.team_id)
            assert await bot.slack.interaction_json(form) is None
            await fake_slack.wait_for("chat.postEphemeral")

            # Errors: an unsigned request carrying a note; a signed button press Bolt cannot
            # make sense of (no user), carrying a note in its value.
            body = bot.slack.command_body("/walk", "log x strengths: FORGED-BODY-NOTE", **north)
            unsigned = await bot.slack.post(body, signed_headers(body, secret="not-the-secret"))
            assert unsigned.status == 401
            press = block_action("walk.done", "BUTTON-VALUE-NOTE")
            press["team"]["id"] = NORTH.team_id
            del press["user"]
            await bot.slack.interaction(press)

            # Link use: a token in the path and a signature in the query.
            async with session.get(f"{url}/web/files/{link_token}/export.csv?sig={link_sig}"
                                   "&code=abc") as answer:
                assert answer.status == 404
            # Teams: a JWT that does not validate, on a message carrying a note.
            teams = TeamsClientSim(session, f"{url}/api/messages", "http://127.0.0.1:9/")
            refused = await teams.post(teams.personal("walk log x strengths: TEAMS-NOTE-TEXT"),
                                       headers={"Authorization": f"Bearer {jwt}"})
            assert refused.status == 401
            # The workspace uninstalls.
            await bot.slack.event(event_callback("app_uninstalled", NORTH.team_id))
            await fake_slack.wait_until(lambda: True)
            await asyncio.sleep(0.2)  # the last access lines and after-ack listeners

    secrets = [NORTH_TOKEN, CLIENT_SECRET, SIGNING_SECRET, key, TEAMS_PASSWORD, code,
               newline_code, "CRITICAL root: forged", *states, "forged-state-1a2b3c",
               link_token, link_sig, jwt, jwt.split(".")[2], *notes]
    for output in (logs.json_text, logs.text):
        for secret in secrets:
            assert secret not in output, secret
        # Nothing even reached the last net: no secret was handed to a logger at all.
        assert "[redacted]" not in output

    # One record a line, in both formats.
    records = logs.records()
    assert len([line for line in logs.text_lines() if TEXT_RECORD.match(line)]) == len(records)
    assert all(TEXT_RECORD.match(line) or line.startswith("    ")
               for line in logs.text_lines())

    # The run was logged, with each request's fields.
    access = {(r["method"], r["path"], r["status"]) for r in logs.where(logger="bot.access")}
    assert {("GET", "/slack/install", 302), ("GET", "/slack/oauth_redirect", 200),
            ("GET", "/slack/oauth_redirect", 401), ("GET", "/slack/oauth_redirect", 400),
            ("GET", "/web/files/{token}/export.csv", 404), ("POST", "/slack/events", 401),
            ("POST", "/api/messages", 401)} <= access
    [refused_code] = logs.where(message="Slack refused the install code: invalid_code")
    assert refused_code["platform"] == "slack" and refused_code["request_id"]
    assert logs.where(message="install cancelled by the installer")
    [teams_line] = logs.where(logger="bot.access", path="/api/messages")
    assert teams_line["platform"] == "teams"
    [failed_post] = [r for r in records if "not_in_channel" in r["message"]]
    assert (failed_post["platform"], failed_post["workspace"], failed_post["command"]) == (
        "slack", NORTH.team_id, "partnership")
    # The warning came from the command's after-ack task; the access line of the same request
    # carries the same id.
    same_request = logs.where(logger="bot.access", request_id=failed_post["request_id"])
    assert [(r["method"], r["path"]) for r in same_request] == [("POST", "/slack/events")]
    assert same_request[0]["command"] == "partnership"
