"""A walk's notes (strengths, development, next steps) concern staff: members read them with
`walk show`, and nothing else carries them. Each note field alone, and every combination, is
logged, then edited, through the real server, and neither the channel posts (as Slack got them),
nor a log line (as text and as JSON, the bot's own at DEBUG), nor the digest carries any of
them."""

from __future__ import annotations

import itertools
import json
import logging

import pytest

from bot.logs import OWN_LOGGERS, JsonFormatter, TextFormatter
from tests.conftest import RunningBot
from tests.support.fake_slack import Call
from tests.support.learning import PARTNERSHIP

# Each note field and what is written in it (distinct words, so any leak is found).
NOTES = {
    "strengths": "Zebracrossing confident decoding",
    "development": "Quokkaword vocabulary in Y3",
    "next steps": "Yakshaving progression map",
}
EDITED = {field: f"Edited {text}" for field, text in NOTES.items()}
COMBINATIONS = [combo for n in range(1, len(NOTES) + 1)
                for combo in itertools.combinations(NOTES, n)]
FOCUS = "fluency in KS1"


def secrets(fields: tuple[str, ...]) -> list[str]:
    """The words that must never be seen outside `walk show`: each note's first word."""
    return [NOTES[f].split()[0] for f in fields]


def notes_text(fields: tuple[str, ...], notes: dict[str, str]) -> str:
    text = " ".join(f"{field}: {notes[field]}" for field in fields)
    if "next steps" in fields:
        text += " owner: Ben Day due: 1/1/2099"
    return text


HEADS = {"channel_id": "C0HEADS001", "channel_name": "heads"}


def in_heads(bot: RunningBot) -> list[Call]:
    """Everything the bot posted or changed in the linked channel."""
    return [c for c in bot.fake.calls if c.body.get("channel") == HEADS["channel_id"]
            and c.method in ("chat.postMessage", "chat.update", "files.completeUploadExternal")]


@pytest.mark.parametrize("fields", COMBINATIONS, ids=["+".join(c) for c in COMBINATIONS])
async def test_notes_reach_no_channel_log_or_digest(bot: RunningBot, fields: tuple[str, ...],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    # As the bot logs at LOG_LEVEL=debug (bot/logs.py): its own loggers at DEBUG, the
    # libraries' at WARNING and above.
    caplog.set_level(logging.WARNING)
    for name in OWN_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    await bot.ask("/partnership", f"create {PARTNERSHIP}")
    await bot.ask("/partnership", f"join {PARTNERSHIP} school: Monkfrith")
    await bot.ask("/partnership", f"channel {PARTNERSHIP}", **HEADS)
    logged = await bot.ask_text("/walk", f"log {PARTNERSHIP} school: Monkfrith date: today "
                                         f"focus: {FOCUS} {notes_text(fields, NOTES)}")
    assert "Logged learning walk #1" in logged
    edited = await bot.ask_text("/walk", f"edit 1 focus: {FOCUS} again "
                                         f"{notes_text(fields, EDITED)}")
    assert "Error" not in edited and "#1" in edited, edited
    # A member reads them all with `walk show`: the notes were stored.
    shown = await bot.ask_text("/walk", "show 1")
    assert all(EDITED[f] in shown for f in fields), shown
    digest = await bot.ask_text("/partnership", f"digest {PARTNERSHIP} preview")
    assert f"focus: {FOCUS} again" in digest  # the walk is in it
    await bot.fake.quiet()

    channel = "\n".join(json.dumps(c.body, ensure_ascii=False) for c in in_heads(bot))
    # The channel had the walk's note, and its edit: what the channel may see.
    assert f"focus: {FOCUS}" in channel and f"focus: {FOCUS} again" in channel
    text, as_json = TextFormatter(), JsonFormatter()
    lines = "\n".join(f"{text.format(r)}\n{as_json.format(r)}" for r in caplog.records)
    assert '"command": "walk"' in lines  # the walk commands were logged

    for secret in secrets(fields):
        assert secret not in channel, f"{secret} was posted in the channel"
        assert secret not in digest, f"{secret} is in the digest"
        assert secret not in lines, f"{secret} was logged"
