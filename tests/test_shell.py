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
    assert "owner:  Who owns step 1 (optional, a name or @mention)" in text
    assert "owner 2:  Who owns step 2 (optional, a name or @mention)" in text
    assert "never named or judged individual teachers" in text
    assert "Log a CPD session: the fields to type" in text
    assert "theme:  Theme (required, one of: Subject leadership" in text
    assert "Write it like this: /cpd log Heath and Hill Partnership title:" in text


def test_the_shell_at_a_terminal_edits_lines_and_recalls_history(tmp_path: Path) -> None:
    """Driven through a pseudo-terminal, as a person types: the up arrow brings back the last
    command, Tab completes, and the history is kept for the next run."""
    import pty
    import select
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEAMS_"))}
    env.pop("DATABASE_URL", None)
    env.update(XDG_DATA_HOME=str(tmp_path), TERM="xterm", COLUMNS="120", LINES="40")

    def session(steps: list[tuple[bytes, str]]) -> None:
        """Type each step's keys, then wait until its answer shows."""
        pid, fd = pty.fork()
        if pid == 0:  # the child: the shell, at a terminal
            os.execve(sys.executable, [sys.executable, "-m", "bot.cli", "shell", "--as", "Ann"],
                      env)
        seen = ""

        def read_until(text: str, within: float = 30.0) -> None:
            nonlocal seen
            deadline = time.monotonic() + within
            while text not in seen and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.2)[0]:
                    seen += os.read(fd, 65536).decode("utf-8", errors="replace")
            assert text in seen, seen[-3000:]

        try:
            read_until("Ann>")
            for keys, answer in steps:
                seen = ""
                os.write(fd, keys)
                read_until(answer)
            os.write(fd, b"\x04")  # Ctrl-D leaves
        finally:
            deadline = time.monotonic() + 20
            while not os.waitpid(pid, os.WNOHANG)[0]:
                if time.monotonic() > deadline:  # never leave a shell behind
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.1)
            os.close(fd)

    created = "Created the partnership East Barnet Area"
    again = "There is already a partnership called East Barnet Area"
    # The up arrow brings back the create, which is refused the second time.
    session([(b"partnership create East Barnet Area\r", created), (b"\x1b[A\r", again)])
    assert (tmp_path / "partnership-bot" / "shell-history").exists()
    # A new run remembers what was typed before; Tab completes a command's name.
    session([(b"\x1b[A\r", again), (b"partn\t", "partnership"),
             (b" list\r", "1 partnership (1 with you in)")])
