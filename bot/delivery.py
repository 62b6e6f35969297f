"""Posting the core's channel posts to each linked channel, on whichever platform it lives."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.replies import Attachment, ChannelPost, Reply, Section, Tone
from handlers.reply_codec import QUEUED_POST_KIND, post_to_json
from storage import outbox, pacing, queries
from storage.db import Database
from storage.models import ChannelLink, Partnership
from storage.pacing import Allowance, Pace
from storage.types import LONDON, utcnow

log = logging.getLogger(__name__)

# How long a post made while answering someone may wait for its channel's pace, or for the
# platform's Retry-After, before it goes to the outbox to be sent (and retried) from there.
INLINE_WAIT = timedelta(seconds=2)
# A queued post still unsent this long after it was due is dropped (and says why on its row).
QUEUED_POST_EXPIRY = timedelta(days=1)
PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}


class DeliveryError(Exception):
    """A post did not go out; `hint` tells a person what to do about it.

    `retry_after` (seconds) is set when the platform asked us to slow down; `permanent` when
    trying again cannot help soon (the bot is not in the channel, the channel is gone)."""

    def __init__(self, hint: str, *, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(hint)
        self.hint = hint
        self.retry_after = retry_after
        self.permanent = permanent


def retry_after_seconds(headers: Any) -> float | None:
    """A 429 answer's Retry-After header, in seconds (HTTP headers of any casing)."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(text))
            except (TypeError, ValueError):
                return None
    return None


class ChannelPoster(Protocol):
    async def post(self, link: ChannelLink, reply: Reply,
                   delivery_key: str | None = None) -> str | None:
        """Post `reply` in the linked channel and return the platform's reference to the new
        message (Slack's ts), or None if it has none; raise DeliveryError on failure.
        `delivery_key` names the outbox delivery it belongs to, for platforms that can carry
        it on the message (see PostFinder)."""


@runtime_checkable
class PostFinder(Protocol):
    """A poster that can find, in a channel's recent messages, one it posted for a delivery:
    so a delivery taken over after a crash (or retried after an unclear failure) is not posted
    twice when the first try went out unrecorded."""

    async def find_post(self, link: ChannelLink, delivery_key: str,
                        since: datetime) -> str | None:
        """The reference of a message posted in `link` since `since` for `delivery_key`, or
        None if there is none (raise DeliveryError when the channel cannot be read)."""


@runtime_checkable
class MessageEditor(Protocol):
    """A poster that can change a message it posted earlier (a meeting card's counts)."""

    async def edit(self, link: ChannelLink, message_ref: str, reply: Reply) -> None: ...


@runtime_checkable
class MessageRemover(Protocol):
    """A poster that can withdraw a message it posted earlier (a note about a deleted walk)."""

    async def remove(self, link: ChannelLink, message_ref: str) -> None: ...


@runtime_checkable
class FileSharer(Protocol):
    """A poster that can share a file in a channel, in a message's thread when given one."""

    async def share_file(self, link: ChannelLink, attachment: Attachment,
                         thread_ref: str | None) -> None: ...


@dataclass(frozen=True)
class PostingLimits:
    """How fast a platform lets a bot post: in one channel (conversation), and in one workspace
    overall; each as one pace, or several when the platform limits several windows."""

    per_channel: tuple[Pace, ...] = ()
    per_workspace: tuple[Pace, ...] = ()

    def paces(self, link: ChannelLink, workspace: str) -> list[Allowance]:
        """The allowances one post to `link` uses (storage/pacing.py), the channel's first."""
        return [*_keyed(f"{link.platform}:channel:{link.channel_id}", self.per_channel),
                *_keyed(f"{link.platform}:workspace:{workspace}", self.per_workspace)]


def conversation_allowances(key: str, paces: tuple[Pace, ...]) -> list[Allowance]:
    """The allowances of one conversation (`key`, as a channel's: "teams:channel:<id>"), for
    replies that share a channel's pace."""
    return _keyed(key, paces)


def _keyed(key: str, paces: tuple[Pace, ...]) -> list[Allowance]:
    """One row per pace: the key alone for a single pace, with the pace's label for several."""
    distinct = list(dict.fromkeys(paces))
    if len(distinct) == 1:
        return [(key, distinct[0])]
    return [(f"{key}:{pace.label}", pace) for pace in distinct]


@runtime_checkable
class Paced(Protocol):
    """A poster whose platform limits how fast it may post."""

    limits: PostingLimits


class DeliveryReport(list[str]):
    """What went wrong delivering channel posts, in words for the person who asked (the list
    itself), where the posts that ask to be confirmed went (`confirmations`), and which posts
    wait in the outbox to go out shortly (`queued`)."""

    def __init__(self) -> None:
        super().__init__()
        self.confirmations: list[str] = []
        self.queued: list[str] = []


class Queued(Exception):
    """The post was not sent now but queued in the outbox, to go out at `at`."""

    def __init__(self, at: datetime, why: str) -> None:
        super().__init__(why)
        self.at = at
        self.why = why


class Delivery:
    def __init__(self, db: Database, posters: dict[str, ChannelPoster]) -> None:
        self.db = db
        self.posters = posters

    async def deliver(self, posts: Sequence[ChannelPost]) -> DeliveryReport:
        """Post (or edit) each one, at each channel's pace; return what went wrong, in words
        for the person who asked, the confirmations of posts that went out, and what waits in
        the outbox (a post the pace or the platform held back longer than a moment)."""
        report = DeliveryReport()
        for post in posts:
            reached = []
            links = await self.links_for(post.partnership_id, post.only_channel)
            workspace = await self._workspace(post.partnership_id) if links else ""
            for link in links:
                name = f"#{link.channel_name or link.channel_id}"
                try:
                    await self._paced(link, workspace, post)
                except Queued as queued:
                    report.queued.append(_queued_line(post, name, queued))
                except DeliveryError as error:
                    report.append(error.hint)
                else:
                    reached.append(name)
            if post.confirm and reached:
                report.confirmations.append(post.confirm.replace("{channels}", ", ".join(reached)))
        return report

    async def _workspace(self, partnership_id: int) -> str:
        async with self.db.session() as session:
            partnership = await session.get(Partnership, partnership_id)
        return partnership.workspace if partnership is not None else ""

    async def _paced(self, link: ChannelLink, workspace: str, post: ChannelPost) -> None:
        """Send one post to one channel the way the outbox does: within the channel's and the
        workspace's pace, waiting a moment if need be, and after a 429 once more after its
        Retry-After if that is short; a longer wait queues it in the outbox (`Queued`), whose
        sender posts it then and retries it until it goes (bot/scheduler.py)."""
        limits = self.limits_for(link)
        paces = limits.paces(link, workspace) if limits else []
        for attempt in range(2):
            if paces:
                await self._wait_for_pace(link, post, paces)
            try:
                await self._send(link, post)
                return
            except DeliveryError as error:
                if error.retry_after is None:
                    raise
                until = utcnow() + timedelta(seconds=error.retry_after)
                for key, pace in paces:
                    await pacing.hold(self.db, key, pace, until)
                if attempt == 1 or until - utcnow() > INLINE_WAIT:
                    platform = PLATFORM_NAMES.get(link.platform, link.platform)
                    raise await self._queue(link, post, until,
                                            f"{platform} asked me to slow down") from None
                await asyncio.sleep(error.retry_after)

    async def _wait_for_pace(self, link: ChannelLink, post: ChannelPost,
                             paces: list[Allowance]) -> None:
        now = utcnow()
        free = await pacing.take_all(self.db, paces, now)
        if free is None:
            return
        # Booked, so that posts waiting at the same time each get a moment of their own.
        slot = await pacing.reserve_all(self.db, paces, now)
        if slot - now > INLINE_WAIT:
            platform = PLATFORM_NAMES.get(link.platform, link.platform)
            raise await self._queue(link, post, slot, f"keeping to {platform}'s pace",
                                    booked=True)
        await asyncio.sleep(max(0.0, (slot - utcnow()).total_seconds()))

    async def _queue(self, link: ChannelLink, post: ChannelPost, at: datetime,
                     why: str, booked: bool = False) -> Queued:
        """Put the post for this one channel in the outbox, due at `at` (a posting slot
        already `booked` for it, which its sender then uses). An edit supersedes any earlier
        edit of the same message still waiting there (the newest version wins)."""
        one = replace(post, only_channel=link.channel_id)
        key = f"post:{link.platform}:{link.channel_id}:{uuid.uuid4().hex}"
        async with self.db.session() as session:
            if post.edit_of is not None:
                prefix = _edit_prefix(link, post.edit_of)
                await outbox.cancel(session, await outbox.pending_keys(session, prefix),
                                    "a newer version of the message was sent or queued")
                key = prefix + uuid.uuid4().hex
            await outbox.enqueue(session, kind=QUEUED_POST_KIND,
                                 partnership_id=post.partnership_id, dedupe_key=key, due_at=at,
                                 expires_at=at + QUEUED_POST_EXPIRY,
                                 payload={"post": post_to_json(one)},
                                 slot=at if booked else None)
            await session.commit()
        log.info("post for %s queued until %s (%s)", link.channel_id, at.isoformat(), why)
        return Queued(at, why)

    async def _send(self, link: ChannelLink, post: ChannelPost) -> None:
        if post.edit_of is not None:
            await self._edit(link, post)
            # Sent now: an older version still queued must not overwrite it later.
            async with self.db.session() as session:
                prefix = _edit_prefix(link, post.edit_of)
                if await outbox.cancel(session, await outbox.pending_keys(session, prefix),
                                       "a newer version of the message was sent"):
                    await session.commit()
        elif post.withdraw_of is not None:
            await self._withdraw(link, post)
        else:
            await self._post(link, post)

    async def send_queued(self, link: ChannelLink, post: ChannelPost,
                          delivery_key: str) -> str | None:
        """Send a post the outbox held (its pace already used by the outbox's sender): post,
        edit or withdraw; the new message's reference, remembered under its key if it has
        one. Its file is left to the sender, which shares it once the post is recorded."""
        if post.edit_of is not None:
            await self._edit(link, post)
            return None
        if post.withdraw_of is not None:
            await self._withdraw(link, post)
            return None
        ref = await self.post_to(link, post.reply, delivery_key)
        if post.remember_as is not None:
            await outbox.record_post(self.db, post.partnership_id, post.remember_as,
                                     link.platform, link.channel_id, ref)
        return ref

    async def links_for(self, partnership_id: int,
                        only_channel: str | None = None) -> list[ChannelLink]:
        async with self.db.session() as session:
            return await self.links_in(session, partnership_id, only_channel)

    async def links_in(self, session: AsyncSession, partnership_id: int,
                       only_channel: str | None = None) -> list[ChannelLink]:
        """The linked channels a post for this partnership goes to, on platforms we can reach."""
        return self.reachable(await queries.channel_links(session, partnership_id), only_channel)

    def reachable(self, links: Sequence[ChannelLink],
                  only_channel: str | None = None) -> list[ChannelLink]:
        """Those of `links` on platforms we can post to (and only `only_channel`, if given)."""
        chosen = []
        for link in links:
            if only_channel is not None and link.channel_id != only_channel:
                continue
            if link.platform not in self.posters:
                log.warning("no poster for platform %s; channel link %s skipped",
                            link.platform, link.id)
                continue
            chosen.append(link)
        return chosen

    def limits_for(self, link: ChannelLink) -> PostingLimits | None:
        poster = self.posters[link.platform]
        return poster.limits if isinstance(poster, Paced) else None

    async def post_to(self, link: ChannelLink, reply: Reply,
                      delivery_key: str | None = None) -> str | None:
        """Post in one channel (DeliveryError on failure); the message's reference."""
        return await self.posters[link.platform].post(link, reply, delivery_key)

    async def find_post(self, link: ChannelLink, delivery_key: str,
                        since: datetime) -> str | None:
        """A message already in `link` for this delivery (see PostFinder); None when there is
        none or the platform cannot tell (Teams: messages carry no metadata)."""
        poster = self.posters[link.platform]
        if not isinstance(poster, PostFinder):
            return None
        return await poster.find_post(link, delivery_key, since)

    async def _post(self, link: ChannelLink, post: ChannelPost) -> None:
        ref = await self.post_to(link, post.reply)
        if post.remember_as is not None:
            await outbox.record_post(self.db, post.partnership_id, post.remember_as,
                                     link.platform, link.channel_id, ref)
        if post.attachment is not None:
            await self.share_to(link, post.attachment, ref)

    async def share_to(self, link: ChannelLink, attachment: Attachment,
                       ref: str | None) -> None:
        """Share a file with the post `ref` in `link`, where the platform can (DeliveryError on
        failure, saying the message itself went out)."""
        poster = self.posters[link.platform]
        if not isinstance(poster, FileSharer):
            log.info("%s cannot share files; %s not shared", link.platform, attachment.filename)
            return
        try:
            await poster.share_file(link, attachment, ref)
        except DeliveryError as error:
            raise DeliveryError(f"The message went out, but not the file "
                                f"{attachment.filename}: {error.hint}") from None

    async def _posted_in(self, link: ChannelLink, key: str) -> list[str]:
        """The references of the messages remembered under `key` in this channel."""
        async with self.db.session() as session:
            posted = await outbox.posts_of(session, key)
        return [m.message_ref for m in posted if m.message_ref is not None
                and (m.platform, m.channel_id) == (link.platform, link.channel_id)]

    async def _edit(self, link: ChannelLink, post: ChannelPost) -> None:
        assert post.edit_of is not None
        poster = self.posters[link.platform]
        if not isinstance(poster, MessageEditor):
            return
        for ref in await self._posted_in(link, post.edit_of):
            await poster.edit(link, ref, post.reply)

    async def _withdraw(self, link: ChannelLink, post: ChannelPost) -> None:
        """Delete the remembered messages where the platform can; else edit them to say so."""
        assert post.withdraw_of is not None
        poster = self.posters[link.platform]
        for ref in await self._posted_in(link, post.withdraw_of):
            if isinstance(poster, MessageRemover):
                await poster.remove(link, ref)
            elif isinstance(poster, MessageEditor):
                await poster.edit(link, ref, post.reply)


def _edit_prefix(link: ChannelLink, key: str) -> str:
    return f"edit:{key}:{link.platform}:{link.channel_id}:"


def _queued_line(post: ChannelPost, name: str, queued: Queued) -> str:
    what = ("The update of the message in" if post.edit_of is not None
            else "The removal of the message in" if post.withdraw_of is not None
            else "The post in")
    return (f"{what} {name} is queued ({queued.why}): it goes out at about "
            f"{queued.at.astimezone(LONDON):%H:%M:%S}, and is retried until it does.")


def with_problems(reply: Reply, problems: list[str]) -> Reply:
    """The reply with where its channel posts went, what waits in the queue, and what went
    wrong delivering them."""
    if isinstance(problems, DeliveryReport) and problems.confirmations:
        reply.sections.append(Section(lines=list(problems.confirmations)))
    if isinstance(problems, DeliveryReport) and problems.queued:
        reply.sections.append(Section(lines=list(problems.queued)))
    if problems:
        reply.sections.append(Section(lines=problems))
        if reply.tone is Tone.SUCCESS:
            reply.tone = Tone.WARNING
    return reply
