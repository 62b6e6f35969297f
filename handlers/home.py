"""The App Home: what a head sees on opening the bot, across all their partnerships: their next
meetings (with reply buttons), the next steps they own, recent CPD, and buttons that open the
walk and CPD forms. Built as a neutral Reply; the Slack layer shows it as the Home tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import cpd, logbook, walk
from handlers.actions import ActionDone
from handlers.buttons import ButtonData
from handlers.commands import button
from handlers.context import Caller
from handlers.digest import day_label, meeting_replies, meeting_when, step_fact
from handlers.links import open_in_browser
from handlers.meetings import ANSWER_LABELS, MeetingRsvp
from handlers.replies import Button, Outcome, Reply, Section
from handlers.schoolyear import today_in_london
from storage import digests, learning
from storage.digests import MeetingItem
from storage.models import RsvpAnswer

MEETINGS_SHOWN = 5
STEPS_SHOWN = 8
CPD_SHOWN = 6
MEETINGS_AHEAD = timedelta(weeks=8)
RECENT = timedelta(days=30)
# The order of the meeting card's own reply buttons.
BUTTON_ORDER = (RsvpAnswer.GOING, RsvpAnswer.NOT_GOING, RsvpAnswer.MAYBE)


@dataclass(frozen=True)
class LogWalk(ButtonData, kind="home.log_walk"):
    """"Log a learning walk" on the Home tab: opens the walk form."""


@dataclass(frozen=True)
class LogCpd(ButtonData, kind="home.log_cpd"):
    """"Log a CPD session" on the Home tab: opens the CPD form."""


async def build(caller: Caller, session: AsyncSession) -> Outcome:
    """A fixed number of statements, however many partnerships, meetings or steps."""
    partnerships = list(await learning.partnerships_of_member(
        session, caller.workspace, caller.platform, caller.user_id))
    if not partnerships:
        return Outcome(Reply(title="Welcome to Partnership Bot", sections=[Section(lines=[
            "You are not in a partnership here yet. "
            f"{caller.cmd('partnership list')} shows them; join one with "
            + caller.cmd("partnership join East Barnet Area school: <your school>") + ".",
            f"{caller.cmd('partnership help')} shows everything I can do.",
        ])]))
    ids = [p.id for p in partnerships if p.id is not None]
    today = today_in_london()
    meetings = await digests.meetings_ahead(session, ids, caller.now,
                                            caller.now + MEETINGS_AHEAD, MEETINGS_SHOWN)
    answers = await digests.my_rsvps(session, [m.id for m in meetings.items], caller.platform,
                                     caller.user_id)
    steps = await digests.steps_owned(session, ids, caller.platform, caller.user_id,
                                      STEPS_SHOWN)
    recent = await digests.recent_cpd(session, ids, today - RECENT, CPD_SHOWN)
    names = ", ".join(p.name for p in partnerships)
    sections = [Section(lines=[f"Your partnerships: {names}."], buttons=[
        Button("Log a learning walk", LogWalk(), "primary"),
        Button("Log a CPD session", LogCpd()),
        open_in_browser(),
    ])]
    sections.append(Section(heading=f"Your next meetings ({meetings.total})" if meetings.total
                            else "Your next meetings",
                            lines=[] if meetings.total else [
                                f"None in the next {MEETINGS_AHEAD.days // 7} weeks. "
                                f"{caller.cmd('meeting schedule')} books one."]))
    sections.extend(_meeting(m, answers.get(m.id)) for m in meetings.items)
    if meetings.hidden:
        sections.append(Section(lines=[f"…and {meetings.hidden} more: "
                                       f"{caller.cmd('meeting list')} shows them all."]))
    sections.append(Section(heading=f"Actions you own ({steps.total})" if steps.total
                            else "Actions you own",
                            lines=[] if steps.total else ["None open. Well done."]))
    for step in steps.items:
        sections.append(Section(facts=[step_fact(step, today)], buttons=[
            Button("Mark done", ActionDone(step.action_id))]))
    if steps.hidden:
        sections.append(Section(lines=[f"…and {steps.hidden} more: "
                                       f"{caller.cmd('partnership actions <p> mine')} shows "
                                       "them all."]))
    cpd_lines = [f"{day_label(c.held_on)} · {c.title} · {c.theme} · {c.partnership}"
                 for c in recent.items]
    if recent.hidden:
        cpd_lines.append(f"…and {recent.hidden} more: {caller.cmd('cpd list')}.")
    sections.append(Section(heading=f"CPD in the last {RECENT.days} days",
                            lines=cpd_lines or ["None logged."]))
    sections.append(Section(lines=[f"{caller.cmd('partnership help')} shows everything else."]))
    return Outcome(Reply(title="Your partnerships this week", sections=sections))


def _meeting(item: MeetingItem, mine: str | None) -> Section:
    yours = f"Your reply: {ANSWER_LABELS[RsvpAnswer(mine)]}." if mine else "You haven't replied."
    return Section(
        lines=[f"{item.title} ({item.partnership})", meeting_when(item),
               f"{meeting_replies(item)}. {yours}"],
        buttons=[Button(ANSWER_LABELS[a], MeetingRsvp(item.id, a),
                        "primary" if mine == a.value else None) for a in BUTTON_ORDER])


@button(LogWalk)
async def log_walk(pressed: LogWalk, caller: Caller, session: AsyncSession) -> Outcome:
    return await logbook.open_form(walk.KIND, "", caller, session)


@button(LogCpd)
async def log_cpd(pressed: LogCpd, caller: Caller, session: AsyncSession) -> Outcome:
    return await logbook.open_form(cpd.KIND, "", caller, session)
