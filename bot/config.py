"""Configuration from environment variables, and from a `.env` file in the working folder."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dotenv import load_dotenv

from storage.db import default_database_url

SLACK_API_DEFAULT = "https://slack.com/api/"


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
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_database_url(),
            port=port,
            host=os.environ.get("HOST", "0.0.0.0"),
            slack_bot_token=os.environ.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=os.environ.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        )

    def require_slack(self, socket_mode: bool) -> None:
        """Say, in one line, which variable is missing for the chosen Slack mode."""
        if not self.slack_bot_token:
            raise ConfigError(
                "Set SLACK_BOT_TOKEN (the xoxb- token from your Slack app's OAuth page) "
                "to serve Slack; try `partnership-bot shell` to use the bot without Slack."
            )
        if socket_mode and not self.slack_app_token:
            raise ConfigError("Set SLACK_APP_TOKEN (an xapp- token) to use Socket Mode.")
        if not socket_mode and not self.slack_signing_secret:
            raise ConfigError(
                "Set SLACK_SIGNING_SECRET (from your Slack app's Basic Information page) so "
                "requests from Slack can be verified."
            )
