"""The Slack layer through the real server: signed requests in, Web API calls out."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.conftest import RunningBot
from tests.support.fake_slack import Scripted
from tests.support.slack_requests import signed_headers


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


async def test_logs_carry_neither_tokens_nor_notes(bot: RunningBot,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="handlers")
    caplog.set_level(logging.DEBUG, logger="storage")
    caplog.set_level(logging.INFO)
    bot.fake.answer("chat.postMessage", Scripted(body={"ok": False, "error": "not_in_channel"}))
    await bot.ask("/partnership", "create East Barnet Area")
    await bot.ask("/partnership", "join East Barnet Area school: Monkfrith")
    await bot.ask("/partnership", "channel East Barnet Area")
    await bot.ask("/walk", "log East Barnet Area school: Monkfrith date: 5/2/2026 focus: "
                  "reading strengths: SECRET-NOTE-TEXT next steps: PRIVATE-STEP")
    text = caplog.text
    assert "not_in_channel" in text  # the failure was logged...
    for secret in ("SECRET-NOTE-TEXT", "PRIVATE-STEP", bot.settings.slack_bot_token or "xoxb-",
                   bot.settings.slack_signing_secret or "secret"):
        assert secret not in text  # ...without the note or any credential
