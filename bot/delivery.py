"""Posting the core's channel posts to each linked channel, on whichever platform it lives."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from handlers.replies import ChannelPost, Reply, Section, Tone
from storage import queries
from storage.db import Database
from storage.models import ChannelLink

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A post did not go out; `hint` tells a person what to do about it."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


class ChannelPoster(Protocol):
    async def post(self, link: ChannelLink, reply: Reply) -> None:
        """Post `reply` in the linked channel, or raise DeliveryError."""


class Delivery:
    def __init__(self, db: Database, posters: dict[str, ChannelPoster]) -> None:
        self.db = db
        self.posters = posters

    async def deliver(self, posts: Sequence[ChannelPost]) -> list[str]:
        """Post each one; return what went wrong, in words for the person who asked."""
        problems: list[str] = []
        for post in posts:
            async with self.db.session() as session:
                links = await queries.channel_links(session, post.partnership_id)
            for link in links:
                if post.only_channel is not None and link.channel_id != post.only_channel:
                    continue
                poster = self.posters.get(link.platform)
                if poster is None:
                    log.warning("no poster for platform %s; channel link %s skipped",
                                link.platform, link.id)
                    continue
                try:
                    await poster.post(link, post.reply)
                except DeliveryError as error:
                    problems.append(error.hint)
        return problems


def with_problems(reply: Reply, problems: list[str]) -> Reply:
    """The reply with what went wrong delivering its channel posts added, if anything did."""
    if problems:
        reply.sections.append(Section(lines=problems))
        if reply.tone is Tone.SUCCESS:
            reply.tone = Tone.WARNING
    return reply
