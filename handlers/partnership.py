"""`/partnership`: create, join, leave, list, inspect partnerships and link their channels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import actions, digest, privacy, report, schools, short_names, web
from handlers.commands import Access, Command, HelpLine
from handlers.context import Caller
from handlers.errors import CommandError
from handlers.links import open_in_browser
from handlers.lookup import find_partnership, membership, quoted_list, require_lead
from handlers.mentions import PersonRef, find_mentions
from handlers.names import match_name
from handlers.parsing import ParseError, check_length, parse_fields
from handlers.replies import ChannelPost, Fact, Outcome, Reply, Section, Tone, Visibility
from handlers.themes import ThemesRequest, parse_theme_list, run_themes
from storage import queries
from storage.models import (
    AccessRole,
    ChannelLink,
    Member,
    Partnership,
    PartnershipKind,
    PartnershipSchool,
)
from storage.names import name_key, tidy_name
from storage.roles import canonical_role

MAX_NAME = 200
MAX_JOB_TITLE = 80

KIND_WORDS: dict[str, PartnershipKind] = {
    "loose": PartnershipKind.LOOSE,
    "structured": PartnershipKind.STRUCTURED,
    "hard": PartnershipKind.HARD,
    "federation": PartnershipKind.HARD,
    "trust": PartnershipKind.HARD,
    "mat": PartnershipKind.HARD,
    "multi academy trust": PartnershipKind.HARD,
    "multi-academy trust": PartnershipKind.HARD,
    "alliance": PartnershipKind.ALLIANCE,
    "teaching school alliance": PartnershipKind.ALLIANCE,
}

KIND_LABELS: dict[str, str] = {
    PartnershipKind.LOOSE: "loose: schools challenge and support each other",
    PartnershipKind.STRUCTURED: "structured: agreed roles, an executive board",
    PartnershipKind.HARD: "hard: a federation or multi-academy trust",
    PartnershipKind.ALLIANCE: "teaching school alliance",
}


PARTNERSHIPS = "Partnerships"


def _notes(caller: Caller) -> list[str]:
    return ["Names are matched loosely: “st marys en4” finds “St Mary's EN4”, “heath hill” "
            "finds “Heath and Hill Partnership”; a school may be given by its URN."]


partnership = Command("partnership", "Create, join, list and link school improvement partnerships",
                      "Partnership Bot: your school improvement partnerships", notes=_notes)


# --- typed requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRequest:
    name: str
    kind: PartnershipKind


@dataclass(frozen=True)
class JoinRequest:
    partnership: str
    school: str
    job_title: str | None
    new_school: bool


@dataclass(frozen=True)
class ListRequest:
    containing: str = ""  # only names with these words


@dataclass(frozen=True)
class RoleRequest:
    partnership: str
    person: PersonRef
    role: AccessRole


# --- parsing --------------------------------------------------------------------------------


def parse_create(rest: str, caller: Caller) -> CreateRequest:
    parsed = parse_fields(rest, ["type"])
    name = _required_name(parsed.positional, "partnership create <name>", caller,
                          "East Barnet Area type: loose")
    return CreateRequest(name=name, kind=_parse_kind(parsed.get("type"), caller))


def parse_join(rest: str, caller: Caller) -> JoinRequest:
    parsed = parse_fields(rest, ["school", "role", "new"])
    example = "partnership join East Barnet Area school: Monkfrith role: headteacher"
    if not parsed.positional:
        raise ParseError("Which partnership do you want to join?",
                         f"Write it like this: {caller.cmd(example)}")
    school = parsed.get("school")
    if school is None:
        raise ParseError(
            "Please say which school you are joining for, with `school:`.",
            f"Write it like this: {caller.cmd(example)}",
        )
    job_title = parsed.get("role")
    check_length("school", school, MAX_NAME)
    if job_title is not None:
        check_length("role", job_title, MAX_JOB_TITLE)
    new_flag = (parsed.get("new") or "").lower()
    if new_flag and new_flag not in ("yes", "y", "school", "true"):
        raise ParseError("`new:` takes `yes`, to add a school I don't know yet.",
                         f"For example {caller.cmd(example + ' new: yes')}")
    return JoinRequest(parsed.positional, tidy_name(school),
                       canonical_role(job_title) if job_title else None, bool(new_flag))


def parse_list(rest: str, caller: Caller) -> ListRequest:
    return ListRequest(tidy_name(rest))


def partnership_name(verb: str) -> Callable[[str, Caller], str]:
    """The parse of a subcommand that takes just a partnership's name."""

    def parse(rest: str, caller: Caller) -> str:
        return _required_name(rest, f"partnership {verb} <partnership>", caller,
                              "East Barnet Area")

    return parse


def parse_retention(rest: str, caller: Caller) -> privacy.RetentionRequest:
    parsed = parse_fields(rest, ["notes"])
    name = _required_name(parsed.positional, "partnership retention <partnership>", caller,
                          "East Barnet Area")
    notes = parsed.get("notes")
    words = (notes or "").split()
    confirmed = bool(words) and words[-1].lower() == "confirm"
    if confirmed:
        notes = " ".join(words[:-1])
    return privacy.RetentionRequest(
        name, None if notes is None else privacy.parse_period(notes, caller, name), confirmed)


def parse_themes(rest: str, caller: Caller) -> ThemesRequest:
    parsed = parse_fields(rest, ["set"])
    name = _required_name(parsed.positional, "partnership themes <partnership>", caller,
                          "East Barnet Area")
    new = parsed.fields.get("set")
    return ThemesRequest(name, None if new is None else parse_theme_list(new, caller, name))


def parse_role(text: str, caller: Caller) -> RoleRequest:
    example = caller.cmd("partnership role East Barnet Area @Ben lead")
    words = text.split()
    role_word = words[-1].lower() if words else ""
    if role_word not in (AccessRole.LEAD, AccessRole.MEMBER):
        raise ParseError("Please end with the role to give: `lead` or `member`.",
                         f"Write it like this: {example}")
    rest = " ".join(words[:-1])
    mentions = find_mentions(rest)
    if mentions:
        partnership = rest[: rest.index("<@")]
        person = mentions[0]
    elif " @" in f" {rest}":
        at = f" {rest}".rindex(" @")
        partnership, person = rest[: max(at - 1, 0)], PersonRef(None, rest[at:].strip(" @"))
    else:
        raise ParseError("Please say whose role to change, with an @mention.",
                         f"Write it like this: {example}")
    if not tidy_name(partnership) or not (person.user_id or person.name):
        raise ParseError("Please give the partnership and the person.",
                         f"Write it like this: {example}")
    return RoleRequest(tidy_name(partnership), person, AccessRole(role_word))


def _required_name(text: str, usage: str, caller: Caller, example: str) -> str:
    name = tidy_name(text)
    if not name:
        verb = usage.split()[1]
        raise ParseError(
            "Please give the partnership's name.",
            f"Write it like this: {caller.cmd(f'partnership {verb} {example}')}",
        )
    check_length("name", name, MAX_NAME)
    return name


def _parse_kind(text: str | None, caller: Caller) -> PartnershipKind:
    if text is None:
        return PartnershipKind.LOOSE
    kind = KIND_WORDS.get(" ".join(text.lower().split()))
    if kind is None:
        raise ParseError(
            f"“{text}” is not a kind of partnership I know.",
            "Use one of `loose`, `structured`, `hard` or `alliance`, for example "
            f"{caller.cmd('partnership create Heath and Hill Partnership type: structured')}.",
        )
    return kind


LIST_LIMIT = 30


@partnership.subcommand("list", "ls", usage="list [words]", access=Access.ANYONE,
                        parse=parse_list, group=PARTNERSHIPS,
                        help=[("partnership list",
                               "yours, then the others (add words to narrow)")])
async def list_partnerships(request: ListRequest, caller: Caller,
                            session: AsyncSession) -> Outcome:
    listing = await queries.partnership_listing(
        session, caller.workspace, caller.platform, caller.user_id,
        containing=name_key(request.containing), limit=LIST_LIMIT)
    rows = listing.mine + listing.others
    matching = f" matching “{request.containing}”" if request.containing else ""
    if not rows:
        hint = (f"{caller.cmd('partnership list')} shows them all." if request.containing else
                f"Start one with {caller.cmd('partnership create East Barnet Area')}.")
        return Outcome(Reply(title=f"There are no partnerships{matching} here yet."
                             if not request.containing else f"No partnerships{matching}.",
                             sections=[Section(lines=[hint])]))
    total = len(listing.mine) + listing.others_total
    sections = []
    if listing.mine:
        sections.append(Section(heading="Yours", lines=[_list_line(r) for r in listing.mine]))
    if listing.others:
        lines = [_list_line(r) for r in listing.others]
        hidden = listing.others_total - len(listing.others)
        if hidden:
            lines.append(f"…and {hidden} more: narrow the list with "
                         f"{caller.cmd('partnership list <words from the name>')}.")
        sections.append(Section(heading="Others" if listing.mine else None, lines=lines))
    return Outcome(Reply(
        title=f"{total} partnership{'s' if total != 1 else ''}{matching} "
              f"({len(listing.mine)} with you in)",
        sections=sections,
    ))


def _list_line(row: queries.PartnershipRow) -> str:
    schools = f"{row.school_count} school{'s' if row.school_count != 1 else ''}"
    return f"{row.partnership.name}: {row.partnership.kind}, {schools}"


@partnership.subcommand("info", "show", usage="info <partnership>", access=Access.ANYONE,
                        parse=partnership_name("info"), group=PARTNERSHIPS,
                        help=[("partnership info East Barnet Area",
                               "schools, members, roles, channel")])
async def info(name: str, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, name)
    assert partnership.id is not None
    school_rows = await queries.schools_of(session, partnership.id)
    members = await queries.members_of(session, partnership.id)
    links = await queries.channel_links(session, partnership.id)
    school_lines = schools.info_lines(school_rows) or ["No schools yet."]
    member_lines = [
        f"{m.display_name}: {m.access_role}"
        + (f", {m.job_title}" if m.job_title else "")
        + (f", for {school.name}" if school else "")
        for m, school in members
    ] or ["No members yet."]
    channels = ", ".join(_channel_label(link) for link in links) or "none linked yet"
    facts = [Fact("Type", KIND_LABELS.get(partnership.kind, partnership.kind)),
             Fact("Channel", channels)]
    if partnership.short_name:
        facts.append(Fact("Short name", partnership.short_name))
    if partnership.proposed:
        facts.append(Fact("Status", "proposed"))
    if partnership.note:
        facts.append(Fact("Note", partnership.note))
    return Outcome(Reply(
        title=partnership.name,
        sections=[
            Section(facts=facts),
            Section(heading=f"Schools ({len(school_rows)})", lines=school_lines),
            Section(heading=f"Members ({len(members)})", lines=member_lines),
            *([Section(lines=["Its CPD coverage, walks and meetings, in your browser:"],
                       buttons=[open_in_browser(partnership.id)])]
              if await membership(session, caller, partnership) else []),
        ],
    ))


def _channel_label(link: ChannelLink) -> str:
    name = link.channel_name or link.channel_id
    return f"#{name} ({link.platform})"


@partnership.subcommand(
    "create", usage="create <name> [type: …]", access=Access.ANYONE, parse=parse_create,
    group=PARTNERSHIPS,
    help=[("partnership create East Barnet Area type: loose",
           "start one (types: loose, structured, hard, alliance)")])
async def create(request: CreateRequest, caller: Caller, session: AsyncSession) -> Outcome:
    key = name_key(request.name)
    if not key:
        raise CommandError.because(
            "A partnership's name needs some letters or numbers.",
            f"For example {caller.cmd('partnership create East Barnet Area')}.",
        )
    existing = await queries.partnership_by_key(session, caller.workspace, key)
    if existing is not None:
        raise CommandError.because(
            f"There is already a partnership called {existing.name}.",
            f"See it with {caller.cmd('partnership info ' + existing.name)}, or choose "
            "another name.",
        )
    partnership = Partnership(
        workspace=caller.workspace, name=request.name, name_key=key, kind=request.kind.value,
        created_by=caller.user_id,
    )
    session.add(partnership)
    await session.flush()
    assert partnership.id is not None
    # The creator leads it; they have no school yet until they join on behalf of one.
    session.add(Member(partnership_id=partnership.id, platform=caller.platform,
                       user_id=caller.user_id, display_name=caller.user_name,
                       access_role=AccessRole.LEAD.value))
    return Outcome(Reply.success(
        f"Created the partnership {partnership.name} ({KIND_LABELS[partnership.kind]}).",
        "You lead it. Add your school with "
        + caller.cmd(f"partnership join {partnership.name} school: <your school>") + ".",
        "Post its reminders in a channel with "
        + caller.cmd(f"partnership channel {partnership.name}") + ".",
    ))


@partnership.subcommand(
    "join", usage="join <partnership> school: <school or URN> [role: …]", access=Access.ANYONE,
    parse=parse_join, group=PARTNERSHIPS,
    help=[("partnership join East Barnet Area school: Monkfrith role: headteacher",
           "join on behalf of your school")])
async def join(request: JoinRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(
        session, caller, request.partnership,
        example=f"partnership join {{name}} school: {request.school}")
    assert partnership.id is not None
    school, notes = await schools.school_to_join(session, caller, partnership, request.school,
                                                 request.new_school)
    assert school.id is not None
    label = school.name + (f" (URN {school.urn})" if school.urn is not None else "")
    if await queries.school_link(session, partnership.id, school.id) is None:
        session.add(PartnershipSchool(partnership_id=partnership.id, school_id=school.id))
        notes.append(f"{school.name} is now in {partnership.name}.")
    member = await queries.member(session, partnership.id, caller.platform, caller.user_id)
    if member is None:
        session.add(Member(partnership_id=partnership.id, platform=caller.platform,
                           user_id=caller.user_id, display_name=caller.user_name,
                           school_id=school.id, job_title=request.job_title))
        title = f"You joined {partnership.name} for {label}."
    else:
        previous = member.school_id
        member.school_id = school.id
        member.display_name = caller.user_name
        if request.job_title is not None:
            member.job_title = request.job_title
        session.add(member)
        if previous is None:
            title = f"You are in {partnership.name} for {label}."
        elif previous != school.id:
            title = f"You were already in {partnership.name}; you are now there for {label}."
        else:
            title = f"You are already in {partnership.name} for {label}."
    if request.job_title:
        notes.append(f"Your role: {request.job_title}.")
    return Outcome(Reply.success(title, *notes))


@partnership.subcommand("leave", usage="leave <partnership>", access=Access.ANYONE,
                        parse=partnership_name("leave"), group=PARTNERSHIPS,
                        help=[("partnership leave East Barnet Area", "leave it")])
async def leave(name: str, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, name,
                                         example="partnership leave {name}")
    assert partnership.id is not None
    member = await queries.member(session, partnership.id, caller.platform, caller.user_id)
    if member is None:
        raise CommandError.because(f"You are not in {partnership.name}, so there is nothing to "
                                   "leave.", f"{caller.cmd('partnership list')} shows yours.")
    if member.access_role == AccessRole.LEAD:
        leads = [m for m, _ in await queries.members_of(session, partnership.id)
                 if m.access_role == AccessRole.LEAD]
        if len(leads) == 1 and len(await queries.members_of(session, partnership.id)) > 1:
            raise CommandError.because(
                f"You are the only lead of {partnership.name}, so you can't leave yet.",
                "Ask another member to take the lead first, so the partnership is not left "
                "without one.",
            )
    await session.delete(member)
    # The school stays in the partnership: schools belong to it, people come and go.
    return Outcome(Reply.success(f"You have left {partnership.name}.",
                                 "Your school stays in the partnership."))


@partnership.subcommand("channel", usage="channel <partnership>", access=Access.LEAD,
                        parse=partnership_name("channel"), group=PARTNERSHIPS,
                        help=[("partnership channel East Barnet Area",
                               "post its reminders and digests in this channel (leads)")])
async def link_channel(name: str, caller: Caller, session: AsyncSession) -> Outcome:
    if caller.channel_id is None:
        raise CommandError.because(
            "I can only link a channel when you ask from inside it.",
            f"Go to the channel and type {caller.cmd('partnership channel ' + name)}"
            " there.",
        )
    partnership = await find_partnership(session, caller, name,
                                         example="partnership channel {name}")
    assert partnership.id is not None
    await require_lead(session, caller, partnership, "choose its channel")
    link = await queries.channel_link(session, partnership.id, caller.platform, caller.channel_id)
    if link is not None:
        if caller.channel_ref and caller.channel_ref != link.conversation_ref:
            # Linking again refreshes the address, should the platform have moved it.
            link.conversation_ref = caller.channel_ref
            session.add(link)
        return Outcome(Reply(title=f"This channel is already linked to {partnership.name}.",
                             tone=Tone.INFO))
    session.add(ChannelLink(partnership_id=partnership.id, platform=caller.platform,
                            channel_id=caller.channel_id, channel_name=caller.channel_name,
                            conversation_ref=caller.channel_ref, linked_by=caller.user_id))
    await session.flush()
    announcement = Reply(
        title=f"This channel is now linked to {partnership.name}.",
        sections=[Section(lines=["Meeting reminders and the weekly digest will be posted here."])],
        visibility=Visibility.PUBLIC,
    )
    return Outcome(
        Reply.success(f"Linked this channel to {partnership.name}.",
                      await digest.after_linking(session, partnership, caller)),
        channel_posts=[ChannelPost(partnership.id, announcement, only_channel=caller.channel_id)],
    )


@partnership.subcommand("role", usage="role <partnership> @person lead|member",
                        access=Access.LEAD, parse=parse_role, group=PARTNERSHIPS,
                        help=[("partnership role East Barnet Area @Ben lead",
                               "make someone a lead or a member (leads)")])
async def change_role(request: RoleRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, request.partnership,
                                         example="partnership role {name} @someone lead")
    assert partnership.id is not None
    await require_lead(session, caller, partnership, "change roles")
    members = [m for m, _ in await queries.members_of(session, partnership.id)]
    target = _member_for(request.person, members, caller)
    if target is None:
        raise CommandError.because(
            f"{request.person.label()} is not a member of {partnership.name}.",
            "They can join with "
            + caller.cmd(f"partnership join {partnership.name} school: <their school>") + ".",
        )
    if target.access_role == request.role:
        return Outcome(Reply(title=f"{target.display_name} is already a {request.role.value} "
                                   f"of {partnership.name}."))
    leads = [m for m in members if m.access_role == AccessRole.LEAD]
    if request.role is AccessRole.MEMBER and len(leads) == 1:
        raise CommandError.because(
            f"{target.display_name} is the only lead of {partnership.name}.",
            "Make someone else a lead first, so the partnership always has one.",
        )
    target.access_role = request.role.value
    session.add(target)
    return Outcome(Reply.success(
        f"{target.display_name} is now a {request.role.value} of {partnership.name}.",
        "Leads choose the channel, CPD themes and digest, and may cancel any meeting."
        if request.role is AccessRole.LEAD else
        "Members log walks and CPD and reply to meetings.",
    ))


def _member_for(person: PersonRef, members: list[Member], caller: Caller) -> Member | None:
    if person.user_id is not None:
        by_id = [m for m in members if m.user_id == person.user_id
                 and m.platform == caller.platform]
        return by_id[0] if by_id else None
    match = match_name(person.name or "", members, lambda m: m.display_name)
    if match.ambiguous:
        names = quoted_list([m.display_name for m in match.ambiguous])
        raise CommandError.because(
            f"“{person.label()}” could be {names}.",
            "Use an @mention to say which.",
        )
    return match.found


# --- subcommands whose work lives in their own modules -----------------------------------------

partnership.subcommand(
    "schools", "school", usage="schools <words or URN>", access=Access.ANYONE,
    parse=schools.parse_schools, group=PARTNERSHIPS,
    help=[("partnership schools Monkfrith",
           "find a school (town, phase, URN) and the partnerships it is in")],
)(schools.run_schools)
partnership.subcommand(
    "short", "shortname", "short-name", usage="short <partnership> [set: …]",
    access=Access.LEAD, parse=short_names.parse_short, group=PARTNERSHIPS,
    help=[("partnership short Heath and Hill Partnership set: H&H",
           "a short name that finds it too (leads)")],
)(short_names.run_short)

partnership.subcommand(
    "digest", usage="digest <partnership> [preview]", access=Access.LEAD,
    parse=digest.parse_request, group="Weekly digest",
    help=[("partnership digest East Barnet Area",
           "when its weekly digest is posted, and what went out last"),
          HelpLine(digest.EXAMPLE, lambda c: "post it then (leads; also `quiet: note` or "
                   "`quiet: skip`, `holidays: move` (a bank holiday's digest the next working "
                   "day, the default) or `holidays: keep`, and "
                   f"{c.cmd('partnership digest East Barnet Area off')})"),
          ("partnership digest East Barnet Area preview", "see it now, only you")],
)(digest.run)
partnership.subcommand(
    "web", "browser", usage="web [<partnership>]", access=Access.MEMBER,
    parse=web.parse_request, group=PARTNERSHIPS,
    help=[("partnership web East Barnet Area", "a private link to see it in your browser "
           "(coverage, walks, meetings); it works once, for 15 minutes")],
)(web.run)
partnership.see_also("Walks, CPD and meetings", [
    ("walk help", "log learning walks, follow up their next steps"),
    ("cpd help", "log CPD sessions, see them by theme and school"),
])
partnership.subcommand(
    "themes", usage="themes <partnership> [set: …]", access=Access.LEAD, parse=parse_themes,
    group="Walks, CPD and meetings",
    help=[("partnership themes East Barnet Area",
           "its CPD themes; a lead changes them with `set: a; b; c`")],
)(run_themes)
partnership.subcommand(
    "action", usage="action <partnership> <what> owner: … due: … or done|drop|later|reassign <n>",
    access=Access.MEMBER, parse=actions.parse_action, group=actions.ACTIONS,
    help=[(actions.EXAMPLE, "raise an action: its owner (a member, or one of its schools) and "
                            "due date"),
          ("partnership action done 12", "it is done (its owner, or a lead)"),
          ("partnership action drop 12 reason: the visit was cancelled",
           "drop it, saying why (its owner, or a lead)"),
          ("partnership action reassign 12 owner: Ben Day due: 2/2/2027",
           "give it to someone else, or a new date (its owner, or a lead)"),
          ("partnership action later 12 due: 2/2/2027", "it needs more time: a new due date")],
)(actions.run_action)
partnership.subcommand(
    "actions", usage="actions <partnership> [mine|overdue|done|all] [school: …]",
    access=Access.MEMBER, parse=actions.parse_list, group=actions.ACTIONS,
    help=[("partnership actions East Barnet Area", "its open actions, soonest due first"),
          ("partnership actions East Barnet Area mine", "yours (`overdue`, `done`, `all`, "
                                                         "`school: Monkfrith` also work)")],
)(actions.list_actions)
partnership.subcommand(
    "nudges", usage="nudges [on|off]", access=Access.SELF, parse=actions.parse_nudges,
    group=actions.ACTIONS,
    help=[("partnership nudges off", "no private reminders about your actions (`on` again)")],
)(actions.run_nudges)
partnership.see_also("Walks, CPD and meetings", [
    ("meeting help", "schedule meetings, collect replies, send invites and reminders"),
])
partnership.subcommand(
    "report", usage="report <partnership> [term: …] [from: … to: …] [school: …]",
    access=Access.MEMBER, parse=report.parse_report, group="Termly report",
    help=[(report.EXAMPLE, "the termly report for governors: CPD by theme and school, walks, "
           "actions, meetings and impact, as a PDF, a spreadsheet and a CSV, for you alone"),
          ("partnership report East Barnet Area from: 1/9/2026 to: 30/11/2026 school: "
           "Monkfrith", "for any dates, or for one of its schools")],
)(report.run)
partnership.subcommand(
    "mydata", "my-data", "export", usage="mydata", access=Access.SELF, group="Your data",
    help=[("partnership mydata", "a file of everything held about you")],
)(privacy.my_data)
partnership.subcommand(
    "forget", usage="forget me", access=Access.SELF, parse=privacy.parse_forget,
    group="Your data",
    help=[("partnership forget me", "erase it (you are asked to confirm)")],
)(privacy.forget_me)
partnership.subcommand(
    "retention", usage="retention <partnership> [notes: …]", access=Access.LEAD,
    parse=parse_retention, group="Your data",
    help=[("partnership retention East Barnet Area",
           "how long walk notes are kept (leads change it with `notes: 18 months`)")],
)(privacy.retention)
