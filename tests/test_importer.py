"""`partnership-bot import` over the real partnerships data, twice: the second changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.dispatch import run_command
from storage.db import Database
from storage.importer import ImportError_, import_file, read_file
from tests.support.shell_caller import caller

DATA = Path(__file__).parent / "fixtures" / "data" / "partnerships.yaml"


def test_reading_copes_with_the_letters_odd_spellings() -> None:
    entries = {e.name: e for e in read_file(DATA)}
    assert len(entries) == 23
    mill_hill = entries["Partnership 11 - Mill Hill Area"]
    assert "Courtland" in [s.name for s in mill_hill.schools]  # trailing space dropped
    compton = entries["Compton Teaching School Alliance"]
    assert compton.kind == "alliance"
    haringey = [s for s in compton.schools if s.name == "Northumberland Park"]
    assert haringey and haringey[0].authority == "Haringey"
    assert entries["Consultation on a Multi Academy Trust"].proposed


async def test_import_twice_changes_nothing_the_second_time(db: Database) -> None:
    first = await import_file(db, DATA, "T0001")
    assert first.partnerships.created == 23
    assert first.partnerships.unchanged == 0
    assert first.schools.created > 100
    assert first.memberships.created > first.schools.created  # some schools are in several
    second = await import_file(db, DATA, "T0001")
    assert second.partnerships.created == 0
    assert second.partnerships.unchanged == 23
    assert second.schools.created == 0 and second.schools.updated == 0
    assert second.schools.unchanged == first.schools.created
    assert second.memberships.created == 0
    assert second.memberships.unchanged == first.memberships.created


async def test_imported_schools_are_shared_and_designated(db: Database) -> None:
    await import_file(db, DATA, "T0001")
    ann = caller("Ann", workspace="T0001")
    info = (await run_command(db, "partnership", "info Partnership 8", ann)).reply.plain_text()
    assert "Grasvenor Infant" in info and "St. Catherine's (NLE)" in info
    one = (await run_command(db, "partnership", "info partnership 1", ann)).reply.plain_text()
    assert "Grasvenor Infant" in one and "Moss Hall Infant (NLE)" in one
    # "St Mary's EN4" in one place and "St. Mary's EN4"-style spellings match one school.
    joined = await run_command(db, "partnership", "join Partnership 5 school: st marys en4", ann)
    assert "for St Mary's EN4" in joined.reply.title


async def test_a_broken_file_imports_nothing(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("authorities:\n  - name: X\n    partnerships:\n      - name: Fine\n"
                   "      - name: Odd\n        type: wobbly\n")
    with pytest.raises(ImportError_, match="wobbly"):
        await import_file(db, bad, "T0001")
    listing = await run_command(db, "partnership", "list", caller(workspace="T0001"))
    assert "no partnerships" in listing.reply.title
