"""Configuration from environment variables, and from a `.env` file in the working folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

from dotenv import load_dotenv

from storage.db import default_database_url
from storage.slack_oauth import TokenKeyError, token_cipher

SLACK_API_DEFAULT = "https://slack.com/api/"
# The bot scopes in manifest.yml (tests/test_manifest.py keeps the two equal).
SLACK_SCOPES_DEFAULT = ("commands", "chat:write")
SLACK_INSTALL_PATH_DEFAULT = "/slack/install"
SLACK_REDIRECT_PATH_DEFAULT = "/slack/oauth_redirect"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line saying what to set."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    port: int
    host: str
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    # Multi-workspace (OAuth) mode, chosen by setting the client id and secret.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_scopes: tuple[str, ...] = SLACK_SCOPES_DEFAULT
    slack_redirect_uri: str | None = None
    slack_install_path: str = SLACK_INSTALL_PATH_DEFAULT
    token_encryption_key: str | None = None

    @classmethod
    def from_env(cls, load_dotenv_file: bool = True) -> Settings:
        if load_dotenv_file:
            load_dotenv(override=False)
        port_text = os.environ.get("PORT", "3000")
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"PORT must be a number, not {port_text!r}.") from None
        api_url = os.environ.get("SLACK_API_URL") or SLACK_API_DEFAULT
        scopes = os.environ.get("SLACK_SCOPES") or ",".join(SLACK_SCOPES_DEFAULT)
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_database_url(),
            port=port,
            host=os.environ.get("HOST", "0.0.0.0"),
            slack_bot_token=os.environ.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=os.environ.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            slack_client_id=os.environ.get("SLACK_CLIENT_ID") or None,
            slack_client_secret=os.environ.get("SLACK_CLIENT_SECRET") or None,
            slack_scopes=tuple(s.strip() for s in scopes.split(",") if s.strip()),
            slack_redirect_uri=os.environ.get("SLACK_REDIRECT_URI") or None,
            slack_install_path=os.environ.get("SLACK_INSTALL_PATH") or SLACK_INSTALL_PATH_DEFAULT,
            token_encryption_key=os.environ.get("TOKEN_ENCRYPTION_KEY") or None,
        )

    @property
    def slack_oauth(self) -> bool:
        """Multi-workspace mode: installs through OAuth, a bot token per workspace."""
        return bool(self.slack_client_id or self.slack_client_secret)

    @property
    def slack_redirect_path(self) -> str:
        """Where Slack sends the installer back: the path of SLACK_REDIRECT_URI if set."""
        if self.slack_redirect_uri:
            return urlparse(self.slack_redirect_uri).path or SLACK_REDIRECT_PATH_DEFAULT
        return SLACK_REDIRECT_PATH_DEFAULT

    def require_slack(self, socket_mode: bool) -> None:
        """Say, in one line, which variable is missing or wrong for the chosen Slack mode."""
        if self.slack_oauth:
            self._require_oauth(socket_mode)
        elif not self.slack_bot_token:
            raise ConfigError(
                "Set SLACK_BOT_TOKEN (the xoxb- token from your Slack app's OAuth page) to "
                "serve one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to serve many; "
                "try `partnership-bot shell` to use the bot without Slack."
            )
        if socket_mode and not self.slack_app_token:
            raise ConfigError("Set SLACK_APP_TOKEN (an xapp- token) to use Socket Mode.")
        if not socket_mode and not self.slack_signing_secret:
            raise ConfigError(
                "Set SLACK_SIGNING_SECRET (from your Slack app's Basic Information page) so "
                "requests from Slack can be verified."
            )

    def _require_oauth(self, socket_mode: bool) -> None:
        if not self.slack_client_id:
            raise ConfigError("Set SLACK_CLIENT_ID too (from your Slack app's Basic Information "
                              "page) to serve many workspaces.")
        if not self.slack_client_secret:
            raise ConfigError("Set SLACK_CLIENT_SECRET too (from your Slack app's Basic "
                              "Information page) to serve many workspaces.")
        if socket_mode:
            raise ConfigError(
                "Multi-workspace mode (SLACK_CLIENT_ID) installs over HTTP: run `serve` without "
                "--socket-mode, or unset SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to use "
                "SLACK_BOT_TOKEN."
            )
        if not self.slack_scopes:
            raise ConfigError("SLACK_SCOPES is empty: leave it unset for the manifest's scopes "
                              "(`commands,chat:write`).")
        if not self.slack_install_path.startswith("/"):
            raise ConfigError(f"SLACK_INSTALL_PATH must start with /, as in "
                              f"`{SLACK_INSTALL_PATH_DEFAULT}`.")
        try:
            token_cipher(self.token_encryption_key)
        except TokenKeyError as error:
            raise ConfigError(str(error)) from None
