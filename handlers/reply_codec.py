"""Channel posts as JSON, so a post the platform could not take now (its pace used up, or it
asked us to slow down) waits in the outbox and goes out later exactly as it was meant to."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.buttons import StaleButton, unpack
from handlers.replies import (
    Attachment,
    Button,
    ChannelPost,
    Fact,
    Link,
    Person,
    Reply,
    Section,
    Tone,
    Visibility,
)

log = logging.getLogger(__name__)


def _person(person: Person) -> dict[str, Any]:
    return {"name": person.name, "user_id": person.user_id, "platform": person.platform}


def _section(section: Section) -> dict[str, Any]:
    return {
        "heading": section.heading,
        "lines": list(section.lines),
        "facts": [{"label": f.label, "value": f.value, "people": [_person(p) for p in f.people]}
                  for f in section.facts],
        "buttons": [{"label": b.label, "data": b.data.pack(), "style": b.style}
                    for b in section.buttons],
        "links": [{"label": link.label, "url": link.url} for link in section.links],
        "more_link": section.more_link,
    }


def reply_to_json(reply: Reply) -> dict[str, Any]:
    return {"title": reply.title, "tone": reply.tone.value,
            "visibility": reply.visibility.value,
            "sections": [_section(s) for s in reply.sections]}


def reply_from_json(data: dict[str, Any]) -> Reply:
    return Reply(
        title=str(data["title"]), tone=Tone(data.get("tone", Tone.INFO.value)),
        visibility=Visibility(data.get("visibility", Visibility.PUBLIC.value)),
        sections=[Section(
            heading=s.get("heading"), lines=[str(line) for line in s.get("lines", [])],
            facts=[Fact(f["label"], f.get("value", ""), tuple(
                Person(p.get("name"), p.get("user_id"), p.get("platform"))
                for p in f.get("people", []))) for f in s.get("facts", [])],
            buttons=[Button(b["label"], unpack(b["data"]), b.get("style"))
                     for b in s.get("buttons", [])],
            links=[Link(link["label"], link["url"]) for link in s.get("links", [])],
            more_link=s.get("more_link"),
        ) for s in data.get("sections", [])],
    )


def post_to_json(post: ChannelPost) -> dict[str, Any]:
    attachment = post.attachment
    return {
        "partnership_id": post.partnership_id,
        "reply": reply_to_json(post.reply),
        "only_channel": post.only_channel,
        "remember_as": post.remember_as,
        "edit_of": post.edit_of,
        "withdraw_of": post.withdraw_of,
        "attachment": None if attachment is None else {
            "filename": attachment.filename, "title": attachment.title,
            "mimetype": attachment.mimetype,
            "content": base64.b64encode(attachment.content).decode("ascii")},
    }


def post_from_json(data: dict[str, Any]) -> ChannelPost:
    attachment = data.get("attachment")
    return ChannelPost(
        partnership_id=int(data["partnership_id"]),
        reply=reply_from_json(data["reply"]),
        only_channel=data.get("only_channel"),
        remember_as=data.get("remember_as"),
        edit_of=data.get("edit_of"),
        withdraw_of=data.get("withdraw_of"),
        attachment=None if not attachment else Attachment(
            filename=attachment["filename"], title=attachment["title"],
            mimetype=attachment["mimetype"],
            content=base64.b64decode(attachment["content"])),
    )


# The outbox kind of a post held back from a chat request (bot/delivery.py queues it).
QUEUED_POST_KIND = "channel_post"


async def render_queued(payload: dict[str, Any], due_at: datetime, now: datetime,
                        session: AsyncSession) -> ChannelPost | None:
    """The post as it was queued (None if its payload cannot be read: dropped, and logged)."""
    try:
        return post_from_json(payload["post"])
    except (KeyError, TypeError, ValueError, StaleButton):
        log.warning("a queued channel post could not be read; dropped")
        return None
