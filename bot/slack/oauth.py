"""Serving many Slack workspaces: the OAuth install flow, where each workspace's bot token comes
from, and forgetting a workspace's tokens when it uninstalls the app or revokes them.

In single-workspace mode the one token comes from SLACK_BOT_TOKEN instead, and the same
listeners only log what happened."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlparse, urlunparse

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import Settings
from bot.slack.install_pages import InstallPages
from storage.db import Database
from storage.slack_oauth import (
    GENERATE_KEY_HINT,
    SlackInstallationStore,
    SlackOAuthStateStore,
    token_cipher,
)

log = logging.getLogger(__name__)


class BotTokens(Protocol):
    async def for_workspace(self, workspace: str) -> str | None:
        """The bot token to use in this workspace (Slack team id), or None if there is none."""


class EnvironmentBotToken:
    """Single-workspace mode: SLACK_BOT_TOKEN, whichever workspace asks."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    async def for_workspace(self, workspace: str) -> str | None:
        return self.token


class InstalledBotTokens:
    """Multi-workspace mode: the token saved when the workspace (or, for an org-wide install,
    its Enterprise Grid org) installed the app.

    A workspace shared under WORKSPACE_ALIASES is found through the Slack team ids that share
    its name."""

    def __init__(self, store: SlackInstallationStore,
                 aliases: Mapping[str, str] | None = None) -> None:
        self.store = store
        self.aliases = aliases or {}

    async def for_workspace(self, workspace: str) -> str | None:
        sharing = sorted(platform_id for platform_id, shared in self.aliases.items()
                         if shared == workspace and platform_id != workspace)
        for key in (workspace, *sharing):
            token = await self.store.bot_token_for_workspace(key)
            if token is not None:
                return token
        return None


def bot_tokens(settings: Settings, store: SlackInstallationStore | None) -> BotTokens:
    """Where bot tokens come from in this mode."""
    if store is None:
        return EnvironmentBotToken(settings.slack_bot_token)
    return InstalledBotTokens(store, settings.workspace_aliases)


def installation_store(settings: Settings, db: Database) -> SlackInstallationStore:
    """The installations in the bot's database, tokens encrypted if TOKEN_ENCRYPTION_KEY is set."""
    assert settings.slack_client_id is not None
    cipher = token_cipher(settings.token_encryption_key)
    if cipher is None:
        log.warning("TOKEN_ENCRYPTION_KEY is not set: Slack bot tokens are stored in plain text "
                    "in the database; %s and set it.", GENERATE_KEY_HINT)
    return SlackInstallationStore(settings.slack_client_id, db.engine, cipher)


def install_url(settings: Settings) -> str | None:
    """The public address of the install page, when SLACK_REDIRECT_URI tells us the host."""
    if not settings.slack_redirect_uri:
        return None
    parts = urlparse(settings.slack_redirect_uri)
    return urlunparse((parts.scheme, parts.netloc, settings.slack_install_path, "", "", ""))


def not_installed_message(settings: Settings) -> str:
    """What a person sees when their workspace has no (working) installation."""
    where = install_url(settings)
    again = f"at {where}" if where else "from the app's install page"
    return (f"Partnership Bot is not installed in this workspace (or was removed). Ask a "
            f"workspace admin to install it again {again}.")


class InstallClient(AsyncWebClient):
    """The Web API client of the install flow: says in the log why Slack refused an install
    (`bad_client_secret`, `invalid_code`, …), without the code."""

    async def oauth_v2_access(self, **kwargs: Any) -> AsyncSlackResponse:
        try:
            response: AsyncSlackResponse = await super().oauth_v2_access(**kwargs)
        except SlackApiError as error:
            log.warning("Slack refused the install code: %s",
                        error.response.get("error") or "unknown_error")
            raise
        return response


def _bolt_flow_logger() -> logging.Logger:
    """For Bolt's install flow, which writes the install code into its warning when Slack
    refuses one: a logger outside the hierarchy that writes nothing (InstallClient says why
    instead, without the code)."""
    quiet = logging.Logger("slack_bolt.oauth.silenced", level=logging.CRITICAL + 10)
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    return quiet


def oauth_flow(settings: Settings, db: Database, store: SlackInstallationStore) -> AsyncOAuthFlow:
    """The install flow: our state store, our pages, and logs without codes or states."""
    return AsyncOAuthFlow(client=InstallClient(base_url=settings.slack_api_url),
                          logger=_bolt_flow_logger(),
                          settings=oauth_settings(settings, db, store))


def oauth_settings(settings: Settings, db: Database,
                   store: SlackInstallationStore) -> AsyncOAuthSettings:
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(settings.slack_scopes),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        install_path=settings.slack_install_path,
        redirect_uri_path=settings.slack_redirect_path,
        # Straight on to Slack's consent screen, as an "Add to Slack" link should.
        install_page_rendering_enabled=False,
        installation_store=store,
        # The app asks for no user scopes: a workspace's bot token is all it uses.
        installation_store_bot_only=True,
        state_store=SlackOAuthStateStore(db.engine),
    )
    oauth.callback_options = InstallPages(settings.slack_install_path, oauth.state_utils)
    return oauth


class TokenRevocations:
    """app_uninstalled and tokens_revoked: the workspace's stored tokens are deleted at once."""

    def __init__(self, store: SlackInstallationStore | None) -> None:
        self.store = store

    async def on_app_uninstalled(self, context: AsyncBoltContext) -> None:
        team = _installed_team(context)
        if self.store is None:
            log.warning("Partnership Bot was uninstalled from workspace %s: SLACK_BOT_TOKEN no "
                        "longer works there", team)
            return
        await self.store.async_delete_all(enterprise_id=context.enterprise_id, team_id=team)
        log.info("Partnership Bot was uninstalled from workspace %s: its tokens are deleted",
                 team or context.enterprise_id)

    async def on_tokens_revoked(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") or {}
        team = _installed_team(context)
        if self.store is None:
            if tokens.get("bot"):
                log.warning("the bot token for workspace %s was revoked: SLACK_BOT_TOKEN no "
                            "longer works there", team)
            return
        if tokens.get("bot"):
            # Without its bot token the installation is no use: forget all of it, so only a
            # fresh install brings the workspace back.
            await self.store.async_delete_all(enterprise_id=context.enterprise_id, team_id=team)
            log.info("bot token revoked in workspace %s: its tokens are deleted", team)
            return
        for user_id in tokens.get("oauth") or []:
            await self.store.async_delete_installation(
                enterprise_id=context.enterprise_id, team_id=team, user_id=user_id)
        log.info("user tokens revoked in workspace %s: deleted", team)


def _installed_team(context: AsyncBoltContext) -> str | None:
    """The team id an installation is stored under: none for an org-wide install (its rows
    carry only the enterprise id)."""
    return None if context.is_enterprise_install else context.team_id


# The events the bot subscribes to for this (manifest.yml's bot_events).
REVOCATION_EVENTS = ("app_uninstalled", "tokens_revoked")


def add_revocation_listeners(app: AsyncApp, store: SlackInstallationStore | None) -> None:
    revocations = TokenRevocations(store)
    app.event(REVOCATION_EVENTS[0])(revocations.on_app_uninstalled)
    app.event(REVOCATION_EVENTS[1])(revocations.on_tokens_revoked)
