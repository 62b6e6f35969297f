"""The one aiohttp server: Slack at /slack/events (and, serving many workspaces, the install
flow at /slack/install and /slack/oauth_redirect), Teams at /api/messages, the web pages and
files under /web/ (bot/web), probes at /healthz, and the about, privacy and terms pages
(/about, /privacy, /terms).

Each platform is served when it is configured; a partnership's channel posts reach its linked
channels on every platform that is."""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from typing import TYPE_CHECKING

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from bot import logs
from bot.backlog import CommandBacklog
from bot.config import ConfigError, Settings
from bot.delivery import ChannelPoster, Delivery
from bot.http_limits import MAX_BODY, body_limits
from bot.legal import add_pages
from bot.scheduler import POLL_SECONDS, Clock, OutboxScheduler, OutboxSender, system_clock
from bot.slack.app import SlackPoster, build_slack_app, slack_client
from bot.slack.oauth import bot_tokens, installation_store
from bot.slack.payloads import log_fields as slack_log_fields
from bot.teams.payloads import log_fields as teams_log_fields
from bot.web import web_pages_app
from storage.db import Database
from storage.slack_oauth import SlackInstallationStore, TokenKeyError

if TYPE_CHECKING:
    # The Teams SDK (about 18 MB) is imported only when Teams is configured.
    from microsoft_agents.hosting.aiohttp import CloudAdapter

    from bot.teams.app import TeamsBot, TeamsConnection

log = logging.getLogger(__name__)

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
# /healthz answers within this (seconds), whatever the database does: probes time out at 2 s.
HEALTH_DEADLINE = 1.5
# Whose requests arrive under which path, for the platform field of their log lines.
PLATFORM_PATHS = {"/slack/": "slack", "/api/": "teams"}

DB_KEY = web.AppKey("db", Database)
SLACK_KEY = web.AppKey("slack", AsyncApp)
VERIFIER_KEY = web.AppKey("slack_verifier", SignatureVerifier)
TEAMS_ADAPTER_KEY: web.AppKey[CloudAdapter] = web.AppKey("teams_adapter")
TEAMS_BOT_KEY: web.AppKey[TeamsBot] = web.AppKey("teams_bot")
DELIVERY_KEY = web.AppKey("delivery", Delivery)
SCHEDULER_KEY = web.AppKey("scheduler", OutboxScheduler)
BACKLOG_KEY = web.AppKey("backlog", CommandBacklog)
# The SDK keeps the caller's claims under a plain string key too; aiohttp warns on each request.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"microsoft_agents\.")


async def healthz(request: web.Request) -> web.Response:
    """Ready when the database answers within HEALTH_DEADLINE; 503 otherwise (down, or silent),
    so a load balancer can stop sending and a probe is never left hanging."""
    db = request.app[DB_KEY]

    async def ping() -> None:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await db.within(ping, HEALTH_DEADLINE)
    except Exception as error:
        log.warning("health check: database not answering (%s)", type(error).__name__)
        return web.json_response({"status": "unavailable", "database": "not answering"},
                                 status=503)
    return web.json_response({"status": "ok"})


def _slack_timestamp_is_plain(request: web.Request) -> bool:
    """Slack's X-Slack-Request-Timestamp is whole seconds in ASCII digits; anything else (a
    word, a sign, a fraction) is a forgery, refused before Bolt reads it as a number."""
    return bool(_TIMESTAMP.fullmatch(request.headers.get("X-Slack-Request-Timestamp", "")))


async def slack_events(request: web.Request) -> web.Response:
    if not _slack_timestamp_is_plain(request):
        return web.json_response({"error": "invalid request"}, status=401)
    try:
        bolt_request = await to_bolt_request(request)
        logs.bind(**slack_log_fields(bolt_request.body))
        bolt_response = await request.app[SLACK_KEY].async_dispatch(bolt_request)
    except Exception as error:
        # Bolt reads some malformed payloads before (or while) it routes them, and fails: check
        # the signature here so a forgery still gets its 401 and a signed oddity a polite 200.
        if not request.app[VERIFIER_KEY].is_valid_request(await request.text(),
                                                          dict(request.headers)):
            return web.json_response({"error": "invalid request"}, status=401)
        log.warning("a signed Slack request could not be handled (%s); ignored",
                    type(error).__name__)
        return web.json_response({"text": "Sorry, I couldn't handle that request."})
    return await to_aiohttp_response(bolt_response)


async def teams_messages(request: web.Request) -> web.Response:
    """Bot Framework activities, after the SDK has checked the caller's token."""
    from pydantic import ValidationError

    with contextlib.suppress(ValueError):
        logs.bind(**teams_log_fields(await request.json()))
    try:
        response = await request.app[TEAMS_ADAPTER_KEY].process(request, request.app[TEAMS_BOT_KEY])
    except ValidationError:
        return web.json_response({"error": "That is not a Bot Framework activity."}, status=400)
    return response or web.Response(status=202)


def teams_app(teams: TeamsConnection, bot: TeamsBot) -> web.Application:
    """/api/messages, behind the check on the caller's token (bot/teams/auth.py), on this
    sub-application only."""
    from bot.teams.auth import token_middleware

    app = web.Application(middlewares=[token_middleware(teams.validator)])
    app[TEAMS_ADAPTER_KEY] = teams.adapter
    app[TEAMS_BOT_KEY] = bot
    app.router.add_post("/messages", teams_messages)

    async def close(_: web.Application) -> None:
        if teams.validator is not None:
            await teams.validator.keys.close()

    app.on_cleanup.append(close)
    return app


async def slack_install(request: web.Request) -> web.Response:
    """Start an install: remember a state, send the browser on to Slack's consent screen."""
    flow = request.app[SLACK_KEY].oauth_flow
    assert flow is not None
    bolt_response = await flow.handle_installation(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


async def slack_oauth_redirect(request: web.Request) -> web.Response:
    """Finish an install: check the state, exchange the code (oauth.v2.access), save the
    workspace's tokens, and show the installer a page saying how it went."""
    flow = request.app[SLACK_KEY].oauth_flow
    assert flow is not None
    bolt_response = await flow.handle_callback(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


async def require_readable_tokens(store: SlackInstallationStore) -> None:
    """Stop at start-up, rather than tell every workspace it is not installed, when the stored
    tokens do not decrypt with TOKEN_ENCRYPTION_KEY (a wrong key, or one removed)."""
    try:
        await store.check_tokens_readable()
    except TokenKeyError as error:
        raise ConfigError(str(error)) from None


async def to_web_pages(request: web.Request) -> web.Response:
    raise web.HTTPFound("/web/")


def build_web_app(settings: Settings, db: Database, *, clock: Clock = system_clock,
                  poll_seconds: float = POLL_SECONDS, send: bool = True) -> web.Application:
    """The whole server, for whichever platforms are configured (checked by the caller).

    `clock` and `poll_seconds` drive the reminder outbox (tests move the clock by hand); with
    `send` off no outbox runs (the web pages beside the local shell, which runs its own)."""
    app = web.Application(
        middlewares=[logs.request_scope_middleware(PLATFORM_PATHS), body_limits()],
        client_max_size=MAX_BODY)
    app[DB_KEY] = db
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", to_web_pages)
    app.router.add_get("/web", to_web_pages)
    app.add_subapp("/web/", web_pages_app(settings, db, clock))
    add_pages(app)  # /about, /privacy, /terms: linked from the Teams app package
    posters: dict[str, ChannelPoster] = {}
    client = slack_client(settings) if settings.slack_enabled else None
    store = installation_store(settings, db) if settings.slack_oauth else None
    if client is not None:
        posters["slack"] = SlackPoster(client, db, bot_tokens(settings, store))
    teams = None
    if settings.teams_enabled:
        from bot.teams.app import connect_teams

        teams = connect_teams(settings)
        posters["teams"] = teams.poster
    delivery = Delivery(db, posters)
    app[DELIVERY_KEY] = delivery
    scheduler = OutboxScheduler(OutboxSender(db, delivery, clock), poll_seconds)
    app[SCHEDULER_KEY] = scheduler
    if client is not None:
        app[BACKLOG_KEY] = backlog = CommandBacklog(settings.command_backlog)
        app[SLACK_KEY] = slack = build_slack_app(settings, db, delivery, client, store, backlog)
        assert settings.slack_signing_secret is not None
        app[VERIFIER_KEY] = SignatureVerifier(settings.slack_signing_secret)
        app.router.add_post("/slack/events", slack_events)
        if slack.oauth_flow is not None:
            app.router.add_get(slack.oauth_flow.install_path, slack_install)
            app.router.add_get(slack.oauth_flow.redirect_uri_path, slack_oauth_redirect)
    if teams is not None:
        from bot.teams.app import TeamsBot

        app.add_subapp("/api/", teams_app(teams, TeamsBot(db, delivery, settings)))

    async def start(_: web.Application) -> None:
        await db.upgrade()
        if store is not None:
            await require_readable_tokens(store)
        if client is not None:
            # One pooled HTTP session for all Web API calls, instead of one per call.
            client.session = ClientSession()
        if send:
            scheduler.start()

    async def close(_: web.Application) -> None:
        if send:
            await scheduler.stop()
        if client is not None and client.session is not None:
            await client.session.close()
        await db.dispose()

    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
