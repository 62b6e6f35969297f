"""Limits on what the server reads: how big a request body may be (413 beyond), how long its
sender may take to send it (408 beyond), and how many large bodies are read and handled at once,
so a crowd of big requests waits its turn instead of growing memory without bound."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

KIB, MIB = 1024, 1024 * 1024
# The most any request may carry (aiohttp's client_max_size). Teams activities and OAuth
# callbacks are well under it.
MAX_BODY = 1 * MIB
# Slack's own payloads are small: a slash command is at most a few KB, an interaction or event
# (a modal's state, the Home tab's blocks) tens of KB. Anything bigger is not from Slack.
SLACK_MAX_BODY = 256 * KIB
# Bodies up to this size are read at once, however many arrive (nearly every request); bigger
# ones take one of LARGE_AT_ONCE turns, held until their handler has answered.
LARGE_BODY = 64 * KIB
LARGE_AT_ONCE = 2
# A sender that has not finished sending its body by then is cut off (a slow-loris client
# must not hold a turn for ever).
BODY_SECONDS = 10.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class BodyLimits:
    max_body: int = MAX_BODY
    slack_max_body: int = SLACK_MAX_BODY
    slack_paths: tuple[str, ...] = ("/slack/events",)
    large_body: int = LARGE_BODY
    large_at_once: int = LARGE_AT_ONCE
    body_seconds: float = BODY_SECONDS

    def limit_for(self, path: str) -> int:
        return self.slack_max_body if path in self.slack_paths else self.max_body


def too_large(limit: int) -> web.Response:
    return _closing(web.json_response(
        {"error": f"The request is too large: at most {limit // KIB} KB is accepted here."},
        status=413))


def _closing(response: web.Response) -> web.Response:
    """Answer and close the connection: the rest of the body is not wanted."""
    response.force_close()
    return response


def body_limits(limits: BodyLimits | None = None) -> Callable[..., Awaitable[web.StreamResponse]]:
    """An aiohttp middleware enforcing `limits` on every request with a body, before any
    handler (or the Teams SDK's token check) reads it."""
    limits = limits or BodyLimits()
    turns = asyncio.Semaphore(limits.large_at_once)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists:
            return await handler(request)
        limit = limits.limit_for(request.path)
        declared = request.content_length
        if declared is not None and declared > limit:
            return too_large(limit)
        # A body of unknown length (chunked) counts as large until read.
        if declared is not None and declared <= limits.large_body:
            return await _read_then(request, handler, limit, limits.body_seconds)
        async with turns:
            return await _read_then(request, handler, limit, limits.body_seconds)

    return middleware


async def _read_then(request: web.Request, handler: Handler, limit: int,
                     seconds: float) -> web.StreamResponse:
    try:
        async with asyncio.timeout(seconds):
            body = await request.read()  # kept by aiohttp: the handler reads it from memory
    except web.HTTPRequestEntityTooLarge:
        return too_large(limit)
    except TimeoutError:
        log.warning("a request body took more than %g s to arrive; refused", seconds)
        return _closing(web.json_response(
            {"error": "The request body took too long to arrive."}, status=408))
    if len(body) > limit:
        return too_large(limit)
    return await handler(request)
