"""The small pure parts behind /walk and /cpd: terms, mentions, theme matching, lengths,
year groups and the `quiet` flag."""

from __future__ import annotations

from datetime import date

import pytest

from bot.slack.app import command_text
from handlers.cpd import format_hours, parse_minutes
from handlers.logbook import take_quiet
from handlers.mentions import PersonRef, link_members, parse_people, plain_text
from handlers.parsing import parse_fields
from handlers.schoolyear import school_term, school_year_label, school_year_start, short_date
from handlers.themes import DEFAULT_THEMES, match_theme
from handlers.walk import tidy_year_groups
from storage.models import CpdTheme, Member
from storage.names import name_key

# --- terms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name", "start", "end"),
    [
        (date(2025, 9, 1), "autumn term 2025", date(2025, 9, 1), date(2025, 12, 31)),
        (date(2025, 12, 31), "autumn term 2025", date(2025, 9, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), "spring term 2026", date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 3, 31), "spring term 2026", date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), "summer term 2026", date(2026, 4, 1), date(2026, 8, 31)),
        (date(2026, 8, 31), "summer term 2026", date(2026, 4, 1), date(2026, 8, 31)),
    ],
)
def test_school_terms_by_fixed_boundaries(day: date, name: str, start: date, end: date) -> None:
    term = school_term(day)
    assert (term.name, term.start, term.end) == (name, start, end)


def test_school_year() -> None:
    assert school_year_start(date(2026, 2, 5)) == date(2025, 9, 1)
    assert school_year_start(date(2025, 9, 1)) == date(2025, 9, 1)
    assert school_year_label(date(2026, 8, 31)) == "2025–26"
    assert school_year_label(date(2099, 9, 1)) == "2099–00"
    assert short_date(date(2026, 2, 5)) == "5 Feb 2026"


# --- mentions ---------------------------------------------------------------------------------


def test_slack_markup_becomes_what_was_typed() -> None:
    text = ("Ask <@U0AB12|ann> in <#C0HEADS|heads> <!here> about <https://example.org/a|the "
            "plan> &amp; <mailto:a@example.org|a@example.org> &lt;b&gt;")
    core_text = command_text(text)  # the Slack layer's work; the core keeps mentions
    assert core_text == ("Ask <@U0AB12|ann> in #heads @here about the plan "
                         "(https://example.org/a) & a@example.org <b>")
    assert plain_text(core_text) == ("Ask @ann in #heads @here about the plan "
                                     "(https://example.org/a) & a@example.org <b>")


def test_a_mention_names_whom_a_command_is_about() -> None:
    # Who *asks* comes from the signed request; a mention, even typed by hand, only says whom.
    assert parse_people("<@U0AB12>") == [PersonRef("U0AB12", None)]


def test_people_from_mentions_and_names_in_order_each_once() -> None:
    people = parse_people("<@U0AB12|ann>, Ben Day and <@W0CD34> ; @cy; Ben Day <@U0AB12|ann>")
    assert people == [PersonRef("U0AB12", "ann"), PersonRef(None, "Ben Day"),
                      PersonRef("W0CD34", None), PersonRef(None, "cy")]


def test_mentions_without_commas_between_them() -> None:
    assert parse_people("<@U1AAA|a><@U2BBB|b>") == [PersonRef("U1AAA", "a"),
                                                    PersonRef("U2BBB", "b")]


def test_names_with_and_inside_a_word_are_kept_whole() -> None:
    assert parse_people("Sandra Anderson") == [PersonRef(None, "Sandra Anderson")]


def test_members_give_names_to_ids_and_ids_to_names() -> None:
    members = [Member(partnership_id=1, platform="slack", user_id="U0AB12",
                      display_name="Ann Smith"),
               Member(partnership_id=1, platform="slack", user_id="U0BEN1",
                      display_name="Ben Day")]
    linked = link_members([PersonRef("U0AB12", "ann"), PersonRef(None, "ben day"),
                           PersonRef(None, "Cy")], members)
    assert linked.people == [PersonRef("U0AB12", "Ann Smith"), PersonRef("U0BEN1", "Ben Day"),
                             PersonRef(None, "Cy")]
    assert linked.notes == [] and linked.ambiguous == []


def test_a_first_name_links_to_the_one_member_who_has_it_and_says_so() -> None:
    members = [Member(partnership_id=1, platform="slack", user_id="U0JE1",
                      display_name="Justine Elbourne"),
               Member(partnership_id=1, platform="slack", user_id="U0BEN1",
                      display_name="Ben Day")]
    linked = link_members([PersonRef(None, "justine")], members)
    assert linked.people == [PersonRef("U0JE1", "Justine Elbourne")]
    assert linked.notes == ["“justine” is Justine Elbourne, a member of the partnership."]


def test_two_members_with_one_name_leave_the_name_unlinked_and_ask() -> None:
    members = [Member(partnership_id=1, platform="slack", user_id=uid, display_name=name)
               for uid, name in (("U1", "Sam Lee"), ("U2", "Sam Lee"), ("U3", "Sam Patel"))]
    linked = link_members([PersonRef(None, "Sam Lee")], members)
    assert linked.people == [PersonRef(None, "Sam Lee")]
    assert linked.ambiguous == [("Sam Lee", ["Sam Lee", "Sam Lee"])]
    by_first = link_members([PersonRef(None, "sam")], members)
    assert by_first.ambiguous == [("sam", ["Sam Lee", "Sam Lee", "Sam Patel"])]


# --- themes -----------------------------------------------------------------------------------

THEMES = [CpdTheme(id=n, partnership_id=1, name=name, name_key=name_key(name), position=n)
          for n, name in enumerate(DEFAULT_THEMES)]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("SENCO", "SENCO leadership: impact of interventions"),
        ("senco leadership", "SENCO leadership: impact of interventions"),
        ("SEN", "SENCO leadership: impact of interventions"),
        ("TA training", "Teaching assistant development and training"),
        ("TAs", "Teaching assistant development and training"),
        ("middle leaders", "Middle leadership"),
        ("Middle leadership", "Middle leadership"),
        ("lunchtime play", "Learning and play at lunchtimes"),
        ("learning walks", "Learning walks and monitoring"),
        ("monitoring", "Learning walks and monitoring"),
        ("foundation subjects", "Subject leadership: curriculum and progression in foundation "
                                "subjects"),
        ("subject leadership", "Subject leadership: curriculum and progression in foundation "
                               "subjects"),
    ],
)
def test_loose_theme_names_find_the_closest_theme(typed: str, expected: str) -> None:
    found = match_theme(typed, THEMES).found
    assert found is not None and found.name == expected


@pytest.mark.parametrize("typed", ["leadership", "learning"])
def test_a_theme_that_fits_several_asks_which(typed: str) -> None:
    result = match_theme(typed, THEMES)
    assert result.found is None and len(result.ambiguous) >= 2


@pytest.mark.parametrize("typed", ["maths", "phonics", "governance training"])
def test_an_unrelated_theme_is_not_matched(typed: str) -> None:
    result = match_theme(typed, THEMES)
    assert result.found is None and not result.ambiguous


# --- lengths, year groups, quiet --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("1.5", 90), ("1½", 90), ("½", 30), ("2 hours", 120), ("2h", 120), ("90 minutes", 90),
     ("45 mins", 45), ("1h30", 90), ("1 hour 30 minutes", 90), (".5", 30), ("3", 180)],
)
def test_session_lengths(typed: str, minutes: int) -> None:
    assert parse_minutes(typed) == minutes


@pytest.mark.parametrize("typed", ["long", "1-2 hours", "an hour or so", "1,5"])
def test_unreadable_lengths(typed: str) -> None:
    assert parse_minutes(typed) is None


def test_hours_are_shown_plainly() -> None:
    assert [format_hours(m) for m in (60, 90, 100, 30)] == [
        "1 hour", "1.5 hours", "1.67 hours", "0.5 hours"]


def test_year_groups_get_one_spelling() -> None:
    assert tidy_year_groups("year 1, yr3 and rec; Y4/ks2, nursery, Year 3") == (
        "Y1, Y3, Reception, Y4, KS2, Nursery")
    assert tidy_year_groups("the Oak class") == "the Oak class"


@pytest.mark.parametrize(
    ("text", "quiet", "positional", "last"),
    [
        ("East Barnet quiet school: Monkfrith", True, "East Barnet", "Monkfrith"),
        ("East Barnet school: Monkfrith due: 5/3/2026 quiet", True, "East Barnet",
         "5/3/2026"),
        ("East Barnet school: Monkfrith next steps: keep corridors quiet", False,
         "East Barnet", "keep corridors quiet"),
        ("East Barnet school: quiet", False, "East Barnet", "quiet"),
    ],
)
def test_quiet_is_taken_only_where_it_cannot_be_words(text: str, quiet: bool,
                                                      positional: str, last: str) -> None:
    parsed = parse_fields(text, ["school", "due", "next steps"])
    assert take_quiet(parsed, {"school", "due"}) is quiet
    assert parsed.positional == positional
    assert list(parsed.fields.values())[-1] == last
