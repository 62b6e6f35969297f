"""The Slack layer: Bolt listeners that turn Slack payloads into core calls and outcomes into
Block Kit. Listeners stay small: ack first, call the core, answer."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.backlog import CommandBacklog, TooLate, busy_reply
from bot.config import Settings
from bot.delivery import (
    Delivery,
    DeliveryError,
    PostingLimits,
    retry_after_seconds,
    with_problems,
)
from bot.presenter import present
from bot.slack import render
from bot.slack.oauth import (
    BotTokens,
    add_revocation_listeners,
    not_installed_message,
    oauth_flow,
)
from bot.slack.payloads import slack_workspace
from handlers.context import Caller, Platform
from handlers.dispatch import COMMANDS, app_home, run_action, run_command, submit_form
from handlers.forms import Form
from handlers.replies import Attachment, Reply, Tone
from storage import queries
from storage.db import Database, request_arrived
from storage.models import ChannelLink
from storage.pacing import Pace
from storage.slack_oauth import SlackInstallationStore

log = logging.getLogger(__name__)

HOME_EVENT = "app_home_opened"
# The acknowledgement that says "busy": made once, as it may be sent hundreds of times a second.
BUSY_ACK = render.message(busy_reply())
# Partnerships whose workspace a poster keeps in mind (a few bytes each).
WORKSPACES_REMEMBERED = 10_000

_SLACK_LINK = re.compile(r"<([#!])?([^<>|]*)(?:\|([^<>]*))?>")


def command_text(raw: str) -> str:
    """Slash command text (sent with should_escape on) as the core reads it: user mentions kept
    as `<@U…|name>`, channels, links and special mentions as plain words, entities decoded."""

    def plain(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil is None and target.startswith("@"):
            return match.group(0)  # a user mention: the core reads these
        if sigil == "#":
            return f"#{label or target}"
        if sigil == "!":
            return label or f"@{target.split('^')[0]}"
        shown = target.removeprefix("mailto:")  # a link: its words and where it goes
        return shown if not label or label in (shown, target) else f"{label} ({shown})"

    text = _SLACK_LINK.sub(plain, raw)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_caller(command: dict[str, Any]) -> Caller:
    """The caller of a slash command."""
    channel_id = command.get("channel_id")
    # A direct message with the bot is not a channel a partnership can post in.
    is_dm = command.get("channel_name") == "directmessage" or str(channel_id).startswith("D")
    return Caller(
        platform=Platform.SLACK,
        workspace=slack_workspace(command) or "unknown",
        user_id=command["user_id"],
        user_name=command.get("user_name") or command["user_id"],
        channel_id=None if is_dm else channel_id,
        channel_name=None if is_dm else command.get("channel_name"),
    )


def interaction_caller(body: dict[str, Any], channel_id: str | None) -> Caller:
    """The caller of a modal submission or a button press."""
    user = body.get("user") or {}
    return Caller(
        platform=Platform.SLACK,
        workspace=slack_workspace(body) or "unknown",
        user_id=user["id"],
        user_name=user.get("username") or user.get("name") or user["id"],
        channel_id=channel_id,
    )


class SlackPoster:
    """Posts, edits and shares files in Slack channels with the bot token of the channel's
    workspace, through the one shared client (and so one pooled HTTP session)."""

    # chat.postMessage allows about one message a second in a channel, and a few hundred a
    # minute across a workspace: we keep to two a second there, in bursts of up to ten.
    limits = PostingLimits(per_channel=(Pace(interval=1.0),),
                           per_workspace=(Pace(interval=0.5, burst=10),))

    def __init__(self, client: AsyncWebClient, db: Database, tokens: BotTokens) -> None:
        self.client = client
        self.db = db
        self.tokens = tokens
        # partnership id -> its workspace, which never changes: one read per partnership.
        self._workspaces: dict[int, str] = {}

    async def _workspace(self, partnership_id: int) -> str | None:
        workspace = self._workspaces.get(partnership_id)
        if workspace is None:
            async with self.db.session() as session:
                workspace = await queries.partnership_workspace(session, partnership_id)
            if workspace is not None:
                if len(self._workspaces) >= WORKSPACES_REMEMBERED:
                    self._workspaces.clear()
                self._workspaces[partnership_id] = workspace
        return workspace

    async def _token(self, link: ChannelLink) -> str:
        workspace = await self._workspace(link.partnership_id)
        token = None if workspace is None else await self.tokens.for_workspace(workspace)
        if token is None:
            log.warning("no bot token for the workspace of channel link %s", link.id)
            raise DeliveryError(
                f"I can't post in #{link.channel_name or link.channel_id}: Partnership Bot is "
                "not installed in that workspace any more; a workspace admin can install it "
                "again.", permanent=True)
        return token

    async def post(self, link: ChannelLink, reply: Reply,
                   delivery_key: str | None = None) -> str | None:
        token = await self._token(link)
        body = render.message(reply)
        body.pop("response_type", None)
        if delivery_key is not None:
            body["metadata"] = delivery_metadata(delivery_key)
        async with _slack_errors(link, "chat.postMessage"):
            response = await self.client.chat_postMessage(token=token, channel=link.channel_id,
                                                          **body)
        ts = response.get("ts")
        return ts if isinstance(ts, str) else None

    async def find_post(self, link: ChannelLink, delivery_key: str,
                        since: datetime) -> str | None:
        """Look through the channel's messages since `since` (conversations.history, with their
        metadata; scope channels:history or groups:history) for one carrying `delivery_key`."""
        token = await self._token(link)
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            async with _slack_errors(link, "conversations.history"):
                response = await self.client.conversations_history(
                    token=token, channel=link.channel_id, oldest=f"{since.timestamp():.6f}",
                    limit=HISTORY_PAGE, include_all_metadata=True, cursor=cursor)
            for message in response.get("messages") or []:
                if posted_for(message) == delivery_key:
                    ts = message.get("ts")
                    return ts if isinstance(ts, str) else ""
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None
        log.warning("conversations.history of %s: no sign of %s in %d messages; posting",
                    link.channel_id, delivery_key, HISTORY_PAGES * HISTORY_PAGE)
        return None

    async def edit(self, link: ChannelLink, message_ref: str, reply: Reply) -> None:
        token = await self._token(link)
        body = render.message(reply)
        body.pop("response_type", None)
        async with _slack_errors(link, "chat.update"):
            await self.client.chat_update(token=token, channel=link.channel_id, ts=message_ref,
                                          **body)

    async def remove(self, link: ChannelLink, message_ref: str) -> None:
        token = await self._token(link)
        async with _slack_errors(link, "chat.delete"):
            await self.client.chat_delete(token=token, channel=link.channel_id, ts=message_ref)

    async def share_file(self, link: ChannelLink, attachment: Attachment,
                         thread_ref: str | None) -> None:
        """Upload with files.getUploadURLExternal, the upload, files.completeUploadExternal."""
        token = await self._token(link)
        async with _slack_errors(link, "files.upload"):
            await self.client.files_upload_v2(
                token=token, channel=link.channel_id, content=attachment.content,
                filename=attachment.filename, title=attachment.title, thread_ts=thread_ref)


# Every post the outbox makes names its delivery in Slack message metadata, so that a delivery
# taken over after a crash can see whether its post went out unrecorded (find_post).
DELIVERY_EVENT = "partnership_bot_delivery"
# How far back find_post reads: pages of conversations.history.
HISTORY_PAGE, HISTORY_PAGES = 200, 3


def delivery_metadata(delivery_key: str) -> dict[str, Any]:
    return {"event_type": DELIVERY_EVENT, "event_payload": {"delivery_key": delivery_key}}


def posted_for(message: dict[str, Any]) -> str | None:
    """The delivery key a message from conversations.history was posted for, if any."""
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict) or metadata.get("event_type") != DELIVERY_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("delivery_key")
    return key if isinstance(key, str) else None


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
                                retry_after=retry_after_seconds(error.response.headers)) from None
        if code in ("not_in_channel", "channel_not_found"):
            raise DeliveryError(f"I can't post in {where} yet: invite me there with "
                                "`/invite @Partnership Bot`.", permanent=True) from None
        raise DeliveryError(f"Slack would not let me post in {where} ({code}).",
                            permanent=code in _PERMANENT) from None
    except (ClientError, TimeoutError, SlackClientError) as error:
        log.warning("%s to %s failed: %s", method, link.channel_id, type(error).__name__)
        raise DeliveryError(f"I couldn't reach Slack to post in {where}.") from None


def slack_client(settings: Settings) -> AsyncWebClient:
    """One client for the process: its HTTP session is reused by every request. In
    multi-workspace mode it has no token of its own: each call names its workspace's."""
    token = None if settings.slack_oauth else settings.slack_bot_token
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    # A 429 is waited out (its Retry-After) and tried once more here; if Slack is still busy
    # the caller sees the error: the reminder outbox then retries later with its own backoff.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


class SlackListeners:
    """The listeners, sharing the database, the delivery of channel posts and the process's
    client (for its HTTP session). Web API calls go through the `client` Bolt hands each
    listener, which carries the token of the workspace the request came from."""

    def __init__(self, db: Database, delivery: Delivery, client: AsyncWebClient,
                 settings: Settings, backlog: CommandBacklog | None = None) -> None:
        self.db = db
        self.delivery = delivery
        self.client = client
        self.settings = settings
        # Commands run after their ack; only a few at once, so that under a burst the event
        # loop stays free to acknowledge new requests quickly, and only so many wait: past that
        # a command is told "busy" at once rather than answered late (bot/backlog.py).
        self.backlog = backlog or CommandBacklog(settings.command_backlog)

    def shared(self, caller: Caller) -> Caller:
        """The caller in the workspace their Slack team shares (WORKSPACE_ALIASES), if any."""
        return replace(caller, workspace=self.settings.shared_workspace(caller.workspace),
                       web_base=self.settings.web_base)

    def command(self, name: str) -> Any:
        async def on_command(ack: AsyncAck, command: dict[str, Any],
                             client: AsyncWebClient) -> None:
            turn = self.backlog.admit()
            if turn is None:
                await ack(**BUSY_ACK)
                return
            await ack()
            # The command deadline (storage/db.py) counts the wait for a turn too: whatever
            # holds the turns up, no one waits past it unanswered.
            with request_arrived():
                try:
                    async with turn:
                        await self._command(name, command, client)
                except TooLate:
                    if command.get("response_url"):
                        await self.respond(command["response_url"], busy_reply())

        return on_command

    async def _command(self, name: str, command: dict[str, Any],
                       client: AsyncWebClient) -> None:
        caller = self.shared(slack_caller(command))
        surface = SlackSurface(self, client, caller, command)
        outcome = await run_command(self.db, name, command_text(command.get("text", "")),
                                    caller, surface.request_id)
        await present(outcome, surface, self.delivery)

    async def on_view_submission(self, ack: AsyncAck, body: dict[str, Any],
                                 view: dict[str, Any], client: AsyncWebClient) -> None:
        context, channel_id = render.form_metadata(view)
        caller = self.shared(interaction_caller(body, channel_id))
        surface = SlackSurface(self, client, caller, body)
        result = await submit_form(self.db, view.get("callback_id", ""),
                                   render.form_values(view), context, caller,
                                   surface.request_id)
        if result.errors:
            await ack(response_action="errors", errors=result.errors)
            return
        await ack()
        assert result.outcome is not None
        await present(result.outcome, surface, self.delivery)

    async def on_action(self, ack: AsyncAck, body: dict[str, Any],
                        client: AsyncWebClient) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        if action.get("url"):
            return  # a link button: Slack opened the address; nothing to do
        container = body.get("container") or {}
        channel_id = container.get("channel_id") or (body.get("channel") or {}).get("id")
        caller = self.shared(interaction_caller(body, channel_id))
        surface = SlackSurface(self, client, caller, body)
        outcome = await run_action(self.db, render.action_name(action.get("action_id", "")),
                                   action.get("value", ""), caller, surface.request_id)
        await present(outcome, surface, self.delivery)

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any],
                             client: AsyncWebClient) -> None:
        """Someone opened the bot's Home tab: show them their partnerships' week."""
        if event.get("tab") != "home" or not event.get("user"):
            return
        user = str(event["user"])
        caller = self.shared(Caller(platform=Platform.SLACK,
                                    workspace=slack_workspace(body) or "unknown",
                                    user_id=user, user_name=user))
        await self.publish_home(client, caller)

    async def publish_home(self, client: AsyncWebClient, caller: Caller) -> None:
        view = render.home_view(await app_home(self.db, caller))
        try:
            await client.views_publish(user_id=caller.user_id, view=view)
        except SlackApiError as error:
            log.warning("views.publish failed: %s", error.response.get("error"))

    async def respond(self, response_url: str, reply: Reply) -> None:
        """Answer a command through its response_url, on the shared HTTP session (Bolt's own
        `respond` opens a new connection pool for every answer)."""
        webhook = AsyncWebhookClient(response_url, session=self.client.session)
        response = await webhook.send_dict(render.message(reply))
        if response.status_code != 200:
            log.warning("response_url answered %s", response.status_code)


class SlackSurface:
    """The presenter's view of one Slack request: a slash command (answered through its
    response_url), or a button press or form submission (answered ephemerally, or by direct
    message where there is no channel)."""

    def __init__(self, listeners: SlackListeners, client: AsyncWebClient, caller: Caller,
                 body: dict[str, Any]) -> None:
        self.listeners = listeners
        self.client = client
        self.caller = caller
        self.body = body
        self.form_opened = False

    @property
    def request_id(self) -> str | None:
        return request_id(self.body)

    async def open_form(self, form: Form) -> bool:
        trigger_id = self.body.get("trigger_id")
        if not trigger_id:
            return False
        try:
            await self.client.views_open(trigger_id=trigger_id,
                                         view=render.modal(form, self.caller.channel_id))
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            return False
        self.form_opened = True
        return True

    def _on_home(self) -> bool:
        return (self.body.get("view") or {}).get("type") == "home"

    async def update_source(self, reply: Reply) -> None:
        container = self.body.get("container") or {}
        if container.get("type") != "message":
            if self._on_home() and self.form_opened:
                # No reply follows a form (it stands for the reply), so the tab is
                # published again here; otherwise `reply` publishes it.
                await self.listeners.publish_home(self.client, self.caller)
            return
        body = render.message(reply)
        body.pop("response_type", None)
        try:
            await self.client.chat_update(channel=container["channel_id"],
                                          ts=container["message_ts"], **body)
        except SlackApiError as error:
            log.warning("chat.update failed: %s", error.response.get("error"))

    async def reply(self, reply: Reply, files: list[Attachment], form: Form | None) -> None:
        if files:
            await self._send_files(files, reply)
        response_url = self.body.get("response_url")
        if isinstance(response_url, str) and "command" in self.body:
            await self.listeners.respond(response_url, reply)
            return
        if self._on_home():
            # Pressed on the Home tab: the tab itself shows what changed; only trouble is told.
            await self.listeners.publish_home(self.client, self.caller)
            if reply.tone not in (Tone.ERROR, Tone.WARNING) and not has_links(reply):
                return  # (a private link, though, is told: it is what was asked for)
        await self._tell(reply)

    async def _send_files(self, files: list[Attachment], reply: Reply) -> None:
        """Files for the caller alone go to their direct messages with the bot."""
        try:
            opened = await self.client.conversations_open(users=self.caller.user_id)
            await self.client.files_upload_v2(
                channel=opened["channel"]["id"],
                initial_comment="Here are the files you asked for.",
                file_uploads=[{"content": f.content, "filename": f.filename, "title": f.title}
                              for f in files])
        except SlackApiError as error:
            log.warning("could not send files by DM: %s", error.response.get("error"))
            with_problems(reply, ["I couldn't send you the files by direct message; please "
                                  "try again shortly."])

    async def _tell(self, reply: Reply) -> None:
        """Show `reply` to the caller only: ephemeral in the channel, else a direct message."""
        body = render.message(reply)
        body.pop("response_type", None)
        if self.caller.channel_id:
            try:
                await self.client.chat_postEphemeral(channel=self.caller.channel_id,
                                                     user=self.caller.user_id, **body)
                return
            except SlackApiError as error:
                log.info("chat.postEphemeral failed (%s); sending a DM",
                         error.response.get("error"))
        try:
            await self.client.chat_postMessage(channel=self.caller.user_id, **body)
        except SlackApiError as error:
            log.warning("could not reach user by DM: %s", error.response.get("error"))


def has_links(reply: Reply) -> bool:
    """Whether the reply hands the person a link (which they must be told, wherever asked)."""
    return any(section.links for section in reply.sections)


def request_id(body: dict[str, Any]) -> str | None:
    """What identifies one Slack request across retries and replays: the trigger id of a
    command or interaction (each invocation has its own), or an event's id."""
    key = body.get("trigger_id") or body.get("event_id")
    return f"slack:{key}" if key else None


async def on_error(error: Exception) -> BoltResponse:
    """A payload Bolt could not route (malformed, or a shape we never asked for): answer it
    politely instead of with a 500, and log the kind of failure without the payload."""
    log.warning("could not handle a Slack request: %s", type(error).__name__)
    return BoltResponse(status=200, body={"text": "Sorry, I couldn't handle that request."})


def build_slack_app(
    settings: Settings, db: Database, delivery: Delivery, client: AsyncWebClient,
    store: SlackInstallationStore | None = None, backlog: CommandBacklog | None = None,
) -> AsyncApp:
    """The Bolt app. With an installation store (multi-workspace mode) it also runs the OAuth
    install flow and finds each request's bot token there; without, it uses the client's."""
    if store is None:
        app = AsyncApp(signing_secret=settings.slack_signing_secret, client=client)
    else:
        if settings.slack_bot_token:
            log.warning("SLACK_BOT_TOKEN is ignored: with SLACK_CLIENT_ID set, each workspace's "
                        "token comes from its installation")
        app = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            client=client,
            # Given here too so that Bolt's token lookups use our client (SLACK_API_URL).
            installation_store=store,
            installation_store_bot_only=True,
            oauth_flow=oauth_flow(settings, db, store),
            user_facing_authorize_error_message=not_installed_message(settings),
        )
    app.error(on_error)
    add_revocation_listeners(app, store)
    listeners = SlackListeners(db, delivery, client, settings, backlog)
    for name in COMMANDS:
        app.command(f"/{name}")(listeners.command(name))
    app.view(re.compile(".+"))(listeners.on_view_submission)
    app.action(re.compile(".+"))(listeners.on_action)
    app.event(HOME_EVENT)(listeners.on_home_opened)
    return app
