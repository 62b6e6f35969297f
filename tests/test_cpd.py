"""`/cpd` and `/partnership themes` through the core, on SQLite and PostgreSQL: logging with loose
themes, bad input answered with nothing written, listing, the summary and its term gaps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from handlers.dispatch import submit_form
from handlers.replies import Section, Tone, Visibility
from handlers.schoolyear import school_term, school_year_start, today_in_london
from handlers.themes import DEFAULT_THEMES
from storage.db import Database
from storage.models import CpdAttendance, CpdSession, CpdTheme
from tests.support.learning import (
    ANN,
    BEN,
    CY,
    PARTNERSHIP,
    count,
    ok,
    say,
    set_up_partnerships,
)

LOG = f"log {PARTNERSHIP} title: Phonics refresher theme: TA training date: 5/2/2026"


@pytest.fixture(autouse=True)
async def partnerships(db: Database) -> None:
    await set_up_partnerships(db)


async def sessions(db: Database) -> list[CpdSession]:
    async with db.session() as session:
        return list((await session.exec(select(CpdSession).order_by(col(CpdSession.id)))).all())


def section(reply_sections: list[Section], heading_start: str) -> list[str]:
    return next(s.lines for s in reply_sections if (s.heading or "").startswith(heading_start))


async def test_a_typed_session_is_saved_with_the_closest_theme(db: Database) -> None:
    outcome = await ok(db, "cpd", LOG + " hours: 1½ host: Danegrove facilitator: Dr Eve Hart "
                       "attendees: Monkfrith, danegrove and Queenswell impact: TAs model "
                       "blending in every Y1 class")
    reply = outcome.reply
    assert reply.title == "Logged CPD session #1: Phonics refresher"
    facts = {f.label: f.value for f in reply.sections[0].facts}
    assert facts == {"Theme": "Teaching assistant development and training",
                     "Date": "Thursday 5 February 2026", "Length": "1.5 hours",
                     "Host": "Danegrove", "Facilitator": "Dr Eve Hart",
                     "Schools attending": "Danegrove, Monkfrith, Queenswell"}
    [cpd] = await sessions(db)
    assert (cpd.minutes, cpd.attendee_count, cpd.impact) == (
        90, None, "TAs model blending in every Y1 class")
    assert await count(db, CpdAttendance) == 3
    [post] = outcome.channel_posts
    assert post.reply.visibility is Visibility.PUBLIC
    assert "Ann Smith logged a CPD session: Phonics refresher" in post.reply.plain_text()


async def test_a_head_count_or_all_schools(db: Database) -> None:
    await ok(db, "cpd", LOG + " attendees: 24 staff")
    await ok(db, "cpd", LOG + " attendees: all quiet")
    first, second = await sessions(db)
    assert (first.attendee_count, second.attendee_count) == (24, None)
    assert await count(db, CpdAttendance) == 3


@pytest.mark.parametrize(
    ("text", "problem", "hint"),
    [
        (LOG.replace("TA training", "maths"), "“maths” is not one of East Barnet Area's CPD "
         "themes", "Middle leadership"),
        (LOG.replace("TA training", "leadership"), "could be more than one theme",
         "Write more of the one you mean"),
        (LOG.replace("TA training", "Midle leadership"), "Did you mean “Middle leadership”",
         "Its themes are"),
        (LOG.replace("title: Phonics refresher ", ""), "`title:`", "/cpd log East Barnet Area"),
        (LOG.replace("theme: TA training ", ""), "`theme:`", ""),
        (LOG.replace(" date: 5/2/2026", ""), "`date:`", ""),
        (LOG.replace("5/2/2026", "29/2/2026"), "not a real date", "day first"),
        (LOG.replace("5/2/2026", "5/2/2099"), "still to come", ""),
        (LOG + " hours: lots", "couldn't read “lots” as a length", "`90 minutes`"),
        (LOG + " hours: 30", "longer than one day", "one session per day"),
        (LOG + " hours: 0", "needs some length", ""),
        (LOG + " attendees: 0", "not a head count", ""),
        (LOG + " attendees: Monkfrith, Sunnyfields", "“Sunnyfields” is not one of", ""),
        (LOG + " host: Nowhere Primary", "“Nowhere Primary” is not one of", ""),
        (LOG.replace("Phonics refresher", "t" * 201), "The session's title is 201 characters",
         "shorten"),
        (LOG + " impact: " + "i" * 1501, "The impact is 1,501 characters long", ""),
        (LOG + " facilitator: " + "f" * 101, "facilitator's name is 101", ""),
        (LOG + " length: 1 hours: 2", "`hours:` is given twice", ""),
    ],
)
async def test_bad_input_names_the_problem_and_writes_nothing(
    db: Database, text: str, problem: str, hint: str
) -> None:
    reply = (await say(db, "cpd", text)).reply
    assert reply.tone is Tone.ERROR
    assert problem in reply.plain_text()
    assert hint in reply.plain_text()
    assert await count(db, CpdSession) == 0
    assert await count(db, CpdAttendance) == 0


async def test_only_members_log_or_see_cpd(db: Database) -> None:
    await ok(db, "cpd", LOG)
    for text in (LOG, f"list {PARTNERSHIP}", f"summary {PARTNERSHIP}", "show 1"):
        reply = (await say(db, "cpd", text, CY)).reply
        assert reply.tone is Tone.ERROR, text
        assert "Only members of East Barnet Area" in reply.title
    assert await count(db, CpdSession) == 1
    assert "No CPD sessions in Hendon Area" in (await ok(db, "cpd", "list", CY)).reply.title


async def test_list_and_filter_by_a_loose_theme(db: Database) -> None:
    await ok(db, "cpd", LOG)
    await ok(db, "cpd", LOG.replace("TA training", "SENCO").replace("5/2", "6/2")
             .replace("Phonics refresher", "Interventions review"))
    await ok(db, "partnership", "join Hendon Area school: Monkfrith", ANN)
    await ok(db, "cpd", "log Hendon Area title: Lunchtime games theme: lunchtime play "
             "date: 7/2/2026", CY)
    everything = (await ok(db, "cpd", "list")).reply
    assert everything.title == "3 CPD sessions in your partnerships"
    assert everything.sections[0].lines[0].startswith("#3 · 7 Feb 2026 · Lunchtime games")
    assert everything.sections[0].lines[0].endswith("Hendon Area")
    senco = (await ok(db, "cpd", f"list {PARTNERSHIP} theme: senco")).reply
    assert senco.title == ("1 CPD session in East Barnet Area on “SENCO leadership: impact of "
                           "interventions”")
    unknown = (await say(db, "cpd", "list theme: astrology")).reply
    assert unknown.tone is Tone.ERROR and "not one of" in unknown.title


async def test_show_gives_the_whole_record(db: Database) -> None:
    await ok(db, "cpd", LOG + " attendees: 30 impact: Blending modelled")
    reply = (await ok(db, "cpd", "show 1", BEN)).reply
    text = reply.plain_text()
    for expected in ("CPD session #1: Phonics refresher", "Attendees: 30", "Impact",
                     "Blending modelled", "Logged by: Ann Smith"):
        assert expected in text
    assert "I can't find CPD session #9" in (await say(db, "cpd", "show 9")).reply.title


async def test_summary_counts_by_theme_and_school_and_finds_this_terms_gaps(
    db: Database,
) -> None:
    today = today_in_london()
    term = school_term(today)
    this_term = term.start.isoformat()
    last_year = (school_year_start(today) - timedelta(days=1)).isoformat()
    await ok(db, "cpd", f"log {PARTNERSHIP} title: A theme: TA training date: {this_term} "
             "hours: 1.5 host: Monkfrith attendees: Monkfrith, Danegrove")
    await ok(db, "cpd", f"log {PARTNERSHIP} title: B theme: TA training date: {this_term} "
             "hours: 2 host: Monkfrith attendees: 12")
    await ok(db, "cpd", f"log {PARTNERSHIP} title: C theme: middle leaders date: {this_term} "
             "attendees: Danegrove")
    await ok(db, "cpd", f"log {PARTNERSHIP} title: Old theme: SENCO date: {last_year} "
             "hours: 3 host: Danegrove attendees: all")
    reply = (await ok(db, "cpd", f"summary {PARTNERSHIP}", BEN)).reply
    assert reply.title.startswith("CPD in East Barnet Area, the ")
    assert f"since {school_year_start(today).day} Sep" in reply.title
    facts = {f.label: f.value for f in reply.sections[0].facts}
    assert facts == {"Sessions": "3", "Hours": "3.5 hours (+1 session with no length given)",
                     "Attendance": "schools recorded at 2 sessions; 12 attendees at 1 session "
                                   "(schools not recorded)"}
    by_theme = section(reply.sections, "By theme")
    assert "Teaching assistant development and training: 2 sessions, 3.5 hours" in by_theme
    assert "Middle leadership: 1 session, 0 hours (+1 session with no length given)" in by_theme
    assert "SENCO leadership: impact of interventions: none" in by_theme
    by_school = section(reply.sections, "By school")
    assert by_school == [
        "Danegrove: hosted none; attended 2 sessions, 1.5 hours (+1 session with no length "
        "given)",
        "Monkfrith: hosted 2; attended 1 session, 1.5 hours",
        "Queenswell: hosted none; attended none recorded",
    ]
    gaps = section(reply.sections, "No session yet this")
    assert gaps == [DEFAULT_THEMES[0], DEFAULT_THEMES[1], DEFAULT_THEMES[4], DEFAULT_THEMES[5]]
    since = (await ok(db, "cpd", f"summary {PARTNERSHIP} since: {last_year}")).reply
    assert {f.label: f.value for f in since.sections[0].facts}["Sessions"] == "4"
    assert ("Queenswell: hosted none; attended 1 session, 3 hours"
            in section(since.sections, "By school"))


async def test_summary_when_nothing_is_logged_yet(db: Database) -> None:
    reply = (await ok(db, "cpd", "summary east barnet")).reply
    assert "No sessions logged" in reply.plain_text()
    assert section(reply.sections, "No session yet this") == list(DEFAULT_THEMES)
    assert (await say(db, "cpd", "summary")).reply.tone is Tone.ERROR


async def test_summary_says_when_every_theme_has_had_a_session(db: Database) -> None:
    await ok(db, "partnership", f"themes {PARTNERSHIP} set: Early reading; Maths mastery")
    day = school_term(today_in_london()).start.isoformat()
    for theme in ("early reading", "maths"):
        await ok(db, "cpd", f"log {PARTNERSHIP} title: T theme: {theme} date: {day}")
    reply = (await ok(db, "cpd", f"summary {PARTNERSHIP}")).reply
    assert section(reply.sections, "This ") == ["Every theme has had at least one session."]


async def test_themes_are_listed_for_members_and_changed_by_leads(db: Database) -> None:
    listed = (await ok(db, "partnership", f"themes {PARTNERSHIP}", BEN)).reply
    assert listed.sections[0].lines == [f"{n}. {t}" for n, t in enumerate(DEFAULT_THEMES, 1)]
    assert (await say(db, "partnership", f"themes {PARTNERSHIP}", CY)).reply.tone is Tone.ERROR
    refused = (await say(db, "partnership", f"themes {PARTNERSHIP} set: A; B", BEN)).reply
    assert refused.tone is Tone.ERROR and "Only a lead" in refused.title
    assert "Ann Smith" in refused.plain_text()


async def test_changing_themes_retires_old_ones_and_keeps_their_sessions(db: Database) -> None:
    await ok(db, "cpd", LOG)
    changed = (await ok(db, "partnership",
                        f"themes {PARTNERSHIP} set: Early reading; middle leadership")).reply
    assert changed.title == "East Barnet Area now has 2 CPD themes."
    text = changed.plain_text()
    assert "New: Early reading." in text and "keep them" in text
    async with db.session() as session:
        themes = (await session.exec(select(CpdTheme).order_by(col(CpdTheme.id)))).all()
    assert [t.name for t in themes if not t.retired] == ["middle leadership", "Early reading"]
    refused = (await say(db, "cpd", LOG)).reply
    assert refused.tone is Tone.ERROR and "Early reading" in refused.plain_text()
    summary = (await ok(db, "cpd", f"summary {PARTNERSHIP} since: 1/1/2026")).reply
    assert ("Teaching assistant development and training (no longer a theme): 1 session, "
            "0 hours (+1 session with no length given)" in section(summary.sections, "By theme"))
    # Bringing a retired theme back revives it rather than making a second one.
    await ok(db, "partnership", f"themes {PARTNERSHIP} set: Teaching assistant development "
             "and training")
    assert await count(db, CpdTheme) == 7
    assert "1 CPD session" in (await ok(db, "cpd", "list theme: TA training")).reply.title


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"themes {PARTNERSHIP} set:", "Please list the themes"),
        (f"themes {PARTNERSHIP} set: A; B; a", "in the list twice"),
        (f"themes {PARTNERSHIP} set: " + "; ".join(f"T{n}" for n in range(21)), "up to 20"),
        (f"themes {PARTNERSHIP} set: " + "x" * 151, "the most is 150"),
        (f"themes {PARTNERSHIP} set: A; ---", "needs some letters"),
        ("themes", "Please give the partnership's name."),
    ],
)
async def test_bad_theme_lists_change_nothing(db: Database, text: str, problem: str) -> None:
    before = (await ok(db, "partnership", f"themes {PARTNERSHIP}")).reply.sections[0].lines
    reply = (await say(db, "partnership", text)).reply
    assert reply.tone is Tone.ERROR and problem in reply.plain_text()
    after = (await ok(db, "partnership", f"themes {PARTNERSHIP}")).reply.sections[0].lines
    assert before == after


async def test_cpd_with_no_fields_offers_a_form_with_the_partnerships_themes(
    db: Database,
) -> None:
    await ok(db, "partnership", "create Mill Hill Group", CY)
    await ok(db, "partnership", "themes Mill Hill Group set: Early reading; Oracy", CY)
    await ok(db, "partnership", "join Mill Hill Group school: Monkfrith")
    form = (await ok(db, "cpd", "")).form
    assert form is not None and form.form_id == "cpd.log"
    fields = {f.name: f for f in form.fields}
    assert [c.label for c in fields["partnership"].choices] == ["East Barnet Area",
                                                               "Mill Hill Group"]
    assert fields["partnership"].initial is None
    assert [c.label for c in fields["theme"].choices] == [*DEFAULT_THEMES, "Early reading",
                                                         "Oracy"]
    only = (await ok(db, "cpd", "log mill hill")).form
    assert only is not None
    assert [c.label for c in {f.name: f for f in only.fields}["theme"].choices] == [
        "Early reading", "Oracy"]


async def test_a_form_submission_checks_the_theme_against_the_chosen_partnership(
    db: Database,
) -> None:
    await ok(db, "partnership", "create Mill Hill Group", CY)
    await ok(db, "partnership", "themes Mill Hill Group set: Oracy", CY)
    await ok(db, "partnership", "join Mill Hill Group school: Monkfrith")
    form = (await ok(db, "cpd", "")).form
    assert form is not None
    fields = {f.name: f for f in form.fields}
    east = next(c.value for c in fields["partnership"].choices if c.label == PARTNERSHIP)
    values: dict[str, str | list[str]] = {
        "partnership": east, "title": "Talk for writing", "theme": "Oracy",
        "date": date(2026, 2, 5).isoformat(), "hours": "1.25", "attendees": "Monkfrith",
    }
    wrong = await submit_form(db, "cpd.log", values, "", ANN)
    assert list(wrong.errors) == ["theme"]
    assert "not one of East Barnet Area's CPD themes" in wrong.errors["theme"]
    values["theme"] = "Middle leadership"
    right = await submit_form(db, "cpd.log", values, "", ANN)
    assert right.outcome is not None and right.outcome.reply.tone is Tone.SUCCESS
    [cpd] = await sessions(db)
    assert (cpd.title, cpd.minutes) == ("Talk for writing", 75)


async def test_help(db: Database) -> None:
    text = (await ok(db, "cpd", "help")).reply.plain_text()
    for sub in ("/cpd log", "/cpd list", "/cpd show", "/cpd summary", "/partnership themes"):
        assert sub in text
    assert "/walk help" in (await ok(db, "partnership", "help")).reply.plain_text()


async def test_a_form_for_a_partnership_without_schools_has_no_host_to_choose(
    db: Database,
) -> None:
    await ok(db, "partnership", "create Mill Hill Group")
    form = (await ok(db, "cpd", "log mill hill group")).form
    assert form is not None
    assert "host" not in {f.name for f in form.fields}
    assert "attendees" in {f.name for f in form.fields}


async def test_a_log_without_the_word_log(db: Database) -> None:
    reply = (await ok(db, "cpd", LOG.removeprefix("log "))).reply
    assert reply.title == "Logged CPD session #1: Phonics refresher"
