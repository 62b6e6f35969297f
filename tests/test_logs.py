"""The log format (bot/logs.py): one record a line whatever it holds, the request's fields on
every line, secrets redacted, the access log without queries or tokens and at the level asked.

The scripted run of installs, commands, forms and errors that no log line may leak from is
tests/test_slack_http.py::test_logs_carry_no_secrets_tokens_or_notes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import ConfigError, Settings
from bot.logs import (
    OFF,
    Redactor,
    bind,
    current_context,
    escape_line_breaks,
    loggable_path,
    request_scope,
)
from tests.conftest import RunningBot
from tests.support.logs import TEXT_RECORD, Captured, captured_logs

log = logging.getLogger("bot.test_logs")

FORGED = "\n2026-01-01 00:00:00,000 CRITICAL root: all tokens revoked"
BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e"]


@pytest.fixture
def logs() -> Iterator[Captured]:
    with captured_logs() as captured:
        yield captured


def assert_one_line_each(logs: Captured, records: int) -> None:
    """As many lines as records, in both formats, however strictly lines are split."""
    assert len(logs.records()) == records
    text_starts = [line for line in logs.text_lines() if TEXT_RECORD.match(line)]
    assert len(text_starts) == records
    # Any other line is a traceback's, indented so it cannot pass for a record.
    assert all(line.startswith("    ") for line in logs.text_lines() if line not in text_starts)


def test_no_value_can_start_a_line_or_pass_for_another_record(logs: Captured) -> None:
    for n, brk in enumerate(BREAKS):
        log.warning("refused code %s", f"code-{n}{brk}2026-01-01 00:00:00,000 CRITICAL forged",
                    extra={"value": f"v{brk}CRITICAL forged"})
    try:
        raise ValueError("bad" + FORGED)
    except ValueError:
        log.exception("failed with %s", "x" + FORGED)
    assert_one_line_each(logs, len(BREAKS) + 1)
    # The values are all there, escaped, not lost.
    first = logs.records()[0]
    assert first["message"] == "refused code code-0\n2026-01-01 00:00:00,000 CRITICAL forged"
    assert first["value"] == "v\nCRITICAL forged"
    assert "refused code code-0\\n2026-01-01" in logs.text
    failed = logs.records()[-1]
    assert failed["error"] == "ValueError" and "bad\n2026" in failed["traceback"]


def test_escaping_keeps_printable_text_as_it_is() -> None:
    assert escape_line_breaks("Ann’s school, Year 5 — ok") == "Ann’s school, Year 5 — ok"
    assert escape_line_breaks("a\nb\u2028c\x00") == "a\\nb\\u2028c\\x00"


async def test_a_requests_fields_are_on_every_line_it_logs_and_in_its_tasks(
    logs: Captured,
) -> None:
    log.info("before")
    with request_scope() as request_id:
        bind(platform="slack", workspace="T0NORTH001", command="partnership")
        log.info("in the request")
        # Slack commands run after their ack in a task of their own: the fields go along.
        await asyncio.create_task(_log_later())
    log.info("after")
    before, during, later, after = logs.records()
    assert "request_id" not in before and "request_id" not in after
    for record in (during, later):
        assert (record["request_id"], record["platform"], record["workspace"],
                record["command"]) == (request_id, "slack", "T0NORTH001", "partnership")
    assert f"request_id={request_id} platform=slack workspace=T0NORTH001" in logs.text


async def _log_later() -> None:
    await asyncio.sleep(0)
    log.info("after the ack")


def test_context_values_are_ids_never_free_text() -> None:
    with request_scope("r1"):
        bind(workspace="T0 NORTH\n<script>", command=None)
        assert dict(current_context()) == {"request_id": "r1", "workspace": "T0?NORTH??script?"}


@pytest.mark.parametrize(("text", "hidden"), [
    ("token xoxb-1001-2001-abcdefABCDEF0123 failed", "xoxb-1001"),
    ("app token xapp-1-A0APP-123-abcdef", "xapp-1"),
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl",
     "eyJhbGciOiJSUzI1NiJ9"),
    ("jwt eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl in a message", "c2lnbmF0dXJl"),
    ("stored gAAAAABmAbCdEfGhIjKlMnOpQrStUvWxYz0123456789 value", "gAAAAABmAbCd"),
    ("GET /slack/oauth_redirect?code=4724469134.46440&state=b3f1c2 HTTP/1.1", "4724469134"),
    ("data: {'client_secret=abc123def456', 'code=xyz'}", "abc123def456"),
    ("posting to https://hooks.slack.com/commands/T0/123/AbCdEf failed", "AbCdEf"),
    ("Basic dXNlcjpwYXNzd29yZA== refused", "dXNlcjpwYXNzd29yZA"),
])
def test_anything_shaped_like_a_secret_is_redacted(text: str, hidden: str) -> None:
    redacted = Redactor()(text)
    assert hidden not in redacted
    assert "[redacted]" in redacted


def test_configured_secrets_are_redacted_as_given_and_url_encoded() -> None:
    redact = Redactor(["signing/secret+not=real", "short", None])
    assert redact("sig signing/secret+not=real and signing%2Fsecret%2Bnot%3Dreal") == (
        "sig [redacted] and [redacted]")
    assert redact("short words stay") == "short words stay"


@pytest.mark.parametrize(("raw", "shown"), [
    ("/slack/oauth_redirect?code=4724469134.4644&state=8f14e45f-ceea", "/slack/oauth_redirect"),
    ("/slack/install?team=T0NORTH001", "/slack/install"),
    ("/api/messages", "/api/messages"),
    ("/healthz", "/healthz"),
    ("/web/sign-in/Zx9_Qm2-Lp7wRt4YvB1cNe8KdJ3sHf6G?next=%2Fweb", "/web/sign-in/{token}"),
    ("/web/files/3f9c2a1e7b3d4f5a6b7c8d9e0f1a2b3c/export.csv?sig=abc",
     "/web/files/{token}/export.csv"),
    ("/web/links/8f14e45f-ceea-467f-a0d7-2f8b4ad0e1c9", "/web/links/{token}"),
    ("/web/partnerships/42/walks", "/web/partnerships/42/walks"),
    ("/web/x/T0NORTH001", "/web/x/T0NORTH001"),
    ("/web/files/abc%2Fdef%3Dghijk", "/web/files/{token}"),
    ("/favicon.ico#top", "/favicon.ico"),
])
def test_the_access_log_shows_no_query_and_no_token_in_any_path(raw: str, shown: str) -> None:
    assert loggable_path(raw) == shown


async def access_lines(bot: RunningBot, logs: Captured) -> list[dict[str, object]]:
    for path in ("/healthz", "/slack/install?team=T0NORTH001", "/no/such/page"):
        async with bot.slack.session.get(f"{bot.url}{path}", allow_redirects=False) as answer:
            await answer.read()
    await asyncio.sleep(0.05)  # the access line is written just after the answer is sent
    return [r for r in logs.records() if r["logger"] == "bot.access"]


@pytest.mark.parametrize(("level", "paths"), [
    (logging.DEBUG, ["/healthz", "/slack/install", "/no/such/page"]),
    (logging.INFO, ["/slack/install", "/no/such/page"]),
    (logging.WARNING, []),
    (OFF, []),
])
async def test_the_access_log_level_turns_lines_on_and_off(
    bot: RunningBot, level: int, paths: list[str],
) -> None:
    with captured_logs(level=logging.INFO, access_level=level) as logs:
        lines = await access_lines(bot, logs)
    assert [line["path"] for line in lines] == paths
    for line in lines:
        assert {"method", "status", "duration_ms", "request_id"} <= set(line)
        assert "?" not in str(line) and "T0NORTH001" not in str(line)
    if paths:
        assert lines[-1]["status"] == 404 and lines[-1]["message"] == "GET /no/such/page 404"


def test_libraries_stay_at_warning_whatever_the_bots_level(logs: Captured) -> None:
    """Bolt writes an unsigned request's body at INFO and slack-sdk its requests' form fields
    (the client secret among them) at DEBUG: with LOG_LEVEL=debug the bot says more, they don't."""
    logging.getLogger("slack_bolt.AsyncApp").info("Invalid request signature detected "
                                                  "(body: text=SECRET-NOTE)")
    logging.getLogger("slack_sdk.web.async_base_client").debug("data: client_secret=s3cret")
    logging.getLogger("bot.anything").debug("the bot's own debug line")
    assert [r["message"] for r in logs.records()] == ["the bot's own debug line"]


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of debug, info, warning, error"),
    ("ACCESS_LOG_LEVEL", "none",
     "ACCESS_LOG_LEVEL must be one of debug, info, warning, error, off"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT must be json or text"),
])
def test_a_wrong_log_setting_says_what_to_write(monkeypatch: pytest.MonkeyPatch, name: str,
                                                value: str, problem: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env(load_dotenv_file=False)


def test_log_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOG_LEVEL", "ACCESS_LOG_LEVEL", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    default = Settings.from_env(load_dotenv_file=False)
    assert (default.log_level, default.access_log_level, default.log_format) == (
        logging.INFO, logging.INFO, None)
    monkeypatch.setenv("LOG_LEVEL", "Debug")
    monkeypatch.setenv("ACCESS_LOG_LEVEL", "off")
    monkeypatch.setenv("LOG_FORMAT", "text")
    chosen = Settings.from_env(load_dotenv_file=False)
    assert (chosen.log_level, chosen.access_log_level, chosen.log_format) == (
        logging.DEBUG, OFF, "text")


def test_a_json_line_is_one_object_with_the_documented_fields(logs: Captured) -> None:
    with request_scope("5f2c9a1e7b3d"):
        bind(platform="slack", workspace="T0NORTH001", command="meeting")
        log.warning("chat.postMessage to %s failed: %s", "C0HEADS001", "not_in_channel",
                    extra={"attempts": 2})
    line = logs.json_text.strip()
    record = json.loads(line)
    assert list(record)[:4] == ["time", "level", "logger", "message"]
    assert record["level"] == "warning" and record["attempts"] == 2
    assert record["request_id"] == "5f2c9a1e7b3d" and record["command"] == "meeting"


async def test_socket_mode_requests_get_their_fields_too(logs: Captured) -> None:
    """Socket Mode has no HTTP middleware: a Bolt middleware gives its requests their fields,
    each in the task slack-sdk runs it in."""
    from bot.slack.socket_mode import _log_fields
    from tests.support.slack_requests import fixture

    async def listener() -> None:
        log.info("handled")

    await asyncio.create_task(_log_fields(fixture("slash_command.json"), listener))
    [record] = logs.records()
    assert (record["platform"], record["workspace"], record["command"]) == (
        "slack", "T0001", "weather")
    assert len(record["request_id"]) == 12
