"""Buttons that lead out of chat: to the web pages ("Open in browser") and to files ("Add to
calendar", "See the chart"). Pressing one gives the presser a private link of their own
(handlers/web.py makes it); a link button opens an address directly.

Kept apart from handlers/web.py so that any command's reply can carry these buttons without
importing what makes the links."""

from __future__ import annotations

from handlers.replies import Button

OPEN_ACTION = "web.open"  # value: a partnership id, or "" for all of the presser's
FILE_ACTION = "web.file"  # value: "invite:<meeting id>" or "chart:<partnership id>"
# Link buttons' action id: Slack still reports a press of one, which needs no answer.
LINK_ACTION = "web.link"
INVITE = "invite"
CHART = "chart"


def open_in_browser(partnership_id: int | None = None) -> Button:
    return Button("Open in browser", OPEN_ACTION, str(partnership_id or ""))


def add_to_calendar(meeting_id: int, label: str = "Add to calendar") -> Button:
    return Button(label, FILE_ACTION, f"{INVITE}:{meeting_id}")


def see_the_chart(partnership_id: int) -> Button:
    return Button("See the chart", FILE_ACTION, f"{CHART}:{partnership_id}")


def link(label: str, url: str) -> Button:
    return Button(label, LINK_ACTION, "", url=url)
