"""Schools as real schools, through the commands and the importers, on SQLite and PostgreSQL:
the Barnet and Heath and Hill data, the DfE register (GIAS) extracts, merging and review."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, func, select

from handlers.dispatch import run_command
from handlers.replies import Outcome, Tone
from handlers.schools import look_up_school
from storage.db import Database
from storage.gias import RegisterError, import_register
from storage.importer import ImportError_, import_file, read_file
from storage.models import (
    CpdAttendance,
    CpdSession,
    LearningWalk,
    Member,
    Partnership,
    PartnershipSchool,
    School,
)
from storage.school_admin import (
    SchoolAdminError,
    merge_schools,
    resolve_school,
    review_lines,
)
from tests.support.shell_caller import caller

FIXTURES = Path(__file__).parent / "fixtures"
DATA = FIXTURES / "data" / "partnerships.yaml"
GIAS_UTF8 = FIXTURES / "gias" / "edubasealldata_utf8.csv"
GIAS_1252 = FIXTURES / "gias" / "edubasealldata_windows1252.csv"
GIAS_LATER = FIXTURES / "gias" / "edubasealldata_later.csv"
WS = "T0001"
ANN = caller("Ann", workspace=WS)
BEN = caller("Ben", workspace=WS)
# The distinct schools (and four universities) of the shared data: Barnet's 131 and Heath and
# Hill's 4. "Grasvenor Infant School", "Hollickwood Primary School", "Queen Elizabeth's Boys" and
# the like are schools already named; Claremont in Brent is not Claremont in Barnet.
DISTINCT_SCHOOLS = 135


async def say(text: str, db: Database, who: object = ANN) -> Outcome:
    return await run_command(db, "partnership", text, who)  # type: ignore[arg-type]


async def schools_count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(School))).one())


# --- the shared data ------------------------------------------------------------------------


async def test_the_data_imports_as_its_distinct_schools_every_time(db: Database) -> None:
    first = await import_file(db, DATA, WS)
    assert first.schools.created == DISTINCT_SCHOOLS and first.schools.updated == 0
    second = await import_file(db, DATA, WS)
    assert (second.schools.created, second.schools.updated) == (0, 0)
    assert second.schools.unchanged == DISTINCT_SCHOOLS
    assert second.memberships.unchanged == first.memberships.created
    assert await schools_count(db) == DISTINCT_SCHOOLS
    one = (await say("info Partnership 1", db)).reply.plain_text()
    eight = (await say("info Partnership 8", db)).reply.plain_text()
    alliance = (await say("info Northgate Teaching School Alliance", db)).reply.plain_text()
    # "Grasvenor Infant School" in the alliance is the Grasvenor Infant of partnerships 1 and 8.
    for text in (one, eight, alliance):
        assert "Grasvenor Infant" in text and "Grasvenor Infant School" not in text
    compton = (await say("info Compton Teaching School Alliance", db)).reply.plain_text()
    assert "Claremont (Brent)" in compton


async def test_every_full_name_in_the_data_finds_its_own_school(db: Database) -> None:
    """Each name as the data spells it, asked while joining its partnership, finds the school
    that partnership holds (never a sister, never another spelling's duplicate)."""
    await import_file(db, DATA, WS)
    async with db.session() as session:
        partnerships = {p.name: p for p in (await session.exec(select(Partnership))).all()}
        for entry in read_file(DATA):
            partnership = partnerships[entry.name]
            assert partnership.id is not None
            held = set((await session.exec(select(PartnershipSchool.school_id).where(
                PartnershipSchool.partnership_id == partnership.id))).all())
            for school in entry.schools:
                lookup = await look_up_school(session, ANN, school.name, partnership)
                assert lookup.found is not None, (school.name, lookup.ambiguous)
                assert lookup.found.id in held, (school.name, lookup.found.name)
        # Without a partnership to go by, a name two schools share is a question.
        claremont = await look_up_school(session, ANN, "Claremont")
        assert len(claremont.ambiguous) == 2


SISTER_PAIRS = [("Partnership 1", "Moss Hall Infant", "Partnership 2", "Moss Hall Junior"),
                ("Partnership 1", "Deansbrook Infant", "Partnership 13", "Deansbrook Juniors"),
                ("Heath and Hill", "Cunningham Hill Infant", "Heath and Hill",
                 "Cunningham Hill Junior"),
                ("Heath and Hill", "Bernards Heath Infant and Nursery", "Heath and Hill",
                 "Bernards Heath Junior"),
                ("Partnership 6", "St John's N11", "Partnership 7", "St John's N20")]


async def test_each_sister_joins_for_itself(db: Database) -> None:
    await import_file(db, DATA, WS)
    for n, (p1, a, p2, b) in enumerate(SISTER_PAIRS):
        first, second = caller(f"A{n}", workspace=WS), caller(f"B{n}", workspace=WS)
        joined_a = (await say(f"join {p1} school: {a}", db, first)).reply
        joined_b = (await say(f"join {p2} school: {b}", db, second)).reply
        assert joined_a.tone is Tone.SUCCESS and f"for {a}" in joined_a.title, joined_a.title
        assert joined_b.tone is Tone.SUCCESS and f"for {b}" in joined_b.title, joined_b.title
    assert await schools_count(db) == DISTINCT_SCHOOLS


# --- what heads typed (the phrasings) -----------------------------------------------


async def heath_and_hill_with_one_infant(db: Database) -> None:
    await say("create Heath and Hill Partnership", db)
    await say("join Heath and Hill Partnership school: Cunningham Hill Infant", db)


async def test_a_sister_school_is_a_different_school_never_a_suggestion(db: Database) -> None:
    await heath_and_hill_with_one_infant(db)
    reply = (await say("join heath hill school: Cunningham Hill Junior", db, BEN)).reply
    assert reply.tone is Tone.SUCCESS, reply.plain_text()
    assert "for Cunningham Hill Junior" in reply.title
    assert "Cunningham Hill Infant is a different school" in reply.plain_text()
    assert "Did you mean" not in reply.plain_text()
    # A misspelling near the sister asks first, naming the sister as a different school.
    typo = (await say("join heath hill school: Cuningham Hill Nursery", db,
                      caller("Cy", workspace=WS))).reply
    text = typo.plain_text()
    assert typo.tone is Tone.ERROR
    assert "Did you mean" not in text
    assert "Cunningham Hill Infant and Cunningham Hill Junior are different schools; " \
           "to add Cuningham Hill Nursery as new: `/partnership join Heath and Hill " \
           "Partnership school: Cuningham Hill Nursery new: yes`" in text
    assert await schools_count(db) == 2


async def test_monkfrith_primary_school_finds_monkfrith(db: Database) -> None:
    await import_file(db, DATA, WS)
    for typed in ("Monkfrith Primary School", "monkfrith primary", "MONKFRITH"):
        reply = (await say(f"join Partnership 4 school: {typed}", db)).reply
        assert reply.tone is Tone.SUCCESS and "for Monkfrith" in reply.title, reply.title
    for typed, stored in (("Osidge Primary", "Osidge"), ("Danegrove Primary School", "Danegrove"),
                          ("Hollickwood Primary School", "Hollickwood")):
        reply = (await say(f"join Partnership 5 school: {typed}", db, BEN)).reply
        assert f"for {stored}" in reply.title, reply.title
    assert await schools_count(db) == DISTINCT_SCHOOLS


async def test_st_marys_in_partnership_5_is_partnership_5s(db: Database) -> None:
    await import_file(db, DATA, WS)
    reply = (await say("join Partnership 5 school: st marys", db)).reply
    assert reply.tone is Tone.SUCCESS and "for St Mary's EN4" in reply.title, reply.title
    # Elsewhere it is a question, the partnerships telling the schools apart.
    elsewhere = (await say("join Partnership 4 school: st marys", db, BEN)).reply
    assert elsewhere.tone is Tone.ERROR
    assert "could be" in elsewhere.title and "St Mary's EN4" in elsewhere.title
    assert "Partnership 5" in elsewhere.title


async def test_partnership_names_match_by_their_words(db: Database) -> None:
    await import_file(db, DATA, WS)
    await say("join Heath and Hill Partnership school: Cunningham Hill Infant", db)
    lead = (await say("short Heath and Hill Partnership set: H&H", db)).reply
    assert lead.tone is Tone.ERROR  # Ann is a member, and the partnership has no lead
    async with db.session() as session:
        member = (await session.exec(select(Member))).one()
        member.access_role = "lead"
        session.add(member)
    assert (await say("short Heath and Hill Partnership set: H&H", db)).reply.tone \
        is Tone.SUCCESS
    for typed in ("heath hill", "The Heath Hill Partnership", "H&H", "heath & hill",
                  "Heath and Hill", "hill heath"):
        reply = (await say(f"info {typed}", db)).reply
        assert reply.title == "Heath and Hill Partnership", (typed, reply.plain_text())
        assert "Short name: H&H" in reply.plain_text()


async def test_a_short_name_is_one_partnerships(db: Database) -> None:
    await say("create Heath and Hill Partnership", db)
    await say("create Hill and Heath Federation", db)
    assert (await say("short Heath and Hill Partnership set: H&H", db)).reply.tone \
        is Tone.SUCCESS
    clash = (await say("short Hill and Heath Federation set: h & h", db)).reply
    assert clash.tone is Tone.ERROR and "already names Heath and Hill Partnership" in clash.title
    # "heath hill" is either of these two now: a question, not a guess.
    assert "could be 2 partnerships" in (await say("info heath hill", db)).reply.title
    shown = (await say("short H&H", db, BEN)).reply
    assert "short name is H&H" in shown.title
    assert (await say("short H&H set: none", db)).reply.tone is Tone.SUCCESS
    assert "no short name" in (await say("short Heath and Hill Partnership", db)).reply.title


# --- the register ---------------------------------------------------------------------------


@pytest.mark.parametrize("extract", [GIAS_UTF8, GIAS_1252])
async def test_the_register_loads_in_either_encoding_and_twice_changes_nothing(
        db: Database, extract: Path) -> None:
    first = await import_register(db, extract, WS)
    assert first.encoding == ("utf-8" if extract == GIAS_UTF8 else "windows-1252")
    assert (first.rows, first.created, first.updated, first.unchanged) == (41, 41, 0, 0)
    second = await import_register(db, extract, WS)
    assert (second.created, second.updated, second.unchanged, second.closed) == (0, 0, 41, 0)
    async with db.session() as session:
        theresa = (await session.exec(select(School).where(School.urn == 100131))).one()
        ecole = (await session.exec(select(School).where(School.urn == 102001))).one()
    assert theresa.name == "St Theresa’s Catholic Primary School"
    assert ecole.name == "École Française de Londres Jacques Prévert"
    assert (theresa.phase, theresa.authority, theresa.town, theresa.postcode, theresa.status) \
        == ("Primary", "Barnet", "London", "N3 2TD", "Open")


async def test_register_refresh_renames_and_closes(db: Database) -> None:
    await import_register(db, GIAS_UTF8, WS)
    await say("create Cricklewood Area", db)
    await say("join Cricklewood Area school: Wessex Gardens Primary School", db)
    later = await import_register(db, GIAS_LATER, WS)
    assert (later.created, later.updated, later.unchanged, later.closed) == (0, 1, 39, 1)
    info = (await say("info Cricklewood Area", db)).reply.plain_text()
    assert "Wessex Gardens Primary and Nursery School (primary, URN 100129)" in info
    # The old name still finds it.
    found = (await say("schools Wessex Gardens Primary School", db)).reply.plain_text()
    assert "Wessex Gardens Primary and Nursery School" in found
    closed = (await say("join Cricklewood Area school: Coppetts Wood Primary School", db,
                        BEN)).reply
    assert closed.tone is Tone.SUCCESS
    assert "lists Coppetts Wood Primary School as closed" in closed.plain_text()
    assert (await import_register(db, GIAS_LATER, WS)).unchanged == 41


async def test_the_data_and_the_register_meet_without_duplicates(db: Database) -> None:
    yaml_first = await import_file(db, DATA, WS)
    register = await import_register(db, GIAS_1252, WS)
    # Every register school the data names took its URN; the rest were added.
    assert register.updated == 36 and register.created == 5 and register.to_review == 0
    assert await schools_count(db) == DISTINCT_SCHOOLS + 5
    again = await import_register(db, GIAS_UTF8, WS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 41)
    yaml_again = await import_file(db, DATA, WS)
    assert (yaml_again.schools.created, yaml_again.schools.updated) == (0, 0)
    assert yaml_again.memberships.unchanged == yaml_first.memberships.created
    assert await schools_count(db) == DISTINCT_SCHOOLS + 5
    info = (await say("info Partnership 4", db)).reply.plain_text()
    assert "Monkfrith Primary School (primary, URN 100101)" in info
    assert "East Barnet School (NLE, secondary, URN 100120)" in info
    # Same-named register schools went each to its own place.
    five = (await say("info Partnership 5", db)).reply.plain_text()
    nine = (await say("info Partnership 9", db)).reply.plain_text()
    assert "URN 100111" in five and "URN 100110" in nine
    listing = (await say("schools st marys", db)).reply.plain_text()
    assert "St Mary's CofE Primary School (Barnet, primary, URN 100111): in Compton Teaching " \
           "School Alliance; Partnership 5 - East Barnet/Southgate Area" in listing
    assert "(Welwyn, primary, URN 117005): in no partnership yet" in listing


async def test_an_unsure_match_is_left_for_a_person(db: Database) -> None:
    await say("create Finchley Heads", db)
    await say("join Finchley Heads school: St Mary's Primary", db)
    report = await import_register(db, GIAS_UTF8, WS, authorities=["Barnet"])
    assert report.rows == 33 and report.to_review == 1
    async with db.session() as session:
        lines = "\n".join(await review_lines(session, WS))
    assert "St Mary's Primary (Finchley Heads)" in lines
    assert "100110  St Mary's CofE Primary School (London, N3 1BT, Barnet, Open)" in lines
    assert "100111" in lines and "117005" not in lines  # only Barnet was loaded
    # Nothing was merged: the typed school is still its own record, in its partnership.
    info = (await say("info Finchley Heads", db)).reply.plain_text()
    assert "St Mary's Primary\n" in info + "\n"
    async with db.session() as session:
        source = await resolve_school(session, WS, "St Mary's Primary")
        target = await resolve_school(session, WS, "100110")
        plan = await merge_schools(session, source, target, dry_run=True)
    assert dict(plan.moved) == {"partnership memberships": 1,
                                "members (people joined for it)": 1}
    assert (await say("info Finchley Heads", db)).reply.plain_text().count("URN") == 0
    async with db.session() as session:
        source = await resolve_school(session, WS, "St Mary's Primary")
        target = await resolve_school(session, WS, "100110")
        await merge_schools(session, source, target, dry_run=False)
    info = (await say("info Finchley Heads", db)).reply.plain_text()
    assert "St Mary's CofE Primary School (primary, URN 100110)" in info
    assert "Ann: lead, for St Mary's CofE Primary School" in info
    async with db.session() as session:
        assert "Nothing to review" in (await review_lines(session, WS))[0]
    again = await import_register(db, GIAS_UTF8, WS, authorities=["barnet"])
    assert (again.created, again.updated, again.to_review) == (0, 0, 0)


# --- URNs typed -----------------------------------------------------------------------------


async def test_a_typed_urn_wins(db: Database) -> None:
    await import_register(db, GIAS_UTF8, WS)
    await say("create Heath and Hill Partnership", db)
    reply = (await say("join Heath and Hill Partnership school: 117004", db)).reply
    assert "for Cunningham Hill Junior School (URN 117004)" in reply.title
    # The URN wins over a name that says otherwise.
    other = (await say("join heath hill school: Cunningham Hill Infant (117002)", db,
                       BEN)).reply
    assert "for Bernards Heath Junior School (URN 117002)" in other.title


@pytest.mark.parametrize(("typed", "says"), [
    ("12345", "“12345” is not a URN: a URN (the DfE's Unique Reference Number) has six digits, "
              "and this has 5."),
    ("1234567", "has six digits, and this has 7"),
    ("999999", "I don't know the URN 999999. No school with that URN is in the DfE register"),
])
async def test_a_bad_urn_is_said_with_the_nearest_names(db: Database, typed: str,
                                                        says: str) -> None:
    await import_register(db, GIAS_UTF8, WS)
    await say("create Heath and Hill Partnership", db)
    reply = (await say(f"join Heath and Hill Partnership school: Cunningham Hill {typed}",
                       db)).reply
    assert reply.tone is Tone.ERROR and says in reply.plain_text()
    assert "The nearest: Cunningham Hill Infant School (St Albans, primary, URN 117003)" \
        in reply.plain_text()
    assert await schools_count(db) == 41


async def test_an_unchecked_urn_says_the_register_is_not_loaded(db: Database) -> None:
    await say("create Heath and Hill Partnership", db)
    reply = (await say("join Heath and Hill Partnership school: 117004", db)).reply
    assert reply.tone is Tone.ERROR
    assert "The DfE register has not been loaded here" in reply.plain_text()


# --- bad register files ---------------------------------------------------------------------


def without_column(tmp_path: Path, column: str) -> Path:
    lines = GIAS_UTF8.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    index = header.index(column)
    out = tmp_path / "extract.csv"
    rows = [line.split(",") for line in lines]
    out.write_text("\n".join(",".join(r[:index] + r[index + 1:]) for r in rows if len(r) ==
                             len(header)), encoding="utf-8")
    return out


async def test_bad_register_files_say_why_and_write_nothing(db: Database,
                                                            tmp_path: Path) -> None:
    with pytest.raises(RegisterError, match=r"has no column 'PhaseOfEducation \(name\)'"):
        await import_register(db, without_column(tmp_path, "PhaseOfEducation (name)"), WS)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text(GIAS_UTF8.read_text(encoding="utf-8"), encoding="utf-16")
    with pytest.raises(RegisterError, match="looks like UTF-16 or a spreadsheet"):
        await import_register(db, utf16, WS)
    with pytest.raises(RegisterError, match="'utf-8' does not fit byte"):
        await import_register(db, GIAS_1252, WS, encoding="utf-8")
    broken = tmp_path / "broken.csv"
    text = GIAS_UTF8.read_text(encoding="utf-8").replace("\n117005,", "\n11700X,")
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(RegisterError, match=r"Line 42 .* has the URN '11700X'"):
        await import_register(db, broken, WS)
    with pytest.raises(RegisterError, match="The nearest: Barnet"):
        await import_register(db, GIAS_UTF8, WS, authorities=["Barnett"])
    assert await schools_count(db) == 0


# --- merging --------------------------------------------------------------------------------


async def test_merge_moves_memberships_walks_and_cpd_and_keeps_the_old_name(
        db: Database) -> None:
    await say("create East Barnet Area", db)
    await say("join East Barnet Area school: Monkfrith", db)
    await say("join East Barnet Area school: Danegrove", db, BEN)
    await run_command(db, "walk", "log East Barnet Area school: Monkfrith date: 2/2/2026 "
                                  "focus: Reading", ANN)
    await run_command(db, "cpd", "log East Barnet Area title: Phonics theme: Middle leadership "
                                 "date: 3/2/2026 host: Monkfrith attendees: Monkfrith, Danegrove",
                      ANN)
    async with db.session() as session:
        # A duplicate made before these rules, with a membership of its own.
        copy = School(workspace=WS, name="Monkfrith Primary School", urn=100101)
        session.add(copy)
        await session.flush()
        partnership = (await session.exec(select(Partnership))).one()
        assert copy.id is not None and partnership.id is not None
        session.add(PartnershipSchool(partnership_id=partnership.id, school_id=copy.id))
    async with db.session() as session:
        source = await resolve_school(session, WS, "Monkfrith")
        target = await resolve_school(session, WS, "100101")
        plan = await merge_schools(session, source, target, dry_run=True)
    assert dict(plan.moved) == {"members (people joined for it)": 1,
                                "learning walks it hosted": 1, "CPD sessions it hosted": 1,
                                "CPD sessions it attended": 1}
    assert dict(plan.dropped) == {"partnership memberships": 1}
    async with db.session() as session:
        await merge_schools(session, await resolve_school(session, WS, "Monkfrith"),
                            await resolve_school(session, WS, "100101"), dry_run=False)
    async with db.session() as session:
        schools = (await session.exec(select(School).order_by(col(School.name)))).all()
        assert [s.name for s in schools] == ["Danegrove", "Monkfrith Primary School"]
        kept = schools[1]
        for model, column in ((LearningWalk, LearningWalk.host_school_id),
                              (CpdSession, CpdSession.host_school_id),
                              (CpdAttendance, CpdAttendance.school_id),
                              (Member, Member.school_id),
                              (PartnershipSchool, PartnershipSchool.school_id)):
            count = (await session.exec(select(func.count()).select_from(model).where(
                column == kept.id))).one()
            assert count == 1, model
    walks = (await run_command(db, "walk", "list school: Monkfrith", ANN)).reply.plain_text()
    assert "Monkfrith Primary School" in walks and "Reading" in walks


async def test_two_register_schools_are_not_merged(db: Database) -> None:
    await import_register(db, GIAS_UTF8, WS)
    async with db.session() as session:
        infant = await resolve_school(session, WS, "117003")
        junior = await resolve_school(session, WS, "117004")
        with pytest.raises(SchoolAdminError, match="Both have URNs"):
            await merge_schools(session, infant, junior, dry_run=False)
        with pytest.raises(SchoolAdminError, match="is 3 schools here"):
            await resolve_school(session, WS, "St Mary's CofE Primary School")


async def test_the_yaml_import_takes_urns_and_short_names(db: Database, tmp_path: Path) -> None:
    data = tmp_path / "heath.yaml"
    data.write_text(
        "authorities:\n  - name: Hertfordshire\n    partnerships:\n"
        "      - name: Heath and Hill Partnership\n        short_name: H&H\n"
        "        schools:\n          - {name: Cunningham Hill Infant, urn: 117003}\n"
        "          - {name: Cunningham Hill Junior School, urn: '117004'}\n",
        encoding="utf-8")
    await import_register(db, GIAS_UTF8, WS, authorities=["Hertfordshire"])
    first = await import_file(db, data, WS)
    # Both are the register's schools, found by URN: nothing new.
    assert (first.schools.created, first.schools.unchanged) == (0, 2)
    assert (await import_file(db, data, WS)).schools.unchanged == 2
    info = (await say("info H&H", db)).reply.plain_text()
    assert "Cunningham Hill Infant School (primary, URN 117003)" in info
    bad = tmp_path / "bad.yaml"
    bad.write_text(data.read_text(encoding="utf-8").replace("117003", "11703"),
                   encoding="utf-8")
    with pytest.raises(ImportError_, match="has urn 11703; a URN has six digits"):
        await import_file(db, bad, WS)
