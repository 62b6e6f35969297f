"""The local shell: the same commands, typed as text, with channel posts printed."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.shell import run_shell
from storage.db import Database


async def test_shell_session(sqlite_db: Database) -> None:
    typed = io.StringIO(
        "partnership create Heath and Hill Partnership type: structured\n"
        "/partnership join heath and hill school: Cunningham Hill Infant role: headteacher\n"
        "# a comment line is ignored\n"
        "partnership channel Heath and Hill Partnership\n"
        "as Bea\n"
        "partnership list\n"
        "help\n"
        "quit\n"
        "partnership list\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out)
    text = out.getvalue()
    assert "✓ Created the partnership Heath and Hill Partnership" in text
    assert "You are in Heath and Hill Partnership for Cunningham Hill Infant." in text
    assert "[#shell] This channel is now linked to Heath and Hill Partnership." in text
    assert "You are now Bea." in text
    assert "Heath and Hill Partnership: structured, 1 school\n" in text  # Bea is not in it
    assert "partnership create East Barnet Area type: loose" in text  # help, code marks gone
    assert text.count("1 partnership") == 1  # nothing after quit ran


def test_the_console_script_runs_the_shell_with_no_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.pop("DATABASE_URL", None)
    env["XDG_DATA_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "shell", "--as", "Ann"],
        input="partnership create East Barnet Area\npartnership list\n",
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "1 partnership (1 with you in)" in result.stdout
    assert (tmp_path / "partnership-bot" / "partnership-bot.sqlite3").exists()


async def test_a_form_is_printed_as_the_fields_to_type(sqlite_db: Database) -> None:
    typed = io.StringIO(
        "partnership create Heath and Hill Partnership\n"
        "partnership join Heath and Hill Partnership school: Cunningham Hill Infant\n"
        "walk\n"
        "cpd log heath and hill\n"
    )
    out = io.StringIO()
    await run_shell(sqlite_db, "Ann", stdin=typed, stdout=out)
    text = out.getvalue()
    assert "Log a learning walk: the fields to type" in text
    assert "<partnership>  Partnership (required, one of: Heath and Hill Partnership)" in text
    assert "school:  Host school (required, one of: Cunningham Hill Infant)" in text
    assert "date:  Date of the walk (required, a date)" in text
    assert "owner:  Who owns the next steps (optional, a name or @mention)" in text
    assert "never named or judged individual teachers" in text
    assert "Log a CPD session: the fields to type" in text
    assert "theme:  Theme (required, one of: Subject leadership" in text
    assert "Write it like this: /cpd log Heath and Hill Partnership title:" in text
