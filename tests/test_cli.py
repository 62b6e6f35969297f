"""The console script: clear one-line errors, help text, import and db upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "fixtures" / "data" / "partnerships.yaml"


def cli(*args: str, tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "TEAMS_", "WORKSPACE_", "HOST"))}
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
    for word in ("shell", "serve", "import", "db upgrade", "teams-package", "SLACK_API_URL",
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
