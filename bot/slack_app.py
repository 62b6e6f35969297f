"""The Slack layer: Bolt listeners that turn Slack payloads into core calls and replies into
Block Kit. Listeners stay small: ack first, run the command, respond."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import render_slack
from bot.config import Settings
from bot.delivery import Delivery, DeliveryError
from handlers.context import Caller, Platform
from handlers.dispatch import COMMANDS, run_command
from handlers.replies import Reply, Section, Tone
from storage.db import Database
from storage.models import ChannelLink

log = logging.getLogger(__name__)


def slack_caller(command: dict[str, Any]) -> Caller:
    channel_id = command.get("channel_id")
    # A direct message with the bot is not a channel a partnership can post in.
    is_dm = command.get("channel_name") == "directmessage" or str(channel_id).startswith("D")
    return Caller(
        platform=Platform.SLACK,
        workspace=command.get("team_id") or "unknown",
        user_id=command["user_id"],
        user_name=command.get("user_name") or command["user_id"],
        channel_id=None if is_dm else channel_id,
        channel_name=None if is_dm else command.get("channel_name"),
    )


class SlackPoster:
    """Posts in Slack channels with the bot token."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, link: ChannelLink, reply: Reply) -> None:
        body = render_slack.message(reply)
        body.pop("response_type", None)
        try:
            await self.client.chat_postMessage(channel=link.channel_id, **body)
        except SlackApiError as error:
            code = error.response.get("error", "unknown_error")
            log.warning("chat.postMessage to %s failed: %s", link.channel_id, code)
            if code in ("not_in_channel", "channel_not_found"):
                raise DeliveryError(
                    f"I can't post in #{link.channel_name or link.channel_id} yet: invite me "
                    "there with `/invite @Partnership Bot`."
                ) from None
            raise DeliveryError(
                f"Slack would not let me post in #{link.channel_name or link.channel_id} "
                f"({code})."
            ) from None


def with_problems(reply: Reply, problems: list[str]) -> Reply:
    if problems:
        reply.sections.append(Section(lines=problems))
        if reply.tone is Tone.SUCCESS:
            reply.tone = Tone.WARNING
    return reply


def slack_client(settings: Settings) -> AsyncWebClient:
    """One client for the process: its HTTP session is reused by every request."""
    return AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


def build_slack_app(
    settings: Settings, db: Database, delivery: Delivery, client: AsyncWebClient
) -> AsyncApp:
    app = AsyncApp(
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        client=client,
    )
    for name in COMMANDS:
        register_command(app, name, db, delivery)
    return app


def register_command(app: AsyncApp, name: str, db: Database, delivery: Delivery) -> None:
    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        outcome = await run_command(db, name, command.get("text", ""), slack_caller(command))
        problems = await delivery.deliver(outcome.channel_posts)
        await respond(**render_slack.message(with_problems(outcome.reply, problems)))

    app.command(f"/{name}")(on_command)
