"""The Slack layer: Bolt listeners that turn Slack payloads into core calls and outcomes into
Block Kit. Listeners stay small: ack first, call the core, answer."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.delivery import Delivery, DeliveryError
from bot.slack import render
from handlers.context import Caller, Platform
from handlers.dispatch import COMMANDS, run_action, run_command, submit_form
from handlers.replies import Attachment, Outcome, Reply, Section, Tone
from storage.db import Database
from storage.models import ChannelLink

log = logging.getLogger(__name__)


def slack_caller(command: dict[str, Any]) -> Caller:
    """The caller of a slash command."""
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


def interaction_caller(body: dict[str, Any], channel_id: str | None) -> Caller:
    """The caller of a modal submission or a button press."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return Caller(
        platform=Platform.SLACK,
        workspace=team.get("id") or user.get("team_id") or "unknown",
        user_id=user["id"],
        user_name=user.get("username") or user.get("name") or user["id"],
        channel_id=channel_id,
    )


class SlackPoster:
    """Posts, edits and shares files in Slack channels with the bot token."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, link: ChannelLink, reply: Reply) -> str | None:
        body = render.message(reply)
        body.pop("response_type", None)
        async with _slack_errors(link, "chat.postMessage"):
            response = await self.client.chat_postMessage(channel=link.channel_id, **body)
        ts = response.get("ts")
        return ts if isinstance(ts, str) else None

    async def edit(self, link: ChannelLink, message_ref: str, reply: Reply) -> None:
        body = render.message(reply)
        body.pop("response_type", None)
        async with _slack_errors(link, "chat.update"):
            await self.client.chat_update(channel=link.channel_id, ts=message_ref, **body)

    async def share_file(self, link: ChannelLink, attachment: Attachment,
                         thread_ref: str | None) -> None:
        """Upload with files.getUploadURLExternal, the upload, files.completeUploadExternal."""
        async with _slack_errors(link, "files.upload"):
            await self.client.files_upload_v2(
                channel=link.channel_id, content=attachment.content,
                filename=attachment.filename, title=attachment.title, thread_ts=thread_ref)


# Errors that trying again will not fix until someone acts.
_PERMANENT = {"not_in_channel", "channel_not_found", "is_archived", "invalid_auth",
              "account_inactive", "token_revoked", "missing_scope", "not_authed",
              "restricted_action", "message_not_found", "cant_update_message"}


@asynccontextmanager
async def _slack_errors(link: ChannelLink, method: str) -> AsyncIterator[None]:
    """Turn Slack API, rate-limit and network failures into DeliveryErrors that say what to do
    and whether trying again later may help."""
    where = f"#{link.channel_name or link.channel_id}"
    try:
        yield
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown_error")
        log.warning("%s to %s failed: %s", method, link.channel_id, code)
        if error.response.status_code == 429:
            raise DeliveryError(f"Slack asked me to slow down while posting in {where}.",
                                retry_after=_retry_after(error.response.headers)) from None
        if code in ("not_in_channel", "channel_not_found"):
            raise DeliveryError(f"I can't post in {where} yet: invite me there with "
                                "`/invite @Partnership Bot`.", permanent=True) from None
        raise DeliveryError(f"Slack would not let me post in {where} ({code}).",
                            permanent=code in _PERMANENT) from None
    except (ClientError, TimeoutError, SlackClientError) as error:
        log.warning("%s to %s failed: %s", method, link.channel_id, type(error).__name__)
        raise DeliveryError(f"I couldn't reach Slack to post in {where}.") from None


def _retry_after(headers: Any) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(text))
            except (TypeError, ValueError):
                return None
    return None


def with_problems(reply: Reply, problems: list[str]) -> Reply:
    if problems:
        reply.sections.append(Section(lines=problems))
        if reply.tone is Tone.SUCCESS:
            reply.tone = Tone.WARNING
    return reply


def slack_client(settings: Settings) -> AsyncWebClient:
    """One client for the process: its HTTP session is reused by every request."""
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    # A 429 is waited out (its Retry-After) and tried once more here; if Slack is still busy
    # the caller sees the error: the reminder outbox then retries later with its own backoff.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


class SlackListeners:
    """The listeners, sharing the database, the delivery of channel posts and the client."""

    def __init__(self, db: Database, delivery: Delivery, client: AsyncWebClient) -> None:
        self.db = db
        self.delivery = delivery
        self.client = client

    def command(self, name: str) -> Any:
        async def on_command(ack: AsyncAck, command: dict[str, Any],
                             respond: AsyncRespond) -> None:
            await ack()
            caller = slack_caller(command)
            outcome = await run_command(self.db, name, command.get("text", ""), caller)
            # trigger_id lives about 3 seconds: open the modal before anything slow.
            if outcome.form is not None and await self._open_modal(
                outcome, command.get("trigger_id"), caller
            ):
                return
            problems = await self.delivery.deliver(outcome.channel_posts)
            await respond(**render.message(with_problems(outcome.reply, problems)))

        return on_command

    async def _open_modal(self, outcome: Outcome, trigger_id: str | None,
                          caller: Caller) -> bool:
        assert outcome.form is not None
        if not trigger_id:
            return False
        try:
            await self.client.views_open(trigger_id=trigger_id,
                                         view=render.modal(outcome.form, caller.channel_id))
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            return False
        return True

    async def on_view_submission(self, ack: AsyncAck, body: dict[str, Any],
                                 view: dict[str, Any]) -> None:
        context, channel_id = render.form_metadata(view)
        caller = interaction_caller(body, channel_id)
        result = await submit_form(self.db, view.get("callback_id", ""),
                                   render.form_values(view), context, caller)
        if result.errors:
            await ack(response_action="errors", errors=result.errors)
            return
        await ack()
        assert result.outcome is not None
        problems = await self.delivery.deliver(result.outcome.channel_posts)
        await self.tell(caller, with_problems(result.outcome.reply, problems))

    async def on_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        container = body.get("container") or {}
        channel_id = container.get("channel_id") or (body.get("channel") or {}).get("id")
        caller = interaction_caller(body, channel_id)
        outcome = await run_action(self.db, action.get("action_id", ""),
                                   action.get("value", ""), caller)
        if outcome.form is not None and body.get("trigger_id"):
            await self._open_modal(outcome, body["trigger_id"], caller)
            return
        if outcome.updated_message is not None and container.get("type") == "message":
            await self._update(container, outcome.updated_message)
        problems = await self.delivery.deliver(outcome.channel_posts)
        await self.tell(caller, with_problems(outcome.reply, problems))

    async def _update(self, container: dict[str, Any], reply: Reply) -> None:
        body = render.message(reply)
        body.pop("response_type", None)
        try:
            await self.client.chat_update(channel=container["channel_id"],
                                          ts=container["message_ts"], **body)
        except SlackApiError as error:
            log.warning("chat.update failed: %s", error.response.get("error"))

    async def tell(self, caller: Caller, reply: Reply) -> None:
        """Show `reply` to the caller only: ephemeral in the channel, else a direct message."""
        body = render.message(reply)
        body.pop("response_type", None)
        if caller.channel_id:
            try:
                await self.client.chat_postEphemeral(channel=caller.channel_id,
                                                     user=caller.user_id, **body)
                return
            except SlackApiError as error:
                log.info("chat.postEphemeral failed (%s); sending a DM",
                         error.response.get("error"))
        try:
            await self.client.chat_postMessage(channel=caller.user_id, **body)
        except SlackApiError as error:
            log.warning("could not reach user by DM: %s", error.response.get("error"))


def build_slack_app(
    settings: Settings, db: Database, delivery: Delivery, client: AsyncWebClient
) -> AsyncApp:
    app = AsyncApp(
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        client=client,
    )
    listeners = SlackListeners(db, delivery, client)
    for name in COMMANDS:
        app.command(f"/{name}")(listeners.command(name))
    app.view(re.compile(".+"))(listeners.on_view_submission)
    app.action(re.compile(".+"))(listeners.on_action)
    return app
