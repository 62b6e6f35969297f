"""The digest in the local shell, and matplotlib staying out of start-up."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from bot.shell import run_shell
from storage.db import Database
from tests.support.when import day_ahead


async def test_a_preview_in_the_shell_shows_the_digest_as_text(sqlite_db: Database) -> None:
    yesterday = day_ahead(-1)
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
    assert "Teaching assistant development and training: 1 session, 1 of 1 school attended" \
        in text
    assert "Preview, seen only by you. #shell gets this on Friday" in text


def test_serve_and_shell_start_without_matplotlib() -> None:
    """It is loaded only when a chart is drawn (issue 8 measures idle memory and start-up)."""
    code = ("import sys, bot.cli, bot.server, bot.shell, handlers.dispatch; "
            "print('matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
