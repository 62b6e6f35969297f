"""The digest in the local shell, and matplotlib staying out of start-up."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, datetime, timedelta
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
    # The next Friday 15:00 to come, on the next working day when that Friday is a bank
    # holiday: last Friday's, when it was Good Friday and its Tuesday is still to come.
    local = now.astimezone(LONDON)
    last_friday = local.date() - timedelta(days=(local.weekday() - 4) % 7)
    regular = next(friday for friday in (last_friday, last_friday + timedelta(days=7))
                   if london(working(friday), 15) >= local)
    send_day = working(regular)
    preview = f"Preview, seen only by you. #shell gets this on {format_date(send_day)}"
    if send_day != regular:
        assert f"is a bank holiday in England and Wales ({bank_holiday(regular)})" in text
    # The digest reports what was logged since the last one, up to its own send time, whatever
    # week the session happened in: the session logged just now is always in the next one (also
    # when a bank holiday moved it, and its week lies before the session).
    assert "A quiet week" not in text
    assert "Weekly digest for East Barnet Area:" in text
    # The coverage is of the send day's term: yesterday's session counts if it is in it.
    term = school_term(send_day)
    assert ("Teaching assistant development and training: 1 session, 1 of 1 school attended"
            if school_term(yesterday) == term else
            f"No CPD sessions logged yet this {term.name}.") in text
    assert preview in text


def working(day: date) -> date:
    return day if bank_holiday(day) is None else next_working_day(day)


def test_serve_and_shell_start_without_matplotlib() -> None:
    """It is loaded only when a chart is drawn (issue 8 measures idle memory and start-up)."""
    code = ("import sys, bot.cli, bot.server, bot.shell, handlers.dispatch; "
            "print('matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
