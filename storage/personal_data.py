"""Everything the bot holds about one person, to export or to erase.

A person is one chat identity: a platform user id in one workspace. Each table that names people
has an exporter and an eraser here, side by side, so a new table is added to both at once
(tests/test_privacy.py checks every table with a person-like column is listed in COVERED).
Erasing keeps records and their counts but removes the person from them: names become ERASED
and user ids are dropped, so a walk still counts in the partnership's figures but no longer says
who."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import learning
from storage.models import (
    AccessRole,
    Action,
    AgendaItem,
    ChangeAction,
    ChannelLink,
    CpdAttendee,
    CpdSession,
    DigestSettings,
    FileLink,
    LearningWalk,
    Meeting,
    MeetingMinutes,
    MeetingSettings,
    Member,
    NudgeSetting,
    Partnership,
    PersonalChat,
    RecordChange,
    Rsvp,
    School,
    WalkWalker,
    WebLink,
    WebSession,
)

ERASED = "(name removed)"


@dataclass(frozen=True)
class Person:
    workspace: str
    platform: str
    user_id: str


@dataclass(frozen=True)
class Record:
    """One row of the export: what kind of record, and its fields as text."""

    kind: str
    fields: dict[str, str]


Exporter = Callable[[AsyncSession, Person], Awaitable[list[Record]]]
Eraser = Callable[[AsyncSession, Person], Awaitable[int]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _in_workspace(person: Person) -> Any:
    return select(Partnership.id).where(Partnership.workspace == person.workspace)


# --- memberships ----------------------------------------------------------------------------

async def export_memberships(session: AsyncSession, person: Person) -> list[Record]:
    rows = await session.exec(
        select(Member, Partnership, School)
        .join(Partnership, col(Partnership.id) == Member.partnership_id)
        .outerjoin(School, col(School.id) == Member.school_id)
        .where(Partnership.workspace == person.workspace, Member.platform == person.platform,
               Member.user_id == person.user_id))
    return [Record("membership", {
        "partnership": p.name, "school": s.name if s else "", "name": m.display_name,
        "job title": _text(m.job_title), "role": m.access_role, "joined": _text(m.joined_at),
    }) for m, p, s in rows.all()]


async def erase_memberships(session: AsyncSession, person: Person) -> int:
    """Leave every partnership. A partnership left without a lead gets its longest-standing
    member as lead, so it can still be run."""
    mine = (await session.exec(select(Member).where(
        Member.platform == person.platform, Member.user_id == person.user_id,
        col(Member.partnership_id).in_(_in_workspace(person))))).all()
    for member in mine:
        await session.delete(member)
    await session.flush()
    for member in mine:
        if member.access_role != AccessRole.LEAD:
            continue
        others = (await session.exec(select(Member).where(
            Member.partnership_id == member.partnership_id).order_by(
            col(Member.joined_at)))).all()
        if others and not any(o.access_role == AccessRole.LEAD for o in others):
            others[0].access_role = AccessRole.LEAD.value
            session.add(others[0])
    return len(mine)


# --- partnerships created, channels linked ------------------------------------------------

async def export_created(session: AsyncSession, person: Person) -> list[Record]:
    created = await session.exec(select(Partnership).where(
        Partnership.workspace == person.workspace, Partnership.created_by == person.user_id))
    linked = await session.exec(select(ChannelLink, Partnership).join(
        Partnership, col(Partnership.id) == ChannelLink.partnership_id).where(
        Partnership.workspace == person.workspace, ChannelLink.platform == person.platform,
        ChannelLink.linked_by == person.user_id))
    return [Record("partnership created", {"partnership": p.name, "when": _text(p.created_at)})
            for p in created.all()] + [
        Record("channel linked", {"partnership": p.name,
                                  "channel": link.channel_name or link.channel_id,
                                  "when": _text(link.linked_at)})
        for link, p in linked.all()]


async def erase_created(session: AsyncSession, person: Person) -> int:
    first = await session.exec(update(Partnership).where(
        col(Partnership.workspace) == person.workspace,
        col(Partnership.created_by) == person.user_id).values(created_by=None))
    second = await session.exec(update(ChannelLink).where(
        col(ChannelLink.partnership_id).in_(_in_workspace(person)),
        col(ChannelLink.platform) == person.platform,
        col(ChannelLink.linked_by) == person.user_id).values(linked_by=None))
    return int(first.rowcount) + int(second.rowcount)


# --- learning walks --------------------------------------------------------------------------

def _walks_naming(person: Person) -> ColumnElement[bool]:
    walked = select(WalkWalker.walk_id).where(WalkWalker.user_id == person.user_id)
    return or_(
        col(LearningWalk.id).in_(walked),
        (col(LearningWalk.platform) == person.platform)
        & (col(LearningWalk.logged_by_user_id) == person.user_id),
    )


async def export_walks(session: AsyncSession, person: Person) -> list[Record]:
    rows = await session.exec(
        select(LearningWalk, Partnership)
        .join(Partnership, col(Partnership.id) == LearningWalk.partnership_id)
        .where(Partnership.workspace == person.workspace, _walks_naming(person))
        .order_by(col(LearningWalk.walked_on)))
    records = []
    for walk, partnership in rows.all():
        roles = []
        if walk.logged_by_user_id == person.user_id and walk.platform == person.platform:
            roles.append("logged it")
        walkers = (await session.exec(select(WalkWalker.user_id).where(
            WalkWalker.walk_id == walk.id))).all()
        if person.user_id in walkers:
            roles.append("walker")
        records.append(Record("learning walk", {
            "partnership": partnership.name, "walk": str(walk.id), "date": _text(walk.walked_on),
            "focus": walk.focus, "your part": ", ".join(roles),
            "next steps": _text(walk.next_steps),
        }))
    return records


# --- actions -----------------------------------------------------------------------------------

def _actions_naming(person: Person) -> ColumnElement[bool]:
    return (col(Action.partnership_id).in_(_in_workspace(person))
            & (col(Action.platform) == person.platform)
            & ((col(Action.owner_user_id) == person.user_id)
               | (col(Action.created_by_user_id) == person.user_id)
               | (col(Action.closed_by_user_id) == person.user_id)))


async def export_actions(session: AsyncSession, person: Person) -> list[Record]:
    rows = await session.exec(
        select(Action, Partnership).join(Partnership, col(Partnership.id) == Action.partnership_id)
        .where(_actions_naming(person)).order_by(col(Action.id)))
    records = []
    for action, partnership in rows.all():
        roles = [role for role, user in (("owner", action.owner_user_id),
                                         ("raised it", action.created_by_user_id),
                                         ("closed it", action.closed_by_user_id))
                 if user == person.user_id]
        records.append(Record("action", {
            "partnership": partnership.name, "action": str(action.id),
            "what": action.description, "your part": ", ".join(roles),
            "due": _text(action.due_on), "status": action.status,
        }))
    return records


async def open_actions_left_without_owner(session: AsyncSession,
                                          person: Person) -> list[tuple[int, int, str]]:
    """(partnership id, action id, words) of the open actions this person owns: what their
    erasure leaves without an owner, so the partnerships' leads can be told."""
    rows = await session.exec(select(Action.partnership_id, Action.id, Action.description).where(
        col(Action.partnership_id).in_(_in_workspace(person)),
        col(Action.platform) == person.platform, col(Action.owner_user_id) == person.user_id,
        col(Action.status) == "open").order_by(col(Action.id)))
    return [(int(p), int(a or 0), str(d)) for p, a, d in rows.all()]


async def erase_actions(session: AsyncSession, person: Person) -> int:
    here = (col(Action.partnership_id).in_(_in_workspace(person))
            & (col(Action.platform) == person.platform))
    changed = 0
    for user_column, values in (
            (Action.owner_user_id, {"owner_user_id": None, "owner_name": ERASED}),
            (Action.created_by_user_id, {"created_by_user_id": "", "created_by_name": ERASED}),
            (Action.closed_by_user_id, {"closed_by_user_id": None, "closed_by_name": ERASED})):
        result = await session.exec(update(Action).where(
            here, col(user_column) == person.user_id).values(**values))
        changed += int(result.rowcount)
    result = await session.exec(delete(NudgeSetting).where(
        col(NudgeSetting.workspace) == person.workspace,
        col(NudgeSetting.platform) == person.platform,
        col(NudgeSetting.user_id) == person.user_id))
    return changed + int(result.rowcount)


async def _display_names(session: AsyncSession, person: Person) -> list[str]:
    rows = await session.exec(select(Member.display_name).where(
        Member.platform == person.platform, Member.user_id == person.user_id,
        col(Member.partnership_id).in_(_in_workspace(person))))
    return list(rows.all())


async def erase_walks(session: AsyncSession, person: Person) -> int:
    in_workspace = col(LearningWalk.partnership_id).in_(_in_workspace(person))
    walks = select(LearningWalk.id).where(in_workspace)
    changed = 0
    # "Done by" keeps a name only: the person's names as a member here.
    result = await session.exec(update(WalkWalker).where(
        col(WalkWalker.user_id) == person.user_id, col(WalkWalker.walk_id).in_(walks))
        .values(user_id=None, name=ERASED))
    changed += int(result.rowcount)
    result = await session.exec(update(LearningWalk).where(
        in_workspace, col(LearningWalk.platform) == person.platform,
        col(LearningWalk.logged_by_user_id) == person.user_id)
        .values(logged_by_user_id="", logged_by_name=ERASED))
    changed += int(result.rowcount)
    return changed


# --- CPD sessions ------------------------------------------------------------------------------

def _attended_by(person: Person) -> Any:
    """The sessions that name the person among the people who came."""
    return select(CpdAttendee.session_id).where(CpdAttendee.user_id == person.user_id)


async def export_cpd(session: AsyncSession, person: Person) -> list[Record]:
    """Sessions the person logged or is named as attending, with the attendance as it was
    given (a head count, the schools, the number of people named)."""
    logged = (col(CpdSession.platform) == person.platform) \
        & (col(CpdSession.logged_by_user_id) == person.user_id)
    attended = (col(CpdSession.platform) == person.platform) \
        & col(CpdSession.id).in_(_attended_by(person))
    rows = (await session.exec(
        select(CpdSession, Partnership)
        .join(Partnership, col(Partnership.id) == CpdSession.partnership_id)
        .where(Partnership.workspace == person.workspace, or_(logged, attended))
        .order_by(col(CpdSession.held_on)))).all()
    ids = [s.id for s, _ in rows if s.id is not None]
    schools = await learning.attending_schools(session, ids)
    people = await learning.attendees_of(session, ids)
    records = []
    for cpd, partnership in rows:
        assert cpd.id is not None
        came = people.get(cpd.id, [])
        part = [*(["logged it"] if cpd.logged_by_user_id == person.user_id else []),
                *(["attended"] if any(p.user_id == person.user_id for p in came) else [])]
        kind = "CPD session logged" if part[:1] == ["logged it"] else "CPD session attended"
        records.append(Record(kind, {
            "partnership": partnership.name, "session": str(cpd.id), "title": cpd.title,
            "date": _text(cpd.held_on), "facilitator": _text(cpd.facilitator),
            "your part": ", ".join(part),
            "attendance": attendance_as_given(cpd.attendee_count,
                                              [s.name for s in schools.get(cpd.id, [])],
                                              len(came)),
        }))
    return records


def attendance_as_given(count: int | None, schools: list[str], people: int) -> str:
    """"14 attendees (schools not recorded)", "Monkfrith, Danegrove; 14 attendees",
    "3 people named (schools not recorded)", "not recorded"."""
    parts = []
    if schools:
        parts.append(", ".join(schools))
    if count is not None:
        parts.append(f"{count:,} attendee{'s' if count != 1 else ''}")
    if people:
        parts.append(f"{people:,} {'person' if people == 1 else 'people'} named")
    if not parts:
        return "not recorded"
    return "; ".join(parts) + ("" if schools else " (schools not recorded)")


async def erase_cpd(session: AsyncSession, person: Person) -> int:
    """The person's name comes off the sessions they logged and the ones naming them as
    attending; the sessions, and how many came, stay."""
    here = col(CpdSession.partnership_id).in_(_in_workspace(person))
    result = await session.exec(update(CpdSession).where(
        here, col(CpdSession.platform) == person.platform,
        col(CpdSession.logged_by_user_id) == person.user_id)
        .values(logged_by_user_id="", logged_by_name=ERASED))
    sessions_here = select(CpdSession.id).where(here, CpdSession.platform == person.platform)
    named = await session.exec(update(CpdAttendee).where(
        col(CpdAttendee.user_id) == person.user_id,
        col(CpdAttendee.session_id).in_(sessions_here))
        .values(user_id=None, name=ERASED))
    return int(result.rowcount) + int(named.rowcount)


# --- meetings ----------------------------------------------------------------------------------

def _meetings_here(person: Person) -> Any:
    return select(Meeting.id).where(col(Meeting.partnership_id).in_(_in_workspace(person)))


async def export_meetings(session: AsyncSession, person: Person) -> list[Record]:
    replies = await session.exec(
        select(Rsvp, Meeting).join(Meeting, col(Meeting.id) == Rsvp.meeting_id).where(
            col(Rsvp.meeting_id).in_(_meetings_here(person)), Rsvp.platform == person.platform,
            Rsvp.user_id == person.user_id).order_by(col(Meeting.starts_at)))
    made = await session.exec(select(Meeting).where(
        col(Meeting.id).in_(_meetings_here(person)), Meeting.created_by == person.user_id))
    items = await session.exec(select(AgendaItem, Meeting).join(
        Meeting, col(Meeting.id) == AgendaItem.meeting_id).where(
        col(AgendaItem.meeting_id).in_(_meetings_here(person)),
        AgendaItem.added_by == person.user_id))
    written = await session.exec(select(MeetingMinutes, Meeting).join(
        Meeting, col(Meeting.id) == MeetingMinutes.meeting_id).where(
        col(MeetingMinutes.meeting_id).in_(_meetings_here(person)),
        MeetingMinutes.platform == person.platform,
        or_(col(MeetingMinutes.written_by) == person.user_id,
            col(MeetingMinutes.approved_by) == person.user_id)))
    minutes = [Record("meeting minutes", {
        "meeting": m.title, "version": str(n.version), "status": n.status,
        "wrote": "yes" if n.written_by == person.user_id else "no",
        "approved": _text(n.approved_at) if n.approved_by == person.user_id else ""})
        for n, m in written.all()]
    return minutes + ([Record("meeting reply", {"meeting": m.title, "starts": _text(m.starts_at),
                                      "answer": r.answer, "reason": r.reason or "",
                                      "when": _text(r.answered_at)})
             for r, m in replies.all()]
            + [Record("meeting scheduled", {"meeting": m.title, "starts": _text(m.starts_at)})
               for m in made.all()]
            + [Record("agenda item added", {"meeting": m.title, "item": a.text})
               for a, m in items.all()])


async def erase_meetings(session: AsyncSession, person: Person) -> int:
    """Replies stay counted but lose who gave them; each keeps a unique stand-in id."""
    here = col(Rsvp.meeting_id).in_(_meetings_here(person))
    replies = (await session.exec(select(Rsvp).where(
        here, Rsvp.platform == person.platform, Rsvp.user_id == person.user_id))).all()
    for reply in replies:
        reply.user_id = f"erased:{reply.id}"
        reply.display_name = ERASED
        reply.reason = None  # an apology's reason may say something about the person
        session.add(reply)
    changed = len(replies)
    for table, column in ((Meeting, Meeting.created_by), (AgendaItem, AgendaItem.added_by)):
        scope = (col(Meeting.id).in_(_meetings_here(person)) if table is Meeting
                 else col(AgendaItem.meeting_id).in_(_meetings_here(person)))
        result = await session.exec(update(table).where(
            scope, col(column) == person.user_id).values({column: ""}))
        changed += int(result.rowcount)
    # Minutes stay (the partnership's record) without saying who wrote or approved them.
    here_minutes = (col(MeetingMinutes.meeting_id).in_(_meetings_here(person)),
                    col(MeetingMinutes.platform) == person.platform)
    for who, name in ((MeetingMinutes.written_by, "written_by_name"),
                      (MeetingMinutes.approved_by, "approved_by_name")):
        result = await session.exec(update(MeetingMinutes).where(
            *here_minutes, col(who) == person.user_id).values({who: "", name: ERASED}))
        changed += int(result.rowcount)
    for settings in (MeetingSettings, DigestSettings):
        result = await session.exec(update(settings).where(
            col(settings.partnership_id).in_(_in_workspace(person)),
            col(settings.updated_by) == person.user_id).values(updated_by=None))
        changed += int(result.rowcount)
    return changed


# --- the audit trail of edits ----------------------------------------------------------------

def _my_changes(person: Person) -> Any:
    return (col(RecordChange.partnership_id).in_(_in_workspace(person)),
            RecordChange.platform == person.platform, RecordChange.by_user_id == person.user_id)


async def export_changes(session: AsyncSession, person: Person) -> list[Record]:
    rows = await session.exec(select(RecordChange).where(*_my_changes(person))
                              .order_by(col(RecordChange.id)))
    return [Record("record change", {
        "record": f"{c.record_kind} #{c.record_id}", "action": c.action,
        "fields": ", ".join(json.loads(c.changes)) if c.action == ChangeAction.EDITED else "",
        "when": _text(c.changed_at)}) for c in rows.all()]


async def erase_changes(session: AsyncSession, person: Person) -> int:
    """The changes stay in the trail, no longer saying who made them."""
    result = await session.exec(update(RecordChange).where(*_my_changes(person))
                                .values(by_user_id="", by_name=ERASED))
    return int(result.rowcount)


# --- the web pages' links, sessions and files ---------------------------------------------

_WEB_TABLES: tuple[type[WebLink] | type[WebSession] | type[FileLink], ...] = (
    WebLink, WebSession, FileLink)


def _theirs(table: type[WebLink] | type[WebSession] | type[FileLink],
            person: Person) -> list[ColumnElement[bool]]:
    return [col(table.workspace) == person.workspace, col(table.platform) == person.platform,
            col(table.user_id) == person.user_id]


async def export_web(session: AsyncSession, person: Person) -> list[Record]:
    """Sign-in links, browser sessions and files made for the person (never their tokens)."""
    links = await session.exec(select(WebLink).where(*_theirs(WebLink, person)))
    sessions = await session.exec(select(WebSession).where(*_theirs(WebSession, person)))
    files = await session.exec(select(FileLink).where(*_theirs(FileLink, person)))
    return ([Record("web sign-in link", {"made": _text(r.created_at),
                                         "expires": _text(r.expires_at),
                                         "used": _text(r.used_at)}) for r in links.all()]
            + [Record("web session", {"signed in": _text(r.created_at),
                                      "expires": _text(r.expires_at)}) for r in sessions.all()]
            + [Record("file link", {"file": r.filename, "made": _text(r.created_at),
                                    "expires": _text(r.expires_at)}) for r in files.all()])


async def erase_web(session: AsyncSession, person: Person) -> int:
    """Every link and file is deleted, and every browser signed in as the person signed out."""
    removed = 0
    for table in _WEB_TABLES:
        result = await session.exec(delete(table).where(
            *_theirs(table, person)))
        removed += int(result.rowcount)
    return removed


# --- the personal chat private messages go to ---------------------------------------------

def _my_chat(person: Person) -> list[ColumnElement[bool]]:
    return [col(PersonalChat.workspace) == person.workspace,
            col(PersonalChat.platform) == person.platform,
            col(PersonalChat.user_id) == person.user_id]


async def export_personal_chat(session: AsyncSession, person: Person) -> list[Record]:
    """The address of their personal chat with the bot (Teams), not the address itself."""
    rows = await session.exec(select(PersonalChat).where(*_my_chat(person)))
    return [Record("personal chat with the bot", {
        "kept for": "private reminders about your actions",
        "last updated": _text(r.updated_at)}) for r in rows.all()]


async def erase_personal_chat(session: AsyncSession, person: Person) -> int:
    """Deleted: nothing private can be sent to them until they write to the bot again."""
    result = await session.exec(delete(PersonalChat).where(*_my_chat(person)))
    return int(result.rowcount)


# (exporter, eraser) for every table that names people; erasers run in this order (memberships
# last: the others look up the person's names there).
SOURCES: list[tuple[Exporter, Eraser]] = [
    (export_walks, erase_walks),
    (export_actions, erase_actions),
    (export_cpd, erase_cpd),
    (export_meetings, erase_meetings),
    (export_created, erase_created),
    (export_changes, erase_changes),
    (export_web, erase_web),
    (export_personal_chat, erase_personal_chat),
    (export_memberships, erase_memberships),
]


async def export(session: AsyncSession, person: Person) -> list[Record]:
    records: list[Record] = []
    for exporter, _ in SOURCES:
        records.extend(await exporter(session, person))
    return records


async def erase(session: AsyncSession, person: Person) -> int:
    """Erase the person from every source, in one transaction; returns rows changed."""
    total = 0
    for _, eraser in SOURCES:
        total += await eraser(session, person)
    return total



# Tables with columns that name or identify people, all handled above.
COVERED = {"partnership", "member", "channel_link", "learning_walk", "walk_walker",
           "cpd_session", "cpd_attendee", "meeting", "agenda_item", "rsvp", "meeting_settings",
           "meeting_minutes", "digest_settings", "record_change", "web_link", "web_session",
           "file_link", "partnership_action", "nudge_setting", "personal_chat"}
