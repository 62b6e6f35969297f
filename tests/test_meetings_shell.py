"""Meetings in the local shell: the card is printed and the calendar invite saved to a file."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import icalendar

from bot.shell import run_shell
from storage.db import Database
from tests.support.when import day_ahead, uk_long


async def test_a_meeting_scheduled_in_the_shell_saves_its_invite(sqlite_db: Database,
                                                                 tmp_path: Path) -> None:
    day = day_ahead(6)
    typed = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership channel East Barnet Area\n"
        f"meeting schedule East Barnet Area when: {uk_long(day)} where: Monkfrith\n"
        "meeting list\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out, files_dir=tmp_path)
    text = out.getvalue()
    assert "[#shell] Meeting: East Barnet Area meeting" in text
    assert "[Going] [Can't make it] [Maybe]" in text
    assert "✓ Scheduled East Barnet Area meeting" in text
    assert "1 meeting coming up for your partnerships" in text
    invite, = await asyncio.to_thread(lambda: list(tmp_path.glob("*.ics")))
    assert f"saved as {invite}" in text
    content = await asyncio.to_thread(invite.read_bytes)
    event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
    assert event["LOCATION"] == "Monkfrith"
    assert event.decoded("DTSTART").date() == day
