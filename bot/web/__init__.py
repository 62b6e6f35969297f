"""The web pages, served under /web/ by the bot's own aiohttp server."""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.web.app import CONFIG, STATIC, Clock, WebConfig, error_pages, security_headers
from bot.web.pages import routes
from storage.db import Database


def web_pages_app(settings: Settings, db: Database, clock: Clock) -> web.Application:
    """The pages as a sub-application, to mount at /web/: its middlewares apply to it alone."""
    app = web.Application(middlewares=[security_headers, error_pages])
    app[CONFIG] = WebConfig(settings, db, clock)
    app.add_routes(routes())
    app.router.add_static("/static/", STATIC)
    return app
