"""Made-up but possible replies and forms that are too big for one Teams card as they stand
(many buttons, many facts, long notes, long forms): what the size guard must cut."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.buttons import ButtonData
from handlers.forms import Choice, FieldKind, Form, FormField
from handlers.replies import Button, Fact, Reply, Section, Visibility

SCHOOL = "St Mary's and St John's Church of England Voluntary Aided Primary School"


@dataclass(frozen=True)
class Pick(ButtonData, kind="test.pick"):
    """A made-up button's payload, as long as real ones get."""

    what: str
    item: int


def many_meetings() -> Reply:
    """`meeting list` for someone in every partnership of a large authority: each meeting with
    its three reply buttons."""
    sections = []
    for n in range(1, 61):
        sections.append(Section(
            heading=f"#{n} Heads' termly meeting of Partnership {n} — Thu {n % 28 + 1} May, "
                    "11:30–12:30 BST",
            lines=[f"At {SCHOOL}, hall {n}", "Going: 4 · Can't make it: 1 · Maybe: 2"],
            buttons=[Button("Going", Pick("going", n), "primary"),
                     Button("Can't make it", Pick("no", n), "danger"),
                     Button("Maybe", Pick("maybe", n))]))
    return Reply(title="Upcoming meetings in your 60 partnerships", sections=sections)


def many_facts() -> Reply:
    """`meeting who` for a big alliance: a fact per member."""
    facts = [Fact(f"Headteacher {n} of {SCHOOL} ({n})", f"can't come — reason given {n}")
             for n in range(300)]
    return Reply(title="Who is coming to the alliance conference", sections=[
        Section(heading="Replies", facts=facts),
        Section(lines=["Reminders: 1 day before (sent), 1 hour before (waiting)."]),
    ], visibility=Visibility.PUBLIC)


def long_notes() -> Reply:
    """`walk show` of walks whose notes use every character they may (3,000 each), as facts."""
    note = ("Pupils explained their reasoning clearly & used the working wall; " * 50)[:3000]
    return Reply(title=f"Learning walks at {SCHOOL} this term", sections=[
        Section(heading=f"Walk #{n}", facts=[
            Fact("Focus", "reasoning in maths"), Fact("Strengths", note),
            Fact("Areas for development", note), Fact("Agreed next steps", note)],
            buttons=[Button("Next steps done", Pick("done", n), "primary")])
        for n in range(1, 4)])


def everything_at_once() -> Reply:
    """A digest-like reply: many sections, each with lines, facts and buttons."""
    sections = [Section(
        heading=f"Partnership {n}: this week",
        lines=[f"Learning walk at {SCHOOL} on reading across KS{k % 2 + 1}" for k in range(25)],
        facts=[Fact(f"Theme {k}", f"{k} sessions, {k * 1.5} hours") for k in range(15)],
        buttons=[Button(f"Open walk {k}", Pick("show", k)) for k in range(10)],
    ) for n in range(14)]
    return Reply(title="Weekly digest for the Barnet alliance", sections=sections,
                 visibility=Visibility.PUBLIC)


def long_form() -> Form:
    """The CPD form for someone in every partnership of an authority: every school to choose
    from, and long hints."""
    schools = tuple(Choice(f"{SCHOOL} {n}", str(n)) for n in range(1, 401))
    hint = "Say who came and what changed as a result; " * 10
    return Form("cpd.log", "Log a CPD session", submit_label="Log session", intro=hint * 2,
                context="all", fields=[
                    FormField("partnership", "Partnership", FieldKind.SELECT, required=True,
                              choices=tuple(Choice(f"Partnership {n}", str(n))
                                            for n in range(60)), hint=hint),
                    FormField("host", "Host school", FieldKind.SELECT, choices=schools,
                              hint=hint),
                    FormField("attendees", "Attending schools", FieldKind.MULTI_SELECT,
                              choices=schools, hint=hint),
                    FormField("title", "Title", required=True, max_length=200, hint=hint),
                    FormField("date", "Date", FieldKind.DATE, required=True),
                    FormField("facilitator", "Facilitator", FieldKind.USER),
                    FormField("walkers", "Who came", FieldKind.USERS),
                    FormField("impact", "Impact", FieldKind.LONG_TEXT, max_length=3000,
                              hint=hint),
                    FormField("quiet", "Channel note", FieldKind.CHECKBOXES, choices=(
                        Choice("Don't post a note in the channel", "yes"),)),
                ])


BIG_REPLIES = {
    "many meetings (180 buttons)": many_meetings,
    "many facts (300)": many_facts,
    "long notes (9 × 3,000 characters)": long_notes,
    "everything at once (digest-like)": everything_at_once,
}
