"""The baseline: a bare Bolt AsyncApp on the same kind of aiohttp server, whose command handler
only acknowledges. Run as `python -m bench.bare_bolt` with PORT and SLACK_SIGNING_SECRET set."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build() -> web.Application:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"],
                            base_url=os.environ["SLACK_API_URL"])
    bolt = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    async def only_ack(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()

    bolt.command(re.compile(".+"))(only_ack)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    # Logged like `partnership-bot serve`, so both servers pay for the same access log.
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(build(), host="127.0.0.1", port=int(os.environ["PORT"]), print=None)
