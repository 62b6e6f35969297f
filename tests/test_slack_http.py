"""The Slack layer through the real server: signed requests in, Web API calls out."""

from __future__ import annotations

import time

from tests.conftest import RunningBot
from tests.support.fake_slack import Scripted
from tests.support.slack_requests import signed_headers


async def reply_text(bot: RunningBot, n: int = 1) -> str:
    calls = await bot.fake.wait_for("response_url", n)
    body = calls[n - 1].body
    return str(body["text"]) + "\n" + str(body["blocks"])


async def test_healthz_answers_when_database_is_up(bot: RunningBot) -> None:
    async with bot.slack.session.get(f"{bot.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_signed_command_is_acknowledged_then_answered(bot: RunningBot) -> None:
    response = await bot.slack.command("/partnership", "create East Barnet Area")
    assert response.status == 200
    answer = (await bot.fake.wait_for("response_url"))[0].body
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
    for n, (text, expected) in enumerate(steps, start=1):
        await bot.slack.command("/partnership", text)
        assert expected in await reply_text(bot, n), text


async def test_bad_input_gets_an_ephemeral_explanation(bot: RunningBot) -> None:
    await bot.slack.command("/partnership", "frobnicate")
    answer = (await bot.fake.wait_for("response_url"))[0].body
    assert answer["response_type"] == "ephemeral"
    assert "I don't know `frobnicate`" in answer["text"]
    assert "/partnership help" in str(answer["blocks"])


async def test_linking_a_channel_announces_it_there(bot: RunningBot) -> None:
    await bot.slack.command("/partnership", "create Heath and Hill Partnership")
    await reply_text(bot, 1)  # Bolt acks at once: let the create commit before the next
    await bot.slack.command("/partnership", "channel heath and hill partnership",
                            channel_id="C0HEATH001", channel_name="heath-and-hill")
    posts = await bot.fake.wait_for("chat.postMessage")
    assert posts[0].body["channel"] == "C0HEATH001"
    assert "now linked to Heath and Hill Partnership" in posts[0].body["text"]
    assert "Linked this channel" in await reply_text(bot, 2)
    await bot.slack.command("/partnership", "info Heath and Hill")
    assert "#heath-and-hill (slack)" in await reply_text(bot, 3)


async def test_channel_the_bot_is_not_in_gets_an_invite_hint(bot: RunningBot) -> None:
    bot.fake.answer("chat.postMessage", Scripted(body={"ok": False, "error": "not_in_channel"}))
    await bot.slack.command("/partnership", "create Heath and Hill Partnership")
    await reply_text(bot, 1)  # Bolt acks at once: let the create commit before the next
    await bot.slack.command("/partnership", "channel Heath and Hill Partnership",
                            channel_id="C0PRIVATE1", channel_name="private-heads")
    text = await reply_text(bot, 2)
    assert "/invite @Partnership Bot" in text


async def test_mention_smuggled_into_a_name_is_shown_not_sent(bot: RunningBot) -> None:
    await bot.slack.command("/partnership", "create <!channel> Area")
    answer = (await bot.fake.wait_for("response_url"))[0].body
    assert "<!channel>" not in str(answer)
    assert "&lt;!channel&gt; Area" in answer["text"]


async def test_direct_message_cannot_be_linked(bot: RunningBot) -> None:
    await bot.slack.command("/partnership", "create Heath and Hill Partnership")
    await reply_text(bot, 1)  # Bolt acks at once: let the create commit before the next
    await bot.slack.command("/partnership", "channel Heath and Hill Partnership",
                            channel_id="D0DIRECT01", channel_name="directmessage")
    assert "from inside it" in await reply_text(bot, 2)
    assert bot.fake.of("chat.postMessage") == []
