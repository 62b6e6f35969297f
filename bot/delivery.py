"""Posting the core's channel posts to each linked channel, on whichever platform it lives."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.replies import Attachment, ChannelPost, Reply, Section, Tone
from storage import outbox, queries
from storage.db import Database
from storage.models import ChannelLink
from storage.pacing import Allowance, Pace

log = logging.getLogger(__name__)


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
    itself), and where the posts that ask to be confirmed went (`confirmations`)."""

    def __init__(self) -> None:
        super().__init__()
        self.confirmations: list[str] = []


class Delivery:
    def __init__(self, db: Database, posters: dict[str, ChannelPoster]) -> None:
        self.db = db
        self.posters = posters

    async def deliver(self, posts: Sequence[ChannelPost]) -> DeliveryReport:
        """Post (or edit) each one; return what went wrong, in words for the person who asked,
        and the confirmations of posts that went out."""
        report = DeliveryReport()
        for post in posts:
            reached = []
            for link in await self.links_for(post.partnership_id, post.only_channel):
                try:
                    if post.edit_of is not None:
                        await self._edit(link, post)
                    elif post.withdraw_of is not None:
                        await self._withdraw(link, post)
                    else:
                        await self._post(link, post)
                except DeliveryError as error:
                    report.append(error.hint)
                else:
                    reached.append(f"#{link.channel_name or link.channel_id}")
            if post.confirm and reached:
                report.confirmations.append(post.confirm.replace("{channels}", ", ".join(reached)))
        return report

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


def with_problems(reply: Reply, problems: list[str]) -> Reply:
    """The reply with where its channel posts went and what went wrong delivering them."""
    if isinstance(problems, DeliveryReport) and problems.confirmations:
        reply.sections.append(Section(lines=list(problems.confirmations)))
    if problems:
        reply.sections.append(Section(lines=problems))
        if reply.tone is Tone.SUCCESS:
            reply.tone = Tone.WARNING
    return reply
