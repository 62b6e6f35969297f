"""`/walk` through the core, on SQLite and PostgreSQL: logging (typed and by form), bad input
answered with nothing written, access, listing, showing and closing next steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import col, select

from handlers.dispatch import run_action, run_button, submit_form
from handlers.forms import FieldKind
from handlers.replies import Tone, Visibility
from handlers.schoolyear import today_in_london
from handlers.walk import WalkDone
from storage.db import Database
from storage.models import LearningWalk, WalkWalker
from tests.support.learning import (
    ANN,
    BEN,
    CY,
    PARTNERSHIP,
    count,
    ok,
    say,
    set_up_partnerships,
    slack_person,
    walk_steps,
)

LOG = (f"log {PARTNERSHIP} school: monkfrith date: 5/2/2026 "
       "focus: progression in foundation subjects")
FULL = (LOG + " walkers: <@U0BEN00001|ben>, Dee Ray year groups: year 1, yr3 and rec "
        "strengths: Clear sequencing across classes development: Vocabulary in Y3 "
        "next steps: Share the progression map owner: Ben Day due: 20/3/2026")


@pytest.fixture(autouse=True)
async def partnerships(db: Database) -> None:
    await set_up_partnerships(db)


async def walks(db: Database) -> list[LearningWalk]:
    async with db.session() as session:
        return list((await session.exec(select(LearningWalk))).all())


async def test_a_typed_walk_is_saved_whole_and_confirmed(db: Database) -> None:
    outcome = await ok(db, "walk", FULL)
    reply = outcome.reply
    assert reply.tone is Tone.SUCCESS
    assert reply.title == "Logged learning walk #1 at Monkfrith"
    facts = {f.label: f for f in reply.sections[0].facts}
    assert facts["Date"].value == "Thursday 5 February 2026"
    assert facts["Year groups"].value == "Y1, Y3, Reception"
    assert [(p.name, p.user_id) for p in facts["Walkers"].people] == [
        ("Ben Day", "U0BEN00001"), ("Dee Ray", None)]
    step = facts["Action 1: Share the progression map"]
    assert [(p.name, p.user_id) for p in step.people] == [("Ben Day", "U0BEN00001")]
    [walk] = await walks(db)
    assert walk.focus == "progression in foundation subjects"
    assert walk.strengths == "Clear sequencing across classes"
    assert walk.development == "Vocabulary in Y3"
    assert walk.next_steps == "Share the progression map (Ben Day, 20/3/2026)"
    [action] = await walk_steps(db)
    assert (action.owner_user_id, action.owner_name) == ("U0BEN00001", "Ben Day")
    assert str(action.due_on) == "2026-03-20" and action.status == "open"
    assert (action.description, action.walk_id, action.source) == (
        "Share the progression map", 1, "walk")
    assert walk.logged_by_name == "Ann Smith"
    assert await count(db, WalkWalker) == 2


async def test_the_channel_note_says_a_walk_happened_and_nothing_of_its_notes(
    db: Database,
) -> None:
    outcome = await ok(db, "walk", FULL)
    [post] = outcome.channel_posts
    assert post.reply.visibility is Visibility.PUBLIC
    text = post.reply.plain_text()
    assert "Ann Smith logged a learning walk at Monkfrith" in text
    assert "progression in foundation subjects" in text
    for private in ("Clear sequencing", "Vocabulary", "progression map", "Ben", "Dee Ray"):
        assert private not in text
    # Where it went is said by the delivery, once it is out (so never of a post that failed).
    assert post.confirm == "A short note went to {channels}."
    assert "note went" not in outcome.reply.plain_text()


@pytest.mark.parametrize("text", [
    f"log {PARTNERSHIP} quiet school: Monkfrith date: 5/2/2026 focus: reading",
    f"log {PARTNERSHIP} school: Monkfrith focus: reading date: 5/2/2026 quiet",
])
async def test_quiet_posts_nothing_in_the_channel(db: Database, text: str) -> None:
    outcome = await ok(db, "walk", text)
    assert outcome.channel_posts == []
    assert "Nothing was posted in #heads (quiet)." in outcome.reply.plain_text()
    assert (await walks(db))[0].focus == "reading"


async def test_quiet_at_the_end_of_free_text_is_part_of_the_text(db: Database) -> None:
    outcome = await ok(db, "walk", LOG + " next steps: keep corridors quiet")
    assert len(outcome.channel_posts) == 1
    assert (await walks(db))[0].next_steps == "keep corridors quiet"


async def test_a_member_named_in_plain_text_is_linked_to_their_account(db: Database) -> None:
    await ok(db, "walk", LOG + " walkers: ann smith & Ben Day next steps: x owner: @ben day")
    [step] = await walk_steps(db)
    assert step.owner_user_id == "U0BEN00001"
    async with db.session() as session:
        walkers = (await session.exec(select(WalkWalker).order_by(col(WalkWalker.position)))).all()
    assert [(w.user_id, w.name) for w in walkers] == [("U0ANN00001", "Ann Smith"),
                                                      ("U0BEN00001", "Ben Day")]


async def test_more_than_two_walkers_gets_a_gentle_reminder(db: Database) -> None:
    reply = (await ok(db, "walk", LOG + " walkers: Ann Smith, Ben Day, Dee Ray")).reply
    assert "no more than 2 walkers" in reply.plain_text()


@pytest.mark.parametrize(
    ("text", "problem", "hint"),
    [
        (f"log {PARTNERSHIP} date: 5/2/2026 focus: reading", "`school:`", "/walk log"),
        (f"log {PARTNERSHIP} school: Monkfrith date: 5/2/2026", "`focus:`", "focus:"),
        (f"log {PARTNERSHIP} school: Monkfrith focus: reading", "`date:`", "date: yesterday"),
        ("log school: Monkfrith date: 5/2/2026 focus: reading", "Which partnership", ""),
        (LOG.replace("5/2/2026", "31/2/2026"), "not a real date", "day first"),
        (LOG.replace("5/2/2026", "13/13/2026"), "no month 13", "day first"),
        (LOG.replace("5/2/2026", "next blue moon"), "couldn't read", "day first"),
        (LOG.replace("5/2/2026", "Friday 5th February 2026"), "is a Thursday", "Thursday 5"),
        (LOG.replace("5/2/2026", "1/1/2099"), "still to come", "once it has happened"),
        (LOG.replace("monkfrith", "Monkfirth"), "Did you mean “Monkfrith”", "Its schools"),
        (LOG.replace("monkfrith", "Sunnyfields"), "not one of East Barnet Area's schools",
         "Its schools are"),
        (LOG + " owner: Ben", "belong to the next steps", ""),
        (LOG + " next steps: x due: 1/1/2026", "before the walk", "after the walk"),
        (LOG + " due: 30/2/2026 next steps: x", "In `due:`", "day first"),
        (LOG.replace("school:", "scool:"), "`scool:`", "`school:`"),
        (LOG + " walkers: " + ", ".join(f"P{n}" for n in range(11)), "the most I can record",
         ""),
        (LOG.replace("progression in foundation subjects", "x" * 201),
         "The focus is 201 characters long; the most is 200.", "shorten"),
        (LOG + " strengths: " + "s" * 1501, "The strengths is 1,501 characters long", ""),
        (LOG + " next steps: x owner: Ann Smith, Ben Day", "one owner", ""),
        (LOG + " strengths: " + "s" * 4000, "the most I can read is 4,000", "Shorten"),
        ("log Eats Barnet Area school: Monkfrith date: 5/2/2026 focus: x", "Did you mean",
         "/walk log East Barnet Area"),
    ],
)
async def test_bad_input_names_the_problem_and_writes_nothing(
    db: Database, text: str, problem: str, hint: str
) -> None:
    reply = (await say(db, "walk", text)).reply
    # A date with two readings is asked about (each reading a command and a button), not refused.
    asked = "Which did you mean?" in reply.plain_text()
    assert reply.tone is (Tone.WARNING if asked else Tone.ERROR)
    assert reply.visibility is Visibility.PRIVATE
    assert problem in reply.plain_text()
    assert hint in reply.plain_text()
    assert await count(db, LearningWalk) == 0
    assert await count(db, WalkWalker) == 0


async def test_every_problem_is_reported_at_once(db: Database) -> None:
    reply = (await say(db, "walk", f"log {PARTNERSHIP} school: Nowhere date: 31/2/2026")).reply
    text = reply.plain_text()
    assert "Nowhere" in reply.title
    assert "not a real date" in text and "`focus:`" in text


async def test_only_members_log_walks(db: Database) -> None:
    reply = (await say(db, "walk", LOG, CY)).reply
    assert reply.tone is Tone.ERROR
    assert "Only members of East Barnet Area" in reply.title
    assert "/partnership join East Barnet Area" in reply.plain_text()
    assert await count(db, LearningWalk) == 0


async def test_list_newest_first_with_open_and_overdue_next_steps(db: Database) -> None:
    await ok(db, "walk", LOG + " next steps: a owner: Ben Day due: 10/2/2026")
    await ok(db, "walk", LOG.replace("5/2/2026", "4/3/2026").replace("monkfrith", "Danegrove")
             + " next steps: b due: 1/1/2099", BEN)
    await ok(db, "walk", LOG.replace("5/2/2026", "1/10/2025"))
    reply = (await ok(db, "walk", f"list {PARTNERSHIP}")).reply
    assert reply.title == "3 learning walks in East Barnet Area"
    assert reply.sections[0].facts[0].value == "2 (1 overdue)"
    lines = reply.sections[1].lines
    assert lines[0].startswith("#2 · 4 Mar 2026 · Danegrove")
    assert "next steps open: due 1 Jan 2099" in lines[0]
    assert lines[1].startswith("#1 · 5 Feb 2026 · Monkfrith")
    assert "next steps open: Ben Day, due 10 Feb 2026 (overdue)" in lines[1]
    assert lines[2].startswith("#3 · 1 Oct 2025") and "next steps" not in lines[2]


async def test_list_filters_by_school_and_date(db: Database) -> None:
    await ok(db, "walk", LOG)
    await ok(db, "walk", LOG.replace("monkfrith", "Danegrove"))
    await ok(db, "walk", LOG.replace("5/2/2026", "1/10/2025"))
    by_school = (await ok(db, "walk", "list school: danegrove")).reply
    assert by_school.title == "1 learning walk in East Barnet Area at Danegrove"
    since = (await ok(db, "walk", f"list {PARTNERSHIP} since: 1/1/2026")).reply
    assert since.title == "2 learning walks in East Barnet Area since 1 Jan 2026"
    bad = (await say(db, "walk", f"list {PARTNERSHIP} since: 32/1/2026")).reply
    assert bad.tone is Tone.ERROR and "In `since:`" in bad.title
    unknown = (await say(db, "walk", "list school: Danegrov")).reply
    assert unknown.tone is Tone.ERROR and "Did you mean “Danegrove”" in unknown.plain_text()


async def test_a_long_list_is_cut_with_a_hint(db: Database) -> None:
    for day in range(1, 18):
        await ok(db, "walk", LOG.replace("5/2/2026", f"{day}/1/2026"))
    reply = (await ok(db, "walk", "list")).reply
    assert reply.title == "17 learning walks in East Barnet Area"
    assert len(reply.sections[1].lines) == 16
    assert "Showing the newest 15" in reply.sections[1].lines[-1]


async def test_walks_are_seen_only_by_the_partnerships_members(db: Database) -> None:
    await ok(db, "walk", FULL)
    assert "No learning walks in Hendon Area" in (await ok(db, "walk", "list", CY)).reply.title
    refused = (await say(db, "walk", f"list {PARTNERSHIP}", CY)).reply
    assert refused.tone is Tone.ERROR and "Only members" in refused.title
    shown = (await say(db, "walk", "show 1", CY)).reply
    assert shown.tone is Tone.ERROR and "Clear sequencing" not in shown.plain_text()
    stranger = slack_person("Zed", "U0ZED00001", workspace="T0OTHER")
    elsewhere = (await say(db, "walk", "show 1", stranger)).reply
    assert elsewhere.title == "I can't find learning walk #1."
    nobody = (await say(db, "walk", "list", stranger)).reply
    assert "not in one yet" in nobody.title


async def test_show_gives_the_whole_record_to_a_member(db: Database) -> None:
    await ok(db, "walk", FULL)
    reply = (await ok(db, "walk", "show #1", BEN)).reply
    text = reply.plain_text()
    assert reply.title == "Learning walk #1 at Monkfrith"
    for expected in ("Clear sequencing across classes", "Vocabulary in Y3",
                     "Share the progression map", "Friday 20 March 2026 (overdue)",
                     "(overdue) · open", "Logged by: Ann Smith", "Walkers: Ben Day, Dee Ray"):
        assert expected in text
    [button] = [b for s in reply.sections for b in s.buttons if isinstance(b.data, WalkDone)]
    assert button.data == WalkDone(1)
    # Ben did not log it and does not lead: he may close the steps, not edit or delete.
    assert [b.label for s in reply.sections for b in s.buttons] == ["Mark next steps done"]


async def test_done_closes_the_next_steps_once(db: Database) -> None:
    await ok(db, "walk", FULL)
    done = (await ok(db, "walk", "done 1", BEN)).reply
    assert done.tone is Tone.SUCCESS
    assert done.title == "Marked 1 next step of learning walk #1 at Monkfrith done."
    again = (await ok(db, "walk", "done 1")).reply
    assert again.title == "The next steps of walk #1 were already closed."
    shown = (await ok(db, "walk", "show 1")).reply
    assert "· done " in shown.plain_text() and "by Ben Day" in shown.plain_text()
    assert not [b for s in shown.sections for b in s.buttons if isinstance(b.data, WalkDone)]
    listed = (await ok(db, "walk", "list")).reply
    assert "next steps done" in listed.sections[1].lines[0]


async def test_done_needs_next_steps_and_membership(db: Database) -> None:
    await ok(db, "walk", LOG)
    nothing = (await say(db, "walk", "done 1")).reply
    assert nothing.tone is Tone.ERROR and "no next steps" in nothing.title
    assert (await say(db, "walk", "done 1", CY)).reply.tone is Tone.ERROR
    assert "Give its number" in (await say(db, "walk", "done first")).reply.title


async def test_the_done_button_closes_the_next_steps(db: Database) -> None:
    await ok(db, "walk", FULL)
    outcome = await run_button(db, WalkDone(1), BEN)
    assert outcome.reply.tone is Tone.SUCCESS
    assert [(a.status, a.closed_by_name) for a in await walk_steps(db)] == [("done", "Ben Day")]
    stale = await run_action(db, "walk.done", "not-a-number", BEN)
    assert stale.reply.tone is Tone.ERROR


async def test_walk_with_no_fields_offers_a_form_of_the_callers_partnerships(
    db: Database,
) -> None:
    outcome = await ok(db, "walk", "")
    form = outcome.form
    assert form is not None and form.form_id == "walk.log"
    fields = {f.name: f for f in form.fields}
    assert [c.label for c in fields["partnership"].choices] == ["East Barnet Area"]
    assert fields["partnership"].initial == fields["partnership"].choices[0].value
    assert [c.label for c in fields["school"].choices] == ["Danegrove", "Monkfrith",
                                                          "Queenswell"]
    assert fields["date"].initial == today_in_london().isoformat()
    assert fields["walkers"].kind is FieldKind.USERS and fields["owner"].kind is FieldKind.USER
    assert form.intro is not None and "never named or judged individual teachers" in form.intro
    assert "/walk log East Barnet Area school:" in outcome.reply.plain_text()
    named = await ok(db, "walk", "log east barnet")
    assert named.form is not None
    outsider = await say(db, "walk", "", slack_person("Zed", "U0ZED00001"))
    assert outsider.form is None and "not in one yet" in outsider.reply.title


async def form_values(db: Database, **changes: str | list[str]) -> dict[str, str | list[str]]:
    form = (await ok(db, "walk", "")).form
    assert form is not None
    fields = {f.name: f for f in form.fields}
    school = next(c.value for c in fields["school"].choices if c.label == "Monkfrith")
    values: dict[str, str | list[str]] = {
        "partnership": str(fields["partnership"].initial), "school": school,
        "date": "2026-02-05", "focus": "Reading across KS1",
        "walkers": ["U0BEN00001", "U0OUTSIDE1"], "next steps": "Model fluency",
        "owner": "U0BEN00001", "due": "2026-03-01",
    }
    values.update(changes)
    return values


async def test_a_form_submission_is_read_by_the_same_rules(db: Database) -> None:
    result = await submit_form(db, "walk.log", await form_values(db), "", ANN)
    assert result.errors == {}
    assert result.outcome is not None and "Logged learning walk #1" in result.outcome.reply.title
    assert len(result.outcome.channel_posts) == 1
    [walk] = await walks(db)
    [step] = await walk_steps(db)
    assert (walk.focus, step.owner_user_id, step.owner_name) == (
        "Reading across KS1", "U0BEN00001", "Ben Day")
    async with db.session() as session:
        walkers = (await session.exec(select(WalkWalker).order_by(col(WalkWalker.position)))).all()
    assert [(w.user_id, w.name) for w in walkers] == [("U0BEN00001", "Ben Day"),
                                                      ("U0OUTSIDE1", None)]


async def test_a_quiet_form_submission_posts_nothing(db: Database) -> None:
    result = await submit_form(db, "walk.log", await form_values(db, quiet=["quiet"]), "", ANN)
    assert result.outcome is not None and result.outcome.channel_posts == []


async def test_form_errors_are_returned_per_field_with_nothing_written(db: Database) -> None:
    values = await form_values(db, due="2026-01-01", focus="f" * 201, school="999999")
    result = await submit_form(db, "walk.log", values, "", ANN)
    assert set(result.errors) == {"due", "focus", "school"}
    assert "before the walk" in result.errors["due"]
    assert "`" not in "".join(result.errors.values())
    assert await count(db, LearningWalk) == 0


async def test_a_form_for_a_partnership_the_caller_left_is_refused(db: Database) -> None:
    values = await form_values(db)
    await ok(db, "partnership", f"leave {PARTNERSHIP}", BEN)
    result = await submit_form(db, "walk.log", values, "", BEN)
    assert list(result.errors) == ["partnership"]
    assert await count(db, LearningWalk) == 0


async def test_help_and_unknown_subcommands(db: Database) -> None:
    help_text = (await ok(db, "walk", "help")).reply.plain_text()
    for sub in ("/walk log", "/walk list", "/walk show", "/walk done", "never named"):
        assert sub in help_text
    unknown = (await say(db, "walk", "frobnicate")).reply
    assert unknown.tone is Tone.ERROR and "/walk help" in unknown.plain_text()


async def test_a_future_due_date_without_a_year_is_the_coming_one(db: Database) -> None:
    today = today_in_london()
    soon = today + timedelta(days=10)
    walked = today - timedelta(days=1)
    await ok(db, "walk", LOG.replace("5/2/2026", walked.isoformat())
             + f" next steps: x due: {soon.day}/{soon.month}")
    assert (await walk_steps(db))[0].due_on == soon


async def test_a_log_without_the_word_log(db: Database) -> None:
    reply = (await ok(db, "walk", LOG.removeprefix("log "))).reply
    assert reply.title == "Logged learning walk #1 at Monkfrith"


async def test_database_errors_never_carry_the_values_written(db: Database) -> None:
    """Walk notes are personal data: an error (and so the log of it) names no value."""
    with pytest.raises(StatementError) as caught:
        async with db.session() as session:
            session.add(LearningWalk(
                partnership_id=1, host_school_id=1, walked_on="not a date",  # type: ignore[arg-type]
                focus="f", strengths="SECRET NOTE about a teacher", platform="slack",
                logged_by_user_id="U1", logged_by_name="Ann"))
            await session.flush()
    assert "SECRET NOTE" not in str(caught.value)
    assert await count(db, LearningWalk) == 0


async def test_an_owner_named_by_first_name_is_linked_to_the_member(db: Database) -> None:
    logged = await ok(db, "walk", LOG + " next steps: Share the map owner: ben")
    assert "“ben” is Ben Day, a member of the partnership." in logged.reply.plain_text()
    [step] = await walk_steps(db)
    assert (step.owner_user_id, step.owner_name) == ("U0BEN00001", "Ben Day")


async def test_a_first_name_two_members_share_is_asked_about(db: Database) -> None:
    await ok(db, "partnership", f"join {PARTNERSHIP} school: Queenswell",
             slack_person("Ben Ash", "U0BENASH01"))
    asked = await say(db, "walk", LOG + " next steps: Share the map owner: Ben")
    assert asked.reply.tone is Tone.ERROR
    assert "“Ben” could be Ben Ash or Ben Day." in asked.reply.plain_text()
    assert await walks(db) == []
