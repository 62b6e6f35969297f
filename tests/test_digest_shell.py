"""The digest in the local shell, and matplotlib staying out of start-up."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.shell import run_shell
from handlers.bankholidays import bank_holiday, next_working_day
from handlers.dates import format_date
from handlers.schoolyear import school_term
from storage.db import Database
from storage.types import LONDON
from tests.support.when import day_ahead, london


@pytest.mark.clock
async def test_a_preview_in_the_shell_shows_the_digest_as_text(sqlite_db: Database,
                                                              now: datetime) -> None:
    yesterday = day_ahead(-1, now)
    typed = io.StringIO(
        "partnership create East Barnet Area\n"
        "partnership join East Barnet Area school: Monkfrith new: yes\n"
        "partnership channel East Barnet Area\n"
        f"cpd log East Barnet Area quiet title: Phonics theme: TA training "
        f"date: {yesterday.day}/{yesterday.month}/{yesterday.year} attendees: Monkfrith\n"
        "partnership digest East Barnet Area day: Friday time: 3pm\n"
        "partnership digest East Barnet Area preview\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out)
    text = out.getvalue()
    assert "Its weekly digest will be posted here Mondays at 08:00 (UK time)" in text
    assert "✓ The weekly digest of East Barnet Area now comes on Fridays at 15:00 (UK time)." \
        in text
    assert "Weekly digest for East Barnet Area:" in text
    # The next Friday at 15:00 (the next working day when that Friday is a bank holiday).
    local = now.astimezone(LONDON)
    friday = local.date() + timedelta(days=(4 - local.weekday()) % 7)
    if london(friday, 15) < local:
        friday += timedelta(days=7)
    send_day = friday if bank_holiday(friday) is None else next_working_day(friday)
    # The coverage is of the send day's term: yesterday's session counts if it is in it.
    term = school_term(send_day)
    assert ("Teaching assistant development and training: 1 session, 1 of 1 school attended"
            if school_term(yesterday) == term else
            f"No CPD sessions logged yet this {term.name}.") in text
    assert f"Preview, seen only by you. #shell gets this on {format_date(send_day)}" in text


def test_serve_and_shell_start_without_matplotlib() -> None:
    """It is loaded only when a chart is drawn (issue 8 measures idle memory and start-up)."""
    code = ("import sys, bot.cli, bot.server, bot.shell, handlers.dispatch; "
            "print('matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
