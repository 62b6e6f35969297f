"""Configuration from environment variables, and from a `.env` file in the working folder."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from urllib.parse import urlparse, urlsplit

from dotenv import load_dotenv

from bot import logs
from storage.db import DatabaseTimeouts, default_database_url
from storage.slack_oauth import TokenKeyError, token_cipher

SLACK_API_DEFAULT = "https://slack.com/api/"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
# The bot scopes in manifest.yml (tests/test_manifest.py keeps the two equal).
SLACK_SCOPES_DEFAULT = ("commands", "chat:write", "files:write", "im:write", "channels:history",
                        "groups:history")
SLACK_INSTALL_PATH_DEFAULT = "/slack/install"
SLACK_REDIRECT_PATH_DEFAULT = "/slack/oauth_redirect"
COMMAND_BACKLOG_DEFAULT = 100
# Teams app registrations, in the Azure portal's words (Bot Framework's MicrosoftAppType).
TEAMS_SINGLE_TENANT = "SingleTenant"
TEAMS_MULTI_TENANT = "MultiTenant"
# Where the keys that sign Teams' requests are published: the Bot Connector's, and an Entra ID
# tenant's ({tenant} is filled in). Changed only for tests or a government cloud.
TEAMS_OPENID_METADATA_DEFAULT = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TEAMS_ENTRA_OPENID_METADATA_DEFAULT = (
    "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration")
# The tenant a multi-tenant bot gets its own tokens from.
TEAMS_MULTI_TENANT_TOKEN_TENANT = "botframework.com"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line saying what to set."""


# Settings never shown in full (repr, logs, tracebacks): only whether they are set.
SECRETS = frozenset({"slack_bot_token", "slack_signing_secret", "slack_app_token",
                     "teams_app_password", "slack_client_secret", "token_encryption_key"})


@dataclass(frozen=True, repr=False)
class Settings:
    database_url: str
    port: int
    host: str
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    # Microsoft Teams: the Azure Bot's app registration (client id, secret, tenant).
    teams_app_id: str | None = None
    teams_app_password: str | None = None
    teams_tenant_id: str | None = None
    teams_app_type: str = TEAMS_SINGLE_TENANT
    teams_openid_metadata: str = TEAMS_OPENID_METADATA_DEFAULT
    teams_entra_openid_metadata: str = TEAMS_ENTRA_OPENID_METADATA_DEFAULT
    # Accept unauthenticated requests, for the Bot Framework Emulator on this computer only.
    teams_auth_disabled: bool = False
    # Slack team ids and Teams tenant ids that share one workspace (and so its partnerships):
    # platform id -> shared workspace name.
    workspace_aliases: dict[str, str] = field(default_factory=dict)
    # Multi-workspace (OAuth) mode, chosen by setting the client id and secret.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_scopes: tuple[str, ...] = SLACK_SCOPES_DEFAULT
    slack_redirect_uri: str | None = None
    slack_install_path: str = SLACK_INSTALL_PATH_DEFAULT
    token_encryption_key: str | None = None
    # Logging (bot/logs.py): the bot's own level, json or text (None: json for `serve`, text
    # otherwise), and the access log's own level (logs.OFF for none).
    log_level: int = logging.INFO
    log_format: str | None = None
    access_log_level: int = logging.INFO
    # Connections to PostgreSQL: per process (default: what fits, see bot/workers.py), and for
    # this whole server, all workers together (default: what the database allows, less some
    # kept for others). With several machines on one database, give each its share.
    database_pool_size: int | None = None
    database_connections: int | None = None
    # Slash commands waiting for their turn, past which new ones are told "busy" at once.
    command_backlog: int = COMMAND_BACKLOG_DEFAULT
    # Where people reach this server (the manifest's address; https:// for the Teams package's
    # about, privacy and terms links), for the links to the web pages and files handed out in
    # chat; no trailing slash. None: http://localhost:<port>.
    public_base_url: str | None = None
    # How long to wait on the database before telling people so (storage/db.py).
    database_timeouts: DatabaseTimeouts = field(default_factory=DatabaseTimeouts)

    def __repr__(self) -> str:
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SECRETS and value:
                shown.append(f"{item.name}='***'")
            elif item.name == "database_url":
                shown.append(f"database_url={hide_password(value)!r}")
            else:
                shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def web_base(self) -> str:
        """The address in links to the web pages."""
        return self.public_base_url or f"http://localhost:{self.port or 3000}"

    @property
    def web_is_https(self) -> bool:
        """Served to people over HTTPS (behind a proxy that ends TLS, usually): cookies are
        then marked Secure."""
        return self.web_base.startswith("https://")

    def shared_workspace(self, platform_workspace: str) -> str:
        """The workspace a Slack team or Teams tenant works in: its alias, or its own id."""
        return self.workspace_aliases.get(platform_workspace, platform_workspace)

    @property
    def slack_enabled(self) -> bool:
        """Slack is served with one workspace's bot token, or many through OAuth."""
        return bool(self.slack_bot_token) or self.slack_oauth

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id) or self.teams_auth_disabled

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
        backlog = _count("COMMAND_BACKLOG", minimum=0)
        return cls(
            database_url=os.environ.get("DATABASE_URL") or default_database_url(),
            port=port,
            host=os.environ.get("HOST", "0.0.0.0"),
            slack_bot_token=os.environ.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=os.environ.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            teams_app_id=os.environ.get("TEAMS_APP_ID") or None,
            teams_app_password=os.environ.get("TEAMS_APP_PASSWORD") or None,
            teams_tenant_id=os.environ.get("TEAMS_TENANT_ID") or None,
            teams_app_type=os.environ.get("TEAMS_APP_TYPE") or TEAMS_SINGLE_TENANT,
            teams_openid_metadata=(os.environ.get("TEAMS_OPENID_METADATA")
                                   or TEAMS_OPENID_METADATA_DEFAULT),
            teams_entra_openid_metadata=(os.environ.get("TEAMS_ENTRA_OPENID_METADATA")
                                         or TEAMS_ENTRA_OPENID_METADATA_DEFAULT),
            teams_auth_disabled=_flag("TEAMS_AUTH_DISABLED"),
            workspace_aliases=_aliases(os.environ.get("WORKSPACE_ALIASES", "")),
            slack_client_id=os.environ.get("SLACK_CLIENT_ID") or None,
            slack_client_secret=os.environ.get("SLACK_CLIENT_SECRET") or None,
            slack_scopes=tuple(s.strip() for s in scopes.split(",") if s.strip()),
            slack_redirect_uri=os.environ.get("SLACK_REDIRECT_URI") or None,
            slack_install_path=os.environ.get("SLACK_INSTALL_PATH") or SLACK_INSTALL_PATH_DEFAULT,
            token_encryption_key=os.environ.get("TOKEN_ENCRYPTION_KEY") or None,
            log_level=_level("LOG_LEVEL"),
            log_format=_log_format(),
            access_log_level=_level("ACCESS_LOG_LEVEL", allow_off=True),
            database_pool_size=_count("DATABASE_POOL_SIZE", minimum=1),
            database_connections=_count("DATABASE_CONNECTIONS", minimum=1),
            command_backlog=COMMAND_BACKLOG_DEFAULT if backlog is None else backlog,
            public_base_url=_base_url(os.environ.get("PUBLIC_BASE_URL", "")),
            database_timeouts=DatabaseTimeouts(
                connect=_seconds("DATABASE_CONNECT_TIMEOUT", DatabaseTimeouts.connect),
                statement=_seconds("DATABASE_STATEMENT_TIMEOUT", DatabaseTimeouts.statement),
                pool=_seconds("DATABASE_POOL_TIMEOUT", DatabaseTimeouts.pool),
                command=_seconds("COMMAND_DEADLINE", DatabaseTimeouts.command),
            ),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value set, for the logs to redact wherever one might appear."""
        keys = (self.token_encryption_key or "").split(",")
        values = (self.slack_bot_token, self.slack_signing_secret, self.slack_app_token,
                  self.slack_client_secret, self.teams_app_password, *keys)
        return tuple(v.strip() for v in values if v and v.strip())

    def require_platform(self) -> None:
        """`serve` needs at least one chat platform."""
        if not self.slack_enabled and not self.teams_enabled:
            raise ConfigError(
                "Set SLACK_BOT_TOKEN (Slack; or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for many "
                "workspaces) and/or TEAMS_APP_ID (Microsoft Teams) to serve; try "
                "`partnership-bot shell` to use the bot without either."
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

    def require_teams(self) -> None:
        """Say, in one line, what is missing or unsafe in the Teams settings."""
        if self.teams_auth_disabled:
            if self.host not in LOOPBACK_HOSTS:
                raise ConfigError(
                    "TEAMS_AUTH_DISABLED=1 turns off request authentication for the Bot "
                    "Framework Emulator on this computer only: set HOST=127.0.0.1 as well."
                )
            return
        if self.teams_app_type not in (TEAMS_SINGLE_TENANT, TEAMS_MULTI_TENANT):
            raise ConfigError(
                f"TEAMS_APP_TYPE must be {TEAMS_SINGLE_TENANT} or {TEAMS_MULTI_TENANT} (the "
                f"Azure Bot's type), not {self.teams_app_type!r}."
            )
        needed = [("TEAMS_APP_ID", self.teams_app_id),
                  ("TEAMS_APP_PASSWORD", self.teams_app_password)]
        if self.teams_single_tenant:
            needed.append(("TEAMS_TENANT_ID", self.teams_tenant_id))
        missing = [name for name, value in needed if not value]
        if missing:
            raise ConfigError(
                f"Set {' and '.join(missing)} (from your Azure Bot's app registration: "
                "application id, client secret, directory id) to serve Microsoft Teams."
            )
        for name, url in (("TEAMS_OPENID_METADATA", self.teams_openid_metadata),
                          ("TEAMS_ENTRA_OPENID_METADATA", self.teams_entra_openid_metadata)):
            parts = urlparse(url)
            if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
                raise ConfigError(f"{name} must be an https:// address, not {url!r}.")

    @property
    def teams_single_tenant(self) -> bool:
        return self.teams_app_type == TEAMS_SINGLE_TENANT


def hide_password(url: str) -> str:
    """A database URL with its password (if any) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _seconds(name: str, default: float) -> float:
    """A duration in seconds from the environment: a number above 0 and at most an hour."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text.removesuffix("s").strip())
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ConfigError(f"{name} must be a number of seconds above 0, like {default:g}, "
                          f"not {text!r}.")
    return value


def _level(name: str, allow_off: bool = False) -> int:
    try:
        return logs.level_named(os.environ.get(name) or "info", name, allow_off=allow_off)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _log_format() -> str | None:
    value = (os.environ.get("LOG_FORMAT") or "").strip().lower()
    if value and value not in logs.FORMATS:
        raise ConfigError(f"LOG_FORMAT must be json or text, not {value!r}.")
    return value or None


def _count(name: str, minimum: int) -> int | None:
    """A whole-number setting, or None when unset."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {text!r}.")
    return int(text)


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0, not {value!r}.")


def _aliases(text: str) -> dict[str, str]:
    """`T0123ABCD=barnet, 0f9e8d7c-…=barnet`: a Slack team and a Teams tenant sharing "barnet"."""
    aliases: dict[str, str] = {}
    for pair in text.replace(";", ",").split(","):
        if not pair.strip():
            continue
        platform_id, _, shared = (part.strip() for part in pair.partition("="))
        if not platform_id or not shared:
            raise ConfigError(
                f"WORKSPACE_ALIASES has {pair.strip()!r}; write each as <Slack team or Teams "
                "tenant id>=<shared name>, e.g. WORKSPACE_ALIASES=T0123ABCD=barnet,"
                "0f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c=barnet"
            )
        aliases[platform_id] = shared
    return aliases


def _base_url(text: str) -> str | None:
    """PUBLIC_BASE_URL, checked: an http(s) address with a host and no query."""
    text = text.strip()
    if not text:
        return None
    parts = urlparse(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment:
        raise ConfigError(
            f"PUBLIC_BASE_URL must be the http(s) address people reach the bot at, like "
            f"https://partnership-bot.example.org, not {text!r}.")
    return text.rstrip("/")
