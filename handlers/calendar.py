"""Calendar invites (RFC 5545 .ics) for meetings, built with the `icalendar` library.

Every version of a meeting's invite has the same UID; a move raises SEQUENCE, so calendars that
imported the first version update it in place, and a cancellation is METHOD:CANCEL with
STATUS:CANCELLED. Times are written in the meeting's own zone with its VTIMEZONE, so an invite
for 11.30am in London stays 11.30am London time across the clocks changing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from handlers.replies import Attachment
from storage.models import AgendaItem, Meeting, MeetingStatus

PRODID = "-//Partnership Bot//Meetings//EN"


def meeting_calendar(meeting: Meeting, partnership_name: str, agenda: Sequence[AgendaItem],
                     now: datetime) -> Calendar:
    tz = ZoneInfo(meeting.timezone)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # PUBLISH: a file people add to their own calendar; CANCEL takes it out again.
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at.astimezone(tz))
    event.add("dtend", meeting.ends_at.astimezone(tz))
    event.add("summary", meeting.title)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if meeting.location:
        event.add("location", meeting.location)
        if meeting.location.startswith(("https://", "http://")):
            event.add("url", meeting.location)
    event.add("description", _description(partnership_name, agenda, meeting))
    # The zone's rules (Europe/London: GMT and BST) for a year either side of the meeting,
    # rather than every change since 1970.
    year = meeting.starts_at.year
    calendar.add_component(Timezone.from_tzid(meeting.timezone, first_date=date(year - 1, 1, 1),
                                              last_date=date(year + 2, 1, 1)))
    calendar.add_component(event)
    return calendar


def _description(partnership_name: str, agenda: Sequence[AgendaItem], meeting: Meeting) -> str:
    lines = [f"A meeting of {partnership_name}."]
    if meeting.status == MeetingStatus.CANCELLED and meeting.cancel_reason:
        lines.append(f"Cancelled: {meeting.cancel_reason}")
    if agenda:
        lines.append("")
        lines.append("Agenda:")
        lines.extend(f"{n}. {item.text}" for n, item in enumerate(agenda, start=1))
    return "\n".join(lines)


def invite(meeting: Meeting, partnership_name: str, agenda: Sequence[AgendaItem],
           now: datetime) -> Attachment:
    """The invite as a file to share in the channel."""
    calendar = meeting_calendar(meeting, partnership_name, agenda, now)
    local = meeting.starts_at.astimezone(ZoneInfo(meeting.timezone))
    cancelled = meeting.status == MeetingStatus.CANCELLED
    stem = f"meeting-{meeting.id}-{local:%Y-%m-%d}" + ("-cancelled" if cancelled else "")
    title = ("Cancellation for your calendar: " if cancelled else "Add to your calendar: ") \
        + meeting.title
    return Attachment(filename=f"{stem}.ics", content=calendar.to_ical(), title=title)
