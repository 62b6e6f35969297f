"""`/partnership` through the core, on SQLite and PostgreSQL: replies, and nothing half written."""

from __future__ import annotations

import pytest
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.dispatch import COMMANDS, run_command
from handlers.replies import Outcome, Tone
from storage.db import Database
from storage.models import Member, Partnership, PartnershipSchool, School
from tests.support.shell_caller import caller

ANN = caller("Ann")
BEN = caller("Ben")


async def say(db: Database, text: str, who: object = ANN) -> Outcome:
    return await run_command(db, "partnership", text, who)  # type: ignore[arg-type]


async def count(db: Database, table: type) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def test_help_lists_every_subcommand_with_an_example(db: Database) -> None:
    for text in ("", "help"):
        reply = (await say(db, text)).reply
        body = reply.plain_text()
        for sub in ("create", "join", "leave", "list", "info", "channel", "role"):
            assert f"/partnership {sub}" in body


async def test_create_defaults_to_loose_and_makes_the_creator_lead(db: Database) -> None:
    reply = (await say(db, "create East Barnet Area")).reply
    assert reply.tone is Tone.SUCCESS
    assert "East Barnet Area" in reply.title and "loose" in reply.title
    info = (await say(db, "info east barnet area")).reply.plain_text()
    assert "Ann: lead" in info


async def test_create_with_each_type(db: Database) -> None:
    for n, kind in enumerate(["loose", "structured", "hard", "alliance"]):
        reply = (await say(db, f"create Group {n} type: {kind}")).reply
        assert reply.tone is Tone.SUCCESS, reply.title
        assert kind in reply.title or "teaching school alliance" in reply.title


async def test_unknown_type_is_refused_with_the_choices(db: Database) -> None:
    reply = (await say(db, "create East Barnet Area type: wobbly")).reply
    assert reply.tone is Tone.ERROR
    assert "`loose`, `structured`, `hard` or `alliance`" in reply.plain_text()
    assert await count(db, Partnership) == 0


async def test_duplicate_create_is_refused_even_with_other_punctuation(db: Database) -> None:
    await say(db, "create St Mary's Group")
    reply = (await say(db, "create st. marys  group", BEN)).reply
    assert reply.tone is Tone.ERROR
    assert "already a partnership called St Mary's Group" in reply.title
    assert await count(db, Partnership) == 1


async def test_join_creates_the_school_on_first_mention_and_says_so(db: Database) -> None:
    await say(db, "create East Barnet Area")
    reply = (await say(db, "join East Barnet Area school: Monkfrith role: headteacher", BEN)).reply
    assert reply.tone is Tone.SUCCESS
    assert reply.title == "You joined East Barnet Area for Monkfrith."
    assert "Added the new school Monkfrith." in reply.plain_text()
    assert "Your role: Headteacher." in reply.plain_text()  # stored as the known role
    info = (await say(db, "info East Barnet Area")).reply.plain_text()
    assert "Ben: member, Headteacher, for Monkfrith" in info


async def test_a_school_may_be_in_many_partnerships(db: Database) -> None:
    await say(db, "create Partnership 1 - Infant Schools")
    await say(db, "create Partnership 8 - High Barnet/Finchley Area")
    await say(db, "join Partnership 1 school: Grasvenor Infant")
    reply = (await say(db, "join Partnership 8 school: grasvenor infant", BEN)).reply
    assert "Added the new school" not in reply.plain_text()
    assert await count(db, School) == 1
    assert await count(db, PartnershipSchool) == 2


async def test_school_names_match_despite_punctuation(db: Database) -> None:
    await say(db, "create East Barnet/Southgate Area")
    await say(db, "join East Barnet/Southgate Area school: St Mary's EN4")
    reply = (await say(db, "join East Barnet/Southgate Area school: St. Mary's EN4", BEN)).reply
    assert "for St Mary's EN4" in reply.title
    assert await count(db, School) == 1


async def test_a_typo_in_a_school_name_asks_instead_of_creating(db: Database) -> None:
    await say(db, "create East Barnet Area")
    await say(db, "join East Barnet Area school: Monkfrith")
    reply = (await say(db, "join East Barnet Area school: Monkfirth", BEN)).reply
    assert reply.tone is Tone.ERROR
    assert "Did you mean “Monkfrith”" in reply.title
    assert "new: yes" in reply.plain_text()
    assert await count(db, School) == 1
    assert await count(db, Member) == 1
    forced = (await say(db, "join East Barnet Area school: Monkfirth new: yes", BEN)).reply
    assert "Added the new school Monkfirth." in forced.plain_text()


async def test_join_without_school_says_how(db: Database) -> None:
    await say(db, "create East Barnet Area")
    reply = (await say(db, "join East Barnet Area", BEN)).reply
    assert reply.tone is Tone.ERROR
    assert "`school:`" in reply.title
    assert "/partnership join East Barnet Area school: Monkfrith" in reply.plain_text()


async def test_misspelt_field_name_is_reported(db: Database) -> None:
    await say(db, "create East Barnet Area")
    reply = (await say(db, "join East Barnet Area scool: Monkfrith", BEN)).reply
    assert "`scool:`" in reply.title
    assert "`school:`" in reply.plain_text()


async def test_unknown_partnership_gets_did_you_mean(db: Database) -> None:
    await say(db, "create East Barnet Area")
    reply = (await say(db, "join Eats Barnet Area school: Monkfrith", BEN)).reply
    assert reply.tone is Tone.ERROR
    assert "Did you mean “East Barnet Area”" in reply.title
    assert "/partnership join East Barnet Area school: Monkfrith" in reply.plain_text()
    assert await count(db, School) == 0


async def test_ambiguous_partnership_lists_the_candidates(db: Database) -> None:
    await say(db, "create Partnership 4 - East Barnet Area")
    await say(db, "create Partnership 5 - East Barnet/Southgate Area")
    reply = (await say(db, "info East Barnet")).reply
    assert "could be 2 partnerships" in reply.title
    assert "Partnership 4 - East Barnet Area" in reply.title
    assert "Partnership 5 - East Barnet/Southgate Area" in reply.title


async def test_prefix_picks_the_one_partnership(db: Database) -> None:
    await say(db, "create Partnership 1 - Infant Schools")
    await say(db, "create Partnership 10 - Hendon Area")
    reply = (await say(db, "info partnership 1")).reply
    assert reply.title == "Partnership 1 - Infant Schools"


async def test_list_shows_type_school_count_and_membership(db: Database) -> None:
    await say(db, "create East Barnet Area")
    await say(db, "create Hendon Area type: structured", BEN)
    await say(db, "join Hendon Area school: Sunnyfields", BEN)
    await say(db, "join Hendon Area school: Chalgrove", BEN)
    reply = (await say(db, "list")).reply
    assert reply.sections[0].heading == "Yours"
    assert reply.sections[0].lines == ["East Barnet Area: loose, 0 schools"]
    assert reply.sections[1].heading == "Others"
    assert reply.sections[1].lines == ["Hendon Area: structured, 2 schools"]
    assert reply.title == "2 partnerships (1 with you in)"


async def test_a_long_list_is_cut_and_can_be_narrowed(db: Database) -> None:
    for n in range(35):
        await say(db, f"create Area {n:02d} Partnership", BEN)
    await say(db, "create Hendon Area", BEN)
    reply = (await say(db, "list")).reply
    assert reply.title == "36 partnerships (0 with you in)"
    lines = reply.sections[0].lines
    assert len(lines) == 31 and lines[0] == "Area 00 Partnership: loose, 0 schools"
    assert "…and 6 more" in lines[-1] and "/partnership list <words" in lines[-1]
    narrowed = (await say(db, "list hendon")).reply
    assert narrowed.title == "1 partnership matching “hendon” (0 with you in)"
    none = (await say(db, "list nowhere%")).reply
    assert none.title == "No partnerships matching “nowhere%”."


async def test_list_when_there_are_none_says_how_to_start(db: Database) -> None:
    reply = (await say(db, "list")).reply
    assert "no partnerships" in reply.title
    assert "/partnership create" in reply.plain_text()


async def test_leave_and_leave_again(db: Database) -> None:
    await say(db, "create East Barnet Area")
    await say(db, "join East Barnet Area school: Monkfrith", BEN)
    assert (await say(db, "leave East Barnet Area", BEN)).reply.tone is Tone.SUCCESS
    again = (await say(db, "leave East Barnet Area", BEN)).reply
    assert again.tone is Tone.ERROR and "not in East Barnet Area" in again.title
    # The school stays: schools belong to the partnership, people come and go.
    assert await count(db, PartnershipSchool) == 1


async def test_the_only_lead_cannot_leave_others_behind(db: Database) -> None:
    await say(db, "create East Barnet Area")
    await say(db, "join East Barnet Area school: Monkfrith", BEN)
    reply = (await say(db, "leave East Barnet Area")).reply
    assert reply.tone is Tone.ERROR and "only lead" in reply.title
    assert await count(db, Member) == 2


async def test_channel_links_the_current_channel_for_leads_only(db: Database) -> None:
    await say(db, "create East Barnet Area")
    outsider = (await say(db, "channel East Barnet Area", BEN)).reply
    assert outsider.tone is Tone.ERROR and "Only members" in outsider.title
    await say(db, "join East Barnet Area school: Monkfrith", BEN)
    member = (await say(db, "channel East Barnet Area", BEN)).reply
    assert member.tone is Tone.ERROR
    assert member.title == "Only a lead of East Barnet Area can choose its channel."
    assert "Ask Ann." in member.plain_text()
    outcome = await say(db, "channel East Barnet Area")
    assert outcome.reply.tone is Tone.SUCCESS
    assert len(outcome.channel_posts) == 1
    again = await say(db, "channel East Barnet Area")
    assert "already linked" in again.reply.title and again.channel_posts == []


async def test_leads_promote_and_demote_by_mention_or_name(db: Database) -> None:
    await say(db, "create East Barnet Area")
    await say(db, "join East Barnet Area school: Monkfrith", BEN)
    refused = (await say(db, "role East Barnet Area <@U-Ann|Ann> member", BEN)).reply
    assert refused.title == "Only a lead of East Barnet Area can change roles."
    promoted = (await say(db, "role East Barnet Area <@U-Ben|ben> lead")).reply
    assert promoted.title == "Ben is now a lead of East Barnet Area."
    demoted = (await say(db, "role east barnet area @Ann member", BEN)).reply
    assert demoted.title == "Ann is now a member of East Barnet Area."
    last = (await say(db, "role East Barnet Area @Ben member", BEN)).reply
    assert last.tone is Tone.ERROR and "only lead" in last.title
    stranger = (await say(db, "role East Barnet Area <@U-Zed|Zed> lead", BEN)).reply
    assert stranger.title == "Zed is not a member of East Barnet Area."


async def test_role_without_a_role_word_or_person_says_how(db: Database) -> None:
    no_role = (await say(db, "role East Barnet Area @Ben")).reply
    assert "`lead` or `member`" in no_role.title
    no_person = (await say(db, "role East Barnet Area lead")).reply
    assert "@mention" in no_person.title
    assert "/partnership role East Barnet Area @Ben lead" in no_person.plain_text()


async def test_unknown_subcommand_names_the_ones_that_exist(db: Database) -> None:
    reply = (await say(db, "frobnicate East Barnet")).reply
    assert reply.tone is Tone.ERROR
    assert "`create`" in reply.plain_text() and "/partnership help" in reply.plain_text()


async def test_unknown_command_is_answered_politely(db: Database) -> None:
    outcome = await run_command(db, "/frob", "x", ANN)
    assert outcome.reply.tone is Tone.ERROR
    assert "/partnership" in outcome.reply.plain_text()


async def test_workspaces_never_see_each_other(db: Database) -> None:
    other = caller("Cat", workspace="T0OTHER")
    await say(db, "create East Barnet Area")
    assert "no partnerships" in (await say(db, "list", other)).reply.title
    # The same name is free in another workspace.
    assert (await say(db, "create East Barnet Area", other)).reply.tone is Tone.SUCCESS


async def test_over_long_names_are_refused_before_anything_is_written(db: Database) -> None:
    reply = (await say(db, "create " + "x" * 250)).reply
    assert reply.tone is Tone.ERROR and "most is 200" in reply.title
    assert await count(db, Partnership) == 0


async def test_an_over_long_role_is_refused_before_anything_is_written(db: Database) -> None:
    await say(db, "create East Barnet Area")
    reply = (await say(db, "join East Barnet Area school: Monkfrith role: " + "h" * 81, BEN)).reply
    assert reply.tone is Tone.ERROR and "most is 80" in reply.title
    assert await count(db, School) == 0
    assert await count(db, Member) == 1


async def test_a_crash_mid_command_rolls_everything_back(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that writes and then fails leaves nothing behind and shows no stack trace."""

    async def writes_then_fails(text: str, who: Caller, session: AsyncSession) -> Outcome:
        session.add(School(workspace=who.workspace, name="Half", name_key="half"))
        await session.flush()
        raise RuntimeError("boom: secret detail")

    monkeypatch.setitem(COMMANDS, "halfway", writes_then_fails)
    reply = (await run_command(db, "halfway", "", ANN)).reply
    assert reply.tone is Tone.ERROR
    assert "nothing was saved" in reply.title
    assert "boom" not in reply.plain_text() and "Traceback" not in reply.plain_text()
    assert await count(db, School) == 0
    assert "unexpected error in /halfway" in caplog.text
