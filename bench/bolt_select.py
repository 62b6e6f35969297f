"""A baseline: a minimal Bolt AsyncApp that, for each slash command, acknowledges, runs one
SELECT on the database (the partnership named in the command, by its name key) and answers on
the command's response_url, the way our bot does but with nothing else. Run as
`python -m bench.bolt_select` with PORT, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL
and DATABASE_URL (PostgreSQL) set."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import asyncpg
from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

POOL: web.AppKey[asyncpg.Pool] = web.AppKey("pool")
SESSION: web.AppKey[ClientSession] = web.AppKey("session")


def build() -> web.Application:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"],
                            base_url=os.environ["SLACK_API_URL"])
    bolt = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)
    app = web.Application()

    async def one_select(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        words = command.get("text", "").split()
        key = " ".join(words[1:4]).lower()
        row = await app[POOL].fetchrow(
            "SELECT id, name FROM partnership WHERE workspace = $1 AND name_key >= $2 "
            "ORDER BY name_key LIMIT 1", command.get("team_id", ""), key)
        text = f"{row['name']}: {row['id']}" if row else "none"
        async with app[SESSION].post(command["response_url"],
                                     json={"text": text, "response_type": "ephemeral"}) as r:
            await r.read()

    bolt.command(re.compile(".+"))(one_select)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def start(app: web.Application) -> None:
        url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
        app[POOL] = await asyncpg.create_pool(url, min_size=1, max_size=10)
        app[SESSION] = ClientSession()

    async def stop(app: web.Application) -> None:
        await app[SESSION].close()
        await app[POOL].close()

    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(build(), host="127.0.0.1", port=int(os.environ["PORT"]), print=None)
