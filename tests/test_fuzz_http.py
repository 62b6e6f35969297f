"""Random command texts and interaction payloads, posted to the real server, signed and not:
every answer is a 2xx with something a person can read, or a 401; never a 500."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RunningBot
from tests.support.slack_requests import block_action, signed_headers, view_submission

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

subcommands = st.sampled_from(["", "help", "create", "join", "leave", "list", "info", "channel",
                               "role", "web", "frob"])
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80)
fields = st.sampled_from(["school:", "role:", "type:", "new:", "<@U1|x>", "@x", "lead", "&lt;",
                          "<!channel>", "<#C1|c>", ":", "\n", "\x00"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=10,
)


@FUZZ
@given(sub=subcommands, parts=st.lists(st.one_of(words, fields), max_size=6))
async def test_random_commands_get_a_readable_answer(bot: RunningBot, sub: str,
                                                     parts: list[str]) -> None:
    answer = await bot.ask("/partnership", " ".join([sub, *parts]))
    assert isinstance(answer["text"], str) and answer["text"].strip()
    assert "Traceback" not in json.dumps(answer)


def mangled(payload: dict[str, Any], junk: dict[str, Any]) -> dict[str, Any]:
    payload.update(junk)
    return payload


@FUZZ
@given(kind=st.sampled_from(["block_actions", "view_submission", "shortcut", "nonsense"]),
       junk=st.dictionaries(st.sampled_from(["user", "team", "actions", "view", "container",
                                             "trigger_id", "channel", "type"]),
                            json_values, max_size=3),
       signed=st.booleans())
async def test_random_interactions_never_fail_the_server(bot: RunningBot, kind: str,
                                                         junk: dict[str, Any],
                                                         signed: bool) -> None:
    if kind == "view_submission":
        payload = view_submission("no.such.form", {"x": {"type": "plain_text_input",
                                                          "value": "y"}})
    else:
        payload = block_action("no.such.action", "v")
    payload["type"] = kind
    body = "payload=" + json.dumps(mangled(payload, junk))
    headers = signed_headers(body) if signed else {
        "Content-Type": "application/x-www-form-urlencoded"}
    response = await bot.slack.post(body, headers)
    assert response.status in ((200, 404) if signed else (401,))


# Payloads Bolt fails on while reading them, before any listener: the server checks the
# signature itself then (bot/server.py), so each is refused unsigned or forged and answered
# politely when signed. Fixed cases, so this never depends on the fuzz finding one.
MALFORMED = {
    "a user that is a number": lambda: {**block_action("no.such.action", "v"), "user": 5},
    "actions that are a string": lambda: {**block_action("no.such.action", "v"),
                                          "actions": "x"},
    "a view that is a string": lambda: {**view_submission("no.such.form", {}), "view": "x"},
}


@pytest.mark.parametrize("make", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_malformed_payload_is_refused_unless_signed(
    bot: RunningBot, make: Callable[[], dict[str, Any]], caplog: pytest.LogCaptureFixture,
) -> None:
    body = "payload=" + json.dumps(make())
    signed = signed_headers(body)
    forged = {**signed, "X-Slack-Signature": "v0=" + "0" * 64}
    stale = signed_headers(body, timestamp=int(time.time()) - 3600)
    wrong_secret = signed_headers(body, secret="not-the-signing-secret")
    for headers in (forged, stale, wrong_secret):
        response = await bot.slack.post(body, headers)
        assert response.status == 401, headers
    unsigned = {k: v for k, v in signed.items() if k != "X-Slack-Signature"}
    assert (await bot.slack.post(body, unsigned)).status == 401
    assert "could not be handled" not in caplog.text

    async with bot.slack.session.post(bot.slack.events_url, data=body.encode(),
                                      headers=signed) as response:
        assert response.status == 200
        assert await response.json() == {"text": "Sorry, I couldn't handle that request."}
    # It went the fallback's way: Bolt failed, and the server's own check let it through.
    assert "a signed Slack request could not be handled" in caplog.text
