"""`/meeting minutes`: a meeting's minutes, written in a form prefilled from its replies and
agenda, saved as a draft by its writer, shared with the members, and approved by a lead at the
next meeting; an approved version is read-only, and a change makes the next version."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.buttons import ButtonData
from handlers.commands import Access, button, form
from handlers.context import Caller
from handlers.dates import format_date
from handlers.errors import CommandError
from handlers.forms import FieldErrors, FieldKind, Form, FormField, FormValues
from handlers.lookup import require_lead, require_member
from handlers.meetings import (
    STANDING,
    Replies,
    approval_day,
    find_meeting,
    matters_arising,
    meeting,
    require_member_to_see,
    when_of,
)
from handlers.parsing import FieldProblem, ParseError, parse_fields, row_number
from handlers.replies import Button, ChannelPost, Fact, Outcome, Reply, Section, Visibility
from storage import queries
from storage.models import (
    AccessRole,
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    MinutesStatus,
    Partnership,
    RsvpAnswer,
)

MINUTES_FORM = "meeting.minutes"
MAX_PEOPLE, MAX_NOTES, MAX_DECISIONS = 2000, 2000, 1000
# Standing items kept in the minutes (apologies have their own box), then the agenda's.
MINUTES_STANDING = STANDING[1:]
MAX_MINUTES_ITEMS = len(MINUTES_STANDING) + 30
ACTIONS = ("approve", "show")


@dataclass(frozen=True)
class MinutesRequest:
    meeting_id: int
    action: str  # "form", "save", "approve" or "show"
    fields: dict[str, str] = field(default_factory=dict)
    item: int | None = None  # the form for this one item only


@dataclass(frozen=True)
class ReadMinutes(ButtonData, kind="meeting.minutes"):
    """"Read the minutes" on the channel's note that a draft is ready or approved."""

    meeting_id: int


def _item_keys(number: int) -> tuple[str, str]:
    return f"item {number} notes", f"item {number} decisions"


FIELD_NAMES = ("attendees", "apologies",
               *(key for n in range(1, MAX_MINUTES_ITEMS + 1) for key in _item_keys(n)))


def parse_minutes(rest: str, caller: Caller) -> MinutesRequest:
    parsed = parse_fields(rest, FIELD_NAMES)
    number_text, _, action = parsed.positional.partition(" ")
    number = row_number(number_text)
    if number is None:
        raise ParseError("Which meeting's minutes? Give its number.",
                         f"For example {caller.cmd('meeting minutes 12')}; "
                         f"{caller.cmd('meeting list')} shows the numbers.")
    action = action.strip().lower()
    one_item = re.fullmatch(r"item\s+#?([0-9]{1,3})", action)
    if one_item and not parsed.fields:
        return MinutesRequest(number, "form", item=int(one_item[1]))
    if action and action not in ACTIONS:
        raise ParseError(f"I don't know “{action}” for minutes.",
                         f"{caller.cmd(f'meeting minutes {number}')} writes them, "
                         f"{caller.cmd(f'meeting minutes {number} show')} reads them and "
                         f"{caller.cmd(f'meeting minutes {number} approve')} approves them "
                         "(leads, at the next meeting).")
    if parsed.fields and action:
        example = caller.cmd(f"meeting minutes {number} item 3 notes: …")
        raise ParseError(f"`{action}` takes no fields.", f"To change the minutes, {example}.")
    if parsed.fields:
        return MinutesRequest(number, "save", {k: v.strip() for k, v in parsed.fields.items()})
    return MinutesRequest(number, action or "form")


# --- the minutes' content -------------------------------------------------------------------


@dataclass
class Content:
    attendees: str
    apologies: str
    items: list[dict[str, str]]  # title, notes, decisions

    @classmethod
    def of(cls, minutes: MeetingMinutes) -> Content:
        items = json.loads(minutes.items)
        return cls(minutes.attendees, minutes.apologies,
                   [{"title": str(i.get("title", "")), "notes": str(i.get("notes", "")),
                     "decisions": str(i.get("decisions", ""))} for i in items])

    def items_json(self) -> str:
        return json.dumps(self.items, ensure_ascii=False)


async def prefilled(session: AsyncSession, meeting: Meeting) -> Content:
    """What a first draft starts from: who said they were going, the apologies (with their
    reasons), the standing items and the agenda's items, with empty notes."""
    assert meeting.id is not None
    replies = Replies.of(await queries.replies_to(session, meeting))
    items = [*MINUTES_STANDING, *(i.text for i in await queries.agenda_of(session, meeting.id))]
    content = Content("\n".join(replies.by_answer.get(RsvpAnswer.GOING.value, [])),
                      "\n".join(replies.apology_lines()),
                      [{"title": t, "notes": "", "decisions": ""} for t in items])
    arising = await matters_arising(session, meeting.partnership_id)
    if arising:  # carried in from the partnership's open follow-ups
        content.items[1]["notes"] = "\n".join(arising)[:MAX_NOTES]
    return content


def _changed(content: Content, values: dict[str, str], caller: Caller, meeting_id: int,
             every_field: bool) -> Content:
    """`content` with `values` put in (a form gives every field; typed text only some),
    checked; FieldProblem for the first thing wrong."""
    result = Content(content.attendees, content.apologies, [dict(i) for i in content.items])
    for key, raw in values.items():
        value = "\n".join(line.strip() for line in raw.strip().splitlines()).strip()
        if key in ("attendees", "apologies"):
            _check(key, value, MAX_PEOPLE)
            setattr(result, key, value)
            continue
        words = key.split()
        if len(words) != 3 or not words[1].isdigit():
            if every_field:
                continue
            raise FieldProblem(key, f"I don't know the field `{key}:` in minutes.")
        number, part = int(words[1]), words[2]
        if not 1 <= number <= len(result.items):
            example = caller.cmd(f"meeting minutes {meeting_id}")
            raise FieldProblem(key, f"These minutes have {len(result.items)} items, so there "
                               f"is no item {number}.", f"{example} lists them.")
        _check(key, value, MAX_NOTES if part == "notes" else MAX_DECISIONS)
        result.items[number - 1][part] = value
    return result


def _check(key: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise FieldProblem(key, f"`{key}` is {len(value):,} characters long; the most is "
                                f"{limit:,}.", "Please shorten it.")


# --- the form -------------------------------------------------------------------------------


def minutes_form(meeting: Meeting, content: Content, version: MeetingMinutes | None,
                 item: int | None = None) -> Form:
    """The whole minutes as a form, or (`item`) one item's boxes alone: a long draft may not
    fit one Teams card."""
    assert meeting.id is not None
    if version is None:
        intro = "A first draft, filled in from the replies and the agenda."
    elif version.status == MinutesStatus.APPROVED:
        intro = (f"Version {version.version} is approved and stays as it is: saving makes "
                 f"version {version.version + 1}, a draft.")
    else:
        intro = f"The draft (version {version.version}, by {version.written_by_name})."
    fields = [] if item is not None else [
        FormField("attendees", "Present", FieldKind.LONG_TEXT, max_length=MAX_PEOPLE,
                  initial=content.attendees, hint="One name per line."),
        FormField("apologies", "Apologies", FieldKind.LONG_TEXT, max_length=MAX_PEOPLE,
                  initial=content.apologies, hint="One per line, with the reason if given."),
    ]
    for number, entry in enumerate(content.items, start=1):
        if item is not None and number != item:
            continue
        notes, decisions = _item_keys(number)
        title = entry["title"] if len(entry["title"]) <= 120 else entry["title"][:119] + "…"
        fields.append(FormField(notes, f"{number}. {title}: notes", FieldKind.LONG_TEXT,
                                max_length=MAX_NOTES, initial=entry["notes"] or None))
        fields.append(FormField(decisions, f"{number}. Decisions", FieldKind.LONG_TEXT,
                                max_length=MAX_DECISIONS, initial=entry["decisions"] or None))
    return Form(form_id=MINUTES_FORM, title="Minutes", submit_label="Save draft",
                intro=f"{meeting.title}, {when_of(meeting)}. {intro} Members see the draft; a "
                      "lead approves it at the next meeting.",
                fields=fields,
                context=str(meeting.id) if item is None else f"{meeting.id}:{item}")


@meeting.subcommand(
    "minutes", usage="minutes <n> [approve|show|item <k>]", access=Access.MEMBER,
    parse=parse_minutes, group="Minutes",
    help=[("meeting minutes 12", "write the minutes in a form filled in from the replies and "
                                 "the agenda; saved as a draft the members can read"),
          ("meeting minutes 12 item 3 notes: Agreed to share the plan",
           "change one part by typing (`attendees:`, `apologies:`, `item <k> decisions:`)"),
          ("meeting minutes 12 item 3", "the form for one item alone"),
          ("meeting minutes 12 show", "read them, with their versions"),
          ("meeting minutes 12 approve", "approve them at the next meeting (leads); "
                                         "approved minutes are read-only")])
async def minutes(request: MinutesRequest, caller: Caller, session: AsyncSession) -> Outcome:
    found, partnership = await find_meeting(session, caller, request.meeting_id)
    assert found.id is not None
    if request.action == "show":
        await require_member_to_see(session, caller, partnership)
        return Outcome(await minutes_reply(session, found, partnership))
    if request.action == "approve":
        return await approve(session, caller, found, partnership)
    await require_member(session, caller, partnership)
    versions = await queries.minutes_of(session, found.id)
    latest = versions[0] if versions else None
    await _may_write(session, caller, found, partnership, latest)
    content = Content.of(latest) if latest else await prefilled(session, found)
    if request.action == "save":
        changed = _changed(content, request.fields, caller, found.id, every_field=False)
        return await save(session, caller, found, partnership, latest, changed)
    if request.item is not None and not 1 <= request.item <= len(content.items):
        raise CommandError.because(
            f"These minutes have {len(content.items)} items, so there is no item "
            f"{request.item}.", f"{caller.cmd(f'meeting minutes {found.id}')} lists them.")
    example = f"meeting minutes {found.id} item 1 notes: Approved as a true record"
    return Outcome(
        Reply(title=f"Minutes of {found.title}", sections=[Section(lines=[
            f"Type the parts to change, for example {caller.cmd(example)}; "
            f"{caller.cmd(f'meeting minutes {found.id} show')} shows them, and "
            f"{caller.cmd(f'meeting minutes {found.id} item 3')} opens one item's form."])]),
        form=minutes_form(found, content, latest, request.item))


async def _may_write(session: AsyncSession, caller: Caller, meeting: Meeting,
                     partnership: Partnership, latest: MeetingMinutes | None) -> None:
    """Minutes are written once the meeting has started, never for a cancelled one; a draft
    is its writer's to change (or a lead's)."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise CommandError.because(f"{meeting.title} was cancelled, so it has no minutes.")
    if caller.now < meeting.starts_at:
        raise CommandError.because(
            f"{meeting.title} has not taken place yet ({when_of(meeting)}), so there is nothing "
            "to minute.", "Minutes are written at the meeting or after it.")
    if latest is not None and latest.status == MinutesStatus.DRAFT and (
            (latest.platform, latest.written_by) != (caller.platform, caller.user_id)):
        member = await require_member(session, caller, partnership)
        if member.access_role != AccessRole.LEAD:
            raise CommandError.because(
                f"The draft minutes of {meeting.title} are {latest.written_by_name}'s to change.",
                f"Ask {latest.written_by_name} or a lead; "
                f"{caller.cmd(f'meeting minutes {meeting.id} show')} shows them.")


async def save(session: AsyncSession, caller: Caller, meeting: Meeting,
               partnership: Partnership, latest: MeetingMinutes | None,
               content: Content) -> Outcome:
    """Save the draft: in place while it is one; after approval, as the next version."""
    assert meeting.id is not None and partnership.id is not None
    new_version = latest is None or latest.status == MinutesStatus.APPROVED
    if new_version:
        row = MeetingMinutes(meeting_id=meeting.id, version=(latest.version + 1) if latest else 1,
                             platform=caller.platform, written_by=caller.user_id,
                             written_by_name=caller.user_name, written_at=caller.now)
    else:
        assert latest is not None
        row = latest
        row.written_at = caller.now
    row.attendees, row.apologies = content.attendees, content.apologies
    row.items = content.items_json()
    session.add(row)
    await session.flush()
    lines = [f"Members can read them with {caller.cmd(f'meeting minutes {meeting.id} show')}; "
             "a lead approves them at the next meeting."]
    posts = []
    if new_version:
        posts.append(ChannelPost(partnership.id, _channel_note(
            meeting, f"Draft minutes of {meeting.title} ({_date_of(meeting)}) are ready",
            f"Version {row.version}, written by {row.written_by_name}. Members can read them "
            "and a lead approves them at the next meeting.")))
    return Outcome(Reply.success(f"Saved the draft minutes of {meeting.title} "
                                 f"(version {row.version}).", *lines), channel_posts=posts)


def _channel_note(meeting: Meeting, title: str, line: str) -> Reply:
    """The channel hears that minutes exist, never what they say (they are for members)."""
    assert meeting.id is not None
    return Reply(title=title, sections=[Section(lines=[line], buttons=[
        Button("Read the minutes", ReadMinutes(meeting.id),
               typed=f"meeting minutes {meeting.id} show")])],
        visibility=Visibility.PUBLIC)


def _date_of(meeting: Meeting) -> str:
    return format_date(meeting.starts_at.astimezone(ZoneInfo(meeting.timezone)).date())


async def approve(session: AsyncSession, caller: Caller, meeting: Meeting,
                  partnership: Partnership) -> Outcome:
    """A lead approves the latest version at (or after) the next meeting: who and when are
    kept, and that version becomes read-only."""
    assert meeting.id is not None and partnership.id is not None
    await require_lead(session, caller, partnership, "approve minutes")
    if meeting.status == MeetingStatus.CANCELLED:
        raise CommandError.because(f"{meeting.title} was cancelled, so it has no minutes.")
    if caller.now < meeting.ends_at:
        raise CommandError.because(
            f"{meeting.title} has not been held yet ({when_of(meeting)}), so its minutes can't "
            "be approved.", "Minutes are approved at the next meeting after it.")
    versions = await queries.minutes_of(session, meeting.id)
    if not versions:
        raise CommandError.because(
            f"{meeting.title} has no minutes to approve yet.",
            f"Write them with {caller.cmd(f'meeting minutes {meeting.id}')}.")
    latest = versions[0]
    if latest.status == MinutesStatus.APPROVED:
        assert latest.approved_at is not None
        raise CommandError.because(
            f"The minutes of {meeting.title} (version {latest.version}) were approved already, "
            f"by {latest.approved_by_name} on {approval_day(latest, meeting)}.",
            "Approved minutes stay as they are; a change makes a new version to approve.")
    following = await queries.next_meeting(session, meeting)
    if following is None or caller.now < following.starts_at:
        when = (f"the next one, {following.title} ({when_of(following)})" if following
                else "the next one, once it is scheduled")
        raise CommandError.because(
            f"The minutes of {meeting.title} are approved at the next meeting: {when}.",
            "Approve them then, or after it.")
    latest.status = MinutesStatus.APPROVED
    latest.approved_by, latest.approved_by_name = caller.user_id, caller.user_name
    latest.approved_at = caller.now
    session.add(latest)
    await session.flush()
    note = _channel_note(meeting, f"Minutes of {meeting.title} ({_date_of(meeting)}) approved",
                         f"Version {latest.version}, approved by {caller.user_name} at "
                         f"{following.title} ({_date_of(following)}).")
    return Outcome(Reply.success(
        f"Approved the minutes of {meeting.title} (version {latest.version}).",
        "They are read-only now; a change makes a new version, and this one is kept."),
        channel_posts=[ChannelPost(partnership.id, note)])


async def minutes_reply(session: AsyncSession, meeting: Meeting,
                        partnership: Partnership) -> Reply:
    """The latest version in full, and what became of the earlier ones."""
    assert meeting.id is not None
    versions = await queries.minutes_of(session, meeting.id)
    if not versions:
        return Reply(title=f"{meeting.title} has no minutes yet.", sections=[Section(lines=[
            "Any member may write them, at the meeting or after it."])])
    latest = versions[0]
    content = Content.of(latest)
    status = (f"approved by {latest.approved_by_name} on {approval_day(latest, meeting)}"
              if latest.status == MinutesStatus.APPROVED else "draft, not yet approved")
    sections = [Section(facts=[
        Fact("Meeting", f"{meeting.title}, {when_of(meeting)}"),
        Fact("Partnership", partnership.name),
        Fact("Version", f"{latest.version}: {status}"),
        Fact("Written by", latest.written_by_name)])]
    sections.append(Section(heading="Present", lines=content.attendees.splitlines()
                            or ["No one recorded."]))
    sections.append(Section(heading="Apologies", lines=content.apologies.splitlines()
                            or ["None."]))
    for number, item in enumerate(content.items, start=1):
        lines = [f"Notes: {item['notes']}" if item["notes"] else "Notes: none",
                 *([f"Decisions: {item['decisions']}"] if item["decisions"] else [])]
        sections.append(Section(heading=f"{number}. {item['title']}", lines=lines))
    earlier = [f"Version {v.version}: " + (
        f"approved by {v.approved_by_name} on {approval_day(v, meeting)}"
        if v.status == MinutesStatus.APPROVED else "draft") for v in versions[1:]]
    if earlier:
        sections.append(Section(heading="Earlier versions (kept)", lines=earlier))
    title = "Minutes" if latest.status == MinutesStatus.APPROVED else "Draft minutes"
    return Reply(title=f"{title} of {meeting.title}", sections=sections)


@form(MINUTES_FORM)
async def submit_minutes(values: FormValues, context: str, caller: Caller,
                         session: AsyncSession) -> Outcome:
    meeting_text, _, item_text = context.partition(":")
    number, item = row_number(meeting_text), row_number(item_text) if item_text else None
    if number is None or (item_text and item is None):
        raise CommandError.because("That form is out of date.",
                                   f"Open it again with {caller.cmd('meeting minutes <n>')}.")
    found, partnership = await find_meeting(session, caller, number)
    assert found.id is not None
    await require_member(session, caller, partnership)
    versions = await queries.minutes_of(session, found.id)
    latest = versions[0] if versions else None
    await _may_write(session, caller, found, partnership, latest)
    content = Content.of(latest) if latest else await prefilled(session, found)
    texts = {k: v if isinstance(v, str) else "\n".join(v) for k, v in values.items()}
    # A box left empty in the form means empty: every field of the form is given (of the
    # whole minutes, or of its one item).
    shown = _item_keys(item) if item is not None else (
        "attendees", "apologies",
        *(k for n in range(1, len(content.items) + 1) for k in _item_keys(n)))
    texts = {k: v for k, v in texts.items() if k in shown}
    for key in shown:
        texts.setdefault(key, "")
    try:
        changed = _changed(content, texts, caller, found.id, every_field=True)
    except FieldProblem as problem:
        raise FieldErrors({problem.field: problem.problem.replace("`", "")}) from None
    return await save(session, caller, found, partnership, latest, changed)


@button(ReadMinutes)
async def read_minutes(pressed: ReadMinutes, caller: Caller, session: AsyncSession) -> Outcome:
    found, partnership = await find_meeting(session, caller, pressed.meeting_id)
    await require_member_to_see(session, caller, partnership)
    return Outcome(await minutes_reply(session, found, partnership))
