"""The console script: clear one-line errors, help text, import and db upgrade."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

DATA = Path(__file__).parent / "fixtures" / "data" / "partnerships.yaml"


def cli(*args: str, tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "TEAMS_", "WORKSPACE_", "HOST", "PUBLIC_BASE_URL"))}
    env.pop("DATABASE_URL", None)
    env.pop("TOKEN_ENCRYPTION_KEY", None)
    env.update(XDG_DATA_HOME=str(tmp_path), **extra_env)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)


def test_serve_without_a_token_says_which_variable_to_set(tmp_path: Path) -> None:
    result = cli("serve", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Set SLACK_BOT_TOKEN" in result.stderr


def test_serve_without_a_signing_secret_says_so(tmp_path: Path) -> None:
    result = cli("serve", tmp_path=tmp_path, SLACK_BOT_TOKEN="xoxb-not-real")
    assert result.returncode == 2
    assert "Set SLACK_SIGNING_SECRET" in result.stderr


def test_socket_mode_without_an_app_token_says_so(tmp_path: Path) -> None:
    result = cli("serve", "--socket-mode", tmp_path=tmp_path, SLACK_BOT_TOKEN="xoxb-not-real")
    assert result.returncode == 2
    assert "Set SLACK_APP_TOKEN" in result.stderr


def test_help_names_every_command(tmp_path: Path) -> None:
    result = cli("--help", tmp_path=tmp_path)
    assert result.returncode == 0
    for word in ("shell", "serve", "import", "db upgrade", "teams-package", "digests",
                 "schools import-gias", "schools review", "schools merge",
                 "SLACK_API_URL",
                 "TEAMS_APP_ID", "TEAMS_AUTH_DISABLED", "WORKSPACE_ALIASES"):
        assert word in result.stdout


def test_import_reports_counts_and_is_idempotent(tmp_path: Path) -> None:
    first = cli("import", str(DATA), tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "partnerships: 23 created, 0 unchanged" in first.stdout
    second = cli("import", str(DATA), tmp_path=tmp_path)
    assert "partnerships: 0 created, 23 unchanged" in second.stdout
    assert "memberships:  0 created" in second.stdout


def test_import_of_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    result = cli("import", "nowhere.yaml", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "no file at nowhere.yaml" in result.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    result = cli("db", "upgrade", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


TEAMS_ID = "6f1d2e3c-0a1b-4c5d-8e9f-001122334455"


def test_serve_with_teams_missing_its_secret_says_so(tmp_path: Path) -> None:
    result = cli("serve", tmp_path=tmp_path, TEAMS_APP_ID=TEAMS_ID)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Set TEAMS_APP_PASSWORD and TEAMS_TENANT_ID" in result.stderr


def test_the_emulator_setting_is_refused_off_this_computer(tmp_path: Path) -> None:
    result = cli("serve", tmp_path=tmp_path, TEAMS_AUTH_DISABLED="1")
    assert result.returncode == 2
    assert "set HOST=127.0.0.1" in result.stderr
    result = cli("serve", tmp_path=tmp_path, TEAMS_AUTH_DISABLED="maybe")
    assert "TEAMS_AUTH_DISABLED must be 1 or 0" in result.stderr


def test_socket_mode_is_for_slack_only(tmp_path: Path) -> None:
    result = cli("serve", "--socket-mode", tmp_path=tmp_path, SLACK_BOT_TOKEN="xoxb-not-real",
                 SLACK_APP_TOKEN="xapp-not-real", TEAMS_APP_ID=TEAMS_ID)
    assert result.returncode == 2
    assert "--socket-mode serves Slack only" in result.stderr


def test_a_malformed_workspace_alias_says_how_to_write_it(tmp_path: Path) -> None:
    result = cli("db", "upgrade", tmp_path=tmp_path, WORKSPACE_ALIASES="T0123ABCD")
    assert result.returncode == 2
    assert "WORKSPACE_ALIASES has 'T0123ABCD'" in result.stderr


def test_many_workspaces_need_the_client_secret_too(tmp_path: Path) -> None:
    result = cli("serve", tmp_path=tmp_path, SLACK_CLIENT_ID="1111.2222")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Set SLACK_CLIENT_SECRET too" in result.stderr


def test_many_workspaces_need_no_bot_token_but_a_signing_secret(tmp_path: Path) -> None:
    result = cli("serve", tmp_path=tmp_path, SLACK_CLIENT_ID="1111.2222",
                 SLACK_CLIENT_SECRET="not-real")
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" not in result.stderr
    assert "Set SLACK_SIGNING_SECRET" in result.stderr


def test_many_workspaces_are_not_served_over_socket_mode(tmp_path: Path) -> None:
    result = cli("serve", "--socket-mode", tmp_path=tmp_path, SLACK_CLIENT_ID="1111.2222",
                 SLACK_CLIENT_SECRET="not-real", SLACK_APP_TOKEN="xapp-not-real")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "run `serve` without --socket-mode" in result.stderr


def test_a_bad_token_encryption_key_says_how_to_make_one(tmp_path: Path) -> None:
    result = cli("serve", tmp_path=tmp_path, SLACK_CLIENT_ID="1111.2222",
                 SLACK_CLIENT_SECRET="not-real", SLACK_SIGNING_SECRET="not-real",
                 TOKEN_ENCRYPTION_KEY="hunter2")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TOKEN_ENCRYPTION_KEY is not a Fernet key" in result.stderr
    assert "Fernet.generate_key()" in result.stderr


@pytest.mark.parametrize("configured", ["a wrong key", "no key"])
def test_serve_stops_when_stored_tokens_do_not_decrypt(tmp_path: Path, configured: str) -> None:
    """A well-formed key that is not the one the tokens were stored with, or the key removed
    after they were encrypted: serve refuses to start, in one line naming the setting."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    asyncio.run(_token_stored_with(url, Fernet.generate_key().decode()))
    key = ({"TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode()}
           if configured == "a wrong key" else {})
    result = cli("serve", tmp_path=tmp_path, DATABASE_URL=url, PORT="0", HOST="127.0.0.1",
                 SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="not-real",
                 SLACK_SIGNING_SECRET="not-real", **key)
    assert result.returncode == 2
    *logged, error = result.stderr.strip().splitlines()
    assert error.startswith("partnership-bot: ")
    assert "stored Slack token(s)" in error and "TOKEN_ENCRYPTION_KEY" in error
    # Before it, only log records (JSON lines, as `serve` writes them): without a key, the
    # warning that tokens would be stored in plain text.
    assert all(json.loads(line)["level"] for line in logged)


async def _token_stored_with(url: str, key: str) -> None:
    from slack_sdk.oauth.installation_store import Bot

    from storage.db import Database
    from storage.slack_oauth import SlackInstallationStore, token_cipher

    db = Database(url)
    await db.upgrade()
    store = SlackInstallationStore("1111.2222", db.engine, token_cipher(key))
    await store.async_save_bot(Bot(app_id="A0APP00001", team_id="T0NORTH001",
                                   bot_token="xoxb-1001-2001-notarealtoken", bot_id="B0BOT00001",
                                   bot_user_id="U0BOT00001", installed_at=1_700_000_000.0))
    await db.dispose()


def test_help_names_the_multi_workspace_settings(tmp_path: Path) -> None:
    result = cli("--help", tmp_path=tmp_path)
    for word in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEY",
                 "/slack/install"):
        assert word in result.stdout


def test_encrypting_tokens_needs_a_key(tmp_path: Path) -> None:
    result = cli("db", "encrypt-tokens", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Set TOKEN_ENCRYPTION_KEY first" in result.stderr


def test_encrypting_tokens_with_a_key(tmp_path: Path) -> None:
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # a valid Fernet key, for tests only
    result = cli("db", "encrypt-tokens", tmp_path=tmp_path, TOKEN_ENCRYPTION_KEY=key)
    assert result.returncode == 0, result.stderr
    assert "Encrypted the Slack tokens of 0 stored" in result.stdout


def test_digests_shows_what_became_of_a_weeks_digests(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    asyncio.run(_three_digests(url))
    result = cli("digests", "--week", "2026-w10", tmp_path=tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Weekly digests for 2026-W10 (2 Mar 2026 to 8 Mar 2026):",
        "  Area 1  sent Monday 2 March 2026 at 08:01, 1 attempt",
        "  Area 2  failed after 10 attempts: I can't post in #area-2 yet: invite me there "
        "with `/invite @Partnership Bot`. (retries used up)",
        "  Area 3  skipped: a quiet week: nothing to report",
        "  Area 4  pending, next try Monday 2 March 2026 at 08:00, 0 attempts",
        "  1 failed, 1 pending, 1 sent, 1 skipped",
    ]
    other = cli("digests", "--week", "2026-W10", "--workspace", "T0OTHER", tmp_path=tmp_path,
                DATABASE_URL=url)
    assert other.stdout.splitlines()[1:] == ["  none queued."]
    wrong = cli("digests", "--week", "2026-W60", tmp_path=tmp_path, DATABASE_URL=url)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == ("partnership-bot: “2026-W60” is not an ISO week: write it "
                                    "like 2026-W10.")


async def _three_digests(url: str) -> None:
    """Four partnerships with a channel each and their week-10 digests in four states."""
    from datetime import UTC, datetime, timedelta

    from sqlmodel import col, select

    from handlers.digest import plan_due
    from storage.db import Database
    from storage.models import ChannelLink, Partnership, ScheduledDelivery

    db = Database(url)
    await db.upgrade()
    due = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    async with db.session() as session:
        for n in range(1, 5):
            partnership = Partnership(workspace="T0001", name=f"Area {n}", name_key=f"area {n}")
            session.add(partnership)
            await session.flush()
            assert partnership.id is not None
            session.add(ChannelLink(partnership_id=partnership.id, platform="slack",
                                    channel_id=f"C{n}", channel_name=f"area-{n}"))
        await session.flush()
        assert await plan_due(session, due - timedelta(days=1)) == 4
    states = {
        "Area 1": dict(status="sent", attempts=1, sent_at=due + timedelta(minutes=1)),
        "Area 2": dict(status="failed", attempts=10, last_error=(
            "I can't post in #area-2 yet: invite me there with `/invite @Partnership Bot`. "
            "(retries used up)")),
        "Area 3": dict(status="skipped", attempts=1,
                       last_error="a quiet week: nothing to report"),
    }
    async with db.session() as session:
        rows = (await session.exec(select(ScheduledDelivery, Partnership).join(
            Partnership, col(Partnership.id) == ScheduledDelivery.partnership_id))).all()
        for row, partnership in rows:
            for key, value in states.get(partnership.name, {}).items():
                setattr(row, key, value)
            session.add(row)
    await db.dispose()


GIAS = Path(__file__).parent / "fixtures" / "gias"


def test_schools_import_gias_review_and_merge(tmp_path: Path) -> None:
    assert cli("import", str(DATA), tmp_path=tmp_path).returncode == 0
    first = cli("schools", "import-gias", str(GIAS / "edubasealldata_windows1252.csv"),
                tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "rows read:  41 (windows-1252)" in first.stdout
    assert "schools:    5 created, 36 updated, 0 unchanged, 0 closed" in first.stdout
    assert "Monkfrith is URN 100101 (Monkfrith Primary School)" in first.stdout
    again = cli("schools", "import-gias", str(GIAS / "edubasealldata_utf8.csv"), "--la",
                "Barnet", tmp_path=tmp_path)
    assert "rows read:  33 (utf-8)" in again.stdout
    assert "schools:    0 created, 0 updated, 33 unchanged, 0 closed" in again.stdout
    review = cli("schools", "review", tmp_path=tmp_path)
    assert "Nothing to review" in review.stdout
    dry = cli("schools", "merge", "Moss Hall Nursery School", "100107", "--dry-run",
              tmp_path=tmp_path)
    assert dry.returncode == 1 and "Both have URNs (100109 and 100107)" in dry.stderr


def test_schools_import_gias_refuses_a_file_without_the_registers_columns(
        tmp_path: Path) -> None:
    bad = tmp_path / "schools.csv"
    bad.write_text("URN,Name\n100101,Monkfrith\n", encoding="utf-8")
    result = cli("schools", "import-gias", str(bad), tmp_path=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("partnership-bot: ") and "Traceback" not in result.stderr
    assert "has no columns 'EstablishmentName', 'TypeOfEstablishment (name)'" in last
    missing = cli("schools", "import-gias", "nowhere.csv", tmp_path=tmp_path)
    assert missing.returncode == 2 and "no file at nowhere.csv" in missing.stderr
