"""The web pages' plumbing: the sub-application under /web/, its security headers, sign-in by a
link from chat, sessions, CSRF checks and error pages. The pages themselves are in pages.py.

Safe by default:
- A Content-Security-Policy that allows no script at all (the pages have none), only our own
  style sheets and images, forms posting only to us, and no framing.
- `Referrer-Policy: no-referrer`, so a link's token never leaves in a Referer header;
  `X-Content-Type-Options: nosniff`; private pages are never cached.
- Signing in: a link from chat works once, for 15 minutes. Opening it shows a page with a
  button; the button's POST spends the link. Link checkers (Teams' Safe Links, mail scanners)
  that fetch a URL therefore never use it up.
- Sessions live in the database (8 hours; deleted on signing out and by `forget me`) behind an
  HttpOnly, SameSite=Lax cookie, Secure when PUBLIC_BASE_URL is https.
- Every POST carries a CSRF token derived from the session's secret, and must come from this
  site by the browser's own account (Sec-Fetch-Site, or Origin where that is all it sends).
- Any failure is a plain page that says what happened and how to get a new link: never a stack
  trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.config import Settings
from handlers.context import Caller, Platform
from storage import web_access
from storage.db import Database
from storage.models import WebSession

log = logging.getLogger(__name__)

COOKIE = "pb_session"
PREFIX = "/web"
STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# How to get a link, in the words each platform uses.
GET_A_LINK = {
    "slack": "/partnership web",
    "teams": "partnership web",
    "shell": "partnership web",
}

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WebConfig:
    settings: Settings
    db: Database
    clock: Clock
    templates: Environment = field(default_factory=lambda: templates())

    @property
    def secure_cookies(self) -> bool:
        return self.settings.web_is_https


CONFIG = web.AppKey("web_config", WebConfig)


def templates() -> Environment:
    env = Environment(loader=PackageLoader("bot.web", "templates"),
                      autoescape=select_autoescape(["html"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


@dataclass(frozen=True)
class Viewer:
    """The person a browser is signed in as, and the session's cookie (for its CSRF token)."""

    caller: Caller
    cookie: str

    @property
    def csrf(self) -> str:
        return web_access.csrf_token(self.cookie)


class PageError(Exception):
    """A page that cannot be shown: its HTTP status, a title and what to do about it."""

    def __init__(self, status: int, title: str, *lines: str, sign_in: bool = False) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.lines = lines
        self.sign_in = sign_in  # add how to get a new link


def caller_of(row: WebSession, now: datetime) -> Caller:
    return Caller(platform=Platform(row.platform), workspace=row.workspace, user_id=row.user_id,
                  user_name=row.user_name, now=now)


def config(request: web.Request) -> WebConfig:
    return request.app[CONFIG]


async def viewer(request: web.Request) -> Viewer | None:
    """Who the browser is signed in as, if anyone."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    conf = config(request)
    now = conf.clock()
    async with conf.db.session() as session:
        row = await web_access.session_of(session, cookie, now)
    return Viewer(caller_of(row, now), cookie) if row is not None else None


async def signed_in(request: web.Request) -> Viewer:
    found = await viewer(request)
    if found is None:
        raise PageError(401, "Please sign in first",
                        "These pages open from a private link that Partnership Bot gives you "
                        "in chat.", sign_in=True)
    return found


def render(request: web.Request, template: str, status: int = 200, *,
           who: Viewer | None = None, **context: Any) -> web.Response:
    page = config(request).templates.get_template(template).render(
        viewer=who, csrf=who.csrf if who else "", prefix=PREFIX, **context)
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


def _same_origin(request: web.Request) -> bool:
    """A POST from our own pages. Browsers say where a request comes from in Sec-Fetch-Site
    (whatever the referrer policy); older ones in Origin, which our no-referrer policy makes
    "null" on a form's POST. Without either, the CSRF token alone decides."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    ours = {f"{request.scheme}://{request.host}"}
    base = urlparse(config(request).settings.web_base)
    ours.add(f"{base.scheme}://{base.netloc}")
    return origin in ours


async def check_post(request: web.Request, who: Viewer | None) -> dict[str, str]:
    """The POSTed form, after checking it came from our page (Origin, and the session's CSRF
    token when signed in)."""
    if not _same_origin(request):
        raise PageError(403, "That form came from another site, so I ignored it.",
                        "If you pressed a button on these pages, go back and try again.")
    form = {key: str(value) for key, value in (await request.post()).items()}
    if who is not None and not web_access.csrf_matches(who.cookie, form.get("csrf", "")):
        raise PageError(403, "That form has expired.",
                        "Go back, reload the page and press the button again.")
    return form


def set_session_cookie(response: web.StreamResponse, request: web.Request,
                       cookie: str) -> None:
    response.set_cookie(COOKIE, cookie, max_age=int(web_access.SESSION_FOR.total_seconds()),
                        path=PREFIX, httponly=True, samesite="Lax",
                        secure=config(request).secure_cookies)


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    response.del_cookie(COOKIE, path=PREFIX, httponly=True, samesite="Lax",
                        secure=config(request).secure_cookies)


# --- middlewares ----------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith(f"{PREFIX}/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as a plain page with the right status; the details only in the log."""
    try:
        return await handler(request)
    except PageError as error:
        return await _error_page(request, error)
    except web.HTTPNotFound:
        return await _error_page(request, PageError(
            404, "There is no such page.", "Check the address, or start again from a link in "
            "chat.", sign_in=True))
    except web.HTTPMethodNotAllowed:
        return await _error_page(request, PageError(405, "That page can't be used that way."))
    except web.HTTPException as error:
        if error.status < 400:
            raise  # redirects
        return await _error_page(request, PageError(error.status, "That request couldn't be "
                                                    "handled.", "Go back and try again."))
    except Exception:
        log.exception("web page %s failed", request.path)
        return await _error_page(request, PageError(
            500, "Something went wrong on my side.",
            "Please try again; if it keeps happening, tell whoever runs this bot."))


async def _error_page(request: web.Request, error: PageError) -> web.Response:
    who = None
    if error.status in (403, 404):
        try:  # signed in: the page keeps its header, and a way back to their partnerships
            who = await viewer(request)
        except Exception:
            log.warning("no session lookup for an error page (the database may be down)")
    return render(request, "message.html", error.status, who=who, title=error.title,
                  lines=list(error.lines), sign_in=error.sign_in and who is None,
                  commands=GET_A_LINK)
