"""The Teams layer: Bot Framework activities in, core calls, Adaptive Cards out.

Built on the Microsoft 365 Agents SDK: its `CloudAdapter` turns an HTTP request into a turn and
sends our replies to the Bot Connector at the activity's `serviceUrl`; its JWT validation
guards the endpoint. Commands are messages (`partnership list`, or `@Partnership Bot
partnership list` in a channel); card buttons and forms come back as messages with a `value`."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import ClientResponseError
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    InvokeResponse,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AuthenticationConstants,
    ClaimsIdentity,
    OutboundHostValidator,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import AuthTypes
from pydantic import ValidationError

from bot.config import TEAMS_MULTI_TENANT_TOKEN_TENANT, Settings
from bot.delivery import (
    Delivery,
    DeliveryError,
    PostingLimits,
    conversation_allowances,
    retry_after_seconds,
)
from bot.presenter import present
from bot.teams import render
from bot.teams.auth import TokenPolicy, TokenValidator
from handlers.context import Caller, Platform
from handlers.dispatch import (
    COMMANDS,
    app_home,
    command_names,
    files_by_link,
    run_action,
    run_command,
    submit_form,
)
from handlers.forms import Form
from handlers.replies import Attachment as FileAttachment
from handlers.replies import Reply, Section, Tone, Visibility
from storage import pacing, personal_chats
from storage.db import Database
from storage.models import ChannelLink
from storage.pacing import Pace
from storage.types import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

PERSONAL = "personal"
HELP_WORDS = ("", "help", "?")
HOME_WORD = "home"
# The invoke a Universal Action (Action.Execute) or a card's refresh arrives as.
CARD_ACTION = "adaptiveCard/action"
# A reply to someone waits at most this long for its turn or a Retry-After (seconds), and is
# tried this many times in all.
MAX_REPLY_WAIT = 10.0
REPLY_TRIES = 3


# --- who is asking, and what they typed -----------------------------------------------------


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def _tenant(activity: Activity) -> str:
    tenant = (_channel_data(activity).get("tenant") or {}).get("id")
    return activity.conversation.tenant_id or tenant or "unknown"


def channel_of(activity: Activity) -> tuple[str | None, str | None]:
    """The id and name of the channel or group chat the activity came from; None in a
    personal chat, which is no place for a partnership's posts."""
    conversation = activity.conversation
    if conversation.conversation_type == PERSONAL or (
        conversation.conversation_type is None and not conversation.is_group
    ):
        return None, None
    channel = _channel_data(activity).get("channel") or {}
    # A channel message's conversation id names its thread ("19:…;messageid=…"); posts to
    # the channel itself go to the bare channel id.
    channel_id = channel.get("id") or conversation.id.split(";", 1)[0]
    return channel_id, channel.get("name") or conversation.name


def channel_reference(activity: Activity, channel_id: str) -> str:
    """The conversation reference for posting in this channel later, as JSON: the channel's
    own conversation, not the thread of the message that linked it."""
    reference = activity.get_conversation_reference()
    reference.activity_id = None
    reference.user = None
    reference.conversation = ConversationAccount(
        id=channel_id, conversation_type=activity.conversation.conversation_type,
        is_group=True, tenant_id=_tenant(activity), name=activity.conversation.name)
    return reference.model_dump_json(by_alias=True, exclude_none=True)


def personal_reference(activity: Activity) -> str:
    """The conversation reference for writing to the sender privately later (nudges, notices
    to leads), as JSON: their personal chat with the bot, not the activity itself."""
    reference = activity.get_conversation_reference()
    reference.activity_id = None
    return reference.model_dump_json(by_alias=True, exclude_none=True)


def teams_caller(activity: Activity) -> Caller:
    user = activity.from_property
    if user is None or not user.id:
        raise ValueError("activity without a sender")
    channel_id, channel_name = channel_of(activity)
    return Caller(
        platform=Platform.TEAMS,
        workspace=_tenant(activity),
        # The Entra object id is the person across every chat; the Teams id is per bot.
        user_id=user.aad_object_id or user.id,
        user_name=user.name or user.id,
        channel_id=channel_id,
        channel_name=channel_name,
        channel_ref=channel_reference(activity, channel_id) if channel_id else None,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def command_text(activity: Activity) -> str:
    """The message without the bot's @mention, as the person typed it."""
    text = activity.remove_recipient_mention() if activity.recipient else (activity.text or "")
    return " ".join(html.unescape(text).replace("\xa0", " ").split())


# --- activities we send ---------------------------------------------------------------------


def card_activity(content: dict[str, Any], summary: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary=summary,
        attachments=[Attachment(content_type=render.CARD_CONTENT_TYPE, content=content)],
    )


def reply_activity(reply: Reply) -> Activity:
    return card_activity(render.card(reply), render.summary(reply))


def form_activity(form: Form) -> Activity:
    return card_activity(render.form_card(form), render.plain(form.title))


# --- the agent ------------------------------------------------------------------------------


class TeamsBot:
    """The agent the SDK's adapter runs for each incoming activity (its `Agent` protocol)."""

    def __init__(self, db: Database, delivery: Delivery, settings: Settings) -> None:
        self.db = db
        self.delivery = delivery
        self.settings = settings

    def caller(self, activity: Activity) -> Caller:
        """Who sent it, in the workspace their tenant shares (WORKSPACE_ALIASES), if any."""
        caller = teams_caller(activity)
        return replace(caller, workspace=self.settings.shared_workspace(caller.workspace),
                       web_base=self.settings.web_base)

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        await self.remember_personal_chat(activity)
        if activity.type == ActivityTypes.message:
            submitted = activity.value
            if isinstance(submitted, dict) and render.SUBMIT_KIND in submitted:
                await self.on_card_submit(context, submitted)
            else:
                await self.on_message(context)
        elif activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION:
            await self.on_card_action(context)
        elif activity.type == ActivityTypes.conversation_update:
            await self.on_conversation_update(context)

    async def remember_personal_chat(self, activity: Activity) -> None:
        """Anything a person sends in their personal chat with the bot (the app's personal
        install too) keeps that chat's address, so private messages can reach them there."""
        if activity.from_property is None or not activity.from_property.id \
                or channel_of(activity)[0] is not None or activity.service_url is None:
            return
        caller = self.caller(activity)
        try:
            async with self.db.session() as session:
                await personal_chats.remember(session, caller.workspace, caller.platform.value,
                                              caller.user_id, personal_reference(activity))
        except Exception:
            # What they asked still gets its answer; the address is kept next time.
            log.warning("could not keep the personal chat of a Teams user", exc_info=True)

    async def on_message(self, context: TurnContext) -> None:
        caller = self.caller(context.activity)
        word, _, rest = command_text(context.activity).partition(" ")
        # Teams' own slash-command menu (and Slack habits) put a "/" before the command.
        word = word.removeprefix("/")
        if word.lower() in HELP_WORDS:
            await self.send(context, await self.help_reply(caller))
            return
        if word.lower() == HOME_WORD and not rest:
            await self.send_home(context, caller)
            return
        surface = TeamsSurface(self, context)
        outcome = await run_command(self.db, word, rest, caller, surface.request_id)
        await present(outcome, surface, self.delivery)

    async def on_card_submit(self, context: TurnContext, submitted: dict[str, Any],
                             in_invoke: bool = False) -> dict[str, Any] | None:
        """A card's button or form sent as a message (Action.Submit), or a form sent by
        Action.Execute (`in_invoke`): then the card to show in its place is returned."""
        caller = self.caller(context.activity)
        if submitted[render.SUBMIT_KIND] == render.KIND_FORM:
            # The filled-in form becomes the confirmation, so it can't be sent twice.
            surface = TeamsSurface(self, context, reply_replaces_card=True, in_invoke=in_invoke)
            result = await submit_form(self.db, str(submitted.get("formId", "")),
                                       render.form_values(submitted),
                                       str(submitted.get("context", "")), caller,
                                       surface.request_id)
            if result.errors:
                return await self.form_errors(context, surface, submitted, result.errors)
            assert result.outcome is not None
            if result.outcome.repeated:
                # Pressed again: the card already shows the confirmation; keep it, and tell
                # the person privately that nothing was repeated.
                surface = TeamsSurface(self, context, in_invoke=in_invoke)
            await present(result.outcome, surface, self.delivery)
            return surface.replaced
        surface = TeamsSurface(self, context)
        outcome = await run_action(self.db, str(submitted.get("actionId", "")),
                                   submitted.get("value"), caller, surface.request_id)
        await present(outcome, surface, self.delivery)
        return None

    async def form_errors(self, context: TurnContext, surface: TeamsSurface,
                          submitted: dict[str, Any],
                          errors: dict[str, str]) -> dict[str, Any] | None:
        """The form again, each problem beside its field and what was typed kept, as a
        Slack modal shows it: in the invoke's answer, or by updating the card. A card that
        does not carry its form (posted before) gets the problems listed in a reply."""
        form = render.form_again(submitted)
        if form is not None:
            content = render.form_card(form, errors)
            if surface.in_invoke:
                return content
            if surface.card_id and await self.update_card_content(
                context, surface.card_id, content, render.plain(form.title)
            ):
                return None
        labels = submitted.get("labels")
        await self.send(context, render.field_errors_reply(
            errors, labels if isinstance(labels, dict) else {}))
        return None

    async def on_card_action(self, context: TurnContext) -> None:
        """A Universal Action (Action.Execute) pressed on a card, or Teams refreshing the home
        card: answered with the card as it is now, which Teams shows in place of the old one
        to everyone who sees it; what the press did is told as a reply, as for Action.Submit."""
        value = _dict(context.activity.value)
        action = _dict(value.get("action"))
        data = _dict(action.get("data"))
        caller = self.caller(context.activity)
        if action.get("verb") == render.HOME_VERB:
            await self.answer_invoke(context, await self.home_content(context, caller))
            return
        if data.get(render.SUBMIT_KIND) == render.KIND_FORM:
            await self.answer_invoke(context, await self.on_card_submit(context, data,
                                                                        in_invoke=True))
            return
        surface = TeamsSurface(self, context, in_invoke=True)
        outcome = await run_action(self.db, str(data.get("actionId", "")), data.get("value"),
                                   caller, surface.request_id)
        from_home = data.get("origin") == render.ORIGIN_HOME
        surface.quiet_unless_trouble = from_home
        await present(outcome, surface, self.delivery)
        if from_home:
            content: dict[str, Any] | None = await self.home_content(context, caller)
        elif surface.updated is not None:
            content = render.card(surface.updated)
        else:
            content = None
        await self.answer_invoke(context, content)

    async def answer_invoke(self, context: TurnContext,
                            content: dict[str, Any] | None) -> None:
        """The invoke's answer: the card to show now, or (none to change) a short message."""
        body: dict[str, Any] = (
            {"statusCode": 200, "type": render.CARD_CONTENT_TYPE, "value": content}
            if content is not None else
            {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
             "value": "Done."})
        await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                             value=InvokeResponse(status=200, body=body)))

    async def home_content(self, context: TurnContext, caller: Caller) -> dict[str, Any]:
        user = context.activity.from_property
        return render.home_card(await app_home(self.db, caller), user.id if user else None)

    async def send_home(self, context: TurnContext, caller: Caller) -> None:
        """The person's week (handlers/home.py, Slack's App Home), for them alone."""
        content = await self.home_content(context, caller)
        await self.send_activity(context, card_activity(content, "Your partnerships this week"),
                                 private=True)

    async def on_conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if not any(member.id == bot_id for member in activity.members_added or []):
            return
        in_channel = channel_of(activity)[0] is not None
        how = ("mention me first, for example `@Partnership Bot partnership list`"
               if in_channel else "type a command, for example `partnership list`")
        welcome = Reply(
            title="Hello! I help schools run their improvement partnerships.",
            sections=[Section(lines=[f"To ask me something, {how}.",
                                     "Type `help` to see everything I can do."])],
            visibility=Visibility.PUBLIC,
        )
        await self.send(context, welcome)
        if not in_channel:
            # Installed for one person: their home, as Slack shows the App Home.
            await self.send_home(context, self.caller(activity))

    async def help_reply(self, caller: Caller) -> Reply:
        """Every command's help in one card, and how to talk to the bot in Teams."""
        sections = [section for name in command_names()
                    for section in COMMANDS[name].help_reply(caller).sections]
        sections.append(Section(heading="In Teams", lines=[
            "In a personal chat with me, type the command as shown.",
            "In a channel, mention me first: `@Partnership Bot partnership list`.",
            "`home` shows your week: meetings to reply to, next steps you own, recent CPD.",
        ]))
        return Reply(title="Partnership Bot: your school improvement partnerships",
                     sections=sections)

    async def update_card(self, context: TurnContext, card_id: str, reply: Reply) -> bool:
        return await self.update_card_content(context, card_id, render.card(reply),
                                              render.summary(reply))

    async def update_card_content(self, context: TurnContext, card_id: str,
                                  content: dict[str, Any], summary: str) -> bool:
        activity = card_activity(content, summary)
        activity.id = card_id
        try:
            await context.update_activity(activity)
        except ClientResponseError as error:
            log.warning("updating card %s failed: %s", card_id, error.status)
            return False
        return True

    async def send(self, context: TurnContext, reply: Reply) -> None:
        await self.send_activity(context, reply_activity(reply),
                                 private=reply.visibility is Visibility.PRIVATE)

    async def send_activity(self, context: TurnContext, activity: Activity,
                            private: bool) -> None:
        """Reply in the conversation. A private reply in a channel or group chat is a targeted
        message, seen only by the person who asked; should Teams refuse that, it goes to the
        thread like any reply."""
        asker = context.activity.from_property
        in_personal_chat = channel_of(context.activity)[0] is None
        if not private or in_personal_chat or asker is None:
            await self.paced_send(context, activity)
            return
        targeted = activity.model_copy(deep=True)
        targeted.make_targeted_activity(ChannelAccount(id=asker.id, name=asker.name))
        try:
            await self.paced_send(context, targeted)
        except ClientResponseError as error:
            if error.status == 429:
                raise  # still too fast after its waits: never made public by falling back
            log.warning("targeted reply refused (%s); replying in the thread", error.status)
            await self.paced_send(context, activity)

    async def paced_send(self, context: TurnContext, activity: Activity) -> None:
        """Send in the turn's conversation within its pace (the same allowances as the
        channel's posts: Teams counts every message in a conversation), and after a 429 again
        once its Retry-After has passed, up to REPLY_TRIES times."""
        conversation = channel_of(context.activity)[0] or context.activity.conversation.id
        paces = conversation_allowances(f"teams:channel:{conversation}",
                                        TEAMS_CONVERSATION_PACES)
        slot = await pacing.reserve_all(self.db, paces, utcnow())
        wait = (slot - utcnow()).total_seconds()
        if wait > 0:
            await asyncio.sleep(min(wait, MAX_REPLY_WAIT))
        for attempt in range(1, REPLY_TRIES + 1):
            try:
                await context.send_activity(activity)
                return
            except ClientResponseError as error:
                if error.status != 429 or attempt == REPLY_TRIES:
                    raise
                seconds = retry_after_seconds(error.headers) or 1.0
                log.warning("Teams asked me to wait %g s before replying (try %d)", seconds,
                            attempt)
                until = utcnow() + timedelta(seconds=seconds)
                for key, pace in paces:
                    await pacing.hold(self.db, key, pace, until)
                await asyncio.sleep(min(seconds, MAX_REPLY_WAIT))


class TeamsSurface:
    """The presenter's view of one Teams activity: replies in its conversation (privately to
    the person where the reply is private), forms as cards, and the card a button was on."""

    def __init__(self, bot: TeamsBot, context: TurnContext,
                 reply_replaces_card: bool = False, in_invoke: bool = False) -> None:
        self.bot = bot
        self.context = context
        # The card the activity came from (a button's or a submitted form's), if any.
        self.card_id = context.activity.reply_to_id
        self.reply_replaces_card = reply_replaces_card
        # A Universal Action: the card comes back in the invoke's answer, not by an update.
        self.in_invoke = in_invoke
        self.updated: Reply | None = None
        # A form sent by Action.Execute: the confirmation card that takes its place.
        self.replaced: dict[str, Any] | None = None
        # Pressed on the home card: the card itself shows what changed; only trouble is told.
        self.quiet_unless_trouble = False

    @property
    def request_id(self) -> str | None:
        """Teams sends a retried activity again with the same id. A form is one card: pressed
        twice (two activities), it is still one submission, as Slack's view submission is one
        trigger, so it counts by the card it was on (unless the first had errors to fix)."""
        activity = self.context.activity
        if self.reply_replaces_card and self.card_id:
            return f"teams-form:{activity.conversation.id}:{self.card_id}"
        return f"teams:{activity.id}" if activity.id else None

    async def open_form(self, form: Form) -> bool:
        await self.bot.send_activity(self.context, form_activity(form), private=True)
        return True

    async def with_file_links(self, reply: Reply, files: list[FileAttachment]) -> Reply:
        """Teams takes no files from a bot without a consent-card upload to OneDrive, so files
        for the caller (their data export) come as private links that work once, for an hour."""
        caller = self.bot.caller(self.context.activity)
        linked = (await files_by_link(self.bot.db, caller, files)).reply
        if linked.tone is Tone.ERROR:
            reply.sections.append(Section(lines=[linked.title, *(
                line for section in linked.sections for line in section.lines)]))
        else:
            reply.sections.extend(linked.sections)
        return reply

    async def update_source(self, reply: Reply) -> None:
        if self.in_invoke:
            self.updated = reply
        elif self.card_id:
            await self.bot.update_card(self.context, self.card_id, reply)

    async def reply(self, reply: Reply, files: list[FileAttachment],
                    form: Form | None) -> None:
        if files:
            reply = await self.with_file_links(reply, files)
        if (self.quiet_unless_trouble and not files
                and reply.tone not in (Tone.ERROR, Tone.WARNING)):
            return
        if self.in_invoke and self.reply_replaces_card:
            self.replaced = render.card(reply)
            return
        if self.card_id and self.reply_replaces_card and await self.bot.update_card(
            self.context, self.card_id, reply
        ):
            return
        await self.bot.send(self.context, reply)


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """The adapter's last resort: log it, and tell the person politely, never the details."""
    log.error("unhandled error in a Teams turn", exc_info=error)
    if context.activity is None or context.activity.type != ActivityTypes.message:
        return
    try:
        await context.send_activity(reply_activity(Reply.error(
            "Something went wrong on my side, so nothing was saved.",
            "Please try again; if it keeps happening, tell whoever runs this bot.")))
    except Exception:
        log.warning("could not tell the person about the error either")


# --- proactive posts ------------------------------------------------------------------------


# Teams' documented limits for one bot in one conversation: 7 posts in any second, 8 in any
# 2 seconds, 60 in any 30 seconds and 1,800 in any hour. Each window is a pace of its own,
# never let past its count (storage/pacing.Pace.at_most): 6 may go at once, then one a second
# for the first hundred or so, then one about every 2 seconds, the most an hour allows. (The first
# two come out the same pace, so they share one allowance.)
TEAMS_CONVERSATION_PACES = (
    Pace.at_most(7, 1.0, burst=6),
    Pace.at_most(8, 2.0, burst=6),
    Pace.at_most(60, 30.0, burst=30),
    Pace.at_most(1800, 3600.0, burst=60),
)


class TeamsPoster:
    """Posts in linked Teams channels by continuing the conversation stored when linking."""

    limits = PostingLimits(per_channel=TEAMS_CONVERSATION_PACES,
                           per_workspace=(Pace(interval=0.1, burst=10),))

    def __init__(self, adapter: CloudAdapter, app_id: str | None, anonymous: bool) -> None:
        self.adapter = adapter
        self.app_id = app_id or ""
        self.anonymous = anonymous

    async def post(self, link: ChannelLink, reply: Reply,
                   delivery_key: str | None = None) -> str | None:
        """A new post in the channel; its activity id, to update it later."""
        # `delivery_key` is not carried: Teams messages have no metadata a bot can search for,
        # so a crash between the post and its record can still repeat it (README).
        async def send(context: TurnContext) -> str | None:
            return (await context.send_activity(reply_activity(reply))).id

        return await self._in_channel(link, send)

    async def edit(self, link: ChannelLink, message_ref: str, reply: Reply) -> None:
        """Bring a card posted earlier up to date (updateActivity), for everyone who sees it."""
        async def update(context: TurnContext) -> None:
            activity = reply_activity(reply)
            activity.id = message_ref
            await context.update_activity(activity)

        await self._in_channel(link, update)

    async def _in_channel(self, link: ChannelLink,
                          act: Callable[[TurnContext], Awaitable[T]]) -> T:
        """Run `act` in the linked channel's conversation; DeliveryError on any failure."""
        name = link.channel_name or "the linked Teams channel"
        reference = self._reference(link, name)
        failures: list[BaseException] = []
        results: list[T] = []

        async def run(context: TurnContext) -> None:
            # Caught here: the adapter would otherwise hand it to on_turn_error.
            try:
                results.append(await act(context))
            except Exception as error:
                failures.append(error)

        continuation = reference.get_continuation_activity()
        # Without an id of its own, what is sent is a new post in the channel rather than a
        # reply to an activity that does not exist.
        continuation.id = None
        try:
            await self._continue(continuation, run)
        except Exception as error:  # token or connection trouble before the send
            failures.append(error)
        if failures or not results:
            raise self._delivery_error(failures[0] if failures else RuntimeError("no turn"),
                                       name) from None
        return results[0]

    async def _continue(self, continuation: Activity, send: Any) -> None:
        if self.anonymous:
            # The Emulator's way: no token is fetched or sent.
            await self.adapter.continue_conversation_with_claims(
                ClaimsIdentity(), continuation, send, AuthenticationConstants.AGENTS_SDK_SCOPE)
        else:
            await self.adapter.continue_conversation(self.app_id, continuation, send)

    @staticmethod
    def _reference(link: ChannelLink, name: str) -> ConversationReference:
        relink = f"Say `partnership channel <partnership>` in {name} again to fix it."
        if not link.conversation_ref:
            raise DeliveryError(f"I have no way to post in {name} yet. {relink}")
        try:
            return ConversationReference.model_validate_json(link.conversation_ref)
        except ValidationError:
            log.warning("channel link %s has an unreadable conversation reference", link.id)
            raise DeliveryError(f"My address for {name} is damaged. {relink}") from None

    @staticmethod
    def _delivery_error(error: BaseException, name: str) -> DeliveryError:
        if isinstance(error, ClientResponseError):
            log.warning("Teams post to %s failed: %s", name, error.status)
            if error.status == 429:
                return DeliveryError(f"Teams asked me to slow down while posting in {name}.",
                                     retry_after=retry_after_seconds(error.headers))
            if error.status in (403, 404):
                return DeliveryError(f"I can't post in {name} any more: add Partnership Bot "
                                     "to that team again.")
            return DeliveryError(f"Teams would not let me post in {name} ({error.status}).")
        log.error("Teams post to %s failed", name, exc_info=error)
        return DeliveryError(f"I couldn't reach Teams to post in {name}; I'll need to be "
                             "asked again.")


# --- wiring ---------------------------------------------------------------------------------


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's settings for getting the tokens our replies carry. A single-tenant bot gets
    them from its own tenant, a multi-tenant one from the Bot Framework's."""
    if settings.teams_auth_disabled:
        return AgentAuthConfiguration(anonymous_allowed=True)
    return AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=(settings.teams_tenant_id if settings.teams_single_tenant
                   else TEAMS_MULTI_TENANT_TOKEN_TENANT),
        client_secret=settings.teams_app_password,
    )


@dataclass(frozen=True)
class TeamsConnection:
    """The SDK's adapter, the check on incoming tokens (None: the Emulator, unchecked), and the
    poster that uses the adapter."""

    adapter: CloudAdapter
    validator: TokenValidator | None
    poster: TeamsPoster


def connect_teams(settings: Settings) -> TeamsConnection:
    settings.require_teams()
    adapter = CloudAdapter(
        connection_manager=MsalConnectionManager(
            connections_configurations={"SERVICE_CONNECTION": auth_configuration(settings)}),
        # Only Microsoft's own service URLs, unless the Emulator on this computer is talking.
        host_validator=OutboundHostValidator(enabled=not settings.teams_auth_disabled),
    )
    adapter.on_turn_error = on_turn_error
    poster = TeamsPoster(adapter, settings.teams_app_id, anonymous=settings.teams_auth_disabled)
    validator = (None if settings.teams_auth_disabled
                 else TokenValidator(TokenPolicy.from_settings(settings)))
    return TeamsConnection(adapter, validator, poster)
